package placementapi_test

import (
	"fmt"
	"sync/atomic"
	"testing"

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
