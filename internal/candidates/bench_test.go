package candidates

import (
	"fmt"
	"testing"
)

// flatFleet builds n one-unit bare-metal providers in 20 racks; a quarter are in use.
func flatFleet(n int) *builder {
	b := newBuilder()
	for i := range n {
		name := fmt.Sprintf("node-%05d", i)
		used := int64(0)
		if i%4 == 0 {
			used = 1
		}
		b.add(name, "").inv(name, gold, 1, used).aggs(name, fmt.Sprintf("rack%02d", i%20))
		if i%2 == 0 {
			b.traits(name, avx)
		}
	}
	return b
}

func BenchmarkFindFlat(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		v := flatFleet(n).view()
		for _, limit := range []int{10, 1000} {
			b.Run(fmt.Sprintf("n=%d/limit=%d", n, limit), func(b *testing.B) {
				req := Request{Groups: []Group{{Resources: []Amount{{gold, 1}}}}, NestedAware: true, Limit: limit, BreadthFirst: true}
				want := min(limit, n*3/4)
				for b.Loop() {
					if got := len(Find(v, req).Candidates); got != want {
						b.Fatalf("%d candidates; want %d", got, want)
					}
				}
			})
			b.Run(fmt.Sprintf("n=%d/limit=%d/required", n, limit), func(b *testing.B) {
				req := Request{Groups: []Group{{Resources: []Amount{{gold, 1}}, Required: [][]int64{{avx}}, MemberOf: [][]string{{"rack02", "rack06"}}}},
					NestedAware: true, Limit: limit, BreadthFirst: true}
				for b.Loop() {
					Find(v, req)
				}
			})
		}
	}
}

// BenchmarkFindNested: 1000 hosts, each with 2 NUMA nodes of 4 PFs with 8 VFs; the request
// asks for 2 VFs on distinct PFs of one NUMA node with CPUs, limit 1000.
func BenchmarkFindNested(b *testing.B) {
	bl := newBuilder()
	for h := range 1000 {
		cn := fmt.Sprintf("cn%d", h)
		bl.add(cn, "")
		for n := range 2 {
			nm := fmt.Sprintf("%s-numa%d", cn, n)
			bl.add(nm, cn).inv(nm, vcpu, 32, 0)
			for p := range 4 {
				pf := fmt.Sprintf("%s-pf%d", nm, p)
				bl.add(pf, nm).inv(pf, vf, 8, 0)
			}
		}
	}
	v := bl.view()
	req := Request{
		Groups: []Group{
			{Suffix: "_C", Resources: []Amount{{vcpu, 4}}},
			{Suffix: "_V1", Resources: []Amount{{vf, 1}}},
			{Suffix: "_V2", Resources: []Amount{{vf, 1}}},
		},
		Isolate: true, SameSubtree: [][]string{{"_C", "_V1", "_V2"}}, NestedAware: true, Limit: 1000, BreadthFirst: true,
	}
	for b.Loop() {
		if got := len(Find(v, req).Candidates); got != 1000 {
			b.Fatalf("%d candidates", got)
		}
	}
}
