package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

// bench runs the phases of one benchmark against one server.
type bench struct {
	cfg config
	c   *client
	ds  *dataset
	log io.Writer

	mu     sync.Mutex
	errors map[string]int // unexpected answers during measurements, by kind
}

// run builds the data set and runs the selected phases. A failed phase is recorded and the
// next one runs, except after a failed create. It returns the result with an error naming the
// failed phases, if any.
func run(ctx context.Context, cfg config, log io.Writer) (*result, error) {
	ds, err := buildDataset(cfg.Dataset, cfg.N, cfg.Racks, cfg.RunID)
	if err != nil {
		return nil, err
	}
	b := &bench{
		cfg:    cfg,
		c:      newClient(cfg.URL, cfg.Token, cfg.Concurrency, cfg.Timeout),
		ds:     ds,
		log:    log,
		errors: map[string]int{},
	}
	res := b.newResult()
	if res.ServerMaxVersion, err = b.serverMaxVersion(ctx); err != nil {
		return res, err
	}
	var failed []string
	for _, p := range cfg.Phases {
		b.logf("== %s %s n=%d: phase %s", cfg.Server, cfg.Dataset, cfg.N, p)
		start, loadBefore := time.Now(), loadAverage()
		err := b.runPhase(ctx, p, res)
		res.PhaseSeconds[p] = round3(time.Since(start).Seconds())
		res.PhaseLoad[p] = loadBefore + " -> " + loadAverage()
		b.logf("   phase %s took %.1fs (load average %s)", p, res.PhaseSeconds[p], res.PhaseLoad[p])
		if err != nil {
			b.logf("   phase %s failed: %v", p, err)
			res.PhaseErrors = append(res.PhaseErrors, p+": "+err.Error())
			failed = append(failed, p)
			if p == "create" {
				break // nothing to measure without the data set
			}
		}
	}
	if len(failed) > 0 {
		return b.finish(res), fmt.Errorf("phases failed: %s", strings.Join(failed, ", "))
	}
	return b.finish(res), nil
}

// runPhase runs the named phase and stores its result in res.
func (b *bench) runPhase(ctx context.Context, phase string, res *result) error {
	var err error
	switch phase {
	case "create":
		res.Create, err = b.create(ctx)
	case "check":
		res.Check, err = b.check(ctx)
	case "candidates":
		res.Candidates, err = b.candidates(ctx)
	case "gate":
		res.Gate, err = b.gate(ctx)
	case "throughput":
		res.Throughput, err = b.throughput(ctx)
	case "list":
		res.List, err = b.list(ctx)
	case "claim":
		res.Claim, err = b.claim(ctx)
	case "put":
		res.Put, err = b.put(ctx)
	case "writes":
		res.Writes, err = b.writes(ctx)
	case "paired":
		res.Paired, err = b.paired(ctx)
	case "pairedtp":
		res.PairedTP, err = b.pairedTP(ctx)
	default:
		err = fmt.Errorf("unknown phase %q", phase)
	}
	return err
}

// newResult returns the result document with the run's parameters filled in.
func (b *bench) newResult() *result {
	cfg := b.cfg
	return &result{
		Tool:      "placementbench",
		Server:    cfg.Server,
		URL:       cfg.URL,
		Dataset:   cfg.Dataset,
		N:         cfg.N,
		Providers: b.ds.providerCount(),
		RunID:     cfg.RunID,
		Started:   time.Now().UTC().Truncate(time.Second),
		Params: params{
			Phases: cfg.Phases, Racks: cfg.Racks, Concurrency: cfg.Concurrency,
			Limits: cfg.Limits, Samples: cfg.Samples, Warmup: cfg.Warmup,
			QueryBudgetS: cfg.QueryBudget.Seconds(), QueryTimeoutS: cfg.QueryTimeout.Seconds(), Claims: cfg.Claims,
			ClaimLimit: cfg.ClaimLimit, Retries: cfg.Retries, Puts: cfg.Puts,
			ListSamples: cfg.ListSamples, Microversion: cfg.MV, Seed: cfg.Seed,
			GateTimings: cfg.GateTimings, GateAllocs: cfg.GateAllocs, TPClients: cfg.TPClients,
			TPDurationS: cfg.TPDuration.Seconds(), TPLimit: cfg.TPLimit, WritesDurationS: cfg.WritesDuration.Seconds(),
			PairURL: cfg.PairURL, SliceS: cfg.Slice.Seconds(),
		},
		PhaseSeconds: map[string]float64{},
		PhaseLoad:    map[string]string{},
		Host:         host{Name: hostname(), CPUs: runtime.NumCPU()},
	}
}

// hostname returns the machine's name, or "" when it is unknown.
func hostname() string {
	h, _ := os.Hostname() // only informative
	return h
}

// loadAverage returns the 1-minute load average (Linux), or "?" when it cannot be read.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	one, _, _ := strings.Cut(string(b), " ")
	return one
}

// finish adds the error counts and metrics to res.
func (b *bench) finish(res *result) *result {
	b.mu.Lock()
	if len(b.errors) > 0 {
		res.Errors = b.errors
	}
	b.mu.Unlock()
	res.addMetrics()
	return res
}

// serverMaxVersion checks that the server answers and returns its maximum microversion.
func (b *bench) serverMaxVersion(ctx context.Context) (string, error) {
	r, err := b.c.expect(ctx, "GET", "/", b.cfg.MV, nil, 200)
	if err != nil {
		return "", fmt.Errorf("server check: %w", err)
	}
	var doc struct {
		Versions []struct {
			Max string `json:"max_version"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || len(doc.Versions) == 0 {
		return "", fmt.Errorf("server check: GET / is not a version document: %s", truncate(r.body, 200))
	}
	return doc.Versions[0].Max, nil
}

// countError records an unexpected answer of the given kind.
func (b *bench) countError(kind string) {
	b.mu.Lock()
	b.errors[kind]++
	b.mu.Unlock()
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, format+"\n", args...)
}
