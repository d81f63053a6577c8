package deploy

import (
	"math/rand/v2"
	"slices"
	"testing"

	"ingot/internal/baremetal"
	"ingot/internal/fleet"
	"ingot/internal/placement"
)

// Classes and traits of the test fleet.
const (
	classGold   = 10000
	classSilver = 10001
	traitGPU    = 20000
	traitSSD    = 20001
)

const (
	rackA = "aaaaaaaa-0000-0000-0000-000000000000"
	rackB = "bbbbbbbb-0000-0000-0000-000000000000"
)

type testNode struct {
	uuid     string
	class    int64
	used     int64
	reserved int64
	traits   []int64
	aggs     []string
	parent   int64
}

func testView(nodes ...testNode) *fleet.View {
	cat := &fleet.Catalog{
		ClassIDs:   map[string]int64{"CUSTOM_GOLD": classGold, "CUSTOM_SILVER": classSilver},
		ClassNames: map[int64]string{classGold: "CUSTOM_GOLD", classSilver: "CUSTOM_SILVER"},
		TraitIDs:   map[string]int64{"CUSTOM_GPU": traitGPU, "CUSTOM_SSD": traitSSD},
		TraitNames: map[int64]string{traitGPU: "CUSTOM_GPU", traitSSD: "CUSTOM_SSD"},
	}
	var ps []*fleet.Provider
	for i, n := range nodes {
		id := int64(i + 1)
		p := &fleet.Provider{ID: id, UUID: n.uuid, Name: n.uuid, RootID: id, ParentID: n.parent,
			Traits: slices.Sorted(slices.Values(n.traits)), Aggregates: slices.Sorted(slices.Values(n.aggs))}
		if n.parent != 0 {
			p.RootID = n.parent
		}
		if n.class != 0 {
			p.Inventories = []fleet.Inventory{{ClassID: n.class, Used: n.used, Inventory: placement.Inventory{
				Total: 1, Reserved: n.reserved, MinUnit: 1, MaxUnit: 1, StepSize: 1, AllocationRatio: 1}}}
		}
		ps = append(ps, p)
	}
	return fleet.New(1, cat, ps)
}

func TestSchedule(t *testing.T) {
	fleetNodes := []testNode{
		{uuid: "n1", class: classGold, aggs: []string{rackA}},
		{uuid: "n2", class: classGold, aggs: []string{rackA}, traits: []int64{traitGPU}},
		{uuid: "n3", class: classGold, aggs: []string{rackB}, traits: []int64{traitGPU, traitSSD}},
		{uuid: "n4", class: classGold, aggs: []string{rackB}, used: 1},     // taken
		{uuid: "n5", class: classGold, aggs: []string{rackA}, reserved: 1}, // cleaning
		{uuid: "n6", class: classSilver, aggs: []string{rackB}},
		{uuid: "n7", class: classGold},
	}
	tests := []struct {
		name     string
		req      baremetal.Request
		project  string
		excluded []string
		tenancy  map[string]Tenancy
		weigher  Weigher
		want     []string
		wantErr  bool
	}{
		{name: "spread: least loaded rack first (rack B has n4, rack A has n5)",
			req: baremetal.Request{ResourceClass: "gold"}, want: []string{"n7", "n1", "n2", "n3"}},
		{name: "pack: most loaded first", weigher: Weigher{Mode: Pack},
			req: baremetal.Request{ResourceClass: "gold"}, want: []string{"n1", "n2", "n3", "n7"}},
		{name: "racks named: nodes outside them are their own racks", weigher: Weigher{Mode: Pack, Racks: []string{rackB}},
			req: baremetal.Request{ResourceClass: "gold"}, want: []string{"n3", "n1", "n2", "n7"}},
		{name: "required trait", req: baremetal.Request{ResourceClass: "gold", Required: []string{"CUSTOM_GPU"}},
			want: []string{"n2", "n3"}},
		{name: "forbidden trait", req: baremetal.Request{ResourceClass: "gold", Required: []string{"CUSTOM_GPU"}, Forbidden: []string{"CUSTOM_SSD"}},
			want: []string{"n2"}},
		{name: "member_of", req: baremetal.Request{ResourceClass: "gold", MemberOf: [][]string{{rackB}}},
			want: []string{"n3"}},
		{name: "normalized class", req: baremetal.Request{ResourceClass: "Silver"}, want: []string{"n6"}},
		{name: "excluded", req: baremetal.Request{ResourceClass: "gold"}, excluded: []string{"n7", "n2"},
			want: []string{"n1", "n3"}},
		{name: "pinned", req: baremetal.Request{ResourceClass: "gold", Node: "n3"}, want: []string{"n3"}},
		{name: "pinned to a taken node", req: baremetal.Request{ResourceClass: "gold", Node: "n4"}, want: nil},
		{name: "pinned to an unknown node", req: baremetal.Request{ResourceClass: "gold", Node: "nx"}, want: nil},
		{name: "pinned to a node of another class", req: baremetal.Request{ResourceClass: "gold", Node: "n6"}, want: nil},
		{name: "owned and leased nodes", req: baremetal.Request{ResourceClass: "gold"}, project: "p1",
			tenancy: map[string]Tenancy{
				"n1": {Owner: "p2"},                // another project's
				"n2": {Owner: "p1"},                // ours
				"n3": {Owner: "p2", Lessee: "p1"},  // leased to us
				"n7": {Owner: "p1", Lessee: "p3"}}, // ours, leased to another
			want: []string{"n2", "n3"}},
		{name: "unknown class", req: baremetal.Request{ResourceClass: "bronze"}, wantErr: true},
		{name: "unknown trait", req: baremetal.Request{ResourceClass: "gold", Required: []string{"CUSTOM_NOPE"}}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			project := tc.project
			if project == "" {
				project = "p1"
			}
			got, err := Schedule(ScheduleInput{View: testView(fleetNodes...), Request: tc.req, ProjectID: project,
				Excluded: tc.excluded, Tenancy: tc.tenancy, Weigher: tc.weigher})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestScheduleShufflesTies(t *testing.T) {
	var nodes []testNode
	for _, u := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		nodes = append(nodes, testNode{uuid: u, class: classGold, aggs: []string{rackA}})
	}
	nodes = append(nodes, testNode{uuid: "z", class: classGold, aggs: []string{rackB}, used: 1},
		testNode{uuid: "y", class: classGold, aggs: []string{rackB}})
	v := testView(nodes...)
	firsts := map[string]bool{}
	for seed := range uint64(20) {
		got, err := Schedule(ScheduleInput{View: v, Request: baremetal.Request{ResourceClass: "gold"},
			ProjectID: "p", Rand: rand.New(rand.NewPCG(seed, 1))})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 9 || got[8] != "y" {
			t.Fatalf("seed %d: got %v, want the loaded rack's free node last", seed, got)
		}
		firsts[got[0]] = true
	}
	if len(firsts) < 3 {
		t.Errorf("20 shuffles put only %v first", firsts)
	}
}
