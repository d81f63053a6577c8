package keystone_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"ingot/internal/app"
	"ingot/internal/instanceapi"
	"ingot/internal/keystone"
	"ingot/internal/keystone/keystonetest"
	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

const wantUnauthorized = `{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}`

// seen is what the application behind the middleware received.
type seen struct {
	identity *keystone.Identity
	header   http.Header
}

// echoStack serves an application that records what it sees, behind the middleware.
func echoStack(t *testing.T, ks *keystonetest.Server, opts keystone.MiddlewareOptions) (*httptest.Server, chan seen) {
	t.Helper()
	got := make(chan seen, 16)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := keystone.FromContext(r.Context())
		got <- seen{id, r.Header.Clone()}
		if r.URL.Path == "/app-401" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	srv := httptest.NewServer(keystone.Middleware(newValidator(t, ks, keystone.ValidatorOptions{}), opts, next))
	t.Cleanup(srv.Close)
	return srv, got
}

func send(t testing.TB, method, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestMiddlewareRejects(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	srv, got := echoStack(t, ks, keystone.MiddlewareOptions{})
	user := ks.Issue(member("p1"))
	challenge := `Keystone uri="` + ks.URL + `/v3"`
	for name, h := range map[string]map[string]string{
		"no token":                {},
		"bogus token":             {"X-Auth-Token": "bogus"},
		"spoofed identity only":   {"X-Roles": "admin", "X-Identity-Status": "Confirmed", "X-User-Id": "admin"},
		"bogus service token":     {"X-Auth-Token": user, "X-Service-Token": "bogus"},
		"user as service token":   {"X-Auth-Token": user, "X-Service-Token": ks.Issue(member("p2"))},
		"service token, no token": {"X-Service-Token": ks.Issue(keystonetest.Token{UserID: "nova", ProjectID: "service", Roles: []string{"service"}})},
	} {
		resp, body := send(t, "GET", srv.URL+"/resource_providers", h)
		if resp.StatusCode != 401 || body != wantUnauthorized || resp.Header.Get("WWW-Authenticate") != challenge ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q %q %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), resp.Header.Get("Content-Type"), body)
		}
	}
	if len(got) != 0 {
		t.Errorf("%d rejected requests reached the application", len(got))
	}
	// The version document stays anonymous, without the spoofed headers.
	resp, _ := send(t, "GET", srv.URL+"/", map[string]string{"X-Roles": "admin", "X-Project-Id": "evil"})
	if resp.StatusCode != 200 {
		t.Fatalf("GET / without a token: %d", resp.StatusCode)
	}
	s := <-got
	if s.identity != nil || s.header.Get("X-Roles") != "" || s.header.Get("X-Project-Id") != "" {
		t.Errorf("anonymous request reached the app with %+v, %v", s.identity, s.header)
	}
	// A 401 the application writes gets the challenge too.
	resp, _ = send(t, "GET", srv.URL+"/app-401", map[string]string{"X-Auth-Token": user})
	<-got
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != challenge {
		t.Errorf("application 401: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestMiddlewareStripsIdentityHeaders(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	srv, got := echoStack(t, ks, keystone.MiddlewareOptions{})
	spoof := map[string]string{"X-Auth-Token": ks.Issue(member("p1")), "X-Roles": "admin", "X-Project-Id": "evil",
		"X-User-Id": "admin", "X-Service-Roles": "service", "OpenStack-System-Scope": "all", "X-Is-Admin-Project": "True",
		"X-Identity-Status": "Confirmed", "X-Tenant-Id": "evil"}
	resp, _ := send(t, "GET", srv.URL+"/resource_providers", spoof)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	s := <-got
	for k := range spoof {
		if k != "X-Auth-Token" && s.header.Get(k) != "" {
			t.Errorf("client header %s reached the application", k)
		}
	}
	if s.identity == nil || s.identity.ProjectID != "p1" || strings.Join(s.identity.Roles, ",") != "member,reader" {
		t.Errorf("identity %+v", s.identity)
	}
}

func TestMiddlewareServiceToken(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	user := ks.Issue(member("p1"))
	nova := ks.Issue(keystonetest.Token{UserID: "nova", ProjectID: "service", Roles: []string{"service"}})
	operator := ks.Issue(keystonetest.Token{UserID: "op", ProjectID: "ops", Roles: []string{"operator"}})

	srv, got := echoStack(t, ks, keystone.MiddlewareOptions{})
	resp, _ := send(t, "GET", srv.URL+"/x", map[string]string{"X-Auth-Token": user, "X-Service-Token": nova})
	if resp.StatusCode != 200 {
		t.Fatalf("user + service token: %d", resp.StatusCode)
	}
	s := <-got
	if s.identity.UserID != "u-p1" {
		t.Errorf("the identity is the service token's: %+v", s.identity)
	}
	if c := s.identity.Credentials(); c.ServiceUserID != "nova" || c.ServiceProjectID != "service" ||
		strings.Join(c.ServiceRoles, ",") != "service" || c.UserID != "u-p1" {
		t.Errorf("credentials with a service token: %+v", c)
	}
	// The service token's holder is not kept with the cached user token.
	if _, body := send(t, "GET", srv.URL+"/x", map[string]string{"X-Auth-Token": user}); body != "ok" {
		t.Fatalf("user token alone: %s", body)
	}
	if s := <-got; s.identity.Service != nil || s.identity.Credentials().ServiceRoles != nil {
		t.Errorf("the service identity leaked into the cache: %+v", s.identity.Service)
	}
	if resp, _ := send(t, "GET", srv.URL+"/x", map[string]string{"X-Auth-Token": user, "X-Service-Token": operator}); resp.StatusCode != 401 {
		t.Errorf("service token without the service role: %d", resp.StatusCode)
	}
	// Configured roles replace the default.
	srv, got = echoStack(t, ks, keystone.MiddlewareOptions{ServiceTokenRoles: []string{"operator"}})
	if resp, _ := send(t, "GET", srv.URL+"/x", map[string]string{"X-Auth-Token": user, "X-Service-Token": operator}); resp.StatusCode != 200 {
		t.Errorf("service token with a configured role: %d", resp.StatusCode)
	}
	<-got
	if resp, _ := send(t, "GET", srv.URL+"/x", map[string]string{"X-Auth-Token": user, "X-Service-Token": nova}); resp.StatusCode != 401 {
		t.Errorf("service token without the configured role: %d", resp.StatusCode)
	}
}

func TestMiddlewareAccessRules(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	tok := member("p1")
	tok.AccessRules = []keystonetest.AccessRule{{Service: "placement", Method: "GET", Path: "/resource_providers/*"}}
	restricted := ks.Issue(tok)
	nova := ks.Issue(keystonetest.Token{UserID: "nova", ProjectID: "service", Roles: []string{"service"}})
	srv, got := echoStack(t, ks, keystone.MiddlewareOptions{})
	for _, tt := range []struct {
		method, path string
		header       map[string]string
		want         int
	}{
		{"GET", "/resource_providers/abc", map[string]string{"X-Auth-Token": restricted}, 200},
		{"DELETE", "/resource_providers/abc", map[string]string{"X-Auth-Token": restricted}, 401},
		{"GET", "/traits", map[string]string{"X-Auth-Token": restricted}, 401},
		{"GET", "/traits", map[string]string{"X-Auth-Token": restricted, "X-Service-Token": nova}, 200},
	} {
		resp, _ := send(t, tt.method, srv.URL+tt.path, tt.header)
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
		if resp.StatusCode == 200 {
			<-got
		}
	}
}

func TestMiddlewareKeystoneDown(t *testing.T) {
	ks := keystonetest.New()
	srv, got := echoStack(t, ks, keystone.MiddlewareOptions{})
	cached, unknown := ks.Issue(member("p1")), ks.Issue(member("p2"))
	if resp, _ := send(t, "GET", srv.URL+"/x", map[string]string{"X-Auth-Token": cached}); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	<-got
	ks.Close()
	resp, body := send(t, "GET", srv.URL+"/x", map[string]string{"X-Auth-Token": unknown})
	var b map[string]any
	if resp.StatusCode != 503 || json.Unmarshal([]byte(body), &b) != nil || b["code"] != "503 Service Unavailable" {
		t.Errorf("unknown token, Keystone down: %d %s", resp.StatusCode, body)
	}
	if resp, _ := send(t, "GET", srv.URL+"/x", map[string]string{"X-Auth-Token": cached}); resp.StatusCode != 200 {
		t.Errorf("cached token, Keystone down: %d", resp.StatusCode)
	}
	<-got
	if len(got) != 0 {
		t.Error("a request without a validated token reached the application")
	}
}

// realStack serves ingot's Placement and instance APIs as app.Run wires them, behind the
// middleware when ks is not nil (else noauth2).
func realStack(t testing.TB, ks *keystonetest.Server, enforceNew bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(realHandler(t, storetest.Open(t, storetest.SQLite), ks, enforceNew))
	t.Cleanup(srv.Close)
	return srv
}

// realHandler is ingot's Placement and instance APIs over db, behind the keystone
// middleware validating with ks (nil: noauth2).
func realHandler(t testing.TB, db *store.DB, ks *keystonetest.Server, enforceNew bool) http.Handler {
	t.Helper()
	enf, err := policy.New(policy.Options{EnforceNewDefaults: enforceNew})
	if err != nil {
		t.Fatal(err)
	}
	var authn placementapi.Authenticator
	if ks != nil {
		authn = keystone.Credentials
	}
	routes := app.NewRoutes(placementapi.New(db, placementapi.Options{Policy: enf, Authenticate: authn}))
	routes.Mount(instanceapi.Prefix, instanceapi.New(db, instanceapi.Options{Policy: enf, Authenticate: authn}))
	if ks == nil {
		return routes
	}
	return keystone.Middleware(newValidator(t, ks, keystone.ValidatorOptions{}), keystone.MiddlewareOptions{}, routes)
}

// TestPolicyOnTokens: Placement's new defaults (project-scoped admin or service for most
// routes, project readers for their usages) and the instance API's rules, evaluated on
// what the tokens say, whatever identity headers the client adds.
func TestPolicyOnTokens(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	srv := realStack(t, ks, true)
	spoof := map[string]string{"X-Roles": "admin", "X-Project-Id": "p2"}
	tokens := map[string]string{
		"member":       ks.Issue(member("p1")),
		"reader":       ks.Issue(keystonetest.Token{UserID: "r1", ProjectID: "p1", Roles: []string{"reader"}}),
		"admin":        ks.Issue(keystonetest.Token{UserID: "a1", ProjectID: "admin", Roles: []string{"admin", "member", "reader"}}),
		"system-admin": ks.Issue(keystonetest.Token{UserID: "a2", System: true, Roles: []string{"admin", "member", "reader"}}),
		"service":      ks.Issue(keystonetest.Token{UserID: "nova", ProjectID: "service", Roles: []string{"service"}}),
	}
	routes := []string{"/resource_providers", "/usages?project_id=p1", "/v1/instances", "/v1/instances?project_id=p2"}
	want := map[string][]int{
		"member":       {403, 200, 200, 403},
		"reader":       {403, 200, 200, 403},
		"admin":        {200, 200, 200, 200},
		"system-admin": {403, 403, 403, 403}, // scope enforcement: Placement's rules are project-scoped
		"service":      {200, 200, 403, 403},
	}
	for who, token := range tokens {
		for i, route := range routes {
			h := map[string]string{"X-Auth-Token": token, "OpenStack-API-Version": "placement latest"}
			for k, v := range spoof {
				h[k] = v
			}
			resp, body := send(t, "GET", srv.URL+route, h)
			if resp.StatusCode != want[who][i] {
				t.Errorf("%s GET %s: %d, want %d: %s", who, route, resp.StatusCode, want[who][i], body)
			}
		}
	}
	// The version document needs no token; the others do.
	if resp, _ := send(t, "GET", srv.URL+"/", nil); resp.StatusCode != 200 {
		t.Errorf("GET /: %d", resp.StatusCode)
	}
	if resp, body := send(t, "GET", srv.URL+"/v1/instances", nil); resp.StatusCode != 401 || body != wantUnauthorized {
		t.Errorf("GET /v1/instances without a token: %d %s", resp.StatusCode, body)
	}
}

// TestPolicyOnTokensDeprecatedDefaults: without enforce_new_defaults the deprecated
// "role:admin" also counts, so a project admin passes the service-only reshaper rule (and
// reaches the body check); scope is enforced either way, so a system admin does not.
func TestPolicyOnTokensDeprecatedDefaults(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	admin := ks.Issue(keystonetest.Token{UserID: "a1", ProjectID: "admin", Roles: []string{"admin", "member", "reader"}})
	system := ks.Issue(keystonetest.Token{UserID: "a2", System: true, Roles: []string{"admin"}})
	for _, tt := range []struct {
		enforceNew    bool
		token         string
		method, route string
		want          int
	}{
		{true, admin, "POST", "/reshaper", 403},
		{false, admin, "POST", "/reshaper", 400},
		{false, system, "GET", "/resource_providers", 403},
		{false, admin, "GET", "/resource_providers", 200},
	} {
		srv := realStack(t, ks, tt.enforceNew)
		resp, body := send(t, tt.method, srv.URL+tt.route, map[string]string{"X-Auth-Token": tt.token,
			"OpenStack-API-Version": "placement 1.30", "Content-Type": "application/json"})
		if resp.StatusCode != tt.want {
			t.Errorf("enforce_new_defaults=%v %s %s: %d, want %d: %s", tt.enforceNew, tt.method, tt.route, resp.StatusCode, tt.want, body)
		}
	}
}
