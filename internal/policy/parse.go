package policy

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// nodeKind says what a node of a parsed rule checks.
type nodeKind uint8

const (
	nodeTrue    nodeKind = iota // "@" or the empty rule
	nodeFalse                   // "!" and everything oslo fails closed on
	nodeNot                     // not kids[0]
	nodeAnd                     // all kids
	nodeOr                      // any kid
	nodeRole                    // role:MATCH, case-insensitive
	nodeRule                    // rule:NAME
	nodeGeneric                 // KIND:MATCH against a credential or a literal
)

// node is one element of a parsed rule. Trees are built by parse and
// newEnforcer and never change once New has returned.
type node struct {
	kind nodeKind
	kids []*node

	// text is the source of a leaf check ("role:admin"), for String.
	text string

	// match is the right-hand side of role and generic checks.
	match template

	// ref names the rule a nodeRule refers to; target is that rule, resolved
	// by newEnforcer (nil: no such rule and no "default" rule, so false).
	ref    string
	target *rule

	// attr and literal say what a generic check compares match with.
	attr    credAttr
	literal string
}

// String renders a tree the way oslo.policy's checks print themselves:
// "(a and b)", "(a or b)", "not a", "@", "!", and leaves as written.
// Tests use it to see how a rule was grouped.
func (n *node) String() string {
	switch n.kind {
	case nodeTrue:
		return "@"
	case nodeFalse:
		return "!"
	case nodeNot:
		return "not " + n.kids[0].String()
	case nodeAnd, nodeOr:
		op := " and "
		if n.kind == nodeOr {
			op = " or "
		}
		parts := make([]string, len(n.kids))
		for i, k := range n.kids {
			parts[i] = k.String()
		}
		return "(" + strings.Join(parts, op) + ")"
	default:
		return n.text
	}
}

var (
	trueNode  = &node{kind: nodeTrue}
	falseNode = &node{kind: nodeFalse}
)

// credAttr names the credential attribute a generic check reads. The set is
// what oslo.context's to_policy_values gives oslo.policy, plus "system",
// which oslo.policy adds for system-scoped requests.
type credAttr uint8

const (
	attrAbsent                 credAttr = iota // not a credential key: the check is false
	attrNone                                   // a key whose value is always Python's None
	attrLiteral                                // the kind is a Python literal (True:%(x)s)
	attrUserID                                 // user_id
	attrProjectID                              // project_id
	attrSystemScope                            // system_scope
	attrSystem                                 // system, present only when system-scoped
	attrRoles                                  // roles, a list: any element may match
	attrIsAdminProject                         // is_admin_project: True unless NotAdminProject
	attrUserDomainID                           // user_domain_id
	attrProjectDomainID                        // project_domain_id
	attrDomainID                               // domain_id
	attrServiceUserID                          // service_user_id
	attrServiceUserDomainID                    // service_user_domain_id
	attrServiceProjectID                       // service_project_id
	attrServiceProjectDomainID                 // service_project_domain_id
	attrServiceRoles                           // service_roles, a list
)

// credKeys maps the credential keys oslo.policy sees to attributes. Keys
// whose value this service never sets are Python None, which str() turns
// into "None"; oslo compares that string like any other.
var credKeys = map[string]credAttr{
	"user_id":                   attrUserID,
	"project_id":                attrProjectID,
	"system_scope":              attrSystemScope,
	"system":                    attrSystem,
	"roles":                     attrRoles,
	"is_admin_project":          attrIsAdminProject,
	"user_domain_id":            attrUserDomainID,
	"domain_id":                 attrDomainID,
	"project_domain_id":         attrProjectDomainID,
	"service_user_id":           attrServiceUserID,
	"service_user_domain_id":    attrServiceUserDomainID,
	"service_project_id":        attrServiceProjectID,
	"service_project_domain_id": attrServiceProjectDomainID,
	"service_roles":             attrServiceRoles, // empty (noauth2): nothing matches
}

// template is the match side of a check: literal text with %(key)s
// references into the target, as Python's "%" operator reads it.
type template struct {
	segs []segment
}

type segment struct {
	text string // literal text, or the target key when key is true
	key  bool
}

// parseTemplate reads s the way Python's `s % target` would with a dict
// target. Only %(key)s and %% are supported; every other conversion is an
// error (oslo.policy would raise or format oddly at enforcement time).
func parseTemplate(s string) (template, error) {
	if !strings.Contains(s, "%") {
		if s == "" {
			return template{}, nil
		}
		return template{segs: []segment{{text: s}}}, nil
	}
	var t template
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.segs = append(t.segs, segment{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c != '%' {
			lit.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return template{}, fmt.Errorf("incomplete format in %q", s)
		}
		switch s[i+1] {
		case '%':
			lit.WriteByte('%')
			i += 2
		case '(':
			// Python matches nested parentheses inside the key.
			depth, j := 1, i+2
			for ; j < len(s) && depth > 0; j++ {
				switch s[j] {
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			if depth > 0 {
				return template{}, fmt.Errorf("incomplete format key in %q", s)
			}
			key := s[i+2 : j-1]
			if j >= len(s) || s[j] != 's' {
				return template{}, fmt.Errorf("unsupported format after %%(%s) in %q: only %%(key)s is supported", key, s)
			}
			flush()
			t.segs = append(t.segs, segment{text: key, key: true})
			i = j + 1
		default:
			return template{}, fmt.Errorf("unsupported format in %q: only %%(key)s and %%%% are supported", s)
		}
	}
	flush()
	return t, nil
}

// single returns the value of a one-segment template without building a
// string. ok is false when a referenced key is missing from the target.
// multi is true when the template has several segments (use expand).
func (t template) single(tg env) (v string, ok, multi bool) {
	switch len(t.segs) {
	case 0:
		return "", true, false
	case 1:
		s := t.segs[0]
		if !s.key {
			return s.text, true, false
		}
		v, ok = tg.get(s.text)
		return v, ok, false
	}
	return "", false, true
}

// expand substitutes the target into t. ok is false when a key is missing,
// which oslo.policy treats as a failed check.
func (t template) expand(tg env) (string, bool) {
	if v, ok, multi := t.single(tg); !multi {
		return v, ok
	}
	var b strings.Builder
	for _, s := range t.segs {
		if !s.key {
			b.WriteString(s.text)
			continue
		}
		v, ok := tg.get(s.text)
		if !ok {
			return "", false
		}
		b.WriteString(v)
	}
	return b.String(), true
}

// equal reports whether t, expanded against the target, equals want. It
// compares piece by piece so that it does not allocate.
func (t template) equal(tg env, want string) bool {
	for _, s := range t.segs {
		part := s.text
		if s.key {
			v, ok := tg.get(s.text)
			if !ok {
				return false
			}
			part = v
		}
		if !strings.HasPrefix(want, part) {
			return false
		}
		want = want[len(part):]
	}
	return want == ""
}

// Token kinds of oslo.policy's shift-reduce parser.
type tokKind uint8

const (
	tokLParen tokKind = iota
	tokRParen
	tokAnd
	tokOr
	tokNot
	tokString // a quoted token: never reducible, so the rule fails to parse
	tokCheck
	tokAndExpr
	tokOrExpr
)

type token struct {
	kind tokKind
	n    *node
}

// parse turns a rule in the oslo.policy language into a tree. It follows
// oslo's greedy shift-reduce parser, so it accepts and groups exactly what
// oslo does: "not" binds tighter than "and", which binds tighter than "or";
// keywords are case-insensitive; parentheses may stick to checks.
//
// Like oslo it fails closed: a rule that does not reduce to one expression
// is "!" as a whole, and a single malformed check ("foo", an unsupported
// kind or format) is "!" in its place. Every such problem is returned so
// that the caller can report it; the tree is always usable.
func parse(rule string) (*node, []string) {
	if rule == "" {
		return trueNode, nil
	}
	var p parser
	for _, field := range strings.FieldsFunc(rule, isPySpace) {
		p.token(field)
	}
	if len(p.stack) != 1 {
		return falseNode, append(p.problems, fmt.Sprintf("cannot parse %q: treated as \"!\"", rule))
	}
	switch top := p.stack[0]; top.kind {
	case tokCheck, tokAndExpr, tokOrExpr:
		return top.n, p.problems
	}
	return falseNode, append(p.problems, fmt.Sprintf("cannot parse %q: treated as \"!\"", rule))
}

// isPySpace is Python's str.isspace, which the re module's \s follows:
// Unicode White_Space plus the ASCII information separators.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

type parser struct {
	stack    []token
	problems []string
}

// token splits one whitespace-free field into tokens and shifts them, as
// oslo's tokenizer does: leading "(" and trailing ")" are separate tokens,
// and the rest is a keyword, a quoted string or a check.
func (p *parser) token(field string) {
	body := strings.TrimLeft(field, "(")
	for range len(field) - len(body) {
		p.shift(token{kind: tokLParen})
	}
	if body == "" {
		return
	}
	clean := strings.TrimRight(body, ")")
	switch {
	case strings.EqualFold(clean, "and"):
		p.shift(token{kind: tokAnd})
	case strings.EqualFold(clean, "or"):
		p.shift(token{kind: tokOr})
	case strings.EqualFold(clean, "not"):
		p.shift(token{kind: tokNot})
	case clean == "":
	case len(body) >= 2 && (body[0] == '"' || body[0] == '\'') && body[len(body)-1] == body[0]:
		// oslo tests the quotes before dropping trailing parentheses.
		p.problems = append(p.problems, fmt.Sprintf("quoted string %s is not a check", body))
		p.shift(token{kind: tokString})
	default:
		n, problem := parseCheck(clean)
		if problem != "" {
			p.problems = append(p.problems, problem)
		}
		p.shift(token{kind: tokCheck, n: n})
	}
	for range len(body) - len(clean) {
		p.shift(token{kind: tokRParen})
	}
}

func (p *parser) shift(t token) {
	p.stack = append(p.stack, t)
	for p.reduce() {
	}
}

// reduce applies the one reduction whose pattern ends the stack, if any.
// The patterns are oslo's; at most one can match a given stack tail.
func (p *parser) reduce() bool {
	s := p.stack
	n := len(s)
	if n < 2 {
		return false
	}
	last, prev := s[n-1], s[n-2]
	if prev.kind == tokNot && last.kind == tokCheck {
		// not check -> check
		s[n-2] = token{kind: tokCheck, n: &node{kind: nodeNot, kids: []*node{last.n}}}
		p.stack = s[:n-1]
		return true
	}
	if n < 3 {
		return false
	}
	first := s[n-3]
	switch {
	case first.kind == tokLParen && last.kind == tokRParen &&
		(prev.kind == tokCheck || prev.kind == tokAndExpr || prev.kind == tokOrExpr):
		// ( expr ) -> check
		s[n-3] = token{kind: tokCheck, n: prev.n}
	case prev.kind == tokAnd && last.kind == tokCheck && first.kind == tokCheck:
		// check and check -> and_expr
		s[n-3] = token{kind: tokAndExpr, n: &node{kind: nodeAnd, kids: []*node{first.n, last.n}}}
	case prev.kind == tokAnd && last.kind == tokCheck && first.kind == tokAndExpr:
		// and_expr and check -> and_expr
		first.n.kids = append(first.n.kids, last.n)
		s[n-3] = first
	case prev.kind == tokAnd && last.kind == tokCheck && first.kind == tokOrExpr:
		// or_expr and check -> or_expr: "and" takes the last operand of
		// the "or", extending it when it already is an "and".
		or := first.n
		tail := or.kids[len(or.kids)-1]
		if tail.kind == nodeAnd {
			tail.kids = append(tail.kids, last.n)
		} else {
			or.kids[len(or.kids)-1] = &node{kind: nodeAnd, kids: []*node{tail, last.n}}
		}
		s[n-3] = first
	case prev.kind == tokOr && last.kind == tokCheck && (first.kind == tokCheck || first.kind == tokAndExpr):
		// check or check, and_expr or check -> or_expr
		s[n-3] = token{kind: tokOrExpr, n: &node{kind: nodeOr, kids: []*node{first.n, last.n}}}
	case prev.kind == tokOr && last.kind == tokCheck && first.kind == tokOrExpr:
		// or_expr or check -> or_expr
		first.n.kids = append(first.n.kids, last.n)
		s[n-3] = first
	default:
		return false
	}
	p.stack = s[:n-2]
	return true
}

// parseCheck parses one check ("role:admin", "@", ...). A malformed check is
// "!" with a problem, as in oslo.policy, which logs and fails closed on it.
func parseCheck(s string) (*node, string) {
	switch s {
	case "!":
		return falseNode, ""
	case "@":
		return trueNode, ""
	}
	kind, match, ok := strings.Cut(s, ":")
	if !ok {
		return falseNode, fmt.Sprintf("check %q has no kind: treated as \"!\"", s)
	}
	switch kind {
	case "rule":
		return &node{kind: nodeRule, text: s, ref: match}, ""
	case "http", "https":
		return falseNode, fmt.Sprintf("check %q: external %s checks are not supported: treated as \"!\"", s, kind)
	}
	t, err := parseTemplate(match)
	if err != nil {
		return falseNode, fmt.Sprintf("check %q: %v: treated as \"!\"", s, err)
	}
	if kind == "role" {
		return &node{kind: nodeRole, text: s, match: t}, ""
	}
	n := &node{kind: nodeGeneric, text: s, match: t}
	if lit, ok := pyLiteral(kind); ok {
		n.attr, n.literal = attrLiteral, lit
	} else {
		n.attr = credKeys[kind] // attrAbsent for unknown and dotted keys
	}
	return n, ""
}

// pyLiteral returns str(ast.literal_eval(kind)) for the literals oslo.policy
// users write on the left of a generic check: True, False, None, decimal
// integers and simple quoted strings. Anything else is a credential key.
func pyLiteral(kind string) (string, bool) {
	switch kind {
	case "True", "False", "None":
		return kind, true
	}
	if n := len(kind); n >= 2 && (kind[0] == '\'' || kind[0] == '"') && kind[n-1] == kind[0] {
		inner := kind[1 : n-1]
		if !strings.ContainsAny(inner, "\\\n\r"+kind[:1]) && utf8.ValidString(inner) {
			return inner, true
		}
		return "", false
	}
	digits := strings.TrimLeft(kind, "+-")
	if digits == "" || len(kind)-len(digits) > 1 {
		return "", false
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	if len(digits) > 1 && digits[0] == '0' {
		return "", false // Python rejects leading zeros
	}
	if kind[0] == '-' && digits != "0" {
		return "-" + digits, true
	}
	return digits, true
}

// parseListRule parses oslo.policy's old list-of-lists syntax: the outer
// list is joined by "or", each inner list by "and", and a bare string in the
// outer list is a one-element inner list. Each element is a single check,
// without operators. An empty list allows; a list of empty lists denies.
func parseListRule(rule [][]string) (*node, []string) {
	if len(rule) == 0 {
		return trueNode, nil
	}
	var problems []string
	or := &node{kind: nodeOr}
	for _, inner := range rule {
		if len(inner) == 0 {
			continue
		}
		and := &node{kind: nodeAnd}
		for _, c := range inner {
			n, problem := parseCheck(c)
			if problem != "" {
				problems = append(problems, problem)
			}
			and.kids = append(and.kids, n)
		}
		if len(and.kids) == 1 {
			or.kids = append(or.kids, and.kids[0])
		} else {
			or.kids = append(or.kids, and)
		}
	}
	switch len(or.kids) {
	case 0:
		return falseNode, problems
	case 1:
		return or.kids[0], problems
	}
	return or, problems
}
