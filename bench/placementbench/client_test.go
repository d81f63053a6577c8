package main

import (
	"context"
	"testing"
	"time"
)

// TestClientSpreadsOverServers gives the client two servers and checks that requests go to
// them in turn.
func TestClientSpreadsOverServers(t *testing.T) {
	a, urlA := newFakePlacement(t)
	b, urlB := newFakePlacement(t)
	c := newClient(urlA+"/, "+urlB, "admin", 2, 10*time.Second)
	for range 6 {
		if _, err := c.expect(context.Background(), "GET", "/", "1.39", nil, 200); err != nil {
			t.Fatal(err)
		}
	}
	for name, f := range map[string]*fakePlacement{"first": a, "second": b} {
		f.mu.Lock()
		n := len(f.reqs)
		f.mu.Unlock()
		if n != 3 {
			t.Errorf("%s server got %d of 6 requests, want 3", name, n)
		}
	}
}
