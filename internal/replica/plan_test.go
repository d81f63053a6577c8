package replica

import (
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"ingot/internal/store"
)

func nodeIDs(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff,
			r.Uint32()&0xfff, r.Uint64()&0xffffffffffff)
	}
	return out
}

// TestDesiredBalance: over random fleets and replica sets, every replica is desired for
// its share of nodes within 10% (at 10,000 nodes).
func TestDesiredBalance(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		nodes := nodeIDs(10000, seed)
		n := 2 + int(seed%5)
		reps := make([]string, n)
		for i := range reps {
			reps[i] = fmt.Sprintf("ingot-%d.example", i+int(seed)*7)
		}
		count := map[string]int{}
		for _, nd := range nodes {
			count[Desired(nd, reps)]++
		}
		want := float64(len(nodes)) / float64(n)
		for _, r := range reps {
			if d := float64(count[r])/want - 1; d > 0.1 || d < -0.1 {
				t.Errorf("seed %d, %d replicas: %s desired for %d nodes, want %.0f ±10%%", seed, n, r, count[r], want)
			}
		}
	}
}

// TestDesiredMinimalMovement: adding a replica moves only nodes to it (about 1/(n+1)),
// removing one moves only its nodes.
func TestDesiredMinimalMovement(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		nodes := nodeIDs(5000, seed)
		n := 2 + int(seed%4)
		reps := make([]string, n)
		for i := range reps {
			reps[i] = fmt.Sprintf("r%d", i)
		}
		joined := append(slices.Clone(reps), "new")
		moved := 0
		for _, nd := range nodes {
			before, after := Desired(nd, reps), Desired(nd, joined)
			if before != after {
				moved++
				if after != "new" {
					t.Fatalf("join moved node %s from %s to %s, not to the new replica", nd, before, after)
				}
			}
		}
		want := float64(len(nodes)) / float64(n+1)
		if d := float64(moved)/want - 1; d > 0.1 || d < -0.1 {
			t.Errorf("seed %d: join of a %dth replica moved %d nodes, want %.0f ±10%%", seed, n+1, moved, want)
		}
		gone := reps[int(seed)%n]
		left := slices.DeleteFunc(slices.Clone(reps), func(r string) bool { return r == gone })
		for _, nd := range nodes {
			before, after := Desired(nd, reps), Desired(nd, left)
			if before != after && before != gone {
				t.Fatalf("leave of %s moved node %s from %s", gone, nd, before)
			}
		}
	}
}

// fleetOf is nodes with no scope.
func fleetOf(ids []string) []store.NodeScope {
	out := make([]store.NodeScope, len(ids))
	for i, id := range ids {
		out[i] = store.NodeScope{Node: id}
	}
	return out
}

func membersOf(ids ...string) []Member {
	out := make([]Member, len(ids))
	for i, id := range ids {
		out[i] = live(id, time.Hour)
	}
	return out
}

func loads(a map[string]string) map[string]int {
	out := map[string]int{}
	for _, r := range a {
		out[r]++
	}
	return out
}

// TestAssignBalance: every node is assigned once; no replica gets more than Cap, so none
// gets fewer than n - (R-1) Cap; at 1,000 nodes and up to 5 replicas that is within 10% of
// an equal share (the chaos harness's invariant), at any size within Eps plus rounding.
func TestAssignBalance(t *testing.T) {
	for _, n := range []int{1, 7, 100, 1000, 4321, 20000} {
		for r := 1; r <= 6; r++ {
			for seed := uint64(1); seed <= 3; seed++ {
				ids := make([]string, r)
				for i := range ids {
					ids[i] = fmt.Sprintf("ingot-%d.example", i+int(seed)*7)
				}
				nodes := nodeIDs(n, seed*uint64(n+r))
				a := Assign(fleetOf(nodes), membersOf(ids...), time.Minute, "")
				if len(a) != n {
					t.Fatalf("%d nodes, %d replicas: %d assigned", n, r, len(a))
				}
				per, limit := loads(a), Cap(n, r)
				share := float64(n) / float64(r)
				for _, id := range ids {
					k := per[id]
					if k > limit || k < n-(r-1)*limit {
						t.Errorf("%d nodes, %d replicas (seed %d): %s has %d, want %d..%d", n, r, seed, id, k, n-(r-1)*limit, limit)
					}
					if d := math.Abs(float64(k)/share - 1); n >= 1000 && r <= 5 && d > 0.10 {
						t.Errorf("%d nodes, %d replicas (seed %d): %s has %d, %.1f%% off an equal share", n, r, seed, id, k, 100*d)
					}
				}
			}
		}
	}
}

// TestAssignMovement: a join moves about n/(R+1) nodes (measured 2-7% more at 1,000 nodes,
// 2-3% at 10,000), nearly all to the newcomer; a leave moves the leaver's nodes and few
// others (at most 2% of the fleet measured). The bounds asserted are 10% over n/(R+1) and
// 3% of the fleet, at 1,000 and 10,000 nodes.
func TestAssignMovement(t *testing.T) {
	for _, n := range []int{1000, 10000} {
		for seed := uint64(1); seed <= 8; seed++ {
			nodes := fleetOf(nodeIDs(n, seed))
			r := 2 + int(seed%4)
			ids := make([]string, r)
			for i := range ids {
				ids[i] = fmt.Sprintf("r%d", i)
			}
			before := Assign(nodes, membersOf(ids...), 0, "")
			after := Assign(nodes, membersOf(append(slices.Clone(ids), "new")...), 0, "")
			moved, between := 0, 0
			for node, was := range before {
				if now := after[node]; now != was {
					moved++
					if now != "new" {
						between++
					}
				}
			}
			want := float64(n) / float64(r+1)
			t.Logf("%d nodes, join making %d replicas: %d moved (%.1f%% of n/(R+1)), %d between the others", n, r+1,
				moved, 100*float64(moved)/want, between)
			if float64(moved) < want*0.9 || float64(moved) > want*1.1 {
				t.Errorf("seed %d: join moved %d nodes, want %.0f +-10%%", seed, moved, want)
			}
			if between > n*3/100 {
				t.Errorf("seed %d: join moved %d nodes between the old replicas, over 3%% of %d", seed, between, n)
			}
			gone := ids[int(seed)%r]
			left := Assign(nodes, membersOf(slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == gone })...), 0, "")
			others := 0
			for node, was := range before {
				if left[node] != was && was != gone {
					others++
				}
			}
			// Leaving as a drain does (the leaver excluded, still a member) is the same.
			if drained := Assign(nodes, membersOf(ids...), 0, gone); !maps.Equal(drained, left) {
				t.Errorf("seed %d: a drain's assignment differs from the one after the leave", seed)
			}
			if others > n*3/100 {
				t.Errorf("seed %d: leave of %s moved %d other nodes, over 3%% of %d", seed, gone, others, n)
			}
		}
	}
}

// TestAssignScopes: a node goes only to a replica whose scope holds it, to its top one
// when all of those are full; replicas still warming up get nodes only when no eligible
// replica is warm.
func TestAssignScopes(t *testing.T) {
	a, b, c := live("a", time.Hour), live("b", time.Hour), live("c", time.Hour)
	a.ConductorGroup, b.ConductorGroup = "rack-1", "rack-2"
	nodes := fleetOf(nodeIDs(900, 5))
	for i := range nodes {
		nodes[i].ConductorGroup = "RACK-2"
		if i%3 == 0 {
			nodes[i].ConductorGroup = "rack-1"
		}
	}
	got := Assign(nodes, []Member{a, b, c}, time.Minute, "")
	per := loads(got)
	// 300 nodes of rack-1 may go to a or c, 600 of rack-2 to b or c; cap is
	// ceil(900 x 1.02 / 3) = 306. A node is given to other than its top eligible replica
	// only when that one is full.
	if per["a"]+per["b"]+per["c"] != 900 {
		t.Fatalf("loads %v", per)
	}
	for i, n := range nodes {
		o := got[n.Node]
		if rack1 := i%3 == 0; rack1 && o == "b" || !rack1 && o == "a" {
			t.Fatalf("node %s of %s given to %s", n.Node, n.ConductorGroup, o)
		}
		top := Desired(n.Node, []string{map[bool]string{true: "a", false: "b"}[i%3 == 0], "c"})
		if o != top && per[top] < Cap(900, 3) {
			t.Fatalf("node %s given to %s while its top %s has room (%v)", n.Node, o, top, per)
		}
	}
	t.Logf("two overlapping scopes: %v", per)
	// Only b may own rack-2 nodes: all 600 go to b, over the cap.
	got = Assign(nodes, []Member{a, b}, time.Minute, "")
	if per := loads(got); per["b"] != 600 || per["a"] != 300 {
		t.Fatalf("full eligible replicas: %v", per)
	}
	// A cold replica gets nothing while a warm one may take the node, all when alone.
	cold := live("d", time.Second)
	got = Assign(fleetOf(nodeIDs(100, 6)), []Member{live("e", time.Hour), cold}, time.Minute, "")
	if per := loads(got); per["d"] != 0 || per["e"] != 100 {
		t.Fatalf("cold replica: %v", per)
	}
	got = Assign(fleetOf(nodeIDs(100, 6)), []Member{cold}, time.Minute, "")
	if per := loads(got); per["d"] != 100 {
		t.Fatalf("only a cold replica: %v", per)
	}
}

// BenchmarkAssign: the assignment of 100,000 nodes over 5 replicas, once per scan.
func BenchmarkAssign(b *testing.B) {
	nodes := fleetOf(nodeIDs(100000, 9))
	members := membersOf("r1", "r2", "r3", "r4", "r5")
	b.ReportAllocs()
	for b.Loop() {
		Assign(nodes, members, time.Minute, "")
	}
}

func live(id string, age time.Duration) Member {
	m := Member{Live: true, Age: age}
	m.ID = id
	return m
}

func TestPlan(t *testing.T) {
	const old = time.Hour
	members := []Member{live("a", old), live("b", old), live("c", old)}
	all := []string{"a", "b", "c"}
	fleet := fleetOf(nodeIDs(300, 42))
	assigned := Assign(fleet, members, time.Minute, "")
	// A node each replica is assigned.
	want := map[string]string{}
	for _, nd := range fleet {
		d := assigned[nd.Node]
		if _, ok := want[d]; !ok {
			want[d] = nd.Node
		}
	}
	if len(want) != 3 {
		t.Fatal("test fleet too small")
	}
	base := func() Input {
		return Input{Me: "a", Members: members, Nodes: fleet, Residence: time.Minute, Warmup: time.Minute, MaxMoves: 50,
			Waiting: map[string]int{}, Offered: map[string]int{}}
	}

	t.Run("claims unowned nodes it is desired for, waits on others", func(t *testing.T) {
		in := base()
		in.Owners = []store.NodeOwner{{Node: want["a"]}, {Node: want["b"]}}
		got := Plan(in)
		if !slices.Equal(got.Claim, []string{want["a"]}) || got.Waiting[want["b"]] != 1 {
			t.Fatalf("%+v", got)
		}
		// After FallbackScans scans nobody took it: a claims it too.
		in.Waiting = map[string]int{want["b"]: FallbackScans}
		got = Plan(in)
		if !slices.Contains(got.Claim, want["b"]) {
			t.Fatalf("fallback claim missing: %+v", got)
		}
	})
	t.Run("leaves live owners alone, takes expired ones", func(t *testing.T) {
		in := base()
		in.Members = []Member{live("a", old), live("b", old), {ReplicaInfo: store.ReplicaInfo{ID: "c"}, Live: false}}
		in.Owners = []store.NodeOwner{{Node: want["a"], Replica: "b", Epoch: 3}, {Node: want["c"], Replica: "c", Epoch: 1}}
		got := Plan(in)
		// want["c"]'s owner expired; it is desired now by a or b.
		if slices.Contains(got.Claim, want["a"]) {
			t.Fatalf("claimed a node with a live owner: %+v", got)
		}
		d := Assign(fleet, in.Members, in.Warmup, "")[want["c"]]
		if (d == "a") != slices.Contains(got.Claim, want["c"]) {
			t.Fatalf("expired node desired by %s: %+v", d, got)
		}
	})
	t.Run("claims what is handed to it", func(t *testing.T) {
		in := base()
		in.Owners = []store.NodeOwner{{Node: want["b"], Replica: "b", Epoch: 2, HandoffTo: "a"}}
		if got := Plan(in); !slices.Equal(got.Claim, []string{want["b"]}) {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("hands over after residence, not busy, at most MaxMoves", func(t *testing.T) {
		in := base()
		in.Owners = []store.NodeOwner{
			{Node: want["b"], Replica: "a", Epoch: 1, OwnedFor: time.Second},
			{Node: want["c"], Replica: "a", Epoch: 1, OwnedFor: old},
			{Node: want["a"], Replica: "a", Epoch: 1, OwnedFor: old},
		}
		got := Plan(in)
		if len(got.HandOff) != 1 || got.HandOff[0] != (Move{Node: want["c"], Epoch: 1, To: "c"}) {
			t.Fatalf("hand-offs: %+v", got.HandOff)
		}
		if _, ok := got.Owned[want["c"]]; ok || len(got.Owned) != 2 {
			t.Fatalf("owned while handing over: %+v", got.Owned)
		}
		in.Busy = map[string]bool{want["c"]: true}
		if got := Plan(in); len(got.HandOff) != 0 {
			t.Fatalf("moved a busy node: %+v", got.HandOff)
		}
		in.Busy = nil
		in.MaxMoves = 0
		if got := Plan(in); len(got.HandOff) != 0 {
			t.Fatalf("moved past MaxMoves: %+v", got.HandOff)
		}
	})
	t.Run("bounded load: hands over a node whose top replica is full", func(t *testing.T) {
		// A node that plain rendezvous gives its owner but the assignment gives another
		// (its top replica was full when its turn came), and one it keeps.
		in := base()
		var spill, keep string
		for _, nd := range fleet {
			top, got := Desired(nd.Node, all), assigned[nd.Node]
			if spill == "" && top != got {
				spill, in.Me = nd.Node, top
			}
		}
		if spill == "" {
			t.Fatal("no node of the fleet spilled: test fleet too small")
		}
		for _, nd := range fleet {
			if assigned[nd.Node] == in.Me {
				keep = nd.Node
				break
			}
		}
		in.Owners = []store.NodeOwner{{Node: spill, Replica: in.Me, Epoch: 7, OwnedFor: old},
			{Node: keep, Replica: in.Me, Epoch: 2, OwnedFor: old}}
		got := Plan(in)
		if len(got.HandOff) != 1 || got.HandOff[0] != (Move{Node: spill, Epoch: 7, To: assigned[spill]}) ||
			got.Owned[keep] != 2 {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("no moves to a replica still warming up", func(t *testing.T) {
		in := base()
		in.Members = []Member{live("a", old), live("b", old), live("c", time.Second)}
		in.Owners = []store.NodeOwner{{Node: want["c"], Replica: "a", Epoch: 1, OwnedFor: old}}
		got := Plan(in)
		if len(got.HandOff) == 1 && got.HandOff[0].To == "c" {
			t.Fatalf("moved to a cold replica: %+v", got)
		}
	})
	t.Run("draining hands everything over, busy and young too, beyond MaxMoves", func(t *testing.T) {
		in := base()
		in.Draining = true
		in.MaxMoves = 1
		in.Busy = map[string]bool{want["a"]: true}
		in.Owners = []store.NodeOwner{{Node: want["a"], Replica: "a", Epoch: 1}, {Node: want["b"], Replica: "a", Epoch: 1},
			{Node: want["c"], Replica: "a", Epoch: 4}}
		got := Plan(in)
		if len(got.HandOff) != 3 || len(got.Owned) != 0 {
			t.Fatalf("%+v", got)
		}
		for _, m := range got.HandOff {
			if m.To == "a" || m.To == "" {
				t.Fatalf("drain handed to %q", m.To)
			}
		}
	})
	t.Run("without its own row, neither claims nor hands over", func(t *testing.T) {
		in := base()
		in.Members = []Member{live("b", old), live("c", old)}
		in.Owners = []store.NodeOwner{{Node: want["a"]}, {Node: want["b"], Replica: "a", Epoch: 2, OwnedFor: old}}
		got := Plan(in)
		if len(got.Claim) != 0 || len(got.HandOff) != 0 || got.Owned[want["b"]] != 2 {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("withdraws a hand-off not taken in time", func(t *testing.T) {
		in := base()
		in.Owners = []store.NodeOwner{{Node: want["b"], Replica: "a", Epoch: 1, HandoffTo: "b"}}
		if got := Plan(in); len(got.Cancel) != 0 || got.Offered[want["b"]] != 1 {
			t.Fatalf("%+v", got)
		}
		in.Offered = map[string]int{want["b"]: FallbackScans}
		if got := Plan(in); len(got.Cancel) != 1 {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("scope: only replicas whose scope holds the node", func(t *testing.T) {
		in := base()
		a := live("a", old)
		a.ConductorGroup = "rack-1"
		b := live("b", old)
		b.ConductorGroup = "rack-2"
		in.Members = []Member{a, b}
		in.Owners = []store.NodeOwner{{Node: want["a"], ConductorGroup: "rack-2"}, {Node: want["b"], ConductorGroup: "Rack-1"}}
		got := Plan(in)
		if !slices.Equal(got.Claim, []string{want["b"]}) {
			t.Fatalf("claims: %+v", got.Claim)
		}
		// A node of a that moved to rack-2 goes to b at once (no residence), in K.
		in.Owners = []store.NodeOwner{{Node: want["a"], Replica: "a", Epoch: 5, ConductorGroup: "rack-2", OwnedFor: time.Second}}
		got = Plan(in)
		if len(got.HandOff) != 1 || got.HandOff[0].To != "b" || len(got.Owned) != 0 {
			t.Fatalf("scope move: %+v", got)
		}
		// With nobody to take it, a keeps it.
		in.Members = []Member{a}
		if got := Plan(in); len(got.HandOff) != 0 || got.Owned[want["a"]] != 5 {
			t.Fatalf("no taker: %+v", got)
		}
	})
}

func TestSkewedClock(t *testing.T) {
	c := NewSkewed(time.Hour, 2)
	a := c.Now()
	if d := time.Until(a); d < 59*time.Minute {
		t.Fatalf("offset: %v", d)
	}
	time.Sleep(50 * time.Millisecond)
	if d := c.Now().Sub(a); d < 100*time.Millisecond || d > 300*time.Millisecond {
		t.Fatalf("rate 2: 50 ms real read as %v", d)
	}
	start := time.Now()
	<-c.After(100 * time.Millisecond)
	if d := time.Since(start); d < 45*time.Millisecond || d > 90*time.Millisecond {
		t.Fatalf("After(100ms) at rate 2 took %v", d)
	}
}

// TestScoreIsFNV: Score is FNV-1a of node, NUL, replica, splitmix-finalized (the inline
// hash must not change any replica's choice from hash/fnv's).
func TestScoreIsFNV(t *testing.T) {
	for _, nd := range nodeIDs(50, 3) {
		h := fnv.New64a()
		h.Write([]byte(nd + "\x00ingot-1.example"))
		if got, want := Score(nd, "ingot-1.example"), mix(h.Sum64()); got != want {
			t.Fatalf("Score(%s) = %x, want %x", nd, got, want)
		}
	}
}

// BenchmarkPlan: one scan's plan of a replica owning its fifth of 100,000 nodes among 5.
func BenchmarkPlan(b *testing.B) {
	nodes := fleetOf(nodeIDs(100000, 9))
	members := membersOf("r1", "r2", "r3", "r4", "r5")
	a := Assign(nodes, members, time.Minute, "")
	var owners []store.NodeOwner
	for _, n := range nodes {
		if a[n.Node] == "r1" {
			owners = append(owners, store.NodeOwner{Node: n.Node, Replica: "r1", Epoch: 1, OwnedFor: time.Hour})
		}
	}
	in := Input{Me: "r1", Members: members, Owners: owners, Nodes: nodes, Warmup: time.Minute,
		Residence: time.Minute, MaxMoves: 50, Waiting: map[string]int{}, Offered: map[string]int{}}
	b.ReportAllocs()
	for b.Loop() {
		if got := Plan(in); len(got.HandOff) != 0 || len(got.Owned) != len(owners) {
			b.Fatalf("%d hand-offs, %d owned of %d", len(got.HandOff), len(got.Owned), len(owners))
		}
	}
}
