package placementapi

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"time"

	"ingot/internal/jsonstring"
)

// Placement builds its responses from Python dicts, which keep insertion order, and writes
// floats as Python does. Go's encoding/json sorts map keys and writes 1.0 as 1, so response
// objects whose order or floats matter are built from the types here.

// member is one key and value of an ordered object.
type member struct {
	key   string
	value any
}

// ordered is a JSON object written with its members in the given order, as a Python dict
// built in that order is.
type ordered []member

func (o ordered) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	for i, m := range o {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = jsonstring.Append(b, m.key)
		b = append(b, ": "...)
		var err error
		if b, err = appendValue(b, m.value); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// jsonAppender is a value that writes itself as Python would.
type jsonAppender interface {
	appendJSON(b []byte) ([]byte, error)
}

// appendValue appends v as JSON; floats as Python writes them.
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return jsonstring.Append(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float64:
		return appendPyFloat(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case jsonAppender:
		return x.appendJSON(b)
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = jsonstring.Append(b, s)
		}
		return append(b, ']'), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...), nil
}

// appendPyFloat appends f as Python's json.dumps writes it: repr(f), that is the shortest
// digits that round-trip, always with a decimal point or an exponent ("1.0", "0.0001"), in
// exponent form when the decimal exponent is below -4 or at least 16 ("1e+16", "1.5e-05"),
// and Infinity, -Infinity and NaN for the non-finite values.
func appendPyFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	// The exponent of the shortest round-trip digits decides the form.
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	exp, _ := strconv.Atoi(string(e[bytes.IndexByte(e, 'e')+1:]))
	if exp < -4 || exp >= 16 {
		// Go's shortest 'e' form is Python's: "1e+16", "1.5e-05", "1e+100".
		return append(b, e...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	if bytes.IndexByte(b[start:], '.') < 0 {
		b = append(b, ".0"...)
	}
	return b
}

// sendObject writes o as the response body.
func (rq *request) sendObject(status int, o jsonAppender, modified time.Time) error {
	b, err := o.appendJSON(make([]byte, 0, 256))
	if err != nil {
		return err
	}
	return rq.sendRawJSON(status, b, modified)
}

// keyTree is the order of the keys of every object in a request body: Placement iterates
// the dicts json.loads builds, in the body's order, so what it writes and which error it
// finds first follow that order.
type keyTree struct {
	keys  []string
	sub   map[string]*keyTree
	elems []*keyTree // of an array
}

// parseKeyTree returns the key order of raw, a body already decoded without error (nil
// otherwise). A repeated key keeps its first position and its last value, as in a dict.
func parseKeyTree(raw []byte) *keyTree {
	dec := json.NewDecoder(bytes.NewReader(raw))
	k, err := parseKeys(dec)
	if err != nil {
		return nil
	}
	return k
}

func parseKeys(dec *json.Decoder) (*keyTree, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		k := &keyTree{sub: map[string]*keyTree{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := kt.(string)
			v, err := parseKeys(dec)
			if err != nil {
				return nil, err
			}
			if _, seen := k.sub[key]; !seen {
				k.keys = append(k.keys, key)
			}
			k.sub[key] = v
		}
		_, err := dec.Token()
		return k, err
	case json.Delim('['):
		k := &keyTree{}
		for dec.More() {
			e, err := parseKeys(dec)
			if err != nil {
				return nil, err
			}
			k.elems = append(k.elems, e)
		}
		_, err := dec.Token()
		return k, err
	}
	return nil, nil
}

// child returns the key order of the object at key (nil-safe).
func (k *keyTree) child(key string) *keyTree {
	if k == nil {
		return nil
	}
	return k.sub[key]
}

// elem returns the key order of the array's i-th element (nil-safe).
func (k *keyTree) elem(i int) *keyTree {
	if k == nil || i >= len(k.elems) {
		return nil
	}
	return k.elems[i]
}

// inOrder returns the keys of m in k's order; keys k does not know follow, sorted.
func inOrder[V any](k *keyTree, m map[string]V) []string {
	out := make([]string, 0, len(m))
	if k != nil {
		for _, key := range k.keys {
			if _, ok := m[key]; ok {
				out = append(out, key)
			}
		}
	}
	if len(out) == len(m) {
		return out
	}
	seen := make(map[string]bool, len(out))
	for _, key := range out {
		seen[key] = true
	}
	rest := make([]string, 0, len(m)-len(out))
	for key := range m {
		if !seen[key] {
			rest = append(rest, key)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}
