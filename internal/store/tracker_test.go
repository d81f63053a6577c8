package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"ingot/internal/baremetal"
	"ingot/internal/placement"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

func nodeInventory(reserved int64) map[string]placement.Inventory {
	return map[string]placement.Inventory{"CUSTOM_GOLD": {Total: 1, Reserved: reserved, MinUnit: 1, MaxUnit: 1, StepSize: 1, AllocationRatio: 1}}
}

func writeNodes(t *testing.T, db *store.DB, ws ...store.NodeWrite) []error {
	t.Helper()
	errs, err := db.WriteNodes(context.Background(), ws)
	if err != nil {
		t.Fatalf("WriteNodes: %v", err)
	}
	return errs
}

func TestWriteNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, name := range []string{"CUSTOM_GOLD"} {
			if _, err := db.EnsureResourceClass(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := db.EnsureTrait(ctx, "CUSTOM_RACK_1"); err != nil {
			t.Fatal(err)
		}
		agg := "11111111-0000-5000-8000-000000000001"
		create := store.NodeWrite{
			NodeUUID: uuidA, ProviderUUID: uuidA, Provider: store.ProviderCreate, Name: uuidA,
			SetInventories: true, Inventories: nodeInventory(0),
			SetTraits: true, Traits: []string{"CUSTOM_RACK_1", "HW_CPU_X86_AVX2"},
			SetAggregates: true, Aggregates: []string{agg},
			Record: store.RecordPut, Node: baremetal.NodeRecord{ProviderUUID: uuidA, Scope: "all", State: baremetal.NodeManaged,
				ResourceClass: "gold", Maintenance: true, Traits: []string{"HW_CPU_X86_AVX2", "CUSTOM_RACK_1"}, Aggregates: []string{agg}},
		}
		// A record-only write for a second node, and a create that fails (unknown trait):
		// the batch applies the first two and not the third.
		bad := store.NodeWrite{NodeUUID: uuidC, ProviderUUID: uuidC, Provider: store.ProviderCreate, Name: uuidC,
			SetTraits: true, Traits: []string{"CUSTOM_NOPE"},
			Record: store.RecordPut, Node: baremetal.NodeRecord{ProviderUUID: uuidC, Scope: "all", State: baremetal.NodeManaged}}
		recordOnly := store.NodeWrite{NodeUUID: uuidB, ProviderUUID: uuidB, Record: store.RecordPut,
			Node: baremetal.NodeRecord{ProviderUUID: uuidB, Scope: "all", State: baremetal.NodeReleased}}
		v0, err := db.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		errs := writeNodes(t, db, create, recordOnly, bad)
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("errs = %v", errs)
		}
		wantKind(t, errs[2], placement.KindInvalid, "")
		if _, err := db.GetProvider(ctx, uuidC); !errors.Is(err, placement.ErrNotFound) {
			t.Errorf("failed create left provider %s: %v", uuidC, err)
		}
		if _, err := db.IronicNode(ctx, uuidC); !errors.Is(err, placement.ErrNotFound) {
			t.Errorf("failed create left record %s: %v", uuidC, err)
		}

		v, err := db.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v.Seq != v0.Seq+1 {
			t.Errorf("view seq %d -> %d; want one committed change", v0.Seq, v.Seq)
		}
		p, ok := v.Provider(uuidA)
		if !ok {
			t.Fatal("provider not in the view")
		}
		gold, _ := v.ClassID("CUSTOM_GOLD")
		if inv, ok := p.Inventory(gold); !ok || inv.Total != 1 || inv.Reserved != 0 || p.Name != uuidA || p.Generation != 1 {
			t.Errorf("provider = %+v", p)
		}
		if len(p.Traits) != 2 || len(p.Aggregates) != 1 || p.Aggregates[0] != agg {
			t.Errorf("traits %v aggregates %v", p.Traits, p.Aggregates)
		}

		recs, err := db.IronicNodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []baremetal.NodeRecord{
			{NodeUUID: uuidA, ProviderUUID: uuidA, Scope: "all", State: baremetal.NodeManaged, Generation: 1, ResourceClass: "gold",
				Maintenance: true, Traits: []string{"CUSTOM_RACK_1", "HW_CPU_X86_AVX2"}, Aggregates: []string{agg}},
			{NodeUUID: uuidB, ProviderUUID: uuidB, Scope: "all", State: baremetal.NodeReleased, Generation: 1},
		}
		if diff := cmp.Diff(want, recs, cmpopts.IgnoreFields(baremetal.NodeRecord{}, "CreatedAt", "UpdatedAt")); diff != "" {
			t.Errorf("records (-want +got):\n%s", diff)
		}
		// IronicNodesOf reads the same records, only those asked for, sorted.
		for _, ask := range [][]string{{uuidB, uuidC, uuidA}, {uuidC}, nil} {
			some, err := db.IronicNodesOf(ctx, ask)
			if err != nil {
				t.Fatal(err)
			}
			var wantSome []baremetal.NodeRecord
			for _, r := range recs {
				if slices.Contains(ask, r.NodeUUID) {
					wantSome = append(wantSome, r)
				}
			}
			if diff := cmp.Diff(wantSome, some); diff != "" {
				t.Errorf("IronicNodesOf(%v) (-want +got):\n%s", ask, diff)
			}
		}

		t.Run("stale generations", func(t *testing.T) {
			up := store.NodeWrite{NodeUUID: uuidA, ProviderUUID: uuidA, Provider: store.ProviderModify, Generation: 0,
				SetInventories: true, Inventories: nodeInventory(1)}
			staleRec := store.NodeWrite{NodeUUID: uuidB, ProviderUUID: uuidB, Record: store.RecordPut, RecordGeneration: 7,
				Node: baremetal.NodeRecord{ProviderUUID: uuidB, Scope: "x", State: baremetal.NodeManaged}}
			dupRec := store.NodeWrite{NodeUUID: uuidB, ProviderUUID: uuidB, Record: store.RecordPut,
				Node: baremetal.NodeRecord{ProviderUUID: uuidB, Scope: "x", State: baremetal.NodeManaged}}
			for i, err := range writeNodes(t, db, up, staleRec, dupRec) {
				if !errors.Is(err, placement.ErrConcurrentUpdate) {
					t.Errorf("write %d: %v; want a concurrent update", i, err)
				}
			}
		})

		t.Run("update replaces what it sets and bumps the generation once", func(t *testing.T) {
			up := store.NodeWrite{NodeUUID: uuidA, ProviderUUID: uuidA, Provider: store.ProviderModify, Generation: 1,
				SetInventories: true, Inventories: nodeInventory(1),
				SetTraits: true, Traits: []string{"CUSTOM_RACK_1"},
				Record: store.RecordPut, RecordGeneration: 1, Node: recs[0]}
			up.Node.Traits = []string{"CUSTOM_RACK_1"}
			if errs := writeNodes(t, db, up); errs[0] != nil {
				t.Fatal(errs[0])
			}
			invs, gen, err := db.Inventories(ctx, uuidA)
			if err != nil || gen != 2 || len(invs) != 1 || invs[0].Reserved != 1 {
				t.Fatalf("inventories %+v generation %d: %v; want reserved 1 at generation 2 (one bump)", invs, gen, err)
			}
			traits, _, _ := db.ProviderTraits(ctx, uuidA)
			if len(traits) != 1 || traits[0].Name != "CUSTOM_RACK_1" {
				t.Errorf("traits = %v", traits)
			}
			rec, err := db.IronicNode(ctx, uuidA)
			if err != nil || rec.Generation != 2 || len(rec.Traits) != 1 {
				t.Errorf("record = %+v, %v", rec, err)
			}
		})

		t.Run("no delete while allocated", func(t *testing.T) {
			setInventory(t, db, uuidA, nodeInventory(0))
			write(t, db, "c0000000-0000-4000-8000-000000000001", nil,
				placement.Allocation{ProviderUUID: uuidA, ResourceClass: "CUSTOM_GOLD", Used: 1})
			p, _ := db.GetProvider(ctx, uuidA)
			del := store.NodeWrite{NodeUUID: uuidA, ProviderUUID: uuidA, Provider: store.ProviderDelete, Generation: p.Generation,
				Record: store.RecordDelete, RecordGeneration: 2}
			errs := writeNodes(t, db, del)
			wantKind(t, errs[0], placement.KindConflict, placement.CodeProviderInUse)
			if _, err := db.IronicNode(ctx, uuidA); err != nil {
				t.Errorf("the refused delete removed the record: %v", err)
			}
			// Changing the class away from an allocated one is refused too.
			if _, err := db.EnsureResourceClass(ctx, "CUSTOM_SILVER"); err != nil {
				t.Fatal(err)
			}
			move := store.NodeWrite{NodeUUID: uuidA, ProviderUUID: uuidA, Provider: store.ProviderModify, Generation: p.Generation,
				SetInventories: true, Inventories: map[string]placement.Inventory{"CUSTOM_SILVER": nodeInventory(0)["CUSTOM_GOLD"]}}
			wantKind(t, writeNodes(t, db, move)[0], placement.KindConflict, placement.CodeInventoryInUse)

			if err := db.DeleteConsumerAllocations(ctx, "c0000000-0000-4000-8000-000000000001"); err != nil {
				t.Fatal(err)
			}
			p, _ = db.GetProvider(ctx, uuidA)
			del.Generation = p.Generation
			if errs := writeNodes(t, db, del); errs[0] != nil {
				t.Fatal(errs[0])
			}
			if _, err := db.GetProvider(ctx, uuidA); !errors.Is(err, placement.ErrNotFound) {
				t.Errorf("provider still there: %v", err)
			}
			// Deleting a provider that is already gone succeeds.
			del.Record = store.RecordKeep
			if errs := writeNodes(t, db, del); errs[0] != nil {
				t.Errorf("second delete: %v", errs[0])
			}
		})

		t.Run("version changes with every record write", func(t *testing.T) {
			v1, err := db.IronicNodesVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rec, _ := db.IronicNode(ctx, uuidB)
			up := store.NodeWrite{NodeUUID: uuidB, ProviderUUID: uuidB, Record: store.RecordPut,
				RecordGeneration: rec.Generation, Node: rec}
			if errs := writeNodes(t, db, up); errs[0] != nil {
				t.Fatal(errs[0])
			}
			v2, _ := db.IronicNodesVersion(ctx)
			if v2 == v1 || v2.Count != v1.Count {
				t.Errorf("after an update: version %+v -> %+v", v1, v2)
			}
			if v3, _ := db.IronicNodesVersion(ctx); v3 != v2 {
				t.Errorf("version moved without a write: %+v -> %+v", v2, v3)
			}
		})

		t.Run("operator forgets a record", func(t *testing.T) {
			if err := db.DeleteIronicNode(ctx, uuidB); err != nil {
				t.Fatal(err)
			}
			wantKind(t, db.DeleteIronicNode(ctx, uuidB), placement.KindNotFound, "")
		})

		t.Run("batch bound", func(t *testing.T) {
			if _, err := db.WriteNodes(ctx, make([]store.NodeWrite, store.MaxNodeWrites+1)); err == nil {
				t.Error("an oversized batch was accepted")
			}
		})
	})
}

// TestWriteNodesBulk gives WriteNodes a batch of creations, some of which collide with
// existing rows or with each other: the plain ones are created (set-based), the others fail
// one by one as they would alone.
func TestWriteNodesBulk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.EnsureResourceClass(ctx, "CUSTOM_GOLD"); err != nil {
			t.Fatal(err)
		}
		agg := "11111111-0000-5000-8000-000000000001"
		mustCreate(t, db, uuidD, uuidD, "")                                                              // a provider with a node's UUID
		writeNodes(t, db, store.NodeWrite{NodeUUID: uuidC, ProviderUUID: uuidC, Record: store.RecordPut, // a record
			Node: baremetal.NodeRecord{ProviderUUID: uuidC, Scope: "s", State: baremetal.NodeReleased}})
		create := func(uuid string) store.NodeWrite {
			return store.NodeWrite{NodeUUID: uuid, ProviderUUID: uuid, Provider: store.ProviderCreate, Name: uuid,
				SetInventories: true, Inventories: nodeInventory(1),
				SetTraits: true, Traits: []string{"HW_CPU_X86_AVX2", "HW_CPU_X86_AVX2"},
				SetAggregates: true, Aggregates: []string{agg},
				Record: store.RecordPut, Node: baremetal.NodeRecord{ProviderUUID: uuid, Scope: "s", State: baremetal.NodeManaged, Traits: []string{"HW_CPU_X86_AVX2"}}}
		}
		e1, e2, e3 := "e0000000-0000-4000-8000-000000000001", "e0000000-0000-4000-8000-000000000002", "e0000000-0000-4000-8000-000000000003"
		bare := store.NodeWrite{NodeUUID: e3, ProviderUUID: e3, Provider: store.ProviderCreate, Name: e3} // no record, nothing set
		ws := []store.NodeWrite{create(uuidA), create(uuidB), create(uuidC), create(uuidD), create(uuidA), bare, create(e1), create(e2)}
		seqBefore, _ := db.View(ctx)
		errs := writeNodes(t, db, ws...)
		for i, want := range []error{nil, nil, placement.ErrConcurrentUpdate, placement.ErrConflict, placement.ErrConflict, nil, nil, nil} {
			if (want == nil) != (errs[i] == nil) || (want != nil && !errors.Is(errs[i], want)) {
				t.Errorf("write %d: %v, want %v", i, errs[i], want)
			}
		}
		v, _ := db.View(ctx)
		if v.Seq != seqBefore.Seq+1 {
			t.Errorf("seq %d -> %d; want one commit", seqBefore.Seq, v.Seq)
		}
		gold, _ := v.ClassID("CUSTOM_GOLD")
		for _, u := range []string{uuidA, uuidB, e1, e2} {
			p, ok := v.Provider(u)
			if !ok {
				t.Fatalf("no provider %s", u)
			}
			inv, _ := p.Inventory(gold)
			if p.Generation != 1 || p.Name != u || p.RootID != p.ID || inv.Reserved != 1 || len(p.Traits) != 1 ||
				len(p.Aggregates) != 1 || p.Aggregates[0] != agg {
				t.Errorf("provider %s = %+v", u, p)
			}
			rec, err := db.IronicNode(ctx, u)
			if err != nil || rec.Generation != 1 || rec.State != baremetal.NodeManaged || len(rec.Traits) != 1 {
				t.Errorf("record %s = %+v, %v", u, rec, err)
			}
		}
		if p, ok := v.Provider(e3); !ok || p.Generation != 0 || len(p.Inventories) != 0 {
			t.Errorf("bare provider = %+v", p)
		}
		if _, err := db.IronicNode(ctx, e3); !errors.Is(err, placement.ErrNotFound) {
			t.Errorf("bare write made a record: %v", err)
		}
		// The providers are whole: an allocation against one works, and it can be deleted.
		setInventory(t, db, e1, nodeInventory(0))
		write(t, db, "c0000000-0000-4000-8000-000000000009", nil, placement.Allocation{ProviderUUID: e1, ResourceClass: "CUSTOM_GOLD", Used: 1})
		if err := db.DeleteProvider(ctx, e2); err != nil {
			t.Errorf("delete a bulk-created provider: %v", err)
		}
	})
}
