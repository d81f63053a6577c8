package deploy_test

// Scenario tests named after table (b) of shared/docs/nova-ironic.md, for the instance
// controller: S5, S9, S10, S16, S17 and S19.

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/deploy"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// S5: X is active with instance I, and I's allocation is removed behind ingot's back.
// The invariant check flags it, and X is never offered meanwhile: the tracker keeps it
// reserved while it holds an instance, so neither a free request nor one pinned to X
// gets it.
func TestScenarioS5_LostAllocation(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, 2, deploy.Config{})
		in := h.create(1, baremetal.Request{ResourceClass: "gold"})
		h.until("active", true, func() bool { return h.instance(in.UUID).State == baremetal.StateActive })
		x := h.instance(in.UUID).Node
		if err := db.DeleteConsumerAllocations(t.Context(), in.UUID); err != nil {
			t.Fatal(err)
		}
		h.pass()
		r, err := h.ctrl.Check(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Claims) != 1 || r.Claims[0].Instance != in.UUID || r.Claims[0].Node != x ||
			r.Claims[0].What != "instance without allocation" {
			t.Fatalf("check found %+v", r.Claims)
		}
		if c := h.candidates(); slices.Contains(c, x) {
			t.Fatalf("X offered: %v", c)
		}
		pinned := h.create(2, baremetal.Request{ResourceClass: "gold", Node: x})
		h.until("pinned build fails", true, func() bool { return h.instance(pinned.UUID).State == baremetal.StateError })
		if f := h.instance(pinned.UUID).Fault; f == nil || f.Code != deploy.ErrNoValidHost {
			t.Errorf("pinned build fault %+v", f)
		} else if !strings.Contains(f.Message, "0 of 2 nodes fit: 1 not the pinned node (") ||
			!strings.Contains(f.Message, ", 1 provision state active (") {
			// The fault explains: the other node is not the pinned one, and X is reserved
			// because Ironic has it active.
			t.Errorf("pinned build fault %q", f.Message)
		}
		if n := h.node(x); n.InstanceUUID != in.UUID || n.ProvisionState != "active" {
			t.Errorf("X changed: %+v", n)
		}
	})
}

// S9: an instance on X is deleted; Ironic cleans X for a while; builds scheduled
// meanwhile never get X, and X is a candidate again one tick after Ironic reports it
// available.
func TestScenarioS9_CleaningWindow(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, 3, deploy.Config{})
		a := h.create(1, baremetal.Request{ResourceClass: "gold"})
		h.until("active", true, func() bool { return h.instance(a.UUID).State == baremetal.StateActive })
		x := h.instance(a.UUID).Node
		h.delete(a.UUID)
		h.tick() // undeploy
		for i := 2; h.node(x).ProvisionState != "cleaning"; i++ {
			if !h.fake.Advance(x) {
				t.Fatalf("X stuck in %s", h.node(x).ProvisionState)
			}
			h.tick()
		}
		// Ironic cleans X (its instance already cleared); a is released meanwhile.
		h.until("a deleted", false, func() bool { return h.instance(a.UUID).State == baremetal.StateDeleted })
		if st := h.node(x).ProvisionState; st != "cleaning" {
			t.Fatalf("X %s, want still cleaning", st)
		}
		var builds []string
		for i := range 2 {
			b := h.create(10+i, baremetal.Request{ResourceClass: "gold"})
			builds = append(builds, b.UUID)
			h.tick()
			if c := h.candidates(); slices.Contains(c, x) {
				t.Fatalf("X offered while cleaning: %v", c)
			}
		}
		for _, b := range builds {
			if n := h.instance(b).Node; n == x || n == "" {
				t.Fatalf("build %s on %q while X cleans", b, n)
			}
		}
		// A third build finds nothing while X cleans.
		c3 := h.create(20, baremetal.Request{ResourceClass: "gold"})
		h.tick()
		if got := h.instance(c3.UUID); got.State != baremetal.StateError || got.Node != "" {
			t.Fatalf("third build %+v", got)
		}
		for h.node(x).ProvisionState != "available" {
			if c := h.candidates(); slices.Contains(c, x) {
				t.Fatalf("X offered while %s", h.node(x).ProvisionState)
			}
			h.fake.Advance(x)
		}
		h.tick() // the watch sees X available and refreshes the tracker
		if c := h.candidates(); !slices.Contains(c, x) {
			t.Fatalf("X not offered a tick after it became available: %v", c)
		}
		h.checkInvariants()
	})
}

// S9 across a restart: the controller that gave X back during cleaning dies; its
// successor (nothing in memory) still offers X within a tick of Ironic reporting it
// available, without waiting for a tracker pass.
func TestScenarioS9_CleaningWindowAcrossRestart(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, 2, deploy.Config{})
		a := h.create(1, baremetal.Request{ResourceClass: "gold"})
		h.until("active", true, func() bool { return h.instance(a.UUID).State == baremetal.StateActive })
		x := h.instance(a.UUID).Node
		h.delete(a.UUID)
		h.tick() // undeploy
		for h.node(x).ProvisionState != "cleaning" {
			if !h.fake.Advance(x) {
				t.Fatalf("X stuck in %s", h.node(x).ProvisionState)
			}
			h.tick()
		}
		h.until("a deleted", false, func() bool { return h.instance(a.UUID).State == baremetal.StateDeleted })
		h.restart()
		h.tick()
		if c := h.candidates(); slices.Contains(c, x) {
			t.Fatalf("X offered while cleaning, after the restart: %v", c)
		}
		for h.node(x).ProvisionState != "available" {
			h.fake.Advance(x)
		}
		h.tick() // the new controller's watch sees X available and refreshes the tracker
		if c := h.candidates(); !slices.Contains(c, x) {
			t.Fatalf("X not offered a tick after it became available: %v", c)
		}
	})
}

// S10: two builds race for X (both pinned to it): exactly one claim and one Ironic lock
// win, the loser fails (its only node is taken), nothing is deployed twice. Then a node
// that goes into maintenance between the claim and the lock, and a lock that loses in
// Ironic (409), are skipped: the build goes on to another node.
func TestScenarioS10_ChosenNodeTaken(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, 3, deploy.Config{Workers: 4})
		x := h.nodes[0]
		a := h.create(1, baremetal.Request{ResourceClass: "gold", Node: x})
		b := h.create(2, baremetal.Request{ResourceClass: "gold", Node: x})
		h.fake.ResetRequests()
		h.tick() // both step at once
		h.until("both settled", true, func() bool {
			sa, sb := h.instance(a.UUID).State, h.instance(b.UUID).State
			return (sa == baremetal.StateActive) != (sb == baremetal.StateActive) &&
				(sa == baremetal.StateError || sb == baremetal.StateError)
		})
		win, lose := h.instance(a.UUID), h.instance(b.UUID)
		if lose.State == baremetal.StateActive {
			win, lose = lose, win
		}
		if win.Node != x || h.node(x).InstanceUUID != win.UUID || lose.Node != "" || lose.Fault == nil ||
			lose.Fault.Code != deploy.ErrNoValidHost {
			t.Fatalf("winner %+v loser %+v", win, lose)
		}
		if n := h.fake.Counts()["PUT /v1/nodes/{id}/states/provision"]; n != 1 {
			t.Errorf("%d provision requests, want one deploy", n)
		}
		if got := h.allocation(lose.UUID); got != "" {
			t.Errorf("loser holds an allocation on %s", got)
		}
		h.checkInvariants()

		// Maintenance between choice and lock: skipped, not failed.
		deploy.SetMaxMoves(h.ctrl, 1)
		c := h.create(3, baremetal.Request{ResourceClass: "gold"})
		h.tick() // the claim only
		y := h.instance(c.UUID).Node
		if y == "" || y == x {
			t.Fatalf("claim on %q", y)
		}
		h.fake.UpdateNode(y, func(n *ironic.Node) { n.Maintenance = true })
		h.restart()
		h.until("active elsewhere", true, func() bool { return h.instance(c.UUID).State == baremetal.StateActive })
		got := h.instance(c.UUID)
		if got.Node == y || !slices.Contains(got.Excluded, y) || got.Attempts != 1 || h.node(y).InstanceUUID != "" {
			t.Fatalf("after maintenance on %s: %+v", y, got)
		}
		h.fake.UpdateNode(y, func(n *ironic.Node) { n.Maintenance = false })
		h.checkInvariants()
	})
}

// S10, Ironic's lock lost: the PATCH of instance_uuid answers 409 (another client took
// the node after our GET). It is sent once, never retried, and the build moves on.
func TestScenarioS10_LockLost(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, 2, deploy.Config{})
		deploy.SetMaxMoves(h.ctrl, 1)
		in := h.create(1, baremetal.Request{ResourceClass: "gold"})
		h.tick()
		x := h.instance(in.UUID).Node
		h.fake.Inject(ironictest.Fault{Method: http.MethodPatch, Path: "/v1/nodes/" + x, Status: http.StatusConflict,
			Message: "Node " + x + " is associated with instance 99999999-9999-4999-8999-999999999999."})
		h.fake.ResetRequests()
		h.tick() // the lock: refused
		patches := 0
		for _, r := range h.fake.Requests() {
			if r.Method == http.MethodPatch && r.Path == "/v1/nodes/"+x {
				patches++
			}
		}
		if patches != 1 {
			t.Errorf("%d PATCHes of X, want exactly one", patches)
		}
		got := h.instance(in.UUID)
		if got.Node != "" || !slices.Contains(got.Excluded, x) || got.Attempts != 0 {
			t.Fatalf("after the lost lock: %+v", got)
		}
		h.restart()
		h.until("active on the other node", true, func() bool { return h.instance(in.UUID).State == baremetal.StateActive })
		if h.instance(in.UUID).Node == x {
			t.Fatal("built on the lost node")
		}
		h.checkInvariants()
	})
}

// S16: a tracker listing taken before a tear-down arrives after it (a long refresh): the
// controller does not act on that stale "active" view. The instance stays deleted, no
// second tear-down is sent, and the next watch shows the node as Ironic has it.
func TestScenarioS16_StaleListingAfterEvict(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, 2, deploy.Config{})
		in := h.create(1, baremetal.Request{ResourceClass: "gold"})
		h.until("active", true, func() bool { return h.instance(in.UUID).State == baremetal.StateActive })
		x := h.instance(in.UUID).Node
		stale, err := h.client.ListNodes(t.Context(), ironic.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h.delete(in.UUID)
		h.fake.ResetRequests()
		h.until("deleted", true, func() bool { return h.instance(in.UUID).State == baremetal.StateDeleted })
		h.ctrl.ObserveNodes(stale) // the long listing ends now
		h.tick()
		h.tick()
		if n := h.fake.Counts()["PUT /v1/nodes/{id}/states/provision"]; n != 1 {
			t.Errorf("%d provision requests after the delete, want the one tear-down", n)
		}
		if got := h.instance(in.UUID); got.State != baremetal.StateDeleted || got.Node != "" {
			t.Fatalf("instance %+v", got)
		}
		// The stale listing's tracker pass cannot offer X: it shows an instance.
		h.pass()
		if c := h.candidates(); slices.Contains(c, x) && h.node(x).ProvisionState != "available" {
			t.Fatalf("X offered from a stale view: %v", c)
		}
		h.checkInvariants() // fresh listing: nothing stale remains
		if n := h.node(x); n.InstanceUUID != "" {
			t.Errorf("X still shows %s", n.InstanceUUID)
		}
	})
}

// S17: builds during a long tracker pass (a slow listing of many nodes) are claimed and
// locked while the pass is still listing: neither waits for the other. (A build that
// waited for the pass would be locked only after it ended, and fail the test; how long the
// locks take is logged, not asserted: it is a measurement, and the machine may be loaded.)
func TestScenarioS17_BuildsDuringFullPass(t *testing.T) {
	for _, backend := range storetest.Backends() {
		t.Run(backend, func(t *testing.T) {
			if backend == storetest.Postgres && storetest.PostgresURL() == "" {
				t.Skip("INGOT_TEST_POSTGRES not set")
			}
			db := storetest.Open(t, backend)
			const nodes, builds = 400, 20
			h := newHarness(t, db, nodes, deploy.Config{Workers: 8}, ironictest.WithMaxLimit(20))
			h.fake.SetPageLatency(250 * time.Millisecond) // 20 pages: a pass lists for 5 s
			passDone := make(chan time.Time, 1)
			go func() {
				_, _ = h.tracker.Pass(context.WithoutCancel(t.Context()))
				passDone <- time.Now()
			}()
			time.Sleep(200 * time.Millisecond) // the pass is listing
			start := time.Now()
			var ins []baremetal.Instance
			for i := range builds {
				ins = append(ins, h.create(i+1, baremetal.Request{ResourceClass: "gold"}))
			}
			h.tick()
			locked := time.Since(start)
			select {
			case <-passDone:
				t.Fatalf("the pass ended before the builds were locked (%v): they waited for it", locked)
			default:
			}
			seen := map[string]bool{}
			for _, in := range ins {
				got := h.instance(in.UUID)
				if !got.Locked || got.Node == "" || seen[got.Node] {
					t.Fatalf("build %s: %+v", in.UUID, got)
				}
				seen[got.Node] = true
			}
			passEnd := <-passDone
			t.Logf("%d builds claimed and locked in %v; the pass ended %v after they started", builds, locked, passEnd.Sub(start))
		})
	}
}

// S19: delete instances whose nodes are in unusual states: servicing, deploy hold, a
// state ingot does not know, error, and a node whose lock a conductor holds (cleaning
// steps). Each gets a tear-down request (fail safe); where Ironic refuses it for now,
// the instance waits in deleting with its allocation, the node never offered, and
// finishes once Ironic lets it; a locked node is waited for, never an error.
func TestScenarioS19_DeleteInUnusualStates(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		states := []string{"servicing", "deploy hold", "weird new state", "error", "active"}
		h := newHarness(t, db, len(states), deploy.Config{Workers: 8})
		var ins []baremetal.Instance
		for i := range states {
			ins = append(ins, h.create(i+1, baremetal.Request{ResourceClass: "gold"}))
		}
		h.until("all active", true, func() bool {
			for _, in := range ins {
				if h.instance(in.UUID).State != baremetal.StateActive {
					return false
				}
			}
			return true
		})
		nodeOf := map[string]string{}
		for i, in := range ins {
			x := h.instance(in.UUID).Node
			nodeOf[in.UUID] = x
			st := states[i]
			h.fake.UpdateNode(x, func(n *ironic.Node) { n.ProvisionState = st })
			if st == "active" {
				h.fake.LockNode(x, "conductor-cleaning-steps")
			}
			h.delete(in.UUID)
		}
		h.fake.ResetRequests()
		for range 3 {
			h.tick()
		}
		for i, in := range ins {
			x := nodeOf[in.UUID]
			tries := 0
			for _, r := range h.fake.Requests() {
				if r.Method == http.MethodPut && r.Path == "/v1/nodes/"+x+"/states/provision" {
					tries++
				}
			}
			if tries == 0 {
				t.Errorf("node in %q: no tear-down requested", states[i])
			}
			got := h.instance(in.UUID)
			if got.State == baremetal.StateError || got.Fault != nil {
				t.Errorf("node in %q: instance %+v", states[i], got)
			}
			if states[i] != "error" && got.State != baremetal.StateDeleting {
				t.Errorf("node in %q (refused or locked): instance %s, want waiting in deleting", states[i], got.State)
			}
			if states[i] == "error" && h.node(x).ProvisionState == "error" {
				t.Errorf("node in error not torn down")
			}
			if got.State == baremetal.StateDeleting {
				if h.allocation(in.UUID) != x {
					t.Errorf("node in %q: allocation released while Ironic holds the node", states[i])
				}
			}
		}
		if c := h.candidates(); len(c) != 0 {
			// Only a node Ironic finished cleaning may be offered.
			for _, n := range c {
				if h.node(n).ProvisionState != "available" {
					t.Errorf("node %s offered in %s", n, h.node(n).ProvisionState)
				}
			}
		}
		// Ironic finishes what it was doing: servicing and deploy hold end active, the
		// unknown state is fixed by an operator, the lock is released.
		for i, in := range ins {
			x := nodeOf[in.UUID]
			switch states[i] {
			case "active":
				h.fake.UnlockNode(x)
			case "servicing", "deploy hold", "weird new state":
				if h.instance(in.UUID).State == baremetal.StateDeleting && h.node(x).InstanceUUID != "" {
					h.fake.UpdateNode(x, func(n *ironic.Node) { n.ProvisionState = "active" })
				}
			}
		}
		h.until("all deleted", true, func() bool {
			for _, in := range ins {
				if h.instance(in.UUID).State != baremetal.StateDeleted {
					return false
				}
			}
			return true
		})
		for _, in := range ins {
			if got := h.allocation(in.UUID); got != "" {
				t.Errorf("allocation left on %s", got)
			}
		}
		h.checkInvariants()
	})
}
