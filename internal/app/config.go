package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"ingot/internal/keystone"
	"ingot/internal/replica"
)

// Config is ingot's whole configuration. Only cmd/ingot fills it from flags and the
// environment; everything else receives it.
type Config struct {
	// ListenAddr is the Placement API's address.
	ListenAddr string
	// DatabaseURL is "sqlite:PATH" or a postgres:// URL.
	DatabaseURL string
	// Auth is the authentication strategy: "noauth2" (the headers say who calls) or
	// "keystone" (Keystone tokens, validated with the Keystone* service credentials).
	Auth string
	// KeystoneURL is Keystone's identity endpoint; the Keystone* credentials are the
	// service user's password (with its domain and project) or an application credential.
	KeystoneURL                 string
	KeystoneUsername            string
	KeystonePassword            string
	KeystoneUserDomain          string
	KeystoneProject             string
	KeystoneProjectDomain       string
	KeystoneAppCredentialID     string
	KeystoneAppCredentialSecret string
	// KeystoneTokenCacheTime is how long a validated token is trusted (0: not cached), as
	// keystonemiddleware's token_cache_time.
	KeystoneTokenCacheTime time.Duration
	// KeystoneServiceTokenRoles are the roles of which an X-Service-Token must hold one.
	KeystoneServiceTokenRoles []string
	// InsecureNoAuth allows noauth2 on a non-loopback address.
	InsecureNoAuth bool
	// EnforceNewDefaults is oslo.policy's enforce_new_defaults.
	EnforceNewDefaults bool
	// PolicyFile optionally overrides policy rules (YAML or JSON).
	PolicyFile string
	// CORSAllowedOrigins and CORSAllowHeaders configure CORS; empty origins disable it.
	CORSAllowedOrigins []string
	CORSAllowHeaders   []string
	// MaxAllocationCandidates caps the candidates one GET /allocation_candidates computes
	// (0: no cap), as upstream's [placement] max_allocation_candidates.
	MaxAllocationCandidates int
	// RandomizeAllocationCandidates returns a random sample of candidates.
	RandomizeAllocationCandidates bool
	// AllocationCandidatesStrategy is "breadth-first" (one candidate per tree in turn) or
	// "depth-first" (exhaust one tree, then the next).
	AllocationCandidatesStrategy string
	// ShutdownTimeout bounds how long in-flight requests may finish at shutdown.
	ShutdownTimeout time.Duration
	// ShutdownDelay is how long, at shutdown, /readyz and /healthcheck answer 503 while
	// everything is still served, before the listener closes: long enough for load
	// balancers to notice (their probe interval times the failures they wait for).
	ShutdownDelay time.Duration
	// HealthcheckDisableFile, when set, makes /healthcheck and /readyz answer 503 while
	// the file exists (oslo.middleware's disable_by_file_path).
	HealthcheckDisableFile string
	// HealthcheckDetailed gives /healthcheck's JSON and HTML answers each check's details
	// (oslo.middleware's detailed).
	HealthcheckDetailed bool
	// ReadTimeout bounds the reading of one request, headers and body: a client that
	// trickles its body is cut off instead of holding a connection forever.
	ReadTimeout time.Duration

	// IronicURL is the Ironic API endpoint the resource tracker keeps one provider per
	// node from. Without it (and without IronicFromCatalog) ingot serves the Placement
	// API alone.
	IronicURL string
	// IronicFromCatalog finds Ironic's endpoint (service type baremetal) in the catalog
	// of ingot's Keystone token instead; it needs keystone authentication. The endpoint
	// is the first of IronicInterfaces (nil: internal, then public) found in IronicRegion
	// (empty: any region).
	IronicFromCatalog bool
	IronicInterfaces  []string
	IronicRegion      string
	// IronicUsername and IronicPassword are HTTP basic credentials for Ironic's
	// http_basic mode. Without a username ingot sends its Keystone token under keystone
	// authentication, and nothing otherwise (Ironic's noauth).
	IronicUsername string
	IronicPassword string
	// IronicConductorGroup and IronicShards restrict the tracker to the nodes of one
	// conductor group and of these shards; empty means every node.
	IronicConductorGroup string
	IronicShards         []string
	// SyncInterval is the time between two tracker passes.
	SyncInterval time.Duration
	// DeployTimeout bounds one node's deploy (lock to active) before the instance is
	// rescheduled; DeployMaxAttempts is how many nodes a build tries before it ends in
	// error; DeployWeigher is "spread" or "pack" (by rack: DeployRacks, aggregate UUIDs;
	// none: the provider's aggregates); DeployWatchInterval is the instance controller's
	// tick. They apply when Ironic is configured (IronicConfigured), which runs the
	// controller beside the tracker.
	DeployTimeout       time.Duration
	DeployMaxAttempts   int
	DeployWeigher       string
	DeployRacks         []string
	DeployWatchInterval time.Duration
	// Metrics serves Prometheus metrics at /metrics (anonymous, also under keystone auth)
	// and has every part report to them; off, nothing is counted.
	Metrics bool
	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string
	LogFormat string

	// Version is ingot's version, shown to operators (set by cmd/ingot).
	Version string
	// ReplicaID names this process among the replicas sharing a PostgreSQL database (the
	// hostname by default); ReplicaAddress is the address peers and operators see
	// (default ListenAddr). The other Replica* settings are package replica's: lease TTL
	// (its margin is a fifth of it), renewal and scan periods, voluntary moves per scan,
	// residence before a move, and the drain's bound at shutdown.
	ReplicaID            string
	ReplicaAddress       string
	ReplicaTTL           time.Duration
	ReplicaRenewInterval time.Duration
	ReplicaScanInterval  time.Duration
	ReplicaMaxMoves      int
	ReplicaResidence     time.Duration
	ReplicaDrainTimeout  time.Duration
	// DebugClockOffset and DebugClockRate skew the replica's local clock (hidden test
	// flags for clock-skew tests: faketime does not reach Go's clock).
	DebugClockOffset time.Duration
	DebugClockRate   float64
}

// DefaultDataDir is where the default SQLite database lives: $XDG_DATA_HOME/ingot, or
// ~/.local/share/ingot.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "ingot")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "ingot")
	}
	return "ingot-data"
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		ListenAddr:                "127.0.0.1:8778",
		DatabaseURL:               "sqlite:" + filepath.Join(DefaultDataDir(), "ingot.db"),
		Auth:                      "noauth2",
		KeystoneUserDomain:        "Default",
		KeystoneProjectDomain:     "Default",
		KeystoneTokenCacheTime:    300 * time.Second,
		KeystoneServiceTokenRoles: []string{"service"},
		EnforceNewDefaults:        true,
		ShutdownTimeout:           10 * time.Second,
		ReadTimeout:               60 * time.Second,
		SyncInterval:              60 * time.Second,
		DeployTimeout:             30 * time.Minute,
		DeployMaxAttempts:         3,
		DeployWeigher:             "spread",
		DeployWatchInterval:       time.Second,
		// A bare-metal fleet has few candidates per host; the cap only bounds wide
		// nested trees (upstream suggests up to 100000 when limiting).
		MaxAllocationCandidates:      100000,
		AllocationCandidatesStrategy: "breadth-first",
		Metrics:                      true,
		LogLevel:                     "info",
		LogFormat:                    "text",
		ReplicaID:                    hostname(),
		ReplicaTTL:                   replica.DefaultTTL,
		ReplicaRenewInterval:         replica.DefaultRenewEvery,
		ReplicaScanInterval:          replica.DefaultScanEvery,
		ReplicaMaxMoves:              replica.DefaultMaxMoves,
		ReplicaResidence:             replica.DefaultResidence,
		ReplicaDrainTimeout:          replica.DefaultDrainTimeout,
		DebugClockRate:               1,
	}
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "ingot"
	}
	return strings.ToLower(h)
}

// ReplicaConfig returns the replica settings (without the parts app.Run adds: scope,
// logger, clock, callbacks).
func (c Config) ReplicaConfig() replica.Config {
	addr := c.ReplicaAddress
	if addr == "" {
		addr = c.ListenAddr
	}
	return replica.Config{ID: c.ReplicaID, Addr: addr, ConductorGroup: c.IronicConductorGroup, Shards: c.IronicShards,
		TTL: c.ReplicaTTL, RenewEvery: c.ReplicaRenewInterval, Margin: c.ReplicaTTL / 5,
		ScanEvery: c.ReplicaScanInterval, Residence: c.ReplicaResidence, MaxMoves: c.ReplicaMaxMoves,
		DrainTimeout: c.ReplicaDrainTimeout}
}

// Validate returns every problem with c, joined.
func (c Config) Validate() error {
	var errs []error
	host, _, err := net.SplitHostPort(c.ListenAddr)
	if err != nil {
		errs = append(errs, fmt.Errorf("--listen %q: %w", c.ListenAddr, err))
	}
	switch {
	case strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		if strings.TrimPrefix(c.DatabaseURL, "sqlite:") == "" {
			errs = append(errs, fmt.Errorf("--database %q: sqlite: needs a file path", c.DatabaseURL))
		}
	case strings.HasPrefix(c.DatabaseURL, "postgres://"), strings.HasPrefix(c.DatabaseURL, "postgresql://"):
	default:
		errs = append(errs, fmt.Errorf("--database %q: want sqlite:PATH or a postgres:// URL", c.DatabaseURL))
	}
	switch c.Auth {
	case "noauth2":
		if err == nil && !isLoopback(host) && !c.InsecureNoAuth {
			errs = append(errs, fmt.Errorf("--auth noauth2 trusts every caller; refusing to listen on non-loopback %q without --insecure-noauth", c.ListenAddr))
		}
	case "keystone":
		if err := c.KeystoneConfig().Validate(); err != nil {
			errs = append(errs, fmt.Errorf("--auth keystone: %w", err))
		}
		if c.KeystoneTokenCacheTime < 0 {
			errs = append(errs, fmt.Errorf("--keystone-token-cache-time %s: must not be negative", c.KeystoneTokenCacheTime))
		}
		if len(c.KeystoneServiceTokenRoles) == 0 {
			errs = append(errs, errors.New("--keystone-service-token-roles: name at least one role"))
		}
	default:
		errs = append(errs, fmt.Errorf("--auth %q: want noauth2 or keystone", c.Auth))
	}
	if c.PolicyFile != "" {
		if _, err := os.Stat(c.PolicyFile); err != nil {
			errs = append(errs, fmt.Errorf("--policy-file: %w", err))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if c.MaxAllocationCandidates < 0 {
		errs = append(errs, fmt.Errorf("--max-allocation-candidates %d: must be 0 (no cap) or positive", c.MaxAllocationCandidates))
	}
	switch c.AllocationCandidatesStrategy {
	case "breadth-first", "depth-first":
	default:
		errs = append(errs, fmt.Errorf("--allocation-candidates-generation-strategy %q: want breadth-first or depth-first", c.AllocationCandidatesStrategy))
	}
	if c.ShutdownDelay < 0 {
		errs = append(errs, fmt.Errorf("--shutdown-delay %v: must not be negative", c.ShutdownDelay))
	}
	if len(c.CORSAllowHeaders) > 0 && len(c.CORSAllowedOrigins) == 0 {
		errs = append(errs, errors.New("--cors-allow-headers needs --cors-allowed-origin"))
	}
	errs = append(errs, c.validateIronic()...)
	if c.ReplicaID == "" || strings.ContainsAny(c.ReplicaID, " \t\n/") {
		errs = append(errs, fmt.Errorf("--replica-id %q: want a name without spaces or slashes", c.ReplicaID))
	}
	if err := c.ReplicaConfig().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("--replica-ttl %v, --replica-renew-interval %v: %w", c.ReplicaTTL, c.ReplicaRenewInterval, err))
	}
	if c.ReplicaMaxMoves < 1 || c.ReplicaResidence < 0 || c.ReplicaDrainTimeout < 0 {
		errs = append(errs, errors.New("--replica-max-moves must be at least 1, --replica-residence and --replica-drain-timeout not negative"))
	}
	if c.DebugClockRate <= 0 || c.DebugClockRate > 100 {
		errs = append(errs, fmt.Errorf("--debug-clock-rate %v: want a positive factor", c.DebugClockRate))
	}
	return errors.Join(errs...)
}

// IronicConfigured reports whether ingot runs the Ironic resource tracker and the instance
// controller: an Ironic endpoint is given, or is to be found in the Keystone catalog.
func (c Config) IronicConfigured() bool {
	return c.IronicURL != "" || c.IronicFromCatalog
}

func (c Config) validateIronic() []error {
	var errs []error
	if !c.IronicFromCatalog {
		for flag, set := range map[string]bool{
			"--ironic-interface": len(c.IronicInterfaces) > 0,
			"--ironic-region":    c.IronicRegion != "",
		} {
			if set {
				errs = append(errs, fmt.Errorf("%s needs --ironic-from-catalog", flag))
			}
		}
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	}
	if !c.IronicConfigured() {
		var more []error
		for flag, set := range map[string]bool{
			"--ironic-username":        c.IronicUsername != "",
			"--ironic-password":        c.IronicPassword != "",
			"--ironic-conductor-group": c.IronicConductorGroup != "",
			"--ironic-shard":           len(c.IronicShards) > 0,
		} {
			if set {
				more = append(more, fmt.Errorf("%s needs --ironic-url or --ironic-from-catalog", flag))
			}
		}
		slices.SortFunc(more, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return append(errs, more...)
	}
	if c.IronicFromCatalog {
		if c.Auth != "keystone" {
			errs = append(errs, errors.New("--ironic-from-catalog needs --auth keystone"))
		}
		if c.IronicURL != "" {
			errs = append(errs, errors.New("--ironic-url and --ironic-from-catalog are exclusive"))
		}
		if c.IronicUsername != "" || c.IronicPassword != "" {
			errs = append(errs, errors.New("--ironic-username/--ironic-password: an Ironic found in the Keystone catalog is called with ingot's Keystone token"))
		}
		for _, i := range c.IronicInterfaces {
			if !slices.Contains(keystone.Interfaces, keystone.NormalizeInterface(i)) {
				errs = append(errs, fmt.Errorf("--ironic-interface %q: want %s", i, strings.Join(keystone.Interfaces, ", ")))
			}
		}
	} else if u, err := url.Parse(c.IronicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("--ironic-url %q: want http(s)://host[:port][/path]", c.IronicURL))
	}
	if c.IronicPassword != "" && c.IronicUsername == "" {
		errs = append(errs, errors.New("--ironic-password needs --ironic-username"))
	}
	if c.ReadTimeout < time.Second {
		errs = append(errs, fmt.Errorf("--read-timeout %v: must be at least 1s", c.ReadTimeout))
	}
	if c.SyncInterval < time.Second {
		errs = append(errs, fmt.Errorf("--sync-interval %v: must be at least 1s", c.SyncInterval))
	}
	if c.DeployTimeout < time.Second {
		errs = append(errs, fmt.Errorf("--deploy-timeout %v: must be at least 1s", c.DeployTimeout))
	}
	if c.DeployMaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("--deploy-max-attempts %d: must be at least 1", c.DeployMaxAttempts))
	}
	if c.DeployWeigher != "spread" && c.DeployWeigher != "pack" {
		errs = append(errs, fmt.Errorf("--deploy-weigher %q: want spread or pack", c.DeployWeigher))
	}
	if c.DeployWatchInterval < 10*time.Millisecond || c.DeployWatchInterval > 2*time.Second {
		errs = append(errs, fmt.Errorf("--deploy-watch-interval %v: want 10ms to 2s (an active node is noticed within 2s)", c.DeployWatchInterval))
	}
	return errs
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// KeystoneConfig returns the service credentials of keystone authentication.
func (c Config) KeystoneConfig() keystone.Config {
	return keystone.Config{
		URL: c.KeystoneURL, Username: c.KeystoneUsername, Password: c.KeystonePassword,
		UserDomain: c.KeystoneUserDomain, Project: c.KeystoneProject, ProjectDomain: c.KeystoneProjectDomain,
		AppCredentialID: c.KeystoneAppCredentialID, AppCredentialSecret: c.KeystoneAppCredentialSecret,
	}
}
