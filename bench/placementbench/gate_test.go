package main

import (
	"strings"
	"testing"
	"time"
)

func TestCanonicalAnswerIgnoresOrderOnly(t *testing.T) {
	names := map[string]string{"u-root": "gate0", "u-numa": "gate0-numa1", "u-fpga": "gate0-fpga1_0"}
	const a = `{"allocation_requests": [
	  {"allocations": {"u-root": {"resources": {"DISK_GB": 10}}, "u-numa": {"resources": {"VCPU": 1, "MEMORY_MB": 256}}},
	   "mappings": {"": ["u-root"], "_C": ["u-numa"]}},
	  {"allocations": {"u-fpga": {"resources": {"FPGA": 1}}}, "mappings": {"_F": ["u-fpga"]}}],
	 "provider_summaries": {
	  "u-root": {"resources": {"DISK_GB": {"capacity": 100, "used": 0}}, "traits": ["B", "A"], "parent_provider_uuid": null, "root_provider_uuid": "u-root"},
	  "u-numa": {"resources": {}, "traits": [], "parent_provider_uuid": "u-root", "root_provider_uuid": "u-root"}}}`
	// the same answer, every list and object in another order
	const b = `{"provider_summaries": {
	  "u-numa": {"traits": [], "resources": {}, "root_provider_uuid": "u-root", "parent_provider_uuid": "u-root"},
	  "u-root": {"resources": {"DISK_GB": {"used": 0, "capacity": 100}}, "traits": ["A", "B"], "parent_provider_uuid": null, "root_provider_uuid": "u-root"}},
	 "allocation_requests": [
	  {"mappings": {"_F": ["u-fpga"]}, "allocations": {"u-fpga": {"resources": {"FPGA": 1}}}},
	  {"allocations": {"u-numa": {"resources": {"MEMORY_MB": 256, "VCPU": 1}}, "u-root": {"resources": {"DISK_GB": 10}}},
	   "mappings": {"_C": ["u-numa"], "": ["u-root"]}}]}`
	ca, sa, err := canonicalAnswer([]byte(a), names)
	if err != nil {
		t.Fatal(err)
	}
	cb, sb, err := canonicalAnswer([]byte(b), names)
	if err != nil {
		t.Fatal(err)
	}
	if digest(ca) != digest(cb) || digest(sa) != digest(sb) || len(ca) != 2 || len(sa) != 2 {
		t.Errorf("reordered answers differ:\n%q\n%q\n%q\n%q", ca, cb, sa, sb)
	}
	if !strings.Contains(strings.Join(ca, "\n"), "gate0-numa1/VCPU:1") {
		t.Errorf("providers not named by the data set: %q", ca)
	}
	for _, changed := range []string{
		strings.Replace(a, `"FPGA": 1`, `"FPGA": 2`, 1),               // an amount
		strings.Replace(a, `"_F": ["u-fpga"]`, `"_G": ["u-fpga"]`, 1), // a group
		strings.Replace(a, `"used": 0`, `"used": 10`, 1),              // a summary
	} {
		cc, sc, err := canonicalAnswer([]byte(changed), names)
		if err != nil {
			t.Fatal(err)
		}
		if digest(cc) == digest(ca) && digest(sc) == digest(sa) {
			t.Errorf("a changed answer has the same digests:\n%s", changed)
		}
	}
	if digestValue(digest(ca)) == digestValue(digest(sa)) || digestValue(digest(ca)) >= 1<<48 {
		t.Errorf("digest values %v %v", digestValue(digest(ca)), digestValue(digest(sa)))
	}
}

func TestGateWritesAllocationsBetweenTimings(t *testing.T) {
	f, url := newFakePlacement(t)
	f.candidate = `{"allocation_requests":[{"allocations":{"rp-1":{"resources":{"FPGA":1}}}},{}],"provider_summaries":{"rp-1":{}}}`
	b := testBench(t, url, datasetGate, 2)
	b.cfg.GateAllocs, b.cfg.GateTimings, b.cfg.Warmup = 3, 2, 0
	res, err := b.gate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	g := res[0]
	if g.Allocations != 3 || g.Latency.N != 8 || g.AfterWrite.N != 4 || g.FirstItems != 2 || g.Summaries != 1 {
		t.Errorf("gate result = %+v", g)
	}
	var seq []string
	f.mu.Lock()
	reqs := f.reqs
	f.mu.Unlock()
	for _, r := range reqs {
		switch {
		case r.Method == "PUT":
			seq = append(seq, "put")
		case strings.HasSuffix(r.Query, "&limit=5"):
			seq = append(seq, "pick")
		default:
			seq = append(seq, "get")
		}
	}
	if got := strings.Join(seq, " "); got != "get get pick put get get pick put get get pick put get get" {
		t.Errorf("requests: %s", got)
	}
	for _, r := range f.requests("GET", "/allocation_candidates") {
		if !strings.HasPrefix(r.Query, gateQuery) {
			t.Errorf("query %q", r.Query)
		}
	}
}

func TestThroughputCountsAnswers(t *testing.T) {
	f, url := newFakePlacement(t)
	f.candidate = `{"allocation_requests":[{}],"provider_summaries":{}}`
	b := testBench(t, url, datasetGate, 1)
	b.cfg.TPClients, b.cfg.TPDuration = 3, 200*time.Millisecond
	res, err := b.throughput(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tp := res[0]
	got := len(f.requests("GET", "/allocation_candidates"))
	if tp.Requests != got || tp.Requests < 3 || tp.PerSec <= 0 || tp.MinBytes != int64(len(f.candidate)) {
		t.Errorf("throughput = %+v; server saw %d requests", tp, got)
	}
}

func TestThroughputLimit(t *testing.T) {
	f, url := newFakePlacement(t)
	f.candidate = `{"allocation_requests":[{}],"provider_summaries":{}}`
	b := testBench(t, url, datasetGate, 1)
	b.cfg.TPClients, b.cfg.TPDuration, b.cfg.TPLimit = 1, 50*time.Millisecond, 10
	res, err := b.throughput(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Name != "gate.limit10" || !strings.HasSuffix(res[0].Path, "&limit=10") {
		t.Errorf("throughput with -tp-limit 10 = %+v", res[0])
	}
	for _, r := range f.requests("GET", "/allocation_candidates") {
		if r.Query != gateQuery+"&limit=10" {
			t.Fatalf("query %q, want the gate query with limit=10", r.Query)
		}
	}
}
