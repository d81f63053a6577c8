package policy

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

// newTestEnforcer builds an Enforcer from rules written as a policy file
// would, on top of the given registered defaults.
func newTestEnforcer(t *testing.T, defaults []ruleDefault, rules map[string]string, enforceNew bool) *Enforcer {
	t.Helper()
	file := make(map[string]*node, len(rules))
	for name, r := range rules {
		file[name], _ = parse(r)
	}
	return newEnforcer(defaults, file, enforceNew)
}

var (
	projectCreds = Credentials{UserID: "u1", ProjectID: "p1", Roles: []string{"Member", "reader"}}
	systemCreds  = Credentials{UserID: "u2", Roles: []string{"admin"}, SystemScope: "all"}
	noRoleCreds  = Credentials{UserID: "u3", ProjectID: "p3"}
	tokenCreds   = Credentials{UserID: "u4", ProjectID: "p4", Roles: []string{"member"}, UserDomainID: "default",
		ProjectDomainID: "default", NotAdminProject: true, ServiceUserID: "nova", ServiceUserDomainID: "default",
		ServiceProjectID: "svc", ServiceProjectDomainID: "default", ServiceRoles: []string{"service", "reader"}}
)

func TestChecks(t *testing.T) {
	tests := []struct {
		name   string
		rule   string
		creds  Credentials
		target Target
		want   bool
	}{
		{"always", "@", noRoleCreds, nil, true},
		{"never", "!", projectCreds, nil, false},
		{"empty rule always", "", noRoleCreds, nil, true},
		{"blank rule never", "  ", projectCreds, nil, false},

		{"role matches", "role:reader", projectCreds, nil, true},
		{"role ignores case of rule", "role:READER", projectCreds, nil, true},
		{"role ignores case of credential", "role:member", projectCreds, nil, true},
		{"role missing", "role:admin", projectCreds, nil, false},
		{"role without roles", "role:admin", noRoleCreds, nil, false},
		{"role from target", "role:%(want)s", projectCreds, Target{"want": "reader"}, true},
		{"role from target, key missing", "role:%(want)s", projectCreds, Target{}, false},
		{"role from several target keys", "role:%(a)s%(b)s", projectCreds, Target{"a": "read", "b": "ER"}, true},

		{"project matches target", "project_id:%(project_id)s", projectCreds, Target{"project_id": "p1"}, true},
		{"project differs from target", "project_id:%(project_id)s", projectCreds, Target{"project_id": "p2"}, false},
		{"project, target key missing", "project_id:%(project_id)s", projectCreds, Target{"user_id": "u1"}, false},
		{"project, default target", "project_id:%(project_id)s", projectCreds, nil, true},
		{"user, default target", "user_id:%(user_id)s", projectCreds, nil, true},
		{"user matches target", "user_id:%(user_id)s", projectCreds, Target{"user_id": "u1"}, true},
		{"user differs from target", "user_id:%(user_id)s", projectCreds, Target{"user_id": "u9"}, false},
		{"project literal", "project_id:p1", projectCreds, nil, true},
		{"project literal differs", "project_id:P1", projectCreds, nil, false},
		{"project built from target", "project_id:%(a)s1", projectCreds, Target{"a": "p"}, true},
		{"percent sign", "project_id:p%%", Credentials{ProjectID: "p%"}, nil, true},
		{"unsupported format denies", "project_id:%(project_id)d", projectCreds, nil, false},

		{"system scope matches", "system_scope:all", systemCreds, nil, true},
		{"system scope of a project token", "system_scope:all", projectCreds, nil, false},
		{"system scope unset is None", "system_scope:None", projectCreds, nil, true},
		{"system key of a system token", "system:all", systemCreds, nil, true},
		{"system key absent for a project token", "system:None", projectCreds, nil, false},
		{"system token has no project", "project_id:None", systemCreds, nil, true},

		{"roles list, any element", "roles:reader", projectCreds, nil, true},
		{"roles list is case-sensitive", "roles:member", projectCreds, nil, false},
		{"is_admin_project", "is_admin_project:True", noRoleCreds, nil, true},
		{"is_admin_project of a token outside the admin project", "is_admin_project:True", tokenCreds, nil, false},
		{"is_admin_project False", "is_admin_project:False", tokenCreds, nil, true},
		{"domains unset are None", "user_domain_id:None and project_domain_id:None", projectCreds, nil, true},
		{"user domain", "user_domain_id:default", tokenCreds, nil, true},
		{"project domain", "project_domain_id:%(d)s", tokenCreds, Target{"d": "default"}, true},
		{"domain of a project token", "domain_id:None", tokenCreds, nil, true},
		{"service user", "service_user_id:nova and service_project_id:svc", tokenCreds, nil, true},
		{"service user domains", "service_user_domain_id:default and service_project_domain_id:default", tokenCreds, nil, true},
		{"service roles, any element", "service_roles:service", tokenCreds, nil, true},
		{"service roles differ", "service_roles:admin", tokenCreds, nil, false},
		{"no service token", "service_roles:service", projectCreds, nil, false},
		{"no service user is None", "service_user_id:None", projectCreds, nil, true},
		{"unset attribute is None", "domain_id:None", projectCreds, nil, true},
		{"unknown attribute", "flavor:small", projectCreds, nil, false},
		{"not unknown attribute", "not flavor:small", projectCreds, nil, true},
		{"dotted attribute", "user.enabled:True", projectCreds, nil, false},

		{"True literal", "True:%(enabled)s", noRoleCreds, Target{"enabled": "True"}, true},
		{"True literal is exact", "True:%(enabled)s", noRoleCreds, Target{"enabled": "true"}, false},
		{"quoted literal", "'Member':%(role.name)s", noRoleCreds, Target{"role.name": "Member"}, true},
		{"integer literal", "1:%(n)s", noRoleCreds, Target{"n": "1"}, true},
		{"literal, key missing", "True:%(enabled)s", noRoleCreds, nil, false},

		{"and, both", "role:reader and project_id:p1", projectCreds, nil, true},
		{"and, one", "role:reader and project_id:p2", projectCreds, nil, false},
		{"or, one", "role:admin or project_id:p1", projectCreds, nil, true},
		{"or, none", "role:admin or project_id:p2", projectCreds, nil, false},
		{"not", "not role:admin", projectCreds, nil, true},
		{"precedence", "role:admin or role:reader and project_id:p2", projectCreds, nil, false},
		{"parentheses", "(role:admin or role:reader) and project_id:p1", projectCreds, nil, true},
		{"malformed check denies in place", "foo or role:reader", projectCreds, nil, true},
		{"unparsable rule denies", "role:reader or", projectCreds, nil, false},
		{"external check denies", "http://example.com or role:admin", projectCreds, nil, false},

		{"rule reference", "rule:readers", projectCreds, nil, true},
		{"rule reference denies", "rule:admins", projectCreds, nil, false},
		{"undefined rule denies", "rule:nothing", projectCreds, nil, false},
		{"not undefined rule", "not rule:nothing", projectCreds, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnforcer(t, nil, map[string]string{
				"r":       tt.rule,
				"readers": "role:reader",
				"admins":  "role:admin",
			}, true)
			err := e.Authorize("r", tt.creds, tt.target)
			if got := err == nil; got != tt.want {
				t.Errorf("Authorize(%q) = %v, want allowed: %v", tt.rule, err, tt.want)
			}
		})
	}
}

func TestAuthorizeDenied(t *testing.T) {
	e, err := New(Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Authorize(ResourceProvidersList, projectCreds, nil)
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("Authorize = %v, want ErrForbidden", err)
	}
	const want = "Policy does not allow placement:resource_providers:list to be performed."
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	d, ok := errors.AsType[*Denied](err)
	if !ok || d.Rule != ResourceProvidersList || d.WrongScope {
		t.Errorf("Authorize = %#v, want *Denied for the rule, not a scope failure", err)
	}

	err = e.Authorize(ResourceProvidersList, systemCreds, nil)
	if d, ok := errors.AsType[*Denied](err); !ok || !d.WrongScope {
		t.Errorf("Authorize by system admin = %#v, want *Denied with WrongScope", err)
	}
	if got := err.Error(); got != want {
		t.Errorf("Error() for a scope failure = %q, want %q", got, want)
	}
}

func TestUnknownRule(t *testing.T) {
	admin := Credentials{UserID: "u", ProjectID: "p", Roles: []string{"admin"}}
	t.Run("denied without a default rule", func(t *testing.T) {
		e, err := New(Options{EnforceNewDefaults: true})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Authorize("placement:nothing", admin, nil)
		if !errors.Is(err, ErrForbidden) {
			t.Errorf("Authorize(unknown) = %v, want ErrForbidden", err)
		}
	})
	t.Run("default rule decides", func(t *testing.T) {
		e := newTestEnforcer(t, placementDefaults(), map[string]string{"default": "role:admin"}, true)
		if err := e.Authorize("placement:nothing", admin, nil); err != nil {
			t.Errorf("Authorize(unknown) by admin = %v, want allowed", err)
		}
		if err := e.Authorize("placement:nothing", projectCreds, nil); !errors.Is(err, ErrForbidden) {
			t.Errorf("Authorize(unknown) by member = %v, want ErrForbidden", err)
		}
		// A reference to an undefined rule also falls back to "default".
		e = newTestEnforcer(t, nil, map[string]string{"default": "role:admin", "r": "rule:nothing"}, true)
		if err := e.Authorize("r", admin, nil); err != nil {
			t.Errorf("Authorize(rule:nothing) by admin = %v, want allowed", err)
		}
		if !slices.ContainsFunc(e.Warnings(), func(w string) bool { return strings.Contains(w, `"nothing"`) }) {
			t.Errorf("Warnings() = %q, want one about the undefined rule", e.Warnings())
		}
	})
}

func TestScope(t *testing.T) {
	defaults := []ruleDefault{
		{name: "project_only", check: "@", scopes: scopeProject},
		{name: "system_only", check: "@", scopes: scopeSystem},
		{name: "both", check: "@", scopes: scopeProject | scopeSystem},
		{name: "any", check: "@"},
	}
	tests := []struct {
		rule   string
		creds  Credentials
		wantOK bool
	}{
		{"project_only", projectCreds, true},
		{"project_only", systemCreds, false},
		{"system_only", projectCreds, false},
		{"system_only", systemCreds, true},
		{"both", projectCreds, true},
		{"both", systemCreds, true},
		{"any", projectCreds, true},
		{"any", systemCreds, true},
	}
	for _, overridden := range []bool{false, true} {
		rules := map[string]string{}
		if overridden {
			// A policy file changes the check, never the scope.
			for _, d := range defaults {
				rules[d.name] = ""
			}
		}
		e := newTestEnforcer(t, defaults, rules, true)
		for _, tt := range tests {
			err := e.Authorize(tt.rule, tt.creds, nil)
			if got := err == nil; got != tt.wantOK {
				t.Errorf("overridden=%v: Authorize(%s) for system scope %q = %v, want allowed: %v",
					overridden, tt.rule, tt.creds.SystemScope, err, tt.wantOK)
			}
		}
	}
}

func TestDeprecatedRules(t *testing.T) {
	defaults := []ruleDefault{
		{name: "new", check: "role:new", deprecatedName: "old", deprecatedCheck: "role:old"},
		{name: "same", check: "role:new", deprecatedName: "same_old", deprecatedCheck: "role:new"},
		{name: "user", check: "rule:new"},
	}
	oldCreds := Credentials{UserID: "u", ProjectID: "p", Roles: []string{"old"}}
	newCreds := Credentials{UserID: "u", ProjectID: "p", Roles: []string{"new"}}
	otherCreds := Credentials{UserID: "u", ProjectID: "p", Roles: []string{"other"}}
	tests := []struct {
		name       string
		enforceNew bool
		file       map[string]string
		rule       string
		creds      Credentials
		want       bool
	}{
		{"legacy: new default", false, nil, "new", newCreds, true},
		{"legacy: deprecated default", false, nil, "new", oldCreds, true},
		{"legacy: neither", false, nil, "new", otherCreds, false},
		{"legacy: through a reference", false, nil, "user", oldCreds, true},
		{"new defaults: only new", true, nil, "new", oldCreds, false},
		{"new defaults: new", true, nil, "new", newCreds, true},
		{"legacy: overridden rule has no deprecated part", false, map[string]string{"new": "role:other"}, "new", oldCreds, false},
		{"legacy: overridden rule", false, map[string]string{"new": "role:other"}, "new", otherCreds, true},
		{"file sets the deprecated name", true, map[string]string{"old": "role:other"}, "new", otherCreds, true},
		{"file sets the deprecated name, new default gone", true, map[string]string{"old": "role:other"}, "new", newCreds, false},
		{"file's deprecated name refers to the new", false, map[string]string{"old": "rule:new"}, "new", oldCreds, true},
		{"file sets both names", true, map[string]string{"old": "role:other", "new": "role:new"}, "new", otherCreds, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnforcer(t, defaults, tt.file, tt.enforceNew)
			err := e.Authorize(tt.rule, tt.creds, nil)
			if got := err == nil; got != tt.want {
				t.Errorf("Authorize(%s) with roles %v = %v, want allowed: %v", tt.rule, tt.creds.Roles, err, tt.want)
			}
		})
	}
}

func TestCycles(t *testing.T) {
	admin := Credentials{UserID: "u", ProjectID: "p", Roles: []string{"admin"}}
	e := newTestEnforcer(t, nil, map[string]string{
		"a":    "rule:b or role:admin",
		"b":    "rule:a",
		"c":    "rule:a",
		"self": "rule:self or rule:self or role:admin",
	}, true)
	// Rules are visited by name, so b's reference to a closes the a-b cycle
	// and denies; oslo.policy would recurse without end on a and b.
	tests := []struct {
		rule      string
		wantAdmin bool
	}{
		{"a", true},
		{"b", false},
		{"c", true},
		{"self", true},
	}
	for _, tt := range tests {
		if err := e.Authorize(tt.rule, admin, nil); (err == nil) != tt.wantAdmin {
			t.Errorf("Authorize(%s) by admin = %v, want allowed: %v", tt.rule, err, tt.wantAdmin)
		}
		if err := e.Authorize(tt.rule, projectCreds, nil); err == nil {
			t.Errorf("Authorize(%s) by member allowed, want denied", tt.rule)
		}
	}
	var cuts int
	for _, w := range e.Warnings() {
		if strings.Contains(w, "cycle") {
			cuts++
		}
	}
	if cuts != 3 { // b -> a, and self -> self twice
		t.Errorf("Warnings() = %q, want 3 about cycles", e.Warnings())
	}
}

func TestRuleNames(t *testing.T) {
	names := RuleNames()
	if len(names) != 33 {
		t.Errorf("len(RuleNames()) = %d, want 33", len(names))
	}
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if !strings.HasPrefix(name, "placement:") {
			t.Errorf("RuleNames() has %q, want only placement:* rules", name)
		}
		if e.rules[name] == nil || e.rules[name].scopes != scopeProject {
			t.Errorf("rule %q is not registered for project scope", name)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(names)))) != len(names) {
		t.Errorf("RuleNames() has duplicates: %q", names)
	}
	names[0] = "changed"
	if RuleNames()[0] == "changed" {
		t.Error("RuleNames() shares its slice with the caller")
	}
	if w := e.Warnings(); len(w) != 0 {
		t.Errorf("Warnings() for the defaults = %q, want none", w)
	}
}

func TestAuthorizeAllocations(t *testing.T) {
	e, err := New(Options{EnforceNewDefaults: false})
	if err != nil {
		t.Fatal(err)
	}
	reader := Credentials{UserID: "u", ProjectID: "p", Roles: []string{"member", "reader"}}
	admin := Credentials{UserID: "u", ProjectID: "p", Roles: []string{"admin"}}
	target := Target{"project_id": "p"}
	allocs := testing.AllocsPerRun(100, func() {
		if e.Authorize(TotalUsages, reader, target) != nil {
			t.Fatal("reader denied usages")
		}
		if e.Authorize(ResourceProvidersList, admin, nil) != nil {
			t.Fatal("admin denied")
		}
	})
	if allocs != 0 {
		t.Errorf("Authorize allocates %v times when it allows, want 0", allocs)
	}
}

func TestConcurrentAuthorize(t *testing.T) {
	e, err := New(Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	admin := Credentials{UserID: "u", ProjectID: "p", Roles: []string{"admin"}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, name := range RuleNames() {
				err := e.Authorize(name, admin, nil)
				if (err == nil) != (name != Reshape) {
					t.Errorf("Authorize(%s) by admin = %v", name, err)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkAuthorize(b *testing.B) {
	e, err := New(Options{EnforceNewDefaults: false})
	if err != nil {
		b.Fatal(err)
	}
	service := Credentials{UserID: "nova", ProjectID: "service", Roles: []string{"service"}}
	reader := Credentials{UserID: "u", ProjectID: "p", Roles: []string{"member", "reader"}}
	target := Target{"project_id": "p"}
	b.Run("service", func(b *testing.B) {
		for b.Loop() {
			_ = e.Authorize(AllocationCandidatesList, service, nil)
		}
	})
	b.Run("project reader usages", func(b *testing.B) {
		for b.Loop() {
			_ = e.Authorize(TotalUsages, reader, target)
		}
	})
}
