package store_test

import (
	"context"
	"errors"
	"testing"

	"ingot/internal/placement"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

const (
	uuidA = "aaaaaaaa-0000-4000-8000-000000000001"
	uuidB = "bbbbbbbb-0000-4000-8000-000000000002"
	uuidC = "cccccccc-0000-4000-8000-000000000003"
	uuidD = "dddddddd-0000-4000-8000-000000000004"
)

func mustCreate(t *testing.T, db *store.DB, uuid, name, parent string) placement.Provider {
	t.Helper()
	p, err := db.CreateProvider(context.Background(), store.NewProvider{UUID: uuid, Name: name, ParentUUID: parent})
	if err != nil {
		t.Fatalf("CreateProvider(%s): %v", name, err)
	}
	return p
}

func wantKind(t *testing.T, err error, kind placement.Kind, code string) {
	t.Helper()
	pe, ok := placement.AsError(err)
	if !ok {
		t.Fatalf("error = %v (%T); want a placement error of kind %d", err, err, kind)
	}
	if pe.Kind != kind || (code != "" && pe.Code != code) {
		t.Fatalf("error = %q kind %d code %q; want kind %d code %q", pe.Detail, pe.Kind, pe.Code, kind, code)
	}
}

func TestProviders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		root := mustCreate(t, db, uuidA, "root", "")
		if root.Generation != 0 || root.RootUUID != uuidA || root.ParentUUID != "" {
			t.Fatalf("root = %+v", root)
		}
		child := mustCreate(t, db, uuidB, "child", uuidA)
		if child.RootUUID != uuidA || child.ParentUUID != uuidA {
			t.Fatalf("child = %+v", child)
		}

		t.Run("duplicates", func(t *testing.T) {
			_, err := db.CreateProvider(ctx, store.NewProvider{UUID: uuidA, Name: "other"})
			wantKind(t, err, placement.KindConflict, placement.CodeDuplicateName)
			_, err = db.CreateProvider(ctx, store.NewProvider{UUID: uuidC, Name: "root"})
			wantKind(t, err, placement.KindConflict, placement.CodeDuplicateName)
		})
		t.Run("missing parent", func(t *testing.T) {
			_, err := db.CreateProvider(ctx, store.NewProvider{UUID: uuidC, Name: "c", ParentUUID: uuidD})
			wantKind(t, err, placement.KindInvalid, "")
		})
		t.Run("reparent needs 1.37", func(t *testing.T) {
			mustCreate(t, db, uuidC, "other-root", "")
			_, err := db.UpdateProvider(ctx, uuidB, store.ProviderUpdate{Name: "child", SetParent: true, ParentUUID: uuidC})
			wantKind(t, err, placement.KindInvalid, "")
			p, err := db.UpdateProvider(ctx, uuidB, store.ProviderUpdate{Name: "child", SetParent: true, ParentUUID: uuidC, AllowReparent: true})
			if err != nil {
				t.Fatal(err)
			}
			if p.RootUUID != uuidC || p.ParentUUID != uuidC {
				t.Fatalf("after reparent: %+v", p)
			}
		})
		t.Run("loop refused", func(t *testing.T) {
			_, err := db.UpdateProvider(ctx, uuidC, store.ProviderUpdate{Name: "other-root", SetParent: true, ParentUUID: uuidB, AllowReparent: true})
			wantKind(t, err, placement.KindInvalid, "")
		})
		t.Run("subtree moves with its root", func(t *testing.T) {
			mustCreate(t, db, uuidD, "grandchild", uuidB)
			if _, err := db.UpdateProvider(ctx, uuidC, store.ProviderUpdate{Name: "other-root", SetParent: true, ParentUUID: uuidA, AllowReparent: true}); err != nil {
				t.Fatal(err)
			}
			g, err := db.GetProvider(ctx, uuidD)
			if err != nil {
				t.Fatal(err)
			}
			if g.RootUUID != uuidA {
				t.Fatalf("grandchild root = %s; want %s", g.RootUUID, uuidA)
			}
		})
		t.Run("cannot delete parent", func(t *testing.T) {
			err := db.DeleteProvider(ctx, uuidA)
			wantKind(t, err, placement.KindConflict, placement.CodeCannotDeleteParent)
		})
		t.Run("delete missing", func(t *testing.T) {
			err := db.DeleteProvider(ctx, "eeeeeeee-0000-4000-8000-000000000005")
			if !errors.Is(err, placement.ErrNotFound) {
				t.Fatalf("err = %v; want not found", err)
			}
		})
	})
}

func TestInventories(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mustCreate(t, db, uuidA, "cn", "")
		invs := map[string]placement.Inventory{
			"VCPU":    {Total: 8, MinUnit: 1, MaxUnit: 8, StepSize: 1, AllocationRatio: 2},
			"DISK_GB": {Total: 100, Reserved: 10, MinUnit: 1, MaxUnit: 100, StepSize: 1, AllocationRatio: 1},
		}
		if _, _, err := db.SetInventories(ctx, uuidA, 1, invs, store.ReservedBelowTotal); !errors.Is(err, placement.ErrConcurrentUpdate) {
			t.Fatalf("stale generation: err = %v", err)
		}
		got, gen, err := db.SetInventories(ctx, uuidA, 0, invs, store.ReservedBelowTotal)
		if err != nil {
			t.Fatal(err)
		}
		if gen != 1 || len(got) != 2 || got[0].ResourceClass != "VCPU" {
			t.Fatalf("SetInventories = %+v, gen %d", got, gen)
		}
		bad := map[string]placement.Inventory{"VCPU": {Total: 4, Reserved: 4, MinUnit: 1, MaxUnit: 4, StepSize: 1, AllocationRatio: 1}}
		_, _, err = db.SetInventories(ctx, uuidA, 1, bad, store.ReservedBelowTotal)
		wantKind(t, err, placement.KindInvalid, "")
		if _, _, err := db.SetInventories(ctx, uuidA, 1, map[string]placement.Inventory{"NOPE": bad["VCPU"]}, store.ReservedBelowTotal); err == nil {
			t.Fatal("unknown class accepted")
		}
		// Nothing was half-written by the failed calls.
		after, gen, err := db.Inventories(ctx, uuidA)
		if err != nil || gen != 1 || len(after) != 2 {
			t.Fatalf("after failed writes: %+v gen %d err %v", after, gen, err)
		}

		// In use: allocate, then try to remove the class.
		write(t, db, "c0000000-0000-4000-8000-000000000001", nil, placement.Allocation{ProviderUUID: uuidA, ResourceClass: "VCPU", Used: 2})
		_, _, err = db.SetInventories(ctx, uuidA, 2, map[string]placement.Inventory{"DISK_GB": invs["DISK_GB"]}, store.ReservedBelowTotal)
		wantKind(t, err, placement.KindConflict, placement.CodeInventoryInUse)
		err = db.DeleteInventory(ctx, uuidA, "VCPU")
		wantKind(t, err, placement.KindConflict, placement.CodeConcurrentUpdate)
		if err := db.DeleteInventory(ctx, uuidA, "DISK_GB"); err != nil {
			t.Fatal(err)
		}
	})
}

// write replaces one consumer's allocations (PUT semantics, generation unchecked unless
// gen is given).
func write(t *testing.T, db *store.DB, consumer string, gen *int64, allocs ...placement.Allocation) {
	t.Helper()
	if err := writeErr(db, consumer, gen, allocs...); err != nil {
		t.Fatalf("allocate %v: %v", allocs, err)
	}
}

func writeErr(db *store.DB, consumer string, gen *int64, allocs ...placement.Allocation) error {
	return db.ReplaceAllocations(context.Background(), store.WritePut, []placement.ConsumerAllocations{{
		ConsumerUUID: consumer, ProjectID: "p", UserID: "u", CheckGeneration: gen != nil || len(allocs) == 0,
		Generation: gen, Allocations: allocs,
	}})
}
