package keystone

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// identityHeaders are the request headers keystonemiddleware sets for the application
// and therefore removes from every client request (remove_auth_headers), so that no
// client can claim an identity.
var identityHeaders = []string{
	"X-Identity-Status", "X-Service-Identity-Status",
	"X-Domain-Id", "X-Domain-Name", "X-Project-Id", "X-Project-Name",
	"X-Project-Domain-Id", "X-Project-Domain-Name", "X-User-Id", "X-User-Name",
	"X-User-Domain-Id", "X-User-Domain-Name", "X-Roles", "X-Is-Admin-Project",
	"X-Service-Domain-Id", "X-Service-Domain-Name", "X-Service-Project-Id",
	"X-Service-Project-Name", "X-Service-Project-Domain-Id", "X-Service-Project-Domain-Name",
	"X-Service-User-Id", "X-Service-User-Name", "X-Service-User-Domain-Id",
	"X-Service-User-Domain-Name", "X-Service-Roles", "X-Service-Catalog",
	"Openstack-System-Scope", "X-Tenant-Id", "X-Tenant-Name", "X-Tenant", "X-User", "X-Role",
	"X-Trust-Id", "X-Trustor-User-Id", "X-Trustee-User-Id",
}

// unauthorizedBody is keystonemiddleware's 401 body, byte for byte.
const unauthorizedBody = `{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}`

// unavailableBody is webob's 503 page in JSON, as keystonemiddleware answers when it
// cannot reach Keystone.
const unavailableBody = `{"message": "The server is currently unavailable. Please try again at a later time.<br /><br />\nThe Keystone service is temporarily unavailable.\n\n", "code": "503 Service Unavailable", "title": "Service Unavailable"}`

// AnonymousPaths are the paths served without a token by default: the version document,
// as PlacementAuthProtocol serves it, the health endpoints, as load balancers and probes
// call them, and the metrics, as Prometheus scrapes them (it sends no token).
var AnonymousPaths = []string{
	"", "/",
	"/livez", "/healthz", "/readyz", "/healthcheck",
	"/metrics",
}

// MiddlewareOptions configure Middleware.
type MiddlewareOptions struct {
	// WWWAuthenticateURI is named in every 401's WWW-Authenticate header (default: the
	// session's identity endpoint).
	WWWAuthenticateURI string
	// ServiceTokenRoles are the roles of which an X-Service-Token must hold one
	// (default ["service"]), as keystonemiddleware's service_token_roles with
	// service_token_roles_required = true.
	ServiceTokenRoles []string
	// ServiceType is matched against application-credential access rules (default
	// "placement").
	ServiceType string
	// Anonymous reports the paths served without a token (default: AnonymousPaths, and the
	// dashboard's static files and login, see anonymousUI).
	Anonymous func(path string) bool
	// Logger receives Keystone failures.
	Logger *slog.Logger
}

// Middleware authenticates every request to next with v, as keystonemiddleware's
// auth_token does: the client's identity headers are removed; X-Service-Token, when
// given, must be valid and hold a service role; X-Auth-Token must be valid; the caller's
// Identity goes on the request context (FromContext). A missing or invalid token is a 401
// with WWW-Authenticate (added to every 401 next writes too); Keystone unreachable with no
// cached answer is a 503.
func Middleware(v *Validator, opts MiddlewareOptions, next http.Handler) http.Handler {
	if opts.WWWAuthenticateURI == "" {
		opts.WWWAuthenticateURI = v.session.Endpoint()
	}
	if len(opts.ServiceTokenRoles) == 0 {
		opts.ServiceTokenRoles = []string{"service"}
	}
	if opts.ServiceType == "" {
		opts.ServiceType = "placement"
	}
	if opts.Anonymous == nil {
		opts.Anonymous = func(p string) bool { return slices.Contains(AnonymousPaths, p) || anonymousUI(p) }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &middleware{v: v, opts: opts, next: next, challenge: `Keystone uri="` + opts.WWWAuthenticateURI + `"`}
	return m
}

type middleware struct {
	v         *Validator
	opts      MiddlewareOptions
	next      http.Handler
	challenge string
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, h := range identityHeaders {
		delete(r.Header, h)
	}
	if m.opts.Anonymous(r.URL.Path) {
		m.next.ServeHTTP(w, r)
		return
	}
	var service *Identity
	if st := r.Header.Get("X-Service-Token"); st != "" {
		sid, err := m.v.Validate(r.Context(), st, false)
		if err != nil {
			m.fail(w, r, err, "service token")
			return
		}
		if !sid.HasRole(m.opts.ServiceTokenRoles...) {
			m.opts.Logger.Info("service token lacks the service roles", "user_id", sid.UserID, "want", m.opts.ServiceTokenRoles)
			m.unauthorized(w)
			return
		}
		service = sid
	}
	serviceOK := service != nil
	id, err := m.v.Validate(r.Context(), r.Header.Get("X-Auth-Token"), serviceOK)
	if err != nil {
		m.fail(w, r, err, "token")
		return
	}
	if len(id.AccessRules) > 0 && !serviceOK && !m.allowedByRules(id.AccessRules, r) {
		m.opts.Logger.Info("application credential access rules refuse the request", "user_id", id.UserID,
			"method", r.Method, "path", r.URL.Path)
		m.unauthorized(w)
		return
	}
	if serviceOK {
		withService := *id // the cached identity is shared: annotate a copy
		withService.Service = service
		id = &withService
	}
	m.next.ServeHTTP(&challengeWriter{ResponseWriter: w, challenge: m.challenge}, r.WithContext(WithIdentity(r.Context(), id)))
}

// fail answers a validation error: 503 when Keystone could not say, else 401.
func (m *middleware) fail(w http.ResponseWriter, r *http.Request, err error, what string) {
	if errors.Is(err, ErrUnavailable) {
		m.opts.Logger.Error("unable to validate "+what, "err", err, "path", r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(unavailableBody))
		return
	}
	m.opts.Logger.Debug("rejected "+what, "err", err)
	m.unauthorized(w)
}

func (m *middleware) unauthorized(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("WWW-Authenticate", m.challenge)
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte(unauthorizedBody))
}

// allowedByRules reports whether one access rule allows r: the service type matches,
// the method matches, and the path matches the rule's, where "*" is one path segment and
// "**" any number of them.
func (m *middleware) allowedByRules(rules []AccessRule, r *http.Request) bool {
	for _, rule := range rules {
		if rule.Service == m.opts.ServiceType && strings.EqualFold(rule.Method, r.Method) && pathMatches(rule.Path, r.URL.Path) {
			return true
		}
	}
	return false
}

func pathMatches(pattern, path string) bool {
	return segmentsMatch(strings.Split(strings.Trim(pattern, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/"))
}

func segmentsMatch(pat, seg []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(seg); i++ {
				if segmentsMatch(pat[1:], seg[i:]) {
					return true
				}
			}
			return false
		}
		if len(seg) == 0 || (pat[0] != "*" && pat[0] != seg[0]) {
			return false
		}
		pat, seg = pat[1:], seg[1:]
	}
	return len(seg) == 0
}

// challengeWriter adds WWW-Authenticate to a 401 the application writes, as
// keystonemiddleware's process_response does.
type challengeWriter struct {
	http.ResponseWriter
	challenge string
	wrote     bool
}

func (c *challengeWriter) WriteHeader(status int) {
	if !c.wrote {
		c.wrote = true
		if status == http.StatusUnauthorized && !slices.Contains(c.Header().Values("WWW-Authenticate"), c.challenge) {
			c.Header().Add("WWW-Authenticate", c.challenge)
		}
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *challengeWriter) Write(b []byte) (int, error) {
	c.wrote = true
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
