package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorded is one request the fake server received.
type recorded struct {
	Method, Path, Query, Version, Token string
	Body                                map[string]any
}

// fakePlacement records requests and answers the creation and allocation calls the way
// Placement does, tracking provider generations, so that the phases can run against it.
type fakePlacement struct {
	mu        sync.Mutex
	reqs      []recorded
	gens      map[string]int
	candidate string       // allocation_candidates answer
	putStatus []int        // statuses of successive PUT /allocations (then 204)
	slow      atomic.Int64 // nanoseconds each allocation_candidates answer waits
}

// newFakePlacement starts the fake on httptest and returns it with its URL.
func newFakePlacement(t *testing.T) (*fakePlacement, string) {
	t.Helper()
	f := &fakePlacement{gens: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakePlacement) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := time.Duration(f.slow.Load()); d > 0 && r.URL.Path == "/allocation_candidates" {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	var body map[string]any
	if b, _ := io.ReadAll(r.Body); len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery,
		r.Header.Get("OpenStack-API-Version"), r.Header.Get("X-Auth-Token"), body})
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/":
		io.WriteString(w, `{"versions":[{"id":"v1.0","max_version":"1.39","min_version":"1.0"}]}`)
	case r.Method == "PUT" && (parts[0] == "traits" || parts[0] == "resource_classes"):
		w.WriteHeader(201)
	case r.Method == "POST" && r.URL.Path == "/resource_providers":
		f.gens[body["uuid"].(string)] = 0
		json.NewEncoder(w).Encode(map[string]any{"uuid": body["uuid"], "generation": 0})
	case r.Method == "PUT" && parts[0] == "resource_providers" && len(parts) == 3:
		f.putProviderPart(w, parts[1], body)
	case r.Method == "GET" && r.URL.Path == "/resource_providers":
		io.WriteString(w, `{"resource_providers":[{"uuid":"rp-b"},{"uuid":"rp-a"},{"uuid":"rp-c"}]}`)
	case r.Method == "GET" && r.URL.Path == "/allocation_candidates":
		io.WriteString(w, f.candidate)
	case r.Method == "PUT" && parts[0] == "allocations":
		status := 204
		if len(f.putStatus) > 0 {
			status, f.putStatus = f.putStatus[0], f.putStatus[1:]
		}
		w.WriteHeader(status)
		if status == 409 {
			io.WriteString(w, `{"errors":[{"status":409,"code":"placement.concurrent_update"}]}`)
		}
	default:
		http.NotFound(w, r)
	}
}

// putProviderPart checks the generation like Placement and bumps it.
func (f *fakePlacement) putProviderPart(w http.ResponseWriter, uuid string, body map[string]any) {
	gen, ok := f.gens[uuid]
	if !ok {
		http.NotFound(w, nil)
		return
	}
	if body["resource_provider_generation"] != float64(gen) {
		w.WriteHeader(409)
		return
	}
	f.gens[uuid] = gen + 1
	json.NewEncoder(w).Encode(map[string]any{"resource_provider_generation": gen + 1})
}

// requests returns the recorded requests matching method and path prefix.
func (f *fakePlacement) requests(method, pathPrefix string) []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.reqs {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) {
			out = append(out, r)
		}
	}
	return out
}

// testBench returns a bench for the data set against url, logging to the test.
func testBench(t *testing.T, url, kind string, n int) *bench {
	t.Helper()
	cfg, err := parseFlags([]string{"-url", url, "-dataset", kind, "-n", strconv.Itoa(n), "-run-id", "test",
		"-c", "4", "-samples", "3", "-warmup", "1", "-list-samples", "1"})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := buildDataset(cfg.Dataset, cfg.N, cfg.Racks, cfg.RunID)
	if err != nil {
		t.Fatal(err)
	}
	return &bench{cfg: cfg, c: newClient(url, "admin", 4, 10*time.Second), ds: ds,
		log: t.Output(), errors: map[string]int{}}
}
