package replica

import (
	"fmt"
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

func live(id string, age time.Duration) Member {
	m := Member{Live: true, Age: age}
	m.ID = id
	return m
}

func TestPlan(t *testing.T) {
	const old = time.Hour
	all := []string{"a", "b", "c"}
	// A node each replica desires.
	want := map[string]string{}
	for _, nd := range nodeIDs(300, 42) {
		d := Desired(nd, all)
		if _, ok := want[d]; !ok {
			want[d] = nd
		}
	}
	if len(want) != 3 {
		t.Fatal("test fleet too small")
	}
	members := []Member{live("a", old), live("b", old), live("c", old)}
	base := func() Input {
		return Input{Me: "a", Members: members, Residence: time.Minute, Warmup: time.Minute, MaxMoves: 50,
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
		d := Desired(want["c"], []string{"a", "b"})
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
	if d := a.Sub(time.Now()); d < 59*time.Minute {
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
