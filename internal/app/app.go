package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"ingot/internal/deploy"
	"ingot/internal/instanceapi"
	"ingot/internal/ironic"
	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/reconcile"
	"ingot/internal/store"
)

// Run serves ingot with cfg until ctx ends or one of its components fails. The components
// (a Group) are the HTTP API (the Placement API, and whatever is mounted beside it on the
// same listener), the Ironic resource tracker and the instance controller when
// cfg.IronicURL is set, and the database.
// The first to fail stops the others and Run returns its error; when ctx ends they stop
// cleanly. Shutdown goes by stage: stop taking work (the tracker and the instance
// controller: a pass or a step is cut short, each write being whole and each step
// idempotent), then stop accepting and drain in-flight requests (up to
// cfg.ShutdownTimeout), then close the database. ready, when not nil, receives the
// listening address once the API accepts connections.
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
	g := &Group{Logger: log}
	g.Add(StageClose, Closer("database", db.Close))
	started := false
	defer func() {
		if !started {
			db.Close()
		}
	}()

	tracker, controller, err := newIronicParts(cfg, db, log)
	if err != nil {
		return err
	}
	if tracker != nil {
		g.Add(StageWork, Func("ironic tracker", tracker.Run))
		g.Add(StageWork, controller)
	}

	routes := NewRoutes(placementapi.New(db, placementapi.Options{
		Policy: enforcer,
		Logger: log.With("component", "placementapi"),
		CORS:   placementapi.CORS{AllowedOrigins: cfg.CORSAllowedOrigins, AllowHeaders: cfg.CORSAllowHeaders},
		Candidates: placementapi.CandidateOptions{
			Max:        cfg.MaxAllocationCandidates,
			Randomize:  cfg.RandomizeAllocationCandidates,
			DepthFirst: cfg.AllocationCandidatesStrategy == "depth-first",
		},
	}))
	// Other APIs mount beside the Placement API here.
	// A create or delete wakes the instance controller at once, not at its next tick.
	var notify func()
	if controller != nil {
		notify = controller.Kick
	}
	routes.Mount(instanceapi.Prefix, instanceapi.New(db, instanceapi.Options{
		Policy: enforcer,
		Logger: log.With("component", "instanceapi"),
		Notify: notify,
	}))

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	g.Add(StageServe, &server{
		srv: &http.Server{
			Handler:           routes,
			ReadHeaderTimeout: min(10*time.Second, cfg.ReadTimeout),
			ReadTimeout:       cfg.ReadTimeout,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln:      placementapi.RewriteInvalidContentLength(ln),
		timeout: cfg.ShutdownTimeout,
		log:     log,
	})
	log.Info("serving Placement API", "addr", ln.Addr().String(), "database", redactDSN(cfg.DatabaseURL),
		"auth", cfg.Auth, "enforce_new_defaults", cfg.EnforceNewDefaults)
	if ready != nil {
		ready <- ln.Addr()
	}
	started = true
	if err := g.Run(ctx); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// newIronicParts returns the Ironic resource tracker and the instance controller cfg asks
// for, or nils without an Ironic URL. They share one client and the tracker's listings:
// each listing is handed to the controller (owners, lessees, states, the invariant
// check), and the controller asks the tracker for a pass when a node it gives back must
// be reserved first. Neither waits for the other.
func newIronicParts(cfg Config, db *store.DB, log *slog.Logger) (*reconcile.Reconciler, *deploy.Controller, error) {
	if cfg.IronicURL == "" {
		return nil, nil, nil
	}
	icfg := ironic.Config{URL: cfg.IronicURL, Logger: log.With("component", "ironic")}
	if cfg.IronicUsername != "" {
		icfg.Transport = &ironic.BasicAuth{Username: cfg.IronicUsername, Password: cfg.IronicPassword}
	}
	client, err := ironic.New(icfg)
	if err != nil {
		return nil, nil, err
	}
	scope := reconcile.Scope{ConductorGroup: cfg.IronicConductorGroup, Shards: cfg.IronicShards}
	log.Info("tracking Ironic nodes", "ironic_url", redactDSN(cfg.IronicURL), "scope", scope.String(),
		"sync_interval", cfg.SyncInterval, "ironic_username", cfg.IronicUsername)
	var tracker *reconcile.Reconciler
	controller := deploy.New(client, db, deploy.Config{
		DeployTimeout: cfg.DeployTimeout,
		MaxAttempts:   cfg.DeployMaxAttempts,
		Weigher:       deploy.Weigher{Mode: deploy.Weighing(cfg.DeployWeigher), Racks: cfg.DeployRacks},
		WatchInterval: cfg.DeployWatchInterval,
		Scope:         scope,
		Refresh: func(ctx context.Context, nodes []ironic.Node) error {
			// A pass soon, without waiting for it: the controller releases the node
			// once its provider shows reserved.
			tracker.Kick()
			return nil
		},
		Logger: log.With("component", "deploy"),
	})
	tracker = reconcile.New(client, db, reconcile.Config{
		Scope:     scope,
		Interval:  cfg.SyncInterval,
		Logger:    log.With("component", "reconcile"),
		OnListing: controller.ObserveNodes,
	})
	return tracker, controller, nil
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
