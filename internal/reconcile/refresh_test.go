package reconcile_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"ingot/internal/baremetal"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/placement"
	"ingot/internal/reconcile"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

const gold = "CUSTOM_BAREMETAL_GOLD"

// TestRefreshFollowsCleaningAndAvailable: a node seen entering cleaning becomes reserved,
// and once seen available is offered again, without a pass and without asking Ironic.
func TestRefreshFollowsCleaningAndAvailable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(4, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{})
		mustPass(t, r)
		id := ids[0] // gold
		wantReserved(t, db, id, gold, false)
		requests := len(s.Requests())

		s.UpdateNode(id, func(n *ironic.Node) { n.ProvisionState = ironic.ProvisionStateCleaning })
		before := mustProvider(t, db, ids[2])
		if err := r.Refresh(t.Context(), []ironic.Node{mustNode(t, s, id)}); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		wantReserved(t, db, id, gold, true)
		if rec := records(t, db)[id]; rec.ProvisionState != ironic.ProvisionStateCleaning || rec.State != baremetal.NodeManaged {
			t.Errorf("record after the refresh: %+v", rec)
		}
		if after := mustProvider(t, db, ids[2]); after.Generation != before.Generation {
			t.Errorf("a node not refreshed was written: generation %d -> %d", before.Generation, after.Generation)
		}

		s.UpdateNode(id, func(n *ironic.Node) { n.ProvisionState = ironic.ProvisionStateAvailable })
		if err := r.Refresh(t.Context(), []ironic.Node{mustNode(t, s, id)}); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		wantReserved(t, db, id, gold, false)
		if n := len(s.Requests()); n != requests {
			t.Errorf("Refresh sent %d requests to Ironic; want none", n-requests)
		}
		// Nothing left for a pass to do: the refresh wrote what a pass would.
		if st := mustPass(t, r); st.Changes != 0 {
			t.Errorf("pass after the refreshes = %+v; want no changes", st)
		}
	})
}

// TestRefreshFollowsThePassRules: an unknown node in the scope is created, a managed node
// seen in another scope is withdrawn, and a node of another scope the tracker does not
// manage is left alone, as a pass would do.
func TestRefreshFollowsThePassRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(3, fleetNode) // conductor group "ingot"
		r := newReconciler(t, s, db, reconcile.Config{Scope: reconcile.Scope{ConductorGroup: "ingot"}})
		mustPass(t, r)

		fresh := fleetNode(7) // in the scope, never seen
		s.AddNode(fresh)
		foreign := fleetNode(8) // another group, never seen
		foreign.ConductorGroup = "other"
		s.AddNode(foreign)
		s.UpdateNode(ids[1], func(n *ironic.Node) { n.ConductorGroup = "other" })
		err := r.Refresh(t.Context(), []ironic.Node{mustNode(t, s, fresh.UUID), mustNode(t, s, foreign.UUID), mustNode(t, s, ids[1])})
		if err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		wantReserved(t, db, fresh.UUID, reconcile.ResourceClass(fresh.ResourceClass), false)
		if _, ok := getProvider(t, db, foreign.UUID); ok {
			t.Error("a node outside the scope got a provider")
		}
		recs := records(t, db)
		if rec := recs[ids[1]]; rec.State != baremetal.NodeWithdrawn {
			t.Errorf("record of the node that left the scope: %+v; want withdrawn", rec)
		}
		wantReserved(t, db, ids[1], reconcile.ResourceClass(fleetNode(1).ResourceClass), true)
		// A second refresh releases it, as the next pass would.
		if err := r.Refresh(t.Context(), []ironic.Node{mustNode(t, s, ids[1])}); err != nil {
			t.Fatal(err)
		}
		if rec := records(t, db)[ids[1]]; rec.State != baremetal.NodeReleased || rec.Scope != "" {
			t.Errorf("record after a second refresh: %+v; want released", rec)
		}
	})
}

// TestRefreshRetriesALostRace: a claim bumps the provider's generation between Refresh's
// plan and its write; Refresh plans again from a fresh view and succeeds, keeping the
// allocation.
func TestRefreshRetriesALostRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(2, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{})
		mustPass(t, r)
		id := ids[0]
		applies := 0
		reconcile.SetBeforeApply(r, func() {
			applies++
			if applies == 1 {
				allocate(t, db, "c0000000-0000-4000-8000-000000000001", id, gold)
			}
		})
		s.UpdateNode(id, func(n *ironic.Node) { n.ProvisionState = ironic.ProvisionStateCleaning })
		if err := r.Refresh(t.Context(), []ironic.Node{mustNode(t, s, id)}); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if applies != 2 {
			t.Errorf("%d applies; want 2 (the lost race, then the retry)", applies)
		}
		wantReserved(t, db, id, gold, true)
		if p := mustProvider(t, db, id); p.Used != 1 {
			t.Errorf("the allocation is gone: %+v", p)
		}
	})
}

// TestRefreshGivesUpAfterLosingEveryRound: a race lost on every round is an error naming
// the node, and nothing else is written.
func TestRefreshGivesUpAfterLosingEveryRound(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	s := ironictest.NewServer(t)
	ids := s.AddNodes(1, fleetNode)
	r := newReconciler(t, s, db, reconcile.Config{})
	mustPass(t, r)
	id := ids[0]
	n := 0
	reconcile.SetBeforeApply(r, func() {
		n++
		// Someone else's trait write (the same traits) bumps the generation every time.
		p := mustProvider(t, db, id)
		if _, _, err := db.SetProviderTraits(context.Background(), id, p.Generation, p.Traits); err != nil {
			t.Fatalf("trait write: %v", err)
		}
	})
	s.UpdateNode(id, func(n *ironic.Node) { n.Maintenance = true })
	err := r.Refresh(t.Context(), []ironic.Node{mustNode(t, s, id)})
	if !errors.Is(err, placement.ErrConcurrentUpdate) {
		t.Fatalf("Refresh = %v; want a concurrent update", err)
	}
	if n != 3 {
		t.Errorf("%d rounds; want 3", n)
	}
}

// TestPassLeavesRefreshedNodesAlone: a node refreshed after a pass listed it keeps what
// the refresh wrote; the pass's older listing does not undo it.
func TestPassLeavesRefreshedNodesAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(3, fleetNode)
		id := ids[0]
		var r *reconcile.Reconciler
		var hookErr error
		refreshOnce := sync.OnceFunc(func() {
			// The pass has listed the node available; it now enters cleaning and the
			// instance controller refreshes it before the pass plans.
			s.UpdateNode(id, func(n *ironic.Node) { n.ProvisionState = ironic.ProvisionStateCleaning })
			n, _ := s.Node(id)
			hookErr = r.Refresh(context.Background(), []ironic.Node{n})
		})
		armed := false
		var listed [][]string
		r = newReconciler(t, s, db, reconcile.Config{OnListing: func(nodes []ironic.Node) {
			var uuids []string
			for _, n := range nodes {
				uuids = append(uuids, n.UUID)
			}
			listed = append(listed, uuids)
			if armed {
				refreshOnce()
			}
		}})
		mustPass(t, r)
		if len(listed) != 1 || !slices.Equal(listed[0], ids) {
			t.Fatalf("OnListing saw %v; want one listing of %v", listed, ids)
		}
		armed = true
		s.UpdateNode(ids[1], func(n *ironic.Node) { n.Maintenance = true })
		st := mustPass(t, r)
		if hookErr != nil {
			t.Fatalf("Refresh during the pass: %v", hookErr)
		}
		wantReserved(t, db, id, gold, true) // not undone by the pass's listing
		if st.Changes != 1 {
			t.Errorf("pass = %+v; want only the other node's change", st)
		}
		wantReserved(t, db, ids[1], reconcile.ResourceClass(fleetNode(1).ResourceClass), true)
		if len(listed) != 2 {
			t.Errorf("OnListing called %d times; want once per pass", len(listed))
		}
		// The next pass lists the node in cleaning, and agrees.
		if st := mustPass(t, r); st.Changes != 0 {
			t.Errorf("next pass = %+v; want no changes", st)
		}
		wantReserved(t, db, id, gold, true)
	})
}

// TestRefreshConcurrentWithPasses runs refreshes and passes at once (for the race
// detector and for lost races on both sides); afterwards every provider matches Ironic.
func TestRefreshConcurrentWithPasses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(20, fleetNode)
		r := newReconciler(t, s, db, reconcile.Config{})
		mustPass(t, r)
		var wg sync.WaitGroup
		for round := range 4 {
			for i, id := range ids {
				s.UpdateNode(id, func(n *ironic.Node) { n.Maintenance = (i+round)%2 == 0 })
			}
			wg.Go(func() {
				if _, err := r.Pass(t.Context()); err != nil {
					t.Errorf("Pass: %v", err)
				}
			})
			for _, id := range ids {
				wg.Go(func() {
					n, _ := s.Node(id)
					if err := r.Refresh(t.Context(), []ironic.Node{n}); err != nil {
						t.Errorf("Refresh: %v", err)
					}
				})
			}
			wg.Wait()
		}
		mustPass(t, r)
		for i, id := range ids {
			n := fleetNode(i)
			wantReserved(t, db, id, reconcile.ResourceClass(n.ResourceClass), (i+3)%2 == 0)
		}
	})
}
