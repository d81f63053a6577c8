package jsonschema

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Number is a numeric schema value (minimum, maximum and the exclusive
// forms). It remembers whether it was written as a Python int or a Python
// float, because the two print differently in messages: a maximum of
// Int(2147483647) prints as 2147483647, Float(1) as 1.0.
type Number struct {
	isFloat bool
	i       int64
	f       float64
}

// Int returns the Python int v as a schema Number.
func Int(v int64) *Number { return &Number{i: v} }

// Float returns the Python float v as a schema Number. v must not be NaN.
func Float(v float64) *Number { return &Number{isFloat: true, f: v} }

// num is a number seen the way Python sees it after json.loads: an int of
// any size, or an IEEE double. A JSON literal with a fraction or an exponent
// is a float (1.0, 1e2); any other literal is an int (-0 is the int 0).
type num struct {
	isFloat bool
	i       int64
	big     *big.Int // set when the int does not fit in int64
	huge    string   // set instead of big for ints of more than hugeDigits digits
	f       float64
}

// hugeDigits bounds the ints parsed into a big.Int, whose decimal parsing
// takes quadratic time. Longer ints exceed every int64 and float64 bound a
// schema can hold, so their sign and digit count settle every comparison.
// (Python's json.loads refuses ints of more than 4300 digits outright.)
const hugeDigits = 400

func (n *Number) num() num {
	if n.isFloat {
		return num{isFloat: true, f: n.f}
	}
	return num{i: n.i}
}

// parseNumber reads a json.Number literal. ok is false when the text is not
// a JSON number at all (only possible for hand-made json.Number values).
func parseNumber(s json.Number) (num, bool) {
	text := string(s)
	if text == "" {
		return num{}, false
	}
	if strings.ContainsAny(text, ".eE") {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			// Python's float() turns an overflowing literal into an
			// infinity, as ParseFloat does together with ErrRange.
			if errors.Is(err, strconv.ErrRange) {
				return num{isFloat: true, f: f}, true
			}
			return num{}, false
		}
		return num{isFloat: true, f: f}, true
	}
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		return num{i: i}, true
	}
	if len(text) > hugeDigits {
		if !isIntLiteral(text) {
			return num{}, false
		}
		return num{huge: text}, true
	}
	b, ok := new(big.Int).SetString(text, 10)
	if !ok {
		return num{}, false
	}
	if b.IsInt64() {
		return num{i: b.Int64()}, true
	}
	return num{big: b}, true
}

// isIntLiteral reports whether s is a JSON int with more than one digit
// (so without leading zeros) and not -0.
func isIntLiteral(s string) bool {
	digits := strings.TrimPrefix(s, "-")
	if len(digits) < 2 || digits[0] == '0' {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// isInteger is the "integer" type of the 2019-09 and 2020-12 drafts in
// python-jsonschema: an int, or a float whose value is whole (1.0 is an
// integer, inf and nan are not).
func (n num) isInteger() bool {
	if !n.isFloat {
		return true
	}
	return !math.IsInf(n.f, 0) && !math.IsNaN(n.f) && n.f == math.Trunc(n.f)
}

// isZeroOrOne reports Python's `n == 0 or n == 1`.
func (n num) isZeroOrOne() bool {
	if n.isFloat {
		return n.f == 0 || n.f == 1
	}
	return n.big == nil && n.huge == "" && (n.i == 0 || n.i == 1)
}

// cmp compares exactly, as Python compares int and float (without rounding
// the int to a float). ok is false when a NaN makes the pair unordered.
func (n num) cmp(m num) (c int, ok bool) {
	if n.huge != "" || m.huge != "" {
		return cmpHuge(n, m)
	}
	switch {
	case !n.isFloat && !m.isFloat:
		if n.big == nil && m.big == nil {
			return cmpInt64(n.i, m.i), true
		}
		return n.bigInt().Cmp(m.bigInt()), true
	case n.isFloat && m.isFloat:
		if math.IsNaN(n.f) || math.IsNaN(m.f) {
			return 0, false
		}
		return cmpFloat(n.f, m.f), true
	case n.isFloat:
		c, ok := m.cmp(n)
		return -c, ok
	}
	// n is an int, m a float.
	f := m.f
	switch {
	case math.IsNaN(f):
		return 0, false
	case math.IsInf(f, 1):
		return -1, true
	case math.IsInf(f, -1):
		return 1, true
	}
	const exact = 1 << 53
	if n.big == nil && n.i >= -exact && n.i <= exact {
		return cmpFloat(float64(n.i), f), true
	}
	a := new(big.Float).SetInt(n.bigInt())
	b := new(big.Float).SetFloat64(f)
	return a.Cmp(b), true
}

// cmpHuge compares when at least one side is a huge int.
func cmpHuge(n, m num) (int, bool) {
	if m.isFloat && math.IsNaN(m.f) || n.isFloat && math.IsNaN(n.f) {
		return 0, false
	}
	if n.huge == "" {
		c, ok := cmpHuge(m, n)
		return -c, ok
	}
	neg := n.huge[0] == '-'
	if m.isFloat && math.IsInf(m.f, 0) {
		return -int(math.Copysign(1, m.f)), true
	}
	if m.huge == "" {
		// Every other number lies between the negative and positive huge ints.
		if neg {
			return -1, true
		}
		return 1, true
	}
	mneg := m.huge[0] == '-'
	if neg != mneg {
		if neg {
			return -1, true
		}
		return 1, true
	}
	c := cmpInt64(int64(len(n.huge)), int64(len(m.huge)))
	if c == 0 {
		c = strings.Compare(n.huge, m.huge)
	}
	if neg {
		c = -c
	}
	return c, true
}

func (n num) bigInt() *big.Int {
	if n.big != nil {
		return n.big
	}
	return big.NewInt(n.i)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// repr is Python's repr() of the number.
func (n num) repr() string {
	if n.isFloat {
		return floatRepr(n.f)
	}
	if n.huge != "" {
		return n.huge
	}
	if n.big != nil {
		return n.big.String()
	}
	return strconv.FormatInt(n.i, 10)
}

// floatRepr is Python's repr(float): the shortest digits that round-trip,
// in positional notation when the decimal exponent is in [-4, 16), with ".0"
// added to whole numbers, and otherwise as d.ddde+XX.
func floatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // [-]d[.ddd]e±XX
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	mant, expText, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1 // digits are 0.DIGITS × 10^decpt
	var b strings.Builder
	b.WriteString(sign)
	switch {
	case decpt > -4 && decpt <= 16:
		switch {
		case decpt <= 0:
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -decpt))
			b.WriteString(digits)
		case decpt >= len(digits):
			b.WriteString(digits)
			b.WriteString(strings.Repeat("0", decpt-len(digits)))
			b.WriteString(".0")
		default:
			b.WriteString(digits[:decpt])
			b.WriteByte('.')
			b.WriteString(digits[decpt:])
		}
	default:
		b.WriteByte(digits[0])
		if len(digits) > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('e')
		if exp < 0 {
			b.WriteByte('-')
			exp = -exp
		} else {
			b.WriteByte('+')
		}
		if exp < 10 {
			b.WriteByte('0')
		}
		b.WriteString(strconv.Itoa(exp))
	}
	return b.String()
}
