package chaos

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// soakTimings returns the timings INGOT_CHAOS_TIMINGS names: production (default) or short.
func soakTimings(t *testing.T) Timings {
	switch v := os.Getenv("INGOT_CHAOS_TIMINGS"); v {
	case "", "production":
		return Production
	case "short":
		return Short
	default:
		t.Fatalf("INGOT_CHAOS_TIMINGS=%q: want production or short", v)
	}
	return Timings{}
}

// figure logs one measured figure on a line scripts/chaos.sh picks up.
func figure(t *testing.T, name, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURE %s: %s", name, fmt.Sprintf(format, args...))
}

// TestSoak is the chaos soak (scripts/chaos.sh): three replicas, all through database
// proxies, on a throwaway PostgreSQL, a fake Ironic of 1,000 nodes and instance traffic.
// First the measurements (failover after kill -9, the hand-over gap of a rolling
// restart, the nodes a fourth replica's join moves), then, until DURATION (default
// 10m) has passed, faults drawn with SEED (default 1): kill -9, SIGSTOP shorter and
// longer than the TTL, a database blackhole, a graceful restart, a join and leave, a
// PostgreSQL restart and outage, a restart with a skewed clock. Then the auditor. It runs
// only with INGOT_CHAOS_SOAK=1.
func TestSoak(t *testing.T) {
	if os.Getenv("INGOT_CHAOS_SOAK") == "" {
		t.Skip("the soak runs from scripts/chaos.sh (INGOT_CHAOS_SOAK=1)")
	}
	seed := uint64(1)
	if s := os.Getenv("SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SEED=%q: %v", s, err)
		}
		seed = v
	}
	dur := 10 * time.Minute
	if s := os.Getenv("DURATION"); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("DURATION=%q: %v", s, err)
		}
		dur = v
	}
	tm := soakTimings(t)
	begin := time.Now()
	t.Logf("soak: seed %d, duration %v, TTL %v, renew %v, scan %v, %d nodes", seed, dur, tm.TTL, tm.Renew, tm.Scan, nodes)
	rnd := rand.New(rand.NewPCG(seed, 1414))
	pg := ownPG(t)
	c := New(t, pg.DSN, nodes, tm)
	flags := map[string][]string{} // each replica's clock flags, kept across restarts
	start := func(id string) { c.Start(id, true, flags[id]...) }

	// All three at once on the empty database (S6).
	var rs []*Replica
	for _, id := range three {
		rs = append(rs, c.Spawn(id, true))
	}
	for _, r := range rs {
		c.WaitAPI(r)
	}
	converge := 3*tm.Residence + 2*time.Minute
	c.WaitOwned(begin, 2*time.Minute)
	c.WaitDesired(three, converge)
	c.WaitProviders(c.Replica("r1"), 2*time.Minute)
	c.Sample(100 * time.Millisecond)
	tr := c.StartTraffic(seed, 4)
	time.Sleep(tm.TTL / 3)

	// Failover after kill -9.
	at := time.Now()
	c.Kill("r2")
	took := c.WaitOwned(at, tm.Bound()+10*time.Second, "r2")
	figure(t, "failover after kill -9", "%s (TTL %v; bound TTL + 2 scans %v)", ratio(took, tm.TTL), tm.TTL, tm.Bound())
	if took > tm.Limit() {
		t.Errorf("failover took %v, over TTL + 4 scans", took)
	}
	if tm == Production && took > 20*time.Second {
		t.Errorf("failover took %v, over the 20 s target", took)
	}
	start("r2")
	c.WaitDesired(three, converge)

	// Rolling restart: SIGTERM each in turn, started again once it answers.
	from := time.Now()
	for _, id := range three {
		if err := c.Term(id); err != nil {
			t.Fatal(err)
		}
		if left, per, _ := c.Unowned(t.Context()); left != 0 {
			t.Errorf("after %s's drain %d nodes have no live owner (%v)", id, left, per)
		}
		start(id)
		time.Sleep(tm.Scan)
	}
	gaps := HandoverGaps(c.Events(), from, time.Now())
	max := Percentile(gaps, 100)
	figure(t, "rolling restart hand-over gap", "max %s, p99 %v, p50 %v over %d hand-overs (scan %v)",
		ratio(max, tm.TTL), Percentile(gaps, 99).Round(time.Millisecond), Percentile(gaps, 50).Round(time.Millisecond), len(gaps), tm.Scan)
	if slices.Contains(gaps, -1) {
		t.Error("a node offered during the rolling restart was never taken")
	}
	if max > tm.Scan {
		t.Errorf("the longest hand-over gap %v is over one scan (%v)", max, tm.Scan)
	}
	c.WaitDesired(three, converge)

	// A fourth replica joins, then leaves.
	at = time.Now()
	start("r4")
	four := append(slices.Clone(three), "r4")
	per := c.WaitDesired(four, converge)
	moved := checkJoin(t, c, c.Events(), at, "r4")
	figure(t, "join moves", "%d nodes to the fourth replica (%.1f%% of a quarter, %d), converged in %v; owners %v",
		moved, 400*float64(moved)/float64(nodes), nodes/4, time.Since(at).Round(time.Second), per)
	if err := c.Term("r4"); err != nil {
		t.Fatal(err)
	}
	c.WaitDesired(three, converge)
	figure(t, "measurements took", "%v", time.Since(begin).Round(time.Second))

	// The mix.
	faults := map[string]int{}
	var recoveries []time.Duration
	pick := func() string { return three[rnd.IntN(len(three))] }
	for time.Since(begin) < dur {
		kind := []string{"kill", "pause-short", "pause-long", "blackhole", "restart", "join-leave",
			"pg-restart", "pg-outage", "skew"}[rnd.IntN(9)]
		id := pick()
		faults[kind]++
		at := time.Now()
		switch kind {
		case "kill":
			c.Kill(id)
			rec := c.WaitOwned(at, tm.Bound()+10*time.Second, id)
			recoveries = append(recoveries, rec)
			start(id)
		case "pause-short":
			c.Pause(id)
			time.Sleep(tm.TTL - tm.TTL/5 - 2*tm.Renew)
			c.Resume(id)
		case "pause-long":
			c.Pause(id)
			recoveries = append(recoveries, c.WaitOwned(at, tm.Bound()+10*time.Second, id))
			time.Sleep(tm.TTL / 2)
			c.Resume(id)
		case "blackhole":
			p := c.Replica(id).Proxy
			p.Blackhole()
			recoveries = append(recoveries, c.WaitOwned(at, tm.Bound()+10*time.Second, id))
			time.Sleep(tm.TTL / 2)
			p.Restore()
		case "restart":
			if err := c.Term(id); err != nil {
				t.Error(err)
			}
			start(id)
		case "join-leave":
			start("r4")
			time.Sleep(tm.Warmup() + tm.Residence/2)
			if err := c.Term("r4"); err != nil {
				t.Error(err)
			}
		case "pg-restart":
			pg.Restart()
		case "pg-outage":
			pg.Stop()
			time.Sleep(tm.TTL + tm.TTL/5)
			at = time.Now()
			pg.Start()
			recoveries = append(recoveries, c.WaitOwned(at, tm.Bound()+20*time.Second))
		case "skew":
			flags[id] = [][]string{nil, {"--debug-clock-offset", "1h"}, {"--debug-clock-offset", "-1h"},
				{"--debug-clock-rate", "0.8"}, {"--debug-clock-rate", "1.25"}}[rnd.IntN(5)]
			if err := c.Term(id); err != nil {
				t.Error(err)
			}
			start(id)
		}
		rec := c.WaitOwned(time.Now(), tm.Limit())
		t.Logf("%v %s %s %v: every node owned %v after the fault ended", time.Since(begin).Round(time.Second), kind, id,
			flags[id], rec.Round(time.Millisecond))
		time.Sleep(time.Duration(rnd.Int64N(int64(tm.TTL))))
	}
	figure(t, "faults", "%v", faults)
	figure(t, "recovery after crash, pause, blackhole, outage", "max %s, p50 %v over %d",
		ratio(Percentile(recoveries, 100), tm.TTL), Percentile(recoveries, 50).Round(time.Millisecond), len(recoveries))
	rep := finish(t, c, tr)
	runs, _ := c.UnownedRuns()
	figure(t, "unowned time per node", "p99 %v, max %v over %d stretches", Percentile(runs, 99).Round(time.Millisecond),
		Percentile(runs, 100).Round(time.Millisecond), len(runs))
	figure(t, "audit", "%s", rep)
	figure(t, "soak took", "%v", time.Since(begin).Round(time.Second))
}
