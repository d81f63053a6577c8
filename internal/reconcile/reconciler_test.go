package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"ingot/internal/baremetal"
	"ingot/internal/fleet"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/placement"
	"ingot/internal/reconcile"
	"ingot/internal/safe"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// zeroSource is a rand.Source whose Float64 is 0: every jittered delay is half its
// nominal value, so timings in synctest bubbles are exact.
type zeroSource struct{}

func (zeroSource) Uint64() uint64 { return 0 }

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newClient returns a client of the fake: over httptest when the fake has a URL, else
// over in-memory pipes (inside a synctest bubble).
func newClient(t *testing.T, s *ironictest.Server, cfg ironic.Config) *ironic.Client {
	t.Helper()
	cfg.URL = s.URL
	if cfg.URL == "" {
		cfg.URL = ironictest.PipeURL
		cfg.Transport = s.PipeTransport(t)
	}
	cfg.Rand = zeroSource{}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	c, err := ironic.New(cfg)
	if err != nil {
		t.Fatalf("ironic.New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func newReconciler(t *testing.T, s *ironictest.Server, db *store.DB, cfg reconcile.Config) *reconcile.Reconciler {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t).With("component", "reconcile", "scope", cfg.Scope.String())
	}
	if cfg.Rand == nil {
		cfg.Rand = zeroSource{}
	}
	return reconcile.New(newClient(t, s, ironic.Config{Retry: ironic.RetryPolicy{MaxAttempts: 1}}), db, cfg)
}

// fleetNode is node i of a test fleet: available and powered off, gold or silver, in a rack.
func fleetNode(i int) ironic.Node {
	n := ironic.Node{
		UUID:           fmt.Sprintf("%08d-0000-4000-8000-%012d", i, i),
		Name:           fmt.Sprintf("node-%05d", i),
		ResourceClass:  []string{"baremetal-gold", "baremetal-silver"}[i%2],
		ProvisionState: ironic.ProvisionStateAvailable,
		PowerState:     ironic.PowerOff,
		Traits:         []string{fmt.Sprintf("CUSTOM_RACK_R%02d", i%4)},
		ConductorGroup: "ingot",
	}
	if i%10 == 0 {
		n.Owner = "project-a"
	}
	return n
}

func mustPass(t *testing.T, r *reconcile.Reconciler) reconcile.Stats {
	t.Helper()
	st, err := r.Pass(t.Context())
	if err != nil {
		t.Fatalf("Pass: %v", err)
	}
	if st.Errors != 0 {
		t.Fatalf("Pass: %d errors", st.Errors)
	}
	return st
}

// provider is a provider as the tests look at it.
type provider struct {
	ID          int64
	Name        string
	Generation  int64
	Inventories map[string]placement.Inventory
	Used        int64
	Traits      []string
	Aggregates  []string
}

func getProvider(t *testing.T, db *store.DB, uuid string) (provider, bool) {
	t.Helper()
	v, err := db.View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, ok := v.Provider(uuid)
	if !ok {
		return provider{}, false
	}
	return toProvider(v, p), true
}

func toProvider(v *fleet.View, p *fleet.Provider) provider {
	out := provider{ID: p.ID, Name: p.Name, Generation: p.Generation, Inventories: map[string]placement.Inventory{},
		Aggregates: p.Aggregates}
	for _, inv := range p.Inventories {
		out.Inventories[v.ClassName(inv.ClassID)] = inv.Inventory
		out.Used += inv.Used
	}
	for _, id := range p.Traits {
		out.Traits = append(out.Traits, v.TraitName(id))
	}
	slices.Sort(out.Traits)
	return out
}

func mustProvider(t *testing.T, db *store.DB, uuid string) provider {
	t.Helper()
	p, ok := getProvider(t, db, uuid)
	if !ok {
		t.Fatalf("no provider %s", uuid)
	}
	return p
}

func wantReserved(t *testing.T, db *store.DB, uuid, class string, reserved bool) {
	t.Helper()
	p := mustProvider(t, db, uuid)
	inv, ok := p.Inventories[class]
	if !ok || len(p.Inventories) != 1 {
		t.Fatalf("provider %s inventories %v; want only %s", uuid, p.Inventories, class)
	}
	if want := reconcile.Inventory(reserved); inv != want {
		t.Fatalf("provider %s %s inventory %+v; want %+v", uuid, class, inv, want)
	}
}

func seq(t *testing.T, db *store.DB) int64 {
	t.Helper()
	v, err := db.View(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v.Seq
}

func records(t *testing.T, db *store.DB) map[string]baremetal.NodeRecord {
	t.Helper()
	rs, err := db.IronicNodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]baremetal.NodeRecord, len(rs))
	for _, r := range rs {
		out[r.NodeUUID] = r
	}
	return out
}

// allocate gives consumer one unit of the node's class on its provider.
func allocate(t *testing.T, db *store.DB, consumer, provider, class string) {
	t.Helper()
	err := db.ReplaceAllocations(context.Background(), store.WritePut, []placement.ConsumerAllocations{{
		ConsumerUUID: consumer, ProjectID: "p", UserID: "u",
		Allocations: []placement.Allocation{{ProviderUUID: provider, ResourceClass: class, Used: 1}},
	}})
	if err != nil {
		t.Fatalf("allocate %s on %s: %v", class, provider, err)
	}
}

func TestPassMirrorsNodesThenWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(40, fleetNode)
		s.UpdateNode(ids[3], func(n *ironic.Node) { n.Maintenance = true })
		s.UpdateNode(ids[4], func(n *ironic.Node) {
			n.ProvisionState = ironic.ProvisionStateActive
			n.InstanceUUID = "i0000000-0000-4000-8000-000000000004"
		})
		r := newReconciler(t, s, db, reconcile.Config{})

		st := mustPass(t, r)
		if st.Nodes != 40 || st.Changes != 40 || st.Actions[reconcile.ActionCreate] != 40 {
			t.Fatalf("first pass = %+v; want 40 nodes, 40 creations", st)
		}
		for i, id := range ids {
			n := fleetNode(i)
			p := mustProvider(t, db, id)
			class := reconcile.ResourceClass(n.ResourceClass)
			want := provider{ID: p.ID, Name: id, Generation: 1,
				Inventories: map[string]placement.Inventory{class: reconcile.Inventory(i == 3 || i == 4)},
				Traits:      n.Traits, Aggregates: reconcile.Aggregates(n)}
			if diff := cmp.Diff(want, p); diff != "" {
				t.Fatalf("provider of node %d (-want +got):\n%s", i, diff)
			}
		}
		if _, ok := mustProvider(t, db, ids[0]).Inventories["CUSTOM_BAREMETAL_GOLD"]; !ok {
			t.Fatal("class not normalized")
		}
		// member_of the conductor group's aggregate finds every node.
		v, _ := db.View(t.Context())
		inGroup, err := v.Filter(fleet.ProviderFilter{MemberOf: [][]string{{reconcile.AggregateUUID(reconcile.AggregateConductorGroup, "ingot")}}})
		if err != nil || len(inGroup) != 40 {
			t.Fatalf("member_of the group: %d providers, %v", len(inGroup), err)
		}

		before, recsBefore := seq(t, db), records(t, db)
		st = mustPass(t, r)
		if st.Changes != 0 || st.Nodes != 40 {
			t.Errorf("unchanged pass = %+v; want no changes", st)
		}
		if after := seq(t, db); after != before {
			t.Errorf("unchanged pass moved the change sequence %d -> %d", before, after)
		}
		if diff := cmp.Diff(recsBefore, records(t, db)); diff != "" {
			t.Errorf("unchanged pass changed records:\n%s", diff)
		}
		// Only the listing went to Ironic: one page, the fields the mapping needs and
		// those the dashboard shows.
		reqs := s.Requests()
		last := reqs[len(reqs)-1]
		if last.Path != "/v1/nodes" || last.Query.Get("fields") != "uuid,resource_class,traits,maintenance,power_state,provision_state,instance_uuid,conductor_group,owner,lessee,shard,"+
			"name,target_provision_state,maintenance_reason,last_error,fault,retired" {
			t.Errorf("last request %s %v", last.Path, last.Query)
		}
	})
}

func TestPassIronicDownChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(5, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{})
		mustPass(t, r)
		s.RemoveNode(ids[0])
		s.UpdateNode(ids[1], func(n *ironic.Node) { n.Maintenance = true })
		before := seq(t, db)
		s.Inject(ironictest.Fault{Method: http.MethodGet, Path: "/v1/nodes", Times: -1, Status: http.StatusServiceUnavailable})
		if _, err := r.Pass(t.Context()); err == nil {
			t.Fatal("Pass succeeded against a failing Ironic")
		}
		if seq(t, db) != before {
			t.Fatal("a failed pass wrote")
		}
		s.ClearFaults()
		st := mustPass(t, r)
		if st.Actions[reconcile.ActionDelete] != 1 || st.Actions[reconcile.ActionUpdate] != 1 {
			t.Fatalf("recovery pass = %+v", st)
		}
	})
}

func TestRunBacksOffAndKicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := storetest.Open(t, storetest.SQLite)
		s := ironictest.New()
		s.AddNodes(3, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{Interval: time.Minute, MinBackoff: 4 * time.Second})
		passes := func() int {
			n := 0
			for _, q := range s.Requests() {
				if q.Path == "/v1/nodes" {
					n++
				}
			}
			return n
		}
		s.Inject(ironictest.Fault{Path: "/v1/nodes", Times: -1, Status: http.StatusServiceUnavailable})
		ctx, cancel := context.WithCancel(t.Context())
		t.Cleanup(cancel)
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()

		// Failed passes are retried after 2s, 4s, 8s, ... (jitter halves 4s, 8s, 16s),
		// never more than the interval.
		synctest.Wait()
		at := []int{passes()}
		for _, d := range []time.Duration{2, 4, 8, 16, 30, 30} {
			time.Sleep(d*time.Second - time.Millisecond)
			synctest.Wait()
			if n := passes(); n != at[len(at)-1] {
				t.Fatalf("pass %d came early (before %v)", n, d*time.Second)
			}
			time.Sleep(time.Millisecond)
			synctest.Wait()
			at = append(at, passes())
		}
		if want := []int{1, 2, 3, 4, 5, 6, 7}; !slices.Equal(at, want) {
			t.Fatalf("listings after each backoff = %v, want %v", at, want)
		}
		// Ironic is back: the next attempt succeeds, then passes come every interval.
		s.ClearFaults()
		time.Sleep(30 * time.Second)
		// The store's group commit lingers 150µs on its virtual clock when writes come in
		// close together; give the pass's writes that time.
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if _, ok := getProvider(t, db, fleetNode(0).UUID); !ok {
			t.Fatal("no provider after Ironic came back")
		}
		n := passes()
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if passes() != n {
			t.Fatal("a pass came before the interval")
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if passes() != n+1 {
			t.Fatal("no pass after the interval")
		}
		n++
		// A kick runs a pass now; kicks during a pass coalesce into one more.
		r.Kick()
		synctest.Wait()
		if passes() != n+1 {
			t.Fatalf("kick: %d listings, want %d", passes(), n+1)
		}
		s.SetPageLatency(time.Second)
		r.Kick()
		synctest.Wait() // the kicked pass waits for its page
		r.Kick()
		r.Kick()
		time.Sleep(time.Second)
		synctest.Wait()
		time.Sleep(time.Second)
		synctest.Wait()
		if got := passes(); got != n+3 {
			t.Fatalf("kicks during a pass: %d listings, want %d", got, n+3)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v", err)
		}
	})
}

func TestPassTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := storetest.Open(t, storetest.SQLite)
		s := ironictest.New()
		s.AddNodes(3, fleetNode)
		s.SetPageLatency(time.Hour)
		r := newReconciler(t, s, db, reconcile.Config{PassTimeout: 30 * time.Second})
		start := time.Now()
		_, err := r.Pass(t.Context())
		if err == nil || !errors.Is(err, reconcile.ErrPassTimeout) {
			t.Fatalf("Pass = %v; want the pass timeout", err)
		}
		if d := time.Since(start); d != 30*time.Second {
			t.Errorf("Pass took %v, want 30s", d)
		}
	})
}

func TestConflictsArePlannedAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(2, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{})
		mustPass(t, r)
		// The pass plans from a view; a write between the plan and the apply makes the
		// write lose its generation race. Simulate the stale picture by applying an old
		// plan after a claim bumped the provider's generation.
		s.UpdateNode(ids[0], func(n *ironic.Node) { n.Maintenance = true })
		v, _ := db.View(t.Context())
		recs, _ := db.IronicNodes(t.Context())
		nodes := []ironic.Node{mustNode(t, s, ids[0]), mustNode(t, s, ids[1])}
		changes := reconcile.Plan(reconcile.Input{Nodes: nodes, Records: recs, View: v})
		allocate(t, db, "c0000000-0000-4000-8000-000000000001", ids[0], "CUSTOM_BAREMETAL_GOLD")
		res, err := reconcile.Apply(t.Context(), db, changes, 0)
		if err != nil || len(res.Conflicts) != 1 || len(res.Applied) != 0 {
			t.Fatalf("Apply = %+v, %v; want one conflict", res, err)
		}
		// A pass plans from a fresh picture and succeeds.
		st := mustPass(t, r)
		if st.Actions[reconcile.ActionUpdate] != 1 {
			t.Fatalf("pass = %+v", st)
		}
		wantReserved(t, db, ids[0], "CUSTOM_BAREMETAL_GOLD", true)
		if p := mustProvider(t, db, ids[0]); p.Used != 1 {
			t.Errorf("the allocation is gone: %+v", p)
		}
	})
}

func mustNode(t *testing.T, s *ironictest.Server, id string) ironic.Node {
	t.Helper()
	n, ok := s.Node(id)
	if !ok {
		t.Fatalf("no node %s", id)
	}
	return n
}

func TestBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(25, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{BatchSize: 7})
		before := seq(t, db)
		st := mustPass(t, r)
		if st.Changes != 25 {
			t.Fatalf("pass = %+v", st)
		}
		// Four transactions of at most 7 nodes, plus the catalogue writes (2 classes, 4 traits).
		if got := seq(t, db) - before; got != 4+6 {
			t.Errorf("change sequence moved by %d, want 10 (4 batches + 6 catalogue writes)", got)
		}
		if len(records(t, db)) != len(ids) {
			t.Error("records missing")
		}
	})
}

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRunSurvivesAPanickingPass makes the first pass panic (a nil dereference in the
// listing hook): the pass fails with the panic logged and its stack, Run backs off as after
// any failed pass, and the next pass runs and mirrors the nodes.
func TestRunSurvivesAPanickingPass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := storetest.Open(t, storetest.SQLite)
		s := ironictest.New()
		ids := s.AddNodes(3, fleetNode)
		var logs lockedBuffer
		var listings atomic.Int32
		var missing *ironic.Node
		r := newReconciler(t, s, db, reconcile.Config{
			Interval: time.Minute, MinBackoff: 4 * time.Second,
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			OnListing: func(nodes []ironic.Node) {
				if listings.Add(1) == 1 {
					_ = missing.UUID // panics
				}
			},
		})
		ctx, cancel := context.WithCancel(t.Context())
		t.Cleanup(cancel)
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()

		synctest.Wait()
		if n := listings.Load(); n != 1 {
			t.Fatalf("%d listings, want 1", n)
		}
		if _, ok := getProvider(t, db, ids[0]); ok {
			t.Fatal("the panicking pass wrote")
		}
		out := logs.String()
		for _, want := range []string{"tracker pass panicked", "invalid memory address", "reconcile_test.TestRunSurvivesAPanickingPass",
			"tracker pass failed", "retry_in=2s"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		// The backoff after one failure is 2s (4s with the test's jitter halving it).
		time.Sleep(2*time.Second - time.Millisecond)
		synctest.Wait()
		if n := listings.Load(); n != 1 {
			t.Fatalf("the retry came early: %d listings", n)
		}
		time.Sleep(time.Millisecond + 10*time.Millisecond) // and the group commit's linger
		synctest.Wait()
		if n := listings.Load(); n != 2 {
			t.Fatalf("%d listings after the backoff, want 2", n)
		}
		for _, id := range ids {
			if _, ok := getProvider(t, db, id); !ok {
				t.Fatalf("no provider for %s after the pass that followed the panic", id)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v", err)
		}
	})
}

func TestPassReturnsAPanicAsAnError(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	s := ironictest.NewServer(t)
	s.AddNodes(1, fleetNode)
	r := newReconciler(t, s, db, reconcile.Config{OnListing: func([]ironic.Node) { panic("listing hook") }})
	_, err := r.Pass(t.Context())
	if pe, ok := errors.AsType[*safe.PanicError](err); !ok || pe.Value != "listing hook" {
		t.Fatalf("Pass = %v, want the hook's panic", err)
	}
	// The pass's lock was released: another pass can run.
	if _, err := r.Pass(t.Context()); err == nil {
		t.Fatal("second pass did not panic")
	}
}
