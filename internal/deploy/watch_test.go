package deploy_test

import (
	"context"
	"testing"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/deploy"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// total sums the fake's request counts.
func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// TestWatchBounded: with many deploys in flight and nothing changing, a tick costs one
// Ironic request (the change listing), not one per node; when they all become active, one
// tick notices every one of them.
func TestWatchBounded(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		const n = 60
		h := newHarness(t, db, n, deploy.Config{Workers: 16})
		var ins []baremetal.Instance
		for i := range n {
			ins = append(ins, h.create(i+1, baremetal.Request{ResourceClass: "gold"}))
		}
		h.until("all deploying", false, func() bool {
			for _, in := range ins {
				got := h.instance(in.UUID)
				if got.Task != baremetal.TaskDeploying || h.node(got.Node).ProvisionState != "deploying" {
					return false
				}
			}
			return true
		})
		// A tick re-reads the nodes changed in the last two overlaps and a second or two
		// (ChangedNodes settles its watermark on Ironic's Date, whole seconds, less the
		// overlap and a second), so right after the deploys started it reads them again;
		// count past that.
		time.Sleep(2*ironic.DefaultWatchOverlap + 2300*time.Millisecond) // Date has whole seconds
		h.tick()
		h.fake.ResetRequests()
		const ticks = 10
		for range ticks {
			h.tick()
		}
		if got := total(h.fake.Counts()); got > ticks {
			t.Fatalf("%d ticks with %d deploys in flight cost %d Ironic requests (%v), want at most %d",
				ticks, n, got, h.fake.Counts(), ticks)
		}
		h.fake.AdvanceAll()
		h.fake.ResetRequests()
		h.tick()
		for _, in := range ins {
			if got := h.instance(in.UUID); got.State != baremetal.StateActive {
				t.Fatalf("one tick after Ironic finished: %+v", got)
			}
		}
		t.Logf("the tick that found %d deploys active cost %d requests: %v", n, total(h.fake.Counts()), h.fake.Counts())
		h.checkInvariants()
	})
}

// TestNoticeActiveWithin2s runs the controller for real (Run, default 1 s watch
// interval) and measures how long after Ironic reports a node active the instance is
// recorded active.
func TestNoticeActiveWithin2s(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	h := newHarness(t, db, 20, deploy.Config{WatchInterval: deploy.DefaultWatchInterval})
	var ins []baremetal.Instance
	for i := range 20 {
		ins = append(ins, h.create(i+1, baremetal.Request{ResourceClass: "gold"}))
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.ctrl.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ready := 0
		for _, in := range ins {
			if got := h.instance(in.UUID); got.Node != "" && h.node(got.Node).ProvisionState == "deploying" {
				ready++
			}
		}
		if ready == len(ins) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d deploying", ready, len(ins))
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // the watermark moves past the deploys' start
	h.fake.AdvanceAll()
	at := time.Now()
	for {
		active := 0
		for _, in := range ins {
			if h.instance(in.UUID).State == baremetal.StateActive {
				active++
			}
		}
		if active == len(ins) {
			break
		}
		if time.Since(at) > 2*time.Second {
			t.Fatalf("%d of %d active 2 s after Ironic reported them", active, len(ins))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("all %d active %v after Ironic reported them", len(ins), time.Since(at))
}

// TestRequestsPerInstance builds and deletes instances and counts the Ironic requests
// each costs, by kind: claim to active to deleted with the node cleaned.
func TestRequestsPerInstance(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	const n = 20
	h := newHarness(t, db, n, deploy.Config{Workers: 8})
	h.fake.ResetRequests()
	var ins []baremetal.Instance
	for i := range n {
		ins = append(ins, h.create(i+1, baremetal.Request{ResourceClass: "gold"}))
	}
	all := func(st baremetal.State) func() bool {
		return func() bool {
			for _, in := range ins {
				if h.instance(in.UUID).State != st {
					return false
				}
			}
			return true
		}
	}
	ticks := 0
	h.until("all active", true, func() bool { ticks++; return all(baremetal.StateActive)() })
	build := h.fake.Counts()
	h.fake.ResetRequests()
	for _, in := range ins {
		h.delete(in.UUID)
	}
	h.until("all deleted", true, func() bool { ticks++; return all(baremetal.StateDeleted)() })
	teardown := h.fake.Counts()
	perInstance := float64(total(build)+total(teardown)) / n
	t.Logf("%d instances over %d ticks: build %v; teardown %v; %.1f requests per instance, watch included",
		n, ticks, build, teardown, perInstance)
	// Lock (GET + PATCH), instance_info, validate, provision, tear-down: 6 per instance,
	// plus the shared watch listings and a GET where a reading was stale.
	if perInstance > 10 {
		t.Errorf("%.1f Ironic requests per instance, want at most 10", perInstance)
	}
}

// TestWatchFallback: an Ironic that refuses the sorted listing (400) is watched with at
// most WatchGets GETs per tick, round-robin, and the builds still finish.
func TestWatchFallback(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	h := newHarness(t, db, 6, deploy.Config{WatchGets: 2, WatchInterval: time.Nanosecond}) // every tick watches
	h.fake.Inject(ironictest.Fault{Method: "GET", Path: "/v1/nodes", Times: -1, Status: 400,
		Message: "fake: no sorting by provision_updated_at"})
	var ins []baremetal.Instance
	for i := range 6 {
		ins = append(ins, h.create(i+1, baremetal.Request{ResourceClass: "gold"}))
	}
	// Claims, locks, deploys (a deploy may wait a tick for the others' locks); the watch
	// falls back.
	h.until("all deploys requested", false, func() bool {
		return h.fake.Counts()["PUT /v1/nodes/{id}/states/provision"] == len(ins)
	})
	h.tick()
	h.fake.ResetRequests()
	for range 5 {
		h.tick()
	}
	if got := h.fake.Counts()["GET /v1/nodes/{id}"]; got != 5*2 || total(h.fake.Counts()) != got {
		t.Fatalf("5 waiting ticks cost %v, want exactly 2 GETs each", h.fake.Counts())
	}
	h.fake.AdvanceAll()
	h.until("all active", false, func() bool {
		for _, in := range ins {
			if h.instance(in.UUID).State != baremetal.StateActive {
				return false
			}
		}
		return true
	})
	h.fake.ClearFaults()
	h.checkInvariants()
}
