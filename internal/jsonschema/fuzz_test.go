package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

var fuzzSchemas = []*Schema{
	postResourceProvider(),
	withProp(postResourceProvider(), "parent_provider_uuid", parentProviderUUID()),
	allocationSchema(),
	postAllocations(allocationSchemaV138()),
	postInventory(),
	putAggregatesV119(),
	getAllocationCandidates(36),
	postReshaper(postAllocations(allocationSchemaV138())),
	{
		Types:       []string{"array", "object", "number"},
		Items:       &Schema{OneOf: []*Schema{{Type: "integer"}, {Minimum: Float(0.5)}, {Enum: []any{true, "a", nil}}}},
		UniqueItems: true,
		MaxItems:    new(5),
		Properties:  []Property{Prop("x", Bool(false)), Prop("y", &Schema{Pattern: `^\w+\Z`, MaxLength: new(3)})},
		PatternProperties: []Property{
			Prop("^a", &Schema{AnyOf: []*Schema{{Type: "string"}, {Type: "array", Items: &Schema{Type: "null"}}}}),
		},
		AdditionalProperties: &Schema{ExclusiveMaximum: Int(10), MinProperties: new(1)},
		MaxProperties:        new(4),
		Maximum:              Int(9007199254740993),
	},
}

// FuzzValidate decodes arbitrary JSON and validates it against several
// schemas: no panic, the quick and the detailed walks agree, and a failure
// prints.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(allocationBody))
	f.Add([]byte(`{"name": "x", "uuid": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "parent_provider_uuid": null}`))
	f.Add([]byte(`{"resource_class": "DISK_GB", "total": 1e400, "allocation_ratio": -0.0}`))
	f.Add([]byte(`{"aggregates": ["a", "a"], "resource_provider_generation": 99999999999999999999}`))
	f.Add([]byte(`[1, 1.0, true, {"a": [null]}, {"a": [null]}, "\u2028 x"]`))
	f.Add([]byte(`{"resources_x": "VCPU:1", "limit": "0", "group_policy": "bogus", "x": 1}`))
	f.Add([]byte(`{"inventories": {}, "allocations": {"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee": {}}}`))
	f.Add([]byte(`"lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\n"`))
	validators := make([]*Validator, len(fuzzSchemas))
	for i, s := range fuzzSchemas {
		validators[i] = MustCompile(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var inst any
		if err := dec.Decode(&inst); err != nil {
			return
		}
		for i, v := range validators {
			valid := v.root.valid(inst)
			errs := v.root.errors(inst)
			if valid != (len(errs) == 0) {
				t.Fatalf("schema %d: valid = %v but %d errors", i, valid, len(errs))
			}
			err := v.Validate(inst)
			if valid {
				if err != nil {
					t.Fatalf("schema %d: valid, but Validate = %v", i, err)
				}
				continue
			}
			ve, ok := errors.AsType[*ValidationError](err)
			if !ok {
				t.Fatalf("schema %d: Validate = %v", i, err)
			}
			if !strings.HasPrefix(ve.Error(), ve.Message+"\n\nFailed validating ") {
				t.Fatalf("schema %d: Error() = %q", i, ve.Error())
			}
		}
	})
}

// FuzzSimplePattern checks the fast matcher against the regexp package.
func FuzzSimplePattern(f *testing.F) {
	f.Add("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\n")
	f.Add("CUSTOM_FOO")
	patterns := []string{"^[A-Z0-9_]+$", "^[0-9a-fA-F-]{36}$", "^CUSTOM_[A-Z0-9_]+$"}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range patterns {
			sp, _ := parseSimplePattern(p)
			re, err := compileRE2(p)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := sp.MatchString(s), re.MatchString(s); got != want {
				t.Fatalf("%q on %q: fast %v, regexp %v", p, s, got, want)
			}
		}
	})
}
