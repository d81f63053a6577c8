package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstancePersonas checks every instance rule for every persona, on an instance of
// projectID (the target the instance API passes), with new defaults enforced and not.
func TestInstancePersonas(t *testing.T) {
	var (
		create, pin, list, all, show, del = InstanceCreate, InstanceCreateNodePin, InstanceList,
			InstanceListAllProjects, InstanceShow, InstanceDelete
		everything = []string{create, pin, list, all, show, del}
		ownProject = []string{create, list, show, del}
		readOnly   = []string{list, show}
		nothing    []string
	)
	tests := []struct {
		enforceNew bool
		persona    string
		allowed    []string
	}{
		{true, "admin", everything},
		{true, "project admin", everything},
		{true, "alt project admin", everything}, // admins see and act on every project
		{true, "project member", ownProject},
		{true, "project reader", readOnly},
		{true, "alt project member", nothing},
		{true, "alt project reader", nothing},
		{true, "service", nothing},
		{true, "user without roles", nothing},
		{true, "system admin", nothing}, // project-scoped rules refuse system tokens
		{true, "system reader", nothing},

		// enforce_new_defaults false adds the deprecated "admin or owner": any role,
		// or none, in the instance's project; never node pins or other projects.
		{false, "admin", everything},
		{false, "project member", ownProject},
		{false, "project reader", ownProject},
		{false, "alt project member", nothing},
		{false, "alt project reader", nothing},
		{false, "user without roles", nothing}, // its project is "user", not projectID
		{false, "system admin", nothing},
	}
	enforcers := map[bool]*Enforcer{}
	for _, enforceNew := range []bool{true, false} {
		e, err := New(Options{EnforceNewDefaults: enforceNew})
		if err != nil {
			t.Fatal(err)
		}
		if w := e.Warnings(); len(w) != 0 {
			t.Fatalf("warnings: %q", w)
		}
		enforcers[enforceNew] = e
	}
	target := Target{"project_id": projectID}
	for _, tt := range tests {
		want := allowed(tt.allowed...)
		for _, rule := range InstanceRuleNames() {
			err := enforcers[tt.enforceNew].Authorize(rule, personas[tt.persona], target)
			if got := err == nil; got != want[rule] {
				t.Errorf("enforce_new_defaults=%v: %s: Authorize(%s) = %v, want allowed: %v",
					tt.enforceNew, tt.persona, rule, err, want[rule])
			}
		}
	}

	// A role-less token acts on its own project's instances under the legacy rule only.
	owner := Credentials{UserID: "alice", ProjectID: "p1"}
	for enforceNew, want := range map[bool]bool{true: false, false: true} {
		err := enforcers[enforceNew].Authorize(InstanceCreate, owner, Target{"project_id": "p1"})
		if (err == nil) != want {
			t.Errorf("enforce_new_defaults=%v: role-less owner create = %v, want allowed: %v", enforceNew, err, want)
		}
	}
}

// TestInstancePolicyFile: a policy file overrides an instance rule, a base rule, or the
// deprecated rule, as for Placement's rules.
func TestInstancePolicyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "policy.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	member := personas["project member"]
	reader := personas["project reader"]
	target := Target{"project_id": projectID}
	tests := []struct {
		name, file string
		enforceNew bool
		rule       string
		who        Credentials
		want       bool
	}{
		{"pin opened to members", `"ingot:instance:create:node_pin": "role:member"`, true, InstanceCreateNodePin, member, true},
		{"delete closed to members", `"ingot:instance:delete": "role:admin"`, true, InstanceDelete, member, false},
		{"base rule: readers may create", `"ingot:admin_or_project_member": "role:reader and project_id:%(project_id)s"`, true, InstanceCreate, reader, true},
		{"deprecated rule set in the file replaces the base", `"ingot:admin_or_owner": "!"`, false, InstanceShow, reader, false},
		{"other rules keep their defaults", `"ingot:instance:delete": "role:admin"`, true, InstanceCreate, member, true},
	}
	for _, tt := range tests {
		e, err := New(Options{EnforceNewDefaults: tt.enforceNew, File: write(tt.file)})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if err := e.Authorize(tt.rule, tt.who, target); (err == nil) != tt.want {
			t.Errorf("%s: Authorize(%s) = %v, want allowed: %v", tt.name, tt.rule, err, tt.want)
		}
	}
	// The file cannot widen a rule's scope.
	e, err := New(Options{EnforceNewDefaults: true, File: write(`"ingot:instance:list": "@"`)})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Authorize(InstanceList, personas["system admin"], target)
	if d, ok := err.(*Denied); !ok || !d.WrongScope || !strings.Contains(d.Error(), InstanceList) {
		t.Errorf("system-scoped list with an open rule = %v, want a scope denial", err)
	}
}
