package main

import "time"

// Metric kinds: how the report compares two servers' values.
const (
	kindThroughput = "throughput" // higher is better; ratio = ingot / placement
	kindLatency    = "latency"    // lower is better; ratio = placement / ingot
	kindCount      = "count"      // must match (candidate counts); no ratio
)

// metric is one comparable number of a run. Names are stable keys, so that the report tool can
// join the runs of two servers on them.
type metric struct {
	Name  string  `json:"name"`
	Kind  string  `json:"kind"`
	Unit  string  `json:"unit"`
	Value float64 `json:"value"`
}

// result is the JSON document one run prints on stdout.
type result struct {
	Tool             string             `json:"tool"`
	Server           string             `json:"server"`
	URL              string             `json:"url"`
	Dataset          string             `json:"dataset"`
	N                int                `json:"n"`
	Providers        int                `json:"providers"`
	RunID            string             `json:"run_id"`
	Started          time.Time          `json:"started"`
	ServerMaxVersion string             `json:"server_max_version,omitempty"`
	Params           params             `json:"params"`
	Host             host               `json:"host"`
	PhaseSeconds     map[string]float64 `json:"phase_s"`
	PhaseLoad        map[string]string  `json:"phase_load,omitempty"` // 1-minute load average at start -> end
	Create           *createResult      `json:"create,omitempty"`
	Check            []checkResult      `json:"check,omitempty"`
	Candidates       []queryResult      `json:"candidates,omitempty"`
	Gate             []gateResult       `json:"gate,omitempty"`
	Throughput       []throughputResult `json:"throughput,omitempty"`
	List             []queryResult      `json:"list,omitempty"`
	Claim            *claimResult       `json:"claim,omitempty"`
	Put              *putResult         `json:"put,omitempty"`
	Writes           *writesResult      `json:"writes,omitempty"`
	Paired           []pairedResult     `json:"paired,omitempty"`
	PairedTP         []pairedTPResult   `json:"pairedtp,omitempty"`
	Errors           map[string]int     `json:"errors,omitempty"`
	PhaseErrors      []string           `json:"phase_errors,omitempty"`
	Metrics          []metric           `json:"metrics"`
}

// host describes the machine the benchmark ran on; other work on it skews the figures, which
// the load averages per phase make visible.
type host struct {
	Name string `json:"name"`
	CPUs int    `json:"cpus"`
}

// params records the settings that shaped the measurements.
type params struct {
	Phases          []string `json:"phases"`
	Racks           int      `json:"racks"`
	Concurrency     int      `json:"concurrency"`
	Limits          []int    `json:"limits"`
	Samples         int      `json:"samples"`
	Warmup          int      `json:"warmup"`
	QueryBudgetS    float64  `json:"query_budget_s"`
	QueryTimeoutS   float64  `json:"query_timeout_s,omitempty"`
	Claims          int      `json:"claims"`
	ClaimLimit      int      `json:"claim_limit"`
	Retries         int      `json:"retries"`
	Puts            int      `json:"puts"`
	ListSamples     int      `json:"list_samples"`
	Microversion    string   `json:"microversion"`
	Seed            uint64   `json:"seed"`
	GateTimings     int      `json:"gate_timings,omitempty"`
	GateAllocs      int      `json:"gate_allocs,omitempty"`
	TPClients       int      `json:"tp_clients,omitempty"`
	TPDurationS     float64  `json:"tp_duration_s,omitempty"`
	TPLimit         int      `json:"tp_limit,omitempty"`
	WritesDurationS float64  `json:"writes_duration_s,omitempty"`
	PairURL         string   `json:"pair_url,omitempty"`
	SliceS          float64  `json:"slice_s,omitempty"`
}

// createResult is the provider-creation phase.
type createResult struct {
	Clients         int              `json:"clients"`
	Trees           int              `json:"trees"`
	Providers       int              `json:"providers"`
	Requests        int              `json:"requests"`
	SetupSeconds    float64          `json:"setup_s"`
	Seconds         float64          `json:"seconds"`
	ProvidersPerSec float64          `json:"providers_per_s"`
	RequestsPerSec  float64          `json:"requests_per_s"`
	Latency         Stats            `json:"latency"`
	ByRequest       map[string]Stats `json:"by_request"`
}

// queryResult is one measured GET query.
type queryResult struct {
	Name      string  `json:"name"`
	Path      string  `json:"path"`
	Limit     int     `json:"limit,omitempty"`
	Items     int     `json:"items"` // allocation requests, or providers for a listing
	Summaries int     `json:"summaries,omitempty"`
	Bytes     int     `json:"bytes"`
	Errors    int     `json:"errors,omitempty"`
	TimedOut  bool    `json:"timed_out,omitempty"` // latency is then the timeout, a lower bound
	Seconds   float64 `json:"seconds"`
	Latency   Stats   `json:"latency"`
}

// claimResult is the scheduler-like claim loop.
type claimResult struct {
	Clients       int            `json:"clients"`
	Target        int            `json:"target_claims"`
	Seconds       float64        `json:"seconds"`
	Claimed       int            `json:"claimed"`
	ClaimsPerSec  float64        `json:"claims_per_s"`
	PutAttempts   int            `json:"put_attempts"`
	Conflicts     int            `json:"conflicts_409"`
	ConflictCodes map[string]int `json:"conflict_codes,omitempty"`
	GaveUp        int            `json:"gave_up"`
	NoCandidates  int            `json:"no_candidates"`
	OtherErrors   int            `json:"other_errors"`
	GetLatency    Stats          `json:"get_candidates_latency"`
	PutLatency    Stats          `json:"put_latency"`
}

// putResult is the PUT /allocations phase to distinct free providers.
type putResult struct {
	Clients      int            `json:"clients"`
	Target       int            `json:"target"`
	Seconds      float64        `json:"seconds"`
	Allocated    int            `json:"allocated"`
	AllocsPerSec float64        `json:"allocations_per_s"`
	Conflicts    int            `json:"conflicts_409"`
	OtherErrors  int            `json:"other_errors"`
	Latency      Stats          `json:"latency"`
	Statuses     map[string]int `json:"statuses,omitempty"`
}

// addMetrics derives the comparable metrics from the phase results.
func (r *result) addMetrics() {
	add := func(name, kind, unit string, v float64) {
		r.Metrics = append(r.Metrics, metric{Name: name, Kind: kind, Unit: unit, Value: v})
	}
	if c := r.Create; c != nil {
		add("create.providers_per_s", kindThroughput, "providers/s", c.ProvidersPerSec)
		add("create.request.p50_ms", kindLatency, "ms", c.Latency.P50ms)
		add("create.request.p99_ms", kindLatency, "ms", c.Latency.P99ms)
	}
	for _, c := range r.Check {
		add("check."+c.Name+".candidates", kindCount, "ARs", float64(c.Candidates))
		add("check."+c.Name+".summaries", kindCount, "summaries", float64(c.Summaries))
		add("check."+c.Name+".candidates_digest", kindCount, "sha256/48", digestValue(c.CandidatesSHA256))
		add("check."+c.Name+".summaries_digest", kindCount, "sha256/48", digestValue(c.SummariesSHA256))
	}
	for _, g := range r.Gate {
		add("gate."+g.Name+".p50_ms", kindLatency, "ms", g.Latency.P50ms)
		add("gate."+g.Name+".p95_ms", kindLatency, "ms", g.Latency.P95ms)
		add("gate."+g.Name+".after_write.p50_ms", kindLatency, "ms", g.AfterWrite.P50ms)
		add("gate."+g.Name+".first.candidates", kindCount, "ARs", float64(g.FirstItems))
		add("gate."+g.Name+".last.candidates", kindCount, "ARs", float64(g.LastItems))
	}
	for _, t := range r.Throughput {
		add("throughput."+t.Name+".requests_per_s", kindThroughput, "requests/s", t.PerSec)
		add("throughput."+t.Name+".p50_ms", kindLatency, "ms", t.Latency.P50ms)
	}
	for _, q := range r.Candidates {
		add("candidates."+q.Name+".p50_ms", kindLatency, "ms", q.Latency.P50ms)
		add("candidates."+q.Name+".p99_ms", kindLatency, "ms", q.Latency.P99ms)
		add("candidates."+q.Name+".candidates", kindCount, "ARs", float64(q.Items))
	}
	for _, q := range r.List {
		add("list."+q.Name+".p50_ms", kindLatency, "ms", q.Latency.P50ms)
		add("list."+q.Name+".providers", kindCount, "providers", float64(q.Items))
	}
	if c := r.Claim; c != nil {
		add("claim.claims_per_s", kindThroughput, "claims/s", c.ClaimsPerSec)
		add("claim.get_candidates.p50_ms", kindLatency, "ms", c.GetLatency.P50ms)
		add("claim.put.p50_ms", kindLatency, "ms", c.PutLatency.P50ms)
		add("claim.conflicts", kindCount, "409s", float64(c.Conflicts))
	}
	if p := r.Put; p != nil {
		add("put.allocations_per_s", kindThroughput, "allocations/s", p.AllocsPerSec)
		add("put.p50_ms", kindLatency, "ms", p.Latency.P50ms)
		add("put.p99_ms", kindLatency, "ms", p.Latency.P99ms)
	}
	for _, p := range r.Paired {
		add("paired."+p.Name+".server.p50_ms", kindLatency, "ms", p.Server.P50ms)
		add("paired."+p.Name+".pair.p50_ms", kindLatency, "ms", p.Pair.P50ms)
		add("paired."+p.Name+".diff.p50_ms", kindLatency, "ms", p.Diff.P50ms)
	}
	for _, p := range r.PairedTP {
		add("pairedtp."+p.Name+".server.per_s", kindThroughput, "/s", p.Server.PerSec)
		add("pairedtp."+p.Name+".pair.per_s", kindThroughput, "/s", p.Pair.PerSec)
		add("pairedtp."+p.Name+".ratio", kindCount, "pair/server", p.Ratio)
	}
	if w := r.Writes; w != nil {
		add("writes.writes_per_s", kindThroughput, "writes/s", w.WritesPerSec)
		add("writes.put.p50_ms", kindLatency, "ms", w.PutLatency.P50ms)
		add("writes.delete.p50_ms", kindLatency, "ms", w.DelLatency.P50ms)
	}
}
