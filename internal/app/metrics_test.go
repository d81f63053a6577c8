package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ingot/internal/app"
	"ingot/internal/app/apptest"
	"ingot/internal/baremetal"
	"ingot/internal/instanceapi"
	"ingot/internal/instanceapi/client"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/metrics/metricstest"
)

// TestMetricsEndToEnd runs the whole service on the fake Ironic, sends Placement writes
// and candidate queries, deploys one instance, fails another, deletes the first, and
// scrapes /metrics over HTTP after each step: the series of every part (HTTP, candidates,
// store, tracker, Ironic, instances, fleet) hold the values this traffic must produce.
// It also checks the access log: one Info line per request, from both APIs, with the same
// attributes.
func TestMetricsEndToEnd(t *testing.T) {
	ctx := t.Context()
	start := time.Now()
	fake := ironictest.NewServer(t)
	ids := fake.AddNodes(5, func(i int) ironic.Node {
		n := ironic.Node{Name: fmt.Sprintf("node-%d", i), ResourceClass: "gold", PowerState: "power off",
			ProvisionState: "available", Traits: []string{"CUSTOM_GOOD"}}
		switch i {
		case 3: // its deploy fails
			n.Traits = nil
		case 4:
			n.Maintenance = true
		}
		return n
	})
	fake.FailDeploy(ids[3], "disk on fire")

	logs := &lockedBuffer{}
	cfg := app.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "ingot.db")
	cfg.IronicURL = fake.URL
	cfg.SyncInterval = time.Second
	cfg.DeployWatchInterval = 50 * time.Millisecond
	log := slog.New(slog.NewJSONHandler(io.MultiWriter(logs, t.Output()), &slog.HandlerOptions{Level: slog.LevelInfo}))
	base := "http://" + apptest.Serve(t, cfg, log).String()
	scrape := func() metricstest.Families { return metricstest.Scrape(t, base+"/metrics") }
	waitFor := func(what string, ok func(metricstest.Families) bool) metricstest.Families {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			f := scrape()
			if ok(f) {
				return f
			}
			if time.Now().After(deadline) {
				t.Fatalf("waited a minute for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	passes := func(f metricstest.Families) float64 {
		v, _ := f.Get("ingot_tracker_passes_total", "outcome", "success")
		return v
	}
	afterPass := func() metricstest.Families {
		t.Helper()
		n := passes(scrape())
		return waitFor("a tracker pass", func(f metricstest.Families) bool { return passes(f) >= n+2 })
	}
	check := func(f metricstest.Families, name string, want float64, labels ...string) {
		t.Helper()
		if got := f.Value(t, name, labels...); got != want {
			t.Errorf("%s%v = %v, want %v", name, labels, got, want)
		}
	}
	atLeast := func(f metricstest.Families, name string, want float64, labels ...string) {
		t.Helper()
		if got := f.Value(t, name, labels...); got < want {
			t.Errorf("%s%v = %v, want at least %v", name, labels, got, want)
		}
	}

	t.Log("the first pass creates the nodes' providers")
	f := afterPass()
	check(f, "ingot_tracker_nodes", 5)
	check(f, "ingot_tracker_changes_total", 5, "action", "create")
	if v := f.Value(t, "ingot_tracker_last_success_timestamp_seconds"); v < float64(start.Unix()) {
		t.Errorf("last success %v, before the test started (%v)", v, start.Unix())
	}
	atLeast(f, "ingot_tracker_listing_duration_seconds_count", 1) // gathered apart from the passes
	atLeast(f, "ingot_ironic_requests_total", 2, "call", "list_nodes", "outcome", "ok")
	check(f, "ingot_inventory_units", 5, "resource_class", "CUSTOM_GOLD")
	check(f, "ingot_inventory_reserved_units", 1, "resource_class", "CUSTOM_GOLD") // maintenance
	check(f, "ingot_inventory_capacity_units", 4, "resource_class", "CUSTOM_GOLD")
	check(f, "ingot_ironic_nodes", 4, "provision_state", "available", "maintenance", "false")
	check(f, "ingot_ironic_nodes", 1, "provision_state", "available", "maintenance", "true")
	check(f, "ingot_resource_providers", 5)

	t.Log("Placement writes, a lost race and a candidate query")
	cl := &client.Client{URL: base, Token: "admin"}
	for _, u := range []string{"bbbbbbbb-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"} {
		if _, err := cl.Placement(ctx, "POST", "/resource_providers", map[string]any{"uuid": u, "name": u}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Placement(ctx, "PUT", "/resource_providers/"+u+"/inventories", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 4}}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if status, err := cl.Placement(ctx, "PUT", "/resource_providers/bbbbbbbb-0000-4000-8000-000000000001/inventories", map[string]any{
		"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 8}}}, nil); status != http.StatusConflict {
		t.Fatalf("stale inventory write: %d %v", status, err)
	}
	var cands struct {
		Requests []any `json:"allocation_requests"`
	}
	if _, err := cl.Placement(ctx, "GET", "/allocation_candidates?resources=CUSTOM_GOLD:1", nil, &cands); err != nil || len(cands.Requests) != 4 {
		t.Fatalf("candidates: %d, %v; want 4", len(cands.Requests), err)
	}
	f = scrape()
	placementReq := func(route, method, code string) []string {
		return []string{"api", "placement", "route", route, "method", method, "code", code}
	}
	check(f, "ingot_http_requests_total", 2, placementReq("/resource_providers", "POST", "200")...)
	check(f, "ingot_http_requests_total", 2, placementReq("/resource_providers/{uuid}/inventories", "PUT", "200")...)
	check(f, "ingot_http_requests_total", 1, placementReq("/resource_providers/{uuid}/inventories", "PUT", "409")...)
	check(f, "ingot_allocation_candidates_returned_count", 1)
	check(f, "ingot_allocation_candidates_returned_sum", 4)
	check(f, "ingot_store_conflicts_total", 1, "kind", "generation")
	atLeast(f, "ingot_store_transaction_duration_seconds_count", 4, "outcome", "committed")
	atLeast(f, "ingot_store_write_batch_size_count", 4)
	check(f, "ingot_inventory_units", 8, "resource_class", "VCPU")

	t.Log("one instance deployed; one pinned to the failing node ends in error")
	create := func(req instanceapi.CreateRequest) instanceapi.Instance {
		t.Helper()
		req.Image = baremetal.Image{Source: "http://images.example/disk.qcow2", Checksum: "0123456789abcdef0123456789abcdef"}
		in, _, err := cl.Create(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		in, err = cl.Wait(ctx, in.UUID, 50*time.Millisecond, client.Settled, nil)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	good := create(instanceapi.CreateRequest{Name: "good", Request: baremetal.Request{ResourceClass: "gold", Required: []string{"CUSTOM_GOOD"}}})
	if good.State != "active" {
		t.Fatalf("instance %s: %+v", good.State, good)
	}
	bad := create(instanceapi.CreateRequest{Name: "bad", Request: baremetal.Request{ResourceClass: "gold", Node: ids[3]}})
	if bad.State != "error" {
		t.Fatalf("pinned instance on the failing node: %+v", bad)
	}
	f = afterPass()
	check(f, "ingot_instances", 1, "state", "active")
	check(f, "ingot_instances", 1, "state", "error")
	check(f, "ingot_instances", 0, "state", "building")
	check(f, "ingot_instance_deploy_duration_seconds_count", 1)
	check(f, "ingot_instance_reschedules_total", 1)
	check(f, "ingot_instance_faults_total", 1, "code", "deploy_failed")
	check(f, "ingot_instance_faults_total", 1, "code", "no_valid_host")
	check(f, "ingot_inventory_used_units", 1, "resource_class", "CUSTOM_GOLD")
	check(f, "ingot_ironic_nodes", 1, "provision_state", "active", "maintenance", "false")
	check(f, "ingot_http_requests_total", 2, "api", "instance", "route", "/v1/instances", "method", "POST", "code", "202")
	atLeast(f, "ingot_http_requests_total", 2, "api", "instance", "route", "/v1/instances/{uuid}", "method", "GET", "code", "200")
	atLeast(f, "ingot_ironic_requests_total", 2, "call", "patch_node", "outcome", "ok") // the locks
	atLeast(f, "ingot_ironic_requests_total", 2, "call", "validate_node", "outcome", "ok")
	atLeast(f, "ingot_ironic_requests_total", 3, "call", "set_provision_state", "outcome", "ok") // 2 deploys, 1 tear-down
	atLeast(f, "ingot_ironic_request_duration_seconds_count", 3, "call", "set_provision_state")

	t.Log("the instance deleted")
	if _, err := cl.Delete(ctx, good.UUID); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Wait(ctx, good.UUID, 50*time.Millisecond, client.Deleted, nil); err != nil {
		t.Fatal(err)
	}
	f = afterPass()
	check(f, "ingot_instances", 1, "state", "deleted")
	check(f, "ingot_instances", 0, "state", "active")
	check(f, "ingot_instance_teardown_duration_seconds_count", 1)
	check(f, "ingot_inventory_used_units", 0, "resource_class", "CUSTOM_GOLD")
	check(f, "ingot_tracker_passes_total", 0, "outcome", "failure")
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if _, ok := f[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}

	t.Log("the access log: one Info line per request, alike from both APIs")
	glob := "req-2f1c9a2e-8b7d-4c3e-9f1a-0123456789ab"
	for _, path := range []string{"/resource_providers/bbbbbbbb-0000-4000-8000-000000000002", "/v1/instances/" + bad.UUID} {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		req.Header.Set("X-Auth-Token", "alice:proj1")
		req.Header.Set("X-Roles", "admin")
		req.Header.Set("X-Openstack-Request-Id", glob)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	f = scrape()
	total, _ := f.Get("ingot_http_requests_total")
	lines := logs.requestLines(t)
	if float64(len(lines)) != total {
		t.Errorf("%d access lines for %v requests", len(lines), total)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		for _, k := range []string{"request_id", "method", "route", "path", "status", "duration_ms"} {
			if _, ok := l[k]; !ok {
				t.Errorf("access line without %s: %v", k, l)
			}
		}
		if l["level"] != "INFO" {
			t.Errorf("access line at %v", l["level"])
		}
		if l["global_request_id"] == glob {
			seen[l["component"].(string)] = true
			if l["user_id"] != "alice" || l["project_id"] != "proj1" || l["status"] != float64(200) {
				t.Errorf("access line of the caller's request: %v", l)
			}
			if r := l["route"]; r != "/resource_providers/{uuid}" && r != "/v1/instances/{uuid}" {
				t.Errorf("route %v", r)
			}
		}
	}
	if !seen["placementapi"] || !seen["instanceapi"] {
		t.Errorf("lines with the global request id from %v, want both APIs", seen)
	}
}

// TestMetricsOff: --metrics=false serves no /metrics (Placement answers: no such route).
func TestMetricsOff(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "ingot.db")
	cfg.Metrics = false
	base := "http://" + apptest.Serve(t, cfg, slog.New(slog.NewTextHandler(t.Output(), nil))).String()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("X-Auth-Token", "admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics with metrics off: %d, want 404", resp.StatusCode)
	}
}

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// requestLines returns the access lines logged so far, decoded.
func (b *lockedBuffer) requestLines(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if l["msg"] == "request" {
			out = append(out, l)
		}
	}
	return out
}
