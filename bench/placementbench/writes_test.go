package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store/storetest"
)

// ingotServer serves ingot's real Placement API (noauth2) on a fresh SQLite database.
func ingotServer(t *testing.T) string {
	t.Helper()
	enf, err := policy.New(policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(placementapi.New(storetest.Open(t, storetest.SQLite), placementapi.Options{Policy: enf}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestWritesLeavesTheDataSetAsItWas runs the write loop on ingot's real API: every PUT and
// DELETE succeeds, no two clients write to one provider, and afterwards every provider is
// free again, with no consumer left.
func TestWritesLeavesTheDataSetAsItWas(t *testing.T) {
	url := ingotServer(t)
	b := testBench(t, url, datasetFlat, 12)
	if _, err := b.create(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.cfg.Concurrency, b.cfg.WritesDuration = 3, 300*time.Millisecond
	res, err := b.writes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Providers != 12 || res.Clients != 3 || res.Puts == 0 || res.Deletes != res.Puts ||
		res.Writes != 2*res.Puts || res.OtherErrors != 0 || res.PutLatency.N != res.Puts {
		t.Errorf("writes = %+v, want as many DELETEs as PUTs and no other answer", res)
	}
	if res.WritesPerSec <= 0 || res.Seconds < 0.3 {
		t.Errorf("writes ran %.3fs at %.1f writes/s", res.Seconds, res.WritesPerSec)
	}
	// All 12 providers have their unit free again.
	free, err := b.freeProviders(t.Context(), 100)
	if err != nil || len(free) != 12 {
		t.Errorf("free providers after the loop: %d, %v; want 12", len(free), err)
	}
	r, err := b.c.expect(t.Context(), "GET", "/usages?project_id=bench-project", "1.39", nil, 200)
	if err != nil {
		t.Fatal(err)
	}
	var u struct {
		Usages map[string]int `json:"usages"`
	}
	if err := json.Unmarshal(r.body, &u); err != nil || u.Usages[classGold] != 0 {
		t.Errorf("usages after the loop = %s", r.body)
	}
	// The result carries its metrics.
	full := &result{Writes: res}
	full.addMetrics()
	var names []string
	for _, m := range full.Metrics {
		names = append(names, m.Name+":"+m.Kind)
	}
	if got := strings.Join(names, " "); got != "writes.writes_per_s:throughput writes.put.p50_ms:latency writes.delete.p50_ms:latency" {
		t.Errorf("metrics = %s", got)
	}
}

// TestWritesNeedAProviderPerClient: more clients than free providers is refused before any
// write (two clients on one provider would make each other's PUTs fail).
func TestWritesNeedAProviderPerClient(t *testing.T) {
	f, url := newFakePlacement(t) // it lists 3 free providers
	b := testBench(t, url, datasetFlat, 8)
	b.cfg.Concurrency = 4
	if _, err := b.writes(t.Context()); err == nil || !strings.Contains(err.Error(), "3 free providers for 4 clients") {
		t.Errorf("writes with 4 clients on 3 providers: %v", err)
	}
	if n := len(f.requests("PUT", "/allocations/")); n != 0 {
		t.Errorf("%d PUTs sent", n)
	}
}

// TestWritesStopsOnAFailedDelete: a client whose DELETE fails stops (its provider stays
// full) and the phase reports the status.
func TestWritesStopsOnAFailedDelete(t *testing.T) {
	url := ingotServer(t)
	b := testBench(t, url, datasetFlat, 2)
	if _, err := b.create(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A server that refuses every DELETE, in front of the real one.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "DELETE" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		proxy(w, r, url)
	}))
	defer proxy.Close()
	b.c = newClient(proxy.URL, "admin", 2, 10*time.Second)
	b.cfg.Concurrency, b.cfg.WritesDuration = 2, 5*time.Second
	start := time.Now()
	res, err := b.writes(t.Context())
	if err == nil || res.Puts != 2 || res.Statuses["DELETE 503"] != 2 || res.Writes != 2 {
		t.Errorf("writes = %+v, %v; want 2 PUTs, 2 failed DELETEs and an error", res, err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("the clients went on after their DELETE failed")
	}
	if b.errors["writes_delete_503"] != 2 {
		t.Errorf("errors = %v", b.errors)
	}
}

// proxy forwards r to the server at base and copies its answer to w.
func proxy(w http.ResponseWriter, r *http.Request, base string) {
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), r.Body)
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
