package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"ingot/internal/baremetal"
	"ingot/internal/placement"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// nodeProvider creates a provider with one unit of CUSTOM_BAREMETAL_GOLD, as the tracker
// maps a node.
func nodeProvider(t *testing.T, db *store.DB, uuid string) {
	t.Helper()
	if _, err := db.EnsureResourceClass(context.Background(), "CUSTOM_BAREMETAL_GOLD"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, db, uuid, uuid, "")
	setInventory(t, db, uuid, map[string]placement.Inventory{
		"CUSTOM_BAREMETAL_GOLD": {Total: 1, MinUnit: 1, MaxUnit: 1, StepSize: 1, AllocationRatio: 1},
	})
}

func claimed(in baremetal.Instance, node string) baremetal.Instance {
	in.Node, in.Task = node, baremetal.TaskLocking
	return in
}

func TestClaimAndReleaseInstance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		nodeProvider(t, db, uuidA)
		in := mustCreateInstance(t, db, newInstance(1, "p1"))

		got, err := db.ClaimInstance(ctx, claimed(in, uuidA), "CUSTOM_BAREMETAL_GOLD")
		if err != nil {
			t.Fatal(err)
		}
		if got.Generation != in.Generation+1 || got.Node != uuidA || got.Task != baremetal.TaskLocking {
			t.Errorf("claim returned %+v", got)
		}
		stored, err := db.Instance(ctx, in.UUID)
		if err != nil || stored.Node != uuidA || stored.Generation != got.Generation {
			t.Fatalf("stored %+v, %v", stored, err)
		}
		c, allocs, ok, err := db.ConsumerAllocations(ctx, in.UUID)
		if err != nil || !ok || len(allocs) != 1 || allocs[0].ProviderUUID != uuidA || allocs[0].Used != 1 {
			t.Fatalf("allocations %+v ok %v err %v", allocs, ok, err)
		}
		if c.Type != store.InstanceConsumerType || c.ProjectID != "p1" || c.UserID != "u1" {
			t.Errorf("consumer %+v", c)
		}

		// A stale generation writes nothing, neither record nor allocation.
		if _, err := db.ReleaseInstance(ctx, in); !errors.Is(err, placement.ErrConcurrentUpdate) {
			t.Fatalf("stale release: %v, want a concurrent update", err)
		}
		if _, _, ok, _ := db.ConsumerAllocations(ctx, in.UUID); !ok {
			t.Fatal("a failed release removed the allocation")
		}

		// Another instance cannot claim the full node: capacity, and nothing is written.
		other := mustCreateInstance(t, db, newInstance(2, "p2"))
		if _, err := db.ClaimInstance(ctx, claimed(other, uuidA), "CUSTOM_BAREMETAL_GOLD"); !errors.Is(err, placement.ErrConflict) {
			t.Fatalf("second claim: %v, want a conflict", err)
		}
		if o, _ := db.Instance(ctx, other.UUID); o.Node != "" || o.Generation != other.Generation {
			t.Errorf("failed claim wrote the record: %+v", o)
		}
		if _, _, ok, _ := db.ConsumerAllocations(ctx, other.UUID); ok {
			t.Error("failed claim left an allocation")
		}

		rel := got
		rel.Node, rel.Task, rel.Excluded = "", baremetal.TaskScheduling, []string{uuidA}
		after, err := db.ReleaseInstance(ctx, rel)
		if err != nil {
			t.Fatal(err)
		}
		if after.Node != "" || len(after.Excluded) != 1 || after.Generation != got.Generation+1 {
			t.Errorf("release returned %+v", after)
		}
		if _, _, ok, _ := db.ConsumerAllocations(ctx, in.UUID); ok {
			t.Error("release left the allocation")
		}
		// Now the node is free for the other instance.
		if _, err := db.ClaimInstance(ctx, claimed(other, uuidA), "CUSTOM_BAREMETAL_GOLD"); err != nil {
			t.Fatalf("claim after release: %v", err)
		}
		// Releasing an instance without allocation only writes the record.
		after.State, after.Task = baremetal.StateDeleting, baremetal.TaskNone
		if _, err := db.ReleaseInstance(ctx, after); err != nil {
			t.Fatal(err)
		}
	})
}

// TestClaimInstanceRace: many instances claim one node at once; exactly one wins, and
// every loser wrote nothing.
func TestClaimInstanceRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		nodeProvider(t, db, uuidA)
		const n = 8
		ins := make([]baremetal.Instance, n)
		for i := range ins {
			ins[i] = mustCreateInstance(t, db, newInstance(10+i, "p1"))
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range ins {
			wg.Go(func() { _, errs[i] = db.ClaimInstance(ctx, claimed(ins[i], uuidA), "CUSTOM_BAREMETAL_GOLD") })
		}
		wg.Wait()
		wins := 0
		for i, err := range errs {
			held, _ := db.Instance(ctx, ins[i].UUID)
			_, _, hasAlloc, _ := db.ConsumerAllocations(ctx, ins[i].UUID)
			switch {
			case err == nil:
				wins++
				if held.Node != uuidA || !hasAlloc {
					t.Errorf("winner %d: node %q allocation %v", i, held.Node, hasAlloc)
				}
			case errors.Is(err, placement.ErrConflict):
				if held.Node != "" || hasAlloc {
					t.Errorf("loser %d: node %q allocation %v", i, held.Node, hasAlloc)
				}
			default:
				t.Errorf("claim %d: %v", i, err)
			}
		}
		if wins != 1 {
			t.Errorf("%d claims won, want 1", wins)
		}
	})
}
