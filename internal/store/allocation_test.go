package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"ingot/internal/placement"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

func setInventory(t *testing.T, db *store.DB, uuid string, invs map[string]placement.Inventory) {
	t.Helper()
	_, gen, err := db.Inventories(context.Background(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SetInventories(context.Background(), uuid, gen, invs, store.ReservedUpToTotal); err != nil {
		t.Fatal(err)
	}
}

func TestAllocationRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mustCreate(t, db, uuidA, "cn", "")
		setInventory(t, db, uuidA, map[string]placement.Inventory{
			"VCPU":    {Total: 4, MinUnit: 1, MaxUnit: 2, StepSize: 1, AllocationRatio: 1},
			"DISK_GB": {Total: 100, MinUnit: 10, MaxUnit: 100, StepSize: 10, AllocationRatio: 1},
		})
		c1, c2 := "c0000000-0000-4000-8000-000000000001", "c0000000-0000-4000-8000-000000000002"
		vcpu := func(n int64) placement.Allocation {
			return placement.Allocation{ProviderUUID: uuidA, ResourceClass: "VCPU", Used: n}
		}
		for _, tc := range []struct {
			name  string
			alloc placement.Allocation
		}{
			{"above max_unit", vcpu(3)},
			{"below min_unit", placement.Allocation{ProviderUUID: uuidA, ResourceClass: "DISK_GB", Used: 5}},
			{"off step", placement.Allocation{ProviderUUID: uuidA, ResourceClass: "DISK_GB", Used: 15}},
			{"class without inventory", placement.Allocation{ProviderUUID: uuidA, ResourceClass: "MEMORY_MB", Used: 1}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := writeErr(db, c1, nil, tc.alloc)
				wantKind(t, err, placement.KindConflict, "")
			})
		}
		write(t, db, c1, nil, vcpu(2))
		write(t, db, c2, nil, vcpu(2))
		// Full: a third consumer does not fit, and the failed write creates no consumer.
		c3 := "c0000000-0000-4000-8000-000000000003"
		wantKind(t, writeErr(db, c3, nil, vcpu(1)), placement.KindConflict, "")
		if _, _, ok, _ := db.ConsumerAllocations(ctx, c3); ok {
			t.Fatal("failed write left consumer c3 behind")
		}
		// Consumer generations: c1 is at generation 1 now.
		one, five := int64(1), int64(5)
		if err := writeErr(db, c1, &five, vcpu(1)); !errors.Is(err, placement.ErrConcurrentUpdate) {
			t.Fatalf("wrong consumer generation: err = %v", err)
		}
		write(t, db, c1, &one, vcpu(1))
		// Emptying a consumer deletes it.
		two := int64(2)
		write(t, db, c1, &two)
		if _, _, ok, _ := db.ConsumerAllocations(ctx, c1); ok {
			t.Fatal("emptied consumer still has allocations")
		}
		usage, _, err := db.ProviderUsages(ctx, uuidA)
		if err != nil || usage.Of("VCPU") != 2 || usage.Of("DISK_GB") != 0 {
			t.Fatalf("usages = %v, %v", usage, err)
		}
	})
}

// TestConcurrentClaims runs 16 writers that each try to claim 1 unit of a provider with 10:
// exactly 10 succeed and the usage is exactly 10 (no over-allocation, no lost update).
func TestConcurrentClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		mustCreate(t, db, uuidA, "cn", "")
		setInventory(t, db, uuidA, map[string]placement.Inventory{
			"VCPU": {Total: 10, MinUnit: 1, MaxUnit: 10, StepSize: 1, AllocationRatio: 1},
		})
		const writers = 16
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range writers {
			wg.Go(func() {
				consumer := fmt.Sprintf("c0000000-0000-4000-8000-%012d", i)
				errs[i] = writeErr(db, consumer, nil, placement.Allocation{ProviderUUID: uuidA, ResourceClass: "VCPU", Used: 1})
			})
		}
		wg.Wait()
		ok, full := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, placement.ErrConflict):
				full++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		usage, gen, err := db.ProviderUsages(context.Background(), uuidA)
		if err != nil {
			t.Fatal(err)
		}
		if ok != 10 || full != 6 || usage.Of("VCPU") != 10 {
			t.Fatalf("claims ok %d, refused %d, usage %d; want 10, 6, 10", ok, full, usage.Of("VCPU"))
		}
		if gen != 1+10 {
			t.Fatalf("generation = %d; want 11 (inventory + 10 claims)", gen)
		}
	})
}

// TestConcurrentTraitUpdates runs 16 writers doing read-modify-write of a provider's traits
// with generation checks and retries; every writer's trait survives (no lost update).
func TestConcurrentTraitUpdates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mustCreate(t, db, uuidA, "cn", "")
		const writers = 16
		for i := range writers {
			if _, _, err := db.EnsureTrait(ctx, fmt.Sprintf("CUSTOM_T%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				for attempt := 0; attempt < 1000; attempt++ {
					traits, gen, err := db.ProviderTraits(ctx, uuidA)
					if err != nil {
						t.Error(err)
						return
					}
					names := []string{fmt.Sprintf("CUSTOM_T%d", i)}
					for _, tr := range traits {
						names = append(names, tr.Name)
					}
					_, _, err = db.SetProviderTraits(ctx, uuidA, gen, names)
					if err == nil {
						return
					}
					if !errors.Is(err, placement.ErrConcurrentUpdate) {
						t.Error(err)
						return
					}
				}
				t.Error("no progress after 1000 attempts")
			})
		}
		wg.Wait()
		traits, gen, err := db.ProviderTraits(ctx, uuidA)
		if err != nil {
			t.Fatal(err)
		}
		if len(traits) != writers || gen != writers {
			t.Fatalf("%d traits at generation %d; want %d at %d", len(traits), gen, writers, writers)
		}
	})
}
