package jsonschema

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// Expected values in this file were printed by Python 3.11 (Debian
// bookworm): repr(float), oslo_utils.uuidutils.is_uuid_like and re.search.

func TestFloatRepr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		hex  string // float.hex()
		want string // repr()
	}{
		{"0x0.0p+0", "0.0"},
		{"-0x0.0p+0", "-0.0"},
		{"0x1.0000000000000p+0", "1.0"},
		{"0x1.8000000000000p+0", "1.5"},
		{"0x1.999999999999ap-4", "0.1"},
		{"0x1.1c37937e08000p+53", "1e+16"},
		{"0x1.c6bf526340000p+49", "1000000000000000.0"},
		{"0x1.1c37937e07fffp+53", "9999999999999998.0"},
		{"0x1.a36e2eb1c432dp-14", "0.0001"},
		{"0x1.4f8b588e368f1p-17", "1e-05"},
		{"0x1.421f5f40d8376p-23", "1.5e-07"},
		{"0x1.d6f3454800000p+26", "123456789.125"},
		{"0x1.0f0cf064dd592p+73", "1e+22"},
		{"0x1.249ad2594c37dp+332", "1e+100"},
		{"0x1.1fa182c40c60dp-1022", "2.5e-308"},
		{"0x0.0000000000001p-1022", "5e-324"},
		{"0x1.fffffffffffffp+1023", "1.7976931348623157e+308"},
		{"0x1.ffffdbd19d02cp+127", "3.40282e+38"},
		{"0x1.9000000000000p+6", "100.0"},
		{"0x1.5555555555555p-2", "0.3333333333333333"},
		{"-0x1.0f0cf064dd592p+70", "-1.25e+21"},
	}
	for _, tt := range tests {
		f, err := strconv.ParseFloat(tt.hex, 64)
		if err != nil {
			t.Fatal(err)
		}
		if got := floatRepr(f); got != tt.want {
			t.Errorf("floatRepr(%s) = %s, want %s", tt.hex, got, tt.want)
		}
	}
	for f, want := range map[float64]string{math.Inf(1): "inf", math.Inf(-1): "-inf"} {
		if got := floatRepr(f); got != want {
			t.Errorf("floatRepr(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestIsUUIDLike(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want bool
	}{
		{"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", true},
		{"AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE", true},
		{"aaaaaaaabbbbccccddddeeeeeeeeeeee", true},
		{"{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}", true},
		{"urn:uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", true},
		{"uuid:{aaaaaaaabbbbccccddddeeeeeeeeeeee}", true},
		{"{{aaaaaaaabbbbccccddddeeeeeeeeeeee}}", true},
		{"a-a-a-aaaaaaaabbbbccccddddeeeeeeeeeee", false},
		{"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeee", false},
		{"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeeee", false},
		{"gaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", false},
		{" aaaaaaaabbbbccccddddeeeeeeeeeeee", false},
		{"0xaaaaaabbbbccccddddeeeeeeeeeeee", false},
		{"aaaa_aaabbbbccccddddeeeeeeeeeeee", false},
		{"", false},
		{"{}", false},
		{"uurn:uid:aaaaaaaabbbbccccddddeeeeeeeeeeee", true},
		{"-{aaaaaaaabbbbccccddddeeeeeeeeeeee}-", false},
		{"aaaaaaaabbbbccccddddeeeeeeeeeee\u0663", false},
		{5, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := isUUIDLike(tt.in); got != tt.want {
			t.Errorf("isUUIDLike(%#v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestPatternSearch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"^[A-Z0-9_]+$", "VCPU", true},
		{"^[A-Z0-9_]+$", "VCPU\n", true},
		{"^[A-Z0-9_]+$", "VCPU\n\n", false},
		{"^[A-Z0-9_]+$", "vcpu", false},
		{"^[A-Z0-9_]+$", "", false},
		{"^[A-Z0-9_]+$", "A B", false},
		{"^[A-Z0-9_]+$|^all|^unknown$", "allx", true},
		{"^[A-Z0-9_]+$|^all|^unknown$", "unknownx", false},
		{"^[A-Z0-9_]+$|^all|^unknown$", "unknown\n", true},
		{"^[A-Z0-9_]+$|^all|^unknown$", "x", false},
		{"[1-9][0-9]*", "a10", true},
		{"[1-9][0-9]*", "0", false},
		{"^resources([1-9][0-9]*)?$", "resources", true},
		{"^resources([1-9][0-9]*)?$", "resources1", true},
		{"^resources([1-9][0-9]*)?$", "resources01", false},
		{"^resources([1-9][0-9]*)?$", "resources1\n", true},
		{"^resources([1-9][0-9]*)?$", "resources_a", false},
		{"^member_of([a-zA-Z0-9_-]{1,64})?$", "member_of", true},
		{"^member_of([a-zA-Z0-9_-]{1,64})?$", "member_of_x", true},
		{"^member_of([a-zA-Z0-9_-]{1,64})?$", "member_of" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},
		{"^member_of([a-zA-Z0-9_-]{1,64})?$", "member_of" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{`\d+`, "\u0663", true},
		{`\d+`, "a", false},
		{`^\w+$`, "\u00e9t\u00e9", true},
		{`^\w+$`, "a b", false},
		{`\s`, "\u00a0", true},
		{`\s`, "\x1c", true},
		{`\s`, "a", false},
		{`a\Z`, "a", true},
		{`a\Z`, "a\n", false},
		{"[$]", "$", true},
		{"[$]", "a", false},
		{"[]a]", "]", true},
		{"[]a]", "b", false},
		{"[^]a]", "]", false},
		{"[^]a]", "b", true},
		{"x{,2}y", "xxy", true},
		{"x{,2}y", "y", true},
		{`[\-a]`, "-", true},
		{`[\-a]`, "b", false},
		{`^\.$`, ".", true},
		{`^\.$`, "a", false},
		{"a{", "a{", true},
		{"a{", "a", false},
	}
	for _, tt := range tests {
		re, err := compilePattern(tt.pattern)
		if err != nil {
			t.Errorf("compilePattern(%q): %v", tt.pattern, err)
			continue
		}
		if got := re.MatchString(tt.s); got != tt.want {
			t.Errorf("re.search(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestPatternRefused(t *testing.T) {
	t.Parallel()
	for _, p := range []string{`(?=a)`, `(?!a)`, `(?<=a)b`, `(?i)a`, `(a)\1`, `\bword`, `[\W]`, `[a`, `a\`, `(?P=x)`, `\x41`} {
		if _, err := compilePattern(p); err == nil {
			t.Errorf("compilePattern(%q) succeeded, want an error", p)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		schema *Schema
	}{
		{"nil", nil},
		{"nil property", &Schema{Properties: []Property{Prop("a", nil)}}},
		{"unknown type", &Schema{Type: "integr"}},
		{"both type forms", &Schema{Type: "string", Types: []string{"null"}}},
		{"empty types", &Schema{Types: []string{}}},
		{"repeated type", &Schema{Types: []string{"null", "null"}}},
		{"unknown format", &Schema{Format: "date-time"}},
		{"bad pattern", &Schema{Pattern: "(?=x)"}},
		{"bad pattern property", &Schema{PatternProperties: []Property{Prop("(", &Schema{})}}},
		{"negative length", &Schema{MinLength: new(-1)}},
		{"NaN bound", &Schema{Maximum: Float(math.NaN())}},
		{"repeated property", &Schema{Properties: []Property{Prop("a", &Schema{}), Prop("a", &Schema{})}}},
		{"repeated required", &Schema{Required: []string{"a", "a"}}},
		{"empty anyOf", &Schema{AnyOf: []*Schema{}}},
		{"order names absent key", &Schema{Type: "object", Order: []string{"required"}}},
		{"order repeats", &Schema{Type: "object", Order: []string{"type", "type"}}},
		{"extra is a keyword", &Schema{Extra: map[string]any{"minimum": 1}}},
		{"extra is unsupported", &Schema{Extra: map[string]any{"allOf": []any{}}}},
		{"deep", &Schema{Items: &Schema{AnyOf: []*Schema{{Type: "bogus"}}}}},
		{"enum not JSON", &Schema{Enum: []any{[]string{"a"}}}},
		{"extra not JSON", &Schema{Extra: map[string]any{"x": struct{}{}}}},
		{"cycle", func() *Schema { s := &Schema{}; s.Items = &Schema{AnyOf: []*Schema{s}}; return s }()},
	}
	for _, tt := range tests {
		if _, err := Compile(tt.schema); err == nil {
			t.Errorf("%s: Compile succeeded, want an error", tt.name)
		}
	}
	shared := &Schema{Type: "string"}
	if _, err := Compile(&Schema{Items: shared, AdditionalProperties: shared}); err != nil {
		t.Errorf("Compile with a shared subschema: %v", err)
	}
	if err := Validate(&Schema{Type: "bogus"}, nil); err == nil {
		t.Error("Validate with a bad schema succeeded")
	} else if _, ok := errors.AsType[*ValidationError](err); ok {
		t.Errorf("Validate with a bad schema = %v, want a compile error", err)
	}
}

func TestOpNames(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]op{
		"type": opType, "enum": opEnum, "format": opFormat, "pattern": opPattern,
		"minLength": opMinLength, "maxLength": opMaxLength, "minimum": opMinimum,
		"maximum": opMaximum, "exclusiveMinimum": opExclusiveMinimum,
		"exclusiveMaximum": opExclusiveMaximum, "minItems": opMinItems,
		"maxItems": opMaxItems, "items": opItems, "uniqueItems": opUniqueItems,
		"minProperties": opMinProperties, "maxProperties": opMaxProperties,
		"properties": opProperties, "patternProperties": opPatternProperties,
		"required": opRequired, "additionalProperties": opAdditionalProperties,
		"anyOf": opAnyOf, "oneOf": opOneOf,
	} {
		if opNames[o] != name || opByName[name] != o {
			t.Errorf("op %d is named %q, want %q", o, opNames[o], name)
		}
	}
	if len(opNames) != int(opOneOf)+1 {
		t.Errorf("%d names for %d ops", len(opNames), opOneOf+1)
	}
}

var (
	hugePos = "1" + strings.Repeat("0", 500)
	hugeNeg = "-" + hugePos
)

func TestNumberCompare(t *testing.T) {
	t.Parallel()
	big := func(s string) num {
		n, ok := parseNumber(jsonNumber(s))
		if !ok {
			t.Fatalf("parseNumber(%s) failed", s)
		}
		return n
	}
	tests := []struct {
		a, b string
		want int
	}{
		{"9007199254740993", "9007199254740992.0", 1}, // exact, as Python compares
		{"9007199254740992", "9007199254740992.0", 0},
		{"99999999999999999999999", "2147483647", 1},
		{"-99999999999999999999999", "1e22", -1},
		{"1e400", "99999999999999999999999", 1},
		{"2147483648", "2147483647", 1},
		{"1.0", "1", 0},
		{"-0.0", "0", 0},
		{hugePos, "1.7976931348623157e308", 1},
		{hugePos, "1e400", -1},
		{hugeNeg, "-1e400", 1},
		{hugeNeg, "-99999999999999999999999", -1},
		{hugePos, hugePos + "0", -1},
		{hugeNeg, hugeNeg + "0", 1},
		{hugePos, hugeNeg, 1},
		{hugePos, hugePos, 0},
	}
	for _, tt := range tests {
		c, ok := big(tt.a).cmp(big(tt.b))
		if !ok || c != tt.want {
			t.Errorf("cmp(%s, %s) = %d, %v; want %d", tt.a, tt.b, c, ok, tt.want)
		}
	}
}

func jsonNumber(s string) json.Number { return json.Number(s) }

// TestSimplePattern checks the fast matcher against the regexp translation
// on strings built from the characters that matter.
func TestSimplePattern(t *testing.T) {
	t.Parallel()
	patterns := []string{
		"^[A-Z0-9_]+$", "^[0-9a-fA-F-]{36}$", "^CUSTOM_[A-Z0-9_]+$",
		"^[a-c]*$", "^x[a-]{2,3}$", "^[-a]{0}$",
	}
	alphabet := []string{"A", "Z", "0", "_", "a", "f", "g", "-", "\n", "é", "x", "CUSTOM_", "c"}
	for _, p := range patterns {
		sp, ok := parseSimplePattern(p)
		if !ok {
			t.Errorf("parseSimplePattern(%q) refused", p)
			continue
		}
		re, err := compileRE2(p)
		if err != nil {
			t.Fatal(err)
		}
		var walk func(s string, depth int)
		walk = func(s string, depth int) {
			if got, want := sp.MatchString(s), re.MatchString(s); got != want {
				t.Errorf("%q on %q: fast %v, regexp %v", p, s, got, want)
			}
			if depth == 0 {
				return
			}
			for _, a := range alphabet {
				walk(s+a, depth-1)
			}
		}
		walk("", 4)
		uuid := "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
		for _, s := range []string{uuid, uuid + "\n", uuid + "a", uuid[1:], uuid + "\n\n"} {
			if got, want := sp.MatchString(s), re.MatchString(s); got != want {
				t.Errorf("%q on %q: fast %v, regexp %v", p, s, got, want)
			}
		}
	}
	for _, p := range []string{"^[1-9][0-9]*$", "[A-Z]+", "^[^a]+$", "^[]a]+$", "^a.[b]+$", "^[a]{3,}$", "^[\\w]+$"} {
		if _, ok := parseSimplePattern(p); ok {
			t.Errorf("parseSimplePattern(%q) accepted", p)
		}
	}
}

func TestUnique(t *testing.T) {
	t.Parallel()
	items := func(s string) []any {
		return decodeInstance(t, []byte(s)).([]any)
	}
	tests := []struct {
		items string
		want  bool
	}{
		{`[]`, true},
		{`["a", "b"]`, true},
		{`["a", "b", "a"]`, false},
		{`[1, 1.0]`, false},
		{`[0, -0.0]`, false},
		{`[1, true]`, true},
		{`[0, false]`, true},
		{`[true, true]`, false},
		{`[null, null]`, false},
		{`[[1], [true]]`, true},
		{`[[1], [1.0]]`, false},
		{`[{"a": 1, "b": [2]}, {"b": [2.0], "a": 1}]`, false},
		{`[{"a": 1}, {"a": 1, "b": 2}]`, true},
		{`["1", 1]`, true},
		{`[9007199254740993, 9007199254740992.0]`, true},
		{`[9007199254740992, 9007199254740992.0]`, false},
		{`[1e400, 1e401]`, false},
	}
	for _, tt := range tests {
		in := items(tt.items)
		if got := unique(in); got != tt.want {
			t.Errorf("unique(%s) = %v, want %v", tt.items, got, tt.want)
		}
		// The same items among many others take the hashing path.
		var padded []any
		for i := range 20 {
			padded = append(padded, "pad"+strconv.Itoa(i))
		}
		if got := unique(append(padded, in...)); got != tt.want {
			t.Errorf("unique(20 strings + %s) = %v, want %v", tt.items, got, tt.want)
		}
	}
}

func TestHugeInt(t *testing.T) {
	t.Parallel()
	v := MustCompile(&Schema{Type: "integer", Maximum: Int(maxInt)})
	inst := decodeInstance(t, []byte(hugePos))
	err := v.Validate(inst)
	ve, ok := errors.AsType[*ValidationError](err)
	if !ok || ve.Message != hugePos+" is greater than the maximum of 2147483647" {
		t.Errorf("Validate(10**500) = %v", err)
	}
	if !unique([]any{json.Number(hugePos), json.Number(hugeNeg)}) || unique([]any{json.Number(hugePos), json.Number(hugePos)}) {
		t.Error("unique on huge ints")
	}
}
