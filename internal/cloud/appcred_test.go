package cloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// createAppCred creates an application credential for the holder of tok (Keystone lets a
// user create its own) and returns its id.
func createAppCred(t *testing.T, e cloudEnv, tok token, name, secret, accessRules string) string {
	t.Helper()
	body := fmt.Sprintf(`{"application_credential": {"name": %q, "secret": %q`, name, secret)
	if accessRules != "" {
		body += `, "access_rules": ` + accessRules
	}
	body += "}}"
	code, _, b := call(t, "POST", e.url+"/users/"+tok.userID+"/application_credentials",
		map[string]string{"X-Auth-Token": tok.id}, body)
	if code != http.StatusCreated {
		t.Fatalf("creating application credential %s: %d %s", name, code, b)
	}
	var v struct {
		ApplicationCredential struct{ ID string } `json:"application_credential"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.ApplicationCredential.ID == "" {
		t.Fatalf("application credential %s: %v %s", name, err, b)
	}
	return v.ApplicationCredential.ID
}

// TestApplicationCredentials: ingot authenticates itself with an application credential
// instead of a password; a user's application credential restricted by access rules opens
// only the routes its rules name, unless a service token comes with it.
func TestApplicationCredentials(t *testing.T) {
	e := keystoneEnv(t)
	t.Parallel()
	suffix := fmt.Sprint(time.Now().UnixNano())
	ingot := issue(t, e, "ingot", "service")
	id := createAppCred(t, e, ingot, "ingot-"+suffix, "ingot-secret-"+suffix, "")
	p := startIngotAs(t, []string{"--auth", "keystone", "--keystone-url", e.url,
		"--keystone-application-credential-id", id, "--keystone-application-credential-secret", "ingot-secret-" + suffix})
	member := issue(t, e, "member", "demo")
	if code, _, b := call(t, "GET", p.base+"/v1/instances", map[string]string{"X-Auth-Token": member.id}, ""); code != 200 {
		t.Fatalf("a member's token, ingot on an application credential: %d %s", code, b)
	}

	admin := issue(t, e, "projadmin", "demo")
	restricted := createAppCred(t, e, admin, "rp-reader-"+suffix, "rp-secret-"+suffix,
		`[{"service": "placement", "method": "GET", "path": "/resource_providers"}]`)
	code, h, b := call(t, "POST", e.url+"/auth/tokens?nocatalog", nil, fmt.Sprintf(
		`{"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": %q, "secret": %q}}}}`,
		restricted, "rp-secret-"+suffix))
	if code != http.StatusCreated {
		t.Fatalf("token from the restricted application credential: %d %s", code, b)
	}
	tok := h.Get("X-Subject-Token")
	nova := issue(t, e, "nova", "service").id
	for _, c := range []struct {
		path    string
		service string
		status  int
	}{
		{"/resource_providers", "", 200},
		{"/traits", "", 401},
		{"/v1/instances", "", 401},
		// A valid service token means a chain of services: the rules are not checked.
		{"/traits", nova, 200},
	} {
		hdr := map[string]string{"X-Auth-Token": tok, "OpenStack-API-Version": "placement 1.39"}
		if c.service != "" {
			hdr["X-Service-Token"] = c.service
		}
		code, h, b := call(t, "GET", p.base+c.path, hdr, "")
		if code != c.status {
			t.Errorf("restricted application credential, GET %s (service token: %v): %d, want %d: %.300s",
				c.path, c.service != "", code, c.status, b)
		}
		if code == 401 {
			checkUnauthorized(t, e, "access rules", h, b)
		}
	}
}
