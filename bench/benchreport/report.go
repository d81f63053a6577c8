package main

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// benchResult is the part of a placementbench result document the report reads.
type benchResult struct {
	Server       string             `json:"server"`
	Dataset      string             `json:"dataset"`
	N            int                `json:"n"`
	Providers    int                `json:"providers"`
	Started      string             `json:"started"`
	PhaseSeconds map[string]float64 `json:"phase_s"`
	Errors       map[string]int     `json:"errors"`
	PhaseErrors  []string           `json:"phase_errors"`
	Metrics      []struct {
		Name  string  `json:"name"`
		Kind  string  `json:"kind"`
		Unit  string  `json:"unit"`
		Value float64 `json:"value"`
	} `json:"metrics"`
}

// labeledRun is one result file and the server label it was given.
type labeledRun struct {
	Label  string
	Result benchResult
}

// report is the joined comparison.
type report struct {
	Title    string     `json:"title"`
	Baseline string     `json:"baseline"`
	Servers  []string   `json:"servers"`
	Rows     []row      `json:"rows"`
	Phases   []phaseRow `json:"phases"`
	Errors   []string   `json:"errors,omitempty"`
}

// row is one metric of one data set and size across servers.
type row struct {
	Dataset string             `json:"dataset"`
	N       int                `json:"n"`
	Metric  string             `json:"metric"`
	Kind    string             `json:"kind"`
	Unit    string             `json:"unit"`
	Values  map[string]float64 `json:"values"` // the median over rounds
	// Rounds holds every round's value when a server ran the size more than once.
	Rounds  map[string][]float64 `json:"rounds,omitempty"`
	Ratios  map[string]float64   `json:"ratios,omitempty"` // speed-up over the baseline
	Target  float64              `json:"target,omitempty"` // required speed-up, if an issue sets one
	Met     map[string]bool      `json:"met,omitempty"`
	Differs bool                 `json:"differs,omitempty"` // counts differ between servers
}

// phaseRow is how long one phase took on each server.
type phaseRow struct {
	Dataset string             `json:"dataset"`
	N       int                `json:"n"`
	Phase   string             `json:"phase"`
	Seconds map[string]float64 `json:"seconds"` // the median over rounds
	rounds  map[string][]float64
}

// join builds the report: rows in the order metrics first appear, servers in argument order.
// A server may have several results for one data set and size (rounds run one after another,
// on a fresh server each): every value is then the median of the rounds, ratios compare
// medians, and each round's value is kept in the row.
func join(runs []labeledRun, baseline string) report {
	j := joiner{rep: report{Baseline: baseline}, rows: map[string]*row{}, phases: map[string]*phaseRow{}}
	for _, lr := range runs {
		j.add(lr)
	}
	for _, k := range j.rowOrder {
		r := j.rows[k]
		setMedians(r.Values, r.Rounds)
		// Only sizes that ran more than once list their rounds.
		maps.DeleteFunc(r.Rounds, func(_ string, vs []float64) bool { return len(vs) < 2 })
		if len(r.Rounds) == 0 {
			r.Rounds = nil
		}
		r.compare(baseline)
		j.rep.Rows = append(j.rep.Rows, *r)
	}
	for _, k := range j.phaseOrder {
		p := j.phases[k]
		setMedians(p.Seconds, p.rounds)
		j.rep.Phases = append(j.rep.Phases, *p)
	}
	slices.SortStableFunc(j.rep.Phases, comparePhases)
	return j.rep
}

// joiner accumulates the runs' metrics and phase times by data set, size and name.
type joiner struct {
	rep                  report
	rows                 map[string]*row
	phases               map[string]*phaseRow
	rowOrder, phaseOrder []string
}

// add merges one run into the report.
func (j *joiner) add(lr labeledRun) {
	r := lr.Result
	if !slices.Contains(j.rep.Servers, lr.Label) {
		j.rep.Servers = append(j.rep.Servers, lr.Label)
	}
	for _, m := range r.Metrics {
		key := fmt.Sprintf("%s/%d/%s", r.Dataset, r.N, m.Name)
		if j.rows[key] == nil {
			j.rows[key] = &row{Dataset: r.Dataset, N: r.N, Metric: m.Name, Kind: m.Kind, Unit: m.Unit,
				Values: map[string]float64{}, Rounds: map[string][]float64{}}
			j.rowOrder = append(j.rowOrder, key)
		}
		j.rows[key].Rounds[lr.Label] = append(j.rows[key].Rounds[lr.Label], m.Value)
	}
	for p, sec := range r.PhaseSeconds {
		key := fmt.Sprintf("%s/%d/%s", r.Dataset, r.N, p)
		if j.phases[key] == nil {
			j.phases[key] = &phaseRow{Dataset: r.Dataset, N: r.N, Phase: p, Seconds: map[string]float64{},
				rounds: map[string][]float64{}}
			j.phaseOrder = append(j.phaseOrder, key)
		}
		j.phases[key].rounds[lr.Label] = append(j.phases[key].rounds[lr.Label], sec)
	}
	prefix := fmt.Sprintf("%s %s n=%d: ", lr.Label, r.Dataset, r.N)
	for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
		j.rep.Errors = append(j.rep.Errors, fmt.Sprintf("%s%d x %s", prefix, r.Errors[k], k))
	}
	for _, e := range r.PhaseErrors {
		j.rep.Errors = append(j.rep.Errors, prefix+"phase "+e)
	}
}

// setMedians sets dst[label] to the median of each label's rounds.
func setMedians(dst map[string]float64, rounds map[string][]float64) {
	for label, vs := range rounds {
		dst[label] = median(vs)
	}
}

// median returns the middle of vs (the mean of the two middle values for an even count).
func median(vs []float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// comparePhases orders phase rows by data set, size and the order placementbench runs phases.
func comparePhases(a, b phaseRow) int {
	rank := func(p string) int {
		return slices.Index([]string{"create", "check", "candidates", "gate", "throughput", "list", "claim", "put"}, p)
	}
	return cmp.Or(cmp.Compare(a.Dataset, b.Dataset), cmp.Compare(a.N, b.N), cmp.Compare(rank(a.Phase), rank(b.Phase)))
}

// compare fills in the row's ratios against the baseline and checks the target.
func (r *row) compare(baseline string) {
	base, ok := r.Values[baseline]
	if r.Kind == "count" {
		mustMatch := strings.HasSuffix(r.Metric, ".candidates") || strings.HasSuffix(r.Metric, ".providers") ||
			strings.HasSuffix(r.Metric, ".summaries") || strings.HasSuffix(r.Metric, "_digest")
		for _, v := range r.Values {
			if ok && mustMatch && v != base {
				r.Differs = true
			}
		}
		return
	}
	if !ok {
		return
	}
	r.Target = target(r.Dataset, r.N, r.Metric)
	for label, v := range r.Values {
		if label == baseline {
			continue
		}
		ratio, ok := speedup(r.Kind, v, base)
		if !ok {
			continue
		}
		if r.Ratios == nil {
			r.Ratios = map[string]float64{}
		}
		r.Ratios[label] = ratio
		if r.Target > 0 {
			if r.Met == nil {
				r.Met = map[string]bool{}
			}
			r.Met[label] = ratio >= r.Target
		}
	}
}

// speedup returns how many times better v is than base: v/base for a throughput, base/v for a
// latency. It reports false when the ratio is undefined.
func speedup(kind string, v, base float64) (float64, bool) {
	num, den := v, base
	if kind == "latency" {
		num, den = base, v
	}
	if den <= 0 || num < 0 {
		return 0, false
	}
	return math.Round(num/den*100) / 100, true
}

// target returns the speed-up over the real Placement that an issue requires for a metric, or
// 0: issue 3 wants 20x provider creation and allocation writes at 1,000 and 5,000 providers;
// issue 5 wants the candidates p50 at 5,000 providers 50x faster for limit 10 and 20x for
// limit 1000; issue 10 wants the gate workload (upstream's nested perfload at 1,000 trees) 100x
// faster per query (p50) and 100x the throughput at 10 clients.
func target(dataset string, n int, metric string) float64 {
	if dataset == "gate" && n == 1000 &&
		(strings.HasPrefix(metric, "gate.") && strings.HasSuffix(metric, ".p50_ms") ||
			strings.HasPrefix(metric, "throughput.") && strings.HasSuffix(metric, ".requests_per_s")) {
		return 100
	}
	if dataset != "flat" {
		return 0
	}
	switch {
	case (n == 1000 || n == 5000) && (metric == "create.providers_per_s" || metric == "put.allocations_per_s"):
		return 20
	case n == 5000 && strings.HasPrefix(metric, "candidates.") && strings.HasSuffix(metric, ".limit10.p50_ms"):
		return 50
	case n == 5000 && strings.HasPrefix(metric, "candidates.") && strings.HasSuffix(metric, ".limit1000.p50_ms"):
		return 20
	}
	return 0
}

// markdown renders the report as markdown tables.
func (rep report) markdown() string {
	var b strings.Builder
	others := slices.DeleteFunc(slices.Clone(rep.Servers), func(s string) bool { return s == rep.Baseline })
	servers := others
	if slices.Contains(rep.Servers, rep.Baseline) {
		servers = append(slices.Clone(others), rep.Baseline) // baseline last, next to the ratios
	}
	fmt.Fprintf(&b, "# %s\n\n", rep.Title)
	fmt.Fprintf(&b, "Ratio = speed-up over %s: server/%s for throughputs (/s), %s/server for latencies (ms). "+
		"Target = speed-up an issue requires. Candidate and provider counts must match (≠ marks a difference).\n\n",
		rep.Baseline, rep.Baseline, rep.Baseline)
	header := append([]string{"data set", "metric"}, servers...)
	for _, s := range others {
		header = append(header, "ratio "+s)
	}
	header = append(header, "target")
	writeRow(&b, header)
	writeRow(&b, slices.Repeat([]string{"---"}, len(header)))
	for _, r := range rep.Rows {
		writeRow(&b, r.cells(servers, others))
	}
	rep.writeRounds(&b)
	rep.writePhases(&b, servers)
	if len(rep.Errors) > 0 {
		b.WriteString("\nUnexpected answers and failed phases:\n\n")
		for _, e := range rep.Errors {
			fmt.Fprintf(&b, "- %s\n", e)
		}
	}
	return b.String()
}

// cells renders one row.
func (r row) cells(servers, others []string) []string {
	name := r.Metric
	if r.Unit != "ms" {
		name += " (" + r.Unit + ")"
	}
	if r.Differs {
		name += " ≠"
	}
	out := []string{fmt.Sprintf("%s %d", r.Dataset, r.N), name}
	for _, s := range servers {
		if v, ok := r.Values[s]; ok && r.Kind == "count" {
			out = append(out, strconv.FormatFloat(v, 'f', 0, 64))
			continue
		}
		out = append(out, formatValue(r.Values, s))
	}
	for _, s := range others {
		cell := formatValue(r.Ratios, s)
		if cell != "" {
			cell += "x"
		}
		if cell != "" && r.Target > 0 {
			cell += map[bool]string{true: " ✓", false: " ✗"}[r.Met[s]]
		}
		out = append(out, cell)
	}
	if r.Target > 0 {
		return append(out, "≥ "+strconv.FormatFloat(r.Target, 'f', -1, 64)+"x")
	}
	return append(out, "")
}

// writeRounds lists every round's value of the metrics that ran more than once.
func (rep report) writeRounds(b *strings.Builder) {
	first := true
	for _, r := range rep.Rows {
		for _, s := range rep.Servers {
			vs := r.Rounds[s]
			if len(vs) == 0 || r.Kind == "count" {
				continue
			}
			if first {
				b.WriteString("\nRounds (each on a fresh server; the tables above show their medians):\n\n")
				first = false
			}
			cells := make([]string, len(vs))
			for i, v := range vs {
				cells[i] = formatNumber(v)
			}
			fmt.Fprintf(b, "- %s %d %s, %s: %s\n", r.Dataset, r.N, r.Metric, s, strings.Join(cells, ", "))
		}
	}
}

// writePhases renders the phase timings.
func (rep report) writePhases(b *strings.Builder, servers []string) {
	if len(rep.Phases) == 0 {
		return
	}
	b.WriteString("\nPhase wall-clock time (s):\n\n")
	header := append([]string{"data set", "phase"}, servers...)
	writeRow(b, header)
	writeRow(b, slices.Repeat([]string{"---"}, len(header)))
	for _, p := range rep.Phases {
		cells := []string{fmt.Sprintf("%s %d", p.Dataset, p.N), p.Phase}
		for _, s := range servers {
			cells = append(cells, formatValue(p.Seconds, s))
		}
		writeRow(b, cells)
	}
}

// formatValue renders m[key] compactly, or "" when it is missing.
func formatValue(m map[string]float64, key string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	return formatNumber(v)
}

// formatNumber renders v with fewer decimals the larger it is.
func formatNumber(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v < 1 && v != 0:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func writeRow(b *strings.Builder, cells []string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}
