package jsonschema

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// Placement's request schemas (placement/schemas/*.py in python3-placement
// 8.0.0), transcribed with this package. TestPlacementSchemas checks each one
// against the Python dict, key for key and in order, so they double as a
// worked reference for whoever writes the handlers.

const (
	uuidPattern            = "^[0-9a-fA-F-]{36}$"
	rcPattern              = "^[A-Z0-9_]+$"
	customRCPattern        = "^CUSTOM_[A-Z0-9_]+$"
	consumerTypeGetPattern = rcPattern + "|^all|^unknown$"
	groupPat               = "[1-9][0-9]*"
	groupPat133            = "[a-zA-Z0-9_-]{1,64}"
	maxInt                 = 2147483647
	sqlSPFloatMax          = 3.40282e+38
)

func typed(t string) *Schema { return &Schema{Type: t} }

func uuidString() *Schema { return &Schema{Type: "string", Format: "uuid"} }

func boundedString() *Schema {
	return &Schema{Type: "string", MinLength: new(1), MaxLength: new(255)}
}

func postResourceProvider() *Schema {
	return &Schema{
		Type: "object",
		Properties: []Property{
			Prop("name", &Schema{Type: "string", MaxLength: new(200)}),
			Prop("uuid", uuidString()),
		},
		Required:             []string{"name"},
		AdditionalProperties: Bool(false),
	}
}

func withProp(s *Schema, name string, sub *Schema) *Schema {
	s.Properties = append(s.Properties, Prop(name, sub))
	return s
}

func withoutProp(s *Schema, name string) *Schema {
	var props []Property
	for _, p := range s.Properties {
		if p.Name != name {
			props = append(props, p)
		}
	}
	s.Properties = props
	return s
}

func prop(s *Schema, name string) *Schema {
	for _, p := range s.Properties {
		if p.Name == name {
			return p.Schema
		}
	}
	panic("no property " + name)
}

func parentProviderUUID() *Schema {
	return &Schema{AnyOf: []*Schema{uuidString(), typed("null")}}
}

func getRPs(version int) *Schema {
	s := &Schema{
		Type: "object",
		Properties: []Property{
			Prop("name", typed("string")),
			Prop("uuid", uuidString()),
		},
		AdditionalProperties: Bool(false),
	}
	if version >= 3 {
		withProp(s, "member_of", typed("string"))
	}
	if version >= 4 {
		withProp(s, "resources", typed("string"))
	}
	if version >= 14 {
		withProp(s, "in_tree", uuidString())
	}
	if version >= 18 {
		withProp(s, "required", typed("string"))
	}
	return s
}

func rcAmounts() *Schema {
	return &Schema{
		Type:          "object",
		MinProperties: new(1),
		PatternProperties: []Property{
			Prop(rcPattern, &Schema{Type: "integer", Minimum: Int(1)}),
		},
		AdditionalProperties: Bool(false),
	}
}

func allocationSchema() *Schema {
	return &Schema{
		Type: "object",
		Properties: []Property{
			Prop("allocations", &Schema{
				Type:     "array",
				MinItems: new(1),
				Items: &Schema{
					Type: "object",
					Properties: []Property{
						Prop("resource_provider", &Schema{
							Type:                 "object",
							Properties:           []Property{Prop("uuid", uuidString())},
							AdditionalProperties: Bool(false),
							Required:             []string{"uuid"},
							Order:                []string{"type", "properties", "additionalProperties", "required"},
						}),
						Prop("resources", rcAmounts()),
					},
					Required:             []string{"resource_provider", "resources"},
					AdditionalProperties: Bool(false),
				},
			}),
		},
		Required:             []string{"allocations"},
		AdditionalProperties: Bool(false),
	}
}

func allocationSchemaV18() *Schema {
	s := allocationSchema()
	withProp(s, "project_id", boundedString())
	withProp(s, "user_id", boundedString())
	s.Required = append(s.Required, "project_id", "user_id")
	return s
}

func allocationSchemaV112() *Schema {
	return &Schema{
		Type: "object",
		Properties: []Property{
			Prop("allocations", &Schema{
				Type:          "object",
				MinProperties: new(1),
				PatternProperties: []Property{
					Prop(uuidPattern, &Schema{
						Type: "object",
						Properties: []Property{
							Prop("generation", typed("integer")),
							Prop("resources", rcAmounts()),
						},
						Required:             []string{"resources"},
						AdditionalProperties: Bool(false),
					}),
				},
				AdditionalProperties: Bool(false),
			}),
			Prop("project_id", boundedString()),
			Prop("user_id", boundedString()),
		},
		AdditionalProperties: Bool(false),
		Required:             []string{"allocations", "project_id", "user_id"},
		Order:                []string{"type", "properties", "additionalProperties", "required"},
	}
}

func deletableAllocations() *Schema {
	s := allocationSchemaV112()
	prop(s, "allocations").MinProperties = new(0)
	return s
}

func postAllocations(consumer *Schema) *Schema {
	return &Schema{
		Type:                 "object",
		MinProperties:        new(1),
		AdditionalProperties: Bool(false),
		PatternProperties:    []Property{Prop(uuidPattern, consumer)},
		Order:                []string{"type", "minProperties", "additionalProperties", "patternProperties"},
	}
}

func allocationSchemaV128() *Schema {
	s := deletableAllocations()
	withProp(s, "consumer_generation", &Schema{
		Types:                []string{"integer", "null"},
		AdditionalProperties: Bool(false),
	})
	s.Required = append(s.Required, "consumer_generation")
	return s
}

func allocationSchemaV134() *Schema {
	return withProp(allocationSchemaV128(), "mappings", &Schema{
		Type:          "object",
		MinProperties: new(1),
		PatternProperties: []Property{
			Prop(groupPat133, &Schema{Type: "array", MinItems: new(1), Items: uuidString()}),
		},
	})
}

func allocationSchemaV138() *Schema {
	s := withProp(allocationSchemaV134(), "consumer_type", &Schema{
		Type:      "string",
		Pattern:   rcPattern,
		MinLength: new(1),
		MaxLength: new(255),
	})
	s.Required = append(s.Required, "consumer_type")
	return s
}

func inventoryAmount(minimum int64) *Schema {
	return &Schema{
		Type:    "integer",
		Maximum: Int(maxInt),
		Minimum: Int(minimum),
		Order:   []string{"type", "maximum", "minimum"},
	}
}

func baseInventory() *Schema {
	return &Schema{
		Type: "object",
		Properties: []Property{
			Prop("resource_provider_generation", typed("integer")),
			Prop("total", inventoryAmount(1)),
			Prop("reserved", inventoryAmount(0)),
			Prop("min_unit", inventoryAmount(1)),
			Prop("max_unit", inventoryAmount(1)),
			Prop("step_size", inventoryAmount(1)),
			Prop("allocation_ratio", &Schema{Type: "number", Maximum: Float(sqlSPFloatMax)}),
		},
		Required:             []string{"total", "resource_provider_generation"},
		AdditionalProperties: Bool(false),
	}
}

func postInventory() *Schema {
	s := withProp(baseInventory(), "resource_class", &Schema{Type: "string", Pattern: rcPattern})
	s.Required = []string{"total", "resource_class"}
	return s
}

func putInventoryRecord() *Schema {
	s := baseInventory()
	s.Required = []string{"total"}
	return s
}

func putInventory() *Schema {
	return &Schema{
		Type: "object",
		Properties: []Property{
			Prop("resource_provider_generation", typed("integer")),
			Prop("inventories", &Schema{
				Type:              "object",
				PatternProperties: []Property{Prop(rcPattern, putInventoryRecord())},
			}),
		},
		Required:             []string{"resource_provider_generation", "inventories"},
		AdditionalProperties: Bool(false),
	}
}

func aggregatesList() *Schema {
	return &Schema{Type: "array", Items: uuidString(), UniqueItems: true}
}

func putAggregatesV119() *Schema {
	return &Schema{
		Type: "object",
		Properties: []Property{
			Prop("aggregates", aggregatesList()),
			Prop("resource_provider_generation", typed("integer")),
		},
		Required:             []string{"aggregates", "resource_provider_generation"},
		AdditionalProperties: Bool(false),
	}
}

func traitSchema() *Schema { return boundedString() }

func customTrait() *Schema {
	s := traitSchema()
	s.Pattern = customRCPattern
	s.Order = []string{"type", "minLength", "maxLength", "pattern"}
	return s
}

func putTraits(items *Schema) *Schema {
	return &Schema{
		Type: "object",
		Properties: []Property{
			Prop("traits", &Schema{Type: "array", Items: items}),
		},
		Required:             []string{"traits"},
		AdditionalProperties: Bool(false),
	}
}

func setTraitsForRP() *Schema {
	s := withProp(putTraits(traitSchema()), "resource_provider_generation", typed("integer"))
	s.Required = append(s.Required, "resource_provider_generation")
	return s
}

func listTraits() *Schema {
	return &Schema{
		Type: "object",
		Properties: []Property{
			Prop("name", typed("string")),
			Prop("associated", typed("string")),
		},
		AdditionalProperties: Bool(false),
	}
}

func postResourceClass() *Schema {
	return &Schema{
		Type: "object",
		Properties: []Property{
			Prop("name", &Schema{Type: "string", Pattern: customRCPattern, MaxLength: new(255)}),
		},
		Required:             []string{"name"},
		AdditionalProperties: Bool(false),
	}
}

func getUsages(consumerType bool) *Schema {
	s := &Schema{
		Type: "object",
		Properties: []Property{
			Prop("project_id", boundedString()),
			Prop("user_id", boundedString()),
		},
		Required:             []string{"project_id"},
		AdditionalProperties: Bool(false),
	}
	if consumerType {
		withProp(s, "consumer_type", &Schema{
			Type:      "string",
			Pattern:   consumerTypeGetPattern,
			MinLength: new(1),
			MaxLength: new(255),
		})
	}
	return s
}

func getAllocationCandidates(version int) *Schema {
	limit := &Schema{
		Types:     []string{"integer", "string"},
		Pattern:   "^[1-9][0-9]*$",
		Minimum:   Int(1),
		MinLength: new(1),
		Order:     []string{"type", "pattern", "minimum", "minLength"},
	}
	s := &Schema{
		Type:                 "object",
		Properties:           []Property{Prop("resources", typed("string"))},
		Required:             []string{"resources"},
		AdditionalProperties: Bool(false),
	}
	if version >= 16 {
		withProp(s, "limit", limit)
	}
	if version >= 17 {
		withProp(s, "required", &Schema{Types: []string{"string"}})
	}
	if version >= 21 {
		withProp(s, "member_of", &Schema{Types: []string{"string"}})
	}
	if version < 25 {
		return s
	}
	groups := func(pat string, kinds ...string) []Property {
		var props []Property
		for _, k := range kinds {
			props = append(props, Prop("^"+k+"("+pat+")?$", typed("string")))
		}
		return props
	}
	s = &Schema{
		Type: "object",
		Properties: []Property{
			Prop("limit", limit),
			Prop("group_policy", &Schema{Type: "string", Enum: []any{"none", "isolate"}}),
		},
		AdditionalProperties: Bool(false),
		PatternProperties:    groups(groupPat, "resources", "required", "member_of"),
		Order:                []string{"type", "properties", "additionalProperties", "patternProperties"},
	}
	if version >= 31 {
		s.PatternProperties = append(s.PatternProperties, groups(groupPat, "in_tree")...)
	}
	if version >= 33 {
		s.PatternProperties = groups(groupPat133, "resources", "required", "member_of", "in_tree")
	}
	if version >= 35 {
		withProp(s, "root_required", &Schema{Types: []string{"string"}})
	}
	if version >= 36 {
		withProp(s, "same_subtree", &Schema{Types: []string{"string"}})
	}
	return s
}

func postReshaper(allocations *Schema) *Schema {
	allocations.MinProperties = new(0)
	return &Schema{
		Type: "object",
		Properties: []Property{
			Prop("inventories", &Schema{
				Type:                 "object",
				PatternProperties:    []Property{Prop(uuidPattern, putInventory())},
				MinProperties:        new(1),
				AdditionalProperties: Bool(false),
				Order:                []string{"type", "patternProperties", "minProperties", "additionalProperties"},
			}),
			Prop("allocations", allocations),
		},
		Required:             []string{"inventories", "allocations"},
		AdditionalProperties: Bool(false),
	}
}

var placementSchemas = map[string]*Schema{
	"POST_RESOURCE_PROVIDER_SCHEMA": postResourceProvider(),
	"PUT_RESOURCE_PROVIDER_SCHEMA":  withoutProp(postResourceProvider(), "uuid"),
	"POST_RP_SCHEMA_V1_14":          withProp(postResourceProvider(), "parent_provider_uuid", parentProviderUUID()),
	"PUT_RP_SCHEMA_V1_14": withoutProp(
		withProp(postResourceProvider(), "parent_provider_uuid", parentProviderUUID()), "uuid"),
	"GET_RPS_SCHEMA_1_0":          getRPs(0),
	"GET_RPS_SCHEMA_1_3":          getRPs(3),
	"GET_RPS_SCHEMA_1_4":          getRPs(4),
	"GET_RPS_SCHEMA_1_14":         getRPs(14),
	"GET_RPS_SCHEMA_1_18":         getRPs(18),
	"ALLOCATION_SCHEMA":           allocationSchema(),
	"ALLOCATION_SCHEMA_V1_8":      allocationSchemaV18(),
	"ALLOCATION_SCHEMA_V1_12":     allocationSchemaV112(),
	"POST_ALLOCATIONS_V1_13":      postAllocations(deletableAllocations()),
	"ALLOCATION_SCHEMA_V1_28":     allocationSchemaV128(),
	"POST_ALLOCATIONS_V1_28":      postAllocations(allocationSchemaV128()),
	"ALLOCATION_SCHEMA_V1_34":     allocationSchemaV134(),
	"POST_ALLOCATIONS_V1_34":      postAllocations(allocationSchemaV134()),
	"ALLOCATION_SCHEMA_V1_38":     allocationSchemaV138(),
	"POST_ALLOCATIONS_V1_38":      postAllocations(allocationSchemaV138()),
	"POST_INVENTORY_SCHEMA":       postInventory(),
	"PUT_INVENTORY_RECORD_SCHEMA": putInventoryRecord(),
	"PUT_INVENTORY_SCHEMA":        putInventory(),
	"PUT_AGGREGATES_SCHEMA_V1_1":  aggregatesList(),
	"PUT_AGGREGATES_SCHEMA_V1_19": putAggregatesV119(),
	"CUSTOM_TRAIT":                customTrait(),
	"PUT_TRAITS_SCHEMA":           putTraits(customTrait()),
	"SET_TRAITS_FOR_RP_SCHEMA":    setTraitsForRP(),
	"LIST_TRAIT_SCHEMA":           listTraits(),
	"POST_RC_SCHEMA_V1_2":         postResourceClass(),
	"GET_USAGES_SCHEMA_1_9":       getUsages(false),
	"GET_USAGES_SCHEMA_V1_38":     getUsages(true),
	"GET_SCHEMA_1_10":             getAllocationCandidates(10),
	"GET_SCHEMA_1_16":             getAllocationCandidates(16),
	"GET_SCHEMA_1_17":             getAllocationCandidates(17),
	"GET_SCHEMA_1_21":             getAllocationCandidates(21),
	"GET_SCHEMA_1_25":             getAllocationCandidates(25),
	"GET_SCHEMA_1_31":             getAllocationCandidates(31),
	"GET_SCHEMA_1_33":             getAllocationCandidates(33),
	"GET_SCHEMA_1_35":             getAllocationCandidates(35),
	"GET_SCHEMA_1_36":             getAllocationCandidates(36),
	"POST_RESHAPER_SCHEMA":        postReshaper(postAllocations(allocationSchemaV128())),
	"POST_RESHAPER_SCHEMA_V1_34":  postReshaper(postAllocations(allocationSchemaV134())),
	"POST_RESHAPER_SCHEMA_V1_38":  postReshaper(postAllocations(allocationSchemaV138())),
}

type placementGolden struct {
	Schemas map[string]json.RawMessage
	Cases   []struct {
		Schema   string
		Instance json.RawMessage
		Error    *string
	}
}

func loadPlacementGolden(t *testing.T) placementGolden {
	t.Helper()
	data, err := os.ReadFile("testdata/placement.json")
	if err != nil {
		t.Fatal(err)
	}
	var g placementGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestPlacementSchemas checks that each Go schema is the Python dict: same
// keys in the same order, same values, ints and floats kept apart.
func TestPlacementSchemas(t *testing.T) {
	t.Parallel()
	g := loadPlacementGolden(t)
	if len(g.Schemas) != len(placementSchemas) {
		t.Errorf("%d Python schemas, %d Go schemas", len(g.Schemas), len(placementSchemas))
	}
	for name, raw := range g.Schemas {
		t.Run(name, func(t *testing.T) {
			s, ok := placementSchemas[name]
			if !ok {
				t.Fatal("no Go schema")
			}
			v, err := Compile(s)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.UseNumber()
			want, err := decodeOrdered(dec)
			if err != nil {
				t.Fatal(err)
			}
			if err := samePy(v.root.py, want, "schema"); err != nil {
				t.Error(err)
			}
		})
	}
}

// samePy compares a schema's Python value with decoded JSON, in order.
func samePy(got, want any, at string) error {
	switch w := want.(type) {
	case *orderedObject:
		g, ok := got.(*odict)
		if !ok {
			return fmt.Errorf("%s: got %s, want a dict", at, repr(got))
		}
		if strings.Join(g.keys, ",") != strings.Join(w.keys, ",") {
			return fmt.Errorf("%s: keys %q, want %q", at, g.keys, w.keys)
		}
		for i, k := range w.keys {
			if err := samePy(g.vals[i], w.vals[i], at+"["+strRepr(k)+"]"); err != nil {
				return err
			}
		}
		return nil
	case []any:
		var g []any
		switch v := got.(type) {
		case []any:
			g = v
		case []string:
			for _, s := range v {
				g = append(g, s)
			}
		default:
			return fmt.Errorf("%s: got %s, want a list", at, repr(got))
		}
		if len(g) != len(w) {
			return fmt.Errorf("%s: %d items, want %d", at, len(g), len(w))
		}
		for i := range w {
			if err := samePy(g[i], w[i], fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		return nil
	}
	if g, w := repr(got), repr(want); g != w {
		return fmt.Errorf("%s: got %s, want %s", at, g, w)
	}
	return nil
}

// TestPlacementCases validates gabbit-like requests against the Go schemas
// and compares with what Python said (testdata/gen_placement.py).
func TestPlacementCases(t *testing.T) {
	t.Parallel()
	g := loadPlacementGolden(t)
	for i, c := range g.Cases {
		t.Run(fmt.Sprintf("%d_%s", i, c.Schema), func(t *testing.T) {
			inst := decodeInstance(t, c.Instance)
			got := ""
			if err := Validate(placementSchemas[c.Schema], inst); err != nil {
				got = err.Error()
			}
			want := ""
			if c.Error != nil {
				want = *c.Error
			}
			if got != want {
				t.Errorf("instance %s\n got: %s\nwant: %s", c.Instance, got, want)
			}
		})
	}
}
