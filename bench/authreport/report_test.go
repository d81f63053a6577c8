package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeJSONFile writes v as JSON to dir/name.
func writeJSONFile(t *testing.T, dir, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pairedKind is one request kind of a paired file (p50s in ms).
type pairedKind struct {
	name                 string
	server, pair, diffMs float64
}

func pairedFile(kinds ...pairedKind) map[string]any {
	var ps []map[string]any
	for _, k := range kinds {
		ps = append(ps, map[string]any{"name": k.name, "server": map[string]any{"n": 50, "p50_ms": k.server},
			"pair": map[string]any{"n": 50, "p50_ms": k.pair}, "diff": map[string]any{"n": 50, "p50_ms": k.diffMs}})
	}
	return map[string]any{"paired": ps}
}

// tpKind is one request kind of a pairedtp file.
type tpKind struct {
	name         string
	server, pair float64
}

func tpFile(kinds ...tpKind) map[string]any {
	var ps []map[string]any
	for _, k := range kinds {
		ps = append(ps, map[string]any{"name": k.name, "server": map[string]any{"per_s": k.server},
			"pair": map[string]any{"per_s": k.pair}, "ratio": k.pair / k.server})
	}
	return map[string]any{"pairedtp": ps}
}

// fixture writes three rounds in which Keystone costs ingot 2% of its throughput on the
// candidate query and 1% on writes (round 2 is noisy: 10% and 5%), and 0.02 ms per request
// (round 3: 0.1 ms), the pooled pairs 0.015 ms (round 3: 0.05 ms); it costs the real
// Placement 20% (writes 10%) and 2 ms (pooled pairs: 1.5 ms). The median of the per-kind
// pair differences is 90% of the difference of the medians.
func fixture(t *testing.T) string {
	dir := t.TempDir()
	for k := 1; k <= 3; k++ {
		cost, extra, pooled := 0.02, 0.0, 0.015
		if k == 2 {
			cost = 0.10
		}
		if k == 3 {
			extra, pooled = 0.08, 0.05
		}
		base := float64(1000 + 100*k) // the machine's load changes from round to round
		writeJSONFile(t, dir, fmt.Sprintf("ingot.r%d.pairedtp.json", k), tpFile(
			tpKind{"plain.limit10", base, base * (1 - cost)}, tpKind{"writes", 2 * base, 2 * base * (1 - cost/2)}))
		writeJSONFile(t, dir, fmt.Sprintf("placement.r%d.pairedtp.json", k), tpFile(
			tpKind{"plain.limit10", base / 50, base / 50 * 0.8}, tpKind{"writes", base / 25, base / 25 * 0.9}))
		for _, pr := range []struct {
			name             string
			ms, over, pooled float64
		}{{pairIngot, 1, 0.02 + extra, pooled}, {pairPlacement, 20, 2, 1.5}} {
			var kinds []pairedKind
			for _, kind := range []struct {
				name  string
				scale float64
			}{{"plain.limit10", 1}, {"writes.put", 2}, {"writes.delete", 2}} {
				kinds = append(kinds, pairedKind{kind.name, kind.scale * pr.ms, kind.scale*pr.ms + pr.over, 0.9 * pr.over})
			}
			kinds = append(kinds, pairedKind{pooledKind, pr.ms, pr.ms + pr.over, pr.pooled})
			writeJSONFile(t, dir, fmt.Sprintf("%s.r%d.paired.json", pr.name, k), pairedFile(kinds...))
		}
		bench := fmt.Sprintf(`goos: linux
BenchmarkPlacementAuth-2   	   20000	     90000 ns/op	     40000 keystone-ns/req	         1.0%d keystone/noauth2	     %d noauth2-ns/req
BenchmarkMiddlewareCached-2   	  500000	      %d ns/op	    1200 B/op	      12 allocs/op
PASS
`, k, 39000-1000*k, 1500+100*k)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gobench.r%d.txt", k)), []byte(bench), 0o644); err != nil {
			t.Fatal(err)
		}
		km := fmt.Sprintf("BenchmarkKeystonemiddlewareCached 20000 %d ns/op %d wrapped-ns/op 400 app-ns/op\n", 80000+10000*k, 80400+10000*k)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("kmbench.r%d.txt", k)), []byte(km), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestAnalyze(t *testing.T) {
	rounds, err := loadRounds(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	rep := analyze(rounds)
	s := rep.Summary
	if rep.Rounds != 3 || len(rep.Throughput) != 2 || len(rep.Latency) != 3 {
		t.Fatalf("rounds %d, throughput %d kinds, latency %d kinds", rep.Rounds, len(rep.Throughput), len(rep.Latency))
	}
	// Candidates: per-round ratios 0.98, 0.90, 0.98 -> 0.98; writes 0.99, 0.95, 0.99 -> 0.99.
	// The summary: per round the geometric mean of the kinds, sqrt(0.98*0.99) (round 2:
	// sqrt(0.90*0.95)), and its median.
	if q := rep.Throughput[0]; q.Kind != "plain.limit10" || !near(q.IngotMedian, 0.98) || !near(q.PlacementMedian, 0.8) {
		t.Errorf("candidates throughput = %+v", q)
	}
	if !near(s.IngotThroughputRatio, math.Sqrt(0.98*0.99)) || !near(s.IngotThroughputRounds[1], math.Sqrt(0.90*0.95)) ||
		!near(s.IngotThroughputWorst, 0.98) || s.IngotThroughputWorstKind != "plain.limit10" || !s.ThroughputTargetMet ||
		!near(s.PlacementThroughputRatio, math.Sqrt(0.8*0.9)) {
		t.Errorf("throughput summary = %+v", s)
	}
	// Pooled pairs: ingot 0.015, 0.015, 0.05 -> 0.015 ms; Placement 1.5 ms.
	if !near(s.IngotOverheadMs, 0.015) || !near(s.PlacementOverheadMs, 1.5) || !near(s.OverheadRatio, 0.01) || !s.OverheadTargetMet {
		t.Errorf("overhead summary = %+v", s)
	}
	if len(s.IngotOverheadRounds) != 3 || !near(s.IngotOverheadRounds[2], 0.05) {
		t.Errorf("overhead by round = %v", s.IngotOverheadRounds)
	}
	// Differences of medians: ingot 0.02, 0.02, 0.10 -> 0.02 ms on every kind; Placement 2 ms.
	if !near(s.IngotMediansMs, 0.02) || !near(s.PlacementMediansMs, 2) || !near(s.MediansRatio, 0.01) || !s.MediansTargetMet {
		t.Errorf("medians summary = %+v", s)
	}
	if x := rep.Latency[1]; x.Kind != "writes.put" || !near(x.IngotPairsMedian, 0.018) || !near(x.PlacementPairsMedian, 1.8) {
		t.Errorf("writes.put = %+v", x)
	}
	// In process: ingot's middleware 1600, 1700, 1800 ns -> 1700; keystonemiddleware 90, 100,
	// 110 µs -> 100 µs; stack 40000 - (38000, 37000, 36000) -> 3000 ns.
	if s.MiddlewareRounds != 3 || !near(s.MiddlewareNs, 1700) || !near(s.KeystonemiddlewareNs, 100000) ||
		!near(s.InProcessRatio, 0.017) || !s.InProcessTargetMet || !near(s.StackOverheadNs, 3000) {
		t.Errorf("in-process summary = %+v", s)
	}
	if len(rep.Problems) != 0 {
		t.Errorf("problems = %v", rep.Problems)
	}
}

func TestTargetsMissed(t *testing.T) {
	dir := fixture(t)
	// Keystone now costs ingot 10% and 0.5 ms per request in rounds 1 and 3 too.
	for _, k := range []int{1, 3} {
		writeJSONFile(t, dir, fmt.Sprintf("ingot.r%d.pairedtp.json", k),
			tpFile(tpKind{"plain.limit10", 1000, 900}, tpKind{"writes", 2000, 1800}))
		writeJSONFile(t, dir, fmt.Sprintf("ingot.r%d.paired.json", k), pairedFile(pairedKind{"plain.limit10", 1, 1.5, 0.5},
			pairedKind{"writes.put", 2, 2.5, 0.5}, pairedKind{"writes.delete", 2, 2.5, 0.5}, pairedKind{pooledKind, 1, 1.5, 0.5}))
	}
	rounds, err := loadRounds(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep := analyze(rounds)
	s := rep.Summary
	if s.ThroughputTargetMet || s.OverheadTargetMet || s.MediansTargetMet || !near(s.IngotOverheadMs, 0.5) {
		t.Errorf("summary = %+v; want every target missed", s)
	}
	if md := rep.markdown(); !strings.Contains(md, "0.333 ✗") {
		t.Errorf("markdown shows no miss:\n%s", md)
	}
}

// TestNoReference: when keystonemiddleware's overhead comes out at or below zero (noise),
// there is no ratio, and the report says so instead of passing the target.
func TestNoReference(t *testing.T) {
	dir := fixture(t)
	for k := 1; k <= 3; k++ {
		writeJSONFile(t, dir, fmt.Sprintf("placement.r%d.paired.json", k), pairedFile(pairedKind{"plain.limit10", 20, 19, -1},
			pairedKind{"writes.put", 40, 39, -1}, pairedKind{"writes.delete", 40, 39, -1}, pairedKind{pooledKind, 20, 19, -1}))
	}
	rounds, err := loadRounds(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep := analyze(rounds)
	if s := rep.Summary; s.OverheadTargetMet || s.OverheadRatio != 0 || s.MediansTargetMet || !s.InProcessTargetMet {
		t.Errorf("summary = %+v; want no HTTP ratio and no HTTP target met (the in-process one stands)", s)
	}
	if md := rep.markdown(); strings.Contains(md, "keystonemiddleware's | 0.000 ✓") || !strings.Contains(md, "no ratio") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestRunWritesReports(t *testing.T) {
	dir := fixture(t)
	// A failed phase is reported, and the figures go on without that round.
	tp := tpFile(tpKind{"plain.limit10", 1100, 1078})
	tp["phase_errors"] = []string{"pairedtp: writes: DELETE failed"}
	tp["errors"] = map[string]int{"writes_delete_503": 3}
	writeJSONFile(t, dir, "ingot.r1.pairedtp.json", tp)
	md, js := filepath.Join(dir, "report.md"), filepath.Join(dir, "report.json")
	if err := run(dir, md, js, "T"); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(md)
	for _, want := range []string{
		"# T\n",
		"| 0.980 (cost 2.0%; lowest kind 0.970, writes) ✓ | 0.849 | ingot's cost < 5% |", // round 1: candidates only
		"| ingot's overhead / keystonemiddleware's | 0.010 ✓ | | < 1/20 = 0.05 |",
		"| the same as p50(Keystone) - p50(noauth2), median over the request kinds | 0.020 ms = 0.010 of keystonemiddleware's ✓ | 2.000 ms | < 1/20 |",
		"| plain.limit10 | 1.000 | 1.020 | 0.020 | 0.018 | 20.000 | 22.000 | 2.000 | 1.800 |",
		"- writes: b/a 0.950, 0.990; d/c 0.900, 0.900; a 0, 2400, 2600",
		"- writes.put: b-a 0.020, 0.020, 0.100 ms (pairs 0.018, 0.018, 0.090); d-c 2.000, 2.000, 2.000 ms (pairs 1.800, 1.800, 1.800)",
		"round 1 ingot.pairedtp: phase failed: pairedtp: writes: DELETE failed",
		"round 1 ingot.pairedtp: 3 x writes_delete_503",
		"| in process: ingot's / keystonemiddleware's | 0.0170 ✓ | | < 1/20 |",
		"- in-process benchmarks, run 2: ingot's middleware 1700 ns/op; keystonemiddleware 100000 ns/op; ingot's stack noauth2 37000 ns/req, keystone 40000 ns/req",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	var rep report
	b, _ := os.ReadFile(js)
	if err := json.Unmarshal(b, &rep); err != nil || !near(rep.Summary.PlacementOverheadMs, 1.5) {
		t.Errorf("JSON report: %v, %+v", err, rep.Summary)
	}
}

func TestMissingFile(t *testing.T) {
	for _, f := range []string{"placement.r2.pairedtp.json", "ingot.r3.paired.json"} {
		dir := fixture(t)
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
		if _, err := loadRounds(dir); err == nil || !strings.Contains(err.Error(), "lacks "+f) {
			t.Errorf("loadRounds without %s: %v", f, err)
		}
	}
	if _, err := loadRounds(t.TempDir()); err == nil {
		t.Errorf("loadRounds of an empty directory succeeded")
	}
}

func TestParseGoBench(t *testing.T) {
	in := `goos: linux
pkg: ingot/internal/keystone
BenchmarkPlacementAuth-2   	   20000	    123456 ns/op	     61000 keystone-ns/req	         1.017 keystone/noauth2	     60000 noauth2-ns/req
BenchmarkMiddlewareCached   	  812345	      1432 ns/op	    1234 B/op	      15 allocs/op
BenchmarkMiddlewareCached-2   	  812345	      1400 ns/op	    1234 B/op	      15 allocs/op
--- FAIL: BenchmarkOther-2
PASS
ok  	ingot/internal/keystone	5.1s
`
	got, err := parseGoBench(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"BenchmarkPlacementAuth ns/op": 123456, "BenchmarkPlacementAuth keystone-ns/req": 61000,
		"BenchmarkPlacementAuth keystone/noauth2": 1.017, "BenchmarkPlacementAuth noauth2-ns/req": 60000,
		"BenchmarkMiddlewareCached ns/op": 1400, "BenchmarkMiddlewareCached B/op": 1234, "BenchmarkMiddlewareCached allocs/op": 15,
	}
	if len(got) != len(want) {
		t.Errorf("parsed %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, err := parseGoBench(strings.NewReader("BenchmarkX-2 10 1.2.3 ns/op\n")); err == nil {
		t.Errorf("a malformed value was accepted")
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
