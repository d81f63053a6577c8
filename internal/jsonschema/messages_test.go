package jsonschema

import "testing"

// The expected texts below were produced by python3-jsonschema 4.10.3
// (Debian bookworm) with Placement's uuid checker, running
// jsonschema.validate(instance, schema, format_checker=FormatChecker()) on the
// same schema written as a Python dict, and pasted here.
var messageTests = []struct {
	name     string
	schema   *Schema
	instance string // JSON
	want     string // str(ValidationError); "" when valid
}{
	{
		name:     "type",
		schema:   &Schema{Type: "string"},
		instance: `5`,
		want: "5 is not of type 'string'\n" +
			"\n" +
			"Failed validating 'type' in schema:\n" +
			"    {'type': 'string'}\n" +
			"\n" +
			"On instance:\n" +
			"    5",
	},
	{
		name:     "type list",
		schema:   &Schema{Types: []string{"integer", "null"}},
		instance: `"x"`,
		want: "'x' is not of type 'integer', 'null'\n" +
			"\n" +
			"Failed validating 'type' in schema:\n" +
			"    {'type': ['integer', 'null']}\n" +
			"\n" +
			"On instance:\n" +
			"    'x'",
	},
	{
		name:     "type integer float",
		schema:   &Schema{Type: "integer"},
		instance: `1.5`,
		want: "1.5 is not of type 'integer'\n" +
			"\n" +
			"Failed validating 'type' in schema:\n" +
			"    {'type': 'integer'}\n" +
			"\n" +
			"On instance:\n" +
			"    1.5",
	},
	{
		name:     "type integer overflow",
		schema:   &Schema{Type: "integer"},
		instance: `1e400`,
		want: "inf is not of type 'integer'\n" +
			"\n" +
			"Failed validating 'type' in schema:\n" +
			"    {'type': 'integer'}\n" +
			"\n" +
			"On instance:\n" +
			"    inf",
	},
	{
		name:     "type number bool",
		schema:   &Schema{Type: "number"},
		instance: `true`,
		want: "True is not of type 'number'\n" +
			"\n" +
			"Failed validating 'type' in schema:\n" +
			"    {'type': 'number'}\n" +
			"\n" +
			"On instance:\n" +
			"    True",
	},
	{
		name:     "type object",
		schema:   &Schema{Type: "object"},
		instance: `["name"]`,
		want: "['name'] is not of type 'object'\n" +
			"\n" +
			"Failed validating 'type' in schema:\n" +
			"    {'type': 'object'}\n" +
			"\n" +
			"On instance:\n" +
			"    ['name']",
	},
	{
		name:     "enum",
		schema:   &Schema{Type: "string", Enum: []any{"none", "isolate"}},
		instance: `"bogus"`,
		want: "'bogus' is not one of ['none', 'isolate']\n" +
			"\n" +
			"Failed validating 'enum' in schema:\n" +
			"    {'enum': ['none', 'isolate'], 'type': 'string'}\n" +
			"\n" +
			"On instance:\n" +
			"    'bogus'",
	},
	{
		name:     "enum bool is not int",
		schema:   &Schema{Enum: []any{1, "a"}},
		instance: `true`,
		want: "True is not one of [1, 'a']\n" +
			"\n" +
			"Failed validating 'enum' in schema:\n" +
			"    {'enum': [1, 'a']}\n" +
			"\n" +
			"On instance:\n" +
			"    True",
	},
	{
		name:     "enum int is not bool",
		schema:   &Schema{Enum: []any{true, nil}},
		instance: `1`,
		want: "1 is not one of [True, None]\n" +
			"\n" +
			"Failed validating 'enum' in schema:\n" +
			"    {'enum': [True, None]}\n" +
			"\n" +
			"On instance:\n" +
			"    1",
	},
	{
		name:     "format",
		schema:   &Schema{Type: "string", Format: "uuid"},
		instance: `"not-a-uuid"`,
		want: "'not-a-uuid' is not a 'uuid'\n" +
			"\n" +
			"Failed validating 'format' in schema:\n" +
			"    {'format': 'uuid', 'type': 'string'}\n" +
			"\n" +
			"On instance:\n" +
			"    'not-a-uuid'",
	},
	{
		name:     "format non string",
		schema:   &Schema{Format: "uuid"},
		instance: `5`,
		want: "5 is not a 'uuid'\n" +
			"\n" +
			"Failed validating 'format' in schema:\n" +
			"    {'format': 'uuid'}\n" +
			"\n" +
			"On instance:\n" +
			"    5",
	},
	{
		name:     "pattern",
		schema:   &Schema{Type: "string", Pattern: "^[A-Z0-9_]+$"},
		instance: `"instance"`,
		want: "'instance' does not match '^[A-Z0-9_]+$'\n" +
			"\n" +
			"Failed validating 'pattern' in schema:\n" +
			"    {'pattern': '^[A-Z0-9_]+$', 'type': 'string'}\n" +
			"\n" +
			"On instance:\n" +
			"    'instance'",
	},
	{
		name:     "minLength",
		schema:   &Schema{Type: "string", MinLength: new(1)},
		instance: `""`,
		want: "'' is too short\n" +
			"\n" +
			"Failed validating 'minLength' in schema:\n" +
			"    {'minLength': 1, 'type': 'string'}\n" +
			"\n" +
			"On instance:\n" +
			"    ''",
	},
	{
		name:     "maxLength code points",
		schema:   &Schema{Type: "string", MaxLength: new(3)},
		instance: `"\u00e9t\u00e9s"`,
		want: "'étés' is too long\n" +
			"\n" +
			"Failed validating 'maxLength' in schema:\n" +
			"    {'maxLength': 3, 'type': 'string'}\n" +
			"\n" +
			"On instance:\n" +
			"    'étés'",
	},
	{
		name:     "minimum",
		schema:   &Schema{Type: "integer", Minimum: Int(1)},
		instance: `0`,
		want: "0 is less than the minimum of 1\n" +
			"\n" +
			"Failed validating 'minimum' in schema:\n" +
			"    {'minimum': 1, 'type': 'integer'}\n" +
			"\n" +
			"On instance:\n" +
			"    0",
	},
	{
		name:     "minimum float bound",
		schema:   &Schema{Minimum: Float(1)},
		instance: `0`,
		want: "0 is less than the minimum of 1.0\n" +
			"\n" +
			"Failed validating 'minimum' in schema:\n" +
			"    {'minimum': 1.0}\n" +
			"\n" +
			"On instance:\n" +
			"    0",
	},
	{
		name:     "maximum",
		schema:   &Schema{Type: "integer", Maximum: Int(2147483647)},
		instance: `2147483648`,
		want: "2147483648 is greater than the maximum of 2147483647\n" +
			"\n" +
			"Failed validating 'maximum' in schema:\n" +
			"    {'maximum': 2147483647, 'type': 'integer'}\n" +
			"\n" +
			"On instance:\n" +
			"    2147483648",
	},
	{
		name:     "maximum big int",
		schema:   &Schema{Maximum: Int(2147483647)},
		instance: `99999999999999999999999`,
		want: "99999999999999999999999 is greater than the maximum of 2147483647\n" +
			"\n" +
			"Failed validating 'maximum' in schema:\n" +
			"    {'maximum': 2147483647}\n" +
			"\n" +
			"On instance:\n" +
			"    99999999999999999999999",
	},
	{
		name:     "maximum float",
		schema:   &Schema{Type: "number", Maximum: Float(3.40282e+38)},
		instance: `1e39`,
		want: "1e+39 is greater than the maximum of 3.40282e+38\n" +
			"\n" +
			"Failed validating 'maximum' in schema:\n" +
			"    {'maximum': 3.40282e+38, 'type': 'number'}\n" +
			"\n" +
			"On instance:\n" +
			"    1e+39",
	},
	{
		name:     "exclusiveMinimum",
		schema:   &Schema{ExclusiveMinimum: Int(0)},
		instance: `0`,
		want: "0 is less than or equal to the minimum of 0\n" +
			"\n" +
			"Failed validating 'exclusiveMinimum' in schema:\n" +
			"    {'exclusiveMinimum': 0}\n" +
			"\n" +
			"On instance:\n" +
			"    0",
	},
	{
		name:     "exclusiveMaximum",
		schema:   &Schema{ExclusiveMaximum: Float(1.5)},
		instance: `1.5`,
		want: "1.5 is greater than or equal to the maximum of 1.5\n" +
			"\n" +
			"Failed validating 'exclusiveMaximum' in schema:\n" +
			"    {'exclusiveMaximum': 1.5}\n" +
			"\n" +
			"On instance:\n" +
			"    1.5",
	},
	{
		name:     "minItems",
		schema:   &Schema{Type: "array", MinItems: new(1)},
		instance: `[]`,
		want: "[] is too short\n" +
			"\n" +
			"Failed validating 'minItems' in schema:\n" +
			"    {'minItems': 1, 'type': 'array'}\n" +
			"\n" +
			"On instance:\n" +
			"    []",
	},
	{
		name:     "maxItems",
		schema:   &Schema{Type: "array", MaxItems: new(1)},
		instance: `[1, 2.0]`,
		want: "[1, 2.0] is too long\n" +
			"\n" +
			"Failed validating 'maxItems' in schema:\n" +
			"    {'maxItems': 1, 'type': 'array'}\n" +
			"\n" +
			"On instance:\n" +
			"    [1, 2.0]",
	},
	{
		name:     "items",
		schema:   &Schema{Type: "array", Items: &Schema{Type: "string"}},
		instance: `["a", 7]`,
		want: "7 is not of type 'string'\n" +
			"\n" +
			"Failed validating 'type' in schema['items']:\n" +
			"    {'type': 'string'}\n" +
			"\n" +
			"On instance[1]:\n" +
			"    7",
	},
	{
		name:     "uniqueItems",
		schema:   &Schema{Type: "array", UniqueItems: true},
		instance: `["a", "b", "a"]`,
		want: "['a', 'b', 'a'] has non-unique elements\n" +
			"\n" +
			"Failed validating 'uniqueItems' in schema:\n" +
			"    {'type': 'array', 'uniqueItems': True}\n" +
			"\n" +
			"On instance:\n" +
			"    ['a', 'b', 'a']",
	},
	{
		name:     "uniqueItems int float",
		schema:   &Schema{UniqueItems: true},
		instance: `[1, 1.0]`,
		want: "[1, 1.0] has non-unique elements\n" +
			"\n" +
			"Failed validating 'uniqueItems' in schema:\n" +
			"    {'uniqueItems': True}\n" +
			"\n" +
			"On instance:\n" +
			"    [1, 1.0]",
	},
	{
		name:     "uniqueItems objects",
		schema:   &Schema{UniqueItems: true},
		instance: `[{"a": [1]}, {"a": [1.0]}]`,
		want: "[{'a': [1]}, {'a': [1.0]}] has non-unique elements\n" +
			"\n" +
			"Failed validating 'uniqueItems' in schema:\n" +
			"    {'uniqueItems': True}\n" +
			"\n" +
			"On instance:\n" +
			"    [{'a': [1]}, {'a': [1.0]}]",
	},
	{
		name:     "minProperties",
		schema:   &Schema{Type: "object", MinProperties: new(1)},
		instance: `{}`,
		want: "{} does not have enough properties\n" +
			"\n" +
			"Failed validating 'minProperties' in schema:\n" +
			"    {'minProperties': 1, 'type': 'object'}\n" +
			"\n" +
			"On instance:\n" +
			"    {}",
	},
	{
		name:     "maxProperties",
		schema:   &Schema{Type: "object", MaxProperties: new(1)},
		instance: `{"a": 1, "b": 2}`,
		want: "{'a': 1, 'b': 2} has too many properties\n" +
			"\n" +
			"Failed validating 'maxProperties' in schema:\n" +
			"    {'maxProperties': 1, 'type': 'object'}\n" +
			"\n" +
			"On instance:\n" +
			"    {'a': 1, 'b': 2}",
	},
	{
		name:     "properties",
		schema:   &Schema{Type: "object", Properties: []Property{Prop("name", &Schema{Type: "string", MaxLength: new(2)})}},
		instance: `{"name": "abc"}`,
		want: "'abc' is too long\n" +
			"\n" +
			"Failed validating 'maxLength' in schema['properties']['name']:\n" +
			"    {'maxLength': 2, 'type': 'string'}\n" +
			"\n" +
			"On instance['name']:\n" +
			"    'abc'",
	},
	{
		name:     "patternProperties",
		schema:   &Schema{Type: "object", PatternProperties: []Property{Prop("^[A-Z0-9_]+$", &Schema{Type: "integer", Minimum: Int(1)})}},
		instance: `{"VCPU": 0}`,
		want: "0 is less than the minimum of 1\n" +
			"\n" +
			"Failed validating 'minimum' in schema['patternProperties']['^[A-Z0-9_]+$']:\n" +
			"    {'minimum': 1, 'type': 'integer'}\n" +
			"\n" +
			"On instance['VCPU']:\n" +
			"    0",
	},
	{
		name:     "required",
		schema:   &Schema{Type: "object", Required: []string{"name", "uuid"}},
		instance: `{"uuid": "x"}`,
		want: "'name' is a required property\n" +
			"\n" +
			"Failed validating 'required' in schema:\n" +
			"    {'required': ['name', 'uuid'], 'type': 'object'}\n" +
			"\n" +
			"On instance:\n" +
			"    {'uuid': 'x'}",
	},
	{
		name:     "additionalProperties one",
		schema:   &Schema{Type: "object", Properties: []Property{Prop("name", &Schema{})}, AdditionalProperties: Bool(false)},
		instance: `{"name": 1, "bad_field": 2}`,
		want: "Additional properties are not allowed ('bad_field' was unexpected)\n" +
			"\n" +
			"Failed validating 'additionalProperties' in schema:\n" +
			"    {'additionalProperties': False,\n" +
			"     'properties': {'name': {}},\n" +
			"     'type': 'object'}\n" +
			"\n" +
			"On instance:\n" +
			"    {'bad_field': 2, 'name': 1}",
	},
	{
		name:     "additionalProperties several",
		schema:   &Schema{Type: "object", AdditionalProperties: Bool(false)},
		instance: `{"b": 1, "a": 2}`,
		want: "Additional properties are not allowed ('a', 'b' were unexpected)\n" +
			"\n" +
			"Failed validating 'additionalProperties' in schema:\n" +
			"    {'additionalProperties': False, 'type': 'object'}\n" +
			"\n" +
			"On instance:\n" +
			"    {'a': 2, 'b': 1}",
	},
	{
		name: "additionalProperties regexes",
		schema: &Schema{
			Type: "object",
			PatternProperties: []Property{
				Prop("^resources([1-9][0-9]*)?$", &Schema{}),
				Prop("^member_of([1-9][0-9]*)?$", &Schema{}),
			},
			AdditionalProperties: Bool(false),
		},
		instance: `{"resources01": "x"}`,
		want: "'resources01' does not match any of the regexes: '^member_of([1-9][0-9]*)?$', '^resources([1-9][0-9]*)?$'\n" +
			"\n" +
			"Failed validating 'additionalProperties' in schema:\n" +
			"    {'additionalProperties': False,\n" +
			"     'patternProperties': {'^member_of([1-9][0-9]*)?$': {},\n" +
			"                           '^resources([1-9][0-9]*)?$': {}},\n" +
			"     'type': 'object'}\n" +
			"\n" +
			"On instance:\n" +
			"    {'resources01': 'x'}",
	},
	{
		name:     "additionalProperties regexes several",
		schema:   &Schema{PatternProperties: []Property{Prop("^a", &Schema{})}, AdditionalProperties: Bool(false)},
		instance: `{"x": 1, "y": 2}`,
		want: "'x', 'y' do not match any of the regexes: '^a'\n" +
			"\n" +
			"Failed validating 'additionalProperties' in schema:\n" +
			"    {'additionalProperties': False, 'patternProperties': {'^a': {}}}\n" +
			"\n" +
			"On instance:\n" +
			"    {'x': 1, 'y': 2}",
	},
	{
		name:     "additionalProperties schema",
		schema:   &Schema{AdditionalProperties: &Schema{Type: "integer"}},
		instance: `{"a": "x"}`,
		want: "'x' is not of type 'integer'\n" +
			"\n" +
			"Failed validating 'type' in schema['additionalProperties']:\n" +
			"    {'type': 'integer'}\n" +
			"\n" +
			"On instance['a']:\n" +
			"    'x'",
	},
	{
		name:     "anyOf descends",
		schema:   &Schema{AnyOf: []*Schema{{Type: "string", Format: "uuid"}, {Type: "null"}}},
		instance: `"bad"`,
		want: "'bad' is not a 'uuid'\n" +
			"\n" +
			"Failed validating 'format' in schema[0]:\n" +
			"    {'format': 'uuid', 'type': 'string'}\n" +
			"\n" +
			"On instance:\n" +
			"    'bad'",
	},
	{
		name:     "anyOf ties",
		schema:   &Schema{AnyOf: []*Schema{{Type: "string", Format: "uuid"}, {Type: "null"}}},
		instance: `5`,
		want: "5 is not valid under any of the given schemas\n" +
			"\n" +
			"Failed validating 'anyOf' in schema:\n" +
			"    {'anyOf': [{'format': 'uuid', 'type': 'string'}, {'type': 'null'}]}\n" +
			"\n" +
			"On instance:\n" +
			"    5",
	},
	{
		name:     "oneOf none",
		schema:   &Schema{OneOf: []*Schema{{Type: "string"}, {Type: "integer", Minimum: Int(3)}}},
		instance: `1`,
		want: "1 is less than the minimum of 3\n" +
			"\n" +
			"Failed validating 'minimum' in schema[1]:\n" +
			"    {'minimum': 3, 'type': 'integer'}\n" +
			"\n" +
			"On instance:\n" +
			"    1",
	},
	{
		name:     "oneOf several",
		schema:   &Schema{OneOf: []*Schema{{Type: "string", MinLength: new(1)}, {Type: "string", MaxLength: new(5)}}},
		instance: `"abc"`,
		want: "'abc' is valid under each of {'type': 'string', 'maxLength': 5}, {'type': 'string', 'minLength': 1}\n" +
			"\n" +
			"Failed validating 'oneOf' in schema:\n" +
			"    {'oneOf': [{'minLength': 1, 'type': 'string'},\n" +
			"               {'maxLength': 5, 'type': 'string'}]}\n" +
			"\n" +
			"On instance:\n" +
			"    'abc'",
	},
	{
		name:     "false schema",
		schema:   &Schema{Properties: []Property{Prop("x", Bool(false))}},
		instance: `{"x": 1}`,
		want: "False schema does not allow 1\n" +
			"\n" +
			"Failed validating None in schema['properties']:\n" +
			"    False\n" +
			"\n" +
			"On instance['x']:\n" +
			"    1",
	},
	{
		name: "required before additionalProperties",
		schema: &Schema{
			Type:                 "object",
			Properties:           []Property{Prop("name", &Schema{})},
			Required:             []string{"name"},
			AdditionalProperties: Bool(false),
		},
		instance: `{"bad": 1}`,
		want: "'name' is a required property\n" +
			"\n" +
			"Failed validating 'required' in schema:\n" +
			"    {'additionalProperties': False,\n" +
			"     'properties': {'name': {}},\n" +
			"     'required': ['name'],\n" +
			"     'type': 'object'}\n" +
			"\n" +
			"On instance:\n" +
			"    {'bad': 1}",
	},
	{
		name: "additionalProperties before required",
		schema: &Schema{
			Type:                 "object",
			Properties:           []Property{Prop("name", &Schema{})},
			Required:             []string{"name"},
			AdditionalProperties: Bool(false),
			Order:                []string{"type", "properties", "additionalProperties", "required"},
		},
		instance: `{"bad": 1}`,
		want: "Additional properties are not allowed ('bad' was unexpected)\n" +
			"\n" +
			"Failed validating 'additionalProperties' in schema:\n" +
			"    {'additionalProperties': False,\n" +
			"     'properties': {'name': {}},\n" +
			"     'required': ['name'],\n" +
			"     'type': 'object'}\n" +
			"\n" +
			"On instance:\n" +
			"    {'bad': 1}",
	},
	{
		name: "shallow beats deep",
		schema: &Schema{
			Type:       "object",
			Properties: []Property{Prop("total", &Schema{Type: "integer", Minimum: Int(1)})},
			Required:   []string{"total", "rc"},
		},
		instance: `{"total": 0}`,
		want: "'rc' is a required property\n" +
			"\n" +
			"Failed validating 'required' in schema:\n" +
			"    {'properties': {'total': {'minimum': 1, 'type': 'integer'}},\n" +
			"     'required': ['total', 'rc'],\n" +
			"     'type': 'object'}\n" +
			"\n" +
			"On instance:\n" +
			"    {'total': 0}",
	},
	{
		name: "strong beats weak",
		schema: &Schema{Properties: []Property{
			Prop("a", &Schema{AnyOf: []*Schema{{Type: "null"}}}),
			Prop("b", &Schema{Type: "string"}),
		}},
		instance: `{"a": 1, "b": 2}`,
		want: "2 is not of type 'string'\n" +
			"\n" +
			"Failed validating 'type' in schema['properties']['b']:\n" +
			"    {'type': 'string'}\n" +
			"\n" +
			"On instance['b']:\n" +
			"    2",
	},
	{
		name: "first property wins ties",
		schema: &Schema{Properties: []Property{
			Prop("total", &Schema{Minimum: Int(1)}),
			Prop("min_unit", &Schema{Minimum: Int(1)}),
		}},
		instance: `{"min_unit": 0, "total": 0}`,
		want: "0 is less than the minimum of 1\n" +
			"\n" +
			"Failed validating 'minimum' in schema['properties']['total']:\n" +
			"    {'minimum': 1}\n" +
			"\n" +
			"On instance['total']:\n" +
			"    0",
	},
	{
		name: "type mismatch preferred",
		schema: &Schema{Properties: []Property{
			Prop("a", &Schema{Type: "string", MinLength: new(5)}),
			Prop("b", &Schema{Type: "integer"}),
		}},
		instance: `{"a": "x", "b": "y"}`,
		want: "'y' is not of type 'integer'\n" +
			"\n" +
			"Failed validating 'type' in schema['properties']['b']:\n" +
			"    {'type': 'integer'}\n" +
			"\n" +
			"On instance['b']:\n" +
			"    'y'",
	},
	{
		name: "deepest in anyOf",
		schema: &Schema{AnyOf: []*Schema{
			{Type: "object", Properties: []Property{Prop("a", &Schema{Type: "object", Required: []string{"b"}})}},
			{Type: "string"},
		}},
		instance: `{"a": {}}`,
		want: "'b' is a required property\n" +
			"\n" +
			"Failed validating 'required' in schema[0]['properties']['a']:\n" +
			"    {'required': ['b'], 'type': 'object'}\n" +
			"\n" +
			"On instance['a']:\n" +
			"    {}",
	},
	{
		name: "pformat wraps",
		schema: &Schema{
			Type: "object",
			Properties: []Property{Prop("resources", &Schema{
				Type: "object",
				PatternProperties: []Property{
					Prop("^[A-Z0-9_]+$", &Schema{Type: "integer", Minimum: Int(1), Maximum: Int(2147483647)}),
				},
				AdditionalProperties: Bool(false),
			})},
			AdditionalProperties: Bool(false),
		},
		instance: `{"resources": {"VCPU": 1, "MEMORY_MB": 1024, "DISK_GB": 100}, "x": "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod"}`,
		want: "Additional properties are not allowed ('x' was unexpected)\n" +
			"\n" +
			"Failed validating 'additionalProperties' in schema:\n" +
			"    {'additionalProperties': False,\n" +
			"     'properties': {'resources': {'additionalProperties': False,\n" +
			"                                  'patternProperties': {'^[A-Z0-9_]+$': {'maximum': 2147483647,\n" +
			"                                                                         'minimum': 1,\n" +
			"                                                                         'type': 'integer'}},\n" +
			"                                  'type': 'object'}},\n" +
			"     'type': 'object'}\n" +
			"\n" +
			"On instance:\n" +
			"    {'resources': {'DISK_GB': 100, 'MEMORY_MB': 1024, 'VCPU': 1},\n" +
			"     'x': 'lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do '\n" +
			"          'eiusmod'}",
	},
	{
		name:     "long string wraps",
		schema:   &Schema{Type: "integer"},
		instance: `"lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor"`,
		want: "'lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor' is not of type 'integer'\n" +
			"\n" +
			"Failed validating 'type' in schema:\n" +
			"    {'type': 'integer'}\n" +
			"\n" +
			"On instance:\n" +
			"    ('lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do '\n" +
			"     'eiusmod tempor')",
	},
	{
		name:     "repr quotes and escapes",
		schema:   &Schema{Type: "integer"},
		instance: `["it's", "say \"hi\"", "tab\t", "\u00e9", "\u0001", "\ud83d\ude00"]`,
		want: "[\"it's\", 'say \"hi\"', 'tab\\t', 'é', '\\x01', '😀'] is not of type 'integer'\n" +
			"\n" +
			"Failed validating 'type' in schema:\n" +
			"    {'type': 'integer'}\n" +
			"\n" +
			"On instance:\n" +
			"    [\"it's\", 'say \"hi\"', 'tab\\t', 'é', '\\x01', '😀']",
	},
	{
		name:     "floats",
		schema:   &Schema{Type: "string"},
		instance: `[1.0, -0.0, 1e16, 1e15, 0.0001, 0.00001, 123.456, 1e100]`,
		want: "[1.0, -0.0, 1e+16, 1000000000000000.0, 0.0001, 1e-05, 123.456, 1e+100] is not of type 'string'\n" +
			"\n" +
			"Failed validating 'type' in schema:\n" +
			"    {'type': 'string'}\n" +
			"\n" +
			"On instance:\n" +
			"    [1.0, -0.0, 1e+16, 1000000000000000.0, 0.0001, 1e-05, 123.456, 1e+100]",
	},
}

func TestMessages(t *testing.T) {
	t.Parallel()
	for _, tt := range messageTests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := Validate(tt.schema, decodeInstance(t, []byte(tt.instance))); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate(%s)\n got: %s\nwant: %s", tt.instance, got, tt.want)
			}
		})
	}
}
