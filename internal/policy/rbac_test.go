package policy

import (
	"slices"
	"testing"
)

// The personas of upstream's RBAC gabbits (placement/tests/functional/
// gabbits/*-secure-rbac.yaml, *-legacy-rbac.yaml, *-policy.yaml), as the
// noauth2 middleware turns their headers into credentials: X-Roles gives
// the roles, X-Project-Id the project (else the token, "user"), and
// OpenStack-System-Scope: all makes the token system-scoped.
const (
	projectID    = "project-a" // $ENVIRON['PROJECT_ID'], the project /usages asks about
	altProjectID = "project-b" // $ENVIRON['PROJECT_ID_ALT']
)

var personas = map[string]Credentials{
	"admin":               {UserID: "user", ProjectID: "admin_project_id", Roles: []string{"admin"}},
	"service":             {UserID: "user", ProjectID: "service_project_id", Roles: []string{"service"}},
	"system admin":        {UserID: "user", ProjectID: "user", Roles: []string{"admin", "member", "reader"}, SystemScope: "all"},
	"system reader":       {UserID: "user", ProjectID: "user", Roles: []string{"reader"}, SystemScope: "all"},
	"project admin":       {UserID: "user", ProjectID: projectID, Roles: []string{"admin", "member", "reader"}},
	"project member":      {UserID: "user", ProjectID: projectID, Roles: []string{"member", "reader"}},
	"project reader":      {UserID: "user", ProjectID: projectID, Roles: []string{"reader"}},
	"alt project admin":   {UserID: "user", ProjectID: altProjectID, Roles: []string{"admin", "member", "reader"}},
	"alt project member":  {UserID: "user", ProjectID: altProjectID, Roles: []string{"member", "reader"}},
	"alt project reader":  {UserID: "user", ProjectID: altProjectID, Roles: []string{"reader"}},
	"user without roles":  {UserID: "user", ProjectID: "user"},
	"system user no role": {UserID: "user", ProjectID: "user", SystemScope: "all"},
}

// allowed builds the set of rules a persona may use.
func allowed(rules ...string) map[string]bool {
	set := make(map[string]bool, len(rules))
	for _, r := range rules {
		set[r] = true
	}
	return set
}

func allRulesExcept(except ...string) map[string]bool {
	return allowed(slices.DeleteFunc(RuleNames(), func(r string) bool { return slices.Contains(except, r) })...)
}

// TestGabbitPersonas checks every API rule for every persona against what
// the upstream RBAC gabbits expect (403 or not). The gabbits do not try
// every rule with every persona; rows marked "derived" fill the gaps from
// the same rules. Every rule is checked as the HTTP layer calls it: with
// the default target, except placement:usages, whose target is the queried
// project, always projectID here as in the gabbits.
func TestGabbitPersonas(t *testing.T) {
	secure := Options{EnforceNewDefaults: true}
	legacy := Options{EnforceNewDefaults: false}
	open := Options{EnforceNewDefaults: true, File: "testdata/open-policy.yaml"}
	openLegacy := Options{EnforceNewDefaults: false, File: "testdata/open-policy.yaml"}

	tests := []struct {
		mode    string
		opts    Options
		persona string
		allowed map[string]bool
	}{
		// *-secure-rbac.yaml: admin or service everywhere, reshaper service
		// only, /usages also for readers of the queried project, nothing
		// for system-scoped tokens.
		{"secure", secure, "admin", allRulesExcept(Reshape)},
		{"secure", secure, "service", allRulesExcept()},
		{"secure", secure, "project admin", allRulesExcept(Reshape)},
		{"secure", secure, "project member", allowed(TotalUsages)},
		{"secure", secure, "project reader", allowed(TotalUsages)},
		{"secure", secure, "alt project admin", allRulesExcept(Reshape)},
		{"secure", secure, "alt project member", allowed()},
		{"secure", secure, "alt project reader", allowed()},
		{"secure", secure, "system admin", allowed()},
		{"secure", secure, "system reader", allowed()},
		{"secure", secure, "user without roles", allowed()}, // derived

		// *-legacy-rbac.yaml: the deprecated "role:admin" is added to every
		// base rule, so project admins reshape too; scope still applies.
		{"legacy", legacy, "project admin", allRulesExcept()},
		{"legacy", legacy, "project member", allowed(TotalUsages)}, // derived: the new default still counts
		{"legacy", legacy, "project reader", allowed(TotalUsages)}, // derived
		{"legacy", legacy, "alt project admin", allRulesExcept()},
		{"legacy", legacy, "alt project member", allowed()},
		{"legacy", legacy, "admin", allRulesExcept()},   // derived
		{"legacy", legacy, "service", allRulesExcept()}, // derived
		{"legacy", legacy, "system admin", allowed()},
		{"legacy", legacy, "system reader", allowed()},

		// *-policy.yaml: every rule "@" except admin_api, for a token
		// without roles.
		{"open", open, "user without roles", allRulesExcept()},
		{"open", open, "project reader", allRulesExcept()},                  // derived
		{"open", open, "system user no role", allowed()},                    // derived: scope still applies
		{"open legacy", openLegacy, "user without roles", allRulesExcept()}, // derived
	}
	enforcers := map[Options]*Enforcer{}
	for _, tt := range tests {
		e := enforcers[tt.opts]
		if e == nil {
			var err error
			e, err = New(tt.opts)
			if err != nil {
				t.Fatalf("New(%+v): %v", tt.opts, err)
			}
			if w := e.Warnings(); len(w) != 0 {
				t.Errorf("New(%+v) warnings = %q, want none", tt.opts, w)
			}
			enforcers[tt.opts] = e
		}
		creds, ok := personas[tt.persona]
		if !ok {
			t.Fatalf("no persona %q", tt.persona)
		}
		for _, rule := range RuleNames() {
			var target Target // the default target
			if rule == TotalUsages {
				target = Target{"project_id": projectID}
			}
			err := e.Authorize(rule, creds, target)
			if got, want := err == nil, tt.allowed[rule]; got != want {
				t.Errorf("%s: %s: Authorize(%s) = %v, want allowed: %v", tt.mode, tt.persona, rule, err, want)
			}
		}
	}
}

// TestUsagesTarget checks placement:usages against the queried project, as
// usage-secure-rbac.yaml does with both projects.
func TestUsagesTarget(t *testing.T) {
	e, err := New(Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		persona string
		project string
		want    bool
	}{
		{"project reader", projectID, true},
		{"project reader", altProjectID, false},
		{"alt project reader", altProjectID, true},
		{"project member", altProjectID, false},
		{"project admin", altProjectID, true},
		{"service", altProjectID, true},
		{"system reader", "user", false},
	}
	for _, tt := range tests {
		err := e.Authorize(TotalUsages, personas[tt.persona], Target{"project_id": tt.project})
		if got := err == nil; got != tt.want {
			t.Errorf("%s: Authorize(%s, project %s) = %v, want allowed: %v", tt.persona, TotalUsages, tt.project, err, tt.want)
		}
	}
	// Without a project_id to compare with, readers are refused.
	if err := e.Authorize(TotalUsages, personas["project reader"], Target{}); err == nil {
		t.Errorf("Authorize(%s) without project_id allowed a reader", TotalUsages)
	}
}
