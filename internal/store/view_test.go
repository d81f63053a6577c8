package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"ingot/internal/fleet"
	"ingot/internal/placement"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// TestViewsAcrossProcesses opens the same database twice (as two ingot processes would)
// and checks that a view of one includes every write committed through the other.
func TestViewsAcrossProcesses(t *testing.T) {
	for _, backend := range storetest.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, backend)
			a, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()

			if _, err := b.View(ctx); err != nil { // b's view starts empty
				t.Fatal(err)
			}
			mustCreate(t, a, uuidA, "cn", "")
			setInventory(t, a, uuidA, map[string]placement.Inventory{
				"VCPU": {Total: 4, MinUnit: 1, MaxUnit: 4, StepSize: 1, AllocationRatio: 1}})
			write(t, a, "c0000000-0000-4000-8000-000000000001", nil, placement.Allocation{ProviderUUID: uuidA, ResourceClass: "VCPU", Used: 3})

			v, err := b.View(ctx)
			if err != nil {
				t.Fatal(err)
			}
			p, ok := v.Provider(uuidA)
			if !ok {
				t.Fatal("b's view lacks the provider a created")
			}
			vcpu, _ := v.ClassID("VCPU")
			inv, ok := p.Inventory(vcpu)
			if !ok || inv.Used != 3 || p.Generation != 2 {
				t.Fatalf("b sees %+v at generation %d; want 3 used at generation 2", inv, p.Generation)
			}
			if err := a.DeleteConsumerAllocations(ctx, "c0000000-0000-4000-8000-000000000001"); err != nil {
				t.Fatal(err)
			}
			if err := a.DeleteInventories(ctx, uuidA); err != nil {
				t.Fatal(err)
			}
			if err := a.DeleteProvider(ctx, uuidA); err != nil {
				t.Fatal(err)
			}
			v, err = b.View(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := v.Provider(uuidA); ok || v.Len() != 0 {
				t.Fatalf("b still sees the deleted provider (%d providers)", v.Len())
			}
		})
	}
}

// TestViewUnderConcurrentWrites reads views while 8 writers claim: every view is
// internally consistent (usage never above capacity) and the final view matches the store.
func TestViewUnderConcurrentWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n = 20
		for i := range n {
			u := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			mustCreate(t, db, u, u, "")
			setInventory(t, db, u, map[string]placement.Inventory{"VCPU": {Total: 2, MinUnit: 1, MaxUnit: 2, StepSize: 1, AllocationRatio: 1}})
		}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for k := range 10 {
					u := fmt.Sprintf("00000000-0000-4000-8000-%012d", (w*10+k)%n)
					_ = writeErr(db, fmt.Sprintf("c%07d-0000-4000-8000-000000000000", w*100+k), nil,
						placement.Allocation{ProviderUUID: u, ResourceClass: "VCPU", Used: 1})
				}
			})
		}
		wg.Go(func() {
			for range 50 {
				v, err := db.View(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				for s := int32(0); s < int32(v.Slots()); s++ {
					if p := v.Slot(s); p != nil {
						for _, inv := range p.Inventories {
							if inv.Used > inv.Capacity() {
								t.Errorf("view at %d: %s over capacity", v.Seq, p.UUID)
							}
						}
					}
				}
			}
		})
		wg.Wait()
		v, err := db.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			u := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			usage, _, err := db.ProviderUsages(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := v.Provider(u)
			vcpu, _ := v.ClassID("VCPU")
			inv, _ := p.Inventory(vcpu)
			if inv.Used != usage.Of("VCPU") {
				t.Fatalf("%s: view says %d used, store %d", u, inv.Used, usage.Of("VCPU"))
			}
		}
	})
}

// TestViewOrderWithOutOfOrderCommits creates two providers in two PostgreSQL transactions
// where the one with the larger id commits first, refreshing the view in between, and
// checks that the view (and the provider listing) is still in id order, as a view built
// from scratch is.
func TestViewOrderWithOutOfOrderCommits(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t, storetest.Postgres)
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustCreate(t, db, uuidA, "first", "")
	if _, err := db.View(ctx); err != nil {
		t.Fatal(err)
	}
	idB, commitB, err := db.BeginCreateProvider(ctx, store.NewProvider{UUID: uuidB, Name: "earlier id"})
	if err != nil {
		t.Fatal(err)
	}
	idC, commitC, err := db.BeginCreateProvider(ctx, store.NewProvider{UUID: uuidC, Name: "later id"})
	if err != nil {
		t.Fatal(err)
	}
	if idB >= idC {
		t.Fatalf("ids %d, %d: want the first transaction's id smaller", idB, idC)
	}
	if err := commitC(); err != nil {
		t.Fatal(err)
	}
	v, err := db.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Provider(uuidC); !ok {
		t.Fatal("view lacks the provider committed first")
	}
	if _, ok := v.Provider(uuidB); ok {
		t.Fatal("view has the uncommitted provider")
	}
	if err := commitB(); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, db, uuidD, "last", "")

	fresh, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	want := []string{uuidA, uuidB, uuidC, uuidD}
	for name, d := range map[string]*store.DB{"refreshed": db, "fresh": fresh} {
		v, err := d.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		v.Providers(func(p *fleet.Provider) bool { got = append(got, p.UUID); return true })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s view iterates %v, want id order %v", name, got, want)
		}
		for i := range v.Slots() {
			if p := v.Slot(int32(i)); p != nil {
				if s, _ := v.SlotOf(p.ID); s != int32(i) {
					t.Errorf("%s view: provider %d in slot %d, SlotOf says %d", name, p.ID, i, s)
				}
				if q, _ := v.Provider(p.UUID); q != p {
					t.Errorf("%s view: Provider(%s) is not slot %d's provider", name, p.UUID, i)
				}
			}
		}
		ps, _, err := d.ListProviders(ctx, fleet.ProviderFilter{})
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, p := range ps {
			got = append(got, p.UUID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: ListProviders gives %v, want id order %v", name, got, want)
		}
	}
}
