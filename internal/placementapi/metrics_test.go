package placementapi_test

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"

	"ingot/internal/metrics"
	"ingot/internal/metrics/metricstest"
	"ingot/internal/placementapi"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// newMetricsServer is newServer with metrics, the store reporting to them too; scrape
// reads them back.
func newMetricsServer(t *testing.T, db *store.DB) (c *client, scrape func() metricstest.Families) {
	t.Helper()
	m := metrics.New()
	db.Instrument(m.Store)
	c = newServerWith(t, db, placementapi.Options{Metrics: m})
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	return c, func() metricstest.Families { return metricstest.Scrape(t, srv.URL) }
}

// TestMetricsAfterTraffic: writes, a lost generation race and candidate queries show in
// the HTTP, store and candidates series with exactly the counts the traffic implies.
func TestMetricsAfterTraffic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c, scrape := newMetricsServer(t, db)
		uuids := []string{"aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002",
			"aaaaaaaa-0000-4000-8000-000000000003"}
		for _, u := range uuids {
			c.must(200, "POST", "/resource_providers", map[string]any{"uuid": u, "name": u})
			c.must(200, "PUT", "/resource_providers/"+u+"/inventories", map[string]any{
				"resource_provider_generation": 0,
				"inventories":                  map[string]any{"VCPU": map[string]any{"total": 8}}})
		}
		// A stale generation: 409, a generation conflict in the store.
		c.must(409, "PUT", "/resource_providers/"+uuids[0]+"/inventories", map[string]any{
			"resource_provider_generation": 0,
			"inventories":                  map[string]any{"VCPU": map[string]any{"total": 4}}})
		c.must(204, "PUT", "/allocations/cccccccc-0000-4000-8000-000000000001", map[string]any{
			"allocations": map[string]any{uuids[1]: map[string]any{"resources": map[string]int{"VCPU": 2}}},
			"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"})
		c.must(200, "GET", "/allocation_candidates?resources=VCPU:1", nil)
		c.must(200, "GET", "/allocation_candidates?resources=VCPU:1", nil) // from the answer cache
		c.must(200, "GET", "/allocation_candidates?resources=VCPU:1&limit=2", nil)
		c.must(200, "GET", "/allocation_candidates?resources=VCPU:100", nil) // none fits

		f := scrape()
		check := func(name string, want float64, labels ...string) {
			t.Helper()
			if got := f.Value(t, name, labels...); got != want {
				t.Errorf("%s%v = %v, want %v", name, labels, got, want)
			}
		}
		placementReq := func(route, method, code string) []string {
			return []string{"api", "placement", "route", route, "method", method, "code", code}
		}
		check("ingot_http_requests_total", 3, placementReq("/resource_providers", "POST", "200")...)
		check("ingot_http_requests_total", 3, placementReq("/resource_providers/{uuid}/inventories", "PUT", "200")...)
		check("ingot_http_requests_total", 1, placementReq("/resource_providers/{uuid}/inventories", "PUT", "409")...)
		check("ingot_http_requests_total", 1, placementReq("/allocations/{consumer_uuid}", "PUT", "204")...)
		check("ingot_http_requests_total", 4, placementReq("/allocation_candidates", "GET", "200")...)
		check("ingot_http_request_duration_seconds_count", 4, placementReq("/allocation_candidates", "GET", "200")...)
		check("ingot_http_requests_total", 12, "api", "placement")

		check("ingot_allocation_candidates_returned_count", 4)
		check("ingot_allocation_candidates_returned_sum", 3+3+2+0)
		check("ingot_allocation_candidates_duration_seconds_count", 4)

		// 3 creations, 3 inventories, 1 allocation committed; the stale PUT lost its race.
		if got := f.Value(t, "ingot_store_transaction_duration_seconds_count", "outcome", "committed"); got < 7 {
			t.Errorf("committed transactions = %v, want at least 7", got)
		}
		check("ingot_store_transaction_duration_seconds_count", 1, "outcome", "conflict")
		check("ingot_store_conflicts_total", 1, "kind", "generation")
		if !db.Postgres() {
			if got := f.Value(t, "ingot_store_write_batch_size_count"); got < 7 {
				t.Errorf("SQLite group commits = %v, want at least 7", got)
			}
		}
	})
}

// TestMetricsRouteLabelsBounded: a thousand distinct provider UUIDs in paths make one
// route label, unknown paths fold into "other", and no label value is a raw path.
func TestMetricsRouteLabelsBounded(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	c, scrape := newMetricsServer(t, db)
	for i := range 1000 {
		c.must(404, "GET", fmt.Sprintf("/resource_providers/%08d-0000-4000-8000-%012d", i, i), nil)
	}
	for i := range 20 {
		c.must(404, "GET", fmt.Sprintf("/nowhere/%d", i), nil)
		c.must(404, "DELETE", fmt.Sprintf("/resource_providers/%d/", i), nil)
	}
	f := scrape()
	routes := f.LabelValues("ingot_http_requests_total", "route")
	slices.Sort(routes)
	if want := []string{"/resource_providers/{uuid}", "other"}; !slices.Equal(routes, want) {
		t.Errorf("route labels = %q, want %q", routes, want)
	}
	if got := f.Value(t, "ingot_http_requests_total", "route", "/resource_providers/{uuid}", "code", "404"); got != 1000 {
		t.Errorf("/resource_providers/{uuid} 404s = %v, want 1000", got)
	}
	if got := f.Value(t, "ingot_http_requests_total", "route", "other"); got != 40 {
		t.Errorf("other = %v, want 40", got)
	}
	if _, n := f.Get("ingot_http_request_duration_seconds_count"); n != 3 {
		t.Errorf("%d latency histograms, want 3 (route x method x code)", n)
	}
}
