package replica

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/deploy"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/reconcile"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// In-process replicas: several Replicas with their trackers as goroutines, each with its
// own store handle on one PostgreSQL database, over one fake Ironic. Timings are shrunk
// (TTL 3 s, scans every 250 ms); the ratios are the production ones.

const (
	testTTL   = 3 * time.Second
	testScan  = 250 * time.Millisecond
	testMoves = 5
)

type member struct {
	id      string
	db      *store.DB
	rep     *Replica
	tracker *reconcile.Reconciler
	ctrl    *deploy.Controller
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type cluster struct {
	t       *testing.T
	dsn     string
	ironic  *ironictest.Server
	mu      sync.Mutex
	members map[string]*member
	audit   *store.DB // a handle of the test's own
	// controllers: members run an instance controller too.
	controllers bool
}

func testLog(t *testing.T) *slog.Logger {
	if os.Getenv("INGOT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newCluster(t *testing.T, nodes int, gen func(int) ironic.Node, opts ...ironictest.Option) *cluster {
	dsn := storetest.DSN(t, storetest.Postgres)
	audit, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { audit.Close() })
	s := ironictest.NewServer(t, opts...)
	s.AddNodes(nodes, gen)
	c := &cluster{t: t, dsn: dsn, ironic: s, members: map[string]*member{}, audit: audit}
	t.Cleanup(func() {
		c.mu.Lock()
		ms := slices.Collect(maps.Values(c.members))
		c.mu.Unlock()
		for _, m := range ms {
			m.kill()
		}
	})
	return c
}

func gold(i int) ironic.Node {
	return ironic.Node{UUID: fmt.Sprintf("%08d-0000-4000-8000-%012d", i, i), Name: fmt.Sprintf("node-%05d", i),
		ResourceClass: "gold", ProvisionState: ironic.ProvisionStateAvailable, PowerState: ironic.PowerOff}
}

// start runs a replica and its tracker.
func (c *cluster) start(id string, scope reconcile.Scope) *member {
	t := c.t
	db, err := store.Open(t.Context(), c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	m := &member{id: id, db: db}
	client, err := ironic.New(ironic.Config{URL: c.ironic.URL, Retry: ironic.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	log := testLog(t).With("member", id)
	m.rep, err = New(db, Config{ID: id, Addr: id + ":8778", ConductorGroup: scope.ConductorGroup, Shards: scope.Shards,
		RecordScope: scope.String(), TTL: testTTL, RenewEvery: 500 * time.Millisecond, Margin: 600 * time.Millisecond,
		ScanEvery: testScan, Residence: 1500 * time.Millisecond, Warmup: time.Second, MaxMoves: testMoves,
		DrainTimeout: 5 * time.Second, Logger: log,
		OnGain: func([]string) {
			m.tracker.Kick()
			if m.ctrl != nil {
				m.ctrl.Kick()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	onListing := m.rep.ObserveNodes
	if c.controllers {
		m.ctrl = deploy.New(client, db, deploy.Config{Ownership: m.rep, WatchInterval: 200 * time.Millisecond,
			Scope: scope, Logger: log, Refresh: func(ctx context.Context, nodes []ironic.Node) error {
				return m.tracker.Refresh(ctx, nodes)
			}})
		onListing = func(nodes []ironic.Node) {
			m.rep.ObserveNodes(nodes)
			m.ctrl.ObserveNodes(nodes)
		}
	}
	m.tracker = reconcile.New(client, db, reconcile.Config{Scope: scope, Interval: time.Second, Logger: log,
		Ownership: m.rep, OnListing: onListing})
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.wg.Go(func() {
		if err := m.rep.Run(ctx); err != nil {
			t.Errorf("replica %s: %v", id, err)
		}
	})
	m.wg.Go(func() { m.tracker.Run(ctx) })
	if m.ctrl != nil {
		m.wg.Go(func() { m.ctrl.Run(ctx) })
	}
	c.mu.Lock()
	c.members[id] = m
	c.mu.Unlock()
	return m
}

// kill stops the member as a crash would: no drain, its row and lease left to expire.
func (m *member) kill() {
	if m.cancel == nil {
		return
	}
	m.rep.abandon.Store(true)
	m.cancel()
	m.wg.Wait()
	m.db.Close()
	m.cancel = nil
}

// stop stops it as SIGTERM does: the tracker stops, then the replica drains.
func (m *member) stop() {
	m.cancel()
	m.wg.Wait()
	m.db.Close()
	m.cancel = nil
}

func (c *cluster) forget(id string) {
	c.mu.Lock()
	delete(c.members, id)
	c.mu.Unlock()
}

// owners returns node -> owner ("" for unowned or handed off but not taken).
func (c *cluster) owners() map[string]store.NodeOwner {
	os, err := c.audit.NodeOwners(context.Background())
	if err != nil {
		c.t.Fatal(err)
	}
	out := make(map[string]store.NodeOwner, len(os))
	for _, o := range os {
		out[o.Node] = o
	}
	return out
}

// settled reports whether every one of want nodes is owned exactly once: by a live member
// in the database, with no hand-off pending, and in that member's own owned set only.
func (c *cluster) settled(want int) (bool, string) {
	os := c.owners()
	if len(os) != want {
		return false, fmt.Sprintf("%d ownership rows, want %d", len(os), want)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	mem := map[string]string{}
	for id, m := range c.members {
		for n := range m.rep.Owned() {
			if other, dup := mem[n]; dup {
				return false, fmt.Sprintf("node %s owned in memory by %s and %s", n, other, id)
			}
			mem[n] = id
		}
	}
	for n, o := range os {
		if o.Replica == "" || o.HandoffTo != "" || c.members[o.Replica] == nil || mem[n] != o.Replica {
			return false, fmt.Sprintf("node %s: row %+v, in memory %q", n, o, mem[n])
		}
	}
	return true, ""
}

func (c *cluster) waitSettled(want int, within time.Duration) time.Duration {
	c.t.Helper()
	start := time.Now()
	var why string
	for time.Since(start) < within {
		var ok bool
		if ok, why = c.settled(want); ok {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("not settled within %v: %s", within, why)
	return 0
}

func (c *cluster) counts() map[string]int {
	out := map[string]int{}
	for _, o := range c.owners() {
		out[o.Replica]++
	}
	return out
}

// TestReplicasShareFleet: three replicas on 300 nodes own each exactly once, about a third
// each, and their trackers write every node's provider; a replica killed without a drain
// has its nodes claimed within TTL plus a few scans; a drained one hands them over with
// no node unowned longer than about a scan; a fourth joining takes about a quarter,
// rate-limited, moving few between the others (bounded loads).
func TestReplicasShareFleet(t *testing.T) {
	const n = 300
	c := newCluster(t, n, gold)
	for _, id := range []string{"r1", "r2", "r3"} {
		c.start(id, reconcile.Scope{})
	}
	took := c.waitSettled(n, 20*time.Second)
	t.Logf("3 replicas settled %d nodes in %v: %v", n, took, c.counts())
	// Replicas that registered after the first claims get their share by rate-limited
	// hand-offs once warm (1 s) and past the residence (1.5 s).
	// Balanced means every node with its assigned owner: within 10% of a third each
	// was not enough, as the first claimer could still hold nodes it would hand to r2
	// after r3's death, moves the join check below would blame on r4.
	balanced := func() bool {
		os := c.owners()
		want := assignment(os, "r1", "r2", "r3")
		for node, o := range os {
			if o.Replica != want[node] {
				return false
			}
		}
		return true
	}
	for start := time.Now(); !balanced(); {
		// One replica may have claimed everything (200 moves at 5 per 250 ms: 10 s, more
		// under -race on a loaded machine).
		if time.Since(start) > 40*time.Second {
			t.Fatalf("not balanced within 40 s: %v", c.counts())
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.waitSettled(n, 10*time.Second)
	t.Logf("balanced: %v", c.counts())
	waitProviders(t, c.audit, n)

	// Kill r3: its nodes are claimed by r1 and r2 within the TTL and a few scans.
	c.mu.Lock()
	r3 := c.members["r3"]
	c.mu.Unlock()
	r3Nodes := r3.rep.Owned()
	killed := time.Now()
	r3.kill()
	c.forget("r3")
	c.waitSettled(n, testTTL+10*time.Second)
	took = time.Since(killed)
	t.Logf("kill: %d nodes of r3 owned again after %v (TTL %v, scan %v)", len(r3Nodes), took, testTTL, testScan)
	if took > testTTL+8*testScan+time.Second {
		t.Errorf("failover took %v, want within TTL %v + scans", took, testTTL)
	}
	os := c.owners()
	for node := range r3Nodes {
		if os[node].Epoch < 2 {
			t.Errorf("node %s taken over without an epoch bump: %+v", node, os[node])
		}
	}

	// Join r4: about a third of the nodes move to it, at most testMoves per owner per
	// scan, few between r1 and r2 (a lower cap spills a few; at most 3% of the fleet).
	before := c.owners()
	c.start("r4", reconcile.Scope{})
	var first, last time.Time // the first and the last move seen
	prev := 0
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		k := c.counts()["r4"]
		if k > prev {
			if first.IsZero() {
				first = time.Now()
			}
			last, prev = time.Now(), k
		}
		want := assignedTo(c.owners(), "r4", "r1", "r2", "r4")
		if ok, _ := c.settled(n); ok && k == want {
			break
		}
		time.Sleep(testScan / 2)
	}
	after := c.owners()
	moved, between := 0, 0
	for node, o := range after {
		if o.Replica != before[node].Replica {
			moved++
			if o.Replica != "r4" {
				between++
			}
		}
	}
	if between > n*3/100 {
		t.Errorf("join moved %d nodes between r1 and r2, over 3%% of %d", between, n)
	}
	spread := last.Sub(first)
	t.Logf("join: %d of %d nodes moved (%d between r1 and r2; a third would be %d) over %v", moved, n, between, n/3, spread)
	if moved < n/3*6/10 || moved > n/3*14/10 {
		t.Errorf("join moved %d nodes, want about %d", moved, n/3)
	}
	// Two owners handing over at most testMoves each per scan need this many scans.
	if minScans := moved/(2*testMoves) - 2; spread < time.Duration(minScans)*testScan {
		t.Errorf("join moved %d nodes within %v; at %d per owner per scan it takes at least %d scans",
			moved, spread, testMoves, minScans)
	}

	// Drain r1: its nodes go to r2 and r4; no node waits for its new owner much longer
	// than a scan.
	c.mu.Lock()
	r1 := c.members["r1"]
	c.mu.Unlock()
	gaps := watchGaps(c, func() { r1.stop(); c.forget("r1") })
	c.waitSettled(n, 10*time.Second)
	worst := time.Duration(0)
	for _, g := range gaps {
		worst = max(worst, g)
	}
	t.Logf("drain: %d nodes handed over, longest gap %v (scan %v)", len(gaps), worst, testScan)
	// One receiver scan, plus the scans' own time (slow under -race on a loaded machine).
	if worst > 4*testScan {
		t.Errorf("a node waited %v for its new owner; want about a scan (%v)", worst, testScan)
	}
	if rs, _ := c.audit.Replicas(context.Background()); len(rs) != 3 {
		t.Errorf("replica rows after the drain: %+v", rs) // r2, r4, and r3's expired row
	}
	waitProviders(t, c.audit, n)
}

// assignment is Assign over the ownership rows' nodes among the replicas ids, all warm.
func assignment(os map[string]store.NodeOwner, ids ...string) map[string]string {
	nodes := make([]store.NodeScope, 0, len(os))
	for node, o := range os {
		nodes = append(nodes, store.NodeScope{Node: node, ConductorGroup: o.ConductorGroup, Shard: o.Shard})
	}
	members := make([]Member, len(ids))
	for i, id := range ids {
		members[i] = live(id, time.Hour)
	}
	return Assign(nodes, members, 0, "")
}

// assignedTo is how many nodes the assignment among ids gives to (for the join's end).
func assignedTo(os map[string]store.NodeOwner, to string, ids ...string) int {
	k := 0
	for _, r := range assignment(os, ids...) {
		if r == to {
			k++
		}
	}
	return k
}

// watchGaps runs action while sampling the owners every 20 ms, and returns for each node
// that changed hands how long it was offered but not yet taken (or owned by nobody).
func watchGaps(c *cluster, action func()) map[string]time.Duration {
	gaps := map[string]time.Duration{}
	open := map[string]time.Time{}
	done := make(chan struct{})
	go func() { action(); close(done) }()
	live := func() map[string]bool {
		rs, _ := c.audit.Replicas(context.Background())
		out := map[string]bool{}
		for _, r := range rs {
			if r.Live {
				out[r.ID] = true
			}
		}
		return out
	}
	quiet := 0
	for quiet < 10 {
		now := time.Now()
		l := live()
		waiting := 0
		for node, o := range c.owners() {
			gap := o.HandoffTo != "" || o.Replica == "" || !l[o.Replica]
			if gap {
				waiting++
				if _, ok := open[node]; !ok {
					open[node] = now
				}
			} else if at, ok := open[node]; ok {
				gaps[node] = max(gaps[node], now.Sub(at))
				delete(open, node)
			}
		}
		select {
		case <-done:
			if waiting == 0 {
				quiet++
			}
		default:
		}
		time.Sleep(20 * time.Millisecond)
	}
	for node, at := range open {
		gaps[node] = time.Since(at)
	}
	return gaps
}

func waitProviders(t *testing.T, db *store.DB, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		recs, err := db.IronicNodes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		v, err := db.View(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == n && v.Len() == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records and %d providers, want %d", len(recs), v.Len(), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestScopeMove: a node moved from one conductor group to another moves to the replica of
// the new group with its record, in one transaction: its provider is never deleted and
// it is never without an owner longer than a scan.
func TestScopeMove(t *testing.T) {
	const n = 40
	c := newCluster(t, n, func(i int) ironic.Node {
		nd := gold(i)
		nd.ConductorGroup = []string{"g1", "g2"}[i%2]
		return nd
	})
	g1, g2 := reconcile.Scope{ConductorGroup: "g1"}, reconcile.Scope{ConductorGroup: "g2"}
	c.start("a", g1)
	c.start("b", g2)
	c.waitSettled(n, 20*time.Second)
	waitProviders(t, c.audit, n)
	for node, o := range c.owners() {
		want := map[string]string{"g1": "a", "g2": "b"}[o.ConductorGroup]
		if o.Replica != want {
			t.Fatalf("node %s of %s owned by %s", node, o.ConductorGroup, o.Replica)
		}
	}
	moving := gold(0).UUID // in g1, owned by a
	c.ironic.UpdateNode(moving, func(nd *ironic.Node) { nd.ConductorGroup = "g2" })
	start := time.Now()
	var gapStart time.Time
	worstGap := time.Duration(0)
	for {
		o := c.owners()[moving]
		if o.Replica == "b" && o.HandoffTo == "" {
			break
		}
		if o.HandoffTo != "" && gapStart.IsZero() {
			gapStart = time.Now()
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("the node did not move: %+v", o)
		}
		if _, err := c.audit.GetProvider(context.Background(), moving); err != nil {
			t.Fatalf("provider gone during the move: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !gapStart.IsZero() {
		worstGap = time.Since(gapStart)
	}
	t.Logf("scope move took %v from the change in Ironic; hand-off gap %v", time.Since(start), worstGap)
	if worstGap > 3*testScan {
		t.Errorf("hand-off gap %v", worstGap)
	}
	rec, err := c.audit.IronicNode(context.Background(), moving)
	if err != nil || rec.Scope != g2.String() {
		t.Fatalf("record after the move: %+v %v", rec, err)
	}
	c.waitSettled(n, 10*time.Second)
	if k := c.counts(); k["a"] != n/2-1 || k["b"] != n/2+1 {
		t.Fatalf("after the move: %v", k)
	}
}

// TestReplicasDeploy: instances are deployed by the replicas owning their nodes; one
// replica killed in the middle of the deploys has its nodes and their instances taken
// over, and every instance ends active on a node whose Ironic record names it.
func TestReplicasDeploy(t *testing.T) {
	const n, k = 30, 24
	c := newCluster(t, n, gold, ironictest.WithTiming(ironictest.Timing{Deploy: time.Second, Teardown: 300 * time.Millisecond}))
	c.controllers = true
	for _, id := range []string{"r1", "r2", "r3"} {
		c.start(id, reconcile.Scope{})
	}
	c.waitSettled(n, 20*time.Second)
	waitProviders(t, c.audit, n)
	// Replicas that registered after the first claims get their share after warm-up
	// and residence.
	for start := time.Now(); ; {
		k := c.counts()
		if k["r1"] > 0 && k["r2"] > 0 && k["r3"] > 0 {
			break
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("not balanced: %v", k)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.waitSettled(n, 10*time.Second)
	ctx := context.Background()
	var ids []string
	for i := range k {
		in, _, err := c.audit.CreateInstance(ctx, baremetal.Instance{
			UUID: fmt.Sprintf("22222222-bbbb-4bbb-8bbb-%012d", i), Name: fmt.Sprintf("web %d", i), ProjectID: "p", UserID: "u",
			Spec: baremetal.Spec{Request: baremetal.Request{ResourceClass: "gold"},
				Image: baremetal.Image{Source: "http://images.example/disk.qcow2", Checksum: "0123456789abcdef0123456789abcdef"}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.UUID)
	}
	// Kill the replica with the most instances building on its nodes, as soon as there is
	// one (how soon depends on the machine's load).
	var victim *member
	onVictim := 0
	for wait := time.Now().Add(20 * time.Second); onVictim == 0 && time.Now().Before(wait); {
		time.Sleep(50 * time.Millisecond)
		victim, onVictim = nil, 0
		c.mu.Lock()
		for _, m := range c.members {
			owned := m.rep.Owned()
			k := 0
			for _, id := range ids {
				in, _ := c.audit.Instance(ctx, id)
				if _, ok := owned[in.Node]; ok && in.State == baremetal.StateBuilding {
					k++
				}
			}
			if victim == nil || k > onVictim {
				victim, onVictim = m, k
			}
		}
		c.mu.Unlock()
	}
	victim.kill()
	c.forget(victim.id)
	t.Logf("%s killed with %d instances building on its nodes", victim.id, onVictim)
	if onVictim == 0 {
		t.Fatal("the kill came too late to test a takeover mid-deploy")
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		done := 0
		for _, id := range ids {
			in, err := c.audit.Instance(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if in.State == baremetal.StateActive {
				done++
			} else if in.State == baremetal.StateError {
				t.Fatalf("instance %s in error: %+v", id, in.Fault)
			}
		}
		if done == k {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d instances active", done, k)
		}
		time.Sleep(200 * time.Millisecond)
	}
	nodes := map[string]bool{}
	for _, id := range ids {
		in, _ := c.audit.Instance(ctx, id)
		nd, ok := c.ironic.Node(in.Node)
		if !ok || nd.InstanceUUID != id || nd.ProvisionState != ironic.ProvisionStateActive || nodes[in.Node] {
			t.Errorf("instance %s on node %s: Ironic says %+v", id, in.Node, nd)
		}
		nodes[in.Node] = true
	}
	if ps, err := c.audit.ClaimProblems(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("claim problems: %+v %v", ps, err)
	}
}

// TestLeaseLossStopsWorkBeforeTakeover: a replica whose renewals fail stops all owned
// work at its local deadline (its lease context ends, it owns nothing, Hold gives no
// fence), before its lease ends by the database's clock and a peer takes its nodes; when
// renewals succeed again it holds a lease again and takes part in ownership anew.
func TestLeaseLossStopsWorkBeforeTakeover(t *testing.T) {
	const n = 60
	c := newCluster(t, n, gold)
	r1 := c.start("r1", reconcile.Scope{})
	c.start("r2", reconcile.Scope{})
	c.waitSettled(n, 20*time.Second)
	for start := time.Now(); len(r1.rep.Owned()) == 0; {
		if time.Since(start) > 15*time.Second {
			t.Fatal("r1 never owned a node")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.waitSettled(n, 10*time.Second)
	mine := r1.rep.Owned()
	hctx, release, fence := r1.rep.Hold(context.Background())
	defer release()
	if fence == nil || len(fence.Epochs) != len(mine) {
		t.Fatalf("fence %+v, owned %d", fence, len(mine))
	}

	failed := time.Now()
	r1.rep.renewFails.Store(true)
	<-hctx.Done()
	stopped := time.Since(failed)
	if cause := context.Cause(hctx); cause != ErrLeaseLost {
		t.Fatalf("owned work's context ended with %v", cause)
	}
	if len(r1.rep.Owned()) != 0 || r1.rep.Owns(slices.Collect(maps.Keys(mine))[0], 1) {
		t.Fatal("still owning after the local deadline")
	}
	if _, _, f := r1.rep.Hold(context.Background()); f != nil {
		t.Fatal("Hold gave a fence without a lease")
	}
	// The database still has r1's lease live: no peer could take its nodes as expired yet.
	rs, err := c.audit.Replicas(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var left time.Duration
	for _, r := range rs {
		if r.ID == "r1" {
			if !r.Live {
				t.Fatalf("r1's lease ended in the database before r1 stopped (after %v)", stopped)
			}
			left = r.LeaseRemaining
		}
	}
	t.Logf("r1 stopped %v after its renewals began to fail (TTL %v, margin %v), %v before its lease ended in the database",
		stopped, testTTL, 600*time.Millisecond, left)
	if stopped > testTTL-500*time.Millisecond || left <= 0 {
		t.Fatalf("r1 stopped too late: after %v, %v before the database lease ended", stopped, left)
	}
	// r2 takes the nodes once the lease has ended by the database's clock.
	for start := time.Now(); ; {
		k := c.counts()
		if k["r2"] == n {
			t.Logf("r2 owns all %d nodes %v after r1's renewals failed", n, time.Since(failed))
			break
		}
		if time.Since(start) > testTTL+5*time.Second {
			t.Fatalf("r2 did not take over: %v", k)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Renewals work again: r1 holds a lease again, owning none of the nodes it lost (their
	// epochs moved on), until rebalancing hands some back.
	r1.rep.renewFails.Store(false)
	for start := time.Now(); r1.rep.Status().LeaseLeft == 0; {
		if time.Since(start) > 5*time.Second {
			t.Fatal("r1 did not get a lease back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for node, e := range mine {
		if r1.rep.Owns(node, e) {
			t.Fatalf("r1 owns %s at its old epoch %d again", node, e)
		}
	}
	c.waitSettled(n, 10*time.Second)
}

// TestRestartReclaims: a replica restarted under the same id (a new incarnation) takes its
// nodes back at once with their epochs bumped, without waiting for its old lease to end.
func TestRestartReclaims(t *testing.T) {
	const n = 40
	c := newCluster(t, n, gold)
	r1 := c.start("r1", reconcile.Scope{})
	c.waitSettled(n, 20*time.Second)
	before := c.owners()
	r1.kill()
	c.forget("r1")
	restarted := time.Now()
	c.start("r1", reconcile.Scope{})
	c.waitSettled(n, 10*time.Second)
	took := time.Since(restarted)
	for node, o := range c.owners() {
		if o.Replica != "r1" || o.Epoch != before[node].Epoch+1 {
			t.Fatalf("node %s after the restart: %+v (before %+v)", node, o, before[node])
		}
	}
	t.Logf("restart: %d nodes owned again %v after the new incarnation started (TTL %v)", n, took, testTTL)
	if took > testTTL {
		t.Fatalf("the restart waited for the old lease: %v", took)
	}
}

// countingHandler counts the records of each message.
type countingHandler struct {
	mu     *sync.Mutex
	counts map[string]int
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.counts[r.Message]++
	h.mu.Unlock()
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// TestHandoffPollFailureLoggedOnce: while the database is out of reach, the poll for
// handed-over nodes (eight times a scan) logs its failure once, not at every poll, until
// the lease's local deadline stops it.
func TestHandoffPollFailureLoggedOnce(t *testing.T) {
	dsn := storetest.DSN(t, storetest.Postgres)
	db, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	h := countingHandler{mu: &sync.Mutex{}, counts: map[string]int{}}
	rep, err := New(db, Config{ID: "r1", TTL: testTTL, RenewEvery: 500 * time.Millisecond, Margin: 600 * time.Millisecond,
		ScanEvery: testScan, Logger: slog.New(h)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rep.Run(ctx) }()
	for start := time.Now(); !rep.valid(); {
		if time.Since(start) > 10*time.Second {
			t.Fatal("no lease")
		}
		time.Sleep(20 * time.Millisecond)
	}
	db.Close() // every statement now fails, as in a database outage
	time.Sleep(testTTL)
	rep.abandon.Store(true)
	cancel()
	<-done
	h.mu.Lock()
	defer h.mu.Unlock()
	polls := 0
	for msg, n := range h.counts {
		if strings.HasPrefix(msg, "taking handed-over nodes failed") {
			polls += n
		}
	}
	if polls != 1 {
		t.Errorf("the failing hand-off poll was logged %d times, want once (counts %v)", polls, h.counts)
	}
	if h.counts["ownership scan failed"] == 0 {
		t.Errorf("the failing scans were not logged (counts %v)", h.counts)
	}
}
