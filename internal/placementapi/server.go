package placementapi

import (
	"context"
	"errors"
	"fmt"
	"ingot/internal/uuid"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"ingot/internal/metrics"
	"ingot/internal/microversion"
	"ingot/internal/placement"
	"ingot/internal/policy"
	"ingot/internal/store"

	"golang.org/x/sync/semaphore"
)

// Options configure a Server.
type Options struct {
	// Policy authorizes every request (required).
	Policy *policy.Enforcer
	// Logger receives one line per request and every unexpected error.
	Logger *slog.Logger
	// CORS, when AllowedOrigins is not empty, answers CORS requests as oslo.middleware's
	// CORS filter does.
	CORS CORS
	// MaxBodyBytes bounds one request body (default DefaultMaxBodyBytes); a larger body
	// gets a 413.
	MaxBodyBytes int64
	// MaxBodyBytesInFlight bounds the bodies all requests may hold at once (default four
	// times MaxBodyBytes): a request whose body does not fit waits until others finish.
	MaxBodyBytesInFlight int64
	// Candidates tunes GET /allocation_candidates.
	Candidates CandidateOptions
	// Authenticate derives each request's caller (default Credentials: noauth2).
	Authenticate Authenticator
	// Metrics, when not nil, counts requests by route template and times them, and
	// records allocation candidates answers.
	Metrics *metrics.Metrics
}

// CORS is the cross-origin configuration.
type CORS struct {
	AllowedOrigins []string
	AllowHeaders   []string
	ExposeHeaders  []string
	AllowMethods   []string
	MaxAge         int
}

// Server is the Placement API handler. It is safe for concurrent use.
type Server struct {
	db      *store.DB
	policy  *policy.Enforcer
	log     *slog.Logger
	cors    CORS
	maxBody int64
	// bodies holds the in-flight body bytes: each request that reads a body takes its
	// size (its Content-Length, or maxBody when unknown) until it is answered.
	bodies *semaphore.Weighted
	// candidates tunes GET /allocation_candidates.
	candidates CandidateOptions
	answers    answerCache
	routes     []*route
	auth       Authenticator
	// httpMetrics and candidateMetrics are nil without Options.Metrics.
	httpMetrics      *metrics.HTTP
	candidateMetrics *metrics.Candidates
}

// New returns the Placement API over db.
func New(db *store.DB, opts Options) *Server {
	s := &Server{db: db, policy: opts.Policy, log: opts.Logger, cors: opts.CORS, maxBody: opts.MaxBodyBytes,
		candidates: opts.Candidates, auth: opts.Authenticate}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	inFlight := opts.MaxBodyBytesInFlight
	if inFlight <= 0 {
		inFlight = 4 * s.maxBody
	}
	s.bodies = semaphore.NewWeighted(max(inFlight, s.maxBody))
	s.routes = s.routeTable()
	if opts.Metrics != nil {
		s.httpMetrics, s.candidateMetrics = opts.Metrics.HTTP, opts.Metrics.Candidates
	}
	return s
}

// request is one request being served.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	s      *Server
	start  time.Time
	id     string
	route  string // the matched route's template ("" until matched)
	v      version
	known  bool // v was negotiated
	creds  policy.Credentials
	params map[string]string
	query  url.Values
	status int
	// vary is set once the request reached a handler: its responses, errors included,
	// carry "vary: openstack-api-version" (routing errors do not).
	vary bool
	// bodyBytes is what the request holds of Server.bodies.
	bodyBytes int64
}

// handlerFunc serves a request; a returned error is rendered by the server.
type handlerFunc func(*request) error

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rq := &request{w: w, r: r, ctx: r.Context(), s: s, start: start, id: newRequestID()}
	w.Header().Set("X-Openstack-Request-Id", rq.id)
	defer func() {
		if rq.bodyBytes > 0 {
			s.bodies.Release(rq.bodyBytes)
		}
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "request_id", rq.id, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
			rq.fail(fmt.Errorf("panic: %v", p))
		}
		route := rq.route
		if route == "" {
			route = s.routeTemplate(r.URL.Path)
		}
		d := time.Since(start)
		s.httpMetrics.Observe("placement", route, r.Method, rq.status, d)
		LogRequest(s.log, r, RequestLog{Route: route, Status: rq.status, Duration: d, RequestID: rq.id, Caller: rq.creds})
	}()
	if s.handleCORS(rq) {
		return
	}
	if err := rq.serve(); err != nil {
		rq.fail(err)
	}
}

func (rq *request) serve() error {
	r := rq.r
	if err := rq.authenticate(); err != nil {
		return err
	}
	if err := rq.negotiate(); err != nil {
		return err
	}
	if r.Header.Get(invalidLengthHeader) != "" {
		rq.w.Header().Set("Connection", "close")
		return badRequest("content-length header must be an integer")
	}
	if r.ContentLength > 0 && r.Header.Get("Content-Type") == "" {
		return badRequest("content-type header required when content-length > 0")
	}
	ep, params, err := rq.s.match(r.Method, r.URL.Path)
	if err != nil {
		return err
	}
	rq.params = params
	rq.route = ep.route.path
	rq.vary = true
	return rq.dispatch(ep)
}

// fail renders err as the response.
func (rq *request) fail(err error) {
	if ae, ok := errors.AsType[*allowError](err); ok {
		rq.w.Header().Set("Allow", ae.allow)
	}
	ae, internal := toAPIError(err)
	if internal {
		rq.s.log.Error("request failed", "request_id", rq.id, "method", rq.r.Method, "path", rq.r.URL.Path, "error", err)
	}
	rq.writeVersionHeaders()
	rq.status = ae.status
	renderError(rq.w, rq.r, ae, rq.id, rq.v, rq.known)
}

func (rq *request) writeVersionHeaders() {
	if rq.known {
		rq.w.Header().Set("Openstack-Api-Version", "placement "+rq.v.String())
	}
	if rq.vary {
		rq.w.Header().Add("Vary", "openstack-api-version")
	}
}

// negotiate reads the requested microversion: none means the minimum, "latest" the
// maximum; a malformed one is a 400, one out of range a 406.
func (rq *request) negotiate() error {
	want := microversion.FromHeaders("placement", rq.r.Header.Values("Openstack-Api-Version"), "")
	switch strings.ToLower(want) {
	case "":
		rq.v = version{minVersion}
	case microversion.Latest:
		rq.v = version{maxVersion}
	default:
		v, err := microversion.Parse(want)
		if err != nil {
			return badRequest("%s", err.Error())
		}
		if v.Less(minVersion) || maxVersion.Less(v) {
			return errorf(http.StatusNotAcceptable, "Unacceptable version header: %s", want)
		}
		rq.v = version{v}
	}
	rq.known = true
	return nil
}

var requestIDPattern = regexp.MustCompile(`^req-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func newRequestID() string {
	return "req-" + uuid.New()
}

// dispatch applies the endpoint's decorators in upstream's order (version gate, content
// type, accept, policy) and runs its handler.
func (rq *request) dispatch(ep *endpoint) error {
	if !ep.min.IsZero() && rq.v.Less(ep.min) || !ep.max.IsZero() && ep.max.Less(rq.v.Version) {
		if ep.belowMin == http.StatusMethodNotAllowed {
			return rq.s.methodNotAllowed(rq, ep.route)
		}
		return errorf(http.StatusNotFound, "The resource could not be found.")
	}
	if ep.body {
		if err := rq.checkContentType(); err != nil {
			return err
		}
	}
	if ep.accept && !acceptsJSON(rq.r.Header.Get("Accept")) {
		return &apiError{status: http.StatusNotAcceptable,
			explanation: "The resource could not be generated that was acceptable to your browser (content of type " + rq.r.Header.Get("Accept") + ". ",
			detail:      "Only application/json is provided"}
	}
	if ep.rule != "" {
		var target policy.Target
		if ep.target != nil {
			target = ep.target(rq)
		}
		if err := rq.s.policy.Authorize(ep.rule, rq.creds, target); err != nil {
			return err
		}
	}
	rq.query = rq.r.URL.Query()
	if err := rq.checkText(); err != nil {
		return err
	}
	return ep.h(rq)
}

// readBody reads the request body. A body over the server's limit is a 413 (refused from
// its Content-Length before any of it is read, when it has one). Reading waits for room in
// the server's in-flight budget, which the request holds until it is answered.
func (rq *request) readBody() ([]byte, error) {
	limit := rq.s.maxBody
	if rq.r.ContentLength > limit {
		return nil, rq.tooLarge()
	}
	size := limit
	if rq.r.ContentLength >= 0 {
		size = rq.r.ContentLength
	}
	if size > 0 {
		if err := rq.s.bodies.Acquire(rq.ctx, size); err != nil {
			return nil, fmt.Errorf("waiting to read the request body: %w", err)
		}
		rq.bodyBytes = size
	}
	var b []byte
	var err error
	if rq.r.ContentLength >= 0 {
		// The exact size: no growing copies of a large body.
		b = make([]byte, rq.r.ContentLength)
		_, err = io.ReadFull(rq.r.Body, b)
	} else {
		b, err = io.ReadAll(http.MaxBytesReader(rq.w, rq.r.Body, limit))
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, rq.tooLarge()
	}
	if err != nil {
		return nil, badRequest("Malformed JSON: reading the body: %s", err)
	}
	return b, nil
}

// DefaultMaxBodyBytes is the default limit of one request body: far above what Placement
// clients send (a reshape or a POST /allocations for hundreds of consumers is a few hundred
// kilobytes), small enough that in-flight bodies stay bounded.
const DefaultMaxBodyBytes = 4 << 20

func (rq *request) tooLarge() error {
	rq.w.Header().Set("Connection", "close")
	return errorf(http.StatusRequestEntityTooLarge, "The request body is larger than the limit of %d bytes.", rq.s.maxBody)
}

// sendJSON writes a JSON response. At microversion 1.15 and later it carries last-modified
// (modified, or now when zero) and cache-control: no-cache.
func (rq *request) sendJSON(status int, body any, modified time.Time) error {
	h := rq.w.Header()
	h.Set("Content-Type", "application/json")
	rq.cacheHeaders(modified)
	rq.writeVersionHeaders()
	rq.status = status
	rq.w.WriteHeader(status)
	writeJSONBody(rq.w, body)
	return nil
}

func (rq *request) cacheHeaders(modified time.Time) {
	if !rq.v.cacheHeaders() {
		return
	}
	if modified.IsZero() {
		modified = time.Now()
	}
	rq.w.Header().Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	rq.w.Header().Set("Cache-Control", "no-cache")
}

// sendEmpty writes a response without a body (204, or 201 with a location).
func (rq *request) sendEmpty(status int) error {
	rq.writeVersionHeaders()
	rq.status = status
	rq.w.WriteHeader(status)
	return nil
}

// param returns a path parameter.
func (rq *request) param(name string) string { return rq.params[name] }

// queryLast returns the last value of a query parameter, as webob's MultiDict does.
func (rq *request) queryLast(name string) (string, bool) {
	vs, ok := rq.query[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// queryDict returns the query as upstream validates it: each key with its last value.
func (rq *request) queryDict() map[string]any {
	out := make(map[string]any, len(rq.query))
	for k, vs := range rq.query {
		if len(vs) > 0 {
			out[k] = vs[len(vs)-1]
		}
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// checkContentType requires a JSON request body (upstream's require_content).
func (rq *request) checkContentType() error {
	ct := rq.r.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	if strings.TrimSpace(strings.ToLower(mt)) == "application/json" {
		return nil
	}
	if mt == "" {
		mt = "None"
	}
	return &apiError{status: http.StatusUnsupportedMediaType,
		explanation: "The request media type " + mt + " is not supported by this server.",
		detail:      fmt.Sprintf("The media type %s is not supported, use application/json", mt)}
}

// notFoundWithCause rewords a not-found domain error as prefix + its detail; other errors
// pass through.
func notFoundWithCause(err error, format string, args ...any) error {
	if pe, ok := placement.AsError(err); ok && pe.Kind == placement.KindNotFound {
		return errorf(http.StatusNotFound, format+"%s", append(args, pe.Detail)...)
	}
	return err
}

// setLocation sets the Location header to path made absolute on the request's host, as
// webob does.
func (rq *request) setLocation(path string) {
	scheme := "http"
	if rq.r.TLS != nil {
		scheme = "https"
	}
	rq.w.Header().Set("Location", scheme+"://"+rq.r.Host+path)
}

// providerFirst returns the provider's not-found error if it does not exist, else err.
// Upstream looks the provider up before it reads the body, so a request that is wrong in
// both ways gets the 404; ingot reads the body first (saving a query on every successful
// write) and checks the provider only on this error path, with the same outcome.
func (s *Server) providerFirst(rq *request, uuid string, err error) error {
	if _, perr := s.db.GetProvider(rq.ctx, uuid); perr != nil {
		return perr
	}
	return err
}
