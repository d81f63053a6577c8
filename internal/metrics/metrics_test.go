package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/fleet"
	"ingot/internal/ironic"
	"ingot/internal/metrics"
	"ingot/internal/metrics/metricstest"
	"ingot/internal/placement"
)

func scrape(t *testing.T, m *metrics.Metrics) metricstest.Families {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	return metricstest.Scrape(t, srv.URL)
}

// TestZeroMetricsReportNothing: the zero Metrics (--metrics=false, and packages built
// without metrics) takes every call without effect.
func TestZeroMetricsReportNothing(t *testing.T) {
	var m metrics.Metrics
	m.HTTP.Observe("placement", "/", "GET", 200, time.Millisecond)
	m.Candidates.Observe(time.Millisecond, 3)
	m.Store.Transaction(metrics.OutcomeCommitted, time.Millisecond)
	m.Store.Retry(metrics.ConflictGeneration)
	m.Store.Batch(3, time.Millisecond)
	m.Tracker.ObservePass(metrics.Pass{Nodes: 3})
	m.Instances.Moved(baremetal.Instance{}, baremetal.Instance{State: baremetal.StateActive}, time.Now())
	m.Fleet.ObserveListing([]ironic.Node{{}})
	m.Collect(metrics.Sources{})
	m.CollectReplica(metrics.ReplicaSources{})
	next := http.DefaultTransport
	if got := m.Ironic.Transport(next); got != next {
		t.Errorf("a nil Ironic wrapped the transport")
	}
	if m.Registry() != nil {
		t.Errorf("the zero Metrics has a registry")
	}
}

// TestStandardCollectors: the Go runtime and process collectors are on the registry.
func TestStandardCollectors(t *testing.T) {
	f := scrape(t, metrics.New())
	for _, name := range []string{"go_goroutines", "go_gc_duration_seconds", "process_cpu_seconds_total",
		"process_resident_memory_bytes", "promhttp_metric_handler_requests_total"} {
		if _, ok := f[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
}

func TestIronicCall(t *testing.T) {
	const id = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123"
	for _, tt := range []struct{ method, path, want string }{
		{"GET", "/", "versions"},
		{"GET", "/baremetal/", "versions"},
		{"GET", "/v1", "version"},
		{"GET", "/v1/nodes", "list_nodes"},
		{"GET", "/v1/nodes/detail", "list_nodes"},
		{"GET", "/baremetal/v1/nodes/" + id, "get_node"},
		{"GET", "/v1/nodes/node-name-7", "get_node"},
		{"PATCH", "/v1/nodes/" + id, "patch_node"},
		{"POST", "/v1/nodes", "create_node"},
		{"DELETE", "/v1/nodes/" + id, "delete_node"},
		{"GET", "/v1/nodes/" + id + "/validate", "validate_node"},
		{"PUT", "/v1/nodes/" + id + "/states/provision", "set_provision_state"},
		{"PUT", "/v1/nodes/" + id + "/states/power", "set_power_state"},
		{"PUT", "/v1/nodes/" + id + "/maintenance", "set_maintenance"},
		{"DELETE", "/v1/nodes/" + id + "/maintenance", "unset_maintenance"},
		{"PUT", "/v1/nodes/" + id + "/traits", "set_traits"},
		{"PUT", "/v1/nodes/" + id + "/traits/CUSTOM_X", "add_trait"},
		{"DELETE", "/v1/nodes/" + id + "/traits/CUSTOM_X", "remove_trait"},
		{"POST", "/v1/allocations", "create_allocation"},
		{"GET", "/v1/allocations/" + id, "get_allocation"},
		{"DELETE", "/v1/allocations/" + id, "delete_allocation"},
		{"GET", "/v1/ports", "other"},
		{"PUT", "/v1/nodes/" + id + "/states/raid/x", "other"},
		{"POST", "/", "other"},
	} {
		if got := metrics.IronicCall(tt.method, tt.path); got != tt.want {
			t.Errorf("IronicCall(%s %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

// TestIronicTransport: requests are counted by call and outcome, errors included.
func TestIronicTransport(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case "PATCH":
			w.WriteHeader(http.StatusConflict)
		case "PUT":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer fake.Close()
	m := metrics.New()
	c := &http.Client{Transport: m.Ironic.Transport(http.DefaultTransport)}
	send := func(method, path string) {
		req, _ := http.NewRequest(method, fake.URL+path, nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	for range 3 {
		send("GET", "/v1/nodes")
	}
	send("PATCH", "/v1/nodes/abc")
	send("PUT", "/v1/nodes/abc/states/provision")
	// No answer: a closed port.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	req, _ := http.NewRequest("GET", closed.URL+"/v1/nodes/abc", nil)
	if _, err := c.Do(req); err == nil {
		t.Fatal("a closed server answered")
	}
	f := scrape(t, m)
	for _, tt := range []struct {
		call, outcome string
		want          float64
	}{
		{"list_nodes", "ok", 3}, {"patch_node", "conflict", 1}, {"set_provision_state", "unavailable", 1},
		{"get_node", "error", 1},
	} {
		if got := f.Value(t, "ingot_ironic_requests_total", "call", tt.call, "outcome", tt.outcome); got != tt.want {
			t.Errorf("requests %s/%s = %v, want %v", tt.call, tt.outcome, got, tt.want)
		}
		if got := f.Value(t, "ingot_ironic_request_duration_seconds_count", "call", tt.call, "outcome", tt.outcome); got != tt.want {
			t.Errorf("timed %s/%s = %v, want %v", tt.call, tt.outcome, got, tt.want)
		}
	}
}

// TestInstancesMoved: which record writes count as a deploy, a tear-down, a reschedule
// and a fault.
func TestInstancesMoved(t *testing.T) {
	m := metrics.New()
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	building := baremetal.Instance{State: baremetal.StateBuilding, Task: baremetal.TaskScheduling, CreatedAt: t0, UpdatedAt: t0}
	locking := building
	locking.Task = baremetal.TaskLocking
	deploying := locking
	deploying.Task, deploying.UpdatedAt = baremetal.TaskDeploying, t0.Add(time.Second)
	failed := deploying
	failed.Task, failed.Fault = baremetal.TaskRescheduling, &baremetal.Fault{Code: "deploy_failed", Time: t0.Add(2 * time.Second)}
	again := failed
	again.Task = baremetal.TaskScheduling // released: scheduled again, the fault kept
	redeploying := again
	redeploying.Task = baremetal.TaskDeploying
	active := redeploying
	active.State, active.Task, active.Fault = baremetal.StateActive, baremetal.TaskNone, nil
	deleting := active
	deleting.State, deleting.UpdatedAt = baremetal.StateDeleting, t0.Add(100*time.Second)
	deleted := deleting
	deleted.State = baremetal.StateDeleted
	noHost := building
	noHost.State, noHost.Fault = baremetal.StateError, &baremetal.Fault{Code: "no_valid_host", Time: t0}
	weird := building
	weird.Fault = &baremetal.Fault{Code: "Not A Code", Time: t0}

	m.Instances.Moved(building, locking, t0)
	m.Instances.Moved(locking, deploying, t0)
	m.Instances.Moved(deploying, failed, t0)
	m.Instances.Moved(failed, again, t0)
	m.Instances.Moved(again, redeploying, t0)
	m.Instances.Moved(redeploying, active, t0.Add(90*time.Second))
	m.Instances.Moved(deleting, deleted, t0.Add(130*time.Second))
	m.Instances.Moved(building, noHost, t0)
	m.Instances.Moved(building, weird, t0)

	f := scrape(t, m)
	check := func(name string, want float64, labels ...string) {
		t.Helper()
		if got := f.Value(t, name, labels...); got != want {
			t.Errorf("%s%v = %v, want %v", name, labels, got, want)
		}
	}
	check("ingot_instance_deploy_duration_seconds_count", 1)
	check("ingot_instance_deploy_duration_seconds_sum", 90)
	check("ingot_instance_teardown_duration_seconds_count", 1)
	check("ingot_instance_teardown_duration_seconds_sum", 30)
	check("ingot_instance_reschedules_total", 1)
	check("ingot_instance_faults_total", 1, "code", "deploy_failed")
	check("ingot_instance_faults_total", 1, "code", "no_valid_host")
	check("ingot_instance_faults_total", 1, "code", "other")
}

// TestCollector: the fleet and instance gauges are computed from the sources at scrape
// time; unknown provision states fold into "other"; a failing source fails only its own
// metrics.
func TestCollector(t *testing.T) {
	cat := &fleet.Catalog{ClassIDs: map[string]int64{"VCPU": 0, "CUSTOM_GOLD": 10000},
		ClassNames: map[int64]string{0: "VCPU", 10000: "CUSTOM_GOLD"}}
	inv := func(class, total, reserved, used int64, ratio float64) fleet.Inventory {
		return fleet.Inventory{ClassID: class, Used: used,
			Inventory: placement.Inventory{Total: total, Reserved: reserved, MinUnit: 1, MaxUnit: total, StepSize: 1, AllocationRatio: ratio}}
	}
	var providers []*fleet.Provider
	for i := range 10 {
		reserved, used := int64(0), int64(0)
		switch {
		case i < 3:
			used = 1
		case i < 5:
			reserved = 1
		}
		providers = append(providers, &fleet.Provider{ID: int64(i + 1), UUID: fmt.Sprint(i), RootID: int64(i + 1),
			Inventories: []fleet.Inventory{inv(10000, 1, reserved, used, 1)}})
	}
	providers = append(providers, &fleet.Provider{ID: 11, UUID: "cn", RootID: 11,
		Inventories: []fleet.Inventory{inv(0, 16, 2, 5, 4)}})
	view := fleet.New(7, cat, providers)

	m := metrics.New()
	m.Collect(metrics.Sources{
		View: func(context.Context) (*fleet.View, error) { return view, nil },
		Instances: func(context.Context) (map[baremetal.State]int, error) {
			return map[baremetal.State]int{baremetal.StateActive: 3, baremetal.StateError: 1}, nil
		},
	})
	f := scrape(t, m)
	if _, n := f.Get("ingot_ironic_nodes"); n != 0 {
		t.Errorf("nodes gauges before any listing: %d series", n)
	}
	m.Fleet.ObserveListing([]ironic.Node{
		{ProvisionState: "available"}, {ProvisionState: "available"}, {ProvisionState: "active"},
		{ProvisionState: "manageable", Maintenance: true}, {ProvisionState: "available", Maintenance: true},
		{ProvisionState: "something new"}, {ProvisionState: "quite new"}, {},
	})
	f = scrape(t, m)
	check := func(name string, want float64, labels ...string) {
		t.Helper()
		if got := f.Value(t, name, labels...); got != want {
			t.Errorf("%s%v = %v, want %v", name, labels, got, want)
		}
	}
	check("ingot_resource_providers", 11)
	check("ingot_inventory_units", 10, "resource_class", "CUSTOM_GOLD")
	check("ingot_inventory_reserved_units", 2, "resource_class", "CUSTOM_GOLD")
	check("ingot_inventory_used_units", 3, "resource_class", "CUSTOM_GOLD")
	check("ingot_inventory_capacity_units", 8, "resource_class", "CUSTOM_GOLD")
	check("ingot_inventory_units", 16, "resource_class", "VCPU")
	check("ingot_inventory_capacity_units", 56, "resource_class", "VCPU")
	check("ingot_inventory_used_units", 5, "resource_class", "VCPU")
	check("ingot_ironic_nodes", 2, "provision_state", "available", "maintenance", "false")
	check("ingot_ironic_nodes", 1, "provision_state", "available", "maintenance", "true")
	check("ingot_ironic_nodes", 1, "provision_state", "manageable", "maintenance", "true")
	check("ingot_ironic_nodes", 2, "provision_state", "other")
	check("ingot_ironic_nodes", 1, "provision_state", "none")
	check("ingot_ironic_nodes", 8)
	check("ingot_instances", 3, "state", "active")
	check("ingot_instances", 0, "state", "building")
	check("ingot_instances", 4)

	// A failing source: the scrape still serves everything else.
	m2 := metrics.New()
	m2.Collect(metrics.Sources{
		View:      func(context.Context) (*fleet.View, error) { return nil, errors.New("database down") },
		Instances: func(context.Context) (map[baremetal.State]int, error) { return nil, errors.New("database down") },
	})
	f = scrape(t, m2)
	if _, n := f.Get("ingot_resource_providers"); n != 0 {
		t.Errorf("providers served from a failed view")
	}
	if _, ok := f["go_goroutines"]; !ok {
		t.Errorf("a failing source hid the other metrics")
	}
}

// TestReplicaCollector: the replica series come from the sources at each scrape, every
// reason has a series, the lease left is never negative, and a failing database read
// fails only the database's gauges.
func TestReplicaCollector(t *testing.T) {
	m := metrics.New()
	state := metrics.ReplicaState{ID: "r1", Version: "1.2.3", Owned: 42, LeaseLeft: 9500 * time.Millisecond,
		Changes: map[string]uint64{"claim": 40, "handoff": 2}, RenewFailures: 3, LeaseLosses: 1, Fenced: 5}
	var fleetErr error
	m.CollectReplica(metrics.ReplicaSources{
		Self: func() metrics.ReplicaState { return state },
		Fleet: func(context.Context) (metrics.ReplicaFleet, error) {
			return metrics.ReplicaFleet{Live: 3, Unowned: 7}, fleetErr
		},
	})
	f := scrape(t, m)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ingot_replica_info", []string{"replica", "r1", "version", "1.2.3"}, 1},
		{"ingot_nodes_owned", nil, 42},
		{"ingot_lease_remaining_seconds", nil, 9.5},
		{"ingot_ownership_changes_total", []string{"reason", "claim"}, 40},
		{"ingot_ownership_changes_total", []string{"reason", "handoff"}, 2},
		{"ingot_ownership_changes_total", []string{"reason", "expired"}, 0},
		{"ingot_ownership_changes_total", nil, 42},
		{"ingot_fenced_write_rejections_total", nil, 5},
		{"ingot_lease_renew_failures_total", nil, 3},
		{"ingot_lease_losses_total", nil, 1},
		{"ingot_replicas_live", nil, 3},
		{"ingot_nodes_unowned", nil, 7},
	} {
		if got := f.Value(t, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := f.LabelValues("ingot_ownership_changes_total", "reason"); len(got) != len(metrics.OwnershipReasons) {
		t.Errorf("reasons %v, want one series for each of %v", got, metrics.OwnershipReasons)
	}

	state.LeaseLeft = -time.Second
	fleetErr = errors.New("database down")
	f = scrape(t, m)
	if got := f.Value(t, "ingot_lease_remaining_seconds"); got != 0 {
		t.Errorf("lease remaining after the deadline: %v, want 0", got)
	}
	if _, n := f.Get("ingot_replicas_live"); n != 0 {
		t.Error("ingot_replicas_live served although its read failed")
	}
	if got := f.Value(t, "ingot_nodes_owned"); got != 42 {
		t.Errorf("ingot_nodes_owned = %v with the database down, want 42", got)
	}
}
