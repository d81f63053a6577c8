package placementapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	js "ingot/internal/jsonschema"
)

// decodeBody reads the JSON body, validates it against schema as Placement does (400
// "Malformed JSON: ..." or "JSON does not validate: ...") and decodes it into dst.
func (rq *request) decodeBody(schema *js.Validator, dst any) error {
	raw, err := rq.readBody()
	if err != nil {
		return err
	}
	return decodeJSON(raw, schema, dst)
}

func decodeJSON(raw []byte, schema *js.Validator, dst any) error {
	if !utf8.Valid(raw) {
		// encoding/json would replace the bytes silently; Python fails to decode them.
		return badRequest("Malformed JSON: the body is not valid UTF-8 (byte %d).", invalidUTF8Offset(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return badRequest("Malformed JSON: %s", jsonErrorText(err))
	}
	if dec.More() {
		return badRequest("Malformed JSON: Extra data")
	}
	if err := schema.Validate(doc); err != nil {
		return badRequest("JSON does not validate: %s", schemaErrorText(err))
	}
	if p := bodyTextProblem(doc); p != "" {
		return badRequest("JSON does not validate: a string contains %s.", p)
	}
	if dst == nil {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		// The schema admitted something the typed form cannot hold (a number too large
		// for int64, say).
		return badRequest("JSON does not validate: %s", jsonErrorText(err))
	}
	return nil
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error()
	}
	return err.Error()
}

// validateQuery validates the query string (each key with its last value) as upstream's
// validate_query_params does.
func (rq *request) validateQuery(schema *js.Validator) error {
	if err := schema.Validate(rq.queryDict()); err != nil {
		return badRequest("Invalid query string parameters: %s", schemaErrorText(err))
	}
	return nil
}

// invalidUTF8Offset returns the offset of the first byte of b that is not valid UTF-8.
func invalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// schemaErrorText is a schema error's text (python-jsonschema's str(error): the message, the
// failing schema, the failing instance, in paragraphs) with the paragraphs that repeat the
// client's value cut to about maxSchemaEcho bytes each (keeping both ends, so that "... is
// too long" survives): upstream's messages repeat the instance
// twice, which for a large value is most of the response. The schema paragraph is ours and
// is kept whole.
func schemaErrorText(err error) string {
	text := err.Error()
	if len(text) <= 3*maxSchemaEcho {
		return text
	}
	paras := strings.Split(text, "\n\n")
	for i, p := range paras {
		if !strings.HasPrefix(p, "Failed validating ") {
			paras[i] = truncateMiddle(p, maxSchemaEcho)
		}
	}
	return strings.Join(paras, "\n\n")
}

// maxSchemaEcho bounds each paragraph of a schema error that repeats the client's value.
const maxSchemaEcho = 1024
