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
	kmMiddleware    = "BenchmarkKeystonemiddlewareCached ns/op"
)

// series is one request kind over the rounds: every server's value per round (a rate or a
// median latency), and per round the Keystone figure against the noauth2 one for ingot (b
// against a) and for the real Placement (d against c): for throughputs the ratio of the
// rates, for latencies the difference of the medians.
type series struct {
	Kind   string               `json:"kind"`
	Values map[string][]float64 `json:"values"` // by server, one per round
	// Ingot is b/a or b-a per round; Placement is d/c or d-c.
	Ingot           []float64 `json:"ingot"`
	Placement       []float64 `json:"placement"`
	IngotMedian     float64   `json:"ingot_median"`
	PlacementMedian float64   `json:"placement_median"`
	// Latencies only: the median of the per-pair differences per round, and their median.
	IngotPairs           []float64 `json:"ingot_pairs,omitempty"`
	PlacementPairs       []float64 `json:"placement_pairs,omitempty"`
	IngotPairsMedian     float64   `json:"ingot_pairs_median,omitempty"`
	PlacementPairsMedian float64   `json:"placement_pairs_median,omitempty"`
}

// summary holds the figures the targets are about.
type summary struct {
	// Throughput ratios keystone/noauth2: per round the geometric mean over the request
	// kinds, and its median over the rounds; and the kind with the lowest median ratio.
	IngotThroughputRatio      float64   `json:"ingot_throughput_ratio"`
	IngotThroughputRounds     []float64 `json:"ingot_throughput_rounds"`
	IngotThroughputWorst      float64   `json:"ingot_throughput_worst"`
	IngotThroughputWorstKind  string    `json:"ingot_throughput_worst_kind"`
	PlacementThroughputRatio  float64   `json:"placement_throughput_ratio"`
	PlacementThroughputRounds []float64 `json:"placement_throughput_rounds"`
	ThroughputTargetMet       bool      `json:"throughput_target_met"`
	// Median auth overhead per cached request, one client (ms): the median over every pair
	// of requests of a round (all request kinds pooled) of keystone - noauth2, per round
	// and its median over the rounds.
	IngotOverheadMs         float64   `json:"ingot_overhead_ms"`
	PlacementOverheadMs     float64   `json:"placement_overhead_ms"`
	IngotOverheadRounds     []float64 `json:"ingot_overhead_rounds_ms"`
	PlacementOverheadRounds []float64 `json:"placement_overhead_rounds_ms"`
	OverheadRatio           float64   `json:"overhead_ratio"`
	OverheadTargetMet       bool      `json:"overhead_target_met"`
	// The same as differences of median latencies: the median over the request kinds of
	// each kind's median over the rounds of p50(keystone) - p50(noauth2).
	IngotMediansMs     float64 `json:"ingot_medians_ms"`
	PlacementMediansMs float64 `json:"placement_medians_ms"`
	MediansRatio       float64 `json:"medians_ratio"`
	MediansTargetMet   bool    `json:"medians_target_met"`
	// In-process figures (medians over the rounds), when the benchmarks ran: ingot's
	// middleware alone and keystonemiddleware alone per cached request, each in front of a
	// handler that does nothing, and their ratio; and ingot's whole Placement stack with
	// keystone minus with noauth2, per request.
	MiddlewareNs         float64 `json:"middleware_ns,omitempty"`
	KeystonemiddlewareNs float64 `json:"keystonemiddleware_ns,omitempty"`
	InProcessRatio       float64 `json:"in_process_ratio,omitempty"`
	InProcessTargetMet   bool    `json:"in_process_target_met"`
	StackOverheadNs      float64 `json:"stack_overhead_ns,omitempty"`
	MiddlewareRounds     int     `json:"middleware_rounds"`
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

// pooledKind is the paired phase's result that pools every request kind's pairs.
const pooledKind = "all"

// analyze computes the report from the rounds.
func analyze(rounds []*round) *report {
	rep := &report{Rounds: len(rounds)}
	var tpKinds, latKinds []string // every round's, in the order they first appear
	for _, r := range rounds {
		for _, p := range r.TP[pairIngot].PairedTP {
			if !slices.Contains(tpKinds, p.Name) {
				tpKinds = append(tpKinds, p.Name)
			}
		}
		for _, p := range r.Paired[pairIngot].Paired {
			if p.Name != pooledKind && !slices.Contains(latKinds, p.Name) {
				latKinds = append(latKinds, p.Name)
			}
		}
	}
	for _, k := range tpKinds {
		rep.Throughput = append(rep.Throughput, buildTP(rounds, k))
	}
	for _, k := range latKinds {
		rep.Latency = append(rep.Latency, buildLatency(rounds, k))
	}
	s := &rep.Summary
	if len(rep.Throughput) > 0 {
		for _, r := range rounds {
			i, p := roundRatios(r)
			if len(i) > 0 {
				s.IngotThroughputRounds = append(s.IngotThroughputRounds, geomean(i))
				s.PlacementThroughputRounds = append(s.PlacementThroughputRounds, geomean(p))
			}
		}
		s.IngotThroughputRatio, s.PlacementThroughputRatio = median(s.IngotThroughputRounds), median(s.PlacementThroughputRounds)
		s.IngotThroughputWorst = math.Inf(1)
		for _, x := range rep.Throughput {
			if x.IngotMedian < s.IngotThroughputWorst {
				s.IngotThroughputWorst, s.IngotThroughputWorstKind = x.IngotMedian, x.Kind
			}
		}
		s.ThroughputTargetMet = 1-s.IngotThroughputRatio < maxThroughputCost
	}
	pooled := buildLatency(rounds, pooledKind)
	s.IngotOverheadRounds, s.PlacementOverheadRounds = pooled.IngotPairs, pooled.PlacementPairs
	s.IngotOverheadMs, s.PlacementOverheadMs = pooled.IngotPairsMedian, pooled.PlacementPairsMedian
	s.OverheadRatio, s.OverheadTargetMet = overheadRatio(s.IngotOverheadMs, s.PlacementOverheadMs)
	if len(rep.Latency) > 0 {
		s.IngotMediansMs = median(column(rep.Latency, func(x series) float64 { return x.IngotMedian }))
		s.PlacementMediansMs = median(column(rep.Latency, func(x series) float64 { return x.PlacementMedian }))
		s.MediansRatio, s.MediansTargetMet = overheadRatio(s.IngotMediansMs, s.PlacementMediansMs)
	}
	rep.goFigures(rounds)
	rep.problems(rounds)
	return rep
}

// roundRatios returns a round's throughput ratios b/a and d/c of every request kind both
// pairs measured.
func roundRatios(r *round) (ingot, placement []float64) {
	for _, i := range r.TP[pairIngot].PairedTP {
		p, ok := r.TP[pairPlacement].pairedTP(i.Name)
		if ok && i.Server.PerSec > 0 && i.Pair.PerSec > 0 && p.Server.PerSec > 0 && p.Pair.PerSec > 0 {
			ingot = append(ingot, i.Pair.PerSec/i.Server.PerSec)
			placement = append(placement, p.Pair.PerSec/p.Server.PerSec)
		}
	}
	return ingot, placement
}

// geomean is the geometric mean of positive values (1 for none).
func geomean(vs []float64) float64 {
	sum := 0.0
	for _, v := range vs {
		sum += math.Log(v)
	}
	if len(vs) == 0 {
		return 1
	}
	return math.Exp(sum / float64(len(vs)))
}

// overheadRatio is ingot's overhead over keystonemiddleware's, and whether it is under the
// target; 0 and false when keystonemiddleware's is not positive (nothing to compare with).
func overheadRatio(ingot, km float64) (float64, bool) {
	if km <= 0 {
		return 0, false
	}
	return ingot / km, ingot/km < maxOverheadRatio
}

// buildTP collects one request kind of the pairedtp phase over the rounds.
func buildTP(rounds []*round, kind string) series {
	x := series{Kind: kind, Values: map[string][]float64{}}
	for _, r := range rounds {
		i, okI := r.TP[pairIngot].pairedTP(kind)
		p, okP := r.TP[pairPlacement].pairedTP(kind)
		x.Values[ingotNoauth] = append(x.Values[ingotNoauth], i.Server.PerSec)
		x.Values[ingotKeystone] = append(x.Values[ingotKeystone], i.Pair.PerSec)
		x.Values[placementNoauth] = append(x.Values[placementNoauth], p.Server.PerSec)
		x.Values[placementKS] = append(x.Values[placementKS], p.Pair.PerSec)
		if !okI || !okP || i.Server.PerSec == 0 || p.Server.PerSec == 0 {
			continue // no rates measured: the round's problems say why
		}
		x.Ingot = append(x.Ingot, i.Pair.PerSec/i.Server.PerSec)
		x.Placement = append(x.Placement, p.Pair.PerSec/p.Server.PerSec)
	}
	x.IngotMedian, x.PlacementMedian = median(x.Ingot), median(x.Placement)
	return x
}

// buildLatency collects one request kind of the paired phase over the rounds: p50 of a and
// b from the ingot file, of c and d from the placement file.
func buildLatency(rounds []*round, kind string) series {
	x := series{Kind: kind, Values: map[string][]float64{}}
	for _, r := range rounds {
		i, okI := r.Paired[pairIngot].paired(kind)
		p, okP := r.Paired[pairPlacement].paired(kind)
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
	s.KeystonemiddlewareNs = rep.Go[kmMiddleware]
	if s.MiddlewareNs > 0 {
		s.InProcessRatio, s.InProcessTargetMet = overheadRatio(s.MiddlewareNs, s.KeystonemiddlewareNs)
	}
}

// problems lists every failed phase and unexpected answer, which make a figure suspect.
func (rep *report) problems(rounds []*round) {
	for _, r := range rounds {
		files := map[string]*benchResult{}
		for _, s := range []string{pairIngot, pairPlacement} {
			files[s+".paired"], files[s+".pairedtp"] = r.Paired[s], r.TP[s]
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
