package e2e

import (
	"fmt"
	"ingot/internal/uuid"
	"net/http"
	"sync"
	"testing"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
)

// settle is how long a build or a delete may take here: fake-hardware's deploy_delay (a
// second or two per step in CI) twice, watching, and a loaded 2-core machine.
const settle = 3 * time.Minute

// ingotFlags are the instance controller's settings for the tests: quick deploy watching
// and a short deploy timeout, so a stuck deploy fails the test rather than hanging it.
var ingotFlags = []string{}

// TestInstancesRealIronic runs instances through ingot on the real Ironic: concurrent
// creates on distinct nodes, deletes that return every node, a failed deploy that is
// rescheduled, and two creates pinned to one node; each with ingot as one process on
// SQLite, then as two replicas (processes) on one PostgreSQL database, requests going to
// each in turn, every node ending owned by exactly one replica.
func TestInstancesRealIronic(t *testing.T) {
	r := ironictest.RealIronic(t)
	c := ironicClient(t, r)
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) { instanceScenarios(t, r, c, d) })
	}
}

// instanceScenarios runs the scenarios of TestInstancesRealIronic with ingot deployed as d
// (one after the other: two ingots tracking one conductor group would each see the
// other's instances on nodes as foreign).
func instanceScenarios(t *testing.T, r ironictest.Real, c *ironic.Client, d deployment) {
	ownedOnce := func(t *testing.T, a *api, tn *testNodes) {
		t.Helper()
		waitFor(t, 30*time.Second, "every node owned by exactly one replica", func() error {
			return checkOwnedOnce(t.Context(), a, tn.uuids)
		})
	}

	t.Run("concurrent creates then deletes", func(t *testing.T) {
		const n = 20
		tn := enroll(t, c, r.ConductorGroup, n, nil)
		a := d.start(t, r, "e2e-project")
		waitCandidates(t, a, tn, n)

		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			ids[i] = uuid.New()
			wg.Go(func() {
				_, code, err := a.create(t.Context(), createBody(ids[i], fmt.Sprintf("e2e-%d", i), tn.class, ""))
				if err == nil && code != http.StatusAccepted {
					err = fmt.Errorf("create: %d, want 202", code)
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := waitSettled(t, a, ids, settle, "active", "error")

		// All active, on distinct nodes, each locked in Ironic and allocated in Placement.
		nodes, err := tn.nodeStates(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		holder := map[string]string{}
		for _, id := range ids {
			in := got[id]
			if in.State != "active" {
				t.Errorf("instance %s, want active", describe(in))
				continue
			}
			if other, dup := holder[in.Node]; dup {
				t.Errorf("node %s holds %s and %s", in.Node, other, id)
			}
			holder[in.Node] = id
			n := nodes[in.Node]
			if n.ProvisionState != ironic.ProvisionStateActive || n.InstanceUUID != id {
				t.Errorf("instance %s: its node is %s with instance_uuid %q", describe(in), n.ProvisionState, n.InstanceUUID)
			}
			allocs, err := a.consumerAllocations(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if len(allocs) != 1 || allocs[in.Node][tn.rc] != 1 {
				t.Errorf("instance %s: allocations %v, want %s:1 on %s only", id, allocs, tn.rc, in.Node)
			}
		}
		if len(holder) != n {
			t.Errorf("%d instances on %d distinct nodes", n, len(holder))
		}
		if err := checkInvariants(t.Context(), a, tn); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			return
		}

		// Delete them all: every node goes back to the pool.
		for _, id := range ids {
			wg.Go(func() {
				if code, err := a.remove(t.Context(), id); err != nil || code != http.StatusAccepted {
					t.Errorf("delete %s: %d %v", id, code, err)
				}
			})
		}
		wg.Wait()
		waitSettled(t, a, ids, settle, "deleted")
		waitFor(t, 30*time.Second, "every node free and a candidate again", func() error {
			return checkFree(t.Context(), a, tn, tn.uuids)
		})
		if err := checkInvariants(t.Context(), a, tn); err != nil {
			t.Error(err)
		}
		ownedOnce(t, a, tn)
		// Ownership moved while the instances were built (the second replica started
		// after the first had claimed every node): each replica drove some deploys or
		// tear-downs in Ironic.
		for _, p := range a.procs[:min(len(a.procs), d.replicas)] {
			f, err := scrapeMetrics(t.Context(), p.base)
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := f.Get("ingot_ironic_requests_total", "call", "set_provision_state"); v == 0 {
				t.Errorf("replica at %s made no provision change in Ironic", p.base)
			}
		}
	})

	t.Run("deploy failure reschedules", func(t *testing.T) {
		// Three nodes. "bad" deploys with the custom-agent interface, which waits for a
		// ramdisk that never calls back: Ironic fails the deploy after [conductor]
		// deploy_callback_timeout (scripts/ironic/start.sh's CALLBACK_TIMEOUT).
		// "good" is owned by the instance's project, and "filler", owned too, is in
		// maintenance: the default spread weigher sees good's rack (conductor group + owner
		// aggregates) loaded and bad's empty, so it tries bad first, every time.
		const project = "e2e-resched"
		tn := enroll(t, c, r.ConductorGroup, 3, func(i int, s *ironictest.NodeSpec) {
			if i > 0 {
				s.Owner = project
			}
		})
		bad, good, filler := tn.uuids[0], tn.uuids[1], tn.uuids[2]
		if _, err := c.PatchNode(t.Context(), bad, []ironic.PatchOp{ironic.ReplaceOp("/deploy_interface", "custom-agent")}); err != nil {
			t.Fatal(err)
		}
		if err := c.SetMaintenance(t.Context(), filler, "e2e: load good's rack"); err != nil {
			t.Fatal(err)
		}
		a := d.start(t, r, project)
		waitCandidates(t, a, tn, 2)

		id := uuid.New()
		if _, code, err := a.create(t.Context(), createBody(id, "e2e-resched", tn.class, "")); err != nil || code != http.StatusAccepted {
			t.Fatalf("create: %d %v", code, err)
		}
		in := waitSettled(t, a, []string{id}, settle, "active", "error")[id]
		if in.State != "active" || in.Node != good {
			t.Fatalf("instance %s; want active on %s after failing on %s", describe(in), good, bad)
		}
		if in.Attempts != 2 {
			t.Errorf("attempts %d, want 2 (bad, then good)", in.Attempts)
		}
		if len(in.ExcludedNodes) != 1 || in.ExcludedNodes[0] != bad {
			t.Errorf("excluded nodes %v, want [%s]", in.ExcludedNodes, bad)
		}
		// The failed node is torn down and offered again once Ironic has it available.
		waitFor(t, settle, "the failed node back in the pool", func() error {
			return checkFree(t.Context(), a, tn, []string{bad})
		})
		if err := checkInvariants(t.Context(), a, tn); err != nil {
			t.Error(err)
		}
		if code, err := a.remove(t.Context(), id); err != nil || code != http.StatusAccepted {
			t.Fatalf("delete: %d %v", code, err)
		}
		waitSettled(t, a, []string{id}, settle, "deleted")
		ownedOnce(t, a, tn)
	})

	t.Run("two creates pinned to one node", func(t *testing.T) {
		tn := enroll(t, c, r.ConductorGroup, 2, nil)
		pinned, other := tn.uuids[0], tn.uuids[1]
		a := d.start(t, r, "e2e-pin")
		waitCandidates(t, a, tn, 2)

		ids := []string{uuid.New(), uuid.New()}
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() {
				if _, code, err := a.create(t.Context(), createBody(id, fmt.Sprintf("e2e-pin-%d", i), tn.class, pinned)); err != nil || code != http.StatusAccepted {
					t.Errorf("create %s: %d %v", id, code, err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		got := waitSettled(t, a, ids, settle, "active", "error")
		var winners, losers []instance
		for _, id := range ids {
			if got[id].State == "active" {
				winners = append(winners, got[id])
			} else {
				losers = append(losers, got[id])
			}
		}
		if len(winners) != 1 {
			t.Fatalf("%d winners, want exactly one: %v", len(winners), got)
		}
		w, l := winners[0], losers[0]
		if w.Node != pinned {
			t.Errorf("winner %s, want it on the pinned node %s", describe(w), pinned)
		}
		if l.Node != "" || l.NodeLocked || l.Fault == nil {
			t.Errorf("loser %s: want no node and a fault", describe(l))
		}
		nodes, err := tn.nodeStates(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if nodes[pinned].InstanceUUID != w.UUID || nodes[pinned].ProvisionState != ironic.ProvisionStateActive {
			t.Errorf("pinned node: %s, instance_uuid %q; want active for %s", nodes[pinned].ProvisionState, nodes[pinned].InstanceUUID, w.UUID)
		}
		if err := checkFree(t.Context(), a, tn, []string{other}); err != nil {
			t.Errorf("the other node was touched: %v", err)
		}
		if err := checkInvariants(t.Context(), a, tn); err != nil {
			t.Error(err)
		}
		for _, id := range ids {
			if code, err := a.remove(t.Context(), id); err != nil || code != http.StatusAccepted {
				t.Fatalf("delete %s: %d %v", id, code, err)
			}
		}
		waitSettled(t, a, ids, settle, "deleted")
		ownedOnce(t, a, tn)
	})
}

// waitCandidates waits until ingot's tracker offers n of the test's nodes.
func waitCandidates(t *testing.T, a *api, tn *testNodes, n int) {
	t.Helper()
	waitFor(t, time.Minute, "the nodes as allocation candidates", func() error {
		c, err := a.candidates(t.Context(), tn.rc)
		if err != nil {
			return err
		}
		if len(c) != n {
			return fmt.Errorf("%d candidates of %s, want %d", len(c), tn.rc, n)
		}
		return nil
	})
}
