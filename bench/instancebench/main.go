// Command instancebench measures how fast nodes of a real Ironic are claimed for workloads,
// two ways on the same nodes in one run:
//
//   - Ironic's own allocation API (what metalsmith uses): N concurrent
//     POST /v1/allocations {resource_class}, then the time until each allocation is
//     `active` (or `error`) and until all have settled;
//   - ingot's instances (with -ingot-url, or -ingot-bin to start ingot itself): N
//     concurrent POST /v1/instances, then the time until each instance's node is locked
//     in Ironic (its instance_uuid set) and until the instance is `active`.
//
// A round of N requests has N free nodes of its own resource class (RC-cN), and frees
// them again at its end. Progress is
// polled with one listing per tick (Ironic's allocations or nodes, ingot's instances),
// never one request per object, so that the measuring does not load the single-process
// Ironic; the tick is the resolution of every figure and is reported.
//
//	go run ./bench/instancebench -ironic-url http://127.0.0.1:16404 -c 1,24,100
//
// The report (markdown) goes to stdout, progress to stderr; -json also writes the figures.
// scripts/bench-instances.sh runs it with a fresh real Ironic and ingot built from the tree.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
)

type options struct {
	ironicURL     string
	group         string
	prefix        string
	resourceClass string
	concurrency   []int
	tick          time.Duration
	timeout       time.Duration
	rounds        int
	skipAlloc     bool
	jsonOut       string
	deployDelay   string
	fake          int
	fakeDeploy    time.Duration
	fakeTeardown  time.Duration
	fakeParallel  bool
	ingot         ingotOptions
}

func main() {
	var o options
	var conc string
	flag.StringVar(&o.ironicURL, "ironic-url", os.Getenv("INGOT_IRONIC_URL"), "the real Ironic (noauth; default $INGOT_IRONIC_URL)")
	flag.StringVar(&o.group, "group", "ingot", "conductor group of the enrolled nodes (served by the conductor)")
	flag.StringVar(&o.prefix, "prefix", "bench", "node name prefix")
	flag.StringVar(&o.resourceClass, "resource-class", "baremetal", "the nodes' resource class; a round of N requests uses class RC-cN")
	flag.StringVar(&conc, "c", "1,24,100", "comma-separated numbers of concurrent requests, one round each, on as many free nodes")
	flag.StringVar(&o.deployDelay, "deploy-delay", os.Getenv("DEPLOY_DELAY"), "the Ironic's [fake] deploy_delay, for the report (default $DEPLOY_DELAY)")
	flag.DurationVar(&o.tick, "tick", 50*time.Millisecond, "shortest time between two progress listings")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up on a round after this long")
	flag.IntVar(&o.rounds, "rounds", 1, "repeat every round this many times")
	flag.BoolVar(&o.skipAlloc, "skip-allocations", false, "measure ingot only")
	flag.StringVar(&o.jsonOut, "json", "", "also write the figures to this file as JSON")
	flag.IntVar(&o.fake, "fake", 0, "also run the scale run: this many concurrent creates on as many fake-Ironic nodes (needs -ingot-bin)")
	flag.DurationVar(&o.fakeDeploy, "fake-deploy", 2*time.Second, "the scale run's deploy time (fake-hardware: twice deploy_delay)")
	flag.DurationVar(&o.fakeTeardown, "fake-teardown", 2*time.Second, "the scale run's tear-down time")
	flag.BoolVar(&o.fakeParallel, "fake-parallel", false, "the scale run's fake serves requests side by side (default: one at a time, as the real Ironic)")
	o.ingot.register(flag.CommandLine)
	flag.Parse()
	for _, f := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "instancebench: bad -c %q\n", conc)
			os.Exit(2)
		}
		o.concurrency = append(o.concurrency, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "instancebench:", err)
		os.Exit(1)
	}
}

// Result holds the figures of one run. Durations are in seconds.
type Result struct {
	Ironic        string       `json:"ironic"`
	IronicVersion string       `json:"ironic_version"`
	DeployDelay   string       `json:"deploy_delay,omitempty"`
	Nodes         int          `json:"nodes"`
	TickS         float64      `json:"tick_s"`
	Started       time.Time    `json:"started"`
	Allocations   []Round      `json:"allocations"`
	Instances     []Round      `json:"instances"`
	Scale         *ScaleResult `json:"scale,omitempty"`
}

// Round is one batch of N concurrent requests.
type Round struct {
	Concurrency int `json:"concurrency"`
	// Requests: how long the POSTs themselves took.
	Requests Latencies `json:"requests"`
	// Locked (instances only): POST sent until the node's instance_uuid is set in Ironic.
	Locked *Latencies `json:"locked,omitempty"`
	// Active: POST sent until the allocation or instance is active.
	Active Latencies `json:"active"`
	// Settled: first POST until the last allocation or instance is active or in error.
	SettledS float64 `json:"settled_s"`
	// LockedAllS (instances only): first POST until the last node is locked.
	LockedAllS float64  `json:"locked_all_s,omitempty"`
	Errors     int      `json:"errors"`
	ErrorText  []string `json:"error_text,omitempty"`
	// DistinctNodes: nodes holding the active ones (must equal their number).
	DistinctNodes int `json:"distinct_nodes"`
	// Polls: listings made to follow the round.
	Polls int `json:"polls"`
}

// Latencies summarizes durations (nearest-rank percentiles), in seconds.
type Latencies struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_s"`
	P90   float64 `json:"p90_s"`
	Max   float64 `json:"max_s"`
}

func summarize(ds []time.Duration) Latencies {
	if len(ds) == 0 {
		return Latencies{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return Latencies{Count: len(s), P50: rank(0.5).Seconds(), P90: rank(0.9).Seconds(), Max: s[len(s)-1].Seconds()}
}

func run(ctx context.Context, o options) error {
	if o.fake > 0 && o.ironicURL == "" {
		return runScale(ctx, o, Result{Started: time.Now().UTC(), TickS: o.tick.Seconds()})
	}
	if o.ironicURL == "" {
		return errors.New("no Ironic: set -ironic-url or INGOT_IRONIC_URL")
	}
	client, err := ironic.New(ironic.Config{URL: o.ironicURL})
	if err != nil {
		return err
	}
	v, err := client.Negotiate(ctx)
	if err != nil {
		return err
	}
	res := Result{Ironic: o.ironicURL, IronicVersion: v.String(), TickS: o.tick.Seconds(),
		DeployDelay: o.deployDelay, Started: time.Now().UTC()}

	// Each round size has nodes of its own resource class, exactly as many as requests:
	// "N concurrent requests on N free nodes".
	var specs []ironictest.NodeSpec
	sizes := slices.Compact(slices.Sorted(slices.Values(o.concurrency)))
	for _, c := range sizes {
		for i := range c {
			specs = append(specs, ironictest.NodeSpec{NodeCreate: ironic.NodeCreate{
				Name: fmt.Sprintf("%s-c%d-%05d", o.prefix, c, i), Driver: "fake-hardware",
				ResourceClass: roundClass(o.resourceClass, c), ConductorGroup: o.group,
				Properties: map[string]any{"cpus": 64, "memory_mb": 524288, "local_gb": 1800, "cpu_arch": "x86_64"},
			}})
		}
	}
	res.Nodes = len(specs)
	progress("enrolling %d nodes: %d per round of N requests, resource class %s", len(specs), len(specs)/len(sizes), roundClass(o.resourceClass, 0))
	t0 := time.Now()
	uuids, err := ironictest.Enroll(ctx, client, specs, 16)
	if err != nil {
		return err
	}
	progress("enrolled in %v", time.Since(t0).Round(time.Millisecond))
	fleets := map[int]*fleet{}
	for i, sp := range specs {
		var c int
		fmt.Sscanf(strings.TrimPrefix(sp.Name, o.prefix+"-c"), "%d", &c)
		if fleets[c] == nil {
			fleets[c] = &fleet{ironic: client, resourceClass: sp.ResourceClass}
		}
		fleets[c].uuids = append(fleets[c].uuids, uuids[i])
	}

	var ing *ingotRunner
	if o.ingot.enabled() {
		if ing, err = o.ingot.start(ctx, o.ironicURL, o.group); err != nil {
			return err
		}
		defer ing.stop()
	}

	for _, c := range o.concurrency {
		for r := range o.rounds {
			if !o.skipAlloc {
				progress("allocation API: %d concurrent (round %d)", c, r+1)
				rd, err := allocationRound(ctx, client, fleets[c], c, o.tick, o.timeout)
				if err != nil {
					return fmt.Errorf("allocation round %d: %w", c, err)
				}
				progress("allocation API, %d: active p50 %.3fs max %.3fs, settled %.3fs, %d errors",
					c, rd.Active.P50, rd.Active.Max, rd.SettledS, rd.Errors)
				res.Allocations = append(res.Allocations, rd)
			}
			if ing != nil {
				progress("ingot: %d concurrent (round %d)", c, r+1)
				rd, err := instanceRound(ctx, ing, fleets[c], c, o.tick, o.timeout)
				if err != nil {
					return fmt.Errorf("ingot round %d: %w", c, err)
				}
				progress("ingot, %d: locked p50 %.3fs all %.3fs, active p50 %.3fs, settled %.3fs, %d errors",
					c, rd.Locked.P50, rd.LockedAllS, rd.Active.P50, rd.SettledS, rd.Errors)
				res.Instances = append(res.Instances, rd)
			}
		}
	}
	if ing != nil && o.ingot.bin != "" {
		ing.stop()
		ing = nil
	}
	if o.fake > 0 {
		return runScale(ctx, o, res)
	}
	report(os.Stdout, res)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runScale runs the scale run, then reports it with res.
func runScale(ctx context.Context, o options, res Result) error {
	if o.ingot.bin == "" {
		return errors.New("the scale run needs -ingot-bin")
	}
	if o.ingot.log != "" {
		o.ingot.log += ".scale"
	}
	sr, err := scaleRun(ctx, o.fake, o.fakeDeploy, o.fakeTeardown, !o.fakeParallel, o.ingot, 4*o.timeout)
	if err != nil {
		return fmt.Errorf("scale run: %w", err)
	}
	res.Scale = &sr
	if len(res.Allocations)+len(res.Instances) > 0 {
		report(os.Stdout, res)
		fmt.Println()
	}
	scaleReport(os.Stdout, sr)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		return os.WriteFile(o.jsonOut, append(b, '\n'), 0o644)
	}
	return nil
}

// roundClass is the resource class of the nodes of the rounds of c requests.
func roundClass(rc string, c int) string {
	if c == 0 {
		return rc + "-cN"
	}
	return fmt.Sprintf("%s-c%d", rc, c)
}

func progress(format string, args ...any) {
	slog.New(slog.NewTextHandler(os.Stderr, nil)).Info(fmt.Sprintf(format, args...))
}

func report(w io.Writer, r Result) {
	fmt.Fprintf(w, "Real Ironic %s (API %s), %d fake-hardware nodes, deploy_delay %q, progress listed every >= %.0f ms\n\n",
		r.Ironic, r.IronicVersion, r.Nodes, r.DeployDelay, r.TickS*1000)
	ms := func(s float64) string { return fmt.Sprintf("%.0f ms", s*1000) }
	if len(r.Allocations) > 0 {
		fmt.Fprintln(w, "Ironic's allocation API (POST /v1/allocations until `active`):")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| concurrent | POST p50 | active p50 | active p90 | active max | all settled | errors | distinct nodes |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, a := range r.Allocations {
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %d | %d |\n", a.Concurrency, ms(a.Requests.P50),
				ms(a.Active.P50), ms(a.Active.P90), ms(a.Active.Max), ms(a.SettledS), a.Errors, a.DistinctNodes)
		}
		for _, a := range r.Allocations {
			for _, e := range a.ErrorText {
				fmt.Fprintf(w, "\n- %d concurrent: %s", a.Concurrency, e)
			}
		}
		fmt.Fprintln(w)
	}
	if len(r.Instances) > 0 {
		fmt.Fprintln(w, "\ningot (POST /v1/instances until the node is locked in Ironic, and until `active`):")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| concurrent | POST p50 | locked p50 | locked max | all locked | active p50 | active max | all settled | errors | distinct nodes |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, a := range r.Instances {
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s | %d | %d |\n", a.Concurrency, ms(a.Requests.P50),
				ms(a.Locked.P50), ms(a.Locked.Max), ms(a.LockedAllS), ms(a.Active.P50), ms(a.Active.Max), ms(a.SettledS),
				a.Errors, a.DistinctNodes)
		}
		for _, a := range r.Instances {
			for _, e := range a.ErrorText {
				fmt.Fprintf(w, "\n- %d concurrent: %s", a.Concurrency, e)
			}
		}
		fmt.Fprintln(w)
	}
	if len(r.Allocations) > 0 && len(r.Instances) > 0 {
		fmt.Fprintln(w, "\nSpeed-up (allocation API time / ingot time; target at 24: lock >= 10x faster than the allocation API reaches active, zero errors):")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| concurrent | locked p50 vs active p50 | all locked vs all settled | ingot errors | allocation errors |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|")
		for _, a := range r.Allocations {
			for _, in := range r.Instances {
				if in.Concurrency != a.Concurrency {
					continue
				}
				fmt.Fprintf(w, "| %d | %s | %s | %d | %d |\n", a.Concurrency, ratio(a.Active.P50, in.Locked.P50),
					ratio(a.SettledS, in.LockedAllS), in.Errors, a.Errors)
				break
			}
		}
	}
}

func ratio(a, b float64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fx", a/b)
}
