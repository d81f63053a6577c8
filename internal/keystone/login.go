package keystone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// statusError is Keystone's HTTP status when it refused an authentication.
type statusError int

func (e statusError) Error() string { return fmt.Sprintf("HTTP %d", int(e)) }

// ErrLoginRefused is Login's error when Keystone refused the user's credentials (401) or
// the scope (403, 404 for an unknown project or domain).
var ErrLoginRefused = errors.New("keystone refused the credentials")

// Login exchanges a user's password for a project-scoped token (POST /v3/auth/tokens),
// as the fleet dashboard's password form does, and returns the token and what it says.
// cfg names Keystone, the user, the password and the project; UserDomain and
// ProjectDomain default to "Default". Errors: ErrLoginRefused, or ErrUnavailable.
func Login(ctx context.Context, cfg Config) (string, Identity, error) {
	cfg.AppCredentialID, cfg.AppCredentialSecret = "", ""
	s, err := NewSession(cfg)
	if err != nil {
		return "", Identity{}, fmt.Errorf("%w: %v", ErrLoginRefused, err)
	}
	token, id, err := s.authenticate(ctx)
	if code, ok := errors.AsType[statusError](err); ok &&
		(code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusNotFound ||
			code == http.StatusBadRequest) {
		return "", Identity{}, fmt.Errorf("%w (%v)", ErrLoginRefused, code)
	}
	return token, id, err
}

// anonymousUI reports the fleet dashboard's paths that are served without a token: its
// page, static files, auth configuration and login (package ui; its data needs a token).
func anonymousUI(p string) bool {
	return p == "/ui" || p == "/ui/" || strings.HasPrefix(p, "/ui/static/") ||
		p == "/ui/api/config" || p == "/ui/api/login"
}
