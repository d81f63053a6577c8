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

// writeRun writes a placementbench-like result with the given metrics.
func writeRun(t *testing.T, dir, name string, metrics ...metric) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"server": name, "metrics": metrics})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pairedKind is one request kind of a paired file.
type pairedKind struct {
	name                 string
	server, pair, diffMs float64
}

// writePaired writes a placementbench-like result of the paired phase.
func writePaired(t *testing.T, dir, name string, kinds ...pairedKind) {
	t.Helper()
	var ps []map[string]any
	for _, k := range kinds {
		ps = append(ps, map[string]any{"name": k.name, "server": map[string]any{"n": 50, "p50_ms": k.server},
			"pair": map[string]any{"n": 50, "p50_ms": k.pair}, "diff": map[string]any{"n": 50, "p50_ms": k.diffMs}})
	}
	b, err := json.Marshal(map[string]any{"server": name, "paired": ps})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func tp(name string, v float64) metric {
	return metric{Name: name, Kind: "throughput", Unit: "requests/s", Value: v}
}
func lat(name string, v float64) metric {
	return metric{Name: name, Kind: "latency", Unit: "ms", Value: v}
}

// fixture writes three rounds in which Keystone costs ingot 2% of its throughput on the
// candidate query and 1% on writes (round 2 is noisy: 10% and 5%), and 0.02 ms (round 3:
// 0.1 ms) per request, and costs the real Placement 20% (writes 10%) and 2 ms. The median
// of the per-pair differences is 90% of the difference of the medians.
func fixture(t *testing.T) string {
	dir := t.TempDir()
	for k := 1; k <= 3; k++ {
		ingotCost, extra := 0.02, 0.0
		if k == 2 {
			ingotCost = 0.10
		}
		if k == 3 {
			extra = 0.08
		}
		base := float64(1000 + 100*k) // the machine's load changes from round to round
		for _, s := range []struct {
			name     string
			tp, cost float64
		}{
			{ingotNoauth, base, 0},
			{ingotKeystone, base * (1 - ingotCost), ingotCost},
			{placementNoauth, base / 50, 0},
			{placementKS, base / 50 * 0.8, 0.2},
		} {
			writes := 2 * base * (1 - s.cost/2)
			if strings.HasPrefix(s.name, "placement") {
				writes /= 50
			}
			writeRun(t, dir, fmt.Sprintf("%s.r%d.tp.json", s.name, k),
				tp("throughput.plain.limit10.requests_per_s", s.tp), lat("throughput.plain.limit10.p50_ms", 9),
				metric{Name: "writes.writes_per_s", Kind: "throughput", Unit: "writes/s", Value: writes})
		}
		for _, pr := range []struct {
			name     string
			ms, over float64
		}{{pairIngot, 1, 0.02 + extra}, {pairPlacement, 20, 2}} {
			var kinds []pairedKind
			for _, kind := range []struct {
				name  string
				scale float64
			}{{"plain.limit10", 1}, {"writes.put", 2}, {"writes.delete", 2}} {
				kinds = append(kinds, pairedKind{kind.name, kind.scale * pr.ms, kind.scale*pr.ms + pr.over, 0.9 * pr.over})
			}
			writePaired(t, dir, fmt.Sprintf("%s.r%d.paired.json", pr.name, k), kinds...)
		}
		bench := fmt.Sprintf(`goos: linux
BenchmarkPlacementAuth-2   	   20000	     90000 ns/op	     40000 keystone-ns/req	         1.0%d keystone/noauth2	     %d noauth2-ns/req
BenchmarkMiddlewareCached-2   	  500000	      %d ns/op	    1200 B/op	      12 allocs/op
PASS
`, k, 39000-1000*k, 1500+100*k)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gobench.r%d.txt", k)), []byte(bench), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestAnalyze(t *testing.T) {
	dir := fixture(t)
	rounds, err := loadRounds(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep := analyze(rounds)
	s := rep.Summary
	if rep.Rounds != 3 || len(rep.Throughput) != 2 || len(rep.Latency) != 3 {
		t.Fatalf("rounds %d, throughput %d kinds, latency %d kinds", rep.Rounds, len(rep.Throughput), len(rep.Latency))
	}
	// Candidates: per-round ratios 0.98, 0.90, 0.98 -> 0.98; writes: 0.99, 0.95, 0.99 -> 0.99;
	// the summary is their median.
	if q := rep.Throughput[0]; q.Metric != "throughput.plain.limit10.requests_per_s" || !near(q.IngotMedian, 0.98) || !near(q.PlacementMedian, 0.8) {
		t.Errorf("candidates throughput = %+v", q)
	}
	if !near(s.IngotThroughputRatio, 0.985) || !near(s.IngotThroughputWorst, 0.98) ||
		s.IngotThroughputWorstKind != "throughput.plain.limit10.requests_per_s" || !s.ThroughputTargetMet {
		t.Errorf("throughput summary = %+v", s)
	}
	if !near(s.PlacementThroughputRatio, 0.85) {
		t.Errorf("placement throughput ratio = %v, want 0.85", s.PlacementThroughputRatio)
	}
	// Latency: ingot 0.02, 0.02, 0.10 -> 0.02 ms; Placement 2 ms.
	if !near(s.IngotOverheadMs, 0.02) || !near(s.PlacementOverheadMs, 2) || !near(s.OverheadRatio, 0.01) || !s.OverheadTargetMet {
		t.Errorf("overhead summary = %+v", s)
	}
	if len(s.IngotOverheadRounds) != 3 || !near(s.IngotOverheadRounds[2], 0.1) {
		t.Errorf("overhead by round = %v", s.IngotOverheadRounds)
	}
	// Go: middleware 1600, 1700, 1800 ns -> 1700; stack 40000 - (38000, 37000, 36000) -> 3000 ns.
	if s.MiddlewareRounds != 3 || !near(s.MiddlewareNs, 1700) || !near(s.StackOverheadNs, 3000) ||
		!near(s.MiddlewareRatio, 1700/2e6) || !near(s.StackRatio, 3000/2e6) || !s.InProcessTargetOK {
		t.Errorf("in-process summary = %+v", s)
	}
	if len(rep.Problems) != 0 {
		t.Errorf("problems = %v", rep.Problems)
	}
}

func TestTargetsMissed(t *testing.T) {
	dir := fixture(t)
	// Keystone now costs ingot 10% and 0.5 ms per request in round 1 and 3 too.
	for _, k := range []int{1, 3} {
		writeRun(t, dir, fmt.Sprintf("%s.r%d.tp.json", ingotKeystone, k),
			tp("throughput.plain.limit10.requests_per_s", 0.9*float64(1000+100*k)),
			metric{Name: "writes.writes_per_s", Kind: "throughput", Value: 0.9 * 2 * float64(1000+100*k)})
		writePaired(t, dir, fmt.Sprintf("%s.r%d.paired.json", pairIngot, k), pairedKind{"plain.limit10", 1, 1.5, 0.5},
			pairedKind{"writes.put", 2, 2.5, 0.5}, pairedKind{"writes.delete", 2, 2.5, 0.5})
	}
	rounds, err := loadRounds(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := analyze(rounds).Summary
	if s.ThroughputTargetMet || s.OverheadTargetMet || !near(s.IngotOverheadMs, 0.5) {
		t.Errorf("summary = %+v; want both targets missed", s)
	}
	md := analyze(rounds).markdown()
	if !strings.Contains(md, "✗") {
		t.Errorf("markdown shows no miss:\n%s", md)
	}
}

func TestRunWritesReports(t *testing.T) {
	dir := fixture(t)
	// A failed phase is reported.
	writeRun(t, dir, "ingot-keystone.r1.tp.json", tp("throughput.plain.limit10.requests_per_s", 1078))
	b, _ := os.ReadFile(filepath.Join(dir, "ingot-keystone.r1.tp.json"))
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	doc["phase_errors"] = []string{"writes: no write succeeded"}
	doc["errors"] = map[string]int{"writes_put_401": 3}
	b, _ = json.Marshal(doc)
	if err := os.WriteFile(filepath.Join(dir, "ingot-keystone.r1.tp.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	md, js := filepath.Join(dir, "report.md"), filepath.Join(dir, "report.json")
	if err := run(dir, md, js, "T"); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(md)
	for _, want := range []string{
		"# T\n",
		"| throughput with Keystone / with noauth2, concurrent clients | 0.975 (cost 2.5%; lowest 0.970, writes.writes_per_s) ✓ | 0.850 | cost < 5% |",
		"| ingot's overhead / keystonemiddleware's | 0.010 ✓ | | < 1/20 = 0.05 |",
		"| plain.limit10 | 1.000 | 1.020 | 0.020 | 0.018 | 20.000 | 22.000 | 2.000 | 1.800 |",
		"| the same from the median of the per-pair differences | 0.018 ms = 0.010 of 1.800 ms ✓ | 1.800 ms | < 1/20 |",
		"- writes.put: b-a 0.020, 0.020, 0.100 ms (pairs 0.018, 0.018, 0.090); d-c 2.000, 2.000, 2.000 ms (pairs 1.800, 1.800, 1.800)",
		"- writes.writes_per_s: b/a 0.950, 0.990",
		"round 1 ingot-keystone.tp: phase failed: writes: no write succeeded",
		"round 1 ingot-keystone.tp: 3 x writes_put_401",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	var rep report
	b, _ = os.ReadFile(js)
	if err := json.Unmarshal(b, &rep); err != nil || !near(rep.Summary.PlacementOverheadMs, 2) {
		t.Errorf("JSON report: %v, %+v", err, rep.Summary)
	}
}

func TestMissingServer(t *testing.T) {
	for _, f := range []string{"placement-keystone.r2.tp.json", "ingot.r3.paired.json"} {
		dir := fixture(t)
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
		want := "lacks " + f
		if _, err := loadRounds(dir); err == nil || !strings.Contains(err.Error(), want) {
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
