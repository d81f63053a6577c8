package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store"
)

// Run serves ingot with cfg until ctx ends, then shuts down in order: stop accepting,
// drain in-flight requests (up to cfg.ShutdownTimeout), close the database. ready, when
// not nil, receives the listening address once the API accepts connections.
func Run(ctx context.Context, cfg Config, log *slog.Logger, ready chan<- net.Addr) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	enforcer, err := policy.New(policy.Options{EnforceNewDefaults: cfg.EnforceNewDefaults, File: cfg.PolicyFile})
	if err != nil {
		return err
	}
	for _, w := range enforcer.Warnings() {
		log.Warn("policy", "warning", w)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()

	api := placementapi.New(db, placementapi.Options{
		Policy: enforcer,
		Logger: log.With("component", "placementapi"),
		CORS:   placementapi.CORS{AllowedOrigins: cfg.CORSAllowedOrigins, AllowHeaders: cfg.CORSAllowHeaders},
		Candidates: placementapi.CandidateOptions{
			Max:        cfg.MaxAllocationCandidates,
			Randomize:  cfg.RandomizeAllocationCandidates,
			DepthFirst: cfg.AllocationCandidatesStrategy == "depth-first",
		},
	})
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving Placement API", "addr", ln.Addr().String(), "database", redactDSN(cfg.DatabaseURL),
		"auth", cfg.Auth, "enforce_new_defaults", cfg.EnforceNewDefaults)
	if ready != nil {
		ready <- ln.Addr()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(placementapi.RewriteInvalidContentLength(ln)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown", "error", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// redactDSN hides a password in a postgres URL for logging.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
	}
	return dsn
}
