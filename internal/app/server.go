package app

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Routes is the listener's handler: the Placement API for every path, except the path
// prefixes other APIs are mounted at (the instance API at /v1/instances). Mount every
// prefix before serving.
type Routes struct {
	fallback http.Handler
	mounts   []mount
}

type mount struct {
	prefix string
	h      http.Handler
}

// NewRoutes returns Routes that send every request to fallback until something is mounted.
func NewRoutes(fallback http.Handler) *Routes {
	return &Routes{fallback: fallback}
}

// Mount sends the requests for prefix and every path below it (prefix + "/...") to h.
// prefix starts with "/" and does not end with one. The longest mounted prefix wins.
func (rt *Routes) Mount(prefix string, h http.Handler) {
	if !strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") {
		panic("app: bad mount prefix " + prefix)
	}
	rt.mounts = append(rt.mounts, mount{prefix, h})
}

// ServeHTTP dispatches by path.
func (rt *Routes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt.handler(r.URL.Path).ServeHTTP(w, r)
}

func (rt *Routes) handler(path string) http.Handler {
	var best *mount
	for i, m := range rt.mounts {
		if (path == m.prefix || strings.HasPrefix(path, m.prefix) && path[len(m.prefix)] == '/') &&
			(best == nil || len(m.prefix) > len(best.prefix)) {
			best = &rt.mounts[i]
		}
	}
	if best == nil {
		return rt.fallback
	}
	return best.h
}

// server is the HTTP API as a Component: it serves on its listener until its context
// ends, then stops accepting and drains the requests in flight for up to timeout.
type server struct {
	srv     *http.Server
	ln      net.Listener
	timeout time.Duration
	log     *slog.Logger
}

func (s *server) Name() string { return "api" }

func (s *server) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(s.ln) }()
	select {
	case err := <-served:
		return err // Serve never returns nil
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	if err := s.srv.Shutdown(shutdownCtx); err != nil {
		s.log.Warn("shutdown", "error", err)
		s.srv.Close() // cut the connections still open
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
