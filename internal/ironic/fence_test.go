package ironic_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
)

// TestFenceHeader: a request made with WithFenceHeader carries X-Ingot-Fence; others do not.
func TestFenceHeader(t *testing.T) {
	fake := ironictest.New()
	id := fake.AddNode(ironic.Node{ResourceClass: "gold"})
	var mu sync.Mutex
	seen := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method] = r.Header.Get(ironic.FenceHeader)
		mu.Unlock()
		fake.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := ironic.New(ironic.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetNode(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PatchNode(ironic.WithFenceHeader(t.Context(), "r1/7"), id, ironic.ReleaseOps()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["GET"] != "" || seen["PATCH"] != "r1/7" {
		t.Fatalf("headers seen: %v", seen)
	}
}
