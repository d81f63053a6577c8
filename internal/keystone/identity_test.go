package keystone

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// The measured bodies of keystone.md §2.3 (catalog trimmed).
const (
	projectBody = `{"token": {"methods": ["password"],
  "user": {"domain": {"id": "default", "name": "Default"}, "id": "e5dc", "name": "demo", "password_expires_at": null},
  "audit_ids": ["E9Zolh1eQLCzN0XIWhjTWQ"],
  "expires_at": "2026-12-05T14:33:00.000000Z", "issued_at": "2026-12-05T13:33:00.000000Z",
  "project": {"domain": {"id": "default", "name": "Default"}, "id": "e1f4", "name": "demo"},
  "is_domain": false,
  "roles": [{"id": "2cb6", "name": "member"}, {"id": "050c", "name": "reader"}],
  "catalog": [{"type": "identity", "name": "keystone", "id": "x", "endpoints": []}]}}`
	systemBody = `{"token": {"methods": ["password"], "user": {"domain": {"id": "default", "name": "Default"}, "id": "a1", "name": "admin"},
  "audit_ids": ["x"], "expires_at": "2026-12-05T14:33:00Z", "issued_at": "2026-12-05T13:33:00Z",
  "system": {"all": true}, "roles": [{"id": "1", "name": "admin"}, {"id": "2", "name": "member"}, {"id": "3", "name": "reader"}]}}`
	appCredBody = `{"token": {"methods": ["application_credential"], "user": {"id": "e5dc", "name": "demo", "domain": {"id": "default", "name": "Default"}},
  "expires_at": "2026-12-05T14:33:00.000000Z", "is_admin_project": false,
  "project": {"domain": {"id": "default", "name": "Default"}, "id": "e1f4", "name": "demo"},
  "roles": [{"id": "050c", "name": "reader"}],
  "application_credential": {"id": "ac1", "name": "ingot-ci", "restricted": true,
    "access_rules": [{"id": "r1", "service": "placement", "method": "GET", "path": "/resource_providers"}]}}}`
)

func TestDecodeToken(t *testing.T) {
	id, err := DecodeToken([]byte(projectBody))
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{UserID: "e5dc", UserName: "demo", UserDomainID: "default", UserDomainName: "Default",
		ProjectID: "e1f4", ProjectName: "demo", ProjectDomainID: "default", ProjectDomainName: "Default",
		Roles: []string{"member", "reader"}, IsAdminProject: true, Methods: []string{"password"},
		ExpiresAt: time.Date(2026, 12, 5, 14, 33, 0, 0, time.UTC)}
	if !identityEqual(id, want) {
		t.Errorf("project token:\n got %+v\nwant %+v", id, want)
	}
	if c := id.Credentials(); c.UserID != "e5dc" || c.ProjectID != "e1f4" || c.SystemScope != "" || !slices.Equal(c.Roles, want.Roles) {
		t.Errorf("credentials %+v", c)
	}

	id, err = DecodeToken([]byte(systemBody))
	if err != nil {
		t.Fatal(err)
	}
	if id.SystemScope != "all" || id.ProjectID != "" || !id.HasRole("admin") || id.HasRole("service") {
		t.Errorf("system token: %+v", id)
	}
	if c := id.Credentials(); c.SystemScope != "all" || c.ProjectID != "" {
		t.Errorf("system credentials %+v", c)
	}

	id, err = DecodeToken([]byte(appCredBody))
	if err != nil {
		t.Fatal(err)
	}
	if id.ApplicationCredentialID != "ac1" || id.IsAdminProject || len(id.AccessRules) != 1 ||
		id.AccessRules[0] != (AccessRule{Service: "placement", Method: "GET", Path: "/resource_providers"}) {
		t.Errorf("application credential token: %+v", id)
	}
	if c := id.Credentials(); !c.NotAdminProject || c.UserDomainID != "default" || c.ProjectDomainID != "default" {
		t.Errorf("application credential credentials: %+v", c)
	}

	for name, body := range map[string]string{
		"not JSON":        `{"token":`,
		"no token":        `{"access": {}}`,
		"no user":         `{"token": {"expires_at": "2026-12-05T14:33:00Z"}}`,
		"empty user id":   `{"token": {"user": {"id": ""}, "expires_at": "2026-12-05T14:33:00Z"}}`,
		"no expiry":       `{"token": {"user": {"id": "u"}}}`,
		"bad expiry":      `{"token": {"user": {"id": "u"}, "expires_at": "tomorrow"}}`,
		"roles not array": `{"token": {"user": {"id": "u"}, "expires_at": "2026-12-05T14:33:00Z", "roles": "admin"}}`,
	} {
		if _, err := DecodeToken([]byte(body)); !errors.Is(err, errMalformed) {
			t.Errorf("%s: err = %v, want malformed", name, err)
		}
	}
}

func identityEqual(a, b Identity) bool {
	return slices.Equal(a.Roles, b.Roles) && slices.Equal(a.Methods, b.Methods) && slices.Equal(a.AccessRules, b.AccessRules) &&
		a.ExpiresAt.Equal(b.ExpiresAt) && func() bool {
		a.Roles, b.Roles, a.Methods, b.Methods, a.AccessRules, b.AccessRules = nil, nil, nil, nil, nil, nil
		a.ExpiresAt, b.ExpiresAt = time.Time{}, time.Time{}
		return a.UserID == b.UserID && a.UserName == b.UserName && a.UserDomainID == b.UserDomainID &&
			a.UserDomainName == b.UserDomainName && a.ProjectID == b.ProjectID && a.ProjectName == b.ProjectName &&
			a.ProjectDomainID == b.ProjectDomainID && a.ProjectDomainName == b.ProjectDomainName &&
			a.DomainID == b.DomainID && a.SystemScope == b.SystemScope && a.IsAdminProject == b.IsAdminProject &&
			a.ApplicationCredentialID == b.ApplicationCredentialID
	}()
}

// FuzzDecodeToken: the decoder never panics, and what it accepts has a user and an
// expiry, and a system scope only as "all".
func FuzzDecodeToken(f *testing.F) {
	for _, b := range []string{projectBody, systemBody, appCredBody, `{}`, `{"token": null}`, `[]`} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := DecodeToken(body)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v does not wrap errMalformed", err)
			}
			return
		}
		if id.UserID == "" || id.ExpiresAt.IsZero() || id.SystemScope != "" && id.SystemScope != "all" {
			t.Fatalf("accepted %q as %+v", body, id)
		}
		if c := id.Credentials(); id.SystemScope == "all" && c.ProjectID != "" {
			t.Fatalf("system token kept project %q", c.ProjectID)
		}
	})
}

func TestPathMatches(t *testing.T) {
	for _, tt := range []struct {
		pattern, path string
		want          bool
	}{
		{"/resource_providers", "/resource_providers", true},
		{"/resource_providers", "/resource_providers/", true},
		{"/resource_providers", "/resource_providers/x", false},
		{"/resource_providers/*", "/resource_providers/x", true},
		{"/resource_providers/*", "/resource_providers/x/inventories", false},
		{"/resource_providers/**", "/resource_providers/x/inventories", true},
		{"/resource_providers/**", "/resource_providers", true},
		{"/**/inventories", "/resource_providers/x/inventories", true},
		{"/traits", "/resource_classes", false},
	} {
		if got := pathMatches(tt.pattern, tt.path); got != tt.want {
			t.Errorf("pathMatches(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}
