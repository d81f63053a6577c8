package instanceapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"ingot/internal/metrics"
	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store"
)

// Prefix is the path the API is mounted at.
const Prefix = "/v1/instances"

// Options configure a Handler.
type Options struct {
	// Policy authorizes every request (required).
	Policy *policy.Enforcer
	// Logger receives one line per request and every unexpected error.
	Logger *slog.Logger
	// Notify, when not nil, is called after every write (a create, a move to deleting),
	// so that the instance controller can act at once instead of at its next poll. It
	// must not block.
	Notify func()
	// Authenticate derives each request's caller (default placementapi.Credentials:
	// noauth2), as the Placement API beside it does.
	Authenticate placementapi.Authenticator
	// Metrics, when not nil, counts requests by route template and times them.
	Metrics *metrics.Metrics
}

// Handler serves /v1/instances. It is safe for concurrent use.
type Handler struct {
	db     *store.DB
	policy *policy.Enforcer
	log    *slog.Logger
	notify func()
	auth   placementapi.Authenticator
	http   *metrics.HTTP // nil without Options.Metrics
}

// New returns the instance API over db.
func New(db *store.DB, opts Options) *Handler {
	h := &Handler{db: db, policy: opts.Policy, log: opts.Logger, notify: opts.Notify, auth: opts.Authenticate}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.notify == nil {
		h.notify = func() {}
	}
	if opts.Metrics != nil {
		h.http = opts.Metrics.HTTP
	}
	return h
}

// request is one request being served.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	h      *Handler
	id     string
	creds  policy.Credentials
	status int
}

// ServeHTTP serves one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rq := &request{w: w, r: r, ctx: r.Context(), h: h, id: placementapi.NewRequestID()}
	w.Header().Set("X-Openstack-Request-Id", rq.id)
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic serving request", "request_id", rq.id, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
			rq.fail(fmt.Errorf("panic: %v", p))
		}
		route := routeOf(r.URL.Path)
		d := time.Since(start)
		h.http.Observe("instance", route, r.Method, rq.status, d)
		placementapi.LogRequest(h.log, r, placementapi.RequestLog{Route: route, Status: rq.status, Duration: d,
			RequestID: rq.id, Caller: rq.creds})
	}()
	if err := rq.serve(); err != nil {
		rq.fail(err)
	}
}

func (rq *request) serve() error {
	creds, err := placementapi.Authenticate(rq.h.auth, rq.r)
	if err != nil {
		return err
	}
	rq.creds = creds
	path := rq.r.URL.Path
	if p := placementapi.TextProblem(path); p != "" {
		return badRequest("Invalid URL path: it contains %s.", p)
	}
	for k, vs := range rq.r.URL.Query() {
		for _, v := range append([]string{k}, vs...) {
			if p := placementapi.TextProblem(v); p != "" {
				return badRequest("Invalid query string: it contains %s.", p)
			}
		}
	}
	switch routeOf(path) {
	case routeInstances:
		switch rq.r.Method {
		case http.MethodGet, http.MethodHead:
			return rq.list()
		case http.MethodPost:
			return rq.create()
		}
		return rq.methodNotAllowed("GET, POST")
	case routeInstance:
		id := path[len(Prefix)+1:]
		switch rq.r.Method {
		case http.MethodGet, http.MethodHead:
			return rq.show(id)
		case http.MethodDelete:
			return rq.delete(id)
		}
		return rq.methodNotAllowed("GET, DELETE")
	}
	return placementapi.StatusError(http.StatusNotFound, "The resource could not be found.")
}

// The API's route templates, as metrics and access logs name them.
const (
	routeInstances = Prefix
	routeInstance  = Prefix + "/{uuid}"
)

// routeOf returns the template of the route path belongs to, or "other".
func routeOf(path string) string {
	switch {
	case path == Prefix || path == Prefix+"/":
		return routeInstances
	case strings.HasPrefix(path, Prefix+"/") && !strings.Contains(path[len(Prefix)+1:], "/"):
		return routeInstance
	}
	return "other"
}

func (rq *request) methodNotAllowed(allow string) error {
	rq.w.Header().Set("Allow", allow)
	return placementapi.StatusError(http.StatusMethodNotAllowed,
		"The method %s is not allowed for this resource; allowed: %s.", rq.r.Method, allow)
}

// fail renders err as the response, and logs it if it is not the client's mistake.
func (rq *request) fail(err error) {
	status, internal := placementapi.WriteError(rq.w, rq.r, err, rq.id)
	rq.status = status
	if internal {
		rq.h.log.Error("request failed", "request_id", rq.id, "method", rq.r.Method, "path", rq.r.URL.Path, "error", err)
	}
}

// authorize checks rule for an instance of project.
func (rq *request) authorize(rule, project string) error {
	return rq.h.policy.Authorize(rule, rq.creds, policy.Target{"project_id": project, "user_id": rq.creds.UserID})
}

// send writes body as JSON with the status.
func (rq *request) send(status int, body any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	rq.w.Header().Set("Content-Type", "application/json")
	rq.w.Header().Set("Cache-Control", "no-cache")
	rq.status = status
	rq.w.WriteHeader(status)
	if rq.r.Method != http.MethodHead {
		_, _ = rq.w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	return nil
}

// url returns the absolute URL of path (with its query) on this server, as the client
// reached it.
func (rq *request) url(pathAndQuery string) string {
	scheme := "http"
	if rq.r.TLS != nil {
		scheme = "https"
	}
	if p := rq.r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + rq.r.Host + pathAndQuery
}

func badRequest(format string, args ...any) error {
	return placementapi.StatusError(http.StatusBadRequest, format, args...)
}
