package placementapi_test

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"ingot/internal/placement"
	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// BenchmarkCreateProviderHTTP creates providers as the benchmark harness does (POST, then
// PUT inventories, traits and aggregates), with parallel clients over real HTTP.
func BenchmarkCreateProviderHTTP(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend, func(b *testing.B) {
			c := newServer(b, storetest.Open(b, backend))
			c.must(201, "PUT", "/resource_classes/CUSTOM_GOLD", nil)
			c.must(201, "PUT", "/traits/CUSTOM_RACK", nil)
			var n atomic.Int64
			b.SetParallelism(4) // 8 clients on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := *c
				for pb.Next() {
					u := fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1))
					c.must(200, "POST", "/resource_providers", map[string]any{"uuid": u, "name": u})
					c.must(200, "PUT", "/resource_providers/"+u+"/inventories", map[string]any{
						"resource_provider_generation": 0,
						"inventories":                  map[string]any{"CUSTOM_GOLD": map[string]any{"total": 1, "max_unit": 1}}})
					c.must(200, "PUT", "/resource_providers/"+u+"/traits", map[string]any{
						"resource_provider_generation": 1, "traits": []string{"CUSTOM_RACK", "HW_CPU_X86_AVX2"}})
					c.must(200, "PUT", "/resource_providers/"+u+"/aggregates", map[string]any{
						"resource_provider_generation": 2, "aggregates": []string{"aaaaaaaa-0000-4000-8000-000000000001"}})
				}
			})
		})
	}
}

// gateQuery is upstream's nested-perfload query (gate/perfload-nested-runner.sh).
const gateQuery = "/allocation_candidates?resources=DISK_GB:10&required=COMPUTE_VOLUME_MULTI_ATTACH" +
	"&resources_COMPUTE=VCPU:1,MEMORY_MB:256&required_COMPUTE=CUSTOM_FOO&resources_FPGA=FPGA:1" +
	"&group_policy=none&same_subtree=_COMPUTE,_FPGA"

// gateFleet creates n of upstream's nested-perfload trees (7 providers each, as
// bench/placementbench's gate data set) through the store, with parallel writers.
func gateFleet(b *testing.B, db *store.DB, n int) {
	ctx := b.Context()
	if _, _, err := db.EnsureTrait(ctx, "CUSTOM_FOO"); err != nil {
		b.Fatal(err)
	}
	inv := func(total, reserved, minUnit, maxUnit, step int64) placement.Inventory {
		return placement.Inventory{Total: total, Reserved: reserved, MinUnit: minUnit, MaxUnit: maxUnit, StepSize: step, AllocationRatio: 1}
	}
	type node struct {
		name, parent string
		invs         map[string]placement.Inventory
		traits       []string
	}
	tree := []node{
		{"root", "", map[string]placement.Inventory{"DISK_GB": inv(20480, 0, 1, 20480, 1)}, []string{"COMPUTE_VOLUME_MULTI_ATTACH"}},
		{"numa0", "root", map[string]placement.Inventory{"VCPU": inv(4, 2, 1, 4, 1), "MEMORY_MB": inv(2048, 0, 512, 2048, 256)}, []string{"HW_NUMA_ROOT"}},
		{"fpga0", "numa0", map[string]placement.Inventory{"FPGA": inv(1, 0, 1, 1, 1)}, nil},
		{"pgpu0", "numa0", map[string]placement.Inventory{"VGPU": inv(8, 0, 1, 8, 1)}, nil},
		{"numa1", "root", map[string]placement.Inventory{"VCPU": inv(4, 0, 1, 4, 1), "MEMORY_MB": inv(2048, 0, 256, 1024, 1)}, []string{"HW_NUMA_ROOT", "CUSTOM_FOO"}},
		{"fpga1_0", "numa1", map[string]placement.Inventory{"FPGA": inv(1, 0, 1, 1, 1)}, nil},
		{"fpga1_1", "numa1", map[string]placement.Inventory{"FPGA": inv(1, 0, 1, 1, 1)}, nil},
	}
	uuid := func(i, k int) string { return fmt.Sprintf("%08d-0000-4000-8000-%012d", i, k) }
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				for k, nd := range tree {
					parent := ""
					if nd.parent != "" {
						parent = uuid(i, slices.IndexFunc(tree, func(x node) bool { return x.name == nd.parent }))
					}
					u := uuid(i, k)
					if _, err := db.CreateProvider(ctx, store.NewProvider{UUID: u, Name: u, ParentUUID: parent}); err != nil {
						errs <- err
						return
					}
					if _, _, err := db.SetInventories(ctx, u, 0, nd.invs, store.ReservedBelowTotal); err != nil {
						errs <- err
						return
					}
					if len(nd.traits) > 0 {
						if _, _, err := db.SetProviderTraits(ctx, u, 1, nd.traits); err != nil {
							errs <- err
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// BenchmarkGateCandidates is upstream's nested-perfload workload at 1,000 trees: the whole
// answer (2,000 candidates, 7,000 summaries, randomized) over real HTTP. "changed" writes an
// allocation before each request (outside the timer), so every request reads a new view;
// "parallel" is 10 clients on an unchanging view.
func BenchmarkGateCandidates(b *testing.B) {
	db := storetest.Open(b, storetest.SQLite)
	gateFleet(b, db, 1000)
	enf, err := policy.New(policy.Options{EnforceNewDefaults: true})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(placementapi.New(db, placementapi.Options{Policy: enf,
		Candidates: placementapi.CandidateOptions{Max: 100000, Randomize: true}}))
	b.Cleanup(srv.Close)
	c := &client{t: b, url: srv.URL, mv: "1.39"}
	// The client only counts the allocation requests: decoding 2.5 MB would cost more
	// than the server's answer.
	get := func(c *client, want int) {
		r := c.must(200, "GET", gateQuery, nil)
		if n := bytes.Count(r.body, []byte(`"mappings"`)); n < want {
			b.Fatalf("%d candidates, want %d", n, want)
		}
	}
	b.Run("same", func(b *testing.B) {
		for b.Loop() {
			get(c, 1900)
		}
	})
	b.Run("changed", func(b *testing.B) {
		i := 0
		for b.Loop() {
			b.StopTimer()
			i++
			u := fmt.Sprintf("%08d-0000-4000-8000-%012d", i%1000, 0)
			c.must(204, "PUT", "/allocations/"+fmt.Sprintf("cccccccc-0000-4000-8000-%012d", i), map[string]any{
				"allocations": map[string]any{u: map[string]any{"resources": map[string]int{"DISK_GB": 1}}},
				"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"})
			b.StartTimer()
			get(c, 1900)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(5) // 10 clients on 2 cores
		b.RunParallel(func(pb *testing.PB) {
			c := *c
			for pb.Next() {
				get(&c, 1900)
			}
		})
	})
}
