package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/metrics"
	"ingot/internal/metrics/metricstest"
	"ingot/internal/reconcile"
	"ingot/internal/store/storetest"
)

// BenchmarkScrape measures GET /metrics (the real handler over HTTP, text format) for a
// fleet of 10,000 Ironic nodes tracked by a real tracker pass on SQLite, 2,000 instances,
// and the HTTP series of a busy server (40 routes x 4 status codes):
//
//	go test -run '^$' -bench Scrape -benchtime 200x ./internal/metrics/
func BenchmarkScrape(b *testing.B) {
	const nodes, instances = 10000, 2000
	ctx := context.Background()
	db := storetest.Open(b, storetest.SQLite)
	fake := ironictest.NewServer(b)
	states := []string{"available", "available", "available", "active", "active", "cleaning", "manageable", "deploy failed"}
	fake.AddNodes(nodes, func(i int) ironic.Node {
		return ironic.Node{Name: fmt.Sprintf("node-%05d", i), ResourceClass: fmt.Sprintf("class-%d", i%4),
			PowerState: "power off", ProvisionState: states[i%len(states)], Maintenance: i%50 == 0,
			Traits: []string{"CUSTOM_RACK_" + fmt.Sprint(i%40)}}
	})
	client, err := ironic.New(ironic.Config{URL: fake.URL})
	if err != nil {
		b.Fatal(err)
	}
	m := metrics.New()
	db.Instrument(m.Store)
	tracker := reconcile.New(client, db, reconcile.Config{OnListing: m.Fleet.ObserveListing, Metrics: m.Tracker})
	if _, err := tracker.Pass(ctx); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, instances)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < instances; i += 8 {
				in := baremetal.Instance{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), ProjectID: "p", UserID: "u",
					Spec: baremetal.Spec{Request: baremetal.Request{ResourceClass: "class-0"},
						Image: baremetal.Image{Source: "http://images/a.qcow2", Checksum: "abc"}}}
				if _, _, err := db.CreateInstance(ctx, in); err != nil {
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
	m.Collect(metrics.Sources{View: db.View, Instances: db.CountInstances})
	for r := range 40 {
		for _, code := range []int{200, 400, 404, 409} {
			m.HTTP.Observe("placement", fmt.Sprintf("/route/%d/{uuid}", r), "GET", code, time.Duration(r)*time.Millisecond)
		}
	}
	srv := httptest.NewServer(m.Handler())
	b.Cleanup(srv.Close)

	f := metricstest.Scrape(b, srv.URL)
	if got := f.Value(b, "ingot_ironic_nodes"); got != nodes {
		b.Fatalf("%v nodes in the scrape, want %d", got, nodes)
	}
	if got := f.Value(b, "ingot_instances"); got != instances {
		b.Fatalf("%v instances in the scrape, want %d", got, instances)
	}
	size := 0
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("scrape: %d %v", resp.StatusCode, err)
		}
		size = len(body)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/scrape")
	b.ReportMetric(float64(size), "bytes/scrape")
}

// BenchmarkRequestHooks is what metrics add to one API request: the HTTP series of a
// Placement request and, for a candidates query, its two histograms; and to one write
// transaction on SQLite, its histogram and a group commit's two.
//
//	go test -run '^$' -bench RequestHooks ./internal/metrics/
func BenchmarkRequestHooks(b *testing.B) {
	m := metrics.New()
	routes := []string{"/resource_providers/{uuid}/inventories", "/allocation_candidates", "/allocations/{consumer_uuid}"}
	b.Run("http", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m.HTTP.Observe("placement", routes[i%3], "PUT", 200, time.Duration(i)*time.Microsecond)
			i++
		}
	})
	b.Run("candidates", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m.Candidates.Observe(time.Duration(i)*time.Microsecond, i%1000)
			i++
		}
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m.Store.Transaction(metrics.OutcomeCommitted, time.Duration(i)*time.Microsecond)
			m.Store.Batch(1, time.Duration(i)*time.Microsecond)
			i++
		}
	})
}
