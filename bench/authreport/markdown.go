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
	p("%d rounds on four servers holding the same data set: (a) ingot --auth noauth2, (b) ingot --auth keystone,\n", rep.Rounds)
	p("(c) the real Placement with noauth2, (d) the real Placement behind keystonemiddleware; b and d get one\n")
	p("Keystone token, reused (cached). In every round one client alternates request by request between a and\n")
	p("b (then c and d) for the latencies, and the throughput alternates time slices between them, so that\n")
	p("load that comes and goes on the machine hits both sides alike. Each figure is the median over the rounds.\n\n")

	p("## Summary\n\n")
	p("| figure | ingot | keystonemiddleware (real Placement) | target |\n| --- | --- | --- | --- |\n")
	p("| throughput with Keystone / with noauth2, concurrent clients (geometric mean over the request kinds) | %s (cost %s%%; lowest kind %s, %s) %s | %s | ingot's cost < %.0f%% |\n",
		f3(s.IngotThroughputRatio), pct(1-s.IngotThroughputRatio), f3(s.IngotThroughputWorst), s.IngotThroughputWorstKind,
		mark(s.ThroughputTargetMet), f3(s.PlacementThroughputRatio), maxThroughputCost*100)
	p("| median auth overhead per cached request, one client: median of (Keystone - noauth2) over all pairs of requests | %s ms | %s ms | |\n",
		f3(s.IngotOverheadMs), f3(s.PlacementOverheadMs))
	p("| ingot's overhead / keystonemiddleware's | %s %s | | < 1/20 = %.2f |\n", f3(s.OverheadRatio), okIf(s.PlacementOverheadMs > 0, s.OverheadTargetMet), maxOverheadRatio)
	p("| the same as p50(Keystone) - p50(noauth2), median over the request kinds | %s ms = %s of keystonemiddleware's %s | %s ms | < 1/20 |\n",
		f3(s.IngotMediansMs), f3(s.MediansRatio), okIf(s.PlacementMediansMs > 0, s.MediansTargetMet), f3(s.PlacementMediansMs))
	if s.MiddlewareRounds > 0 {
		p("| in process, per cached request: the middleware alone in front of a handler that does nothing (ingot: BenchmarkMiddlewareCached; keystonemiddleware: scripts/keystone/bench-middleware.py) | %s µs | %s µs | |\n",
			f3(s.MiddlewareNs/1000), f3(s.KeystonemiddlewareNs/1000))
		p("| in process: ingot's / keystonemiddleware's | %s %s | | < 1/20 |\n", f4(s.InProcessRatio),
			okIf(s.KeystonemiddlewareNs > 0, s.InProcessTargetMet))
		p("| in process: ingot's whole Placement stack, keystone - noauth2 per request (BenchmarkPlacementAuth) | %s µs | | |\n",
			f3(s.StackOverheadNs/1000))
	}
	p("\nPer round: throughput ratio ingot %s, keystonemiddleware %s; overhead (all pairs of the round pooled)\n",
		list(s.IngotThroughputRounds, f3), list(s.PlacementThroughputRounds, f3))
	p("ingot %s ms, keystonemiddleware %s ms.\n", list(s.IngotOverheadRounds, f3), list(s.PlacementOverheadRounds, f3))
	p("Over HTTP each figure carries the noise of the whole request (Placement's requests take tens of\n")
	p("milliseconds on a loaded machine); the in-process benchmarks time the two middlewares alone, alternated\n")
	p("call by call with the bare handler, without the network, the client or the application.\n\n")

	p("## Throughput, concurrent clients in alternating time slices (medians over the rounds)\n\n")
	p("| request kind | a: ingot noauth2 (/s) | b: ingot keystone (/s) | b/a | c: placement noauth2 (/s) | d: placement keystone (/s) | d/c |\n")
	p("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, x := range rep.Throughput {
		p("| %s | %s | %s | %s | %s | %s | %s |\n", x.Kind,
			g3(median(x.Values[ingotNoauth])), g3(median(x.Values[ingotKeystone])), f3(x.IngotMedian),
			g3(median(x.Values[placementNoauth])), g3(median(x.Values[placementKS])), f3(x.PlacementMedian))
	}
	p("\n## Median latency, one client alternating between the servers (ms, medians over the rounds)\n\n")
	p("| request kind | a: ingot noauth2 | b: ingot keystone | b-a | median of pair differences | c: placement noauth2 | d: placement keystone | d-c | median of pair differences |\n")
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, x := range rep.Latency {
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", x.Kind,
			f3(median(x.Values[ingotNoauth])), f3(median(x.Values[ingotKeystone])), f3(x.IngotMedian), f3(x.IngotPairsMedian),
			f3(median(x.Values[placementNoauth])), f3(median(x.Values[placementKS])), f3(x.PlacementMedian), f3(x.PlacementPairsMedian))
	}

	p("\n## Every round\n\n")
	for _, x := range rep.Throughput {
		p("- %s: b/a %s; d/c %s; a %s; b %s; c %s; d %s\n", x.Kind, list(x.Ingot, f3), list(x.Placement, f3),
			list(x.Values[ingotNoauth], g3), list(x.Values[ingotKeystone], g3),
			list(x.Values[placementNoauth], g3), list(x.Values[placementKS], g3))
	}
	for _, x := range rep.Latency {
		p("- %s: b-a %s ms (pairs %s); d-c %s ms (pairs %s)\n", x.Kind, list(x.Ingot, f3), list(x.IngotPairs, f3),
			list(x.Placement, f3), list(x.PlacementPairs, f3))
	}
	for i, g := range rep.GoRounds {
		p("- in-process benchmarks, run %d: ingot's middleware %s ns/op; keystonemiddleware %s ns/op; ingot's stack noauth2 %s ns/req, keystone %s ns/req\n", i+1,
			g3(g[goMiddleware]), g3(g[kmMiddleware]), g3(g[goStackNoauth]), g3(g[goStackKeystone]))
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
