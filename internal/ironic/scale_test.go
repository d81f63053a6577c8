package ironic_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
)

func TestListNodes10k(t *testing.T) {
	s := ironictest.NewServer(t)
	seed(s, 10000)
	c := newClient(t, target{url: s.URL}, ironic.Config{})
	if _, err := c.Negotiate(t.Context()); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	nodes, err := c.ListNodes(t.Context(), ironic.ListOptions{})
	elapsed := time.Since(start)
	if err != nil || len(nodes) != 10000 {
		t.Fatalf("ListNodes = %d nodes, %v; want 10000", len(nodes), err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := len(listRequests(s)); got != 11 {
		t.Errorf("pages = %d, want 11 (10 full pages and an empty one)", got)
	}
	if nodes[9999].Name != "node-09999" || len(nodes[5].Traits) != 1 || nodes[5].Properties["cpus"] != float64(32) {
		t.Errorf("nodes decoded wrongly: %+v", nodes[5])
	}
	t.Logf("10,000 nodes (default fields, fake server and client in one process): %v, %d B retained per node",
		elapsed.Round(time.Millisecond), (int64(after.HeapAlloc)-int64(before.HeapAlloc))/10000)
	runtime.KeepAlive(nodes)
}

// BenchmarkListNodes lists every node with the default fields. The fake cases run server
// and client in one process; "cost" charges the fake 0.27 ms per node on one simulated
// CPU, what the real Ironic 21.4 measured; "real" lists the Ironic at INGOT_IRONIC_URL.
func BenchmarkListNodes(b *testing.B) {
	for _, tc := range []struct {
		nodes int
		cost  time.Duration
	}{{1000, 0}, {10000, 0}, {10000, 270 * time.Microsecond}} {
		name := fmt.Sprintf("fake-%d", tc.nodes)
		if tc.cost > 0 {
			name += "-cost-" + tc.cost.String()
		}
		b.Run(name, func(b *testing.B) {
			s := ironictest.NewServer(b)
			seed(s, tc.nodes)
			s.SetCostPerNode(tc.cost)
			benchList(b, newClient(b, target{url: s.URL}, ironic.Config{}))
		})
	}
	b.Run("real", func(b *testing.B) {
		r := ironictest.RealIronic(b)
		benchList(b, newClient(b, target{url: r.URL, user: r.User, password: r.Password}, ironic.Config{}))
	})
}

func benchList(b *testing.B, c *ironic.Client) {
	if _, err := c.Negotiate(b.Context()); err != nil {
		b.Fatal(err)
	}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		nodes, err := c.ListNodes(b.Context(), ironic.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n = len(nodes)
	}
	b.ReportMetric(float64(n), "nodes")
	if n > 0 {
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/node")
	}
}
