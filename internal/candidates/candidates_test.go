package candidates

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"ingot/internal/fleet"
	"ingot/internal/placement"
)

// Class and trait ids used by the tests.
const (
	vcpu  = 0
	mem   = 1
	disk  = 2
	vf    = 4
	gold  = 10000
	share = 1
	avx   = 2
	numa  = 3
)

type builder struct {
	ps   []*fleet.Provider
	byNm map[string]*fleet.Provider
}

func newBuilder() *builder { return &builder{byNm: map[string]*fleet.Provider{}} }

// add creates a provider named name under parent ("" for a root).
func (b *builder) add(name, parent string) *builder {
	b.provider(name, parent)
	return b
}

func (b *builder) provider(name, parent string) *fleet.Provider {
	id := int64(len(b.ps) + 1)
	p := &fleet.Provider{ID: id, UUID: name, Name: name, RootID: id}
	if parent != "" {
		pp := b.byNm[parent]
		p.ParentID, p.RootID = pp.ID, pp.RootID
	}
	b.ps = append(b.ps, p)
	b.byNm[name] = p
	return p
}

func (b *builder) inv(name string, class, total, used int64) *builder {
	p := b.byNm[name]
	p.Inventories = append(p.Inventories, fleet.Inventory{ClassID: class, Used: used, Inventory: placement.Inventory{
		Total: total, MinUnit: 1, MaxUnit: total, StepSize: 1, AllocationRatio: 1}})
	sort.Slice(p.Inventories, func(i, j int) bool { return p.Inventories[i].ClassID < p.Inventories[j].ClassID })
	return b
}

func (b *builder) traits(name string, ids ...int64) *builder {
	p := b.byNm[name]
	p.Traits = append(p.Traits, ids...)
	slices.Sort(p.Traits)
	return b
}

func (b *builder) aggs(name string, aggs ...string) *builder {
	p := b.byNm[name]
	p.Aggregates = append(p.Aggregates, aggs...)
	sort.Strings(p.Aggregates)
	return b
}

func (b *builder) view() *fleet.View {
	cat := &fleet.Catalog{
		ClassIDs:   map[string]int64{"VCPU": vcpu, "MEMORY_MB": mem, "DISK_GB": disk, "SRIOV_NET_VF": vf, "CUSTOM_GOLD": gold},
		ClassNames: map[int64]string{vcpu: "VCPU", mem: "MEMORY_MB", disk: "DISK_GB", vf: "SRIOV_NET_VF", gold: "CUSTOM_GOLD"},
		TraitIDs:   map[string]int64{fleet.ShareTrait: share, "HW_CPU_X86_AVX2": avx, "HW_NUMA_ROOT": numa},
		TraitNames: map[int64]string{share: fleet.ShareTrait, avx: "HW_CPU_X86_AVX2", numa: "HW_NUMA_ROOT"},
	}
	return fleet.New(1, cat, append([]*fleet.Provider(nil), b.ps...))
}

// describe renders candidates as sorted strings "p:CLASS=n,...|suffix=p+q;..." for
// comparison.
func describe(v *fleet.View, res Result) []string {
	var out []string
	for _, c := range res.Candidates {
		s := ""
		for i, a := range c.Allocs {
			if i > 0 {
				s += ","
			}
			s += fmt.Sprintf("%s:%s=%d", v.Slot(a.Slot).Name, v.ClassName(a.Class), a.N)
		}
		s += "|"
		for i, m := range c.Mappings {
			if i > 0 {
				s += ";"
			}
			s += m.Suffix + "="
			for k, sl := range m.Slots {
				if k > 0 {
					s += "+"
				}
				s += v.Slot(sl).Name
			}
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func names(v *fleet.View, slots []int32) []string {
	var out []string
	for _, s := range slots {
		out = append(out, v.Slot(s).Name)
	}
	sort.Strings(out)
	return out
}

func TestFlatFleetStopsAtLimit(t *testing.T) {
	b := newBuilder()
	for i := range 100 {
		n := fmt.Sprintf("n%03d", i)
		b.add(n, "")
		used := int64(0)
		if i%2 == 0 {
			used = 1 // half the fleet is taken
		}
		b.inv(n, gold, 1, used)
		if i%10 == 1 {
			b.traits(n, avx)
		}
	}
	v := b.view()
	req := Request{Groups: []Group{{Resources: []Amount{{gold, 1}}}}, NestedAware: true, Limit: 10}
	res := Find(v, req)
	if len(res.Candidates) != 10 || len(res.Summaries) != 10 {
		t.Fatalf("%d candidates, %d summaries; want 10, 10", len(res.Candidates), len(res.Summaries))
	}
	for _, c := range res.Candidates {
		if v.Slot(c.Allocs[0].Slot).Inventories[0].Used != 0 {
			t.Fatalf("candidate on a full provider: %s", v.Slot(c.Allocs[0].Slot).Name)
		}
	}
	req.Limit = 0
	req.Groups[0].Required = [][]int64{{avx}}
	if got := len(Find(v, req).Candidates); got != 10 {
		t.Fatalf("free providers with AVX2: %d; want 10", got)
	}
	req.Groups[0].Forbidden = []int64{avx}
	req.Groups[0].Required = nil
	if got := len(Find(v, req).Candidates); got != 40 {
		t.Fatalf("free providers without AVX2: %d; want 40", got)
	}
}

// sharedStorage is two compute nodes in one aggregate with a sharing disk provider; cn2
// also has local disk. cn1 has a NUMA child with VFs.
func sharedStorage() *fleet.View {
	b := newBuilder()
	b.add("cn1", "").inv("cn1", vcpu, 8, 0).inv("cn1", mem, 1024, 0).aggs("cn1", "agg")
	b.add("cn2", "").inv("cn2", vcpu, 8, 0).inv("cn2", mem, 1024, 0).inv("cn2", disk, 100, 0).aggs("cn2", "agg")
	b.add("ss", "").inv("ss", disk, 1000, 0).traits("ss", share).aggs("ss", "agg")
	b.add("numa1", "cn1").inv("numa1", vf, 2, 0).traits("numa1", numa)
	return b.view()
}

func TestSharingProviders(t *testing.T) {
	v := sharedStorage()
	res := Find(v, Request{Groups: []Group{{Resources: []Amount{{vcpu, 1}, {disk, 10}}}}, NestedAware: true})
	want := []string{
		"cn1:VCPU=1,ss:DISK_GB=10|=cn1+ss",
		"cn2:VCPU=1,cn2:DISK_GB=10|=cn2",
		"cn2:VCPU=1,ss:DISK_GB=10|=cn2+ss",
	}
	if got := describe(v, res); !slices.Equal(got, want) {
		t.Fatalf("candidates\n got %q\nwant %q", got, want)
	}
	// Whole trees are summarized from 1.29: numa1 comes with cn1.
	if got := names(v, res.Summaries); !slices.Equal(got, []string{"cn1", "cn2", "numa1", "ss"}) {
		t.Fatalf("summaries = %v", got)
	}
	// A disk-only request: the sharing provider's answer appears once, not once per tree.
	res = Find(v, Request{Groups: []Group{{Resources: []Amount{{disk, 10}}}}, NestedAware: true})
	if got := describe(v, res); !slices.Equal(got, []string{"cn2:DISK_GB=10|=cn2", "ss:DISK_GB=10|=ss"}) {
		t.Fatalf("disk only: %q", got)
	}
}

func TestNestedGroups(t *testing.T) {
	b := newBuilder()
	b.add("cn", "").inv("cn", vcpu, 4, 0)
	b.add("pf1", "cn").inv("pf1", vf, 1, 0)
	b.add("pf2", "cn").inv("pf2", vf, 1, 0)
	v := b.view()
	vfGroup := func(sfx string) Group { return Group{Suffix: sfx, Resources: []Amount{{vf, 1}}} }

	// Two VFs on distinct PFs (isolate): 2 candidates with the same allocations but
	// different mappings.
	res := Find(v, Request{Groups: []Group{vfGroup("1"), vfGroup("2")}, Isolate: true, NestedAware: true})
	want := []string{"pf1:SRIOV_NET_VF=1,pf2:SRIOV_NET_VF=1|1=pf1;2=pf2", "pf1:SRIOV_NET_VF=1,pf2:SRIOV_NET_VF=1|1=pf2;2=pf1"}
	if got := describe(v, res); !slices.Equal(got, want) {
		t.Fatalf("isolate: %q", got)
	}
	// group_policy=none: a PF has one VF, so both on one PF does not fit (summed capacity).
	res = Find(v, Request{Groups: []Group{vfGroup("1"), vfGroup("2")}, NestedAware: true})
	if got := describe(v, res); !slices.Equal(got, want) {
		t.Fatalf("none with capacity 1: %q", got)
	}
	// Before 1.29 a candidate may not use two providers of one tree.
	res = Find(v, Request{Groups: []Group{{Resources: []Amount{{vcpu, 1}, {vf, 1}}}}})
	if len(res.Candidates) != 0 {
		t.Fatalf("nested-unaware request got %q", describe(v, res))
	}
	res = Find(v, Request{Groups: []Group{{Resources: []Amount{{vcpu, 1}, {vf, 1}}}}, NestedAware: true})
	if got := describe(v, res); !slices.Equal(got, []string{"cn:VCPU=1,pf1:SRIOV_NET_VF=1|=cn+pf1", "cn:VCPU=1,pf2:SRIOV_NET_VF=1|=cn+pf2"}) {
		t.Fatalf("nested-aware: %q", got)
	}
}

func TestSameSubtreeAndRootRequired(t *testing.T) {
	b := newBuilder()
	b.add("cn", "").traits("cn", avx)
	b.add("numa0", "cn").inv("numa0", vcpu, 4, 0)
	b.add("numa1", "cn").inv("numa1", vcpu, 4, 0)
	b.add("pf0", "numa0").inv("pf0", vf, 4, 0)
	b.add("pf1", "numa1").inv("pf1", vf, 4, 0)
	v := b.view()
	req := Request{
		Groups:      []Group{{Suffix: "_C", Resources: []Amount{{vcpu, 1}}}, {Suffix: "_N", Resources: []Amount{{vf, 1}}}},
		SameSubtree: [][]string{{"_C", "_N"}},
		NestedAware: true,
	}
	res := Find(v, req)
	want := []string{"numa0:VCPU=1,pf0:SRIOV_NET_VF=1|_C=numa0;_N=pf0", "numa1:VCPU=1,pf1:SRIOV_NET_VF=1|_C=numa1;_N=pf1"}
	if got := describe(v, res); !slices.Equal(got, want) {
		t.Fatalf("same_subtree: %q", got)
	}
	req.RootForbidden = []int64{avx}
	if res := Find(v, req); len(res.Candidates) != 0 {
		t.Fatalf("root_required=!AVX2 kept %q", describe(v, res))
	}
	req.RootForbidden, req.RootRequired = nil, []int64{avx}
	if res := Find(v, req); len(res.Candidates) != 2 {
		t.Fatalf("root_required=AVX2: %q", describe(v, res))
	}
}

// TestWideTreeIsBounded asks 8 one-unit groups of a host with 8 one-unit devices, the
// shape of upstream bug 2126751 (8^8 products without pruning); with a cap the search
// returns at once.
func TestWideTreeIsBounded(t *testing.T) {
	b := newBuilder()
	b.add("cn", "")
	for i := range 8 {
		d := fmt.Sprintf("dev%d", i)
		b.add(d, "cn").inv(d, vf, 1, 0)
	}
	v := b.view()
	var groups []Group
	for i := range 8 {
		groups = append(groups, Group{Suffix: fmt.Sprint(i + 1), Resources: []Amount{{vf, 1}}})
	}
	res := Find(v, Request{Groups: groups, NestedAware: true, MaxCandidates: 1000})
	if len(res.Candidates) != 1000 {
		t.Fatalf("%d candidates; want the cap, 1000", len(res.Candidates))
	}
	for _, c := range res.Candidates {
		if len(c.Allocs) != 8 {
			t.Fatalf("candidate uses %d devices; want 8 distinct (each has 1 unit)", len(c.Allocs))
		}
	}
	// Ninth group: no way to fit, and the pruned search proves it quickly.
	groups = append(groups, Group{Suffix: "9", Resources: []Amount{{vf, 1}}})
	if res := Find(v, Request{Groups: groups, NestedAware: true}); len(res.Candidates) != 0 {
		t.Fatalf("9 one-unit groups on 8 devices: %d candidates", len(res.Candidates))
	}
}

func TestBreadthFirstSpreadsAcrossHosts(t *testing.T) {
	b := newBuilder()
	for h := range 3 {
		cn := fmt.Sprintf("cn%d", h)
		b.add(cn, "")
		for d := range 3 {
			pf := fmt.Sprintf("%s-pf%d", cn, d)
			b.add(pf, cn).inv(pf, vf, 1, 0)
		}
	}
	v := b.view()
	req := Request{Groups: []Group{{Suffix: "1", Resources: []Amount{{vf, 1}}}}, NestedAware: true, Limit: 3, BreadthFirst: true}
	hosts := map[string]bool{}
	for _, c := range Find(v, req).Candidates {
		hosts[v.Slot(v.RootSlot(c.Allocs[0].Slot)).Name] = true
	}
	if len(hosts) != 3 {
		t.Fatalf("breadth-first limit 3 used hosts %v; want all 3", hosts)
	}
	req.BreadthFirst = false
	hosts = map[string]bool{}
	for _, c := range Find(v, req).Candidates {
		hosts[v.Slot(v.RootSlot(c.Allocs[0].Slot)).Name] = true
	}
	if len(hosts) != 1 {
		t.Fatalf("depth-first limit 3 used hosts %v; want 1", hosts)
	}
}

func TestRandomSampleIsUniform(t *testing.T) {
	b := newBuilder()
	for i := range 10 {
		n := fmt.Sprintf("n%d", i)
		b.add(n, "").inv(n, gold, 1, 0)
	}
	v := b.view()
	r := rand.New(rand.NewPCG(1, 2))
	counts := map[string]int{}
	const rounds = 2000
	for range rounds {
		res := Find(v, Request{Groups: []Group{{Resources: []Amount{{gold, 1}}}}, NestedAware: true, Limit: 2, Random: r})
		if len(res.Candidates) != 2 {
			t.Fatalf("%d candidates; want 2", len(res.Candidates))
		}
		for _, c := range res.Candidates {
			counts[v.Slot(c.Allocs[0].Slot).Name]++
		}
	}
	for n, c := range counts {
		// Each provider is expected in 2/10 of the samples (400); allow a wide margin.
		if c < 300 || c > 500 {
			t.Fatalf("provider %s sampled %d times of %d; distribution %v", n, c, rounds, counts)
		}
	}
}

// TestStepBudget: same_subtree that no candidate meets, on a wide tree, is abandoned once
// the step budget is spent.
func TestStepBudget(t *testing.T) {
	b := newBuilder()
	b.add("cn", "")
	for i := range 2 {
		nm := fmt.Sprintf("numa%d", i)
		b.add(nm, "cn")
		for d := range 8 {
			dev := fmt.Sprintf("%s-dev%d", nm, d)
			b.add(dev, nm).inv(dev, vf, 1, 0)
		}
	}
	v := b.view()
	var groups []Group
	var sfx []string
	for i := range 9 { // 9 single-unit groups: fits 16 devices, but never under one NUMA node
		groups = append(groups, Group{Suffix: fmt.Sprint(i), Resources: []Amount{{vf, 1}}})
		sfx = append(sfx, fmt.Sprint(i))
	}
	res := Find(v, Request{Groups: groups, SameSubtree: [][]string{sfx}, NestedAware: true, MaxSteps: 100000})
	if len(res.Candidates) != 0 || !res.Truncated() {
		t.Fatalf("%d candidates, truncated %v; want 0 and a truncated search", len(res.Candidates), res.Truncated())
	}
}
