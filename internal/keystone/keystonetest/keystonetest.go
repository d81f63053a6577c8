// Package keystonetest is a small hand-written Keystone for tests: it issues tokens
// (password and application-credential auth, or directly with Issue) and validates them
// on GET /v3/auth/tokens with the bodies and statuses measured on Keystone 22.0.2.
package keystonetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The service user the stub knows; its token holds admin and service on project
// "service", as the placement user of a real deployment.
const (
	ServiceUser     = "placement"
	ServicePassword = "secret"
	ServiceProject  = "service"
	AppCredID       = "app-cred-id"
	AppCredSecret   = "app-cred-secret"
)

// Token describes a token to issue.
type Token struct {
	UserID, UserName string
	// ProjectID is empty for a system-scoped token (System true).
	ProjectID, ProjectName string
	System                 bool
	Roles                  []string
	// TTL is the token's lifetime (default one hour).
	TTL         time.Duration
	AccessRules []AccessRule
}

// AccessRule is an application-credential access rule.
type AccessRule struct {
	Service string `json:"service"`
	Method  string `json:"method"`
	Path    string `json:"path"`
}

// Service is a catalog entry: a service type and its endpoints.
type Service struct {
	Type      string     `json:"type"`
	Name      string     `json:"name"`
	Endpoints []Endpoint `json:"endpoints"`
}

// Endpoint is one endpoint of a catalog entry.
type Endpoint struct {
	Interface string `json:"interface"`
	Region    string `json:"region_id"`
	URL       string `json:"url"`
}

type issued struct {
	Token
	expires time.Time
	revoked bool
}

// Server is the stub Keystone; its URL is the identity endpoint without /v3.
type Server struct {
	*httptest.Server
	// Validations counts GET /v3/auth/tokens calls; Auths counts POST calls.
	Validations, Auths atomic.Int64

	mu      sync.Mutex
	tokens  map[string]*issued
	hold    chan struct{}
	svcTTL  time.Duration
	catalog []Service
}

// SetCatalog sets the catalog of the tokens the service gets (unless it asks with
// ?nocatalog, as Keystone).
func (s *Server) SetCatalog(c []Service) {
	s.mu.Lock()
	s.catalog = c
	s.mu.Unlock()
}

// Valid reports whether Keystone accepts token now (issued, not revoked, not expired):
// what a service behind keystonemiddleware would learn from validating it.
func (s *Server) Valid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[token]
	return ok && !t.revoked && time.Now().Before(t.expires)
}

// SetServiceTokenTTL sets the lifetime of the tokens the service gets (default an hour).
func (s *Server) SetServiceTokenTTL(d time.Duration) {
	s.mu.Lock()
	s.svcTTL = d
	s.mu.Unlock()
}

// HoldValidations makes validations wait until release is called.
func (s *Server) HoldValidations() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.hold = nil
		s.mu.Unlock()
		close(ch)
	}
}

// New starts a stub Keystone; Close stops it.
func New() *Server {
	s := &Server{tokens: map[string]*issued{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Issue returns a new token for t.
func (s *Server) Issue(t Token) string {
	if t.TTL == 0 {
		t.TTL = time.Hour
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := "gAAAA" + hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[id] = &issued{Token: t, expires: time.Now().Add(t.TTL)}
	s.mu.Unlock()
	return id
}

// Revoke makes Keystone refuse token from now on.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[token]; ok {
		t.revoked = true
	}
}

// RevokeAll revokes every token issued so far (the service's too).
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.revoked = true
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v3/auth/tokens" {
		writeError(w, http.StatusNotFound, "Not Found", "The resource could not be found.")
		return
	}
	switch r.Method {
	case http.MethodPost:
		s.authenticate(w, r)
	case http.MethodGet:
		s.validate(w, r)
	default:
		writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed", "The method is not allowed for the requested URL.")
	}
}

func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) {
	s.Auths.Add(1)
	var req struct {
		Auth struct {
			Identity struct {
				Methods  []string `json:"methods"`
				Password struct {
					User struct {
						Name, Password string
					} `json:"user"`
				} `json:"password"`
				AppCred struct {
					ID, Secret string
				} `json:"application_credential"`
			} `json:"identity"`
			Scope struct {
				Project struct{ Name string } `json:"project"`
			} `json:"scope"`
		} `json:"auth"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request", err.Error())
		return
	}
	id := req.Auth.Identity
	ok := slices.Contains(id.Methods, "password") && id.Password.User.Name == ServiceUser &&
		id.Password.User.Password == ServicePassword && req.Auth.Scope.Project.Name == ServiceProject ||
		slices.Contains(id.Methods, "application_credential") && id.AppCred.ID == AppCredID && id.AppCred.Secret == AppCredSecret
	if !ok {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "The request you have made requires authentication.")
		return
	}
	t := Token{UserID: "placement-id", UserName: ServiceUser, ProjectID: "service-id", ProjectName: ServiceProject,
		Roles: []string{"admin", "member", "reader", "service"}}
	s.mu.Lock()
	t.TTL = s.svcTTL
	s.mu.Unlock()
	token := s.Issue(t)
	s.mu.Lock()
	body := s.body(s.tokens[token])
	if !r.URL.Query().Has("nocatalog") {
		body = withCatalog(body, s.catalog)
	}
	s.mu.Unlock()
	w.Header().Set("X-Subject-Token", token)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(body)
}

func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	s.Validations.Add(1)
	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		<-hold
	}
	allowExpired := r.URL.Query().Get("allow_expired") == "1"
	now := time.Now()
	s.mu.Lock()
	caller, ok := s.tokens[r.Header.Get("X-Auth-Token")]
	if !ok || caller.revoked || !now.Before(caller.expires) {
		s.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "Unauthorized", "The request you have made requires authentication.")
		return
	}
	if !slices.Contains(caller.Roles, "admin") && !slices.Contains(caller.Roles, "service") {
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "Forbidden", "You are not authorized to perform the requested action: identity:validate_token.")
		return
	}
	subject, ok := s.tokens[r.Header.Get("X-Subject-Token")]
	if !ok || subject.revoked || !allowExpired && !now.Before(subject.expires) {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not Found", "Could not recognize Fernet token")
		return
	}
	body := s.body(subject)
	s.mu.Unlock()
	w.Header().Set("X-Subject-Token", r.Header.Get("X-Subject-Token"))
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

type ref struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Domain *ref   `json:"domain,omitempty"`
}

// body renders t as Keystone does (§2.3 of keystone.md).
func (s *Server) body(t *issued) []byte {
	def := &ref{ID: "default", Name: "Default"}
	tok := map[string]any{
		"methods":    []string{"password"},
		"user":       ref{ID: t.UserID, Name: t.UserName, Domain: def},
		"audit_ids":  []string{"E9Zolh1eQLCzN0XIWhjTWQ"},
		"expires_at": t.expires.UTC().Format("2006-01-02T15:04:05.000000Z"),
		"issued_at":  t.expires.Add(-t.TTL).UTC().Format("2006-01-02T15:04:05.000000Z"),
	}
	var roles []ref
	for i, r := range t.Roles {
		roles = append(roles, ref{ID: "role-" + string(rune('a'+i)), Name: r})
	}
	tok["roles"] = roles
	if t.System {
		tok["system"] = map[string]bool{"all": true}
	} else {
		tok["project"] = ref{ID: t.ProjectID, Name: t.ProjectName, Domain: def}
		tok["is_domain"] = false
	}
	if t.AccessRules != nil {
		tok["methods"] = []string{"application_credential"}
		tok["application_credential"] = map[string]any{"id": "ac-" + t.UserID, "name": "ci", "restricted": true,
			"access_rules": t.AccessRules}
	}
	b, _ := json.Marshal(map[string]any{"token": tok})
	return b
}

// withCatalog adds catalog to a token body.
func withCatalog(body []byte, catalog []Service) []byte {
	var v map[string]map[string]any
	_ = json.Unmarshal(body, &v)
	if catalog == nil {
		catalog = []Service{}
	}
	v["token"]["catalog"] = catalog
	b, _ := json.Marshal(v)
	return b
}

func writeError(w http.ResponseWriter, status int, title, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": status, "message": message, "title": title}})
	_, _ = w.Write(b)
}
