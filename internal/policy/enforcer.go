package policy

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Credentials describe the caller, as Placement's request context gives
// them to oslo.policy.
type Credentials struct {
	UserID    string
	ProjectID string // empty for a system-scoped caller
	Roles     []string
	// SystemScope is "all" for a system-scoped token
	// (OpenStack-System-Scope: all) and empty for a project-scoped one.
	SystemScope string
	// The rest is set only by token authentication (empty is Python's None,
	// as with noauth2): the domains, the token's is_admin_project (the zero
	// value keeps oslo.context's default True), and the X-Service-Token's
	// holder when one was validated.
	UserDomainID, ProjectDomainID, DomainID  string
	NotAdminProject                          bool
	ServiceUserID, ServiceUserDomainID       string
	ServiceProjectID, ServiceProjectDomainID string
	ServiceRoles                             []string
}

// Target describes what the request acts on; rules read it through
// %(key)s. A nil Target is upstream's default target: project_id and
// user_id of the caller. Placement passes an explicit target only for
// placement:usages: {"project_id": <the queried project_id>}.
type Target map[string]string

// Options configure an Enforcer.
type Options struct {
	// EnforceNewDefaults is oslo.policy's [oslo_policy] enforce_new_defaults.
	// When false, a default rule that has a deprecated rule, and that the
	// policy file does not override, allows what either allows.
	EnforceNewDefaults bool
	// File is a YAML or JSON policy file mapping rule names to rules. Its
	// rules replace the defaults of the same name and add the others. Empty
	// means none.
	File string
}

// ErrForbidden is matched by every error Authorize returns.
var ErrForbidden = errors.New("forbidden by policy")

// Denied is the error Authorize returns when a rule refuses a request.
type Denied struct {
	// Rule is the rule name passed to Authorize.
	Rule string
	// WrongScope is true when the token's scope (system or project) is not
	// one the rule accepts; the rule itself was not evaluated.
	WrongScope bool
}

// Error returns the detail upstream Placement sends with its 403. It is a
// sentence, unlike our other errors, because clients see it verbatim.
func (d *Denied) Error() string {
	return "Policy does not allow " + d.Rule + " to be performed."
}

// Is makes errors.Is(err, ErrForbidden) hold.
func (d *Denied) Is(target error) bool { return target == ErrForbidden }

// rule is a rule ready to evaluate.
type rule struct {
	name   string
	root   *node
	scopes scopeSet // from the registered default; zero: any scope
}

// Enforcer decides whether callers may perform Placement operations. It is
// immutable after New and safe for concurrent use.
type Enforcer struct {
	rules map[string]*rule
	// fallback is the rule named "default", used for unknown rule names as
	// oslo.policy's policy_default_rule; nil when there is none.
	fallback *rule
	warnings []string
}

// defaultRuleName is oslo.policy's [oslo_policy] policy_default_rule.
const defaultRuleName = "default"

// New builds an Enforcer from Placement's and the instance API's default rules and, when
// opts.File is set, the rules in that file.
//
// A file that cannot be read, is not a YAML or JSON mapping, or maps a name
// to something other than a rule (a string, a list-of-lists rule, or null)
// is an error that names the file. A rule that does not parse is not an
// error: as oslo.policy does, it is kept and denies ("!") wherever it fails
// to parse; Warnings reports it, together with references to undefined
// rules and reference cycles.
func New(opts Options) (*Enforcer, error) {
	var file map[string]*node
	var warnings []string
	if opts.File != "" {
		var err error
		file, warnings, err = loadFile(opts.File)
		if err != nil {
			return nil, err
		}
	}
	e := newEnforcer(slices.Concat(placementDefaults(), instanceDefaults(), fleetDefaults(), replicaDefaults()), file, opts.EnforceNewDefaults)
	e.warnings = append(warnings, e.warnings...)
	return e, nil
}

// newEnforcer combines registered defaults with the parsed rules of a policy
// file the way oslo.policy's Enforcer.load_rules does.
func newEnforcer(defaults []ruleDefault, file map[string]*node, enforceNew bool) *Enforcer {
	e := &Enforcer{rules: make(map[string]*rule, len(defaults)+len(file))}
	for name, root := range file {
		e.rules[name] = &rule{name: name, root: root}
	}
	for _, d := range defaults {
		root, problems := parse(d.check)
		for _, p := range problems {
			e.warnings = append(e.warnings, fmt.Sprintf("default rule %q: %s", d.name, p))
		}
		if r, ok := e.rules[d.name]; ok {
			// The file overrides the rule; the scope stays the default's.
			r.scopes = d.scopes
			continue
		}
		if d.deprecatedCheck != "" {
			root = e.withDeprecated(d, root, file, enforceNew)
		}
		e.rules[d.name] = &rule{name: d.name, root: root, scopes: d.scopes}
	}
	e.fallback = e.rules[defaultRuleName]
	e.resolve()
	return e
}

// withDeprecated applies oslo.policy's handling of a deprecated rule to a
// default the file does not override: the file's value for the deprecated
// name, when it sets one (other than a plain reference to the new name),
// replaces the default; otherwise, unless new defaults are enforced, the
// rule allows what the new or the deprecated check string allows.
func (e *Enforcer) withDeprecated(d ruleDefault, root *node, file map[string]*node, enforceNew bool) *node {
	if d.deprecatedName != d.name {
		if old, ok := file[d.deprecatedName]; ok && !(old.kind == nodeRule && old.ref == d.name) {
			e.warnings = append(e.warnings, fmt.Sprintf(
				"policy file sets deprecated rule %q: it replaces the default of %q", d.deprecatedName, d.name))
			return old
		}
	}
	if enforceNew || d.deprecatedCheck == d.check {
		return root
	}
	old, problems := parse(d.deprecatedCheck)
	for _, p := range problems {
		e.warnings = append(e.warnings, fmt.Sprintf("deprecated rule of %q: %s", d.name, p))
	}
	return &node{kind: nodeOr, kids: []*node{root, old}}
}

// resolve points every rule:NAME at its rule, or at the "default" rule when
// NAME is undefined (oslo.policy's Rules falls back to it too), then cuts
// reference cycles: a reference that closes a cycle denies. oslo.policy
// would recurse until Python gives up; cutting keeps every evaluation
// finite. Undefined references and cuts are recorded as warnings.
func (e *Enforcer) resolve() {
	names := slices.Sorted(maps.Keys(e.rules))
	for _, name := range names {
		walk(e.rules[name].root, func(n *node) {
			if n.kind != nodeRule {
				return
			}
			if r, ok := e.rules[n.ref]; ok {
				n.target = r
				return
			}
			n.target = e.fallback
			what := "denies"
			if e.fallback != nil {
				what = "uses rule \"default\""
			}
			e.warnings = append(e.warnings, fmt.Sprintf("rule %q refers to undefined rule %q, which %s", name, n.ref, what))
		})
	}

	const (
		unvisited = iota
		visiting
		visited
	)
	state := make(map[*rule]int, len(e.rules))
	var visit func(r *rule)
	visit = func(r *rule) {
		state[r] = visiting
		walk(r.root, func(n *node) {
			if n.kind != nodeRule || n.target == nil {
				return
			}
			switch state[n.target] {
			case unvisited:
				visit(n.target)
			case visiting:
				e.warnings = append(e.warnings, fmt.Sprintf(
					"rule %q refers to %q, which closes a reference cycle: that reference denies", r.name, n.ref))
				n.target = nil
			}
		})
		state[r] = visited
	}
	for _, name := range names {
		if r := e.rules[name]; state[r] == unvisited {
			visit(r)
		}
	}
}

// walk calls fn on n and every node below it, not following references.
func walk(n *node, fn func(*node)) {
	fn(n)
	for _, k := range n.kids {
		walk(k, fn)
	}
}

// Warnings returns the problems New found in the rules and chose to
// tolerate, as oslo.policy does: unparsable rules and checks (which deny),
// references to undefined rules, reference cycles, and the use of a
// deprecated rule name in the policy file. The caller should log them. The
// caller owns the returned slice.
func (e *Enforcer) Warnings() []string {
	return slices.Clone(e.warnings)
}

// Authorize returns nil when rule allows the caller c to act on target t,
// and a *Denied otherwise (errors.Is(err, ErrForbidden) holds).
//
// As in oslo.policy, a rule registered with scope types first refuses a
// caller of another scope: a system-scoped caller for a project-scoped
// rule, and the reverse. An unknown rule name is evaluated as the "default"
// rule if a policy file defines one, and is refused otherwise. A nil t is
// the default target (see Target).
//
// Authorize does not allocate unless it refuses.
func (e *Enforcer) Authorize(name string, c Credentials, t Target) error {
	r := e.rules[name]
	if r == nil {
		r = e.fallback
		if r == nil {
			return &Denied{Rule: name}
		}
	} else if r.scopes != 0 && r.scopes&tokenScope(&c) == 0 {
		return &Denied{Rule: name, WrongScope: true}
	}
	if !(env{c: &c, t: t}).eval(r.root) {
		return &Denied{Rule: name}
	}
	return nil
}

// tokenScope is the scope of the caller's token, as oslo.policy derives it:
// system when system_scope is set, project otherwise (this service has no
// domain-scoped tokens).
func tokenScope(c *Credentials) scopeSet {
	if c.SystemScope != "" {
		return scopeSystem
	}
	return scopeProject
}
