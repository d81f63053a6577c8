package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
)

// Targets of issue 12.
const (
	// maxThroughputCost: Keystone may cost ingot less than 5% of its noauth2 throughput.
	maxThroughputCost = 0.05
	// maxOverheadRatio: ingot's median auth overhead per cached request must be under 1/20
	// of keystonemiddleware's.
	maxOverheadRatio = 1.0 / 20
)

// The Go benchmark figures the report reads (see internal/keystone/bench_test.go).
const (
	goMiddleware    = "BenchmarkMiddlewareCached ns/op"
	goStackNoauth   = "BenchmarkPlacementAuth noauth2-ns/req"
	goStackKeystone = "BenchmarkPlacementAuth keystone-ns/req"
)

// series is one request kind over the rounds: every server's value per round, and per round
// the Keystone figure against the noauth2 one (a ratio for throughputs, a difference for
// latencies) for ingot and for the real Placement.
type series struct {
	Metric string               `json:"metric"`
	Unit   string               `json:"unit"`
	Values map[string][]float64 `json:"values"` // by server, one per round
	// Ingot is b/a (throughput) or b-a (latency) per round; Placement is d/c or d-c.
	Ingot           []float64 `json:"ingot"`
	Placement       []float64 `json:"placement"`
	IngotMedian     float64   `json:"ingot_median"`
	PlacementMedian float64   `json:"placement_median"`
	// For latencies from the paired phase: the median of the per-pair differences b-a and
	// d-c, per round and their median over the rounds.
	IngotPairs           []float64 `json:"ingot_pairs,omitempty"`
	PlacementPairs       []float64 `json:"placement_pairs,omitempty"`
	IngotPairsMedian     float64   `json:"ingot_pairs_median,omitempty"`
	PlacementPairsMedian float64   `json:"placement_pairs_median,omitempty"`
}

// summary holds the figures the targets are about.
type summary struct {
	// Throughput ratios keystone/noauth2: the median over the request kinds of each kind's
	// median over the rounds, and the lowest kind.
	IngotThroughputRatio     float64 `json:"ingot_throughput_ratio"`
	IngotThroughputWorst     float64 `json:"ingot_throughput_worst"`
	IngotThroughputWorstKind string  `json:"ingot_throughput_worst_kind"`
	PlacementThroughputRatio float64 `json:"placement_throughput_ratio"`
	ThroughputTargetMet      bool    `json:"throughput_target_met"`
	// Median auth overhead per cached request, one client (ms): the median over the
	// request kinds of each kind's median over the rounds of the p50 difference.
	IngotOverheadMs float64 `json:"ingot_overhead_ms"`
	// IngotOverheadRounds and PlacementOverheadRounds are each round's median over the
	// request kinds: their spread shows the noise.
	IngotOverheadRounds     []float64 `json:"ingot_overhead_rounds_ms"`
	PlacementOverheadRounds []float64 `json:"placement_overhead_rounds_ms"`
	PlacementOverheadMs     float64   `json:"placement_overhead_ms"`
	OverheadRatio           float64   `json:"overhead_ratio"`
	OverheadTargetMet       bool      `json:"overhead_target_met"`
	// The same from the median of the per-pair differences.
	IngotPairsMs     float64 `json:"ingot_pairs_ms"`
	PlacementPairsMs float64 `json:"placement_pairs_ms"`
	PairsRatio       float64 `json:"pairs_ratio"`
	// In-process figures of ingot's middleware (medians over the rounds), when the Go
	// benchmarks ran: the middleware alone, and the whole Placement stack with keystone
	// minus with noauth2, per request.
	MiddlewareNs      float64 `json:"middleware_ns,omitempty"`
	StackOverheadNs   float64 `json:"stack_overhead_ns,omitempty"`
	MiddlewareRatio   float64 `json:"middleware_ratio,omitempty"`
	StackRatio        float64 `json:"stack_ratio,omitempty"`
	MiddlewareRounds  int     `json:"middleware_rounds"`
	InProcessTargetOK bool    `json:"in_process_target_met"`
}

// report is the whole analysis.
type report struct {
	Title      string               `json:"title"`
	Rounds     int                  `json:"rounds"`
	Summary    summary              `json:"summary"`
	Throughput []series             `json:"throughput"`
	Latency    []series             `json:"latency"`
	Go         map[string]float64   `json:"go_medians,omitempty"`
	GoRounds   []map[string]float64 `json:"go_rounds,omitempty"`
	Problems   []string             `json:"problems,omitempty"`
}

// analyze computes the report from the rounds.
func analyze(rounds []*round) *report {
	rep := &report{Rounds: len(rounds)}
	first := rounds[0]
	for _, m := range first.TP[ingotNoauth].Metrics {
		if m.Kind == "throughput" {
			rep.Throughput = append(rep.Throughput, build(rounds, m, func(r *round) map[string]*benchResult { return r.TP }, ratio))
		}
	}
	for _, p := range first.Paired[pairIngot].Paired {
		rep.Latency = append(rep.Latency, buildPaired(rounds, p.Name))
	}
	s := &rep.Summary
	if len(rep.Throughput) > 0 {
		s.IngotThroughputRatio = median(column(rep.Throughput, func(x series) float64 { return x.IngotMedian }))
		s.PlacementThroughputRatio = median(column(rep.Throughput, func(x series) float64 { return x.PlacementMedian }))
		s.IngotThroughputWorst = math.Inf(1)
		for _, x := range rep.Throughput {
			if x.IngotMedian < s.IngotThroughputWorst {
				s.IngotThroughputWorst, s.IngotThroughputWorstKind = x.IngotMedian, x.Metric
			}
		}
		s.ThroughputTargetMet = 1-s.IngotThroughputRatio < maxThroughputCost
	}
	if len(rep.Latency) > 0 {
		s.IngotOverheadMs = median(column(rep.Latency, func(x series) float64 { return x.IngotMedian }))
		s.PlacementOverheadMs = median(column(rep.Latency, func(x series) float64 { return x.PlacementMedian }))
		for i := range len(rep.Latency[0].Ingot) {
			s.IngotOverheadRounds = append(s.IngotOverheadRounds, median(column(rep.Latency, func(x series) float64 { return at(x.Ingot, i) })))
			s.PlacementOverheadRounds = append(s.PlacementOverheadRounds, median(column(rep.Latency, func(x series) float64 { return at(x.Placement, i) })))
		}
		if s.PlacementOverheadMs > 0 {
			s.OverheadRatio = s.IngotOverheadMs / s.PlacementOverheadMs
			s.OverheadTargetMet = s.OverheadRatio < maxOverheadRatio
		}
		s.IngotPairsMs = median(column(rep.Latency, func(x series) float64 { return x.IngotPairsMedian }))
		s.PlacementPairsMs = median(column(rep.Latency, func(x series) float64 { return x.PlacementPairsMedian }))
		if s.PlacementPairsMs > 0 {
			s.PairsRatio = s.IngotPairsMs / s.PlacementPairsMs
		}
	}
	rep.goFigures(rounds)
	rep.problems(rounds)
	return rep
}

// build collects one metric over the rounds; cmp turns (noauth2, keystone) into the
// per-round figure.
func build(rounds []*round, m metric, files func(*round) map[string]*benchResult, cmp func(noauth, ks float64) float64) series {
	x := series{Metric: m.Name, Unit: m.Unit, Values: map[string][]float64{}}
	for _, r := range rounds {
		v := map[string]float64{}
		ok := true
		for _, s := range servers {
			val, found := files(r)[s].value(m.Name)
			ok = ok && found
			v[s] = val
			x.Values[s] = append(x.Values[s], val)
		}
		if !ok || v[ingotNoauth] == 0 || v[ingotKeystone] == 0 || v[placementNoauth] == 0 || v[placementKS] == 0 {
			continue // a server lacks it (a failed phase): the round's problems say why
		}
		x.Ingot = append(x.Ingot, cmp(v[ingotNoauth], v[ingotKeystone]))
		x.Placement = append(x.Placement, cmp(v[placementNoauth], v[placementKS]))
	}
	x.IngotMedian, x.PlacementMedian = median(x.Ingot), median(x.Placement)
	return x
}

// buildPaired collects one request kind of the paired phase over the rounds: p50 of a and
// b from the ingot file, of c and d from the placement file.
func buildPaired(rounds []*round, name string) series {
	x := series{Metric: name, Unit: "ms", Values: map[string][]float64{}}
	for _, r := range rounds {
		i, okI := r.Paired[pairIngot].paired(name)
		p, okP := r.Paired[pairPlacement].paired(name)
		x.Values[ingotNoauth] = append(x.Values[ingotNoauth], i.Server.P50ms)
		x.Values[ingotKeystone] = append(x.Values[ingotKeystone], i.Pair.P50ms)
		x.Values[placementNoauth] = append(x.Values[placementNoauth], p.Server.P50ms)
		x.Values[placementKS] = append(x.Values[placementKS], p.Pair.P50ms)
		if !okI || !okP || i.Diff.N == 0 || p.Diff.N == 0 {
			continue // no pairs measured: the round's problems say why
		}
		x.Ingot = append(x.Ingot, i.Pair.P50ms-i.Server.P50ms)
		x.Placement = append(x.Placement, p.Pair.P50ms-p.Server.P50ms)
		x.IngotPairs = append(x.IngotPairs, i.Diff.P50ms)
		x.PlacementPairs = append(x.PlacementPairs, p.Diff.P50ms)
	}
	x.IngotMedian, x.PlacementMedian = median(x.Ingot), median(x.Placement)
	x.IngotPairsMedian, x.PlacementPairsMedian = median(x.IngotPairs), median(x.PlacementPairs)
	return x
}

func ratio(noauth, ks float64) float64 { return ks / noauth }

func diff(noauth, ks float64) float64 { return ks - noauth }

// goFigures takes the in-process benchmark figures' medians over the rounds that ran them.
func (rep *report) goFigures(rounds []*round) {
	vals := map[string][]float64{}
	var stack []float64
	for _, r := range rounds {
		if len(r.Go) == 0 {
			continue
		}
		rep.GoRounds = append(rep.GoRounds, r.Go)
		for k, v := range r.Go {
			vals[k] = append(vals[k], v)
		}
		n, okN := r.Go[goStackNoauth]
		k, okK := r.Go[goStackKeystone]
		if okN && okK {
			stack = append(stack, k-n)
		}
	}
	if len(vals) == 0 {
		return
	}
	rep.Go = map[string]float64{}
	for k, v := range vals {
		rep.Go[k] = median(v)
	}
	s := &rep.Summary
	s.MiddlewareRounds = len(vals[goMiddleware])
	s.MiddlewareNs = rep.Go[goMiddleware]
	s.StackOverheadNs = median(stack)
	if s.PlacementOverheadMs > 0 {
		s.MiddlewareRatio = s.MiddlewareNs / (s.PlacementOverheadMs * 1e6)
		s.StackRatio = s.StackOverheadNs / (s.PlacementOverheadMs * 1e6)
		s.InProcessTargetOK = s.MiddlewareNs > 0 && s.MiddlewareRatio < maxOverheadRatio &&
			(len(stack) == 0 || s.StackRatio < maxOverheadRatio)
	}
}

// problems lists every failed phase and unexpected answer, which make a figure suspect.
func (rep *report) problems(rounds []*round) {
	for _, r := range rounds {
		files := map[string]*benchResult{pairIngot + ".paired": r.Paired[pairIngot], pairPlacement + ".paired": r.Paired[pairPlacement]}
		for _, s := range servers {
			files[s+".tp"] = r.TP[s]
		}
		for name, res := range files {
			for _, e := range res.PhaseErrors {
				rep.Problems = append(rep.Problems, fmt.Sprintf("round %d %s: phase failed: %s", r.K, name, e))
			}
			for e, n := range res.Errors {
				rep.Problems = append(rep.Problems, fmt.Sprintf("round %d %s: %d x %s", r.K, name, n, e))
			}
		}
	}
	slices.Sort(rep.Problems)
}

// at returns vs[i], or 0 past its end.
func at(vs []float64, i int) float64 {
	if i < len(vs) {
		return vs[i]
	}
	return 0
}

// column extracts one value of every series.
func column(xs []series, f func(series) float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

// median returns the median of vs (the mean of the two middle values for an even count);
// 0 for none.
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// writeJSON writes the report indented to path.
func writeJSON(path string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
