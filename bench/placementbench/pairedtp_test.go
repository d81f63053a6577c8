package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPairedTPSeesTheSlowerServer: ingot's real API twice with the same data set, the pair
// one behind a handler that makes every request take 20 ms longer. The phase gives both
// sides their slices, finds the pair slower on every kind, and leaves both data sets free.
func TestPairedTPSeesTheSlowerServer(t *testing.T) {
	fast, slowBackend := ingotServer(t), ingotServer(t)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != "pair-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		time.Sleep(20 * time.Millisecond)
		r.Header.Set("X-Auth-Token", "admin")
		proxy(w, r, slowBackend)
	}))
	defer slow.Close()
	for _, url := range []string{fast, slowBackend} {
		if _, err := testBench(t, url, datasetFlat, 8).create(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	b := testBench(t, fast, datasetFlat, 8)
	b.cfg.PairURL, b.cfg.PairToken = slow.URL, "pair-token"
	b.cfg.TPClients, b.cfg.Concurrency, b.cfg.TPLimit = 2, 2, 10
	b.cfg.TPDuration, b.cfg.WritesDuration, b.cfg.Slice = 300*time.Millisecond, 300*time.Millisecond, 100*time.Millisecond
	res, err := b.pairedTP(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range res {
		names = append(names, r.Name)
		if r.Slices != 3 || r.Server.Done == 0 || r.Pair.Done == 0 || r.Server.Errors+r.Pair.Errors != 0 {
			t.Errorf("%s = %+v; want 3 slices a side with answers and no errors", r.Name, r)
		}
		// Each side's time is its 3 slices of 100 ms (plus the requests in flight at the end).
		if r.Server.Seconds < 0.3 || r.Pair.Seconds < 0.3 || r.Server.Seconds > 2 || r.Pair.Seconds > 2 {
			t.Errorf("%s: %.3fs and %.3fs", r.Name, r.Server.Seconds, r.Pair.Seconds)
		}
		if r.Ratio <= 0 || r.Ratio >= 0.9 || r.RatioMedian <= 0 || r.RatioMedian >= 0.9 {
			t.Errorf("%s: ratio %.3f (median %.3f), want the pair clearly slower", r.Name, r.Ratio, r.RatioMedian)
		}
	}
	want := "plain.limit10 required_raid.limit10 required_avx2.limit10 member_of_rack0.limit10 writes"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("kinds = %s, want %s", got, want)
	}
	if w := res[len(res)-1]; w.Server.Done%2 != 0 || w.Pair.Done%2 != 0 {
		t.Errorf("writes = %+v: every PUT is followed by its DELETE", w)
	}
	for _, url := range []string{fast, slowBackend} {
		if free, err := testBench(t, url, datasetFlat, 8).freeProviders(t.Context(), 100); err != nil || len(free) != 8 {
			t.Errorf("%s: %d free providers after the phase, %v; want 8", url, len(free), err)
		}
	}
}

// TestAlternateSlicesTakesTurns: the sides alternate which goes first, and the ratios come
// from what each side did in its time.
func TestAlternateSlicesTakesTurns(t *testing.T) {
	b := &bench{cfg: config{Slice: 40 * time.Millisecond}, log: t.Output(), errors: map[string]int{}}
	var mu sync.Mutex
	var order []int
	res, err := b.alternateSlices(t.Context(), "x", 1, 120*time.Millisecond, func(_ context.Context, side int, until time.Time) (int, int, error) {
		mu.Lock()
		order = append(order, side)
		mu.Unlock()
		time.Sleep(time.Until(until))
		return 10 * (side + 1), side, nil // the pair does twice as much, with one error
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(order); got != "[0 1 1 0 0 1]" {
		t.Errorf("turns = %s, want [0 1 1 0 0 1]", got)
	}
	if res.Slices != 3 || res.Server.Done != 30 || res.Pair.Done != 60 || res.Pair.Errors != 3 ||
		res.Ratio < 1.6 || res.Ratio > 2.4 || res.RatioMedian < 1.6 || res.RatioMedian > 2.4 { // sleeps overrun on a busy machine
		t.Errorf("result = %+v; want the pair at twice the server's rate", res)
	}
	if b.errors["pairedtp_x_side1"] != 1 {
		t.Errorf("errors = %v", b.errors)
	}
}
