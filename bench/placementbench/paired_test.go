package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPairedSeesTheSlowerServer: ingot's real API twice with the same data set, the pair
// one behind a handler that adds 10 ms and wants its own token. The phase alternates
// between them, finds the 3 ms in every request kind, and leaves both data sets free.
func TestPairedSeesTheSlowerServer(t *testing.T) {
	fast := ingotServer(t)
	slowBackend := ingotServer(t)
	var mu sync.Mutex
	var order []string // "fast"/"slow" per measured-kind request, in arrival order
	record := func(who string, r *http.Request) {
		if r.URL.Path != "/" && !strings.HasPrefix(r.URL.Path, "/resource_providers") {
			mu.Lock()
			order = append(order, who)
			mu.Unlock()
		}
	}
	fastProxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("fast", r)
		proxy(w, r, fast)
	}))
	defer fastProxy.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != "pair-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		record("slow", r)
		time.Sleep(10 * time.Millisecond)
		r.Header.Set("X-Auth-Token", "admin")
		proxy(w, r, slowBackend)
	}))
	defer slow.Close()

	for _, url := range []string{fast, slowBackend} {
		b := testBench(t, url, datasetFlat, 6)
		if _, err := b.create(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	b := testBench(t, fastProxy.URL, datasetFlat, 6)
	b.cfg.PairURL, b.cfg.PairToken = slow.URL, "pair-token"
	b.cfg.Samples, b.cfg.Warmup, b.cfg.Limits = 8, 1, []int{10}
	res, err := b.paired(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	if last := res[len(res)-1]; last.Name != pairedAll || last.Diff.N != 6*8 || last.Diff.P50ms < 5 {
		t.Errorf("pooled result = %+v, want all 48 pairs with the 10 ms", last)
	}
	for _, r := range res[:len(res)-1] {
		names = append(names, r.Name)
		if r.Server.N != 8 || r.Pair.N != 8 || r.Diff.N != 8 || r.Errors != 0 {
			t.Errorf("%s: %d/%d/%d samples, %d errors; want 8 pairs", r.Name, r.Server.N, r.Pair.N, r.Diff.N, r.Errors)
		}
		if r.Diff.P50ms < 5 || r.Pair.P50ms < r.Server.P50ms+5 { // 10 ms, less the noise of a busy machine
			t.Errorf("%s: pair - server = %.3f ms (p50s %.3f, %.3f), want the 10 ms the pair adds", r.Name, r.Diff.P50ms, r.Server.P50ms, r.Pair.P50ms)
		}
	}
	want := "plain.limit10 required_raid.limit10 required_avx2.limit10 member_of_rack0.limit10 writes.put writes.delete"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("kinds = %s, want %s", got, want)
	}
	// Warmup: fast slow; then the pairs alternate which side goes first.
	mu.Lock()
	got := strings.Join(order[:6], " ")
	mu.Unlock()
	if got != "fast slow fast slow slow fast" {
		t.Errorf("first requests went to %s, want a warmup turn each, then alternating pairs", got)
	}
	// Both data sets are as they were.
	for _, url := range []string{fast, slowBackend} {
		c := testBench(t, url, datasetFlat, 6)
		if free, err := c.freeProviders(t.Context(), 100); err != nil || len(free) != 6 {
			t.Errorf("%s: %d free providers after the phase, %v; want 6", url, len(free), err)
		}
	}
}

func TestPairedNeedsAPair(t *testing.T) {
	_, url := newFakePlacement(t)
	b := testBench(t, url, datasetFlat, 3)
	if _, err := b.paired(t.Context()); err == nil {
		t.Errorf("paired without -pair-url succeeded")
	}
}

// TestPairedLeavesOutFailedPairs: a pair in which one side fails is not measured.
func TestPairedLeavesOutFailedPairs(t *testing.T) {
	b := &bench{cfg: config{Warmup: 0, Samples: 6, QueryBudget: time.Minute}, log: t.Output(), errors: map[string]int{}}
	i := 0
	res, err := b.alternate(t.Context(), []string{"x"}, func(_ context.Context, side int) ([]time.Duration, error) {
		i++
		if i == 3 { // the second pair's first turn
			return nil, nil
		}
		return []time.Duration{time.Duration(1+side) * time.Millisecond}, nil
	})
	if err != nil || res[0].Errors != 1 || res[0].Diff.N != 5 || res[0].Diff.P50ms != 1 || res[0].Server.P50ms != 1 {
		t.Errorf("alternate = %+v, %v; want 5 pairs with a 1 ms difference and 1 left out", res, err)
	}
}
