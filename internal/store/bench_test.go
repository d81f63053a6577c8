package store_test

import (
	"context"
	"fmt"
	"testing"

	"ingot/internal/placement"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// BenchmarkCreateProvider measures what the benchmark's creation phase asks of the store
// per provider: create, set inventory, set traits, set aggregates.
func BenchmarkCreateProvider(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend, func(b *testing.B) {
			db := storetest.Open(b, backend)
			ctx := context.Background()
			if _, err := db.EnsureResourceClass(ctx, "CUSTOM_GOLD"); err != nil {
				b.Fatal(err)
			}
			if _, _, err := db.EnsureTrait(ctx, "CUSTOM_RACK"); err != nil {
				b.Fatal(err)
			}
			inv := map[string]placement.Inventory{"CUSTOM_GOLD": {Total: 1, MinUnit: 1, MaxUnit: 1, StepSize: 1, AllocationRatio: 1}}
			b.ResetTimer()
			for i := range b.N {
				u := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
				if _, err := db.CreateProvider(ctx, store.NewProvider{UUID: u, Name: u}); err != nil {
					b.Fatal(err)
				}
				if _, _, err := db.SetInventories(ctx, u, 0, inv, store.ReservedUpToTotal); err != nil {
					b.Fatal(err)
				}
				if _, _, err := db.SetProviderTraits(ctx, u, 1, []string{"CUSTOM_RACK", "HW_CPU_X86_AVX2"}); err != nil {
					b.Fatal(err)
				}
				g := int64(2)
				if _, err := db.SetProviderAggregates(ctx, u, &g, []string{"aaaaaaaa-0000-4000-8000-000000000001"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkClaim measures one PUT /allocations of a new consumer on a free provider (the
// benchmark's put phase): each claim goes to its own provider, as on a bare-metal fleet.
func BenchmarkClaim(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend, func(b *testing.B) {
			db := storetest.Open(b, backend)
			ctx := context.Background()
			inv := map[string]placement.Inventory{"VCPU": {Total: 1, MinUnit: 1, MaxUnit: 1, StepSize: 1, AllocationRatio: 1}}
			providers := make([]string, b.N)
			for i := range providers {
				providers[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
				if _, err := db.CreateProvider(ctx, store.NewProvider{UUID: providers[i], Name: providers[i]}); err != nil {
					b.Fatal(err)
				}
				if _, _, err := db.SetInventories(ctx, providers[i], 0, inv, store.ReservedUpToTotal); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				c := fmt.Sprintf("c0000000-0000-4000-8000-%012d", i)
				err := db.ReplaceAllocations(ctx, store.WritePut, []placement.ConsumerAllocations{{
					ConsumerUUID: c, ProjectID: "p", UserID: "u", ConsumerType: "INSTANCE", CheckGeneration: true,
					Allocations: []placement.Allocation{{ProviderUUID: providers[i], ResourceClass: "VCPU", Used: 1}},
				}})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
