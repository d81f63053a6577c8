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

func tp(name string, v float64) metric {
	return metric{Name: name, Kind: "throughput", Unit: "requests/s", Value: v}
}
func lat(name string, v float64) metric {
	return metric{Name: name, Kind: "latency", Unit: "ms", Value: v}
}

// fixture writes three rounds in which Keystone costs ingot 2% of its throughput on the
// candidate query and 1% on writes (round 2 is noisy: 10%), and 0.02 ms (round 3: 0.1 ms)
// per request, and costs the real Placement 20% and 2 ms.
func fixture(t *testing.T) string {
	dir := t.TempDir()
	for k := 1; k <= 3; k++ {
		ingotCost, placementCost, extra := 0.02, 0.2, 0.0
		if k == 2 {
			ingotCost = 0.10
		}
		if k == 3 {
			extra = 0.08
		}
		base := float64(1000 + 100*k) // the machine's load changes from round to round
		for _, s := range []struct {
			name        string
			tp, ms      float64
			cost, over  float64
			keystone    bool
			placemently bool
		}{
			{ingotNoauth, base, 1, 0, 0, false, false},
			{ingotKeystone, base * (1 - ingotCost), 1, ingotCost, 0.02 + extra, true, false},
			{placementNoauth, base / 50, 20, 0, 0, false, true},
			{placementKS, base / 50 * (1 - placementCost), 20, placementCost, 2, true, true},
		} {
			writes := s.tp * 2 * (1 - s.cost/2) / (1 - s.cost)
			writeRun(t, dir, fmt.Sprintf("%s.r%d.tp.json", s.name, k),
				tp("throughput.plain.limit10.requests_per_s", s.tp), lat("throughput.plain.limit10.p50_ms", 9),
				metric{Name: "writes.writes_per_s", Kind: "throughput", Unit: "writes/s", Value: writes})
			writeRun(t, dir, fmt.Sprintf("%s.r%d.seq.json", s.name, k),
				lat("candidates.plain.limit10.p50_ms", s.ms+s.over), lat("candidates.plain.limit10.p99_ms", 99),
				metric{Name: "candidates.plain.limit10.candidates", Kind: "count", Value: 10},
				lat("writes.put.p50_ms", 2*s.ms+s.over), lat("writes.delete.p50_ms", 2*s.ms+s.over))
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
		writeRun(t, dir, fmt.Sprintf("%s.r%d.seq.json", ingotKeystone, k),
			lat("candidates.plain.limit10.p50_ms", 1.5), lat("writes.put.p50_ms", 2.5), lat("writes.delete.p50_ms", 2.5))
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
		"| candidates.plain.limit10.p50_ms | 1.000 | 1.020 | 0.020 | 20.000 | 22.000 | 2.000 |",
		"- writes.writes_per_s: b/a 0.950, 0.990",
		"round 1 ingot-keystone tp: phase failed: writes: no write succeeded",
		"round 1 ingot-keystone tp: 3 x writes_put_401",
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
	dir := fixture(t)
	if err := os.Remove(filepath.Join(dir, "placement-keystone.r2.seq.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := loadRounds(dir); err == nil || !strings.Contains(err.Error(), "round 2 lacks placement-keystone") {
		t.Errorf("loadRounds without a file: %v", err)
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
