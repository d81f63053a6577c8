package deploy

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"ingot/internal/baremetal"
	"ingot/internal/fleet"
	"ingot/internal/ironic"
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
			in := ScheduleInput{View: testView(fleetNodes...), Request: tc.req, ProjectID: project,
				Excluded: tc.excluded, Tenancy: tc.tenancy, Weigher: tc.weigher}
			got, err := Schedule(in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			// The explanation agrees: as many nodes fit, and the removals add up.
			e := ExplainSchedule(in)
			if tc.wantErr {
				if e.Error != err.Error() {
					t.Errorf("explanation error %q, Schedule's %v", e.Error, err)
				}
				return
			}
			sum := e.Fit
			for _, st := range e.Steps {
				sum += st.Removed
			}
			if e.Fit != len(got) || e.Considered != len(fleetNodes) || sum != e.Considered {
				t.Errorf("explanation %s: %d fit, %d removed of %d; Schedule found %d", e, e.Fit, sum-e.Fit, e.Considered, len(got))
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

// TestExplainSchedule checks that every filter of Schedule removes exactly the nodes it
// should, each counted once, with the reason a node's inventory is reserved taken from
// the last listing of the nodes.
func TestExplainSchedule(t *testing.T) {
	gpuA := func(uuid string, n testNode) testNode {
		n.uuid, n.traits = uuid, append(n.traits, traitGPU)
		if n.aggs == nil {
			n.aggs = []string{rackA}
		}
		return n
	}
	v := testView(
		gpuA("fit1", testNode{class: classGold, aggs: []string{}}), // in no rack: outside member_of
		gpuA("fit2", testNode{class: classGold}),
		gpuA("silver", testNode{class: classSilver}),
		gpuA("bare", testNode{}),
		gpuA("taken", testNode{class: classGold, used: 1}),
		gpuA("maint", testNode{class: classGold, reserved: 1}),
		gpuA("cleaning", testNode{class: classGold, reserved: 1}),
		gpuA("powerless", testNode{class: classGold, reserved: 1}),
		gpuA("busy", testNode{class: classGold, reserved: 1}),
		gpuA("unlisted", testNode{class: classGold, reserved: 1}),
		testNode{uuid: "nogpu", class: classGold, aggs: []string{rackA}},
		gpuA("ssd", testNode{class: classGold, traits: []int64{traitSSD}}),
		gpuA("rackB", testNode{class: classGold, aggs: []string{rackB}}),
		gpuA("theirs", testNode{class: classGold}),
		gpuA("failed", testNode{class: classGold}),
		gpuA("child", testNode{class: classGold, parent: 1}), // under fit1
	)
	on := ironic.Node{PowerState: "power on", ProvisionState: ironic.ProvisionStateAvailable}
	with := func(f func(*ironic.Node)) ironic.Node { n := on; f(&n); return n }
	in := ScheduleInput{View: v, ProjectID: "p1",
		Request: baremetal.Request{ResourceClass: "gold", Required: []string{"CUSTOM_GPU"}, Forbidden: []string{"CUSTOM_SSD"},
			MemberOf: [][]string{{rackA, rackB}}},
		Excluded: []string{"failed"},
		Tenancy:  map[string]Tenancy{"theirs": {Owner: "p2"}},
		Nodes: map[string]ironic.Node{
			"maint":     with(func(n *ironic.Node) { n.Maintenance = true }),
			"cleaning":  with(func(n *ironic.Node) { n.ProvisionState = "cleaning" }),
			"powerless": with(func(n *ironic.Node) { n.PowerState = "" }),
			"busy":      with(func(n *ironic.Node) { n.InstanceUUID = "i-1" }),
		},
	}
	got, err := Schedule(in)
	if err != nil {
		t.Fatal(err)
	}
	e := ExplainSchedule(in)
	want := []ScheduleStep{
		{WhyClass, 2, []string{"silver", "bare"}},
		{WhyClaimed, 1, []string{"taken"}},
		{WhyMaint, 1, []string{"maint"}},
		{"provision state cleaning", 1, []string{"cleaning"}},
		{"power state unknown", 1, []string{"powerless"}},
		{WhyInstance, 1, []string{"busy"}},
		{WhyReserved, 1, []string{"unlisted"}},
		{WhyRequired, 1, []string{"nogpu"}},
		{WhyForbidden, 1, []string{"ssd"}},
		{WhyMemberOf, 1, []string{"fit1"}},
		{WhyNotNode, 1, []string{"child"}},
		{WhyExcluded, 1, []string{"failed"}},
		{WhyTenancy, 1, []string{"theirs"}},
	}
	if !slices.EqualFunc(e.Steps, want, func(a, b ScheduleStep) bool {
		return a.Why == b.Why && a.Removed == b.Removed && slices.Equal(a.Examples, b.Examples)
	}) {
		t.Errorf("steps\n got %+v\nwant %+v", e.Steps, want)
	}
	if e.Fit != len(got) || e.Fit != 2 || e.Considered != 16 {
		t.Errorf("fit %d of %d; Schedule found %v", e.Fit, e.Considered, got)
	}

	// Without member_of, fit1 fits too.
	in.Request.MemberOf = nil
	got, _ = Schedule(in)
	e = ExplainSchedule(in)
	if e.Fit != len(got) || e.Fit != 3 || len(e.Steps) != len(want)-1 {
		t.Errorf("explanation %s; Schedule found %v", e, got)
	}
	if s := e.String(); !strings.HasPrefix(s, "3 of 16 nodes fit: 2 without the resource class (silver, bare), 1 claimed (taken), ") {
		t.Errorf("String() = %s", s)
	}

	// Pinned to an unknown node: every node is not the pinned one.
	in.Request.Node = "nx"
	if e := ExplainSchedule(in); e.Fit != 0 || len(e.Steps) != 1 || e.Steps[0].Why != WhyPinned || e.Steps[0].Removed != 16 {
		t.Errorf("pinned to an unknown node: %s", e)
	}
	// Pinned to a node: every other tree is not the pinned one; the node's child is no node.
	in.Request.Node = "fit1"
	got, _ = Schedule(in)
	e = ExplainSchedule(in)
	if e.Fit != 1 || len(got) != 1 || len(e.Steps) != 2 || e.Steps[0].Why != WhyPinned || e.Steps[0].Removed != 14 ||
		e.Steps[1].Why != WhyNotNode {
		t.Errorf("pinned to fit1: %s", e)
	}
}
