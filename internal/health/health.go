// Package health serves ingot's health endpoints, unauthenticated, beside the APIs:
//
//   - /livez and /healthz: the process serves (no dependency is checked, so a database
//     outage does not get every replica restarted);
//   - /readyz: every readiness check passes (database reachable, schema current, the
//     tracker's first pass done, not shutting down), Kubernetes' format, with ?verbose,
//     ?exclude=NAME and a JSON form;
//   - /healthcheck: oslo.middleware's healthcheck contract (200 "OK" or 503 with the
//     reasons, HEAD 204, JSON and HTML on Accept, disable by file), so load balancers
//     configured for OpenStack services work unchanged.
//
// Machines should read the status code; the bodies are for people.
package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Paths are the paths Handler serves, for mounting and for the list of paths served
// without authentication.
var Paths = []string{"/livez", "/healthz", "/readyz", "/healthcheck"}

// DefaultTimeout bounds one probe's checks when Options.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// Check is one readiness check.
type Check struct {
	// Name names the check in answers and in ?exclude= (lower case, no spaces).
	Name string
	// Run returns nil when the check passes, else why not; it must return when ctx ends.
	// note, when not empty, is shown beside the result in verbose answers.
	Run func(ctx context.Context) (note string, err error)
}

// Options configure a Handler.
type Options struct {
	// Checks are the readiness checks, in the order they run and are shown.
	Checks []Check
	// Timeout bounds all of one probe's checks together (DefaultTimeout when zero).
	Timeout time.Duration
	// DisableFile, when set, makes /healthcheck and /readyz answer 503 ("DISABLED BY
	// FILE") while the file exists: oslo.middleware's disable_by_file_path, which
	// operators use to take a replica out of a load balancer before maintenance.
	DisableFile string
	// Detailed gives /healthcheck's JSON and HTML answers the details of each check (the
	// error, or a note), as oslo.middleware's detailed = True. They may show database
	// errors to anyone who can reach the port.
	Detailed bool
	// Logger receives a line each time a readiness check starts or stops failing. Nil
	// discards.
	Logger *slog.Logger
}

// Handler serves Paths. Create it with New.
type Handler struct {
	opts     Options
	log      *slog.Logger
	draining atomic.Bool

	mu     sync.Mutex
	failed map[string]bool // checks failing at the last probe, for the transition logs
}

// New returns a Handler.
func New(opts Options) *Handler {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	h := &Handler{opts: opts, log: opts.Logger, failed: map[string]bool{}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// Drain marks the process as shutting down: from now on /readyz and /healthcheck answer
// 503, so load balancers stop sending requests before the listener closes; /livez stays
// 200. Safe for concurrent use; idempotent.
func (h *Handler) Drain() {
	if !h.draining.Swap(true) {
		h.log.Info("shutting down: /readyz and /healthcheck answer 503 from now on")
	}
}

// Draining reports whether Drain was called.
func (h *Handler) Draining() bool { return h.draining.Load() }

// Drainer returns a component's run function for the shutdown stage that stops first: it
// blocks until ctx ends, calls Drain, and then waits delay, so that load balancers notice
// the 503s while the listener still serves.
func (h *Handler) Drainer(delay time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		<-ctx.Done()
		h.Drain()
		if delay > 0 {
			h.log.Info("waiting before the listener closes", "shutdown_delay", delay)
			time.Sleep(delay)
		}
		return nil
	}
}

// result is one check's outcome.
type result struct {
	name     string
	err      error
	note     string
	excluded bool
	took     time.Duration
}

func (r result) ok() bool { return r.err == nil }

// Names of the checks the Handler adds itself.
const (
	checkShutdown    = "shutdown"
	checkDisableFile = "disable-file"
)

// errDisabledByFile is oslo.middleware's reason, word for word: load balancer
// configurations may look for it.
var errDisabledByFile = errors.New("DISABLED BY FILE")

// run runs the readiness checks, skipping (but listing) the excluded ones.
func (h *Handler) run(ctx context.Context, exclude map[string]bool) []result {
	ctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	var out []result
	add := func(name string, run func(ctx context.Context) (string, error)) {
		if exclude[name] {
			out = append(out, result{name: name, excluded: true})
			return
		}
		start := time.Now()
		note, err := run(ctx)
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("no answer within %s: %w", h.opts.Timeout, err)
		}
		out = append(out, result{name: name, err: err, note: note, took: time.Since(start)})
	}
	add(checkShutdown, func(context.Context) (string, error) {
		if h.Draining() {
			return "", errors.New("shutting down")
		}
		return "", nil
	})
	if f := h.opts.DisableFile; f != "" {
		add(checkDisableFile, func(context.Context) (string, error) {
			if _, err := os.Stat(f); err == nil {
				return "path " + f + " was found", errDisabledByFile
			}
			return "path " + f + " was not found", nil
		})
	}
	for _, c := range h.opts.Checks {
		add(c.Name, c.Run)
	}
	h.logTransitions(out)
	return out
}

// logTransitions logs a check that starts failing at Warn and one that passes again at
// Info: a probe every few seconds must not log every time.
func (h *Handler) logTransitions(results []result) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range results {
		if r.excluded {
			continue
		}
		was := h.failed[r.name]
		switch {
		case !r.ok() && !was:
			h.failed[r.name] = true
			h.log.Warn("readiness check failing", "check", r.name, "error", r.err)
		case r.ok() && was:
			delete(h.failed, r.name)
			h.log.Info("readiness check passing again", "check", r.name)
		}
	}
}

// ServeHTTP serves Paths; anything below them is 404, and methods other than GET and HEAD
// are 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/livez", "/healthz":
		h.serveLive(w, r)
	case "/readyz":
		h.serveReady(w, r)
	case "/healthcheck":
		h.serveHealthcheck(w, r)
	default:
		http.NotFound(w, r)
	}
}
