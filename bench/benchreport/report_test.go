package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSpeedup(t *testing.T) {
	tests := []struct {
		kind      string
		v, base   float64
		want      float64
		wantValid bool
	}{
		{"throughput", 600, 30, 20, true},
		{"latency", 2, 100, 50, true},
		{"latency", 0, 100, 0, false},
		{"throughput", 5, 0, 0, false},
	}
	for _, tt := range tests {
		got, ok := speedup(tt.kind, tt.v, tt.base)
		if got != tt.want || ok != tt.wantValid {
			t.Errorf("speedup(%s, %v, %v) = %v, %v; want %v, %v", tt.kind, tt.v, tt.base, got, ok, tt.want, tt.wantValid)
		}
	}
}

func TestTarget(t *testing.T) {
	tests := []struct {
		dataset, metric string
		n               int
		want            float64
	}{
		{"flat", "create.providers_per_s", 1000, 20},
		{"flat", "put.allocations_per_s", 5000, 20},
		{"flat", "candidates.plain.limit10.p50_ms", 5000, 50},
		{"flat", "candidates.member_of_rack0.limit1000.p50_ms", 5000, 20},
		{"flat", "candidates.plain.limit10.p99_ms", 5000, 0},
		{"flat", "candidates.plain.limit10.p50_ms", 1000, 0},
		{"nested", "create.providers_per_s", 1000, 0},
		{"gate", "gate.gate.p50_ms", 1000, 100},
		{"gate", "gate.gate.after_write.p50_ms", 1000, 100},
		{"gate", "gate.gate.p95_ms", 1000, 0},
		{"gate", "throughput.gate.requests_per_s", 1000, 100},
		{"gate", "throughput.gate.requests_per_s", 300, 0},
	}
	for _, tt := range tests {
		if got := target(tt.dataset, tt.n, tt.metric); got != tt.want {
			t.Errorf("target(%s, %d, %s) = %v, want %v", tt.dataset, tt.n, tt.metric, got, tt.want)
		}
	}
}

// doc is a minimal placementbench result.
const ingotDoc = `{"server":"ingot","dataset":"flat","n":5000,"phase_s":{"put":1,"create":2},
 "metrics":[{"name":"create.providers_per_s","kind":"throughput","unit":"providers/s","value":900},
  {"name":"candidates.plain.limit10.p50_ms","kind":"latency","unit":"ms","value":2},
  {"name":"candidates.plain.limit10.candidates","kind":"count","unit":"ARs","value":10}]}`

const placementDoc = `{"server":"placement","dataset":"flat","n":5000,"phase_s":{"create":200},
 "errors":{"claim_put_500":1},
 "metrics":[{"name":"create.providers_per_s","kind":"throughput","unit":"providers/s","value":30},
  {"name":"candidates.plain.limit10.p50_ms","kind":"latency","unit":"ms","value":80},
  {"name":"candidates.plain.limit10.candidates","kind":"count","unit":"ARs","value":9}]}`

func TestRunJoinsServers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	args := []string{"ingot=" + write("i.json", ingotDoc), "placement=" + write("p.json", placementDoc)}
	var out strings.Builder
	if err := run("placement", filepath.Join(dir, "r.md"), filepath.Join(dir, "r.json"), "T", args, &out); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	for _, want := range []string{
		"| flat 5000 | create.providers_per_s (providers/s) | 900 | 30.0 | 30.0x ✓ | ≥ 20x |",
		"| flat 5000 | candidates.plain.limit10.p50_ms | 2.00 | 80.0 | 40.0x ✗ | ≥ 50x |",
		"| flat 5000 | candidates.plain.limit10.candidates (ARs) ≠ | 10 | 9 |  |  |",
		"| flat 5000 | create | 2.00 | 200 |",
		"placement flat n=5000: 1 x claim_put_500",
		"Unexpected answers and failed phases",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Index(md, "| create |") > strings.Index(md, "| put |") {
		t.Errorf("phases not in run order:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(dir, "r.json")); err != nil {
		t.Errorf("json report: %v", err)
	}
}

func TestBaselineColumnComesLast(t *testing.T) {
	dir := t.TempDir()
	i, p := filepath.Join(dir, "i.json"), filepath.Join(dir, "p.json")
	os.WriteFile(i, []byte(ingotDoc), 0o644)
	os.WriteFile(p, []byte(placementDoc), 0o644)
	var out strings.Builder
	if err := run("placement", "", "", "T", []string{"placement=" + p, "ingot=" + i}, &out); err != nil {
		t.Fatal(err)
	}
	if want := "| data set | metric | ingot | placement | ratio ingot | target |"; !strings.Contains(out.String(), want) {
		t.Errorf("report lacks header %q:\n%s", want, out.String())
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	var out strings.Builder
	if err := run("placement", "", "", "T", []string{"no-label.json"}, &out); err == nil {
		t.Errorf("argument without a label accepted")
	}
	if err := run("placement", "", "", "T", nil, &out); err == nil {
		t.Errorf("no arguments accepted")
	}
}

// TestRoundsUseMedians checks that repeated results of one server and size are reduced to
// their median before the ratio is taken, and that each round is still reported.
func TestRoundsUseMedians(t *testing.T) {
	doc := func(server string, rate, secs float64) labeledRun {
		return labeledRun{Label: server, Result: benchResult{Server: server, Dataset: "flat", N: 1000,
			PhaseSeconds: map[string]float64{"create": secs},
			Metrics: []struct {
				Name  string  `json:"name"`
				Kind  string  `json:"kind"`
				Unit  string  `json:"unit"`
				Value float64 `json:"value"`
			}{{Name: "create.providers_per_s", Kind: "throughput", Unit: "providers/s", Value: rate}}}}
	}
	rep := join([]labeledRun{
		doc("placement", 40, 25), doc("ingot", 700, 1.4),
		doc("placement", 50, 20), doc("ingot", 1000, 1.0),
		doc("placement", 45, 22), doc("ingot", 1200, 0.8),
	}, "placement")
	if len(rep.Rows) != 1 {
		t.Fatalf("rows = %+v", rep.Rows)
	}
	r := rep.Rows[0]
	if r.Values["ingot"] != 1000 || r.Values["placement"] != 45 {
		t.Errorf("values = %v, want the medians 1000 and 45", r.Values)
	}
	if r.Ratios["ingot"] != 22.22 || !r.Met["ingot"] {
		t.Errorf("ratio = %v met = %v, want 22.22 met", r.Ratios, r.Met)
	}
	if got := r.Rounds["ingot"]; !slices.Equal(got, []float64{700, 1000, 1200}) {
		t.Errorf("ingot rounds = %v", got)
	}
	if rep.Phases[0].Seconds["ingot"] != 1.0 {
		t.Errorf("phase seconds = %v, want the median 1.0", rep.Phases[0].Seconds)
	}
	md := rep.markdown()
	if !strings.Contains(md, "- flat 1000 create.providers_per_s, ingot: 700, 1000, 1200") {
		t.Errorf("markdown lacks the rounds:\n%s", md)
	}
	if one := join([]labeledRun{doc("placement", 40, 25), doc("ingot", 900, 1)}, "placement"); one.Rows[0].Rounds != nil {
		t.Errorf("a single round is listed as rounds: %v", one.Rows[0].Rounds)
	}
}
