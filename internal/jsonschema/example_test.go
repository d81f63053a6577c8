package jsonschema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"ingot/internal/jsonschema"
)

// Placement's POST /resource_providers body at microversion 1.0
// (POST_RESOURCE_PROVIDER_SCHEMA in placement/schemas/resource_provider.py).
var postResourceProvider = jsonschema.MustCompile(&jsonschema.Schema{
	Type: "object",
	Properties: []jsonschema.Property{
		jsonschema.Prop("name", &jsonschema.Schema{Type: "string", MaxLength: new(200)}),
		jsonschema.Prop("uuid", &jsonschema.Schema{Type: "string", Format: "uuid"}),
	},
	Required:             []string{"name"},
	AdditionalProperties: jsonschema.Bool(false),
})

func Example() {
	dec := json.NewDecoder(bytes.NewReader([]byte(`{"name": "rp1", "bad_field": 1}`)))
	dec.UseNumber()
	var body any
	if err := dec.Decode(&body); err != nil {
		panic(err)
	}
	err := postResourceProvider.Validate(body)
	if ve, ok := errors.AsType[*jsonschema.ValidationError](err); ok {
		fmt.Printf("JSON does not validate: %s\n", ve)
		fmt.Println("keyword:", ve.Keyword)
	}
	// Output:
	// JSON does not validate: Additional properties are not allowed ('bad_field' was unexpected)
	//
	// Failed validating 'additionalProperties' in schema:
	//     {'additionalProperties': False,
	//      'properties': {'name': {'maxLength': 200, 'type': 'string'},
	//                     'uuid': {'format': 'uuid', 'type': 'string'}},
	//      'required': ['name'],
	//      'type': 'object'}
	//
	// On instance:
	//     {'bad_field': 1, 'name': 'rp1'}
	// keyword: additionalProperties
}
