package jsonschema

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reproduces Python's repr() and pprint.pformat() for the values
// that appear in jsonschema messages: None, bools, ints, floats, str, lists
// and dicts.

// odict is a Python dict whose insertion order matters (a schema written as
// a dict literal). Instances are map[string]any, which have no order.
type odict struct {
	keys []string
	vals []any
}

// pyKind is how a value prints.
type pyKind uint8

const (
	pyScalar pyKind = iota // text holds the repr
	pyStr                  // text holds the string itself
	pyList
	pyDict
)

// pyv is a value ready to print, with the length of its one-line repr
// computed once, so that pformat stays linear in the size of the value.
type pyv struct {
	kind  pyKind
	text  string
	keys  []string // dict keys, in print order
	items []*pyv   // list items or dict values
	n     int      // length of repr in code points
}

// toPy converts v for printing. Dicts are sorted by key when sortDicts is set
// (pprint does so); map[string]any is always sorted, having no other order.
func toPy(v any, sortDicts bool) *pyv {
	switch v := v.(type) {
	case string:
		return &pyv{kind: pyStr, text: v, n: strReprLen(v)}
	case []any:
		p := &pyv{kind: pyList, items: make([]*pyv, len(v)), n: 2}
		for i, e := range v {
			p.items[i] = toPy(e, sortDicts)
			p.n += p.items[i].n
		}
		if len(v) > 1 {
			p.n += 2 * (len(v) - 1)
		}
		return p
	case []string:
		a := make([]any, len(v))
		for i, s := range v {
			a[i] = s
		}
		return toPy(a, sortDicts)
	case []*odict:
		a := make([]any, len(v))
		for i, d := range v {
			a[i] = d
		}
		return toPy(a, sortDicts)
	case map[string]any:
		keys := sortedKeys(v)
		vals := make([]any, len(keys))
		for i, k := range keys {
			vals[i] = v[k]
		}
		return dictPy(keys, vals, sortDicts)
	case *odict:
		keys, vals := v.keys, v.vals
		if sortDicts {
			order := make([]int, len(keys))
			for i := range order {
				order[i] = i
			}
			sortIndexByKey(order, keys)
			keys = make([]string, len(order))
			vals = make([]any, len(order))
			for i, j := range order {
				keys[i], vals[i] = v.keys[j], v.vals[j]
			}
		}
		return dictPy(keys, vals, sortDicts)
	}
	s := scalarRepr(v)
	return &pyv{kind: pyScalar, text: s, n: utf8.RuneCountInString(s)}
}

func sortIndexByKey(order []int, keys []string) {
	// Insertion sort: schema dicts have a handful of keys.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && keys[order[j]] < keys[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
}

func dictPy(keys []string, vals []any, sortDicts bool) *pyv {
	p := &pyv{kind: pyDict, keys: keys, items: make([]*pyv, len(keys)), n: 2}
	for i, k := range keys {
		p.items[i] = toPy(vals[i], sortDicts)
		p.n += strReprLen(k) + 2 + p.items[i].n
	}
	if len(keys) > 1 {
		p.n += 2 * (len(keys) - 1)
	}
	return p
}

// scalarRepr is repr() of a value that is not a container or a string.
func scalarRepr(v any) string {
	k, n := classify(v)
	switch k {
	case kindNull:
		return "None"
	case kindBool:
		if v.(bool) {
			return "True"
		}
		return "False"
	case kindNumber:
		return n.repr()
	}
	if jn, ok := v.(interface{ String() string }); ok {
		return jn.String()
	}
	return fmt.Sprint(v)
}

// repr is Python's repr(v) on one line; map[string]any prints sorted.
func repr(v any) string {
	switch v := v.(type) {
	case string:
		return strRepr(v)
	case nil, bool, int, int64, float64:
		return scalarRepr(v)
	}
	var b strings.Builder
	writeRepr(&b, toPy(v, false))
	return b.String()
}

func writeRepr(b *strings.Builder, p *pyv) {
	switch p.kind {
	case pyScalar:
		b.WriteString(p.text)
	case pyStr:
		writeStrRepr(b, p.text)
	case pyList:
		b.WriteByte('[')
		for i, it := range p.items {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, it)
		}
		b.WriteByte(']')
	case pyDict:
		b.WriteByte('{')
		for i, it := range p.items {
			if i > 0 {
				b.WriteString(", ")
			}
			writeStrRepr(b, p.keys[i])
			b.WriteString(": ")
			writeRepr(b, it)
		}
		b.WriteByte('}')
	}
}

// strRepr is Python's repr(str).
func strRepr(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	writeStrRepr(&b, s)
	return b.String()
}

func quoteFor(s string) rune {
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		return '"'
	}
	return '\''
}

func writeStrRepr(b *strings.Builder, s string) {
	q := quoteFor(s)
	b.WriteRune(q)
	for _, r := range s {
		switch {
		case r == q || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		case r < 0x7f || isPrintable(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
	}
	b.WriteRune(q)
}

// strReprLen is the length in code points of strRepr(s).
func strReprLen(s string) int {
	q := quoteFor(s)
	n := 2
	for _, r := range s {
		switch {
		case r == q || r == '\\' || r == '\t' || r == '\n' || r == '\r':
			n += 2
		case r < ' ' || r == 0x7f:
			n += 4
		case r < 0x7f || isPrintable(r):
			n++
		case r <= 0xff:
			n += 4
		case r <= 0xffff:
			n += 6
		default:
			n += 10
		}
	}
	return n
}

// isPrintable approximates Python's str.isprintable for one character:
// letters, marks, numbers, punctuation and symbols print as themselves;
// separators, controls, format characters and unassigned code points are
// escaped. (Go and Python may disagree on code points assigned by different
// Unicode versions.)
func isPrintable(r rune) bool {
	return r == utf8.RuneError || unicode.IsPrint(r)
}

// pformat is pprint.pformat(v, width=width) with the defaults jsonschema uses
// (indent=1, sort_dicts=True, compact=False).
func pformat(v any, width int) string {
	p := printer{width: width}
	p.format(toPy(v, true), 0, 0, 0)
	return p.b.String()
}

type printer struct {
	b     strings.Builder
	width int
}

func (p *printer) format(v *pyv, indent, allowance, level int) {
	if v.n > p.width-indent-allowance {
		switch v.kind {
		case pyDict:
			p.dict(v, indent, allowance, level+1)
			return
		case pyList:
			p.list(v, indent, allowance, level+1)
			return
		case pyStr:
			p.str(v.text, indent, allowance, level+1)
			return
		}
	}
	writeRepr(&p.b, v)
}

func (p *printer) dict(v *pyv, indent, allowance, level int) {
	p.b.WriteByte('{')
	allowance++
	indent++
	last := len(v.items) - 1
	for i, it := range v.items {
		k := strRepr(v.keys[i])
		p.b.WriteString(k)
		p.b.WriteString(": ")
		a := 1
		if i == last {
			a = allowance
		}
		p.format(it, indent+utf8.RuneCountInString(k)+2, a, level)
		if i != last {
			p.b.WriteString(",\n")
			p.b.WriteString(strings.Repeat(" ", indent))
		}
	}
	p.b.WriteByte('}')
}

func (p *printer) list(v *pyv, indent, allowance, level int) {
	p.b.WriteByte('[')
	allowance++
	indent++
	last := len(v.items) - 1
	for i, it := range v.items {
		if i > 0 {
			p.b.WriteString(",\n")
			p.b.WriteString(strings.Repeat(" ", indent))
		}
		a := 1
		if i == last {
			a = allowance
		}
		p.format(it, indent, a, level)
	}
	p.b.WriteByte(']')
}

// str is pprint's _pprint_str: a string too long for the line is cut after
// runs of whitespace into adjacent literals, in parentheses at the top level.
func (p *printer) str(s string, indent, allowance, level int) {
	if s == "" {
		p.b.WriteString("''")
		return
	}
	lines := splitLinesKeepEnds(s)
	if level == 1 {
		indent++
		allowance++
	}
	maxWidth := p.width - indent
	maxWidth1 := maxWidth
	var chunks []string
	for i, line := range lines {
		lastLine := i == len(lines)-1
		if lastLine {
			maxWidth1 -= allowance
		}
		if strReprLen(line) <= maxWidth1 {
			chunks = append(chunks, strRepr(line))
			continue
		}
		parts := whitespaceParts(line)
		maxWidth2 := maxWidth
		current := ""
		for j, part := range parts {
			candidate := current + part
			if j == len(parts)-1 && lastLine {
				maxWidth2 -= allowance
			}
			if strReprLen(candidate) > maxWidth2 {
				if current != "" {
					chunks = append(chunks, strRepr(current))
				}
				current = part
			} else {
				current = candidate
			}
		}
		if current != "" {
			chunks = append(chunks, strRepr(current))
		}
	}
	if len(chunks) == 1 {
		p.b.WriteString(chunks[0])
		return
	}
	if level == 1 {
		p.b.WriteByte('(')
	}
	for i, c := range chunks {
		if i > 0 {
			p.b.WriteByte('\n')
			p.b.WriteString(strings.Repeat(" ", indent))
		}
		p.b.WriteString(c)
	}
	if level == 1 {
		p.b.WriteByte(')')
	}
}

// splitLinesKeepEnds is Python's str.splitlines(True).
func splitLinesKeepEnds(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\r':
			end := i + 1
			if end < len(s) && s[end] == '\n' {
				end++
			}
			lines = append(lines, s[start:end])
			start, i = end, end
			continue
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			lines = append(lines, s[start:i+size])
			start = i + size
		}
		i += size
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// whitespaceParts is re.findall(r'\S*\s*', line) without the final empty
// match: runs of non-space characters, each with the spaces after it.
func whitespaceParts(line string) []string {
	var parts []string
	i := 0
	for i < len(line) {
		start := i
		for i < len(line) {
			r, size := utf8.DecodeRuneInString(line[i:])
			if isSpace(r) {
				break
			}
			i += size
		}
		for i < len(line) {
			r, size := utf8.DecodeRuneInString(line[i:])
			if !isSpace(r) {
				break
			}
			i += size
		}
		parts = append(parts, line[start:i])
	}
	return parts
}

// isSpace is Python's str.isspace for one character, which \s matches.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// formatAsIndex is jsonschema's _utils.format_as_index: word['a'][0].
func formatAsIndex(word string, path []any) string {
	if len(path) == 0 {
		return word
	}
	var b strings.Builder
	b.WriteString(word)
	for _, e := range path {
		b.WriteByte('[')
		if i, ok := e.(int); ok {
			b.WriteString(strconv.Itoa(i))
		} else {
			writeStrRepr(&b, fmt.Sprint(e))
		}
		b.WriteByte(']')
	}
	return b.String()
}
