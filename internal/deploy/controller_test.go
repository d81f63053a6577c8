package deploy_test

import (
	"slices"
	"testing"

	"ingot/internal/baremetal"
	"ingot/internal/deploy"
	"ingot/internal/store"
)

// TestLifecycle builds an instance to active and deletes it through cleaning, checking
// the records, the allocation, what Ironic was given, and the invariants at every step.
func TestLifecycle(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, 2, deploy.Config{})
		in := h.create(1, baremetal.Request{ResourceClass: "gold", Required: []string{"CUSTOM_GPU"}})

		h.tick() // schedule, claim, lock, instance_info, validate, provision active
		in = h.instance(in.UUID)
		if in.State != baremetal.StateBuilding || in.Task != baremetal.TaskDeploying || !in.Locked || in.Node == "" || in.Attempts != 1 {
			t.Fatalf("after one tick: %+v", in)
		}
		node := in.Node
		if got := h.allocation(in.UUID); got != node {
			t.Fatalf("allocation on %q, want %s", got, node)
		}
		n := h.node(node)
		if n.InstanceUUID != in.UUID || n.ProvisionState != "deploying" {
			t.Fatalf("node %s: instance %q state %q", node, n.InstanceUUID, n.ProvisionState)
		}
		ii := n.InstanceInfo
		if ii["image_source"] != "http://images.example/disk.qcow2" || ii["image_checksum"] != "0123456789abcdef0123456789abcdef" ||
			ii["display_name"] != "web 1" || ii["project_id"] != "p1" {
			t.Errorf("instance_info %v", ii)
		}
		if tr, _ := ii["traits"].([]any); len(tr) != 1 || tr[0] != "CUSTOM_GPU" {
			t.Errorf("instance_info traits %v", ii["traits"])
		}
		h.checkInvariants()
		if c := h.candidates(); slices.Contains(c, node) {
			t.Errorf("deploying node %s offered: %v", node, c)
		}

		h.until("active", true, func() bool { return h.instance(in.UUID).State == baremetal.StateActive })
		in = h.instance(in.UUID)
		if in.Task != baremetal.TaskNone || in.Node != node || in.Fault != nil {
			t.Errorf("active instance %+v", in)
		}
		h.checkInvariants()

		// Delete: tear down, wait through cleaning with the node never offered, release.
		h.delete(in.UUID)
		h.tick()
		if st := h.node(node).ProvisionState; st != "deleting" {
			t.Fatalf("after delete tick: node %s", st)
		}
		for h.instance(in.UUID).State != baremetal.StateDeleted {
			if c := h.candidates(); slices.Contains(c, node) {
				t.Fatalf("node %s offered in state %s: %v", node, h.node(node).ProvisionState, c)
			}
			if !h.fake.Advance(node) {
				h.tick()
				if h.instance(in.UUID).State != baremetal.StateDeleted {
					t.Fatalf("stuck: %+v, node %+v", h.instance(in.UUID), h.node(node))
				}
				break
			}
			h.tick()
			h.checkInvariants()
		}
		if got := h.allocation(in.UUID); got != "" {
			t.Errorf("deleted instance keeps an allocation on %s", got)
		}
		// Released while Ironic still cleans: reserved by the tracker until available.
		for h.node(node).ProvisionState != "available" {
			h.pass()
			if c := h.candidates(); slices.Contains(c, node) {
				t.Fatalf("node %s offered in state %s: %v", node, h.node(node).ProvisionState, c)
			}
			if !h.fake.Advance(node) {
				t.Fatalf("node stuck in %s", h.node(node).ProvisionState)
			}
		}
		in = h.instance(in.UUID)
		if in.Node != "" || in.Locked {
			t.Errorf("deleted instance %+v", in)
		}
		h.pass()
		if c := h.candidates(); !slices.Contains(c, node) {
			t.Errorf("node %s (%+v) not offered again: %v", node, h.node(node), c)
		}
		h.checkInvariants()
	})
}

// failDeploy makes Ironic fail the deploy under way on the node, as a failing deploy
// step does.
func failDeploy(h *harness, node string) {
	h.t.Helper()
	if !h.fake.FailDeploy(node, "boom: image unreachable") {
		h.t.Fatalf("no node %s", node)
	}
	for h.fake.Advance(node) { // to deploy failed, and the conductor's lock released
	}
	if st := h.node(node).ProvisionState; st != "deploy failed" {
		h.t.Fatalf("node %s in %s after a failed deploy", node, st)
	}
}

// TestRescheduleAfterDeployFailure: the first node fails; the instance is rescheduled to
// the other, the failed node is torn down, excluded, and not offered until available.
func TestRescheduleAfterDeployFailure(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, 2, deploy.Config{})
		in := h.create(1, baremetal.Request{ResourceClass: "gold"})
		h.tick()
		first := h.instance(in.UUID).Node
		failDeploy(h, first)
		h.tick() // fail -> tear down
		in = h.instance(in.UUID)
		if in.Task != baremetal.TaskRescheduling || in.Fault == nil || in.Fault.Code != "deploy_failed" {
			t.Fatalf("after failure: %+v", in)
		}
		if st := h.node(first).ProvisionState; st != "deleting" {
			t.Fatalf("failed node not torn down: %s", st)
		}
		for h.fake.Advance(first) {
			h.tick()
			if c := h.candidates(); slices.Contains(c, first) && h.node(first).ProvisionState != "available" {
				t.Fatalf("failed node offered while %s", h.node(first).ProvisionState)
			}
		}
		h.until("active on the other node", true, func() bool { return h.instance(in.UUID).State == baremetal.StateActive })
		in = h.instance(in.UUID)
		if in.Node == first || !slices.Contains(in.Excluded, first) || in.Attempts != 2 {
			t.Errorf("rescheduled instance %+v", in)
		}
		if got := h.allocation(in.UUID); got != in.Node {
			t.Errorf("allocation on %s, want %s", got, in.Node)
		}
		h.checkInvariants()
	})
}

// TestErrorAfterMaxAttempts: every node fails; after MaxAttempts the instance is in error
// with the last fault, holding nothing.
func TestErrorAfterMaxAttempts(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, 3, deploy.Config{MaxAttempts: 2})
		in := h.create(1, baremetal.Request{ResourceClass: "gold"})
		failed := map[string]bool{}
		for range 40 {
			h.tick()
			cur := h.instance(in.UUID)
			if cur.State == baremetal.StateError {
				break
			}
			if cur.Node != "" && h.node(cur.Node).ProvisionState == "deploying" && !failed[cur.Node] {
				failed[cur.Node] = true
				failDeploy(h, cur.Node)
				continue // its pending deploy steps are void: the tear-down replaces them
			}
			h.fake.AdvanceAll()
		}
		in = h.instance(in.UUID)
		if in.State != baremetal.StateError || in.Node != "" || in.Attempts != 2 || len(failed) != 2 ||
			in.Fault == nil || in.Fault.Code != "deploy_failed" {
			t.Fatalf("instance %+v after failures on %v", in, failed)
		}
		if got := h.allocation(in.UUID); got != "" {
			t.Errorf("allocation kept on %s", got)
		}
		for n := range failed {
			if nd := h.node(n); nd.InstanceUUID != "" {
				t.Errorf("failed node %s keeps instance %s (%s)", n, nd.InstanceUUID, nd.ProvisionState)
			}
		}
		h.checkInvariants()
	})
}
