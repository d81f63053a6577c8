package placementapi

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"ingot/internal/policy"
)

// invalidLengthHeader is what the listener (see RewriteInvalidContentLength) renames a
// Content-Length header that is not an integer to, so that the request reaches the
// handler and gets Placement's 400 instead of net/http's.
const invalidLengthHeader = "Invalid-Length"

// Authenticator derives the caller of a request: Credentials (noauth2), or the identity a
// token-validating middleware put on the request. Its error means the request is not
// authenticated.
type Authenticator func(r *http.Request) (policy.Credentials, error)

// Authenticate derives the caller with a (nil: Credentials). Its error is a 401 ready for
// WriteError.
func Authenticate(a Authenticator, r *http.Request) (policy.Credentials, error) {
	if a == nil {
		a = Credentials
	}
	creds, err := a(r)
	if err != nil {
		if _, ok := errors.AsType[*apiError](err); ok {
			return creds, err
		}
		return policy.Credentials{}, errorf(http.StatusUnauthorized, "Authentication required")
	}
	return creds, nil
}

// authenticate derives the caller (see Authenticate). Every path but the root needs a token.
func (rq *request) authenticate() error {
	if rq.r.URL.Path == "/" || rq.r.URL.Path == "" {
		return nil
	}
	creds, err := Authenticate(rq.s.auth, rq.r)
	if err != nil {
		return err
	}
	rq.creds = creds
	return nil
}

// Credentials derives the caller from noauth2 headers, as Placement's NoAuthMiddleware
// does: the token "user[:project]" names the user and project, the user "admin" has the
// admin role, X-Roles replaces the roles, X-Project-Id the project, and
// OpenStack-System-Scope: all makes the token system-scoped. A request without a token is
// a 401 error (render it with WriteError). The other APIs served beside Placement use it,
// so every API on the listener authenticates alike.
func Credentials(r *http.Request) (policy.Credentials, error) {
	token, ok := r.Header["X-Auth-Token"]
	if !ok || len(token) == 0 {
		return policy.Credentials{}, errorf(http.StatusUnauthorized, "Authentication required")
	}
	user, project, _ := strings.Cut(token[0], ":")
	if project == "" {
		project = user
	}
	var roles []string
	if user == "admin" {
		roles = []string{"admin"}
	}
	if h, ok := r.Header["X-Roles"]; ok {
		roles = nil
		for _, v := range h {
			for _, role := range strings.Split(v, ",") {
				if role = strings.TrimSpace(role); role != "" {
					roles = append(roles, role)
				}
			}
		}
	}
	if p := r.Header.Get("X-Project-Id"); p != "" {
		project = p
	}
	creds := policy.Credentials{UserID: user, ProjectID: project, Roles: roles}
	if strings.EqualFold(r.Header.Get("Openstack-System-Scope"), "all") {
		creds.SystemScope = "all"
		creds.ProjectID = ""
	}
	return creds, nil
}

// simpleHeaders are the request headers CORS always allows.
var simpleHeaders = []string{"cache-control", "content-language", "content-type", "expires", "last-modified", "pragma"}

// handleCORS applies the CORS configuration as oslo.middleware's CORS filter does. A
// preflight request (OPTIONS with Access-Control-Request-Method) is answered here with 200,
// with CORS headers only when the origin, method and headers are allowed. For other
// requests from an allowed origin the CORS headers are added to the response. It reports
// whether it wrote the response.
func (s *Server) handleCORS(rq *request) bool {
	if len(s.cors.AllowedOrigins) == 0 {
		return false
	}
	r, h := rq.r, rq.w.Header()
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	allowed := slices.Contains(s.cors.AllowedOrigins, origin) || slices.Contains(s.cors.AllowedOrigins, "*")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		rq.status = http.StatusOK
		if allowed && s.preflightAllowed(r) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
			if reqHeaders := r.Header.Get("Access-Control-Request-Headers"); reqHeaders != "" {
				h.Set("Access-Control-Allow-Headers", reqHeaders)
			}
			if s.cors.MaxAge > 0 {
				h.Set("Access-Control-Max-Age", itoa(int64(s.cors.MaxAge)))
			}
		}
		h.Set("Vary", "Origin")
		rq.w.WriteHeader(http.StatusOK)
		return true
	}
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		if len(s.cors.ExposeHeaders) > 0 {
			h.Set("Access-Control-Expose-Headers", strings.Join(s.cors.ExposeHeaders, ","))
		}
		h.Add("Vary", "Origin")
	}
	return false
}

func (s *Server) preflightAllowed(r *http.Request) bool {
	methods := s.cors.AllowMethods
	if len(methods) == 0 {
		methods = []string{"GET", "PUT", "POST", "DELETE", "PATCH"}
	}
	if !slices.Contains(methods, strings.ToUpper(r.Header.Get("Access-Control-Request-Method"))) {
		return false
	}
	for _, hdr := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
		hdr = strings.ToLower(strings.TrimSpace(hdr))
		if hdr == "" || slices.Contains(simpleHeaders, hdr) {
			continue
		}
		ok := false
		for _, a := range s.cors.AllowHeaders {
			if strings.EqualFold(a, hdr) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
