package store_test

import (
	"context"
	"fmt"
	"testing"

	"ingot/internal/baremetal"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// BenchmarkWriteNodesCreate creates node providers 100 per call, as a tracker's first
// pass does: each with one inventory, two traits, two aggregates and a record.
func BenchmarkWriteNodesCreate(b *testing.B) {
	db := storetest.Open(b, storetest.SQLite)
	ctx := context.Background()
	if _, err := db.EnsureResourceClass(ctx, "CUSTOM_GOLD"); err != nil {
		b.Fatal(err)
	}
	if _, _, err := db.EnsureTrait(ctx, "CUSTOM_RACK_1"); err != nil {
		b.Fatal(err)
	}
	aggs := []string{"11111111-0000-5000-8000-000000000001", "11111111-0000-5000-8000-000000000002"}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		ws := make([]store.NodeWrite, 100)
		for i := range ws {
			u := fmt.Sprintf("%08d-0000-4000-8000-000000000000", n)
			n++
			ws[i] = store.NodeWrite{NodeUUID: u, ProviderUUID: u, Provider: store.ProviderCreate, Name: u,
				SetInventories: true, Inventories: nodeInventory(0),
				SetTraits: true, Traits: []string{"CUSTOM_RACK_1", "HW_CPU_X86_AVX2"},
				SetAggregates: true, Aggregates: aggs,
				Record: store.RecordPut, Node: baremetal.NodeRecord{ProviderUUID: u, Scope: "all", State: "managed",
					ResourceClass: "gold", Traits: []string{"CUSTOM_RACK_1", "HW_CPU_X86_AVX2"}, Aggregates: aggs}}
		}
		errs, err := db.WriteNodes(ctx, ws)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range errs {
			if e != nil {
				b.Fatal(e)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/node")
}
