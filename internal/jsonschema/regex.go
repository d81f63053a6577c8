package jsonschema

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Python's re module and Go's RE2 agree on the simple patterns Placement
// writes ("^[A-Z0-9_]+$", "^[0-9a-fA-F-]{36}$", "^member_of([a-zA-Z0-9_-]{1,64})?$"),
// except in a few places that translatePattern rewrites:
//
//   - $ outside a class matches at the end or before a final newline in
//     Python, so "^CUSTOM_[A-Z0-9_]+$" accepts "CUSTOM_FOO\n". It becomes
//     (?:\n?\z), which is the same for a yes/no search.
//   - \Z is RE2's \z.
//   - \d, \w and \s (and \D, \W, \S outside classes) are Unicode-aware for
//     str patterns in Python; they become Unicode classes.
//   - {,n} means {0,n}.
//
// Constructs RE2 cannot express (lookaround, backreferences, inline flags,
// conditional groups) are refused when the schema is compiled, rather than
// silently matching differently.

const (
	pyDigit    = `\p{Nd}`
	pyWordBody = `\p{L}\p{N}_`
	pySpace    = `\t\n\v\f\r \x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`
)

// matcher answers re.search(pattern, s) is not None.
type matcher interface {
	MatchString(s string) bool
}

// compilePattern compiles a Python re pattern for re.search semantics.
func compilePattern(pattern string) (matcher, error) {
	re, err := compileRE2(pattern)
	if err != nil {
		return nil, err
	}
	if sp, ok := parseSimplePattern(pattern); ok {
		return sp, nil
	}
	return re, nil
}

func compileRE2(pattern string) (*regexp.Regexp, error) {
	t, err := translatePattern(pattern)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	re, err := regexp.Compile(t)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	return re, nil
}

func translatePattern(p string) (string, error) {
	var b strings.Builder
	rs := []rune(p)
	inClass := false
	classStart := 0 // index of the first rune inside the current class
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == '\\' {
			if i+1 >= len(rs) {
				return "", fmt.Errorf("trailing backslash")
			}
			i++
			out, err := translateEscape(rs[i], inClass)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
			continue
		}
		if inClass {
			switch {
			case r == ']' && i > classStart:
				inClass = false
				b.WriteByte(']')
			case r == '[':
				// Python takes [ literally here; RE2 would read [:alpha:].
				b.WriteString(`\[`)
			default:
				b.WriteRune(r)
			}
			continue
		}
		switch r {
		case '[':
			inClass = true
			b.WriteByte('[')
			classStart = i + 1
			if classStart < len(rs) && rs[classStart] == '^' {
				b.WriteByte('^')
				i++
				classStart++
			}
			// A ] first in the class is a literal in Python.
			if classStart < len(rs) && rs[classStart] == ']' {
				b.WriteString(`\]`)
				i++
				classStart++
			}
		case '$':
			b.WriteString(`(?:\n?\z)`)
		case '(':
			if i+1 < len(rs) && rs[i+1] == '?' {
				rest := string(rs[i+2:])
				switch {
				case strings.HasPrefix(rest, ":"):
				case strings.HasPrefix(rest, "P<"):
				default:
					return "", fmt.Errorf("unsupported group (?%.2s", rest)
				}
			}
			b.WriteByte('(')
		case '{':
			if i+1 < len(rs) && rs[i+1] == ',' {
				b.WriteString("{0")
				continue
			}
			b.WriteByte('{')
		default:
			b.WriteRune(r)
		}
	}
	if inClass {
		return "", fmt.Errorf("unterminated character set")
	}
	return b.String(), nil
}

func translateEscape(c rune, inClass bool) (string, error) {
	switch c {
	case 'd':
		return pyDigit, nil
	case 'w':
		if inClass {
			return pyWordBody, nil
		}
		return "[" + pyWordBody + "]", nil
	case 's':
		if inClass {
			return pySpace, nil
		}
		return "[" + pySpace + "]", nil
	case 'D':
		if inClass {
			return "", fmt.Errorf(`\D inside a character set is not supported`)
		}
		return `\P{Nd}`, nil
	case 'W', 'S':
		if inClass {
			return "", fmt.Errorf(`\%c inside a character set is not supported`, c)
		}
		if c == 'W' {
			return "[^" + pyWordBody + "]", nil
		}
		return "[^" + pySpace + "]", nil
	case 'Z':
		if inClass {
			return "", fmt.Errorf(`bad escape \Z in a character set`)
		}
		return `\z`, nil
	case 'A':
		if inClass {
			return "", fmt.Errorf(`bad escape \A in a character set`)
		}
		return `\A`, nil
	case 'n', 't', 'r', 'f', 'v', 'a':
		return `\` + string(c), nil
	case 'b', 'B':
		// Python's \b is Unicode-aware, RE2's ASCII-only.
		return "", fmt.Errorf(`\%c is not supported`, c)
	}
	if c >= '0' && c <= '9' {
		return "", fmt.Errorf("backreferences and octal escapes are not supported")
	}
	if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		// \x, \u, \N{...} and unknown letters: not needed by any schema.
		return "", fmt.Errorf(`escape \%c is not supported`, c)
	}
	if c < 0x80 {
		// RE2 takes any escaped ASCII punctuation literally, as Python does.
		return `\` + string(c), nil
	}
	return string(c), nil
}

// simplePattern matches the shape most of Placement's patterns have,
// ^PREFIX[CLASS]{min,max}$ with ASCII literals and class, several times
// faster than the regexp package.
type simplePattern struct {
	prefix   string
	class    [128]bool
	min, max int // max < 0: unbounded
}

func (p *simplePattern) MatchString(s string) bool {
	if p.matchExact(s) {
		return true
	}
	// Python's $ also matches before a final newline.
	return len(s) > 0 && s[len(s)-1] == '\n' && p.matchExact(s[:len(s)-1])
}

func (p *simplePattern) matchExact(s string) bool {
	if len(s) < len(p.prefix) || s[:len(p.prefix)] != p.prefix {
		return false
	}
	rest := s[len(p.prefix):]
	if len(rest) < p.min || p.max >= 0 && len(rest) > p.max {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c >= 128 || !p.class[c] {
			return false
		}
	}
	return true
}

// parseSimplePattern recognises ^PREFIX[CLASS]Q$ where PREFIX is plain ASCII
// letters, digits and _ , CLASS holds ASCII characters and ranges (no
// negation, no escapes), and Q is +, *, {n} or {m,n}.
func parseSimplePattern(p string) (*simplePattern, bool) {
	if !strings.HasPrefix(p, "^") || !strings.HasSuffix(p, "$") {
		return nil, false
	}
	body := p[1 : len(p)-1]
	open := strings.IndexByte(body, '[')
	closing := strings.IndexByte(body, ']')
	if open < 0 || closing < open+2 {
		return nil, false
	}
	sp := &simplePattern{prefix: body[:open]}
	for i := 0; i < len(sp.prefix); i++ {
		c := sp.prefix[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return nil, false
		}
	}
	class := body[open+1 : closing]
	if class[0] == '^' {
		return nil, false
	}
	for i := 0; i < len(class); i++ {
		c := class[i]
		if c >= 128 || c == '\\' || c == '[' {
			return nil, false
		}
		if i+2 < len(class) && class[i+1] == '-' {
			hi := class[i+2]
			if hi >= 128 || hi < c || hi == '\\' || hi == '[' {
				return nil, false
			}
			for x := c; x <= hi; x++ {
				sp.class[x] = true
			}
			i += 2
			continue
		}
		sp.class[c] = true
	}
	switch q := body[closing+1:]; {
	case q == "+":
		sp.min, sp.max = 1, -1
	case q == "*":
		sp.min, sp.max = 0, -1
	case strings.HasPrefix(q, "{") && strings.HasSuffix(q, "}"):
		lo, hi, isRange := strings.Cut(q[1:len(q)-1], ",")
		min, err := strconv.Atoi(lo)
		if err != nil || min < 0 {
			return nil, false
		}
		max := min
		if isRange {
			if max, err = strconv.Atoi(hi); err != nil || max < min {
				return nil, false
			}
		}
		sp.min, sp.max = min, max
	default:
		return nil, false
	}
	return sp, true
}
