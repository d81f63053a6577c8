package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// markdown renders the report.
func (rep *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	s := rep.Summary
	p("# %s\n\n", rep.Title)
	p("%d rounds; every round runs the same requests against (a) ingot --auth noauth2, (b) ingot --auth keystone,\n", rep.Rounds)
	p("(c) the real Placement with noauth2 and (d) the real Placement behind keystonemiddleware, one Keystone token\n")
	p("reused (cached). Each figure pairs the servers within a round, then takes the median over the rounds;\n")
	p("the summary is the median over the request kinds.\n\n")

	p("## Summary\n\n")
	p("| figure | ingot | keystonemiddleware (real Placement) | target |\n| --- | --- | --- | --- |\n")
	p("| throughput with Keystone / with noauth2, concurrent clients | %s (cost %s%%; lowest %s, %s) %s | %s | cost < %.0f%% |\n",
		f3(s.IngotThroughputRatio), pct(1-s.IngotThroughputRatio), f3(s.IngotThroughputWorst), s.IngotThroughputWorstKind,
		mark(s.ThroughputTargetMet), f3(s.PlacementThroughputRatio), maxThroughputCost*100)
	p("| median auth overhead per cached request, one client (p50 with Keystone - p50 with noauth2) | %s ms | %s ms | |\n",
		f3(s.IngotOverheadMs), f3(s.PlacementOverheadMs))
	p("| ingot's overhead / keystonemiddleware's | %s %s | | < 1/20 = %.2f |\n", f3(s.OverheadRatio), okIf(s.PlacementOverheadMs > 0, s.OverheadTargetMet), maxOverheadRatio)
	p("| the same from the median of the per-pair differences | %s ms = %s of %s ms %s | %s ms | < 1/20 |\n",
		f3(s.IngotPairsMs), f3(s.PairsRatio), f3(s.PlacementPairsMs), okIf(s.PlacementPairsMs > 0, s.PairsRatio < maxOverheadRatio), f3(s.PlacementPairsMs))
	if s.MiddlewareRounds > 0 {
		known := s.PlacementOverheadMs > 0
		p("| in process: ingot's middleware per cached request (BenchmarkMiddlewareCached) | %s µs = %s of keystonemiddleware's %s | | < 1/20 |\n",
			f3(s.MiddlewareNs/1000), f4(s.MiddlewareRatio), okIf(known, s.MiddlewareRatio < maxOverheadRatio))
		p("| in process: whole Placement stack, keystone - noauth2 per request (BenchmarkPlacementAuth) | %s µs = %s of keystonemiddleware's %s | | < 1/20 |\n",
			f3(s.StackOverheadNs/1000), f4(s.StackRatio), okIf(known, s.StackRatio < maxOverheadRatio))
	}
	p("\nThe overhead per round (median over the request kinds), which shows the noise: ingot %s ms;\n",
		list(s.IngotOverheadRounds, f3))
	p("keystonemiddleware %s ms. One client alternates request by request between a and b (c and d), so\n",
		list(s.PlacementOverheadRounds, f3))
	p("load that comes and goes hits both sides alike; the in-process benchmarks measure ingot's middleware\n")
	p("without the network and the client.\n\n")

	p("## Throughput, concurrent clients (medians over the rounds)\n\n")
	p("| request kind | a: ingot noauth2 | b: ingot keystone | b/a | c: placement noauth2 | d: placement keystone | d/c |\n")
	p("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, x := range rep.Throughput {
		p("| %s (%s) | %s | %s | %s | %s | %s | %s |\n", x.Metric, x.Unit,
			g3(median(x.Values[ingotNoauth])), g3(median(x.Values[ingotKeystone])), f3(x.IngotMedian),
			g3(median(x.Values[placementNoauth])), g3(median(x.Values[placementKS])), f3(x.PlacementMedian))
	}
	p("\n## Median latency, one client alternating between the servers (ms, medians over the rounds)\n\n")
	p("| request kind | a: ingot noauth2 | b: ingot keystone | b-a | median of pair differences | c: placement noauth2 | d: placement keystone | d-c | median of pair differences |\n")
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, x := range rep.Latency {
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", x.Metric,
			f3(median(x.Values[ingotNoauth])), f3(median(x.Values[ingotKeystone])), f3(x.IngotMedian), f3(x.IngotPairsMedian),
			f3(median(x.Values[placementNoauth])), f3(median(x.Values[placementKS])), f3(x.PlacementMedian), f3(x.PlacementPairsMedian))
	}
	p("\n## Every round\n\n")
	for _, x := range rep.Throughput {
		p("- %s: b/a %s; d/c %s; a %s; b %s; c %s; d %s\n", x.Metric, list(x.Ingot, f3), list(x.Placement, f3),
			list(x.Values[ingotNoauth], g3), list(x.Values[ingotKeystone], g3),
			list(x.Values[placementNoauth], g3), list(x.Values[placementKS], g3))
	}
	for _, x := range rep.Latency {
		p("- %s: b-a %s ms (pairs %s); d-c %s ms (pairs %s)\n", x.Metric, list(x.Ingot, f3), list(x.IngotPairs, f3),
			list(x.Placement, f3), list(x.PlacementPairs, f3))
	}
	for i, g := range rep.GoRounds {
		p("- Go benchmarks, run %d: middleware %s ns/op; stack noauth2 %s ns/req, keystone %s ns/req\n", i+1,
			g3(g[goMiddleware]), g3(g[goStackNoauth]), g3(g[goStackKeystone]))
	}
	if len(rep.Problems) > 0 {
		p("\n## Problems (figures involving them are suspect)\n\n")
		for _, pr := range rep.Problems {
			p("- %s\n", pr)
		}
	}
	return b.String()
}

// okIf is mark(ok) when the reference is known (positive), else says there is none.
func okIf(known, ok bool) string {
	if !known {
		return "(keystonemiddleware's overhead not positive: no ratio)"
	}
	return mark(ok)
}

// mark is ✓ or ✗.
func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func f3(v float64) string  { return strconv.FormatFloat(v, 'f', 3, 64) }
func f4(v float64) string  { return strconv.FormatFloat(v, 'f', 4, 64) }
func pct(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) }

// g3 shows three significant digits, without an exponent below a million.
func g3(v float64) string {
	if v == 0 || math.Abs(v) >= 1000 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', max(0, 2-int(math.Floor(math.Log10(math.Abs(v))))), 64)
}

// list joins values formatted by f with ", ".
func list(vs []float64, f func(float64) string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = f(v)
	}
	return strings.Join(out, ", ")
}
