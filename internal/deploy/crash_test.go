package deploy_test

import (
	"context"
	"testing"

	"ingot/internal/baremetal"
	"ingot/internal/deploy"
	"ingot/internal/ironic"
	"ingot/internal/store"
)

// TestRestartAfterEveryStep runs a build with a deploy failure, a reschedule and a delete
// with a new controller (nothing kept in memory) after every single action, as if the
// process were killed between any two steps, and checks the invariants each time.
func TestRestartAfterEveryStep(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, 3, deploy.Config{})
		crashy := func() {
			h.restart()
			deploy.SetMaxMoves(h.ctrl, 1)
		}
		crashy()
		in := h.create(1, baremetal.Request{ResourceClass: "gold"})
		failedOne := ""
		for i := 0; ; i++ {
			if i == 200 {
				t.Fatalf("no progress: %+v", h.instance(in.UUID))
			}
			h.tick()
			crashy()
			h.checkInvariants()
			cur := h.instance(in.UUID)
			if cur.State == baremetal.StateActive {
				break
			}
			if failedOne == "" && cur.Node != "" && h.node(cur.Node).ProvisionState == "deploying" {
				failedOne = cur.Node
				failDeploy(h, cur.Node)
				continue
			}
			h.fake.AdvanceAll()
		}
		in = h.instance(in.UUID)
		if in.Node == failedOne || in.Attempts != 2 {
			t.Fatalf("active instance %+v, failed node %s", in, failedOne)
		}
		h.delete(in.UUID)
		h.until("deleted", true, func() bool {
			crashy()
			h.checkInvariants()
			return h.instance(in.UUID).State == baremetal.StateDeleted
		})
		if got := h.allocation(in.UUID); got != "" {
			t.Errorf("allocation left on %s", got)
		}
		h.checkInvariants()
	})
}

// TestRestartAfterLockBeforeRecord: the controller locked the node in Ironic and died
// before recording it. The next controller finds its lock and goes on, without a second
// PATCH that would conflict.
func TestRestartAfterLockBeforeRecord(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, 2, deploy.Config{})
		deploy.SetMaxMoves(h.ctrl, 1)
		in := h.create(1, baremetal.Request{ResourceClass: "gold"})
		h.tick() // the claim only
		in = h.instance(in.UUID)
		if in.Node == "" || in.Locked {
			t.Fatalf("after the claim: %+v", in)
		}
		// What the dead controller's PATCH did.
		if _, err := h.client.PatchNode(t.Context(), in.Node, ironic.ClaimOps(in.UUID)); err != nil {
			t.Fatal(err)
		}
		h.restart()
		deploy.SetMaxMoves(h.ctrl, 1)
		h.fake.ResetRequests()
		h.tick() // one decision: record the lock found in Ironic
		got := h.instance(in.UUID)
		if !got.Locked || got.Node != in.Node || got.Task != baremetal.TaskDeploying {
			t.Fatalf("after restart: %+v", got)
		}
		for _, r := range h.fake.Requests() {
			if r.Method == "PATCH" {
				t.Errorf("restarted controller sent %s %s", r.Method, r.Path)
			}
		}
		h.restart()
		h.until("active", true, func() bool { return h.instance(in.UUID).State == baremetal.StateActive })
		h.checkInvariants()
	})
}

// TestStaleLockUndone: a node shows one of our instances that does not hold it (its lock
// went through but the answer was lost, and the instance moved on). The invariant check
// removes that lock, since the node was never deployed; a foreign instance is only
// reported.
func TestStaleLockUndone(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, 3, deploy.Config{})
		in := h.create(1, baremetal.Request{ResourceClass: "gold"})
		h.until("active", true, func() bool { return h.instance(in.UUID).State == baremetal.StateActive })
		held := h.instance(in.UUID).Node
		var stale, foreign string
		for _, n := range h.nodes {
			if n != held && stale == "" {
				stale = n
			} else if n != held {
				foreign = n
			}
		}
		h.fake.UpdateNode(stale, func(n *ironic.Node) { n.InstanceUUID = in.UUID })
		h.fake.UpdateNode(foreign, func(n *ironic.Node) { n.InstanceUUID = "99999999-9999-4999-8999-999999999999" })
		nodes, err := h.client.ListNodes(t.Context(), ironic.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h.ctrl.ObserveNodes(nodes)
		r, err := h.ctrl.Check(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Undone) != 1 || r.Undone[0] != stale || len(r.Foreign) != 1 || r.Foreign[0] != foreign ||
			len(r.Claims)+len(r.Stale)+len(r.Lost) != 0 {
			t.Fatalf("report %+v; want %s undone and %s foreign", r, stale, foreign)
		}
		if n := h.node(stale); n.InstanceUUID != "" {
			t.Errorf("stale lock kept: %q", n.InstanceUUID)
		}
		if n := h.node(foreign); n.InstanceUUID == "" {
			t.Error("foreign lock removed")
		}
	})
}

// TestStepPanicRecovered: a step that panics (here in the tracker's Refresh) is logged
// as a failed step; the controller goes on and the next tick finishes the work.
func TestStepPanicRecovered(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		var h *harness
		panicked := false
		h = newHarness(t, db, 2, deploy.Config{Refresh: func(ctx context.Context, nodes []ironic.Node) error {
			if !panicked {
				panicked = true
				panic("refresh blew up")
			}
			return h.tracker.Refresh(ctx, nodes)
		}})
		in := h.create(1, baremetal.Request{ResourceClass: "gold"})
		h.until("active", true, func() bool { return h.instance(in.UUID).State == baremetal.StateActive })
		node := h.instance(in.UUID).Node
		h.delete(in.UUID)
		h.until("deleted", false, func() bool {
			h.fake.Advance(node) // one step a tick: the release happens while cleaning
			return h.instance(in.UUID).State == baremetal.StateDeleted
		})
		if !panicked {
			t.Fatal("Refresh never ran")
		}
		h.checkInvariants()
	})
}
