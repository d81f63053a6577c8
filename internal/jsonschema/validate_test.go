package jsonschema

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
)

// A request body as Placement receives it for PUT /allocations/{consumer} at
// microversion 1.38.
const allocationBody = `{
	"allocations": {
		"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee": {"resources": {"VCPU": 2, "MEMORY_MB": 1024}, "generation": 3},
		"11111111-2222-3333-4444-555555555555": {"resources": {"DISK_GB": 100}}
	},
	"mappings": {"_COMPUTE": ["aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"]},
	"project_id": "proj",
	"user_id": "user",
	"consumer_generation": null,
	"consumer_type": "INSTANCE"
}`

func TestValidationErrorFields(t *testing.T) {
	t.Parallel()
	inst := decodeInstance(t, []byte(`{"inventories": {"DISK_GB": {"total": 0}}, "resource_provider_generation": 1}`))
	err := Validate(placementSchemas["PUT_INVENTORY_SCHEMA"], inst)
	ve, ok := errors.AsType[*ValidationError](err)
	if !ok {
		t.Fatalf("Validate = %v, want a *ValidationError", err)
	}
	if ve.Message != "0 is less than the minimum of 1" || ve.Keyword != "minimum" {
		t.Errorf("Message, Keyword = %q, %q", ve.Message, ve.Keyword)
	}
	if got, want := formatAsIndex("", ve.Path), "['inventories']['DISK_GB']['total']"; got != want {
		t.Errorf("Path = %s, want %s", got, want)
	}
	if got, want := formatAsIndex("", ve.SchemaPath), "['properties']['inventories']['patternProperties']['^[A-Z0-9_]+$']['properties']['total']['minimum']"; got != want {
		t.Errorf("SchemaPath = %s, want %s", got, want)
	}
	if n, ok := ve.Instance.(json.Number); !ok || n != "0" {
		t.Errorf("Instance = %#v", ve.Instance)
	}
	if !strings.HasPrefix(err.Error(), "0 is less than the minimum of 1\n\nFailed validating 'minimum' in schema['properties']['inventories']") {
		t.Errorf("Error() = %s", err)
	}
}

func TestAnyOfContext(t *testing.T) {
	t.Parallel()
	v := MustCompile(&Schema{AnyOf: []*Schema{{Type: "string", Format: "uuid"}, {Type: "null"}}})
	err := v.Validate(5)
	ve, _ := errors.AsType[*ValidationError](err)
	if ve == nil || ve.Keyword != "anyOf" || len(ve.Context) != 3 {
		t.Fatalf("Validate(5) = %#v, want the anyOf error with 3 in context", err)
	}
	for i, want := range []string{"5 is not of type 'string'", "5 is not a 'uuid'", "5 is not of type 'null'"} {
		if ve.Context[i].Message != want {
			t.Errorf("Context[%d] = %q, want %q", i, ve.Context[i].Message, want)
		}
	}
}

func TestGoNumbers(t *testing.T) {
	t.Parallel()
	s := MustCompile(&Schema{Type: "integer", Minimum: Int(1)})
	for _, inst := range []any{1, int64(7), 2.0, json.Number("3")} {
		if err := s.Validate(inst); err != nil {
			t.Errorf("Validate(%#v) = %v", inst, err)
		}
	}
	err := s.Validate(0.5)
	if ve, _ := errors.AsType[*ValidationError](err); ve == nil || ve.Message != "0.5 is not of type 'integer'" {
		t.Errorf("Validate(0.5) = %v", err)
	}
}

func TestConcurrentValidate(t *testing.T) {
	t.Parallel()
	s := allocationSchemaV138()
	good := decodeInstance(t, []byte(allocationBody))
	bad := decodeInstance(t, []byte(`{"allocations": {}, "consumer_type": "instance"}`))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if err := Validate(s, good); err != nil {
					t.Errorf("Validate(good) = %v", err)
					return
				}
				if err := Validate(s, bad); err == nil {
					t.Error("Validate(bad) = nil")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestValidDoesNotAllocate(t *testing.T) {
	v := MustCompile(allocationSchemaV138())
	inst := decodeInstance(t, []byte(allocationBody))
	allocs := testing.AllocsPerRun(100, func() {
		if err := v.Validate(inst); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Validate allocates %v times per valid body, want 0", allocs)
	}
}

func BenchmarkValidate(b *testing.B) {
	v := MustCompile(allocationSchemaV138())
	good := decodeInstance(b, []byte(allocationBody))
	bad := decodeInstance(b, []byte(strings.Replace(allocationBody, `"INSTANCE"`, `"instance"`, 1)))
	b.Run("valid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := v.Validate(good); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("invalid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := v.Validate(bad); err == nil {
				b.Fatal("valid")
			}
		}
	})
	b.Run("invalid+Error", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = v.Validate(bad).Error()
		}
	})
}
