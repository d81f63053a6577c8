package candidates

import (
	"fmt"
	"math/rand/v2"
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

// BenchmarkExplodingTrees runs the shapes of upstream bugs 2070257 and 2126751, where
// Placement's candidate set explodes combinatorially, with the default step budget and a
// candidate cap of 1000 (what --max-allocation-candidates bounds).
func BenchmarkExplodingTrees(b *testing.B) {
	cases := []struct {
		name           string
		hosts, pfs     int
		vfsPerPF       int64
		groups, amount int
	}{
		// 2 computes x 8 PFs x 8 VFs, 6 groups of 1 VF: 524,288 valid candidates (bug 2070257).
		{"2070257-2x8x8-6groups", 2, 8, 8, 6, 1},
		// 8 one-unit devices, 8 groups (bug 2126751): 8! valid, 8^8 tries without pruning.
		{"2126751-1x8x1-8groups", 1, 8, 1, 8, 1},
		// 64 one-unit devices on each of 2 computes, 64 groups.
		{"2126751-2x64x1-64groups", 2, 64, 1, 64, 1},
	}
	for _, c := range cases {
		bl := newBuilder()
		for h := range c.hosts {
			cn := fmt.Sprintf("cn%d", h)
			bl.add(cn, "")
			for p := range c.pfs {
				pf := fmt.Sprintf("%s-pf%d", cn, p)
				bl.add(pf, cn).inv(pf, vf, c.vfsPerPF, 0)
			}
		}
		v := bl.view()
		var groups []Group
		for g := range c.groups {
			groups = append(groups, Group{Suffix: fmt.Sprint(g + 1), Resources: []Amount{{vf, int64(c.amount)}}})
		}
		b.Run(c.name, func(b *testing.B) {
			req := Request{Groups: groups, NestedAware: true, MaxCandidates: 1000, BreadthFirst: true}
			for b.Loop() {
				if got := len(Find(v, req).Candidates); got != 1000 {
					b.Fatalf("%d candidates", got)
				}
			}
		})
	}
}

// gateFleet is upstream's nested-perfload shape (gate/gabbits/nested-perfload.yaml): n trees
// of a root with DISK_GB and a trait, two NUMA nodes with VCPU and memory (numa1 with a custom
// trait), an FPGA and a VGPU under numa0 and two FPGAs under numa1.
func gateFleet(n int) (*builder, Request) {
	const (
		fpga    = 5
		vgpu    = 6
		multi   = 10
		foo     = 11
		cnTrait = multi
	)
	bl := newBuilder()
	for h := range n {
		cn := fmt.Sprintf("cn%d", h)
		bl.add(cn, "").inv(cn, disk, 20480, 0).traits(cn, cnTrait)
		n0, n1 := cn+"-numa0", cn+"-numa1"
		bl.add(n0, cn).inv(n0, vcpu, 4, 2).inv(n0, mem, 2048, 0).traits(n0, numa)
		bl.add(n0+"-fpga0", n0).inv(n0+"-fpga0", fpga, 1, 0)
		bl.add(n0+"-pgpu0", n0).inv(n0+"-pgpu0", vgpu, 8, 0)
		bl.add(n1, cn).inv(n1, vcpu, 4, 0).inv(n1, mem, 2048, 0).traits(n1, numa, foo)
		bl.add(n1+"-fpga1_0", n1).inv(n1+"-fpga1_0", fpga, 1, 0)
		bl.add(n1+"-fpga1_1", n1).inv(n1+"-fpga1_1", fpga, 1, 0)
	}
	req := Request{
		Groups: []Group{
			{Resources: []Amount{{disk, 10}}, Required: [][]int64{{cnTrait}}},
			{Suffix: "_COMPUTE", Resources: []Amount{{vcpu, 1}, {mem, 256}}, Required: [][]int64{{foo}}},
			{Suffix: "_FPGA", Resources: []Amount{{fpga, 1}}},
		},
		SameSubtree: [][]string{{"_COMPUTE", "_FPGA"}}, NestedAware: true, BreadthFirst: true,
		MaxCandidates: 100000,
	}
	return bl, req
}

// BenchmarkFindGate is the search of upstream's nested-perfload query at 1,000 trees: every
// candidate (2,000), randomized as the gate job runs it.
func BenchmarkFindGate(b *testing.B) {
	bl, req := gateFleet(1000)
	v := bl.view()
	req.Random = rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		if got := len(Find(v, req).Candidates); got != 2000 {
			b.Fatalf("%d candidates", got)
		}
	}
}
