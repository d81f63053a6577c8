package reconcile_test

import (
	"testing"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/reconcile"
	"ingot/internal/store/storetest"
)

// BenchmarkSteadyPass measures a pass over an unchanged fleet of 10,000 nodes, server and
// client in one process with a free listing: what a pass costs beyond the listing.
// bench/trackerbench measures whole runs against a fake Ironic with a realistic listing
// cost and against a real Ironic.
func BenchmarkSteadyPass(b *testing.B) {
	db := storetest.Open(b, storetest.SQLite)
	s := ironictest.NewServer(b)
	s.AddNodes(10000, fleetNode)
	c, err := ironic.New(ironic.Config{URL: s.URL})
	if err != nil {
		b.Fatal(err)
	}
	r := reconcile.New(c, db, reconcile.Config{})
	start := time.Now()
	st, err := r.Pass(b.Context())
	if err != nil || st.Changes != 10000 {
		b.Fatalf("first pass: %+v, %v", st, err)
	}
	b.Logf("first pass: %v (listing %v)", time.Since(start), st.ListDuration)
	var list time.Duration
	b.ReportAllocs()
	for b.Loop() {
		st, err := r.Pass(b.Context())
		if err != nil || st.Changes != 0 {
			b.Fatalf("steady pass: %+v, %v", st, err)
		}
		list += st.ListDuration
	}
	b.ReportMetric(float64(list.Milliseconds())/float64(b.N), "list-ms/op")
}
