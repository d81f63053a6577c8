package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestClaimRetriesOnConflict(t *testing.T) {
	f, url := newFakePlacement(t)
	f.candidate = `{"allocation_requests":[{"allocations":{"rp-1":{"resources":{"` + classGold + `":1}}}}]}`
	f.putStatus = []int{409, 409}
	b := testBench(t, url, datasetFlat, 8)
	b.cfg.Claims = 3
	res, err := b.claim(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Claimed != 3 || res.Conflicts != 2 || res.PutAttempts != 5 || res.GaveUp != 0 {
		t.Errorf("claim result = %+v, want 3 claimed after 2 conflicts in 5 PUTs", res)
	}
	if res.ConflictCodes["placement.concurrent_update"] != 2 {
		t.Errorf("conflict codes = %v", res.ConflictCodes)
	}
	put := f.requests("PUT", "/allocations/")[0]
	allocs := put.Body["allocations"].(map[string]any)
	if _, ok := allocs["rp-1"]; !ok || put.Body["consumer_generation"] != nil ||
		put.Body["consumer_type"] != "INSTANCE" || put.Version != "placement 1.39" {
		t.Errorf("claim PUT = %+v", put)
	}
	get := f.requests("GET", "/allocation_candidates")[0]
	if get.Query != "resources="+classGold+":1&limit=10" {
		t.Errorf("claim query = %q", get.Query)
	}
}

func TestClaimGivesUpAfterRetries(t *testing.T) {
	f, url := newFakePlacement(t)
	f.candidate = `{"allocation_requests":[{"allocations":{"rp-1":{"resources":{"X":1}}}}]}`
	f.putStatus = []int{409, 409, 409, 409}
	b := testBench(t, url, datasetFlat, 8)
	b.cfg.Claims, b.cfg.Concurrency = 1, 1
	res, err := b.claim(t.Context())
	if err == nil || res.GaveUp != 1 || res.PutAttempts != 4 {
		t.Errorf("claim = %+v, %v; want one give-up after 4 attempts and an error", res, err)
	}
}

func TestPutUsesDistinctFreeProviders(t *testing.T) {
	f, url := newFakePlacement(t)
	b := testBench(t, url, datasetFlat, 8)
	b.cfg.Puts = 2
	res, err := b.put(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Allocated != 2 || res.Target != 2 {
		t.Errorf("put result = %+v", res)
	}
	list := only(t, f.requests("GET", "/resource_providers"))
	if list.Query != "resources="+classGold+":1" {
		t.Errorf("free-provider query = %q", list.Query)
	}
	var rps, consumers []string
	for _, r := range f.requests("PUT", "/allocations/") {
		for rp := range r.Body["allocations"].(map[string]any) {
			rps = append(rps, rp)
		}
		consumers = append(consumers, strings.TrimPrefix(r.Path, "/allocations/"))
	}
	slices.Sort(rps)
	if !slices.Equal(rps, []string{"rp-a", "rp-b"}) || consumers[0] == consumers[1] {
		t.Errorf("allocated %v for consumers %v, want rp-a and rp-b for two consumers", rps, consumers)
	}
}

func TestCandidatesMeasuresEveryQueryAndLimit(t *testing.T) {
	f, url := newFakePlacement(t)
	f.candidate = `{"allocation_requests":[{},{}],"provider_summaries":{"a":{},"b":{},"c":{}}}`
	b := testBench(t, url, datasetFlat, 8)
	res, err := b.candidates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(b.ds.Queries)*2 {
		t.Fatalf("%d results, want %d", len(res), len(b.ds.Queries)*2)
	}
	r := res[len(res)-1]
	if r.Name != "member_of_rack0.limit1000" || r.Items != 2 || r.Summaries != 3 || r.Latency.N != 3 {
		t.Errorf("last result = %+v", r)
	}
	// warmup 1 + samples 3 per query
	if got := len(f.requests("GET", "/allocation_candidates")); got != len(res)*4 {
		t.Errorf("%d requests, want %d", got, len(res)*4)
	}
}

func TestParsePhases(t *testing.T) {
	got, err := parsePhases("put, create,candidates")
	if err != nil || !slices.Equal(got, []string{"create", "candidates", "put"}) {
		t.Errorf("parsePhases = %v, %v; want run order", got, err)
	}
	if _, err := parsePhases("create,bogus"); err == nil {
		t.Errorf("unknown phase accepted")
	}
	if _, err := parsePhases(""); err == nil {
		t.Errorf("empty phases accepted")
	}
	if got, err := parsePhases("writes,put,throughput"); err != nil || !slices.Equal(got, []string{"throughput", "put", "writes"}) {
		t.Errorf("parsePhases = %v, %v; want writes last", got, err)
	}
}

func TestParseFlagsTokenAndLoops(t *testing.T) {
	cfg, err := parseFlags([]string{"-token", "gAAAAAB-fernet", "-tp-limit", "10", "-writes-duration", "3s", "-phases", "writes"})
	if err != nil || cfg.Token != "gAAAAAB-fernet" || cfg.TPLimit != 10 || cfg.WritesDuration != 3*time.Second {
		t.Errorf("parseFlags = %+v, %v", cfg, err)
	}
	// run sends the token with every request.
	f, url := newFakePlacement(t)
	cfg, err = parseFlags([]string{"-url", url, "-token", "gAAAAAB-fernet", "-n", "3", "-phases", "create,throughput",
		"-tp-clients", "1", "-tp-duration", "20ms"})
	if err != nil {
		t.Fatal(err)
	}
	f.candidate = `{"allocation_requests":[],"provider_summaries":{}}`
	if _, err := run(t.Context(), cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	for _, r := range f.reqs {
		if r.Token != "gAAAAAB-fernet" {
			t.Errorf("%s %s sent X-Auth-Token %q", r.Method, r.Path, r.Token)
		}
	}
	n := len(f.reqs)
	f.mu.Unlock()
	if n < 10 {
		t.Errorf("only %d requests", n)
	}
	for _, bad := range [][]string{{"-tp-limit", "-1"}, {"-writes-duration", "0s"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestMetricsNames(t *testing.T) {
	r := &result{
		Create:     &createResult{ProvidersPerSec: 10},
		Candidates: []queryResult{{Name: "plain.limit10", Items: 10}},
		Put:        &putResult{AllocsPerSec: 5},
	}
	r.addMetrics()
	var names []string
	for _, m := range r.Metrics {
		names = append(names, m.Name+":"+m.Kind)
	}
	for _, want := range []string{"create.providers_per_s:throughput", "candidates.plain.limit10.p50_ms:latency",
		"candidates.plain.limit10.candidates:count", "put.allocations_per_s:throughput"} {
		if !slices.Contains(names, want) {
			t.Errorf("metrics %v lack %s", names, want)
		}
	}
}

func TestCandidatesTimeoutEndsOnlyThatQuery(t *testing.T) {
	f, url := newFakePlacement(t)
	f.candidate = `{"allocation_requests":[],"provider_summaries":{}}`
	f.slow.Store(int64(time.Second))
	b := testBench(t, url, datasetWide, 1)
	b.cfg.QueryTimeout = 50 * time.Millisecond
	b.cfg.Limits = []int{10}
	res, err := b.candidates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 {
		t.Fatalf("%d query results, want both wide queries", len(res))
	}
	for _, q := range res {
		if !q.TimedOut || q.Latency.P50ms != 50 || q.Latency.N != 1 {
			t.Errorf("%s: timed_out=%v latency=%+v, want timed out with the 50 ms timeout as latency", q.Name, q.TimedOut, q.Latency)
		}
	}
	if b.errors["timeout_wide_6vf_groups.limit10"] != 1 || b.errors["timeout_wide_8pci_groups.limit10"] != 1 {
		t.Errorf("errors %v; want one timeout per query", b.errors)
	}
}

func TestWideDatasetShapes(t *testing.T) {
	d, err := buildDataset(datasetWide, 2, 20, "x")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Trees) != 4 || d.providerCount() != 36 {
		t.Fatalf("%d trees, %d providers; want 2 VF and 2 PCI trees of 9", len(d.Trees), d.providerCount())
	}
	vf, pci := d.Trees[0], d.Trees[2]
	if vf[1].Inventories["SRIOV_NET_VF"].Total != 8 || pci[8].Inventories[classPCI].Total != 1 || pci[8].ParentUUID != pci[0].UUID {
		t.Errorf("trees: %+v / %+v", vf[1], pci[8])
	}
	if got := d.Queries[1].QS; !strings.HasPrefix(got, "resources1="+classPCI+":1&") || !strings.HasSuffix(got, "resources8="+classPCI+":1&group_policy=none") {
		t.Errorf("8-group query = %q", got)
	}
}
