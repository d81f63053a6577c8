package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFile writes a policy file into a fresh directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFileRules(t *testing.T) {
	admin := Credentials{UserID: "u", ProjectID: "p", Roles: []string{"admin"}}
	member := Credentials{UserID: "u", ProjectID: "p", Roles: []string{"member"}}
	tests := []struct {
		name    string
		file    string
		content string
		rule    string
		creds   Credentials
		want    bool
	}{
		{"yaml overrides a default", "policy.yaml",
			"\"placement:resource_providers:list\": \"role:member\"\n",
			ResourceProvidersList, member, true},
		{"yaml override replaces the default", "policy.yaml",
			"placement:resource_providers:list: role:member\n",
			ResourceProvidersList, admin, false},
		{"json overrides a default", "policy.json",
			`{"placement:resource_providers:list": "role:member"}`,
			ResourceProvidersList, member, true},
		{"overriding a base rule changes the rules using it", "policy.yaml",
			"admin_or_service_api: role:member\n",
			TraitsList, member, true},
		{"other defaults stay", "policy.yaml",
			"placement:resource_providers:list: role:member\n",
			TraitsList, admin, true},
		{"new rules can be referenced", "policy.yaml",
			"members: role:member\nplacement:traits:list: rule:members\n",
			TraitsList, member, true},
		{"yaml list of lists", "policy.yaml",
			"placement:traits:list: [[\"role:x\", \"role:y\"], [\"role:member\"]]\n",
			TraitsList, member, true},
		{"json list of lists", "policy.json",
			`{"placement:traits:list": [["role:member", "project_id:q"], "role:x"]}`,
			TraitsList, member, false},
		{"empty list allows", "policy.json",
			`{"placement:traits:list": []}`,
			TraitsList, member, true},
		{"null allows, as oslo's empty rule", "policy.yaml",
			"placement:traits:list:\n",
			TraitsList, member, true},
		{"empty string allows", "policy.yaml",
			"placement:traits:list: ''\n",
			TraitsList, member, true},
		{"yaml aliases", "policy.yaml",
			"a: &open '@'\nplacement:traits:list: *open\n",
			TraitsList, member, true},
		{"empty file keeps the defaults", "policy.yaml", "",
			TraitsList, admin, true},
		{"comments only", "policy.yaml", "# nothing\n",
			TraitsList, member, false},
		{"unparsable rule denies", "policy.yaml",
			"placement:traits:list: 'role:member or'\n",
			TraitsList, member, false},
		{"default rule from the file", "policy.yaml",
			"default: role:member\n",
			"placement:not_registered", member, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(Options{EnforceNewDefaults: true, File: writeFile(t, tt.file, tt.content)})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			err = e.Authorize(tt.rule, tt.creds, nil)
			if got := err == nil; got != tt.want {
				t.Errorf("Authorize(%s) with roles %v = %v, want allowed: %v", tt.rule, tt.creds.Roles, err, tt.want)
			}
		})
	}
}

func TestFileWarnings(t *testing.T) {
	path := writeFile(t, "policy.yaml", strings.Join([]string{
		"placement:traits:list: 'role:member or'",
		"placement:traits:show: 'foo or role:admin'",
		"placement:traits:update: rule:nothing",
		"placement:traits:delete: role:a",
		"placement:traits:delete: role:b",
	}, "\n"))
	e, err := New(Options{File: path})
	if err != nil {
		t.Fatal(err)
	}
	w := e.Warnings()
	for _, want := range []string{
		`"placement:traits:list"`,
		`"placement:traits:show"`,
		`undefined rule "nothing"`,
		`"placement:traits:delete" is set more than once`,
	} {
		if !slices.ContainsFunc(w, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("Warnings() = %q, want one containing %s", w, want)
		}
	}
	// The last duplicate wins, as with PyYAML.
	b := Credentials{UserID: "u", ProjectID: "p", Roles: []string{"b"}}
	if err := e.Authorize(TraitsDelete, b, nil); err != nil {
		t.Errorf("Authorize(%s) = %v, want the last duplicate to count", TraitsDelete, err)
	}
}

func TestBadFiles(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		content string
		want    string // in the error, after the file name
	}{
		{"not yaml", "policy.yaml", "a: [\n", "yaml"},
		{"a list", "policy.yaml", "- role:admin\n", "want a mapping"},
		{"a scalar", "policy.json", `"role:admin"`, "want a mapping"},
		{"json number rule", "policy.json", `{"a": 1}`, `rule "a": want a string or a list of lists, got a number`},
		{"json mapping rule", "policy.json", `{"a": {"b": "c"}}`, `rule "a": want a string or a list of lists`},
		{"json bad inner list", "policy.json", `{"a": [[1]]}`, `rule "a": want a check string`},
		{"json bad outer list", "policy.json", `{"a": [true]}`, `rule "a": want a string or a list in the rule list`},
		{"yaml number rule", "policy.yaml", "a: 1\n", `rule "a": want a string or a list of lists`},
		{"yaml bool rule", "policy.yaml", "a: true\n", `rule "a"`},
		{"yaml mapping rule", "policy.yaml", "a:\n  b: c\n", `rule "a"`},
		{"yaml number key", "policy.yaml", "1: role:admin\n", "want a rule name"},
		{"yaml bad inner list", "policy.yaml", "a: [[{b: c}]]\n", "want a check string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file, tt.content)
			_, err := New(Options{File: path})
			if err == nil {
				t.Fatalf("New(%q) succeeded, want an error", tt.content)
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, tt.want) {
				t.Errorf("New(%q) = %v, want an error naming %s and containing %q", tt.content, err, path, tt.want)
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing.yaml")
		_, err := New(Options{File: path})
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("New(missing) = %v, want fs.ErrNotExist naming %s", err, path)
		}
	})
}

// FuzzDecodeRules checks that no policy file makes the loader panic.
func FuzzDecodeRules(f *testing.F) {
	for _, s := range []string{
		"", "a: b\n", `{"a": "b"}`, `{"a": [["b"], "c"]}`, "a: [[b, c], d]\n", "a: &x b\nc: *x\n", "- a\n", "a:\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := decodeRules(data)
		if err != nil {
			return
		}
		for _, r := range rules {
			if r.list != nil {
				parseListRule(r.list)
			} else {
				parse(r.text)
			}
		}
	})
}
