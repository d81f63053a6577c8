package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ingot/internal/backoff"
	"ingot/internal/deploy"
	"ingot/internal/health"
	"ingot/internal/instanceapi"
	"ingot/internal/ironic"
	"ingot/internal/keystone"
	"ingot/internal/metrics"
	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/reconcile"
	"ingot/internal/replica"
	"ingot/internal/replicaapi"
	"ingot/internal/store"
	"ingot/internal/ui"
)

// Run serves ingot with cfg until ctx ends or one of its components fails. The components
// (a Group) are the HTTP API (the Placement API, and whatever is mounted beside it on the
// same listener), the Ironic resource tracker and the instance controller when Ironic is
// configured (cfg.IronicConfigured), and the database.
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
	if path, ok := strings.CutPrefix(cfg.DatabaseURL, "sqlite:"); ok {
		unlock, err := lockSQLite(strings.TrimPrefix(path, "//"))
		if err != nil {
			return err
		}
		defer unlock()
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, store.WithLogger(log.With("component", "store")))
	if err != nil {
		return err
	}
	g := &Group{Logger: log}
	g.Add(StageClose, Closer("database", db.Close))
	m := &metrics.Metrics{} // --metrics=false: every part is nil and reports nothing
	if cfg.Metrics {
		m = metrics.New()
		db.Instrument(m.Store)
		m.Collect(metrics.Sources{View: db.View, Instances: db.CountInstances})
	}
	started := false
	defer func() {
		if !started {
			db.Close()
		}
	}()

	// Several replicas share a PostgreSQL database: each holds a lease and owns a share
	// of the nodes (package replica). SQLite has exactly one, which owns everything.
	var rep *replica.Replica
	var onGain []func()
	if db.Postgres() {
		rcfg := cfg.ReplicaConfig()
		rcfg.Version = cfg.Version
		rcfg.RecordScope = reconcile.Scope{ConductorGroup: cfg.IronicConductorGroup, Shards: cfg.IronicShards}.String()
		rcfg.Logger = log.With("component", "replica")
		if cfg.DebugClockOffset != 0 || cfg.DebugClockRate != 1 {
			rcfg.Clock = replica.NewSkewed(cfg.DebugClockOffset, cfg.DebugClockRate)
			log.Warn("replica clock skewed for testing", "offset", cfg.DebugClockOffset, "rate", cfg.DebugClockRate)
		}
		rcfg.OnGain = func([]string) {
			for _, f := range onGain {
				f()
			}
		}
		if rep, err = replica.New(db, rcfg); err != nil {
			return err
		}
		if audit := log.With("component", "fence"); audit.Enabled(ctx, slog.LevelDebug) {
			// Every fenced write's outcome per node, for auditors (the chaos tests).
			db.SetFenceAudit(func(a store.FenceAudit) {
				audit.Debug("fenced write", "node", a.Node, "replica", a.Replica, "epoch", a.Epoch, "accepted", a.Accepted,
					"checked_at", a.Checked)
			})
		}
		g.Add(StageLeave, rep)
		m.CollectReplica(replicaMetrics(rep, db, cfg.Version))
	}

	// With keystone authentication one Session (the service's token) serves the token
	// validation and the calls to Ironic.
	var session *keystone.Session
	if cfg.Auth == "keystone" {
		if session, err = newSession(ctx, cfg, log); err != nil {
			return err
		}
	}

	var notify func() // the instance API's writes wake the controller
	var tracker *reconcile.Reconciler
	if cfg.IronicConfigured() {
		if cfg.IronicFromCatalog {
			if cfg.IronicURL, err = ironicFromCatalog(ctx, cfg, session, log); err != nil {
				if ctx.Err() != nil { // asked to stop while waiting for Keystone
					log.Info("stopped")
					return nil
				}
				return err
			}
		}
		client, err := newIronicClient(cfg, session, log, m.Ironic)
		if err != nil {
			return err
		}
		// The tracker and the instance controller share the client and each pass's
		// listing; the controller has the tracker apply its rules to nodes it sees
		// change (Refresh). Neither waits for the other.
		controller := newController(cfg, db, client, log, m.Instances, rep, func(ctx context.Context, nodes []ironic.Node) error {
			return tracker.Refresh(ctx, nodes)
		})
		tracker = newTracker(cfg, db, client, log, m.Tracker, rep, func(nodes []ironic.Node) {
			if rep != nil {
				rep.ObserveNodes(nodes)
			}
			controller.ObserveNodes(nodes)
			m.Fleet.ObserveListing(nodes)
		})
		onGain = append(onGain, tracker.Kick, controller.Kick)
		g.Add(StageWork, Func("ironic tracker", tracker.Run))
		g.Add(StageWork, controller)
		notify = controller.Kick
	}

	var authn placementapi.Authenticator // noauth2
	var validator *keystone.Validator
	if session != nil {
		validator = newValidator(session, cfg, log)
		authn = keystone.Credentials
	}
	placementAPI := placementapi.New(db, placementapi.Options{
		Authenticate: authn,
		Policy:       enforcer,
		Logger:       log.With("component", "placementapi"),
		Metrics:      m,
		CORS:         placementapi.CORS{AllowedOrigins: cfg.CORSAllowedOrigins, AllowHeaders: cfg.CORSAllowHeaders},
		Candidates: placementapi.CandidateOptions{
			Max:        cfg.MaxAllocationCandidates,
			Randomize:  cfg.RandomizeAllocationCandidates,
			DepthFirst: cfg.AllocationCandidatesStrategy == "depth-first",
		},
	})
	routes := NewRoutes(placementAPI)
	// Other APIs mount beside the Placement API here. The health endpoints: at shutdown
	// /readyz answers 503 from the moment the work stage stops (and for --shutdown-delay),
	// before the listener closes.
	hh := newHealth(cfg, db, tracker, log.With("component", "health"))
	for _, p := range health.Paths {
		routes.Mount(p, hh)
	}
	g.Add(StageWork, Func("health", hh.Drainer(cfg.ShutdownDelay)))
	routes.Mount(placementapi.ExplainPath, placementAPI.Explain())
	routes.Mount(instanceapi.Prefix, instanceapi.New(db, instanceapi.Options{
		Authenticate: authn,
		Policy:       enforcer,
		Logger:       log.With("component", "instanceapi"),
		Notify:       notify,
		Metrics:      m,
	}))
	if cfg.Metrics {
		routes.Mount("/metrics", m.Handler())
	}
	routes.Mount(ui.Prefix, ui.New(db, ui.Options{Authenticate: authn, Policy: enforcer, Tracker: tracker,
		Keystone: keystone.Config{URL: cfg.KeystoneURL}, Logger: log.With("component", "ui")}))

	views := replicaapi.New(db, replicaapi.Options{
		Authenticate: authn,
		Policy:       enforcer,
		Logger:       log.With("component", "replicaapi"),
		Self:         replicaapi.Self{ID: cfg.ReplicaID, Address: cfg.ReplicaConfig().Addr, Version: cfg.Version},
	})
	routes.Mount(replicaapi.ReplicasPrefix, views)
	routes.Mount(replicaapi.NodesPrefix, views)

	var handler http.Handler = routes
	if validator != nil {
		handler = keystone.Middleware(validator, keystone.MiddlewareOptions{
			ServiceTokenRoles: cfg.KeystoneServiceTokenRoles,
			Logger:            log.With("component", "keystone"),
		}, routes)
	}

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	g.Add(StageServe, &server{
		srv: &http.Server{
			Handler:           handler,
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
		"auth", cfg.Auth, "enforce_new_defaults", cfg.EnforceNewDefaults, "metrics", cfg.Metrics)
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

// replicaMetrics are the sources of the replica's metrics: its own view, and the
// database's count of live replicas and unowned nodes.
func replicaMetrics(rep *replica.Replica, db *store.DB, version string) metrics.ReplicaSources {
	return metrics.ReplicaSources{
		Self: func() metrics.ReplicaState {
			s, c := rep.Status(), rep.Counters()
			return metrics.ReplicaState{ID: s.ID, Version: version, Owned: s.Owned, LeaseLeft: s.LeaseLeft,
				Changes: c.Changes, RenewFailures: c.RenewFailures, LeaseLosses: c.LeaseLosses, Fenced: c.Fenced}
		},
		Fleet: func(ctx context.Context) (metrics.ReplicaFleet, error) {
			live, unowned, err := db.ReplicaCounts(ctx)
			return metrics.ReplicaFleet{Live: live, Unowned: unowned}, err
		},
	}
}

// newSession returns the service's Keystone session. It obtains the service's token at
// once so that bad credentials show at start; Keystone being down only warns: requests
// get 503 until it answers.
func newSession(ctx context.Context, cfg Config, log *slog.Logger) (*keystone.Session, error) {
	session, err := keystone.NewSession(cfg.KeystoneConfig())
	if err != nil {
		return nil, err
	}
	if _, err := session.Token(ctx); err != nil {
		log.Warn("keystone: no service token yet; requests get 503 until Keystone answers", "error", err)
	}
	return session, nil
}

// newValidator returns the token validator of keystone authentication.
func newValidator(session *keystone.Session, cfg Config, log *slog.Logger) *keystone.Validator {
	cacheTime := cfg.KeystoneTokenCacheTime
	if cacheTime == 0 {
		cacheTime = -1 // not cached
	}
	log.Info("keystone authentication", "identity", session.Endpoint(), "token_cache_time", cfg.KeystoneTokenCacheTime,
		"service_token_roles", cfg.KeystoneServiceTokenRoles)
	return keystone.NewValidator(session, keystone.ValidatorOptions{CacheTime: cacheTime})
}

// ironicService is the catalog's service type of Ironic.
const ironicService = "baremetal"

// ironicFromCatalog returns Ironic's endpoint from the catalog of the service's token.
// While Keystone cannot be reached it waits (logging each failure), since nothing can be
// tracked without the endpoint; refused credentials, or a catalog without a fitting
// endpoint, are start-up errors.
func ironicFromCatalog(ctx context.Context, cfg Config, session *keystone.Session, log *slog.Logger) (string, error) {
	wait := backoff.New(time.Second, 30*time.Second, nil)
	for attempt := 1; ; attempt++ {
		catalog, err := session.Catalog(ctx)
		if err == nil {
			u, err := catalog.Endpoint(ironicService, cfg.IronicInterfaces, cfg.IronicRegion)
			if err != nil {
				return "", fmt.Errorf("--ironic-from-catalog: %w", err)
			}
			log.Info("found Ironic in the Keystone catalog", "ironic_url", u, "interfaces", cfg.IronicInterfaces,
				"region", cfg.IronicRegion)
			return u, nil
		}
		if errors.Is(err, keystone.ErrCredentialsRefused) || ctx.Err() != nil {
			return "", fmt.Errorf("--ironic-from-catalog: %w", err)
		}
		d := wait.Delay(attempt)
		log.Warn("waiting for Keystone to read Ironic's endpoint from the catalog", "error", err, "retry_in", d)
		if err := backoff.Sleep(ctx, d); err != nil {
			return "", fmt.Errorf("--ironic-from-catalog: %w", err)
		}
	}
}

// newIronicClient returns the client of the Ironic cfg names. It authenticates with HTTP
// basic credentials when given, else with the service's Keystone token when there is a
// session (then every listing checks it sees every node), else not at all.
func newIronicClient(cfg Config, session *keystone.Session, log *slog.Logger, m *metrics.Ironic) (*ironic.Client, error) {
	icfg := ironic.Config{URL: cfg.IronicURL, Logger: log.With("component", "ironic")}
	// Innermost, the metrics count every request sent, a retry after a 401 included.
	transport := m.Transport(ironic.NewTransport())
	switch {
	case cfg.IronicUsername != "":
		transport = &ironic.BasicAuth{Username: cfg.IronicUsername, Password: cfg.IronicPassword, Next: transport}
	case session != nil:
		transport = &keystone.Transport{Session: session, Next: transport}
		icfg.RequireListAll = true
	}
	icfg.Transport = transport
	return ironic.New(icfg)
}

// ironicAuth names how the Ironic client authenticates, for the log.
func ironicAuth(cfg Config) string {
	switch {
	case cfg.IronicUsername != "":
		return "http_basic (" + cfg.IronicUsername + ")"
	case cfg.Auth == "keystone":
		return "keystone"
	}
	return "none"
}

// newTracker returns the Ironic resource tracker cfg asks for; onListing, when not nil,
// receives each pass's listing.
func newTracker(cfg Config, db *store.DB, client *ironic.Client, log *slog.Logger, m *metrics.Tracker,
	rep *replica.Replica, onListing func([]ironic.Node)) *reconcile.Reconciler {
	scope := reconcile.Scope{ConductorGroup: cfg.IronicConductorGroup, Shards: cfg.IronicShards}
	log.Info("tracking Ironic nodes", "ironic_url", redactDSN(cfg.IronicURL), "scope", scope.String(),
		"sync_interval", cfg.SyncInterval, "ironic_auth", ironicAuth(cfg))
	rcfg := reconcile.Config{
		Scope:     scope,
		Interval:  cfg.SyncInterval,
		Logger:    log.With("component", "reconcile"),
		OnListing: onListing,
		Metrics:   m,
	}
	if rep != nil {
		rcfg.Ownership = rep
	}
	return reconcile.New(client, db, rcfg)
}

// newController returns the instance controller cfg asks for; refresh makes the tracker
// apply its rules to nodes now.
func newController(cfg Config, db *store.DB, client *ironic.Client, log *slog.Logger, m *metrics.Instances,
	rep *replica.Replica, refresh func(context.Context, []ironic.Node) error) *deploy.Controller {
	var own deploy.Ownership
	if rep != nil {
		own = rep
	}
	return deploy.New(client, db, deploy.Config{
		Ownership:     own,
		DeployTimeout: cfg.DeployTimeout,
		MaxAttempts:   cfg.DeployMaxAttempts,
		Weigher:       deploy.Weigher{Mode: deploy.Weighing(cfg.DeployWeigher), Racks: cfg.DeployRacks},
		WatchInterval: cfg.DeployWatchInterval,
		Scope:         reconcile.Scope{ConductorGroup: cfg.IronicConductorGroup, Shards: cfg.IronicShards},
		Refresh:       refresh,
		Logger:        log.With("component", "deploy"),
		Metrics:       m,
	})
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
