package deploy_test

import (
	"context"
	"testing"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/deploy"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// TestConcurrentBuilds runs the controller for real (Run) against a fake Ironic whose
// deploys, tear-downs and cleaning take time and whose every request costs 5 ms: as many
// concurrent builds as nodes all become active on distinct nodes, the watch costs at most
// 2 listings a second although every create wakes the controller, and deleting them all
// gives every node back.
func TestConcurrentBuilds(t *testing.T) {
	const n = 150
	db := storetest.Open(t, storetest.SQLite)
	h := newHarness(t, db, n, deploy.Config{WatchInterval: time.Second},
		ironictest.WithTiming(ironictest.Timing{Deploy: 2 * time.Second, Teardown: 500 * time.Millisecond, Clean: time.Second}),
		ironictest.WithLatency("", 5*time.Millisecond))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.ctrl.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	h.fake.ResetRequests()
	start := time.Now()
	var ins []baremetal.Instance
	for i := range n {
		ins = append(ins, h.create(i+1, baremetal.Request{ResourceClass: "gold"}))
		h.ctrl.Kick() // as the instance API does after every create
	}
	waitAll := func(what string, st baremetal.State, within time.Duration) time.Duration {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			got, err := db.ListInstances(t.Context(), store.InstanceFilter{States: []baremetal.State{st}})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == n {
				return time.Since(start)
			}
			if time.Now().After(deadline) {
				for _, in := range ins {
					cur := h.instance(in.UUID)
					if cur.State != st {
						nd := ""
						if cur.Node != "" {
							x := h.node(cur.Node)
							nd = x.ProvisionState + "/" + x.TargetProvisionState + " inst=" + x.InstanceUUID + " res=" + x.Reservation
						}
						t.Logf("stuck %s: %s/%s node %s locked %v attempts %d excluded %d fault %+v; node %s",
							cur.UUID, cur.State, cur.Task, cur.Node, cur.Locked, cur.Attempts, len(cur.Excluded), cur.Fault, nd)
					}
				}
				t.Fatalf("%s: %d of %d after %v", what, len(got), n, within)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	took := waitAll("active", baremetal.StateActive, 60*time.Second)
	build := h.fake.Counts()
	seen := map[string]bool{}
	for _, in := range ins {
		node := h.instance(in.UUID).Node
		if seen[node] || h.allocation(in.UUID) != node || h.node(node).InstanceUUID != in.UUID {
			t.Fatalf("instance %s on node %s (allocation %s)", in.UUID, node, h.allocation(in.UUID))
		}
		seen[node] = true
	}
	watchRate := float64(build["GET /v1/nodes"]) / took.Seconds()
	t.Logf("%d concurrent builds active in %v: %d Ironic requests (%.1f per instance, %.2f watch listings/s): %v",
		n, took, total(build), float64(total(build))/n, watchRate, build)
	if watchRate > 2 {
		t.Errorf("the watch cost %.2f listings/s, want at most 2", watchRate)
	}

	h.fake.ResetRequests()
	start = time.Now()
	for _, in := range ins {
		h.delete(in.UUID)
	}
	h.ctrl.Kick()
	took = waitAll("deleted", baremetal.StateDeleted, 60*time.Second)
	t.Logf("%d deletes done in %v: %d Ironic requests: %v", n, took, total(h.fake.Counts()), h.fake.Counts())
	deadline := time.Now().Add(20 * time.Second)
	for len(h.candidates()) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d nodes offered again", len(h.candidates()), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.checkInvariants()
}
