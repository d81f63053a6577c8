package jsonschema

import (
	"fmt"
	"math"
)

// op is a keyword, as evaluated.
type op uint8

const (
	opType op = iota
	opEnum
	opFormat
	opPattern
	opMinLength
	opMaxLength
	opMinimum
	opMaximum
	opExclusiveMinimum
	opExclusiveMaximum
	opMinItems
	opMaxItems
	opItems
	opUniqueItems
	opMinProperties
	opMaxProperties
	opProperties
	opPatternProperties
	opRequired
	opAdditionalProperties
	opAnyOf
	opOneOf
)

// opByName maps defaultOrder's names to ops; opNames is the reverse.
var (
	opByName = map[string]op{}
	opNames  = defaultOrder
)

func init() {
	for i, name := range defaultOrder {
		opByName[name] = op(i)
	}
}

// node is a compiled Schema.
type node struct {
	boolean int8     // 0: an object schema; 1: true; -1: false
	order   []string // every key of the Python dict, in its order
	ops     []op     // the keywords among them, in evaluation order

	types     typeBit // 0 when there is no "type"
	typeNames []string

	enum      []any
	format    string
	formatFn  func(any) bool
	pattern   matcher
	patternPy string
	minLength int // -1 when absent, as for the other counts
	maxLength int

	minimum, maximum, exclMinimum, exclMaximum *num

	minItems, maxItems int
	items              *node
	uniqueItems        bool

	minProperties, maxProperties int
	properties                   []namedNode
	patternProperties            []patternNode
	hasPatternProperties         bool
	required                     []string
	additional                   *node

	anyOf, oneOf []*node

	// py is the schema as the Python value jsonschema prints: an *odict, or
	// a bool for a boolean schema.
	py any
}

type namedNode struct {
	name string
	node *node
}

type patternNode struct {
	pattern string
	re      matcher
	node    *node
}

func compileNode(s *Schema, where string) (*node, error) {
	return compileIn(s, where, map[*Schema]bool{})
}

// compileIn compiles s; ancestors are the schemas s is nested in, which s
// must not contain again (Python would recurse forever).
func compileIn(s *Schema, where string, ancestors map[*Schema]bool) (*node, error) {
	if s == nil {
		return nil, fmt.Errorf("%s: nil schema", where)
	}
	if ancestors[s] {
		return nil, fmt.Errorf("%s: schema contains itself", where)
	}
	ancestors[s] = true
	defer delete(ancestors, s)
	compileNode := func(sub *Schema, where string) (*node, error) {
		return compileIn(sub, where, ancestors)
	}
	if s.boolean != nil {
		n := &node{boolean: -1, py: *s.boolean}
		if *s.boolean {
			n.boolean = 1
		}
		return n, nil
	}
	order, err := s.keyOrder()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	n := &node{
		order:     order,
		minLength: -1, maxLength: -1,
		minItems: -1, maxItems: -1,
		minProperties: -1, maxProperties: -1,
	}
	fail := func(format string, args ...any) (*node, error) {
		return nil, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
	}

	if s.Type != "" && s.Types != nil {
		return fail("both Type and Types are set")
	}
	names := s.Types
	if s.Type != "" {
		names = []string{s.Type}
	}
	if s.Types != nil && len(s.Types) == 0 {
		return fail("Types is empty")
	}
	for _, t := range names {
		bit, ok := typeBits[t]
		if !ok {
			return fail("unknown type %q", t)
		}
		if n.types&bit != 0 {
			return fail("type %q twice", t)
		}
		n.types |= bit
	}
	n.typeNames = names

	for _, e := range s.Enum {
		if !isJSONValue(e) {
			return fail("enum value %#v is not a JSON value", e)
		}
	}
	n.enum = s.Enum
	for k, e := range s.Extra {
		if !isJSONValue(e) {
			return fail("extra %q: %#v is not a JSON value", k, e)
		}
	}
	if s.Format != "" {
		fn, ok := knownFormats[s.Format]
		if !ok {
			return fail("unknown format %q", s.Format)
		}
		n.format, n.formatFn = s.Format, fn
	}
	if s.Pattern != "" {
		re, err := compilePattern(s.Pattern)
		if err != nil {
			return fail("%v", err)
		}
		n.pattern, n.patternPy = re, s.Pattern
	}
	counts := []struct {
		name string
		src  *int
		dst  *int
	}{
		{"minLength", s.MinLength, &n.minLength},
		{"maxLength", s.MaxLength, &n.maxLength},
		{"minItems", s.MinItems, &n.minItems},
		{"maxItems", s.MaxItems, &n.maxItems},
		{"minProperties", s.MinProperties, &n.minProperties},
		{"maxProperties", s.MaxProperties, &n.maxProperties},
	}
	for _, c := range counts {
		if c.src == nil {
			continue
		}
		if *c.src < 0 {
			return fail("%s is negative", c.name)
		}
		*c.dst = *c.src
	}
	bounds := []struct {
		name string
		src  *Number
		dst  **num
	}{
		{"minimum", s.Minimum, &n.minimum},
		{"maximum", s.Maximum, &n.maximum},
		{"exclusiveMinimum", s.ExclusiveMinimum, &n.exclMinimum},
		{"exclusiveMaximum", s.ExclusiveMaximum, &n.exclMaximum},
	}
	for _, b := range bounds {
		if b.src == nil {
			continue
		}
		if b.src.isFloat && math.IsNaN(b.src.f) {
			return fail("%s is NaN", b.name)
		}
		v := b.src.num()
		*b.dst = &v
	}

	if s.Items != nil {
		if n.items, err = compileNode(s.Items, where+"['items']"); err != nil {
			return nil, err
		}
	}
	n.uniqueItems = s.UniqueItems

	seen := map[string]bool{}
	for _, p := range s.Properties {
		if seen[p.Name] {
			return fail("property %q twice", p.Name)
		}
		seen[p.Name] = true
		sub, err := compileNode(p.Schema, where+"['properties']["+strRepr(p.Name)+"]")
		if err != nil {
			return nil, err
		}
		n.properties = append(n.properties, namedNode{p.Name, sub})
	}
	clear(seen)
	for _, p := range s.PatternProperties {
		if seen[p.Name] {
			return fail("pattern %q twice", p.Name)
		}
		seen[p.Name] = true
		re, err := compilePattern(p.Name)
		if err != nil {
			return fail("patternProperties: %v", err)
		}
		sub, err := compileNode(p.Schema, where+"['patternProperties']["+strRepr(p.Name)+"]")
		if err != nil {
			return nil, err
		}
		n.patternProperties = append(n.patternProperties, patternNode{p.Name, re, sub})
	}
	clear(seen)
	for _, r := range s.Required {
		if seen[r] {
			return fail("required %q twice", r)
		}
		seen[r] = true
	}
	n.required = s.Required
	if s.AdditionalProperties != nil {
		if n.additional, err = compileNode(s.AdditionalProperties, where+"['additionalProperties']"); err != nil {
			return nil, err
		}
	}
	for _, group := range []struct {
		name string
		src  []*Schema
		dst  *[]*node
	}{{"anyOf", s.AnyOf, &n.anyOf}, {"oneOf", s.OneOf, &n.oneOf}} {
		if group.src != nil && len(group.src) == 0 {
			return fail("%s is empty", group.name)
		}
		for i, sub := range group.src {
			c, err := compileNode(sub, fmt.Sprintf("%s[%q][%d]", where, group.name, i))
			if err != nil {
				return nil, err
			}
			*group.dst = append(*group.dst, c)
		}
	}
	for _, k := range order {
		if s.has(k) {
			n.ops = append(n.ops, opByName[k])
		}
	}
	n.hasPatternProperties = s.PatternProperties != nil
	n.py = n.pyDict(s)
	return n, nil
}

// pyDict builds the Python dict the schema was written as, in key order.
func (n *node) pyDict(s *Schema) *odict {
	d := &odict{}
	for _, k := range n.order {
		var v any
		switch k {
		case "type":
			if s.Type != "" {
				v = s.Type
			} else {
				v = s.Types
			}
		case "enum":
			v = s.Enum
		case "format":
			v = s.Format
		case "pattern":
			v = s.Pattern
		case "minLength":
			v = *s.MinLength
		case "maxLength":
			v = *s.MaxLength
		case "minimum":
			v = s.Minimum
		case "maximum":
			v = s.Maximum
		case "exclusiveMinimum":
			v = s.ExclusiveMinimum
		case "exclusiveMaximum":
			v = s.ExclusiveMaximum
		case "minItems":
			v = *s.MinItems
		case "maxItems":
			v = *s.MaxItems
		case "items":
			v = n.items.py
		case "uniqueItems":
			v = true
		case "minProperties":
			v = *s.MinProperties
		case "maxProperties":
			v = *s.MaxProperties
		case "properties":
			p := &odict{}
			for _, nn := range n.properties {
				p.keys = append(p.keys, nn.name)
				p.vals = append(p.vals, nn.node.py)
			}
			v = p
		case "patternProperties":
			p := &odict{}
			for _, pn := range n.patternProperties {
				p.keys = append(p.keys, pn.pattern)
				p.vals = append(p.vals, pn.node.py)
			}
			v = p
		case "required":
			v = s.Required
		case "additionalProperties":
			v = n.additional.py
		case "anyOf", "oneOf":
			subs := n.anyOf
			if k == "oneOf" {
				subs = n.oneOf
			}
			list := make([]any, len(subs))
			for i, sub := range subs {
				list[i] = sub.py
			}
			v = list
		default:
			v = s.Extra[k]
		}
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, v)
	}
	return d
}

// isJSONValue reports whether v is something classify understands all the
// way down.
func isJSONValue(v any) bool {
	k, _ := classify(v)
	switch k {
	case kindOther:
		return false
	case kindArray:
		for _, e := range v.([]any) {
			if !isJSONValue(e) {
				return false
			}
		}
	case kindObject:
		for _, e := range v.(map[string]any) {
			if !isJSONValue(e) {
				return false
			}
		}
	}
	return true
}
