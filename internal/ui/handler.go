package ui

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ingot/internal/keystone"
	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/reconcile"
	"ingot/internal/store"
)

// Prefix is the path the dashboard is mounted at.
const Prefix = "/ui"

//go:embed assets
var assets embed.FS

// Options configure a Handler.
type Options struct {
	// Policy authorizes the data requests (rule ingot:fleet:read); required.
	Policy *policy.Enforcer
	// Authenticate derives each data request's caller, as the APIs beside it do (nil:
	// noauth2).
	Authenticate placementapi.Authenticator
	// Tracker, when not nil, is the Ironic resource tracker whose listing and passes the
	// dashboard shows.
	Tracker *reconcile.Reconciler
	// Keystone, when its URL is set, turns the login page into a username and password
	// form that /ui/api/login exchanges for a Keystone token; its credentials are unused.
	Keystone keystone.Config
	// WatchTimeout bounds a long poll of /ui/api/watch (default 25 s); WatchEvery is how
	// often it looks for a change (default 500 ms; each look is three one-row queries).
	WatchTimeout, WatchEvery time.Duration
	// Logger receives unexpected errors.
	Logger *slog.Logger
}

// Handler serves the dashboard under Prefix. It is safe for concurrent use.
type Handler struct {
	db      *store.DB
	tracker *reconcile.Reconciler
	opts    Options
	log     *slog.Logger
	static  http.Handler
	index   []byte

	mu   sync.Mutex // serializes snapshot builds
	snap atomic.Pointer[snapshot]
}

// New returns the dashboard over db.
func New(db *store.DB, opts Options) *Handler {
	if opts.WatchTimeout <= 0 {
		opts.WatchTimeout = 25 * time.Second
	}
	if opts.WatchEvery <= 0 {
		opts.WatchEvery = 500 * time.Millisecond
	}
	h := &Handler{db: db, tracker: opts.Tracker, opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	h.index, err = fs.ReadFile(sub, "index.html")
	if err != nil {
		panic(err)
	}
	h.static = http.StripPrefix(Prefix, http.FileServerFS(sub))
	return h
}

// contentSecurityPolicy lets the page load only its own files and talk only to ingot.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// ServeHTTP serves the page, its static files and the data API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := placementapi.NewRequestID()
	w.Header().Set("X-Openstack-Request-Id", id)
	p := r.URL.Path
	switch {
	case p == Prefix:
		http.Redirect(w, r, Prefix+"/", http.StatusMovedPermanently)
	case p == Prefix+"/":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.fail(w, r, id, methodNotAllowed(w, r, "GET"))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(h.index)
	case strings.HasPrefix(p, Prefix+"/static/"):
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.fail(w, r, id, methodNotAllowed(w, r, "GET"))
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		h.static.ServeHTTP(w, r)
	case strings.HasPrefix(p, Prefix+"/api/"):
		if err := h.api(w, r, strings.TrimPrefix(p, Prefix+"/api")); err != nil {
			h.fail(w, r, id, err)
		}
	default:
		h.fail(w, r, id, placementapi.StatusError(http.StatusNotFound, "The resource could not be found."))
	}
}

// api serves one data request; path is what follows /ui/api.
func (h *Handler) api(w http.ResponseWriter, r *http.Request, path string) error {
	if p := placementapi.TextProblem(r.URL.RawQuery); p != "" {
		return badRequest("Invalid query string: it contains %s.", p)
	}
	switch path {
	case "/config":
		if r.Method != http.MethodGet {
			return methodNotAllowed(w, r, "GET")
		}
		auth := "noauth2"
		if h.opts.Keystone.URL != "" {
			auth = "keystone"
		}
		return send(w, r, map[string]any{"auth": auth})
	case "/login":
		if r.Method != http.MethodPost {
			return methodNotAllowed(w, r, "POST")
		}
		return h.login(w, r)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed(w, r, "GET")
	}
	creds, err := placementapi.Authenticate(h.opts.Authenticate, r)
	if err != nil {
		return err
	}
	if err := h.opts.Policy.Authorize(policy.FleetRead, creds, policy.Target{"project_id": creds.ProjectID}); err != nil {
		return err
	}
	q := r.URL.Query()
	switch {
	case path == "/summary":
		return h.summary(w, r)
	case path == "/nodes":
		return h.nodes(w, r, q)
	case strings.HasPrefix(path, "/nodes/") && !strings.Contains(path[len("/nodes/"):], "/"):
		return h.node(w, r, path[len("/nodes/"):])
	case path == "/instances":
		return h.instances(w, r, q)
	case path == "/passes":
		return h.passes(w, r)
	case path == "/events":
		return h.events(w, r, q)
	case path == "/watch":
		return h.watch(w, r, q)
	}
	return placementapi.StatusError(http.StatusNotFound, "The resource could not be found.")
}

// login exchanges a username and password for a Keystone token.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	if h.opts.Keystone.URL == "" {
		return placementapi.StatusError(http.StatusNotFound, "Password login needs --auth keystone; log in with a token.")
	}
	var body struct {
		Username      string `json:"username"`
		Password      string `json:"password"`
		Project       string `json:"project"`
		UserDomain    string `json:"user_domain"`
		ProjectDomain string `json:"project_domain"`
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return badRequest("Could not read the request body.")
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return badRequest("Malformed JSON: %s.", err)
	}
	if body.Username == "" || body.Password == "" || body.Project == "" {
		return badRequest("A username, a password and a project are required.")
	}
	cfg := h.opts.Keystone
	cfg.Username, cfg.Password, cfg.Project = body.Username, body.Password, body.Project
	cfg.UserDomain, cfg.ProjectDomain = body.UserDomain, body.ProjectDomain
	token, id, err := keystone.Login(r.Context(), cfg)
	switch {
	case errors.Is(err, keystone.ErrLoginRefused):
		return placementapi.StatusError(http.StatusUnauthorized, "Keystone refused these credentials.")
	case err != nil:
		h.log.Warn("dashboard login: keystone unavailable", "error", err)
		return placementapi.StatusError(http.StatusServiceUnavailable, "Keystone is unavailable; try again later.")
	}
	return send(w, r, map[string]any{"token": token, "expires_at": id.ExpiresAt, "user": body.Username,
		"project": body.Project, "roles": id.Roles})
}

// fail renders err as a Placement-style error, and logs it if it is not the client's.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, id string, err error) {
	if _, internal := placementapi.WriteError(w, r, err, id); internal {
		h.log.Error("dashboard request failed", "request_id", id, "path", r.URL.Path, "error", err)
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) error {
	w.Header().Set("Allow", allow)
	return placementapi.StatusError(http.StatusMethodNotAllowed,
		"The method %s is not allowed for this resource; allowed: %s.", r.Method, allow)
}

func badRequest(format string, args ...any) error {
	return placementapi.StatusError(http.StatusBadRequest, format, args...)
}

// send writes body as JSON.
func send(w http.ResponseWriter, r *http.Request, body any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
	return nil
}

// waitContext is the context of a long poll.
func (h *Handler) waitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, h.opts.WatchTimeout)
}
