package placementapi

import (
	js "ingot/internal/jsonschema"
)

// The JSON schemas Placement validates request bodies and query strings with, written out
// from upstream's placement/schemas so that errors carry the same wording. Each function
// returns a fresh schema, as upstream derives variants with copy.deepcopy.

const (
	uuidPattern           = "^[0-9a-fA-F-]{36}$"
	rcPattern             = "^[A-Z0-9_]+$"
	customPattern         = "^CUSTOM_[A-Z0-9_]+$"
	consumerTypePattern   = rcPattern
	consumerTypeGetPat    = rcPattern + "|^all|^unknown$"
	groupPattern133       = "[a-zA-Z0-9_-]{1,64}"
	maxInt                = 2147483647
	sqlSinglePrecisionMax = 3.40282e+38
)

func n(i int) *int { return &i }

func str() *js.Schema     { return &js.Schema{Type: "string"} }
func uuidStr() *js.Schema { return &js.Schema{Type: "string", Format: "uuid"} }
func integer() *js.Schema { return &js.Schema{Type: "integer"} }
func object(props ...js.Property) *js.Schema {
	return &js.Schema{Type: "object", Properties: props}
}

// Resource providers.

func postProviderSchema(nested bool) *js.Schema {
	s := object(
		js.Prop("name", &js.Schema{Type: "string", MaxLength: n(200)}),
		js.Prop("uuid", uuidStr()),
	)
	if nested {
		s.Properties = append(s.Properties, js.Prop("parent_provider_uuid", &js.Schema{AnyOf: []*js.Schema{
			uuidStr(), {Type: "null"},
		}}))
	}
	s.Required = []string{"name"}
	s.AdditionalProperties = js.Bool(false)
	return s
}

func putProviderSchema(nested bool) *js.Schema {
	s := postProviderSchema(nested)
	props := s.Properties[:0]
	for _, p := range s.Properties {
		if p.Name != "uuid" {
			props = append(props, p)
		}
	}
	s.Properties = props
	return s
}

var (
	schemaPostProvider     = js.MustCompile(postProviderSchema(false))
	schemaPostProvider114  = js.MustCompile(postProviderSchema(true))
	schemaPutProvider      = js.MustCompile(putProviderSchema(false))
	schemaPutProvider114   = js.MustCompile(putProviderSchema(true))
	schemaListProviders10  = js.MustCompile(listProvidersSchema(0))
	schemaListProviders13  = js.MustCompile(listProvidersSchema(3))
	schemaListProviders14  = js.MustCompile(listProvidersSchema(4))
	schemaListProviders114 = js.MustCompile(listProvidersSchema(14))
	schemaListProviders118 = js.MustCompile(listProvidersSchema(18))
)

func listProvidersSchema(minor int) *js.Schema {
	s := object(js.Prop("name", str()), js.Prop("uuid", uuidStr()))
	if minor >= 3 {
		s.Properties = append(s.Properties, js.Prop("member_of", str()))
	}
	if minor >= 4 {
		s.Properties = append(s.Properties, js.Prop("resources", str()))
	}
	if minor >= 14 {
		s.Properties = append(s.Properties, js.Prop("in_tree", uuidStr()))
	}
	if minor >= 18 {
		s.Properties = append(s.Properties, js.Prop("required", str()))
	}
	s.AdditionalProperties = js.Bool(false)
	return s
}

// Inventories.

func inventoryRecordSchema(withGeneration, generationRequired bool) *js.Schema {
	bounded := func(min int64) *js.Schema {
		return &js.Schema{Type: "integer", Maximum: js.Int(maxInt), Minimum: js.Int(min), Order: []string{"type", "maximum", "minimum"}}
	}
	var props []js.Property
	if withGeneration {
		props = append(props, js.Prop("resource_provider_generation", integer()))
	}
	props = append(props,
		js.Prop("total", bounded(1)),
		js.Prop("reserved", bounded(0)),
		js.Prop("min_unit", bounded(1)),
		js.Prop("max_unit", bounded(1)),
		js.Prop("step_size", bounded(1)),
		js.Prop("allocation_ratio", &js.Schema{Type: "number", Maximum: js.Float(sqlSinglePrecisionMax)}),
	)
	s := &js.Schema{Type: "object", Properties: props, Required: []string{"total"}, AdditionalProperties: js.Bool(false)}
	if generationRequired {
		s.Required = append(s.Required, "resource_provider_generation")
	}
	return s
}

func putInventoriesSchema() *js.Schema {
	return &js.Schema{
		Type: "object",
		Properties: []js.Property{
			js.Prop("resource_provider_generation", integer()),
			js.Prop("inventories", &js.Schema{Type: "object", PatternProperties: []js.Property{
				js.Prop(rcPattern, inventoryRecordSchema(true, false)),
			}}),
		},
		Required:             []string{"resource_provider_generation", "inventories"},
		AdditionalProperties: js.Bool(false),
	}
}

func postInventorySchema() *js.Schema {
	s := inventoryRecordSchema(true, false)
	s.Properties = append(s.Properties, js.Prop("resource_class", &js.Schema{Type: "string", Pattern: rcPattern}))
	s.Required = []string{"total", "resource_class"}
	return s
}

var (
	schemaPutInventories = js.MustCompile(putInventoriesSchema())
	schemaPutInventory   = js.MustCompile(inventoryRecordSchema(true, true))
	schemaPostInventory  = js.MustCompile(postInventorySchema())
)

// Resource classes and traits.

var (
	schemaResourceClass = js.MustCompile(&js.Schema{
		Type: "object",
		Properties: []js.Property{js.Prop("name", &js.Schema{Type: "string", Pattern: customPattern, MaxLength: n(255),
			Order: []string{"type", "pattern", "maxLength"}})},
		Required:             []string{"name"},
		AdditionalProperties: js.Bool(false),
	})
	schemaCustomTrait = js.MustCompile(&js.Schema{Type: "string", MinLength: n(1), MaxLength: n(255), Pattern: customPattern,
		Order: []string{"type", "minLength", "maxLength", "pattern"}})
	schemaSetProviderTraits = js.MustCompile(&js.Schema{
		Type: "object",
		Properties: []js.Property{
			js.Prop("traits", &js.Schema{Type: "array", Items: &js.Schema{Type: "string", MinLength: n(1), MaxLength: n(255),
				Order: []string{"type", "minLength", "maxLength"}}}),
			js.Prop("resource_provider_generation", integer()),
		},
		Required:             []string{"traits", "resource_provider_generation"},
		AdditionalProperties: js.Bool(false),
	})
	schemaListTraits = js.MustCompile(&js.Schema{
		Type:                 "object",
		Properties:           []js.Property{js.Prop("name", str()), js.Prop("associated", str())},
		AdditionalProperties: js.Bool(false),
	})
)

// Aggregates.

func aggregateListSchema() *js.Schema {
	return &js.Schema{Type: "array", Items: uuidStr(), UniqueItems: true}
}

var (
	schemaPutAggregates    = js.MustCompile(aggregateListSchema())
	schemaPutAggregates119 = js.MustCompile(&js.Schema{
		Type: "object",
		Properties: []js.Property{
			js.Prop("aggregates", aggregateListSchema()),
			js.Prop("resource_provider_generation", integer()),
		},
		Required:             []string{"aggregates", "resource_provider_generation"},
		AdditionalProperties: js.Bool(false),
	})
)

// Allocations.

func resourcesSchema() *js.Schema {
	return &js.Schema{
		Type:                 "object",
		MinProperties:        n(1),
		PatternProperties:    []js.Property{js.Prop(rcPattern, &js.Schema{Type: "integer", Minimum: js.Int(1)})},
		AdditionalProperties: js.Bool(false),
	}
}

func allocationSchema10() *js.Schema {
	return &js.Schema{
		Type: "object",
		Properties: []js.Property{js.Prop("allocations", &js.Schema{
			Type:     "array",
			MinItems: n(1),
			Items: &js.Schema{
				Type: "object",
				Properties: []js.Property{
					js.Prop("resource_provider", &js.Schema{
						Type:                 "object",
						Properties:           []js.Property{js.Prop("uuid", uuidStr())},
						AdditionalProperties: js.Bool(false),
						Required:             []string{"uuid"},
						Order:                []string{"type", "properties", "additionalProperties", "required"},
					}),
					js.Prop("resources", resourcesSchema()),
				},
				Required:             []string{"resource_provider", "resources"},
				AdditionalProperties: js.Bool(false),
			},
		})},
		Required:             []string{"allocations"},
		AdditionalProperties: js.Bool(false),
	}
}

func ownerProps() []js.Property {
	id := func() *js.Schema { return &js.Schema{Type: "string", MinLength: n(1), MaxLength: n(255)} }
	return []js.Property{js.Prop("project_id", id()), js.Prop("user_id", id())}
}

func allocationSchema18() *js.Schema {
	s := allocationSchema10()
	s.Properties = append(s.Properties, ownerProps()...)
	s.Required = append(s.Required, "project_id", "user_id")
	return s
}

// allocationSchema112 is the dict form; minProps is 1 for PUT and 0 where allocations may
// be emptied.
func allocationSchema112(minProps int) *js.Schema {
	props := []js.Property{js.Prop("allocations", &js.Schema{
		Type:          "object",
		MinProperties: n(minProps),
		PatternProperties: []js.Property{js.Prop(uuidPattern, &js.Schema{
			Type: "object",
			Properties: []js.Property{
				js.Prop("generation", integer()),
				js.Prop("resources", resourcesSchema()),
			},
			Required:             []string{"resources"},
			AdditionalProperties: js.Bool(false),
		})},
		AdditionalProperties: js.Bool(false),
	})}
	props = append(props, ownerProps()...)
	return &js.Schema{
		Type:                 "object",
		Properties:           props,
		AdditionalProperties: js.Bool(false),
		Required:             []string{"allocations", "project_id", "user_id"},
		Order:                []string{"type", "properties", "additionalProperties", "required"},
	}
}

func withConsumerGeneration(s *js.Schema) *js.Schema {
	s.Properties = append(s.Properties, js.Prop("consumer_generation", &js.Schema{
		Types: []string{"integer", "null"}, AdditionalProperties: js.Bool(false),
	}))
	s.Required = append(s.Required, "consumer_generation")
	return s
}

func mappingsSchema() *js.Schema {
	return &js.Schema{
		Type:          "object",
		MinProperties: n(1),
		PatternProperties: []js.Property{js.Prop(groupPattern133, &js.Schema{
			Type: "array", MinItems: n(1), Items: uuidStr(),
		})},
		Order: []string{"type", "minProperties", "patternProperties"},
	}
}

func withMappings(s *js.Schema) *js.Schema {
	s.Properties = append(s.Properties, js.Prop("mappings", mappingsSchema()))
	return s
}

func withConsumerType(s *js.Schema) *js.Schema {
	s.Properties = append(s.Properties, js.Prop("consumer_type", &js.Schema{
		Type: "string", Pattern: consumerTypePattern, MinLength: n(1), MaxLength: n(255),
		Order: []string{"type", "pattern", "minLength", "maxLength"},
	}))
	s.Required = append(s.Required, "consumer_type")
	return s
}

// consumerAllocationSchema is one consumer's entry at a microversion (1.12 and later),
// for PUT (minProps 1 before 1.28) or POST / reshaper (empty allowed).
func consumerAllocationSchema(minor int, put bool) *js.Schema {
	minProps := 0
	if put && minor < 28 {
		minProps = 1
	}
	s := allocationSchema112(minProps)
	if minor >= 28 {
		s = withConsumerGeneration(s)
	}
	if minor >= 34 {
		s = withMappings(s)
	}
	if minor >= 38 {
		s = withConsumerType(s)
	}
	return s
}

func postAllocationsSchema(minor int, minProps int) *js.Schema {
	return &js.Schema{
		Type:                 "object",
		MinProperties:        n(minProps),
		AdditionalProperties: js.Bool(false),
		PatternProperties:    []js.Property{js.Prop(uuidPattern, consumerAllocationSchema(minor, false))},
		Order:                []string{"type", "minProperties", "additionalProperties", "patternProperties"},
	}
}

var (
	schemaPutAllocations10  = js.MustCompile(allocationSchema10())
	schemaPutAllocations18  = js.MustCompile(allocationSchema18())
	schemaPutAllocations112 = js.MustCompile(consumerAllocationSchema(12, true))
	schemaPutAllocations128 = js.MustCompile(consumerAllocationSchema(28, true))
	schemaPutAllocations134 = js.MustCompile(consumerAllocationSchema(34, true))
	schemaPutAllocations138 = js.MustCompile(consumerAllocationSchema(38, true))

	schemaPostAllocations113 = js.MustCompile(postAllocationsSchema(13, 1))
	schemaPostAllocations128 = js.MustCompile(postAllocationsSchema(28, 1))
	schemaPostAllocations134 = js.MustCompile(postAllocationsSchema(34, 1))
	schemaPostAllocations138 = js.MustCompile(postAllocationsSchema(38, 1))
)

// Reshaper.

func reshaperSchema(minor int) *js.Schema {
	allocMinor := 28
	if minor >= 34 {
		allocMinor = minor
	}
	return &js.Schema{
		Type: "object",
		Properties: []js.Property{
			js.Prop("inventories", &js.Schema{
				Type:                 "object",
				PatternProperties:    []js.Property{js.Prop(uuidPattern, putInventoriesSchema())},
				MinProperties:        n(1),
				AdditionalProperties: js.Bool(false),
				Order:                []string{"type", "patternProperties", "minProperties", "additionalProperties"},
			}),
			js.Prop("allocations", postAllocationsSchema(allocMinor, 0)),
		},
		Required:             []string{"inventories", "allocations"},
		AdditionalProperties: js.Bool(false),
	}
}

var (
	schemaReshaper    = js.MustCompile(reshaperSchema(30))
	schemaReshaper134 = js.MustCompile(reshaperSchema(34))
	schemaReshaper138 = js.MustCompile(reshaperSchema(38))
)

// Usages.

func usagesSchema(consumerType bool) *js.Schema {
	id := func() *js.Schema { return &js.Schema{Type: "string", MinLength: n(1), MaxLength: n(255)} }
	s := object(js.Prop("project_id", id()), js.Prop("user_id", id()))
	if consumerType {
		s.Properties = append(s.Properties, js.Prop("consumer_type", &js.Schema{
			Type: "string", Pattern: consumerTypeGetPat, MinLength: n(1), MaxLength: n(255),
			Order: []string{"type", "pattern", "minLength", "maxLength"},
		}))
	}
	s.Required = []string{"project_id"}
	s.AdditionalProperties = js.Bool(false)
	return s
}

var (
	schemaUsages    = js.MustCompile(usagesSchema(false))
	schemaUsages138 = js.MustCompile(usagesSchema(true))
)

// Allocation candidates (query strings).

func candidatesSchema110() *js.Schema {
	return &js.Schema{
		Type:                 "object",
		Properties:           []js.Property{js.Prop("resources", str())},
		Required:             []string{"resources"},
		AdditionalProperties: js.Bool(false),
	}
}

func candidatesSchemaAt(minor int) *js.Schema {
	s := candidatesSchema110()
	listStr := func() *js.Schema { return &js.Schema{Types: []string{"string"}} }
	if minor >= 16 {
		s.Properties = append(s.Properties, js.Prop("limit", &js.Schema{
			Types: []string{"integer", "string"}, Pattern: "^[1-9][0-9]*$", Minimum: js.Int(1), MinLength: n(1),
			Order: []string{"type", "pattern", "minimum", "minLength"},
		}))
	}
	if minor >= 17 {
		s.Properties = append(s.Properties, js.Prop("required", listStr()))
	}
	if minor >= 21 {
		s.Properties = append(s.Properties, js.Prop("member_of", listStr()))
	}
	if minor < 25 {
		return s
	}
	var props []js.Property
	for _, p := range s.Properties {
		if p.Name != "resources" && p.Name != "required" && p.Name != "member_of" {
			props = append(props, p)
		}
	}
	s.Properties = append(props, js.Prop("group_policy", &js.Schema{Type: "string", Enum: []any{"none", "isolate"}}))
	s.Required = nil
	group := "[1-9][0-9]*"
	if minor >= 33 {
		group = groupPattern133
	}
	keys := []string{"resources", "required", "member_of"}
	if minor >= 31 {
		keys = append(keys, "in_tree")
	}
	for _, k := range keys {
		s.PatternProperties = append(s.PatternProperties, js.Prop("^"+k+"("+group+")?$", str()))
	}
	if minor >= 35 {
		s.Properties = append(s.Properties, js.Prop("root_required", listStr()))
	}
	if minor >= 36 {
		s.Properties = append(s.Properties, js.Prop("same_subtree", listStr()))
	}
	s.Order = []string{"type", "properties", "additionalProperties", "patternProperties"}
	return s
}

var (
	schemaCandidates110 = js.MustCompile(candidatesSchema110())
	schemaCandidates116 = js.MustCompile(candidatesSchemaAt(16))
	schemaCandidates117 = js.MustCompile(candidatesSchemaAt(17))
	schemaCandidates121 = js.MustCompile(candidatesSchemaAt(21))
	schemaCandidates125 = js.MustCompile(candidatesSchemaAt(25))
	schemaCandidates131 = js.MustCompile(candidatesSchemaAt(31))
	schemaCandidates133 = js.MustCompile(candidatesSchemaAt(33))
	schemaCandidates135 = js.MustCompile(candidatesSchemaAt(35))
	schemaCandidates136 = js.MustCompile(candidatesSchemaAt(36))
)
