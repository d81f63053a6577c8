package jsonschema

import (
	"encoding/json"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// kind is the Python type a decoded JSON value has after json.loads.
type kind uint8

const (
	kindOther  kind = iota // not a JSON value: matches no type
	kindNull               // None
	kindBool               // bool
	kindNumber             // int or float (see num.isFloat)
	kindString             // str
	kindArray              // list
	kindObject             // dict
)

// classify tells what v is. Besides the values encoding/json produces with
// UseNumber, it accepts Go ints (Python int) and float64 (Python float), so
// that schema constants and hand-built instances can be written naturally.
func classify(v any) (kind, num) {
	switch v := v.(type) {
	case nil:
		return kindNull, num{}
	case bool:
		return kindBool, num{}
	case string:
		return kindString, num{}
	case json.Number:
		n, ok := parseNumber(v)
		if !ok {
			return kindOther, num{}
		}
		return kindNumber, n
	case map[string]any:
		return kindObject, num{}
	case []any:
		return kindArray, num{}
	case int:
		return kindNumber, num{i: int64(v)}
	case int64:
		return kindNumber, num{i: v}
	case int32:
		return kindNumber, num{i: int64(v)}
	case float64:
		return kindNumber, num{isFloat: true, f: v}
	case *Number:
		if v == nil {
			return kindOther, num{}
		}
		return kindNumber, v.num()
	}
	return kindOther, num{}
}

// sortedKeys returns the keys of m in Python's sorted() order for str, which
// is code point order, which is byte order for UTF-8.
//
// Python iterates a decoded object in document order; a Go map has none, so
// wherever the order of an instance's keys decides which error Python
// reports first, this package uses sorted order instead.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// pyEqual is Python's == between two decoded JSON values, where bool is an
// int (True == 1 == 1.0) and containers compare element by element.
func pyEqual(a, b any) bool {
	ka, na := classify(a)
	kb, nb := classify(b)
	if ka == kindBool {
		ka, na = kindNumber, boolNum(a.(bool))
	}
	if kb == kindBool {
		kb, nb = kindNumber, boolNum(b.(bool))
	}
	return equalKinds(a, b, ka, kb, na, nb, pyEqual)
}

// jsonEqual is python-jsonschema's _utils.equal: like ==, except that a bool
// never equals a number, at any depth.
func jsonEqual(a, b any) bool {
	ka, na := classify(a)
	kb, nb := classify(b)
	if ka == kindBool || kb == kindBool {
		return ka == kb && a.(bool) == b.(bool)
	}
	return equalKinds(a, b, ka, kb, na, nb, jsonEqual)
}

func equalKinds(a, b any, ka, kb kind, na, nb num, elem func(a, b any) bool) bool {
	if ka != kb {
		return false
	}
	switch ka {
	case kindNull:
		return true
	case kindBool:
		return a.(bool) == b.(bool)
	case kindNumber:
		c, ok := na.cmp(nb)
		return ok && c == 0
	case kindString:
		return a.(string) == b.(string)
	case kindArray:
		x, y := a.([]any), b.([]any)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !elem(x[i], y[i]) {
				return false
			}
		}
		return true
	case kindObject:
		x, y := a.(map[string]any), b.(map[string]any)
		if len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !elem(xv, yv) {
				return false
			}
		}
		return true
	}
	return false
}

func boolNum(b bool) num {
	if b {
		return num{i: 1}
	}
	return num{}
}

// unique reports whether no two items are equal in python-jsonschema's sense
// (_utils.uniq, which compares with _utils.equal). Each item is reduced to a
// canonical key that two items share exactly when they are equal, so the
// check takes linear time however many items there are.
func unique(items []any) bool {
	if len(items) < 2 {
		return true
	}
	if len(items) <= 16 {
		// Few items: compare pairs, which allocates nothing.
		for i := range items {
			for j := i + 1; j < len(items); j++ {
				if jsonEqual(items[i], items[j]) {
					return false
				}
			}
		}
		return true
	}
	seen := make(map[string]struct{}, len(items))
	var b strings.Builder
	for _, it := range items {
		b.Reset()
		if !canonicalKey(&b, it) {
			continue // a value equal to nothing, not even itself
		}
		k := b.String()
		if _, dup := seen[k]; dup {
			return false
		}
		seen[k] = struct{}{}
	}
	return true
}

// canonicalKey writes a prefix-free encoding of v in which equal numbers
// (1, 1.0, -0.0 and 0) share one spelling and bools differ from numbers. It
// returns false for values that equal nothing (NaN, or non-JSON values).
func canonicalKey(b *strings.Builder, v any) bool {
	k, n := classify(v)
	switch k {
	case kindNull:
		b.WriteByte('z')
	case kindBool:
		if v.(bool) {
			b.WriteByte('t')
		} else {
			b.WriteByte('f')
		}
	case kindNumber:
		switch {
		case !n.isFloat:
			b.WriteByte('i')
			b.WriteString(n.repr())
		case math.IsNaN(n.f):
			return false
		case n.isInteger():
			i, _ := new(big.Float).SetFloat64(n.f).Int(nil)
			b.WriteByte('i')
			b.WriteString(i.String())
		default:
			b.WriteByte('r')
			b.WriteString(strconv.FormatFloat(n.f, 'g', -1, 64))
		}
		b.WriteByte(';')
	case kindString:
		s := v.(string)
		b.WriteByte('s')
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	case kindArray:
		a := v.([]any)
		b.WriteByte('a')
		b.WriteString(strconv.Itoa(len(a)))
		b.WriteByte(':')
		for _, e := range a {
			if !canonicalKey(b, e) {
				return false
			}
		}
	case kindObject:
		m := v.(map[string]any)
		b.WriteByte('o')
		b.WriteString(strconv.Itoa(len(m)))
		b.WriteByte(':')
		for _, key := range sortedKeys(m) {
			canonicalKey(b, key)
			if !canonicalKey(b, m[key]) {
				return false
			}
		}
	default:
		return false
	}
	return true
}
