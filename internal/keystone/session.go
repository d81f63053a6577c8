package keystone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config is how the service authenticates itself to Keystone: with a password (Username,
// Password, domains and project) or with an application credential (ID and secret).
type Config struct {
	// URL is Keystone's identity endpoint, with or without the trailing /v3.
	URL string
	// Username and Password authenticate a user of UserDomain (default "Default"),
	// scoped to Project of ProjectDomain (default "Default").
	Username, Password  string
	UserDomain          string
	Project             string
	ProjectDomain       string
	AppCredentialID     string
	AppCredentialSecret string
	// HTTPClient sends every call (default: a client with a 10 s timeout).
	HTTPClient *http.Client
}

// Endpoint returns the /v3 URL of the identity endpoint url names, without a trailing
// slash: what Keystone's WWW-Authenticate header names.
func Endpoint(url string) string {
	url = strings.TrimRight(url, "/")
	if !strings.HasSuffix(url, "/v3") {
		url += "/v3"
	}
	return url
}

// Validate reports a configuration that cannot authenticate.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("keystone: no identity URL"))
	}
	pw, ac := c.Username != "" || c.Password != "", c.AppCredentialID != "" || c.AppCredentialSecret != ""
	switch {
	case pw && ac:
		errs = append(errs, errors.New("keystone: give either a username and password or an application credential, not both"))
	case ac:
		if c.AppCredentialID == "" || c.AppCredentialSecret == "" {
			errs = append(errs, errors.New("keystone: an application credential needs an id and a secret"))
		}
	case pw:
		if c.Username == "" || c.Password == "" {
			errs = append(errs, errors.New("keystone: password authentication needs a username and a password"))
		}
		if c.Project == "" {
			errs = append(errs, errors.New("keystone: password authentication needs a project"))
		}
	default:
		errs = append(errs, errors.New("keystone: no service credentials (username and password, or application credential)"))
	}
	return errors.Join(errs...)
}

// ErrUnavailable is wrapped by the errors of calls that Keystone did not answer usefully
// (unreachable, 5xx, or it refused the service's own credentials): the middleware answers
// 503.
var ErrUnavailable = errors.New("keystone unavailable")

// renewBefore is how long before its expiry the service token is replaced.
const renewBefore = 2 * time.Minute

// Session holds the service's own token, obtained on first use and renewed before it
// expires. It is safe for concurrent use; one token is shared by every caller.
type Session struct {
	cfg      Config
	endpoint string
	client   *http.Client
	now      func() time.Time

	mu      sync.Mutex // serializes authentication
	token   string
	expires time.Time
}

// NewSession returns the session cfg describes; it does not call Keystone yet.
func NewSession(cfg Config) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Session{cfg: cfg, endpoint: Endpoint(cfg.URL), client: cfg.HTTPClient, now: time.Now}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	if s.cfg.UserDomain == "" {
		s.cfg.UserDomain = "Default"
	}
	if s.cfg.ProjectDomain == "" {
		s.cfg.ProjectDomain = "Default"
	}
	return s, nil
}

// Endpoint returns the identity endpoint's /v3 URL.
func (s *Session) Endpoint() string { return s.endpoint }

// Token returns the service's token, authenticating when there is none or it expires
// within two minutes (or within half its lifetime, for short-lived tokens).
func (s *Session) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.now().Before(s.expires) {
		return s.token, nil
	}
	token, id, err := s.authenticate(ctx)
	if err != nil {
		return "", err
	}
	now := s.now()
	margin := min(renewBefore, id.ExpiresAt.Sub(now)/2)
	s.token, s.expires = token, id.ExpiresAt.Add(-margin)
	return s.token, nil
}

// Invalidate drops token if it is still the current one (Keystone refused it), so that
// the next Token authenticates again.
func (s *Session) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == token {
		s.token = ""
	}
}

type authRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User struct {
					Name     string    `json:"name"`
					Password string    `json:"password"`
					Domain   nameField `json:"domain"`
				} `json:"user"`
			} `json:"password,omitempty"`
			AppCred *struct {
				ID     string `json:"id"`
				Secret string `json:"secret"`
			} `json:"application_credential,omitempty"`
		} `json:"identity"`
		Scope *struct {
			Project struct {
				Name   string    `json:"name"`
				Domain nameField `json:"domain"`
			} `json:"project"`
		} `json:"scope,omitempty"`
	} `json:"auth"`
}

type nameField struct {
	Name string `json:"name"`
}

func (s *Session) authenticate(ctx context.Context) (string, Identity, error) {
	var req authRequest
	id := &req.Auth.Identity
	if s.cfg.AppCredentialID != "" {
		id.Methods = []string{"application_credential"}
		id.AppCred = &struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}{s.cfg.AppCredentialID, s.cfg.AppCredentialSecret}
	} else {
		id.Methods = []string{"password"}
		id.Password = new(struct {
			User struct {
				Name     string    `json:"name"`
				Password string    `json:"password"`
				Domain   nameField `json:"domain"`
			} `json:"user"`
		})
		id.Password.User.Name, id.Password.User.Password = s.cfg.Username, s.cfg.Password
		id.Password.User.Domain.Name = s.cfg.UserDomain
		req.Auth.Scope = new(struct {
			Project struct {
				Name   string    `json:"name"`
				Domain nameField `json:"domain"`
			} `json:"project"`
		})
		req.Auth.Scope.Project.Name, req.Auth.Scope.Project.Domain.Name = s.cfg.Project, s.cfg.ProjectDomain
	}
	body, _ := json.Marshal(&req)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint+"/auth/tokens?nocatalog", bytes.NewReader(body))
	if err != nil {
		return "", Identity{}, fmt.Errorf("keystone: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(hr)
	if err != nil {
		return "", Identity{}, fmt.Errorf("%w: authenticating the service: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", Identity{}, fmt.Errorf("%w: authenticating the service: %v", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", Identity{}, fmt.Errorf("%w: authenticating the service: %w", ErrUnavailable, statusError(resp.StatusCode))
	}
	token := resp.Header.Get("X-Subject-Token")
	ident, err := DecodeToken(data)
	if err != nil || token == "" {
		return "", Identity{}, fmt.Errorf("%w: authenticating the service: no token in the answer (%v)", ErrUnavailable, err)
	}
	return token, ident, nil
}
