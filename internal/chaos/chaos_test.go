package chaos

import (
	"fmt"
	"testing"
	"time"

	"ingot/internal/ingottest"
	"ingot/internal/store/storetest"
)

func TestMain(m *testing.M) { ingottest.Main(m) }

const nodes = 1000

var three = []string{"r1", "r2", "r3"}

// start runs a cluster of the three replicas on a fresh database with the short timings,
// waits until the nodes are spread within 10% and every provider is written.
func start(t *testing.T, viaProxy ...string) *Cluster {
	t.Helper()
	c := New(t, storetest.DSN(t, storetest.Postgres), nodes, Short)
	for _, id := range three {
		proxied := false
		for _, p := range viaProxy {
			proxied = proxied || p == id
		}
		c.Start(id, proxied)
	}
	c.WaitBalanced(three, 0.10, 60*time.Second)
	c.WaitProviders(c.Replica("r1"), 60*time.Second)
	c.Sample(100 * time.Millisecond)
	return c
}

// finish checks the end state and the auditor's invariants: every node owned by a
// running replica, balanced within 10%, providers matching Ironic, no violation.
func finish(t *testing.T, c *Cluster, tr *Traffic) Report {
	t.Helper()
	if tr != nil {
		t.Log(tr.Stop())
	}
	ids := c.Running()
	c.WaitBalanced(ids, 0.10, 90*time.Second)
	c.WaitProviders(c.Replica(ids[0]), 60*time.Second)
	rep := c.Audit()
	t.Log(rep)
	for _, v := range rep.Violations {
		t.Error(v)
	}
	if rep.Accepted == 0 {
		t.Error("no accepted fenced write audited: the audit saw nothing")
	}
	runs, open := c.UnownedRuns()
	t.Logf("unowned stretches: %d, p99 %v, max %v (TTL %v)", len(runs), Percentile(runs, 99), Percentile(runs, 100), c.T.TTL)
	if open != 0 {
		t.Errorf("%d nodes without an owner at the end", open)
	}
	if max := Percentile(runs, 100); max > c.T.Bound()+time.Second {
		t.Errorf("a node went %v without an owner, over the bound %v (TTL + 2 scans) with the sampling's slack", max, c.T.Bound())
	}
	return rep
}

func ratio(d, ttl time.Duration) string {
	return fmt.Sprintf("%v (%.2f TTL)", d.Round(time.Millisecond), d.Seconds()/ttl.Seconds())
}

// TestKill9: a crashed replica's nodes are claimed by the others within TTL + 2 scans.
func TestKill9(t *testing.T) {
	c := start(t)
	tr := c.StartTraffic(1, 4)
	time.Sleep(3 * time.Second)
	at := time.Now()
	c.Kill("r2")
	took := c.WaitOwned(at, c.T.Bound()+2*time.Second, "r2")
	t.Logf("failover after kill -9: %s", ratio(took, c.T.TTL))
	if took > c.T.Bound() {
		t.Errorf("failover took %v, over TTL + 2 scans (%v)", took, c.T.Bound())
	}
	finish(t, c, tr)
}
