package placementapi_test

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ingot/internal/metrics"
	"ingot/internal/placement"
	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// BenchmarkMetricsOverhead measures what metrics cost on bench/placementbench's flat data
// set (one CUSTOM_BAREMETAL_GOLD per provider, 20 rack aggregates and traits, every 2nd
// with AVX2, every 10th with RAID): two handlers over one SQLite database, one without
// metrics and one with them (the store reporting to them while that handler's request
// runs), the same request sent to each in turn, alternating which goes first. One
// database keeps everything but the metrics equal (two databases built alike differ by
// up to 30% from each other on this machine). "writes" is the put phase (PUT
// /allocations/{new consumer}, one unit on a free provider: even ones for one handler, odd
// ones for the other), "candidates" the candidates phase (its 4 queries at limits 10 and
// 1000, in turn). It reports each handler's median time per request and the median
// ratio of a request's time with metrics to its time without:
//
//	go test -run '^$' -bench MetricsOverhead -benchtime 2000x -count 5 ./internal/placementapi/
func BenchmarkMetricsOverhead(b *testing.B) {
	const n = 2000 // writes per handler and run
	enf, err := policy.New(policy.Options{EnforceNewDefaults: true})
	if err != nil {
		b.Fatal(err)
	}
	db := storetest.Open(b, storetest.SQLite)
	flatFleet(b, db, 2*n)
	m := metrics.New()
	var servers [2]*client
	storeMetrics := [2]*metrics.Store{nil, m.Store}
	for k, mm := range []*metrics.Metrics{nil, m} {
		srv := httptest.NewServer(placementapi.New(db, placementapi.Options{Policy: enf, Metrics: mm,
			Candidates: placementapi.CandidateOptions{Max: 100000}}))
		b.Cleanup(srv.Close)
		servers[k] = &client{t: b, url: srv.URL, mv: "1.39"}
	}

	// run times send(handler, i) on both handlers for every iteration and reports the
	// median time of each (a median is not moved by the pauses of a shared machine).
	run := func(b *testing.B, send func(k, i int)) {
		var took [2][]time.Duration
		i := 0
		for b.Loop() {
			for j := range 2 {
				k := (i + j) % 2 // alternate which handler goes first
				db.Instrument(storeMetrics[k])
				t0 := time.Now()
				send(k, i)
				took[k] = append(took[k], time.Since(t0))
			}
			i++
		}
		// The ratio is the median over the pairs (the same request, sent back to back):
		// pairs cancel what changes from one request to the next (query, load).
		ratios := make([]float64, i)
		for j := range ratios {
			ratios[j] = float64(took[1][j]) / float64(took[0][j])
		}
		slices.Sort(ratios)
		median := func(d []time.Duration) float64 {
			d = slices.Clone(d)
			slices.Sort(d)
			return float64(d[len(d)/2].Nanoseconds())
		}
		b.ReportMetric(median(took[0])/1000, "off-µs/req")
		b.ReportMetric(median(took[1])/1000, "on-µs/req")
		b.ReportMetric(ratios[len(ratios)/2], "on/off")
	}
	var written []string // consumers with an allocation
	b.Run("writes", func(b *testing.B) {
		// A repeated run (-count) frees the providers first.
		for _, c := range written {
			servers[0].must(204, "DELETE", "/allocations/"+c, nil)
		}
		written = written[:0]
		run(b, func(k, i int) {
			if i >= n {
				b.Fatalf("more than %d writes: use -benchtime %dx or less", n, n)
			}
			p := 2*i + k
			consumer := fmt.Sprintf("cccccccc-0000-4000-8000-%012d", p)
			written = append(written, consumer)
			servers[k].must(204, "PUT", "/allocations/"+consumer, map[string]any{
				"allocations": map[string]any{flatUUID(p): map[string]any{"resources": map[string]int{"CUSTOM_BAREMETAL_GOLD": 1}}},
				"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"})
		})
	})
	queries := []string{"", "&required=CUSTOM_BENCH_RAID", "&required=HW_CPU_X86_AVX2", "&member_of=" + flatRack(0)}
	b.Run("candidates", func(b *testing.B) {
		run(b, func(k, i int) {
			limit := []int{10, 1000}[i/len(queries)%2]
			servers[k].must(200, "GET", fmt.Sprintf("/allocation_candidates?resources=CUSTOM_BAREMETAL_GOLD:1%s&limit=%d", queries[i%len(queries)], limit), nil)
		})
	})
}

func flatUUID(i int) string { return fmt.Sprintf("ffffffff-0000-4000-8000-%012d", i) }
func flatRack(r int) string { return fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", r) }

// flatFleet creates bench/placementbench's flat data set of n providers through the store.
func flatFleet(b *testing.B, db *store.DB, n int) {
	ctx := b.Context()
	if _, err := db.EnsureResourceClass(ctx, "CUSTOM_BAREMETAL_GOLD"); err != nil {
		b.Fatal(err)
	}
	for _, t := range []string{"CUSTOM_BENCH_RAID"} {
		if _, _, err := db.EnsureTrait(ctx, t); err != nil {
			b.Fatal(err)
		}
	}
	for r := range 20 {
		if _, _, err := db.EnsureTrait(ctx, fmt.Sprintf("CUSTOM_BENCH_RACK_R%02d", r)); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				u := flatUUID(i)
				traits := []string{fmt.Sprintf("CUSTOM_BENCH_RACK_R%02d", i%20)}
				if i%2 == 0 {
					traits = append(traits, "HW_CPU_X86_AVX2")
				}
				if i%10 == 0 {
					traits = append(traits, "CUSTOM_BENCH_RAID")
				}
				slices.Sort(traits)
				err := func() error {
					if _, err := db.CreateProvider(ctx, store.NewProvider{UUID: u, Name: u}); err != nil {
						return err
					}
					if _, _, err := db.SetInventories(ctx, u, 0, map[string]placement.Inventory{"CUSTOM_BAREMETAL_GOLD": {
						Total: 1, MinUnit: 1, MaxUnit: 1, StepSize: 1, AllocationRatio: 1}}, store.ReservedBelowTotal); err != nil {
						return err
					}
					if _, _, err := db.SetProviderTraits(ctx, u, 1, traits); err != nil {
						return err
					}
					gen := int64(2)
					_, err := db.SetProviderAggregates(ctx, u, &gen, []string{flatRack(i % 20)})
					return err
				}()
				if err != nil {
					errs <- err
					return
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
