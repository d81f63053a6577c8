package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The four servers.
const (
	ingotNoauth     = "ingot-noauth2"
	ingotKeystone   = "ingot-keystone"
	placementNoauth = "placement-noauth2"
	placementKS     = "placement-keystone"
)

// p50 is the part of placementbench's latency statistics the report reads.
type p50 struct {
	N     int     `json:"n"`
	P50ms float64 `json:"p50_ms"`
}

// paired is one request kind of placementbench's paired phase: the server's and the pair
// server's latencies and their difference per pair of requests.
type paired struct {
	Name   string `json:"name"`
	Server p50    `json:"server"`
	Pair   p50    `json:"pair"`
	Diff   p50    `json:"diff"`
}

// tpSide and pairedTP are one request kind of placementbench's pairedtp phase: each
// side's rate in its alternating time slices, and their ratio.
type tpSide struct {
	PerSec float64 `json:"per_s"`
	Errors int     `json:"errors"`
}

type pairedTP struct {
	Name        string  `json:"name"`
	Server      tpSide  `json:"server"`
	Pair        tpSide  `json:"pair"`
	Ratio       float64 `json:"ratio"`
	RatioMedian float64 `json:"ratio_median"`
}

// benchResult is the part of a placementbench result the report reads.
type benchResult struct {
	Server      string            `json:"server"`
	Paired      []paired          `json:"paired"`
	PairedTP    []pairedTP        `json:"pairedtp"`
	Errors      map[string]int    `json:"errors"`
	PhaseErrors []string          `json:"phase_errors"`
	PhaseLoad   map[string]string `json:"phase_load"`
}

// pairedTP returns the named request kind of the pairedtp phase.
func (r *benchResult) pairedTP(name string) (pairedTP, bool) {
	for _, p := range r.PairedTP {
		if p.Name == name {
			return p, true
		}
	}
	return pairedTP{}, false
}

// paired returns the named request kind of the paired phase.
func (r *benchResult) paired(name string) (paired, bool) {
	for _, p := range r.Paired {
		if p.Name == name {
			return p, true
		}
	}
	return paired{}, false
}

// The files of a round are named for the pairs: a and b, c and d.
const (
	pairIngot     = "ingot"
	pairPlacement = "placement"
)

// round is one pass over the four servers.
type round struct {
	K int
	// Paired and TP hold, by pairIngot and pairPlacement, the paired and the pairedtp phase
	// of a and b (c and d).
	Paired map[string]*benchResult
	TP     map[string]*benchResult
	// Go maps "BenchmarkName unit" to the value of the round's in-process benchmarks:
	// gobench.r<k>.txt (go test -bench of internal/keystone) and kmbench.r<k>.txt
	// (scripts/keystone/bench-middleware.py, in the same format).
	Go map[string]float64
}

var roundFile = regexp.MustCompile(`^(ingot|placement)\.r(\d+)\.(paired|pairedtp)\.json$`)

// loadRounds reads every round in dir, in order. Every round must have all four files.
func loadRounds(dir string) ([]*round, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.r*.json"))
	if err != nil {
		return nil, err
	}
	byK := map[int]*round{}
	get := func(k int) *round {
		if byK[k] == nil {
			byK[k] = &round{K: k, Paired: map[string]*benchResult{}, TP: map[string]*benchResult{}, Go: map[string]float64{}}
		}
		return byK[k]
	}
	for _, name := range names {
		m := roundFile.FindStringSubmatch(filepath.Base(name))
		if m == nil {
			continue
		}
		k, _ := strconv.Atoi(m[2])
		res, err := readResult(name)
		if err != nil {
			return nil, err
		}
		if m[3] == "paired" {
			get(k).Paired[m[1]] = res
		} else {
			get(k).TP[m[1]] = res
		}
	}
	if len(byK) == 0 {
		return nil, fmt.Errorf("no <server>.r<k>.{seq,tp}.json files in %s", dir)
	}
	var out []*round
	for _, r := range byK {
		for _, s := range []string{pairIngot, pairPlacement} {
			if r.Paired[s] == nil {
				return nil, fmt.Errorf("round %d lacks %s.r%d.paired.json", r.K, s, r.K)
			}
			if r.TP[s] == nil {
				return nil, fmt.Errorf("round %d lacks %s.r%d.pairedtp.json", r.K, s, r.K)
			}
		}
		for _, name := range []string{"gobench", "kmbench"} {
			if err := r.readBench(filepath.Join(dir, fmt.Sprintf("%s.r%d.txt", name, r.K))); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *round) int { return a.K - b.K })
	return out, nil
}

// readBench adds a benchmark output file's figures to the round's, if the file exists.
func (r *round) readBench(path string) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	vals, err := parseGoBench(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	maps.Copy(r.Go, vals)
	return nil
}

// readResult decodes one placementbench result file.
func readResult(path string) (*benchResult, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r benchResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// parseGoBench reads go test -bench output: every "BenchmarkX-N  iterations  value unit
// value unit ..." line becomes entries "BenchmarkX unit" (the -N GOMAXPROCS suffix dropped).
// A benchmark that appears more than once keeps its last value.
func parseGoBench(f io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", sc.Text(), err)
			}
			out[name+" "+fields[i+1]] = v
		}
	}
	return out, sc.Err()
}
