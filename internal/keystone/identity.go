package keystone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"ingot/internal/policy"
)

// Identity is what a validated token says about its holder: the subset of Keystone's
// GET /v3/auth/tokens body that services' policy reads.
type Identity struct {
	UserID, UserName             string
	UserDomainID, UserDomainName string
	// ProjectID and the other project fields are empty for system and domain tokens.
	ProjectID, ProjectName             string
	ProjectDomainID, ProjectDomainName string
	// DomainID and DomainName are set for domain-scoped tokens only.
	DomainID, DomainName string
	// Roles are the role names, already expanded by Keystone's implied roles.
	Roles []string
	// SystemScope is "all" for a system-scoped token, else empty.
	SystemScope string
	// IsAdminProject is the token's is_admin_project; true when Keystone leaves it out,
	// as keystonemiddleware defaults X-Is-Admin-Project.
	IsAdminProject bool
	Methods        []string
	ExpiresAt      time.Time
	// ApplicationCredentialID is set for application-credential tokens, with the
	// credential's access rules (none: unrestricted by path).
	ApplicationCredentialID string
	AccessRules             []AccessRule
	// Service is the holder of the request's valid X-Service-Token, if any (set by
	// Middleware on the request's copy, never in the cache).
	Service *Identity
}

// AccessRule is one application-credential access rule.
type AccessRule struct {
	Service string `json:"service"`
	Method  string `json:"method"`
	Path    string `json:"path"`
}

// HasRole reports whether the identity holds one of roles (names compared exactly, as
// keystonemiddleware's service_token_roles check does).
func (id Identity) HasRole(roles ...string) bool {
	for _, have := range id.Roles {
		for _, want := range roles {
			if have == want {
				return true
			}
		}
	}
	return false
}

type namedRef struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Domain *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"domain"`
}

type tokenBody struct {
	Token *struct {
		Methods        []string        `json:"methods"`
		User           *namedRef       `json:"user"`
		Project        *namedRef       `json:"project"`
		Domain         *namedRef       `json:"domain"`
		Roles          []namedRef      `json:"roles"`
		System         map[string]bool `json:"system"`
		IsAdminProject *bool           `json:"is_admin_project"`
		ExpiresAt      string          `json:"expires_at"`
		AppCred        *struct {
			ID          string       `json:"id"`
			AccessRules []AccessRule `json:"access_rules"`
		} `json:"application_credential"`
	} `json:"token"`
}

// errMalformed is wrapped by every DecodeToken error.
var errMalformed = errors.New("malformed token body")

// DecodeToken decodes a Keystone v3 token body (the answer of POST or GET
// /v3/auth/tokens). The body must name a user and an expiry time.
func DecodeToken(body []byte) (Identity, error) {
	var b tokenBody
	if err := json.Unmarshal(body, &b); err != nil {
		return Identity{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	t := b.Token
	if t == nil || t.User == nil || t.User.ID == "" {
		return Identity{}, fmt.Errorf("%w: no token.user.id", errMalformed)
	}
	exp, err := time.Parse(time.RFC3339Nano, t.ExpiresAt)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: expires_at: %v", errMalformed, err)
	}
	id := Identity{UserID: t.User.ID, UserName: t.User.Name, Methods: t.Methods, ExpiresAt: exp, IsAdminProject: true}
	if d := t.User.Domain; d != nil {
		id.UserDomainID, id.UserDomainName = d.ID, d.Name
	}
	if p := t.Project; p != nil {
		id.ProjectID, id.ProjectName = p.ID, p.Name
		if d := p.Domain; d != nil {
			id.ProjectDomainID, id.ProjectDomainName = d.ID, d.Name
		}
	}
	if d := t.Domain; d != nil {
		id.DomainID, id.DomainName = d.ID, d.Name
	}
	for _, r := range t.Roles {
		if r.Name != "" {
			id.Roles = append(id.Roles, r.Name)
		}
	}
	if t.System["all"] {
		id.SystemScope = "all"
	}
	if t.IsAdminProject != nil {
		id.IsAdminProject = *t.IsAdminProject
	}
	if a := t.AppCred; a != nil {
		id.ApplicationCredentialID, id.AccessRules = a.ID, a.AccessRules
	}
	return id, nil
}

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity Middleware put on the request's context.
func FromContext(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(*Identity)
	return id, ok && id != nil
}

// ErrNoIdentity is Credentials' error for a request Middleware did not authenticate.
var ErrNoIdentity = errors.New("no keystone identity on the request")

// Credentials returns the policy credentials of the identity Middleware put on r: the
// Authenticator the APIs use with keystone authentication.
func Credentials(r *http.Request) (policy.Credentials, error) {
	id, ok := FromContext(r.Context())
	if !ok {
		return policy.Credentials{}, ErrNoIdentity
	}
	return id.Credentials(), nil
}

// Credentials returns what policy rules evaluate for id. A system-scoped token has no
// project.
func (id *Identity) Credentials() policy.Credentials {
	c := policy.Credentials{UserID: id.UserID, ProjectID: id.ProjectID, Roles: id.Roles, SystemScope: id.SystemScope,
		UserDomainID: id.UserDomainID, ProjectDomainID: id.ProjectDomainID, DomainID: id.DomainID,
		NotAdminProject: !id.IsAdminProject}
	if c.SystemScope != "" {
		c.ProjectID, c.ProjectDomainID = "", ""
	}
	if s := id.Service; s != nil {
		c.ServiceUserID, c.ServiceUserDomainID = s.UserID, s.UserDomainID
		c.ServiceProjectID, c.ServiceProjectDomainID = s.ProjectID, s.ProjectDomainID
		c.ServiceRoles = s.Roles
	}
	return c
}
