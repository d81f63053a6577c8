package ironic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"ingot/internal/backoff"
)

// Defaults for the zero values in Config.
const (
	DefaultTimeout     = 60 * time.Second
	DefaultMaxAttempts = 4
	DefaultBaseDelay   = 250 * time.Millisecond
	DefaultMaxDelay    = 8 * time.Second
)

// Config configures a Client. Only URL is required.
type Config struct {
	// URL is Ironic's endpoint, such as http://127.0.0.1:6385. A trailing /v1 is accepted
	// and ignored; a path prefix (Ironic behind a proxy) is kept.
	URL string
	// Transport sends the requests. Nil means NewTransport(), without authentication
	// (Ironic's noauth). For http_basic, use &BasicAuth{Username, Password, Next}.
	Transport http.RoundTripper
	// Timeout bounds each attempt of each call, including reading the answer. Zero means
	// DefaultTimeout. A listing applies it to every page.
	Timeout time.Duration
	// Retry says how often and how patiently failed calls are tried again.
	Retry RetryPolicy
	// MaxVersion caps the negotiated microversion. Zero means the package's MaxVersion;
	// it cannot be raised above that. Tests use it to pretend to be an older client.
	MaxVersion Version
	// Rand is the source of backoff jitter. Nil means math/rand/v2's global source.
	// Tests inject a seeded source to make delays exact.
	Rand rand.Source
	// Logger receives retried failures (Warn) and the negotiated version (Info).
	// Nil discards them.
	Logger *slog.Logger
	// RequireListAll makes every full listing (ListNodes, Nodes) first check that the
	// caller may list every project's nodes, and fail with ErrUnauthorized if not: with
	// Keystone authentication Ironic's default policy silently shows a caller without
	// baremetal:node:list_all only its own project's nodes, and hides the others' behind
	// 404s. One small request per listing; skipped below 1.65, which has no project filter.
	RequireListAll bool
}

// RetryPolicy controls retries of 503 answers and broken connections. Before attempt
// n+1 the client waits BaseDelay*2^(n-1), capped at MaxDelay (a MaxDelay below BaseDelay
// counts as BaseDelay), with jitter that picks uniformly from the upper half of that delay
// (package backoff).
type RetryPolicy struct {
	MaxAttempts int           // attempts in total, including the first; zero means 4, 1 means never retry
	BaseDelay   time.Duration // zero means DefaultBaseDelay
	MaxDelay    time.Duration // zero means DefaultMaxDelay
}

// Client talks to one Ironic. Create it with New; it is safe for concurrent use.
type Client struct {
	root       string // endpoint root without /v1
	hc         *http.Client
	timeout    time.Duration
	retry      RetryPolicy
	maxVersion Version
	log        *slog.Logger

	requireListAll bool

	backoff *backoff.Backoff

	mu        sync.Mutex
	version   Version // negotiated; zero until Negotiate succeeds
	serverMin Version
	serverMax Version
}

// New returns a Client for cfg. It does not contact Ironic; the first call (or Negotiate)
// does.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil {
		return nil, fmt.Errorf("ironic: parse URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ironic: URL %q: want http(s)://host[:port][/path]", cfg.URL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("ironic: URL %q: must not have a query or fragment", cfg.URL)
	}
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/v1")
	u.RawPath = ""

	c := &Client{
		root:       strings.TrimRight(u.String(), "/"),
		timeout:    cfg.Timeout,
		retry:      cfg.Retry,
		maxVersion: cfg.MaxVersion,
		log:        cfg.Logger,

		requireListAll: cfg.RequireListAll,
	}
	tr := cfg.Transport
	if tr == nil {
		tr = NewTransport()
	}
	c.hc = &http.Client{Transport: tr}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.retry.MaxAttempts <= 0 {
		c.retry.MaxAttempts = DefaultMaxAttempts
	}
	if c.retry.BaseDelay <= 0 {
		c.retry.BaseDelay = DefaultBaseDelay
	}
	if c.retry.MaxDelay <= 0 {
		c.retry.MaxDelay = DefaultMaxDelay
	}
	if c.maxVersion.IsZero() || MaxVersion.Less(c.maxVersion) {
		c.maxVersion = MaxVersion
	}
	if c.maxVersion.Less(Baseline) {
		return nil, fmt.Errorf("ironic: MaxVersion %s is below the baseline %s", c.maxVersion, Baseline)
	}
	c.backoff = backoff.New(c.retry.BaseDelay, c.retry.MaxDelay, cfg.Rand)
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// NewTransport returns the default transport: http.DefaultTransport's settings with more
// idle connections kept per host, so concurrent calls reuse keep-alive connections.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return t
}

// BasicAuth is an http.RoundTripper that adds HTTP basic credentials, for Ironic's
// standalone http_basic mode, and passes the request on to Next (nil: a transport shared
// by all BasicAuth values, made by NewTransport).
type BasicAuth struct {
	Username, Password string
	Next               http.RoundTripper
}

var sharedTransport = sync.OnceValue(NewTransport)

func (a *BasicAuth) next() http.RoundTripper {
	if a.Next != nil {
		return a.Next
	}
	return sharedTransport()
}

// RoundTrip implements http.RoundTripper. It does not modify req.
func (a *BasicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.SetBasicAuth(a.Username, a.Password)
	return a.next().RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the next transport, if it can.
func (a *BasicAuth) CloseIdleConnections() {
	if c, ok := a.next().(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// CloseIdleConnections closes the keep-alive connections not in use.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Version returns the negotiated microversion, or the zero Version before a successful
// Negotiate. Use its Has* predicates to ask about features.
func (c *Client) Version() Version {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// ServerVersions returns the server's supported range as last negotiated.
func (c *Client) ServerVersions() (min, max Version) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.serverMin, c.serverMax
}

// HasShard reports whether the negotiated version has node shards (1.82).
func (c *Client) HasShard() bool { return c.Version().HasShard() }

// HasConductorGroup reports whether the negotiated version has conductor groups (1.46).
func (c *Client) HasConductorGroup() bool { return c.Version().HasConductorGroup() }

// HasOwner reports whether the negotiated version has node owners (1.50).
func (c *Client) HasOwner() bool { return c.Version().HasOwner() }

// HasLessee reports whether the negotiated version has node lessees (1.65).
func (c *Client) HasLessee() bool { return c.Version().HasLessee() }

// Negotiate reads the server's supported microversions from its root document and picks
// min(server maximum, MaxVersion). It fails with ErrUnsupported if that is below Baseline
// or the server's minimum. Calls negotiate lazily when Negotiate was not called; calling
// it again re-reads the server (after an upgrade, say). Safe to call concurrently.
func (c *Client) Negotiate(ctx context.Context) (Version, error) {
	var doc struct {
		DefaultVersion *versionDoc  `json:"default_version"`
		Versions       []versionDoc `json:"versions"`
	}
	var hdrMin, hdrMax string
	err := c.do(ctx, request{method: http.MethodGet, path: "/", idempotent: true, version: c.maxVersion},
		func(resp *http.Response) error {
			hdrMin = resp.Header.Get("X-OpenStack-Ironic-API-Minimum-Version")
			hdrMax = resp.Header.Get("X-OpenStack-Ironic-API-Maximum-Version")
			return json.NewDecoder(resp.Body).Decode(&doc)
		})
	if err != nil {
		return Version{}, fmt.Errorf("negotiate microversion: %w", err)
	}
	minS, maxS := hdrMin, hdrMax
	d := doc.DefaultVersion
	if d == nil || d.Version == "" {
		for i := range doc.Versions {
			if doc.Versions[i].ID == "v1" {
				d = &doc.Versions[i]
			}
		}
	}
	if d != nil && d.Version != "" {
		minS, maxS = d.MinVersion, d.Version
	}
	if minS == "" {
		minS = "1.1"
	}
	smin, err1 := ParseVersion(minS)
	smax, err2 := ParseVersion(maxS)
	if err := errors.Join(err1, err2); err != nil {
		return Version{}, fmt.Errorf("negotiate microversion: server document: %w", err)
	}
	v := smax
	if c.maxVersion.Less(v) {
		v = c.maxVersion
	}
	if v.Less(Baseline) {
		return Version{}, fmt.Errorf("negotiate microversion: server supports up to %s, below the baseline %s: %w",
			smax, Baseline, ErrUnsupported)
	}
	if v.Less(smin) {
		return Version{}, fmt.Errorf("negotiate microversion: server needs at least %s, newer than ours (%s): %w",
			smin, v, ErrUnsupported)
	}
	c.mu.Lock()
	c.version, c.serverMin, c.serverMax = v, smin, smax
	c.mu.Unlock()
	c.log.Info("negotiated ironic microversion", "version", v.String(),
		"server_min", smin.String(), "server_max", smax.String())
	return v, nil
}

type versionDoc struct {
	ID         string `json:"id"`
	MinVersion string `json:"min_version"`
	Version    string `json:"version"`
}

// negotiated returns the negotiated version, negotiating first if needed.
func (c *Client) negotiated(ctx context.Context) (Version, error) {
	if v := c.Version(); !v.IsZero() {
		return v, nil
	}
	return c.Negotiate(ctx)
}

// request is one API call.
type request struct {
	method     string
	path       string     // under the endpoint root, e.g. "/v1/nodes"
	query      url.Values // may be nil
	body       any        // JSON-encoded once; nil means no body
	idempotent bool       // safe to resend after a broken connection or timeout
	version    Version    // sent in X-OpenStack-Ironic-API-Version
}

// do runs r with retries. On a 2xx answer it calls handle (if not nil) with the response,
// within the attempt's timeout; the body is drained and closed afterwards. Failures are
// *Error, except a handle error that is not a broken connection, which is returned
// wrapped.
func (c *Client) do(ctx context.Context, r request, handle func(*http.Response) error) error {
	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("ironic: %s %s: encode body: %w", r.method, r.path, err)
		}
		body = b
	}
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, r, body, handle)
		if err == nil {
			return nil
		}
		if attempt >= c.retry.MaxAttempts || !c.retryable(ctx, r, err) {
			return err
		}
		d := c.backoff.Delay(attempt)
		c.log.Warn("retrying ironic call", "method", r.method, "path", r.path,
			"attempt", attempt, "delay", d, "error", err)
		if serr := backoff.Sleep(ctx, d); serr != nil {
			return fmt.Errorf("%w (not retried: %w)", err, serr)
		}
	}
}

// retryable reports whether err may be retried for r.
func (c *Client) retryable(ctx context.Context, r request, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	e, ok := errors.AsType[*Error](err)
	if !ok {
		return false
	}
	switch {
	case e.StatusCode == http.StatusServiceUnavailable:
		// Ironic answers 503 only when it did not act: no free conductor worker,
		// concurrent action limit, temporary failure.
		return true
	case e.StatusCode == 0:
		return r.idempotent || e.notSent
	}
	return false
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

func (c *Client) attempt(ctx context.Context, r request, body []byte, handle func(*http.Response) error) error {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	u := c.root + r.path
	if len(r.query) > 0 {
		u += "?" + encodeQuery(r.query)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, u, rd)
	if err != nil {
		return fmt.Errorf("ironic: %s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("X-OpenStack-Ironic-API-Version", r.version.String())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "ingot")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if f, ok := ctx.Value(fenceHeaderKey{}).(string); ok {
		req.Header.Set(FenceHeader, f)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return &Error{Method: r.method, Path: r.path, Err: err, notSent: notSent(err)}
	}
	defer func() {
		// Drain so the connection goes back to the pool.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
	}()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		e := &Error{
			StatusCode: resp.StatusCode,
			Method:     r.method,
			Path:       r.path,
			Message:    errorMessage(b),
			RequestID:  requestID(resp.Header),
		}
		if rerr != nil && e.Message == "" {
			e.Message = "(reading the answer: " + rerr.Error() + ")"
		}
		return e
	}
	if handle == nil {
		return nil
	}
	tb := &trackingBody{r: resp.Body}
	resp.Body = tb
	if err := handle(resp); err != nil {
		if tb.err != nil {
			// The connection broke (or the attempt timed out) mid-answer.
			return &Error{Method: r.method, Path: r.path, Err: tb.err, RequestID: requestID(resp.Header)}
		}
		return fmt.Errorf("ironic: %s %s: decode answer: %w", r.method, r.path, err)
	}
	return nil
}

// encodeQuery is url.Values.Encode without escaping the commas in lists
// (fields=uuid,name), which Ironic accepts either way; it keeps URLs readable in logs.
func encodeQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "%2C", ",")
}

func requestID(h http.Header) string {
	if id := h.Get("Openstack-Request-Id"); id != "" {
		return id
	}
	return h.Get("X-Openstack-Request-Id")
}

// notSent reports whether a transport error happened before the request could reach the
// server: the dial failed (refused, unreachable, DNS).
func notSent(err error) bool {
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return true
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" {
		return true
	}
	return false
}

// trackingBody remembers the first read error other than io.EOF, so a decode failure
// caused by a broken connection can be told apart from malformed JSON.
type trackingBody struct {
	r   io.ReadCloser
	err error
}

func (t *trackingBody) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

func (t *trackingBody) Close() error { return t.r.Close() }

// FenceHeader names, on the requests of a replica's owned work, the replica and the epoch
// at which it owns the node ("replica/epoch"), so that an Ironic-side auditor (the
// chaos tests' fake) can tell who sent each mutating call. Ironic ignores it.
const FenceHeader = "X-Ingot-Fence"

type fenceHeaderKey struct{}

// WithFenceHeader returns ctx whose requests carry FenceHeader: value.
func WithFenceHeader(ctx context.Context, value string) context.Context {
	return context.WithValue(ctx, fenceHeaderKey{}, value)
}
