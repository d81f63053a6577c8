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

	"ingot/internal/ironic"
	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/reconcile"
	"ingot/internal/store"
)

// Run serves ingot with cfg until ctx ends, then shuts down in order: stop the Ironic
// resource tracker, stop accepting, drain in-flight requests (up to cfg.ShutdownTimeout),
// close the database. The API and the tracker (when cfg.IronicURL is set) run side by
// side; the first to fail stops the other and Run returns its error. ready, when not nil,
// receives the listening address once the API accepts connections.
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
	tracker, err := newTracker(cfg, db, log)
	if err != nil {
		return err
	}

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
		ReadHeaderTimeout: min(10*time.Second, cfg.ReadTimeout),
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving Placement API", "addr", ln.Addr().String(), "database", redactDSN(cfg.DatabaseURL),
		"auth", cfg.Auth, "enforce_new_defaults", cfg.EnforceNewDefaults)
	if ready != nil {
		ready <- ln.Addr()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(placementapi.RewriteInvalidContentLength(ln)) }()
	trackerCtx, stopTracker := context.WithCancel(ctx)
	defer stopTracker()
	tracked := make(chan error, 1)
	if tracker != nil {
		go func() { tracked <- tracker.Run(trackerCtx) }()
	}

	var failure error
	serving, tracking := true, tracker != nil
	select {
	case err := <-served:
		serving, failure = false, fmt.Errorf("serve: %w", err)
	case err := <-tracked:
		tracking = false
		if err != nil {
			failure = fmt.Errorf("ironic tracker: %w", err)
		} else if ctx.Err() == nil {
			failure = errors.New("ironic tracker stopped")
		}
	case <-ctx.Done():
	}
	// Shut down in order: the tracker (its pass is abandoned; each node's write is
	// whole), then the API, then (deferred) the database.
	stopTracker()
	if tracking {
		if err := <-tracked; err != nil && failure == nil {
			failure = fmt.Errorf("ironic tracker: %w", err)
		}
	}
	if serving {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			log.Warn("shutdown", "error", err)
		}
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) && failure == nil {
			failure = fmt.Errorf("serve: %w", err)
		}
	}
	if failure != nil {
		return failure
	}
	log.Info("stopped")
	return nil
}

// newTracker returns the Ironic resource tracker cfg asks for, or nil without an Ironic URL.
func newTracker(cfg Config, db *store.DB, log *slog.Logger) (*reconcile.Reconciler, error) {
	if cfg.IronicURL == "" {
		return nil, nil
	}
	icfg := ironic.Config{URL: cfg.IronicURL, Logger: log.With("component", "ironic")}
	if cfg.IronicUsername != "" {
		icfg.Transport = &ironic.BasicAuth{Username: cfg.IronicUsername, Password: cfg.IronicPassword}
	}
	client, err := ironic.New(icfg)
	if err != nil {
		return nil, err
	}
	scope := reconcile.Scope{ConductorGroup: cfg.IronicConductorGroup, Shards: cfg.IronicShards}
	log.Info("tracking Ironic nodes", "ironic_url", redactDSN(cfg.IronicURL), "scope", scope.String(),
		"sync_interval", cfg.SyncInterval, "ironic_username", cfg.IronicUsername)
	return reconcile.New(client, db, reconcile.Config{
		Scope:    scope,
		Interval: cfg.SyncInterval,
		Logger:   log.With("component", "reconcile"),
	}), nil
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
