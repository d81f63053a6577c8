package jsonschema

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Schema is a JSON Schema written in Go, field for field as the Python dict it
// mirrors. A zero field is an absent keyword. Only the keywords below are
// supported; Compile refuses what it cannot honour (an unknown type or format,
// a regex RE2 cannot express).
//
// Python reports, among equally relevant errors, the one whose keyword comes
// first in the schema dict. Keywords are evaluated in the order of the fields
// below unless Order says otherwise, so set Order where the Python dict lists
// them differently and two of them can fail together (for example
// "additionalProperties" before "required", or "minLength" before "pattern").
//
// A Schema must not be changed once it has been compiled or passed to
// Validate.
type Schema struct {
	// Type is "type": "string"; Types is "type": ["integer", "null"] (the
	// list form, which prints differently). Set at most one. Names: object,
	// array, string, integer, number, boolean, null.
	Type  string
	Types []string

	// Enum is "enum" when non-nil. Items are JSON values as Go values:
	// string, bool, nil, int, float64, json.Number, []any, map[string]any.
	Enum []any

	// Format is "format". Only "uuid" is known, checked as Placement's
	// registered checker does (oslo's uuidutils.is_uuid_like); like Python's
	// checker it rejects values that are not strings at all.
	Format string

	// Pattern is "pattern", a Python regular expression searched for
	// (re.search, unanchored) in strings. Empty means absent.
	Pattern   string
	MinLength *int
	MaxLength *int

	Minimum          *Number
	Maximum          *Number
	ExclusiveMinimum *Number
	ExclusiveMaximum *Number

	MinItems *int
	MaxItems *int
	Items    *Schema
	// UniqueItems is "uniqueItems": True; false is absent.
	UniqueItems bool

	MinProperties *int
	MaxProperties *int
	// Properties is "properties" when non-nil, in dict order.
	Properties []Property
	// PatternProperties is "patternProperties" when non-nil; each Name is a
	// Python regular expression searched for in the instance's keys.
	PatternProperties []Property
	// Required is "required" when non-nil.
	Required []string
	// AdditionalProperties is "additionalProperties": Bool(false) forbids
	// keys matched by neither Properties nor PatternProperties; a schema
	// validates them.
	AdditionalProperties *Schema

	AnyOf []*Schema
	OneOf []*Schema

	// Extra holds keys that validate nothing but are part of the Python dict,
	// so that messages print the schema as Python does: a "description", or
	// a misspelt keyword (an old Placement mappings schema had
	// "minProperites"). Values must be JSON values.
	Extra map[string]any

	// Order lists this schema's keys (keywords and Extra keys) in the order
	// of the Python dict. Keys it leaves out follow in field order, then the
	// Extra keys sorted.
	Order []string

	boolean *bool
}

// Property is a name (or, in PatternProperties, a pattern) with its schema.
type Property struct {
	Name   string
	Schema *Schema
}

// Prop returns the Property name: s.
func Prop(name string, s *Schema) Property { return Property{Name: name, Schema: s} }

// Bool returns the boolean schema true (everything is valid) or false
// (nothing is). AdditionalProperties: Bool(false) is Python's
// "additionalProperties": False.
func Bool(v bool) *Schema { return &Schema{boolean: &v} }

// Keyword names, in the default evaluation order.
var defaultOrder = []string{
	"type", "enum", "format", "pattern", "minLength", "maxLength",
	"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
	"minItems", "maxItems", "items", "uniqueItems",
	"minProperties", "maxProperties", "properties", "patternProperties",
	"required", "additionalProperties", "anyOf", "oneOf",
}

// unsupportedKeywords are the other keys Python's Draft202012Validator acts
// on; putting them in Extra would silently skip their validation.
var unsupportedKeywords = []string{
	"$schema", "$ref", "$dynamicRef", "additionalItems", "allOf", "const",
	"contains", "dependentRequired", "dependentSchemas", "if", "multipleOf",
	"not", "prefixItems", "propertyNames", "unevaluatedItems",
	"unevaluatedProperties",
}

// has reports whether keyword k is present in s.
func (s *Schema) has(k string) bool {
	switch k {
	case "type":
		return s.Type != "" || s.Types != nil
	case "enum":
		return s.Enum != nil
	case "format":
		return s.Format != ""
	case "pattern":
		return s.Pattern != ""
	case "minLength":
		return s.MinLength != nil
	case "maxLength":
		return s.MaxLength != nil
	case "minimum":
		return s.Minimum != nil
	case "maximum":
		return s.Maximum != nil
	case "exclusiveMinimum":
		return s.ExclusiveMinimum != nil
	case "exclusiveMaximum":
		return s.ExclusiveMaximum != nil
	case "minItems":
		return s.MinItems != nil
	case "maxItems":
		return s.MaxItems != nil
	case "items":
		return s.Items != nil
	case "uniqueItems":
		return s.UniqueItems
	case "minProperties":
		return s.MinProperties != nil
	case "maxProperties":
		return s.MaxProperties != nil
	case "properties":
		return s.Properties != nil
	case "patternProperties":
		return s.PatternProperties != nil
	case "required":
		return s.Required != nil
	case "additionalProperties":
		return s.AdditionalProperties != nil
	case "anyOf":
		return s.AnyOf != nil
	case "oneOf":
		return s.OneOf != nil
	}
	return false
}

// Validator is a compiled Schema. It is safe for concurrent use.
type Validator struct {
	root *node
}

// Compile checks s and prepares it for validation: keyword order resolved,
// regular expressions translated and compiled. It fails on schemas Python's
// jsonschema would reject or that this package cannot reproduce faithfully.
func Compile(s *Schema) (*Validator, error) {
	root, err := compileNode(s, "schema")
	if err != nil {
		return nil, fmt.Errorf("compile json schema: %w", err)
	}
	return &Validator{root: root}, nil
}

// MustCompile is Compile that panics on error, for package-level schemas.
func MustCompile(s *Schema) *Validator {
	v, err := Compile(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Validate reports whether instance is valid under the schema. On failure it
// returns the *ValidationError Python's jsonschema.validate raises: the best
// match (exceptions.best_match) among all errors.
//
// instance is a value as encoding/json decodes it with UseNumber:
// map[string]any, []any, json.Number, string, bool or nil. Go ints and
// float64 are also taken, as Python int and float.
func (v *Validator) Validate(instance any) error {
	if v.root.valid(instance) {
		return nil
	}
	errs := v.root.errors(instance)
	best := bestMatch(errs)
	if best == nil {
		// valid and errors disagree: a bug in this package.
		return errors.New("json schema validation failed without an error")
	}
	return best
}

var cache sync.Map // *Schema -> *Validator

// Validate validates instance against s as Validator.Validate does. s is
// compiled on first use and the result kept for the life of the process, so s
// should be a long-lived (package-level) value. If s does not compile, the
// error is the compile error, not a *ValidationError.
func Validate(s *Schema, instance any) error {
	if v, ok := cache.Load(s); ok {
		return v.(*Validator).Validate(instance)
	}
	v, err := Compile(s)
	if err != nil {
		return err
	}
	actual, _ := cache.LoadOrStore(s, v)
	return actual.(*Validator).Validate(instance)
}

// typeBit is one JSON Schema type name.
type typeBit uint8

const (
	typeObject typeBit = 1 << iota
	typeArray
	typeString
	typeInteger
	typeNumber
	typeBoolean
	typeNull
)

var typeBits = map[string]typeBit{
	"object":  typeObject,
	"array":   typeArray,
	"string":  typeString,
	"integer": typeInteger,
	"number":  typeNumber,
	"boolean": typeBoolean,
	"null":    typeNull,
}

var knownFormats = map[string]func(any) bool{
	"uuid": isUUIDLike,
}

// keyOrder checks s.Order and returns the full key order of the dict.
func (s *Schema) keyOrder() ([]string, error) {
	var order []string
	seen := map[string]bool{}
	for _, k := range s.Order {
		if seen[k] {
			return nil, fmt.Errorf("key %q twice in Order", k)
		}
		_, extra := s.Extra[k]
		if !s.has(k) && !extra {
			return nil, fmt.Errorf("key %q in Order is not in the schema", k)
		}
		seen[k] = true
		order = append(order, k)
	}
	for _, k := range defaultOrder {
		if s.has(k) && !seen[k] {
			order = append(order, k)
		}
	}
	var extras []string
	for k := range s.Extra {
		if slices.Contains(defaultOrder, k) {
			return nil, fmt.Errorf("extra key %q is a keyword: use its field", k)
		}
		if slices.Contains(unsupportedKeywords, k) {
			return nil, fmt.Errorf("extra key %q is a keyword this package does not support", k)
		}
		if !seen[k] {
			extras = append(extras, k)
		}
	}
	slices.Sort(extras)
	return append(order, extras...), nil
}
