// Command placementbench benchmarks an OpenStack Placement-API endpoint: ingot or the real
// Placement, with the same data set and the same requests, so that two runs can be compared
// (bench/benchreport joins them; scripts/bench-placement.sh runs both servers).
//
// It builds a data set (-dataset flat: an Ironic-like fleet of -n one-unit providers in rack
// aggregates with traits; -dataset nested: -n compute trees with NUMA and device children plus
// sharing DISK_GB providers; -dataset gate: upstream's nested-perfload trees) and runs the
// phases named by -phases, always in this order:
//
//	create      provider creation with -c concurrent clients (POST, PUT inventories, traits,
//	            aggregates per provider): providers/s and per-request latency
//	check       each query's full answer (no limit) in canonical form, hashed, so that two
//	            servers' candidate sets and summaries can be compared
//	candidates  GET /allocation_candidates for the data set's queries at every -limits value:
//	            p50/p99 latency, response size, candidate count
//	gate        upstream's perfload loop per query (no limit): timed requests, then -gate-allocs
//	            times one allocation written and more timed requests: p50/p95
//	throughput  -tp-clients clients sending each query (no limit) for -tp-duration: requests/s
//	list        GET /resource_providers variants: latency and provider count
//	claim       scheduler-like loop with -c clients: get candidates (limit -claim-limit), pick
//	            one at random, PUT /allocations with consumer_generation null, retry on 409
//	put         PUT /allocations/{new consumer} with -c clients to distinct free providers
//	paired      one client alternating between -url and -pair-url (the same data set on two
//	            servers, e.g. without and with authentication): each candidate query at every
//	            -limits value and allocation writes, -samples pairs each: both latencies and
//	            their difference per pair
//	pairedtp    -url and -pair-url in alternating -slice time slices: -tp-clients clients per
//	            candidate query (with -tp-limit) for -tp-duration per side, -c clients writing
//	            allocations for -writes-duration per side: each side's rate and their ratio
//	writes      -c clients for -writes-duration, each on its own free providers: PUT
//	            /allocations/{new consumer}, then DELETE it (leaves the data set as it was)
//
// The result is one JSON document on stdout; progress goes to stderr. Only point it at servers
// on this machine. Standard library only.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// phaseOrder returns the phases in the order they run, whatever order -phases names them.
func phaseOrder() []string {
	return []string{"create", "check", "candidates", "gate", "throughput", "list", "claim", "put", "writes", "paired", "pairedtp"}
}

// config is everything the flags set.
type config struct {
	URL            string
	Server         string
	Token          string
	Dataset        string
	N              int
	Racks          int
	Phases         []string
	Concurrency    int
	Limits         []int
	Samples        int
	Warmup         int
	QueryBudget    time.Duration
	Claims         int
	ClaimLimit     int
	Retries        int
	Puts           int
	ListSamples    int
	MV             string
	RunID          string
	Seed           uint64
	Timeout        time.Duration
	QueryTimeout   time.Duration
	MaxPhase       time.Duration
	CheckDir       string
	GateTimings    int
	GateAllocs     int
	TPClients      int
	TPDuration     time.Duration
	TPLimit        int
	WritesDuration time.Duration
	PairURL        string
	PairToken      string
	Slice          time.Duration
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "placementbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, cfg, os.Stderr)
	if res != nil {
		if encErr := writeJSON(os.Stdout, res); encErr != nil && err == nil {
			err = encErr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "placementbench:", err)
		os.Exit(1)
	}
}

// parseFlags turns the command line into a config with defaults filled in.
func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("placementbench", flag.ContinueOnError)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:18878", "Placement-API endpoint; several comma-separated URLs (replicas of one deployment) take requests in turn")
	fs.StringVar(&cfg.Server, "server", "", "label of the server in the result (e.g. ingot, placement)")
	fs.StringVar(&cfg.Token, "token", "admin", "X-Auth-Token (noauth2: admin)")
	fs.StringVar(&cfg.Dataset, "dataset", datasetFlat, "data set: flat, nested, wide or gate")
	fs.IntVar(&cfg.N, "n", 1000, "flat: providers; nested: compute trees (9 providers each); wide: trees of each shape (9 providers each)")
	fs.IntVar(&cfg.Racks, "racks", 20, "rack aggregates (provider or tree i is in rack i%racks)")
	phases := fs.String("phases", strings.Join(phaseOrder(), ","), "comma-separated phases: "+strings.Join(phaseOrder(), ","))
	fs.IntVar(&cfg.Concurrency, "c", 8, "concurrent clients for create, claim and put")
	limits := fs.String("limits", "10,1000", "comma-separated limit values for candidates")
	fs.IntVar(&cfg.Samples, "samples", 50, "measured requests per candidates query")
	fs.IntVar(&cfg.Warmup, "warmup", 2, "unmeasured requests before each query's samples")
	fs.DurationVar(&cfg.QueryBudget, "query-budget", 30*time.Second, "stop sampling a query after this long (at least 5 samples)")
	fs.IntVar(&cfg.Claims, "claims", 0, "consumers to place in the claim phase (0 = min(n/4, 200))")
	fs.IntVar(&cfg.ClaimLimit, "claim-limit", 10, "limit of the claim loop's candidate query")
	fs.IntVar(&cfg.Retries, "retries", 3, "claim retries after a 409")
	fs.IntVar(&cfg.Puts, "puts", 0, "allocations in the put phase (0 = n/4)")
	fs.IntVar(&cfg.ListSamples, "list-samples", 5, "measured requests per listing")
	fs.StringVar(&cfg.MV, "microversion", "1.39", "microversion of reads and allocation writes")
	fs.StringVar(&cfg.RunID, "run-id", "", "tag in names and seed of the UUIDs (default random; reuse it to skip create)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed of the claim loop's picks")
	fs.DurationVar(&cfg.Timeout, "timeout", 5*time.Minute, "per-request timeout")
	fs.DurationVar(&cfg.QueryTimeout, "query-timeout", 0, "end a candidates or list query whose request takes longer, reporting it as timed out (0: no limit but -timeout)")
	fs.DurationVar(&cfg.MaxPhase, "max-phase", 10*time.Minute, "upper bound on the claim and put phases")
	fs.StringVar(&cfg.CheckDir, "check-dir", "", "check: also write each answer's canonical lines to a file in this directory")
	fs.IntVar(&cfg.GateTimings, "gate-timings", 2, "gate: timed requests after each allocation (upstream: 2)")
	fs.IntVar(&cfg.GateAllocs, "gate-allocs", 10, "gate: allocations written, each followed by timed requests (upstream: 10)")
	fs.IntVar(&cfg.TPClients, "tp-clients", 10, "throughput: concurrent clients (upstream's ab -c 10)")
	fs.DurationVar(&cfg.TPDuration, "tp-duration", 30*time.Second, "throughput: how long each query is sent")
	fs.IntVar(&cfg.TPLimit, "tp-limit", 0, "throughput: limit added to each query (0: none, as upstream)")
	fs.StringVar(&cfg.PairURL, "pair-url", "", "paired: the second server, with the same data set (same -run-id)")
	fs.StringVar(&cfg.PairToken, "pair-token", "admin", "paired: X-Auth-Token for -pair-url")
	fs.DurationVar(&cfg.Slice, "slice", 500*time.Millisecond, "pairedtp: length of one side's turn")
	fs.DurationVar(&cfg.WritesDuration, "writes-duration", 10*time.Second, "writes: how long the clients write and delete allocations")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	return cfg, cfg.finish(*phases, *limits)
}

// finish validates the flags and fills in the derived defaults.
func (cfg *config) finish(phases, limits string) error {
	var err error
	if cfg.Phases, err = parsePhases(phases); err != nil {
		return err
	}
	if cfg.Limits, err = parseInts(limits); err != nil {
		return fmt.Errorf("-limits: %w", err)
	}
	if cfg.N < 1 || cfg.Concurrency < 1 || cfg.Samples < 1 || cfg.GateTimings < 1 || cfg.TPClients < 1 {
		return fmt.Errorf("-n, -c, -samples, -gate-timings and -tp-clients must be positive")
	}
	if cfg.TPLimit < 0 || cfg.WritesDuration <= 0 || cfg.Slice <= 0 {
		return fmt.Errorf("-tp-limit must not be negative, -writes-duration and -slice must be positive")
	}
	if cfg.Claims == 0 {
		cfg.Claims = max(1, min(cfg.N/4, 200)) // the real Placement claims < 1/s at 5,000 providers
	}
	if cfg.Puts == 0 {
		cfg.Puts = max(1, cfg.N/4)
	}
	if cfg.RunID == "" {
		cfg.RunID = randomHex(4)
	}
	if cfg.Server == "" {
		cfg.Server = cfg.URL
	}
	return nil
}

// parsePhases splits and checks a -phases value and returns it in run order.
func parsePhases(s string) ([]string, error) {
	want := map[string]bool{}
	for p := range strings.SplitSeq(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.Contains(phaseOrder(), p) {
			return nil, fmt.Errorf("unknown phase %q (want some of %s)", p, strings.Join(phaseOrder(), ","))
		}
		want[p] = true
	}
	var out []string
	for _, p := range phaseOrder() {
		if want[p] {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no phase selected")
	}
	return out, nil
}

// parseInts parses a comma-separated list of positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on failure)
	return hex.EncodeToString(b)
}

// writeJSON writes v indented, with a trailing newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}
