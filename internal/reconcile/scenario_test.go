package reconcile_test

// Scenario tests named after the race and bug scenarios of table (b) in
// shared/docs/nova-ironic.md, adapted to ingot: an instance is, for now, a node whose
// instance_uuid is set in Ironic, with the scheduler's allocation in Placement.

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"ingot/internal/baremetal"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/placement"
	"ingot/internal/reconcile"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

const (
	instance1 = "11111111-1111-4111-8111-111111111111"
	instance2 = "22222222-2222-4222-8222-222222222222"
)

type passResult struct {
	st  reconcile.Stats
	err error
}

func startPass(t *testing.T, r *reconcile.Reconciler) <-chan passResult {
	res := make(chan passResult, 1)
	go func() {
		st, err := r.Pass(t.Context())
		res <- passResult{st, err}
	}()
	return res
}

func wantNoDeletes(t *testing.T, st reconcile.Stats) {
	t.Helper()
	if n := st.Actions[reconcile.ActionDelete] + st.Actions[reconcile.ActionWithdraw] + st.Actions[reconcile.ActionOrphan]; n != 0 {
		t.Fatalf("pass deleted or withdrew %d providers: %+v", n, st)
	}
}

// S1: an instance is built on a node while a slow listing runs (LP#1841481). The node
// stays managed, its provider and the instance's allocation exist afterwards, and no
// delete is issued at any time.
func TestScenarioS1_BuildDuringSlowList(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := storetest.Open(t, storetest.SQLite)
		s := ironictest.New(ironictest.WithMaxLimit(10))
		ids := s.AddNodes(100, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{})
		mustPass(t, r)

		s.SetPageLatency(5 * time.Second) // ten pages of ten nodes, 5 s each
		early, late := ids[3], ids[95]    // on page 1 (listed before the build) and page 10 (after)
		res := startPass(t, r)
		time.Sleep(12 * time.Second) // page 3 is being served
		// The builds: the scheduler's claim in Placement first, then Ironic's instance_uuid.
		allocate(t, db, instance1, early, "CUSTOM_BAREMETAL_SILVER")
		allocate(t, db, instance2, late, "CUSTOM_BAREMETAL_SILVER")
		for id, inst := range map[string]string{early: instance1, late: instance2} {
			s.UpdateNode(id, func(n *ironic.Node) {
				n.InstanceUUID, n.ProvisionState, n.PowerState = inst, ironic.ProvisionStateDeploying, ironic.PowerOn
			})
		}
		got := <-res
		if got.err != nil {
			t.Fatal(got.err)
		}
		wantNoDeletes(t, got.st)
		if got.st.ListDuration < 50*time.Second {
			t.Fatalf("listing took %v; the scenario needs a slow one", got.st.ListDuration)
		}
		for _, id := range []string{early, late} {
			if p := mustProvider(t, db, id); p.Used != 1 {
				t.Errorf("provider %s lost its allocation: %+v", id, p)
			}
			if rec := records(t, db)[id]; rec.State != baremetal.NodeManaged {
				t.Errorf("node %s record %+v; want managed", id, rec)
			}
		}
		wantReserved(t, db, late, "CUSTOM_BAREMETAL_SILVER", true) // listed with its instance
		s.SetPageLatency(0)
		st := mustPass(t, r)
		wantNoDeletes(t, st)
		wantReserved(t, db, early, "CUSTOM_BAREMETAL_SILVER", true)
	})
}

// S2: the instance is deleted during a slow listing that still shows it (residual R1).
// The node is neither deleted nor orphaned; it stays reserved until Ironic reports it
// available again.
func TestScenarioS2_DeleteDuringSlowList(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := storetest.Open(t, storetest.SQLite)
		s := ironictest.New(ironictest.WithMaxLimit(10))
		ids := s.AddNodes(100, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{})
		mustPass(t, r)
		x := ids[3]
		allocate(t, db, instance1, x, "CUSTOM_BAREMETAL_SILVER")
		s.UpdateNode(x, func(n *ironic.Node) {
			n.InstanceUUID, n.ProvisionState, n.PowerState = instance1, ironic.ProvisionStateActive, ironic.PowerOn
		})
		mustPass(t, r)
		wantReserved(t, db, x, "CUSTOM_BAREMETAL_SILVER", true)

		s.SetPageLatency(5 * time.Second)
		res := startPass(t, r)
		time.Sleep(12 * time.Second) // x's page was listed with the instance
		// Ironic tears the node down and clears instance_uuid; the instance and its
		// allocation are deleted.
		s.UpdateNode(x, func(n *ironic.Node) { n.InstanceUUID, n.ProvisionState = "", ironic.ProvisionStateCleaning })
		if err := db.DeleteConsumerAllocations(t.Context(), instance1); err != nil {
			t.Fatal(err)
		}
		got := <-res
		if got.err != nil {
			t.Fatal(got.err)
		}
		wantNoDeletes(t, got.st)
		wantReserved(t, db, x, "CUSTOM_BAREMETAL_SILVER", true)
		if rec := records(t, db)[x]; rec.State != baremetal.NodeManaged || rec.InstanceUUID != instance1 {
			t.Fatalf("record %+v; want managed, last seen with the instance", rec)
		}
		s.SetPageLatency(0)
		wantNoDeletes(t, mustPass(t, r)) // cleaning: still reserved
		wantReserved(t, db, x, "CUSTOM_BAREMETAL_SILVER", true)
		s.UpdateNode(x, func(n *ironic.Node) { n.ProvisionState, n.PowerState = ironic.ProvisionStateAvailable, ironic.PowerOff })
		mustPass(t, r)
		wantReserved(t, db, x, "CUSTOM_BAREMETAL_SILVER", false)
	})
}

// S4: someone deletes a node's provider (or the tracker's record of it) while nothing
// changes in Ironic. The next pass re-creates the provider with the same UUID, name,
// traits, aggregates and inventory; a provider with allocations cannot be deleted at all.
func TestScenarioS4_ProviderDeletedByHand(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s := ironictest.NewServer(t)
		ids := s.AddNodes(5, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{})
		mustPass(t, r)
		x, y, z := ids[0], ids[1], ids[2]
		before := mustProvider(t, db, x)

		if err := db.DeleteProvider(ctx, x); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteIronicNode(ctx, y); err != nil {
			t.Fatal(err)
		}
		yBefore := mustProvider(t, db, y)
		st := mustPass(t, r)
		if st.Changes != 2 || st.Actions[reconcile.ActionCreate] != 1 || st.Actions[reconcile.ActionAdopt] != 1 {
			t.Fatalf("pass = %+v; want x re-created and y's record adopted", st)
		}
		after := mustProvider(t, db, x)
		before.ID, after.ID = 0, 0
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("re-created provider differs (-before +after):\n%s", diff)
		}
		if got := mustProvider(t, db, y); got.Generation != yBefore.Generation {
			t.Errorf("adopting y's record wrote its provider: %+v -> %+v", yBefore, got)
		}

		allocate(t, db, instance1, z, "CUSTOM_BAREMETAL_GOLD")
		err := db.DeleteProvider(ctx, z)
		if pe, ok := placement.AsError(err); !ok || pe.Code != placement.CodeProviderInUse {
			t.Fatalf("deleting an allocated provider: %v; want refused as in use", err)
		}
		if st := mustPass(t, r); st.Changes != 0 {
			t.Errorf("steady pass = %+v", st)
		}
	})
}

// S7: Ironic fails (503, or no answer) on page 1, then on page 7 of 10. The pass is
// aborted: nothing deleted, unreserved or otherwise changed, no partial list used.
func TestScenarioS7_IronicErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := storetest.Open(t, storetest.SQLite)
		s := ironictest.New(ironictest.WithMaxLimit(10))
		ids := s.AddNodes(100, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{})
		mustPass(t, r)
		// Changes the failing passes must not apply: a node gone (would be deleted), one
		// out of maintenance (would be unreserved), one in maintenance, one new.
		s.UpdateNode(ids[80], func(n *ironic.Node) { n.Maintenance = true })
		mustPass(t, r)
		s.RemoveNode(ids[0])
		s.UpdateNode(ids[80], func(n *ironic.Node) { n.Maintenance = false })
		s.UpdateNode(ids[90], func(n *ironic.Node) { n.Maintenance = true })
		s.AddNode(fleetNode(100))
		seqBefore, recsBefore := seq(t, db), records(t, db)

		for _, tc := range []struct {
			name  string
			fault ironictest.Fault
		}{
			{"503 on page 1", ironictest.Fault{Path: "/v1/nodes", Times: -1, Status: http.StatusServiceUnavailable}},
			{"503 on page 7", ironictest.Fault{Path: "/v1/nodes", After: 6, Times: -1, Status: http.StatusServiceUnavailable}},
			{"connection lost on page 7", ironictest.Fault{Path: "/v1/nodes", After: 6, Times: -1, Drop: true}},
			{"timeout on page 7", ironictest.Fault{Path: "/v1/nodes", After: 6, Times: -1, Delay: time.Hour}},
		} {
			s.ClearFaults()
			s.Inject(tc.fault)
			if _, err := r.Pass(t.Context()); err == nil {
				t.Fatalf("%s: the pass succeeded", tc.name)
			} else {
				t.Logf("%s: %v", tc.name, err)
			}
			if seq(t, db) != seqBefore {
				t.Fatalf("%s: providers changed", tc.name)
			}
			if diff := cmp.Diff(recsBefore, records(t, db)); diff != "" {
				t.Fatalf("%s: records changed:\n%s", tc.name, diff)
			}
		}
		s.ClearFaults()
		st := mustPass(t, r)
		want := map[reconcile.Action]int{reconcile.ActionDelete: 1, reconcile.ActionUpdate: 2, reconcile.ActionCreate: 1}
		if diff := cmp.Diff(want, st.Actions); diff != "" {
			t.Errorf("recovery pass actions (-want +got):\n%s", diff)
		}
	})
}

// S8: a shard (or conductor group) is configured but Ironic's API is too old to filter by
// it. The tracker refuses to list rather than manage unscoped nodes.
func TestScenarioS8_ScopeFailClosed(t *testing.T) {
	for _, tc := range []struct {
		name      string
		max       string
		scope     reconcile.Scope
		listsFine bool
	}{
		{"shard on Ironic 1.81", "1.81", reconcile.Scope{Shards: []string{"s1"}}, false},
		{"conductor group on Ironic 1.45", "1.45", reconcile.Scope{ConductorGroup: "ingot"}, false},
		{"no scope on Ironic 1.45", "1.45", reconcile.Scope{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.Open(t, storetest.SQLite)
			s := ironictest.NewServer(t, ironictest.WithVersions("1.1", tc.max))
			s.AddNodes(3, fleetNode)
			r := newReconciler(t, s, db, reconcile.Config{Scope: tc.scope})
			_, err := r.Pass(t.Context())
			if tc.listsFine {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ironic.ErrUnsupported) {
				t.Fatalf("Pass = %v; want ErrUnsupported", err)
			}
			for _, q := range s.Requests() {
				if q.Path == "/v1/nodes" {
					t.Fatalf("listed nodes: %v", q.Query)
				}
			}
			if v, _ := db.View(t.Context()); v.Len() != 0 {
				t.Fatalf("%d providers created", v.Len())
			}
		})
	}
}

// S11: a node moves to another conductor group. Its old tracker withdraws it (reserved)
// and forgets it; its new tracker takes it over with the same provider. Each node has
// exactly one owning record at every moment, in both orders.
func TestScenarioS11_NodeLeavesScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(4, func(i int) ironic.Node {
			n := fleetNode(i)
			n.ConductorGroup = []string{"a", "b"}[i%2]
			return n
		})
		scopeA, scopeB := reconcile.Scope{ConductorGroup: "a"}, reconcile.Scope{ConductorGroup: "b"}
		a := newReconciler(t, s, db, reconcile.Config{Scope: scopeA})
		b := newReconciler(t, s, db, reconcile.Config{Scope: scopeB})
		mustPass(t, a)
		mustPass(t, b)
		owner := func(id string) string {
			rec, ok := records(t, db)[id]
			if !ok {
				return ""
			}
			return rec.Scope + "/" + string(rec.State)
		}
		x, y := ids[0], ids[1] // in a, in b
		if owner(x) != scopeA.String()+"/managed" || owner(y) != scopeB.String()+"/managed" {
			t.Fatalf("owners %s, %s", owner(x), owner(y))
		}
		xID := mustProvider(t, db, x).ID

		// x moves to b; a passes first: it withdraws x, then releases it.
		s.UpdateNode(x, func(n *ironic.Node) { n.ConductorGroup = "b" })
		st := mustPass(t, a)
		if st.Actions[reconcile.ActionWithdraw] != 1 || owner(x) != scopeA.String()+"/withdrawn" {
			t.Fatalf("a's pass %+v, owner %s", st, owner(x))
		}
		wantReserved(t, db, x, "CUSTOM_BAREMETAL_GOLD", true)
		st = mustPass(t, a)
		if st.Actions[reconcile.ActionRelease] != 1 || owner(x) != "/released" {
			t.Fatalf("a's pass %+v, owner %s", st, owner(x))
		}
		st = mustPass(t, b)
		if st.Actions[reconcile.ActionAdopt] != 1 || owner(x) != scopeB.String()+"/managed" {
			t.Fatalf("b's pass %+v, owner %s", st, owner(x))
		}
		wantReserved(t, db, x, "CUSTOM_BAREMETAL_GOLD", false)
		p := mustProvider(t, db, x)
		if p.ID != xID {
			t.Errorf("x's provider was replaced")
		}
		if want := reconcile.Aggregates(mustNode(t, s, x)); !slices.Equal(p.Aggregates, want) || slices.Contains(want,
			reconcile.AggregateUUID(reconcile.AggregateConductorGroup, "a")) {
			t.Errorf("x's aggregates %v, want group b's and its owner's %v", p.Aggregates, want)
		}
		if st := mustPass(t, a); st.Changes != 0 || st.Lookups != 0 {
			t.Errorf("a's next pass = %+v; want nothing", st)
		}

		// y moves to a; a passes first and takes y over from b, which then ignores it.
		s.UpdateNode(y, func(n *ironic.Node) { n.ConductorGroup = "a" })
		st = mustPass(t, a)
		if st.Actions[reconcile.ActionAdopt] != 1 || st.Warnings != 1 || owner(y) != scopeA.String()+"/managed" {
			t.Fatalf("a's pass %+v, owner %s", st, owner(y))
		}
		if st := mustPass(t, b); st.Changes != 0 || st.Lookups != 0 {
			t.Errorf("b's pass after the takeover = %+v; want nothing", st)
		}
		wantReserved(t, db, y, "CUSTOM_BAREMETAL_SILVER", false)
	})
}

// S14: maintenance on and off flips reserved without ever deleting the provider; a node
// that disappears from Ironic and comes back with the same UUID gets its provider back,
// without duplicate-key errors, also when the provider was kept for allocations.
func TestScenarioS14_MaintenanceFlip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(3, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{})
		mustPass(t, r)
		x, y := ids[0], ids[1]
		id := mustProvider(t, db, x).ID

		s.UpdateNode(x, func(n *ironic.Node) { n.Maintenance = true })
		wantNoDeletes(t, mustPass(t, r))
		wantReserved(t, db, x, "CUSTOM_BAREMETAL_GOLD", true)
		s.UpdateNode(x, func(n *ironic.Node) { n.Maintenance = false })
		wantNoDeletes(t, mustPass(t, r))
		wantReserved(t, db, x, "CUSTOM_BAREMETAL_GOLD", false)
		if mustProvider(t, db, x).ID != id {
			t.Fatal("the provider was replaced")
		}

		// Gone and back between two passes: nothing happens.
		n := mustNode(t, s, x)
		s.RemoveNode(x)
		s.AddNode(n)
		if st := mustPass(t, r); st.Changes != 0 {
			t.Fatalf("pass = %+v", st)
		}
		// Gone for a pass: deleted after Ironic's 404; back: re-created.
		s.RemoveNode(x)
		if st := mustPass(t, r); st.Actions[reconcile.ActionDelete] != 1 || st.Lookups != 1 {
			t.Fatalf("pass = %+v", st)
		}
		if _, ok := getProvider(t, db, x); ok {
			t.Fatal("provider of a deleted node kept")
		}
		s.AddNode(n)
		if st := mustPass(t, r); st.Actions[reconcile.ActionCreate] != 1 {
			t.Fatalf("pass = %+v", st)
		}
		wantReserved(t, db, x, "CUSTOM_BAREMETAL_GOLD", false)

		// With an instance's allocation: kept reserved (orphaned) while gone, managed
		// again when back.
		allocate(t, db, instance1, y, "CUSTOM_BAREMETAL_SILVER")
		ny := mustNode(t, s, y)
		s.RemoveNode(y)
		st := mustPass(t, r)
		if st.Actions[reconcile.ActionOrphan] != 1 || st.Orphaned != 1 || st.Warnings != 1 {
			t.Fatalf("pass = %+v", st)
		}
		wantReserved(t, db, y, "CUSTOM_BAREMETAL_SILVER", true)
		if st := mustPass(t, r); st.Changes != 0 || st.Orphaned != 1 {
			t.Fatalf("pass = %+v", st)
		}
		s.AddNode(ny)
		st = mustPass(t, r)
		if st.Actions[reconcile.ActionUpdate] != 1 || st.Orphaned != 0 {
			t.Fatalf("pass = %+v", st)
		}
		wantReserved(t, db, y, "CUSTOM_BAREMETAL_SILVER", false)
		if p := mustProvider(t, db, y); p.Used != 1 {
			t.Fatal("allocation lost")
		}
	})
}

// S20: an operator adds a trait to a node's provider, then the node's traits change in
// Ironic. The tracker's traits follow Ironic; the operator's trait stays.
func TestScenarioS20_TraitsOwnership(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s := ironictest.NewServer(t)
		ids := s.AddNodes(2, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{})
		mustPass(t, r)
		x := ids[0]
		if _, _, err := db.EnsureTrait(ctx, "CUSTOM_OPERATOR"); err != nil {
			t.Fatal(err)
		}
		p := mustProvider(t, db, x)
		if _, _, err := db.SetProviderTraits(ctx, x, p.Generation, append(p.Traits, "CUSTOM_OPERATOR")); err != nil {
			t.Fatal(err)
		}
		if st := mustPass(t, r); st.Changes != 0 {
			t.Fatalf("pass = %+v; the operator's trait must not be touched", st)
		}
		s.UpdateNode(x, func(n *ironic.Node) { n.Traits = []string{"CUSTOM_GPU", "HW_CPU_X86_AVX2"} })
		mustPass(t, r)
		want := []string{"CUSTOM_GPU", "CUSTOM_OPERATOR", "HW_CPU_X86_AVX2"}
		if got := mustProvider(t, db, x).Traits; !slices.Equal(got, want) {
			t.Errorf("traits %v, want %v", got, want)
		}
		if got := records(t, db)[x].Traits; !slices.Equal(got, []string{"CUSTOM_GPU", "HW_CPU_X86_AVX2"}) {
			t.Errorf("managed traits %v", got)
		}
	})
}

// S21: a node without a resource class, which then gets one, which is then renamed while
// an instance is on the node. No error loop; the inventory appears; the rename waits for
// the allocation to go.
func TestScenarioS21_ResourceClassMissingOrRenamed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(1, func(i int) ironic.Node { n := fleetNode(i); n.ResourceClass = ""; return n })
		x := ids[0]
		r := newReconciler(t, s, db, reconcile.Config{})
		st := mustPass(t, r)
		if st.Warnings != 1 || len(mustProvider(t, db, x).Inventories) != 0 {
			t.Fatalf("pass = %+v, provider %+v", st, mustProvider(t, db, x))
		}
		if st := mustPass(t, r); st.Changes != 0 || st.Warnings != 0 {
			t.Fatalf("second pass = %+v; want no change and no new warning", st)
		}
		s.UpdateNode(x, func(n *ironic.Node) { n.ResourceClass = "gold" })
		mustPass(t, r)
		wantReserved(t, db, x, "CUSTOM_GOLD", false)

		allocate(t, db, instance1, x, "CUSTOM_GOLD")
		s.UpdateNode(x, func(n *ironic.Node) { n.ResourceClass = "platinum" })
		st = mustPass(t, r)
		if st.Warnings != 1 {
			t.Fatalf("pass = %+v; want one warning about the deferred rename", st)
		}
		wantReserved(t, db, x, "CUSTOM_GOLD", true)
		if st := mustPass(t, r); st.Changes != 0 || st.Warnings != 0 {
			t.Fatalf("pass = %+v", st)
		}
		if err := db.DeleteConsumerAllocations(t.Context(), instance1); err != nil {
			t.Fatal(err)
		}
		mustPass(t, r)
		wantReserved(t, db, x, "CUSTOM_PLATINUM", false)
	})
}
