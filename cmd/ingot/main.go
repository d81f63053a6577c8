// Command ingot serves the OpenStack Placement API for bare-metal fleets run by OpenStack
// Ironic, on an embedded SQLite database or a shared PostgreSQL database.
//
//	ingot serve [flags]   run the service (flags also read from INGOT_<NAME> variables)
//	ingot instance ...    create, list, show and delete instances through a running ingot
//	                      (--url and --token, or INGOT_URL and INGOT_TOKEN)
//	ingot replica list    the replicas sharing the database; ingot node owner UUID: a node's owner
//	ingot version         print the version and the commit it was built from (also --version)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"ingot/internal/app"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: ingot serve [flags] | ingot instance COMMAND | ingot candidates explain [flags] | ingot replica list | ingot node owner UUID | ingot version")
		return 2
	}
	switch args[0] {
	case "version", "--version", "-version":
		info, _ := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionLine(version, info))
		return 0
	case "serve":
		return serve(args[1:], stderr)
	case "instance":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return instanceCmd(ctx, args[1:], os.Getenv, stdout, stderr)
	case "candidates":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return candidatesCmd(ctx, args[1:], os.Getenv, stdout, stderr)
	case "replica", "node":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return replicaCmd(ctx, args[0], args[1:], os.Getenv, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, "usage: ingot serve [flags] | ingot instance COMMAND | ingot candidates explain [flags] | ingot replica list | ingot node owner UUID | ingot version")
		return 0
	}
	fmt.Fprintf(stderr, "ingot: unknown command %q (want serve, instance, candidates, replica, node or version)\n", args[0])
	return 2
}

// versionLine is what `ingot version` prints: the version and the commit the binary was
// built from, as `go build` records it in a git checkout (vcs.revision, and vcs.modified
// when the tree had uncommitted changes).
func versionLine(version string, info *debug.BuildInfo) string {
	commit, modified := "", false
	if info != nil {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	switch {
	case commit == "":
		return "ingot " + version + " (commit unknown: built outside a git checkout or with -buildvcs=false)"
	case modified:
		return "ingot " + version + " (commit " + commit + ", with uncommitted changes)"
	}
	return "ingot " + version + " (commit " + commit + ")"
}

// serve parses flags (each also settable as INGOT_<FLAG NAME> with dashes as underscores),
// validates the configuration and runs until SIGINT or SIGTERM.
func serve(args []string, stderr io.Writer) int {
	cfg, err := parseServeFlags(args, os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ingot: %s\n", oneLine(err))
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "ingot: %s\n", oneLine(err))
		return 2
	}
	cfg.Version = version
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg, log, nil); err != nil {
		log.Error("ingot failed", "error", err)
		return 1
	}
	return 0
}

func parseServeFlags(args []string, getenv func(string) string, stderr io.Writer) (app.Config, error) {
	cfg := app.DefaultConfig()
	fs := flag.NewFlagSet("ingot serve", flag.ContinueOnError)
	// Errors are reported in one line by the caller; usage only on -h.
	fs.SetOutput(io.Discard)
	var origins, allowHeaders string
	fs.StringVar(&cfg.ListenAddr, "listen", cfg.ListenAddr, "address of the Placement API")
	fs.StringVar(&cfg.DatabaseURL, "database", cfg.DatabaseURL, "sqlite:PATH or postgres://URL")
	fs.StringVar(&cfg.Auth, "auth", cfg.Auth, "authentication strategy: noauth2 or keystone")
	var ksPasswordFile, ksSecretFile string
	ksRoles := strings.Join(cfg.KeystoneServiceTokenRoles, ",")
	fs.StringVar(&cfg.KeystoneURL, "keystone-url", cfg.KeystoneURL, "Keystone identity endpoint, e.g. http://keystone:5000/v3 (--auth keystone)")
	fs.StringVar(&cfg.KeystoneUsername, "keystone-username", cfg.KeystoneUsername, "the service user ingot validates tokens as")
	fs.StringVar(&cfg.KeystonePassword, "keystone-password", cfg.KeystonePassword, "the service user's password (prefer --keystone-password-file)")
	fs.StringVar(&ksPasswordFile, "keystone-password-file", "", "file whose first line is the service user's password")
	fs.StringVar(&cfg.KeystoneUserDomain, "keystone-user-domain", cfg.KeystoneUserDomain, "domain name of the service user")
	fs.StringVar(&cfg.KeystoneProject, "keystone-project", cfg.KeystoneProject, "project name the service user's token is scoped to (e.g. service)")
	fs.StringVar(&cfg.KeystoneProjectDomain, "keystone-project-domain", cfg.KeystoneProjectDomain, "domain name of --keystone-project")
	fs.StringVar(&cfg.KeystoneAppCredentialID, "keystone-application-credential-id", cfg.KeystoneAppCredentialID, "application credential id (instead of a username and password)")
	fs.StringVar(&cfg.KeystoneAppCredentialSecret, "keystone-application-credential-secret", cfg.KeystoneAppCredentialSecret, "application credential secret (prefer the -file form)")
	fs.StringVar(&ksSecretFile, "keystone-application-credential-secret-file", "", "file whose first line is the application credential secret")
	fs.DurationVar(&cfg.KeystoneTokenCacheTime, "keystone-token-cache-time", cfg.KeystoneTokenCacheTime, "how long a validated token is trusted without asking Keystone (0: every request asks)")
	fs.StringVar(&ksRoles, "keystone-service-token-roles", ksRoles, "comma-separated roles of which an X-Service-Token must hold one")
	fs.BoolVar(&cfg.InsecureNoAuth, "insecure-noauth", cfg.InsecureNoAuth, "allow noauth2 on a non-loopback address")
	fs.BoolVar(&cfg.EnforceNewDefaults, "enforce-new-defaults", cfg.EnforceNewDefaults, "enforce only the new default policy rules")
	fs.StringVar(&cfg.PolicyFile, "policy-file", cfg.PolicyFile, "YAML or JSON file of policy rule overrides")
	fs.StringVar(&origins, "cors-allowed-origin", "", "comma-separated origins allowed by CORS")
	fs.StringVar(&allowHeaders, "cors-allow-headers", "", "comma-separated request headers allowed by CORS")
	fs.BoolVar(&cfg.Metrics, "metrics", cfg.Metrics, "serve Prometheus metrics at /metrics (no token needed) and count them; false: none")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json")
	fs.IntVar(&cfg.MaxAllocationCandidates, "max-allocation-candidates", cfg.MaxAllocationCandidates, "stop computing allocation candidates after this many (0: no cap)")
	fs.BoolVar(&cfg.RandomizeAllocationCandidates, "randomize-allocation-candidates", cfg.RandomizeAllocationCandidates, "return a random sample of allocation candidates")
	fs.StringVar(&cfg.AllocationCandidatesStrategy, "allocation-candidates-generation-strategy", cfg.AllocationCandidatesStrategy, "breadth-first (one candidate per tree in turn) or depth-first")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", cfg.ReadTimeout, "time allowed to read one request, headers and body (slow clients are cut off)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "time allowed for in-flight requests at shutdown")
	fs.DurationVar(&cfg.ShutdownDelay, "shutdown-delay", cfg.ShutdownDelay, "at shutdown, time /readyz and /healthcheck answer 503 before the listener closes")
	fs.StringVar(&cfg.HealthcheckDisableFile, "healthcheck-disable-file", cfg.HealthcheckDisableFile, "while this file exists, /healthcheck and /readyz answer 503 (oslo's disable_by_file_path)")
	fs.BoolVar(&cfg.HealthcheckDetailed, "healthcheck-detailed", cfg.HealthcheckDetailed, "show each check's details in /healthcheck's JSON and HTML (oslo's detailed)")
	var shards, passwordFile string
	fs.StringVar(&cfg.IronicURL, "ironic-url", cfg.IronicURL, "Ironic API endpoint; keeps one resource provider per node (none, and no --ironic-from-catalog: Placement alone)")
	var ironicInterfaces string
	fs.BoolVar(&cfg.IronicFromCatalog, "ironic-from-catalog", cfg.IronicFromCatalog, "find Ironic (service type baremetal) in the Keystone token's catalog instead of --ironic-url (--auth keystone)")
	fs.StringVar(&ironicInterfaces, "ironic-interface", "", "comma-separated endpoint interfaces to look for in the catalog, in order (default internal,public)")
	fs.StringVar(&cfg.IronicRegion, "ironic-region", cfg.IronicRegion, "region of Ironic's endpoint in the catalog (default any)")
	fs.DurationVar(&cfg.SyncInterval, "sync-interval", cfg.SyncInterval, "time between two passes of the Ironic resource tracker")
	fs.StringVar(&cfg.IronicConductorGroup, "ironic-conductor-group", cfg.IronicConductorGroup, "track only the nodes of this conductor group")
	fs.StringVar(&shards, "ironic-shard", "", "track only the nodes of these shards (comma-separated)")
	fs.StringVar(&cfg.IronicUsername, "ironic-username", cfg.IronicUsername, "HTTP basic user for Ironic's http_basic mode")
	fs.StringVar(&cfg.IronicPassword, "ironic-password", cfg.IronicPassword, "HTTP basic password (prefer --ironic-password-file)")
	fs.StringVar(&passwordFile, "ironic-password-file", "", "file whose first line is the HTTP basic password")
	var racks string
	fs.DurationVar(&cfg.DeployTimeout, "deploy-timeout", cfg.DeployTimeout, "time a node may take from lock to active before the instance is rescheduled")
	fs.IntVar(&cfg.DeployMaxAttempts, "deploy-max-attempts", cfg.DeployMaxAttempts, "nodes a build tries before the instance ends in error")
	fs.StringVar(&cfg.DeployWeigher, "deploy-weigher", cfg.DeployWeigher, "spread (least loaded rack first) or pack (most loaded rack first)")
	fs.StringVar(&racks, "deploy-racks", "", "comma-separated aggregate UUIDs that are racks for the weigher (none: a provider's aggregates)")
	fs.DurationVar(&cfg.DeployWatchInterval, "deploy-watch-interval", cfg.DeployWatchInterval, "the instance controller's tick: how often in-flight nodes are watched")
	fs.StringVar(&cfg.ReplicaID, "replica-id", cfg.ReplicaID, "this replica's name among those sharing a PostgreSQL database (default: the hostname)")
	fs.StringVar(&cfg.ReplicaAddress, "replica-address", cfg.ReplicaAddress, "address peers and operators see for this replica (default: --listen)")
	fs.DurationVar(&cfg.ReplicaTTL, "replica-ttl", cfg.ReplicaTTL, "a replica's lease: its nodes are taken over this long after it stops renewing (PostgreSQL)")
	fs.DurationVar(&cfg.ReplicaRenewInterval, "replica-renew-interval", cfg.ReplicaRenewInterval, "time between two renewals of the lease")
	fs.DurationVar(&cfg.ReplicaScanInterval, "replica-scan-interval", cfg.ReplicaScanInterval, "time between two ownership scans (claims, hand-offs)")
	fs.IntVar(&cfg.ReplicaMaxMoves, "replica-max-moves", cfg.ReplicaMaxMoves, "nodes a replica hands over per scan to rebalance")
	fs.DurationVar(&cfg.ReplicaResidence, "replica-residence", cfg.ReplicaResidence, "time a node stays with its owner before it may be moved to rebalance")
	fs.DurationVar(&cfg.ReplicaDrainTimeout, "replica-drain-timeout", cfg.ReplicaDrainTimeout, "at SIGTERM, how long the replica may take to hand its nodes over")
	// Hidden test flags (not in --help): skew the replica's local clock.
	fs.DurationVar(&cfg.DebugClockOffset, "debug-clock-offset", cfg.DebugClockOffset, "")
	fs.Float64Var(&cfg.DebugClockRate, "debug-clock-rate", cfg.DebugClockRate, "")

	// Environment first, so that flags on the command line win.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "INGOT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return cfg, envErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "usage: ingot serve [flags]   (every flag can also be set as INGOT_<NAME>)")
			help := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
			fs.VisitAll(func(f *flag.Flag) {
				if !strings.HasPrefix(f.Name, "debug-") {
					help.Var(f.Value, f.Name, f.Usage)
				}
			})
			help.SetOutput(stderr)
			help.PrintDefaults()
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	cfg.CORSAllowedOrigins = splitList(origins)
	cfg.CORSAllowHeaders = splitList(allowHeaders)
	cfg.IronicShards = splitList(shards)
	cfg.IronicInterfaces = splitList(ironicInterfaces)
	cfg.DeployRacks = splitList(racks)
	cfg.KeystoneServiceTokenRoles = splitList(ksRoles)
	for _, secret := range []struct {
		flag, file string
		value      *string
	}{
		{"ironic-password", passwordFile, &cfg.IronicPassword},
		{"keystone-password", ksPasswordFile, &cfg.KeystonePassword},
		{"keystone-application-credential-secret", ksSecretFile, &cfg.KeystoneAppCredentialSecret},
	} {
		if err := readSecretFile(secret.flag, secret.file, secret.value); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// readSecretFile sets *value to the first line of file, when given; --flag and
// --flag-file are exclusive.
func readSecretFile(flag, file string, value *string) error {
	if file == "" {
		return nil
	}
	if *value != "" {
		return fmt.Errorf("--%s and --%s-file are exclusive", flag, flag)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("--%s-file: %w", flag, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	*value = strings.TrimSuffix(line, "\r")
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// oneLine joins a multi-line (errors.Join) error into one line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

func newLogger(cfg app.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
