package candidates

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"ingot/internal/fleet"
)

// randomCase builds a small random fleet (trees up to depth 3, some sharing providers) and
// a random request from seed.
func randomCase(seed uint64) (*builder, Request) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := newBuilder()
	classes := []int64{vcpu, mem, disk, vf}
	nRoots := 1 + r.IntN(4)
	var all []string
	for i := range nRoots {
		root := fmt.Sprintf("r%d", i)
		b.add(root, "").aggs(root, fmt.Sprintf("agg%d", r.IntN(2)))
		all = append(all, root)
		var level []string = []string{root}
		for depth := 0; depth < r.IntN(3); depth++ {
			var next []string
			for _, parent := range level {
				for k := range r.IntN(3) {
					c := fmt.Sprintf("%s.%d", parent, k)
					b.add(c, parent)
					next = append(next, c)
					all = append(all, c)
				}
			}
			level = next
		}
	}
	for i := range r.IntN(3) {
		sp := fmt.Sprintf("s%d", i)
		b.add(sp, "").traits(sp, share).aggs(sp, fmt.Sprintf("agg%d", r.IntN(2)))
		all = append(all, sp)
	}
	for _, n := range all {
		for _, c := range classes {
			if r.IntN(3) == 0 {
				total := int64(1 + r.IntN(4))
				b.inv(n, c, total, int64(r.IntN(int(total)+1)))
			}
		}
		if r.IntN(3) == 0 {
			b.traits(n, avx)
		}
	}
	req := Request{NestedAware: r.IntN(4) != 0, Isolate: r.IntN(2) == 0, Limit: r.IntN(5), BreadthFirst: r.IntN(2) == 0}
	if r.IntN(2) == 0 {
		g := Group{}
		for _, c := range classes {
			if r.IntN(3) == 0 {
				g.Resources = append(g.Resources, Amount{c, int64(1 + r.IntN(2))})
			}
		}
		if len(g.Resources) > 0 {
			if r.IntN(3) == 0 {
				g.Required = [][]int64{{avx}}
			}
			req.Groups = append(req.Groups, g)
		}
	}
	var suffixes []string
	for i := range r.IntN(4) {
		g := Group{Suffix: fmt.Sprintf("_%d", i), Resources: []Amount{{classes[r.IntN(len(classes))], 1}}}
		if r.IntN(4) == 0 {
			g.Forbidden = []int64{avx}
		}
		req.Groups = append(req.Groups, g)
		suffixes = append(suffixes, g.Suffix)
	}
	if len(suffixes) > 1 && r.IntN(2) == 0 {
		req.SameSubtree = [][]string{suffixes[:2]}
	}
	return b, req
}

// FuzzFindInvariants checks, on random fleets and requests, what every answer must
// satisfy: no provider over capacity or max_unit, isolation, same_subtree, the pre-1.29
// one-provider-per-tree rule, the limit, and no duplicates.
func FuzzFindInvariants(f *testing.F) {
	for s := range uint64(64) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		b, req := randomCase(seed)
		if len(req.Groups) == 0 {
			return
		}
		v := b.view()
		res := Find(v, req)
		if req.Limit > 0 && len(res.Candidates) > req.Limit {
			t.Fatalf("%d candidates over limit %d", len(res.Candidates), req.Limit)
		}
		seen := map[string]bool{}
		for _, d := range describe(v, res) {
			if seen[d] {
				t.Fatalf("duplicate candidate %s", d)
			}
			seen[d] = true
		}
		for _, c := range res.Candidates {
			for _, a := range c.Allocs {
				inv, ok := v.Slot(a.Slot).Inventory(a.Class)
				if !ok || a.N > inv.MaxUnit || inv.Used+a.N > inv.Capacity() {
					t.Fatalf("%s gets %d of class %d: inventory %+v", v.Slot(a.Slot).Name, a.N, a.Class, inv)
				}
			}
			bySuffix := map[string][]int32{}
			for _, m := range c.Mappings {
				bySuffix[m.Suffix] = m.Slots
			}
			if req.Isolate {
				var used []int32
				for _, m := range c.Mappings {
					if m.Suffix != "" {
						if slices.Contains(used, m.Slots[0]) {
							t.Fatalf("isolate broken: %v", c.Mappings)
						}
						used = append(used, m.Slots[0])
					}
				}
			}
			if !req.NestedAware && v.HasTrees() {
				roots := map[int32]int32{}
				for _, a := range c.Allocs {
					root := v.RootSlot(a.Slot)
					if other, ok := roots[root]; ok && other != a.Slot {
						t.Fatalf("pre-1.29 candidate uses two providers of one tree: %v", c.Allocs)
					}
					roots[root] = a.Slot
				}
			}
			s := &search{v: v}
			for _, set := range req.SameSubtree {
				var slots []int32
				for _, sfx := range set {
					slots = append(slots, bySuffix[sfx]...)
				}
				ok := false
				for _, top := range slots {
					all := true
					for _, o := range slots {
						all = all && s.isAncestorOrSelf(top, o)
					}
					ok = ok || all
				}
				if !ok {
					t.Fatalf("same_subtree %v broken by %v", set, c.Mappings)
				}
			}
		}
	})
}

// TestMemoMatchesFreshSearch checks, on random fleets and requests, that a randomized
// unlimited search reusing a Memo across successive views (usage or traits changed on random
// providers) finds exactly what a search without it finds.
func TestMemoMatchesFreshSearch(t *testing.T) {
	reused := 0
	for seed := range uint64(400) {
		b, req := randomCase(seed)
		if len(req.Groups) == 0 {
			continue
		}
		req.Limit = 0
		req.Random = rand.New(rand.NewPCG(seed, 1))
		memo := &Memo{}
		r := rand.New(rand.NewPCG(seed, 2))
		v := b.view()
		for step := range 4 {
			plain, memoized := req, req
			memoized.Memo = memo
			want := describe(v, Find(v, plain))
			got := describe(v, Find(v, memoized))
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d step %d: with memo %v\nwithout %v", seed, step, got, want)
			}
			if step > 0 && len(memo.anchors) > 0 {
				reused++
			}
			var changed []*fleet.Provider
			v.Providers(func(p *fleet.Provider) bool {
				if r.IntN(4) != 0 {
					return true
				}
				q := *p
				if len(q.Inventories) > 0 && r.IntN(2) == 0 {
					q.Inventories = slices.Clone(p.Inventories)
					i := r.IntN(len(q.Inventories))
					q.Inventories[i].Used = int64(r.IntN(int(q.Inventories[i].Total) + 1))
				} else if slices.Contains(p.Traits, avx) {
					q.Traits = slices.DeleteFunc(slices.Clone(p.Traits), func(t int64) bool { return t == avx })
				} else {
					q.Traits = append(slices.Clone(p.Traits), avx)
					slices.Sort(q.Traits)
				}
				changed = append(changed, &q)
				return true
			})
			v = v.With(v.Seq+1, nil, changed, nil)
		}
	}
	if reused < 50 {
		t.Errorf("the memo was used in only %d searches", reused)
	}
}
