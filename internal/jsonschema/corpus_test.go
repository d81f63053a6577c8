package jsonschema

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var corpusFile = flag.String("corpus", "testdata/corpus.json", "cases made by testdata/gen_corpus.py")

// TestCorpus replays testdata/corpus.json: random schemas and instances, with
// the str(error) (or null) that python3-jsonschema 4.10.3 produced for each,
// called as Placement calls it. See testdata/gen_corpus.py.
func TestCorpus(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(*corpusFile)
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Schema   json.RawMessage
		Instance json.RawMessage
		Error    *string
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	failures := 0
	for i, c := range cases {
		s, err := schemaFromJSON(c.Schema)
		if err != nil {
			t.Fatalf("case %d: schema: %v", i, err)
		}
		inst := decodeInstance(t, c.Instance)
		got := ""
		if err := Validate(s, inst); err != nil {
			got = err.Error()
		}
		want := ""
		if c.Error != nil {
			want = *c.Error
		}
		if got != want {
			failures++
			if failures <= 10 {
				t.Errorf("case %d: schema %s\ninstance %s\n got: %s\nwant: %s", i, c.Schema, c.Instance, got, want)
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d cases differ", failures, len(cases))
	}
}

func decodeInstance(t testing.TB, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// orderedObject is a JSON object with its key order kept.
type orderedObject struct {
	keys []string
	vals []any
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &orderedObject{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			o.keys = append(o.keys, k.(string))
			o.vals = append(o.vals, v)
		}
		_, err := dec.Token()
		return o, err
	case json.Delim('['):
		a := []any{}
		for dec.More() {
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := dec.Token()
		return a, err
	}
	return tok, nil
}

// plain turns ordered objects back into maps.
func plain(v any) any {
	switch v := v.(type) {
	case *orderedObject:
		m := make(map[string]any, len(v.keys))
		for i, k := range v.keys {
			m[k] = plain(v.vals[i])
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// schemaFromJSON builds a Schema from its JSON text, keeping the key order
// in Order. Tests only: ingot writes its schemas in Go.
func schemaFromJSON(raw []byte) (*Schema, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return nil, err
	}
	return toSchema(v)
}

func toSchema(v any) (*Schema, error) {
	switch v := v.(type) {
	case bool:
		return Bool(v), nil
	case *orderedObject:
		s := &Schema{Order: v.keys}
		for i, k := range v.keys {
			if err := setKeyword(s, k, v.vals[i]); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		return s, nil
	}
	return nil, fmt.Errorf("not a schema: %v", v)
}

func toNumber(v any) *Number {
	n := v.(json.Number)
	if strings.ContainsAny(string(n), ".eE") {
		f, _ := n.Float64()
		return Float(f)
	}
	i, _ := n.Int64()
	return Int(i)
}

func toInt(v any) *int {
	i, _ := v.(json.Number).Int64()
	n := int(i)
	return &n
}

func toProps(v any) ([]Property, error) {
	o := v.(*orderedObject)
	props := []Property{}
	for i, k := range o.keys {
		s, err := toSchema(o.vals[i])
		if err != nil {
			return nil, err
		}
		props = append(props, Prop(k, s))
	}
	return props, nil
}

func toSchemas(v any) ([]*Schema, error) {
	var out []*Schema
	for _, e := range v.([]any) {
		s, err := toSchema(e)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func setKeyword(s *Schema, k string, v any) (err error) {
	switch k {
	case "type":
		if t, ok := v.(string); ok {
			s.Type = t
		} else {
			s.Types = []string{}
			for _, e := range v.([]any) {
				s.Types = append(s.Types, e.(string))
			}
		}
	case "enum":
		s.Enum = plain(v).([]any)
	case "format":
		s.Format = v.(string)
	case "pattern":
		s.Pattern = v.(string)
	case "minLength":
		s.MinLength = toInt(v)
	case "maxLength":
		s.MaxLength = toInt(v)
	case "minimum":
		s.Minimum = toNumber(v)
	case "maximum":
		s.Maximum = toNumber(v)
	case "exclusiveMinimum":
		s.ExclusiveMinimum = toNumber(v)
	case "exclusiveMaximum":
		s.ExclusiveMaximum = toNumber(v)
	case "minItems":
		s.MinItems = toInt(v)
	case "maxItems":
		s.MaxItems = toInt(v)
	case "items":
		s.Items, err = toSchema(v)
	case "uniqueItems":
		s.UniqueItems = v.(bool)
	case "minProperties":
		s.MinProperties = toInt(v)
	case "maxProperties":
		s.MaxProperties = toInt(v)
	case "properties":
		s.Properties, err = toProps(v)
	case "patternProperties":
		s.PatternProperties, err = toProps(v)
	case "required":
		s.Required = []string{}
		for _, e := range v.([]any) {
			s.Required = append(s.Required, e.(string))
		}
	case "additionalProperties":
		s.AdditionalProperties, err = toSchema(v)
	case "anyOf":
		s.AnyOf, err = toSchemas(v)
	case "oneOf":
		s.OneOf, err = toSchemas(v)
	default:
		if s.Extra == nil {
			s.Extra = map[string]any{}
		}
		s.Extra[k] = plain(v)
	}
	return err
}
