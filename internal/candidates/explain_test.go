package candidates

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"ingot/internal/fleet"
)

// set changes the inventory of class on the named provider.
func (b *builder) set(name string, class int64, f func(*fleet.Inventory)) *builder {
	p := b.byNm[name]
	for i := range p.Inventories {
		if p.Inventories[i].ClassID == class {
			f(&p.Inventories[i])
		}
	}
	return b
}

// removed returns each step's removed count by name, and the eligible providers' names.
func removed(v *fleet.View, g GroupExplanation) (map[string]int, []string) {
	m := map[string]int{}
	for _, s := range g.Steps {
		m[s.Name] = s.Removed
	}
	return m, names(v, g.Eligible)
}

func stepNamed(t *testing.T, steps []Step, name string) Step {
	t.Helper()
	for _, s := range steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %s in %+v", name, steps)
	return Step{}
}

// TestExplainFilterCounts builds fleets where each filter removes a known number of
// providers and checks every count, the causes and the eligible providers.
func TestExplainFilterCounts(t *testing.T) {
	// A flat fleet: each provider fails exactly one filter of the suffixed group below
	// (gold:2, required AVX2, forbidden NUMA_ROOT, member_of a, not in bad).
	flat := func() *builder {
		b := newBuilder()
		b.add("novcpu1", "").inv("novcpu1", vcpu, 8, 0).aggs("novcpu1", "a")
		b.add("nothing", "")
		b.add("maxunit1", "").inv("maxunit1", gold, 4, 0).set("maxunit1", gold, func(i *fleet.Inventory) { i.MaxUnit = 1 }).traits("maxunit1", avx).aggs("maxunit1", "a")
		b.add("step3", "").inv("step3", gold, 6, 0).set("step3", gold, func(i *fleet.Inventory) { i.StepSize = 3 }).aggs("step3", "a")
		b.add("inuse", "").inv("inuse", gold, 2, 1).traits("inuse", avx).aggs("inuse", "a")
		b.add("reserved", "").inv("reserved", gold, 2, 0).set("reserved", gold, func(i *fleet.Inventory) { i.Reserved = 2 }).traits("reserved", avx).aggs("reserved", "a")
		for _, n := range []string{"noavx1", "noavx2", "noavx3"} {
			b.add(n, "").inv(n, gold, 2, 0).aggs(n, "a")
		}
		b.add("numa", "").inv("numa", gold, 2, 0).traits("numa", avx, numa).aggs("numa", "a")
		b.add("otheragg", "").inv("otheragg", gold, 2, 0).traits("otheragg", avx).aggs("otheragg", "b")
		b.add("noagg", "").inv("noagg", gold, 2, 0).traits("noagg", avx)
		b.add("badagg", "").inv("badagg", gold, 2, 0).traits("badagg", avx).aggs("badagg", "a", "bad")
		b.add("ok1", "").inv("ok1", gold, 2, 0).traits("ok1", avx).aggs("ok1", "a")
		b.add("ok2", "").inv("ok2", gold, 4, 2).traits("ok2", avx).aggs("ok2", "a")
		return b
	}
	group := Group{Suffix: "1", Resources: []Amount{{gold, 2}}, Required: [][]int64{{avx}}, Forbidden: []int64{numa},
		MemberOf: [][]string{{"a"}}, ForbiddenAggs: []string{"bad"}}

	// A nested fleet: cnA (AVX2) has a VCPU child and a memory child; cnB (no AVX2) the
	// same; cnC (AVX2) only a VCPU child.
	nested := func() *builder {
		b := newBuilder()
		b.add("cnA", "").traits("cnA", avx)
		b.add("A0", "cnA").inv("A0", vcpu, 4, 0)
		b.add("A1", "cnA").inv("A1", mem, 4, 0)
		b.add("cnB", "")
		b.add("B0", "cnB").inv("B0", vcpu, 4, 0)
		b.add("B1", "cnB").inv("B1", mem, 4, 0)
		b.add("cnC", "").traits("cnC", avx)
		b.add("C0", "cnC").inv("C0", vcpu, 4, 0)
		return b
	}

	cases := []struct {
		name     string
		fleet    func() *builder
		req      Request
		group    int
		want     map[string]int // removed per step; steps not named remove none
		by       map[string][]Count
		eligible []string
		trees    map[string]int // combination steps
		rejected map[string]int
	}{
		{
			name: "suffixed filters", fleet: flat, req: Request{Groups: []Group{group}, NestedAware: true},
			want: map[string]int{"resource_class": 2, "units": 2, "capacity": 2, "required_traits": 3,
				"forbidden_traits": 1, "member_of": 2, "forbidden_aggregates": 1},
			by: map[string][]Count{
				"resource_class":   {{"CUSTOM_GOLD", 2}},
				"capacity":         {{"CUSTOM_GOLD (in use)", 1}, {"CUSTOM_GOLD (reserved)", 1}},
				"required_traits":  {{"HW_CPU_X86_AVX2", 3}},
				"forbidden_traits": {{"!HW_NUMA_ROOT", 1}},
				"member_of":        {{"a", 2}},
			},
			eligible: []string{"ok1", "ok2"},
			trees:    map[string]int{"group_empty": 13},
		},
		{
			name: "limit leaves a kept provider out", fleet: flat, req: Request{Groups: []Group{group}, NestedAware: true, Limit: 1},
			want: map[string]int{"resource_class": 2, "units": 2, "capacity": 2, "required_traits": 3,
				"forbidden_traits": 1, "member_of": 2, "forbidden_aggregates": 1, "combination": 1},
			eligible: []string{"ok1"},
			trees:    map[string]int{"group_empty": 13},
		},
		{
			name: "unsuffixed: traits on the union", fleet: flat,
			req:      Request{Groups: []Group{{Resources: []Amount{{gold, 2}}, Required: [][]int64{{avx}}}}, NestedAware: true},
			want:     map[string]int{"resource_class": 2, "units": 2, "capacity": 2, "combination": 3},
			eligible: []string{"badagg", "noagg", "numa", "ok1", "ok2", "otheragg"},
			trees:    map[string]int{"group_empty": 6, "no_combination": 3},
			rejected: map[string]int{RejectRequiredTraits: 3},
		},
		{
			name: "root_required and an incomplete tree", fleet: nested,
			req:  Request{Groups: []Group{{Resources: []Amount{{vcpu, 1}, {mem, 1}}}}, RootRequired: []int64{avx}, NestedAware: true},
			want: map[string]int{"root_required": 3, "resource_class": 2, "tree_incomplete": 1},
			by: map[string][]Count{
				"root_required":   {{"HW_CPU_X86_AVX2", 3}},
				"resource_class":  {{"VCPU", 2}}, // the first class each lacks
				"tree_incomplete": {{"MEMORY_MB", 1}},
			},
			eligible: []string{"A0", "A1"},
			trees:    map[string]int{"root_required": 1, "group_empty": 1},
		},
		{
			name: "in_tree", fleet: nested,
			req:      Request{Groups: []Group{{Suffix: "x", Resources: []Amount{{vcpu, 1}}, InTree: "A1"}}, NestedAware: true},
			want:     map[string]int{"in_tree": 5, "resource_class": 2},
			eligible: []string{"A0"},
			trees:    map[string]int{"group_empty": 2},
		},
		{
			name: "in_tree names no provider", fleet: nested,
			req:   Request{Groups: []Group{{Resources: []Amount{{vcpu, 1}}, InTree: "nosuch"}}, NestedAware: true},
			want:  map[string]int{"in_tree": 8},
			trees: map[string]int{"group_empty": 3},
		},
		{
			name: "isolate", fleet: func() *builder {
				b := newBuilder()
				b.add("cn", "")
				b.add("pf", "cn").inv("pf", vf, 2, 0)
				return b
			},
			req: Request{Groups: []Group{{Suffix: "1", Resources: []Amount{{vf, 1}}}, {Suffix: "2", Resources: []Amount{{vf, 1}}}},
				Isolate: true, NestedAware: true},
			want:     map[string]int{"resource_class": 1, "combination": 1},
			trees:    map[string]int{"no_combination": 1},
			rejected: map[string]int{RejectIsolate: 1},
		},
		{
			name: "summed capacity", fleet: func() *builder {
				b := newBuilder()
				b.add("cn", "").inv("cn", vcpu, 4, 0)
				b.add("pf", "cn").inv("pf", vf, 1, 0)
				return b
			},
			req: Request{Groups: []Group{{Suffix: "1", Resources: []Amount{{vf, 1}}}, {Suffix: "2", Resources: []Amount{{vf, 1}}}, {Resources: []Amount{{vcpu, 1}}}},
				NestedAware: true},
			want:     map[string]int{"resource_class": 1, "combination": 1},
			trees:    map[string]int{"no_combination": 1},
			rejected: map[string]int{RejectCapacity: 1},
		},
		{
			name: "pre-1.29 trees", fleet: func() *builder {
				b := newBuilder()
				b.add("cn", "").inv("cn", vcpu, 4, 0)
				b.add("pf", "cn").inv("pf", vf, 1, 0)
				return b
			},
			req: Request{Groups: []Group{{Suffix: "1", Resources: []Amount{{vf, 1}}}, {Suffix: "2", Resources: []Amount{{vf, 1}}}, {Resources: []Amount{{vcpu, 1}}}},
				Isolate: false},
			group: 2, want: map[string]int{"resource_class": 1, "combination": 1},
			trees:    map[string]int{"no_combination": 1},
			rejected: map[string]int{RejectOneProviderPerTree: 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.fleet().view()
			e := Explain(v, tc.req)
			g := e.Groups[tc.group]
			got, eligible := removed(v, g)
			for name, n := range got {
				if n != tc.want[name] {
					t.Errorf("step %s removed %d, want %d (%+v)", name, n, tc.want[name], stepNamed(t, g.Steps, name).Examples)
				}
			}
			for name := range tc.want {
				stepNamed(t, g.Steps, name)
			}
			for name, want := range tc.by {
				if by := stepNamed(t, g.Steps, name).By; !slices.Equal(by, want) {
					t.Errorf("step %s by %v, want %v", name, by, want)
				}
			}
			if !slices.Equal(eligible, tc.eligible) {
				t.Errorf("eligible %v, want %v", eligible, tc.eligible)
			}
			for _, s := range e.Combination.Steps {
				if s.Removed != tc.trees[s.Name] {
					t.Errorf("combination step %s removed %d trees, want %d", s.Name, s.Removed, tc.trees[s.Name])
				}
			}
			rejected := map[string]int{}
			for _, r := range e.Combination.Rejected {
				rejected[r.Kind] = r.N
			}
			if len(rejected) != len(tc.rejected) {
				t.Errorf("rejected %v, want %v", rejected, tc.rejected)
			}
			for k, n := range tc.rejected {
				if rejected[k] != n {
					t.Errorf("rejected %s %d times, want %d", k, rejected[k], n)
				}
			}
			checkFunnel(t, v, tc.req, e)
		})
	}
}

// checkFunnel checks what every explanation must satisfy: each group considers every
// provider; each step considers what the step before kept; the removed providers and the
// eligible ones add up to the considered ones; removed counts match their slots and their
// causes; a group's eligible providers are exactly the ones it uses in Find's answer; the
// trees add up; Returned is the answer's size.
func checkFunnel(t *testing.T, v *fleet.View, req Request, e Explanation) {
	t.Helper()
	ans := Find(v, req)
	if e.Combination.Returned != len(ans.Candidates) {
		t.Fatalf("explanation returned %d candidates, Find %d", e.Combination.Returned, len(ans.Candidates))
	}
	for gi, g := range e.Groups {
		if g.Suffix != req.Groups[gi].Suffix || g.Considered != v.Len() {
			t.Fatalf("group %q considered %d of %d providers", g.Suffix, g.Considered, v.Len())
		}
		in := g.Considered
		seen := map[int32]bool{}
		for _, s := range g.Steps {
			if s.Considered != in || s.Removed != len(s.Slots) || s.Removed > in {
				t.Fatalf("group %q step %s: considered %d removed %d (%d slots); %d came in", g.Suffix, s.Name, s.Considered, s.Removed, len(s.Slots), in)
			}
			sum := 0
			for _, c := range s.By {
				sum += c.N
			}
			if s.Name != ReasonInTree.String() && s.Name != StepCombination && sum != s.Removed {
				t.Fatalf("group %q step %s: causes %v sum to %d, removed %d", g.Suffix, s.Name, s.By, sum, s.Removed)
			}
			for _, sl := range s.Slots {
				if seen[sl] {
					t.Fatalf("group %q: %s removed twice", g.Suffix, v.Slot(sl).Name)
				}
				seen[sl] = true
			}
			in -= s.Removed
		}
		if in != len(g.Eligible) {
			t.Fatalf("group %q: %d left after the steps, %d eligible", g.Suffix, in, len(g.Eligible))
		}
		var used []int32
		for _, c := range ans.Candidates {
			for _, m := range c.Mappings {
				if m.Suffix == g.Suffix {
					used = append(used, m.Slots...)
				}
			}
		}
		slices.Sort(used)
		used = slices.Compact(used)
		if !slices.Equal(used, g.Eligible) {
			t.Fatalf("group %q: eligible %v; Find's answer uses %v", g.Suffix, names(v, g.Eligible), names(v, used))
		}
		for _, sl := range g.Eligible {
			if seen[sl] {
				t.Fatalf("group %q: %s is both removed and eligible", g.Suffix, v.Slot(sl).Name)
			}
		}
	}
	c := e.Combination
	in := c.Trees
	for _, s := range c.Steps {
		if s.Considered != in || s.Removed != len(s.Slots) {
			t.Fatalf("combination step %s: considered %d removed %d (%d slots); %d came in", s.Name, s.Considered, s.Removed, len(s.Slots), in)
		}
		in -= s.Removed
	}
	if in != c.TreesWithCandidates || c.Trees != len(v.Roots()) {
		t.Fatalf("trees: %d left after the steps, %d with candidates, %d trees", in, c.TreesWithCandidates, c.Trees)
	}
	if c.Found < c.Returned || req.Limit == 0 && c.Stopped == "" && c.Found != c.Returned {
		t.Fatalf("found %d, returned %d (limit %d, stopped %q)", c.Found, c.Returned, req.Limit, c.Stopped)
	}
}

// withFilters adds, at random, the filters randomCase does not draw: root_required,
// in_tree, member_of and forbidden aggregates, required and forbidden traits.
func withFilters(seed uint64, v *fleet.View, req Request) Request {
	r := rand.New(rand.NewPCG(seed, 7))
	var uuids []string
	v.Providers(func(p *fleet.Provider) bool { uuids = append(uuids, p.UUID); return true })
	aggs := []string{"agg0", "agg1"}
	req.Groups = slices.Clone(req.Groups)
	for i := range req.Groups {
		g := &req.Groups[i]
		switch r.IntN(6) {
		case 0:
			g.InTree = uuids[r.IntN(len(uuids))]
		case 1:
			g.InTree = "nosuch"
		}
		if r.IntN(3) == 0 {
			g.MemberOf = [][]string{{aggs[r.IntN(2)]}}
		}
		if r.IntN(5) == 0 {
			g.ForbiddenAggs = []string{aggs[r.IntN(2)]}
		}
		if g.Suffix != "" && r.IntN(4) == 0 {
			g.Required = [][]int64{{avx, numa}}
		}
	}
	switch r.IntN(5) {
	case 0:
		req.RootRequired = []int64{avx}
	case 1:
		req.RootForbidden = []int64{avx}
	}
	if r.IntN(5) == 0 {
		req.MaxCandidates = 1 + r.IntN(3)
	}
	return req
}

// TestExplainMatchesFind checks, on random fleets and requests (randomCase's, with random
// filters added), that every explanation adds up (checkFunnel: a provider the explanation
// calls eligible is exactly one the answer uses); that the providers a suffixed group
// keeps are exactly those a direct check of its filters admits at some tree whose root
// passes root_required; and that for a one-group, one-class request without a limit (nor
// required traits on the unsuffixed group) every provider the group keeps is in the answer.
func TestExplainMatchesFind(t *testing.T) {
	for seed := range uint64(2000) {
		b, req := randomCase(seed)
		if len(req.Groups) == 0 {
			continue
		}
		v := b.view()
		req = withFilters(seed, v, req)
		e := Explain(v, req)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			checkFunnel(t, v, req, e)
		})
		if t.Failed() {
			return
		}
		for gi, g := range req.Groups {
			kept := keptSlots(e.Groups[gi])
			if g.Suffix != "" {
				if want := directlyKept(v, req, g); !slices.Equal(kept, want) {
					t.Fatalf("seed %d group %q keeps %v; its filters admit %v", seed, g.Suffix, names(v, kept), names(v, want))
				}
			}
			// (The unsuffixed group's required traits are met by its providers together, a
			// check of the combination.)
			if len(req.Groups) == 1 && len(g.Resources) == 1 && req.Limit == 0 && req.MaxCandidates == 0 &&
				(g.Suffix != "" || len(g.Required) == 0) {
				if !slices.Equal(kept, e.Groups[gi].Eligible) {
					t.Fatalf("seed %d: one group, one class: kept %v, eligible %v", seed, names(v, kept), names(v, e.Groups[gi].Eligible))
				}
			}
		}
	}
}

// keptSlots lists the providers that passed every filter of the group: the last step's
// considered ones, that is every provider not removed by an earlier step.
func keptSlots(g GroupExplanation) []int32 {
	out := slices.Clone(g.Eligible)
	out = append(out, g.Steps[len(g.Steps)-1].Slots...)
	slices.Sort(out)
	return out
}

// directlyKept checks a suffixed group's filters on every provider: it must meet them
// itself and be offered at some tree (its own, or one it shares with) whose root passes
// root_required.
func directlyKept(v *fleet.View, req Request, g Group) []int32 {
	rootOK := func(a int32) bool {
		p := v.Slot(a)
		for _, t := range req.RootRequired {
			if !p.HasTrait(t) {
				return false
			}
		}
		for _, t := range req.RootForbidden {
			if p.HasTrait(t) {
				return false
			}
		}
		return true
	}
	var out []int32
	for _, a := range v.Roots() {
		for _, sl := range v.Tree(a) {
			p := v.Slot(sl)
			if g.InTree != "" {
				t, ok := v.Provider(g.InTree)
				if !ok || t.RootID != p.RootID {
					continue
				}
			}
			ok := true
			for _, amt := range g.Resources {
				inv, has := p.Inventory(amt.Class)
				ok = ok && has && inv.Fits(inv.Used, amt.N)
			}
			if !ok || !fleet.MatchTraits(p, g.Required, g.Forbidden) || !fleet.MatchAggregates(p, g.MemberOf, g.ForbiddenAggs) {
				continue
			}
			anchors := []int32{a}
			if v.IsSharing(sl) {
				anchors = append(anchors, v.AnchorsOf(sl)...)
			}
			if slices.ContainsFunc(anchors, rootOK) {
				out = append(out, sl)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
