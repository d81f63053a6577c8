package ui_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

var (
	benchOnce  sync.Once
	benchFleet *fleet
)

// BenchmarkAPI measures the dashboard's JSON endpoints at 10,000 nodes and 2,000
// instances, snapshot built (as between two changes):
//
//	go test -run '^$' -bench BenchmarkAPI -benchmem ./internal/ui/
func BenchmarkAPI(b *testing.B) {
	benchOnce.Do(func() { benchFleet = newFleet(b, 10000, 2000) })
	f := benchFleet
	for _, bc := range []struct{ name, path string }{
		{"summary", "/ui/api/summary"},
		{"nodes/page1", "/ui/api/nodes?limit=50"},
		{"nodes/last-page", "/ui/api/nodes?limit=50&offset=9950"},
		{"nodes/maintenance", "/ui/api/nodes?maintenance=true&limit=50"},
		{"nodes/search", "/ui/api/nodes?q=node-0999&limit=50"},
		{"nodes/group-owner-class", "/ui/api/nodes?conductor_group=rack-b&owner=team-ml&resource_class=CUSTOM_BAREMETAL_GOLD"},
		{"node", "/ui/api/nodes/" + f.ids[4242]},
		{"instances", "/ui/api/instances?limit=50"},
		{"instances/faults", "/ui/api/instances?fault=true&limit=50"},
		{"passes", "/ui/api/passes"},
		{"watch/changed", "/ui/api/watch?version=old"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if rec := f.get(b, bc.path); rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", bc.path, rec.Code, rec.Body)
				}
			}
		})
	}
	// The first request of a new handler builds the snapshot: the tracker's records read
	// from the database, 10,000 rows merged, capacity and counts.
	b.Run("summary/cold", func(b *testing.B) {
		for b.Loop() {
			h := f.newHandler(b)
			req, _ := http.NewRequest(http.MethodGet, "/ui/api/summary", nil)
			req.Header.Set("X-Auth-Token", "admin")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	})
}
