package keystone

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

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
	token, id, _, err := s.authenticate(ctx)
	if errors.Is(err, ErrCredentialsRefused) {
		return "", Identity{}, fmt.Errorf("%w: %v", ErrLoginRefused, err)
	}
	return token, id, err
}

// anonymousUI reports the fleet dashboard's paths that are served without a token: its
// page, static files, auth configuration and login (package ui; its data needs a token).
func anonymousUI(p string) bool {
	return p == "/ui" || p == "/ui/" || strings.HasPrefix(p, "/ui/static/") ||
		p == "/ui/api/config" || p == "/ui/api/login"
}
