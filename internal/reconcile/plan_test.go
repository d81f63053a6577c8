package reconcile

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"ingot/internal/baremetal"
	"ingot/internal/fleet"
	"ingot/internal/ironic"
	"ingot/internal/placement"
	"ingot/internal/store"
)

const (
	n1 = "10000000-0000-4000-8000-000000000001"
	n2 = "20000000-0000-4000-8000-000000000002"
	n3 = "30000000-0000-4000-8000-000000000003"
)

// The catalogue of the test views.
const (
	classGold   = 10000
	classSilver = 10001
	traitRack1  = 1
	traitRack2  = 2
	traitOp     = 3
	traitAVX2   = 4
)

var testCatalog = &fleet.Catalog{
	ClassIDs:   map[string]int64{"VCPU": 0, "CUSTOM_GOLD": classGold, "CUSTOM_SILVER": classSilver},
	ClassNames: map[int64]string{0: "VCPU", classGold: "CUSTOM_GOLD", classSilver: "CUSTOM_SILVER"},
	TraitIDs:   map[string]int64{"CUSTOM_RACK_1": traitRack1, "CUSTOM_RACK_2": traitRack2, "CUSTOM_OP": traitOp, "HW_CPU_X86_AVX2": traitAVX2},
	TraitNames: map[int64]string{traitRack1: "CUSTOM_RACK_1", traitRack2: "CUSTOM_RACK_2", traitOp: "CUSTOM_OP", traitAVX2: "HW_CPU_X86_AVX2"},
}

func view(ps ...*fleet.Provider) *fleet.View { return fleet.New(1, testCatalog, ps) }

// prov is a provider with the node UUID as UUID and name.
func prov(id int64, uuid string, gen int64, invs []fleet.Inventory, traits []int64, aggs ...string) *fleet.Provider {
	return &fleet.Provider{ID: id, UUID: uuid, Name: uuid, Generation: gen, RootID: id,
		Inventories: invs, Traits: traits, Aggregates: aggs}
}

func inv(class int64, reserved, used int64) fleet.Inventory {
	return fleet.Inventory{ClassID: class, Inventory: Inventory(reserved == 1), Used: used}
}

// node is an available, powered-off gold node with modifications.
func node(uuid string, mod ...func(*ironic.Node)) ironic.Node {
	n := ironic.Node{UUID: uuid, ResourceClass: "gold", ProvisionState: "available", PowerState: "power off"}
	for _, m := range mod {
		m(&n)
	}
	return n
}

var allScope = Scope{}.String()

// rec is the record a pass leaves for node(uuid), with modifications.
func rec(uuid string, mod ...func(*baremetal.NodeRecord)) baremetal.NodeRecord {
	r := baremetal.NodeRecord{NodeUUID: uuid, ProviderUUID: uuid, Scope: allScope, State: baremetal.NodeManaged, Generation: 3,
		ResourceClass: "gold", ProvisionState: "available", PowerState: "power off"}
	for _, m := range mod {
		m(&r)
	}
	return r
}

// putRecord is the record write of node n (generation gen; 0 for a new record).
func putRecord(w store.NodeWrite, gen int64, n baremetal.NodeRecord) store.NodeWrite {
	n.Generation = 0
	w.Record, w.RecordGeneration, w.Node = store.RecordPut, gen, n
	return w
}

func gold(reserved bool) map[string]placement.Inventory {
	return map[string]placement.Inventory{"CUSTOM_GOLD": Inventory(reserved)}
}

func TestPlan(t *testing.T) {
	group := AggregateUUID(AggregateConductorGroup, "rack-a")
	owner := AggregateUUID(AggregateOwner, "p1")
	other := "99999999-0000-4000-8000-000000000009"
	for _, tc := range []struct {
		name    string
		scope   Scope
		nodes   []ironic.Node
		lookups map[string]Lookup
		records []baremetal.NodeRecord
		view    *fleet.View
		want    []Change
		warn    []bool // which changes carry a warning
	}{{
		name: "new node: create provider and record",
		nodes: []ironic.Node{node(n1, func(n *ironic.Node) {
			n.Traits = []string{"CUSTOM_RACK_1"}
			n.ConductorGroup = "rack-a"
			n.Owner = "p1"
		})},
		view: view(),
		want: []Change{{Action: ActionCreate, Write: putRecord(store.NodeWrite{
			NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderCreate, Name: n1,
			SetInventories: true, Inventories: gold(false),
			SetTraits: true, Traits: []string{"CUSTOM_RACK_1"},
			SetAggregates: true, Aggregates: sorted(group, owner),
		}, 0, rec(n1, func(r *baremetal.NodeRecord) {
			r.Traits, r.Aggregates, r.ConductorGroup, r.Owner = []string{"CUSTOM_RACK_1"}, sorted(group, owner), "rack-a", "p1"
		}))}},
	}, {
		name:    "unchanged node: nothing",
		nodes:   []ironic.Node{node(n1, func(n *ironic.Node) { n.Traits = []string{"CUSTOM_RACK_1"} })},
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) { r.Traits = []string{"CUSTOM_RACK_1"} })},
		view:    view(prov(1, n1, 5, []fleet.Inventory{inv(classGold, 0, 0)}, []int64{traitRack1})),
	}, {
		name:    "maintenance on: reserve",
		nodes:   []ironic.Node{node(n1, func(n *ironic.Node) { n.Maintenance = true })},
		records: []baremetal.NodeRecord{rec(n1)},
		view:    view(prov(1, n1, 5, []fleet.Inventory{inv(classGold, 0, 0)}, nil)),
		want: []Change{{Action: ActionUpdate, Write: putRecord(store.NodeWrite{
			NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderModify, Generation: 5,
			SetInventories: true, Inventories: gold(true),
		}, 3, rec(n1, func(r *baremetal.NodeRecord) { r.Maintenance = true }))}},
	}, {
		name:    "instance on an active node: reserved, allocations untouched",
		nodes:   []ironic.Node{node(n1, func(n *ironic.Node) { n.InstanceUUID = other; n.ProvisionState = "active"; n.PowerState = "power on" })},
		records: []baremetal.NodeRecord{rec(n1)},
		view:    view(prov(1, n1, 5, []fleet.Inventory{inv(classGold, 0, 1)}, nil)),
		want: []Change{{Action: ActionUpdate, Write: putRecord(store.NodeWrite{
			NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderModify, Generation: 5,
			SetInventories: true, Inventories: gold(true),
		}, 3, rec(n1, func(r *baremetal.NodeRecord) {
			r.InstanceUUID, r.ProvisionState, r.PowerState = other, "active", "power on"
		}))}},
	}, {
		name:    "provision state changes but reserved does not: record only",
		nodes:   []ironic.Node{node(n1, func(n *ironic.Node) { n.ProvisionState = "deploying" })},
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) { r.ProvisionState = "manageable" })},
		view:    view(prov(1, n1, 5, []fleet.Inventory{inv(classGold, 1, 0)}, nil)),
		want: []Change{{Action: ActionRecord, Write: putRecord(store.NodeWrite{NodeUUID: n1, ProviderUUID: n1},
			3, rec(n1, func(r *baremetal.NodeRecord) { r.ProvisionState = "deploying" }))}},
	}, {
		name:  "no resource class: provider without inventory, one warning",
		nodes: []ironic.Node{node(n1, func(n *ironic.Node) { n.ResourceClass = "" })},
		view:  view(),
		want: []Change{{Action: ActionCreate, Write: putRecord(store.NodeWrite{
			NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderCreate, Name: n1,
		}, 0, rec(n1, func(r *baremetal.NodeRecord) { r.ResourceClass = "" }))}},
		warn: []bool{true},
	}, {
		name:    "no resource class, already recorded: nothing, no warning",
		nodes:   []ironic.Node{node(n1, func(n *ironic.Node) { n.ResourceClass = "" })},
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) { r.ResourceClass = "" })},
		view:    view(prov(1, n1, 0, nil, nil)),
	}, {
		name:    "resource class set later: inventory appears",
		nodes:   []ironic.Node{node(n1)},
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) { r.ResourceClass = "" })},
		view:    view(prov(1, n1, 0, nil, nil)),
		want: []Change{{Action: ActionUpdate, Write: putRecord(store.NodeWrite{
			NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderModify, Generation: 0,
			SetInventories: true, Inventories: gold(false),
		}, 3, rec(n1))}},
	}, {
		name:    "resource class renamed, nothing allocated: class replaced",
		nodes:   []ironic.Node{node(n1, func(n *ironic.Node) { n.ResourceClass = "silver" })},
		records: []baremetal.NodeRecord{rec(n1)},
		view:    view(prov(1, n1, 2, []fleet.Inventory{inv(classGold, 0, 0)}, nil)),
		want: []Change{{Action: ActionUpdate, Write: putRecord(store.NodeWrite{
			NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderModify, Generation: 2,
			SetInventories: true, Inventories: map[string]placement.Inventory{"CUSTOM_SILVER": Inventory(false)},
		}, 3, rec(n1, func(r *baremetal.NodeRecord) { r.ResourceClass = "silver" }))}},
	}, {
		name:    "resource class renamed while allocated: old class stays reserved, change deferred",
		nodes:   []ironic.Node{node(n1, func(n *ironic.Node) { n.ResourceClass = "silver" })},
		records: []baremetal.NodeRecord{rec(n1)},
		view:    view(prov(1, n1, 2, []fleet.Inventory{inv(classGold, 0, 1)}, nil)),
		want: []Change{{Action: ActionUpdate, Write: putRecord(store.NodeWrite{
			NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderModify, Generation: 2,
			SetInventories: true, Inventories: gold(true),
		}, 3, rec(n1, func(r *baremetal.NodeRecord) { r.ResourceClass = "silver" }))}},
		warn: []bool{true},
	}, {
		name:    "deferred class change, next pass: nothing more",
		nodes:   []ironic.Node{node(n1, func(n *ironic.Node) { n.ResourceClass = "silver" })},
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) { r.ResourceClass = "silver" })},
		view:    view(prov(1, n1, 3, []fleet.Inventory{inv(classGold, 1, 1)}, nil)),
	}, {
		name:    "inventory drifted by hand: corrected, foreign class removed",
		nodes:   []ironic.Node{node(n1)},
		records: []baremetal.NodeRecord{rec(n1)},
		view: view(prov(1, n1, 7, []fleet.Inventory{{ClassID: 0, Inventory: placement.Inventory{Total: 8, MinUnit: 1, MaxUnit: 8, StepSize: 1, AllocationRatio: 1}},
			{ClassID: classGold, Inventory: placement.Inventory{Total: 4, MinUnit: 1, MaxUnit: 1, StepSize: 1, AllocationRatio: 2}}}, nil)),
		want: []Change{{Action: ActionUpdate, Write: store.NodeWrite{
			NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderModify, Generation: 7,
			SetInventories: true, Inventories: gold(false),
		}}},
	}, {
		name: "traits: the tracker's follow the node, others' stay",
		nodes: []ironic.Node{node(n1, func(n *ironic.Node) {
			n.Traits = []string{"CUSTOM_RACK_2", "HW_CPU_X86_AVX2"}
		})},
		// The tracker added RACK_1 and AVX2; the operator added OP.
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) { r.Traits = []string{"CUSTOM_RACK_1", "HW_CPU_X86_AVX2"} })},
		view:    view(prov(1, n1, 4, []fleet.Inventory{inv(classGold, 0, 0)}, []int64{traitRack1, traitOp, traitAVX2})),
		want: []Change{{Action: ActionUpdate, Write: putRecord(store.NodeWrite{
			NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderModify, Generation: 4,
			SetTraits: true, Traits: []string{"CUSTOM_OP", "CUSTOM_RACK_2", "HW_CPU_X86_AVX2"},
		}, 3, rec(n1, func(r *baremetal.NodeRecord) { r.Traits = []string{"CUSTOM_RACK_2", "HW_CPU_X86_AVX2"} }))}},
	}, {
		name:    "a trait the operator set before the node got it stays the operator's",
		nodes:   []ironic.Node{node(n1, func(n *ironic.Node) { n.Traits = []string{"CUSTOM_OP"} })},
		records: []baremetal.NodeRecord{rec(n1)},
		view:    view(prov(1, n1, 4, []fleet.Inventory{inv(classGold, 0, 0)}, []int64{traitOp})),
	}, {
		name:  "a trait Placement does not know is left out, with a warning",
		nodes: []ironic.Node{node(n1, func(n *ironic.Node) { n.Traits = []string{"HW_FUTURE", "CUSTOM_RACK_1"} })},
		view:  view(),
		want: []Change{{Action: ActionCreate, Write: putRecord(store.NodeWrite{
			NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderCreate, Name: n1,
			SetInventories: true, Inventories: gold(false), SetTraits: true, Traits: []string{"CUSTOM_RACK_1"},
		}, 0, rec(n1, func(r *baremetal.NodeRecord) { r.Traits = []string{"CUSTOM_RACK_1"} }))}},
		warn: []bool{true},
	}, {
		name:  "aggregates: owner changes, an operator's aggregate stays",
		nodes: []ironic.Node{node(n1, func(n *ironic.Node) { n.ConductorGroup = "rack-a" })},
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) {
			r.Owner, r.ConductorGroup, r.Aggregates = "p1", "rack-a", sorted(group, owner)
		})},
		view: view(prov(1, n1, 4, []fleet.Inventory{inv(classGold, 0, 0)}, nil, sorted(group, owner, other)...)),
		want: []Change{{Action: ActionUpdate, Write: putRecord(store.NodeWrite{
			NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderModify, Generation: 4,
			SetAggregates: true, Aggregates: sorted(group, other),
		}, 3, rec(n1, func(r *baremetal.NodeRecord) { r.ConductorGroup, r.Aggregates = "rack-a", []string{group} }))}},
	}, {
		name:    "provider deleted by hand: re-created with the same UUID",
		nodes:   []ironic.Node{node(n1, func(n *ironic.Node) { n.Traits = []string{"CUSTOM_RACK_1"} })},
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) { r.Traits = []string{"CUSTOM_RACK_1"} })},
		view:    view(),
		want: []Change{{Action: ActionCreate, Write: store.NodeWrite{
			NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderCreate, Name: n1,
			SetInventories: true, Inventories: gold(false), SetTraits: true, Traits: []string{"CUSTOM_RACK_1"},
		}}},
	}, {
		name:    "existing provider without a record: adopted",
		nodes:   []ironic.Node{node(n1)},
		view:    view(prov(1, n1, 1, []fleet.Inventory{inv(classGold, 0, 0)}, []int64{traitOp})),
		want:    []Change{{Action: ActionAdopt, Write: putRecord(store.NodeWrite{NodeUUID: n1, ProviderUUID: n1}, 0, rec(n1))}},
		records: nil,
	}, {
		name:    "missed by the listing, gone in Ironic: provider and record deleted",
		lookups: map[string]Lookup{n1: {Gone: true}},
		records: []baremetal.NodeRecord{rec(n1)},
		view:    view(prov(1, n1, 4, []fleet.Inventory{inv(classGold, 0, 0)}, nil)),
		want: []Change{{Action: ActionDelete, Write: store.NodeWrite{NodeUUID: n1, ProviderUUID: n1,
			Provider: store.ProviderDelete, Generation: 4, Record: store.RecordDelete, RecordGeneration: 3}}},
	}, {
		name:    "gone with allocations: kept, reserved, orphaned, reported",
		lookups: map[string]Lookup{n1: {Gone: true}},
		records: []baremetal.NodeRecord{rec(n1)},
		view:    view(prov(1, n1, 4, []fleet.Inventory{inv(classGold, 0, 1)}, nil)),
		want: []Change{{Action: ActionOrphan, Write: putRecord(store.NodeWrite{NodeUUID: n1, ProviderUUID: n1,
			Provider: store.ProviderModify, Generation: 4, SetInventories: true, Inventories: gold(true),
		}, 3, rec(n1, func(r *baremetal.NodeRecord) { r.State = baremetal.NodeOrphaned }))}},
		warn: []bool{true},
	}, {
		name:    "orphaned, still allocated: nothing (no lookup needed)",
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) { r.State = baremetal.NodeOrphaned })},
		view:    view(prov(1, n1, 5, []fleet.Inventory{inv(classGold, 1, 1)}, nil)),
	}, {
		name:    "orphaned, allocations gone: deleted",
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) { r.State = baremetal.NodeOrphaned })},
		view:    view(prov(1, n1, 6, []fleet.Inventory{inv(classGold, 1, 0)}, nil)),
		want: []Change{{Action: ActionDelete, Write: store.NodeWrite{NodeUUID: n1, ProviderUUID: n1,
			Provider: store.ProviderDelete, Generation: 6, Record: store.RecordDelete, RecordGeneration: 3}}},
	}, {
		name:    "gone, provider already deleted by hand: record forgotten",
		lookups: map[string]Lookup{n1: {Gone: true}},
		records: []baremetal.NodeRecord{rec(n1)},
		view:    view(),
		want: []Change{{Action: ActionDelete, Write: store.NodeWrite{NodeUUID: n1, ProviderUUID: n1,
			Record: store.RecordDelete, RecordGeneration: 3}}},
	}, {
		name:    "lookup failed: nothing",
		lookups: map[string]Lookup{n1: {Err: errors.New("503")}},
		records: []baremetal.NodeRecord{rec(n1)},
		view:    view(prov(1, n1, 4, []fleet.Inventory{inv(classGold, 0, 0)}, nil)),
	}, {
		name:    "no lookup made: nothing",
		records: []baremetal.NodeRecord{rec(n1)},
		view:    view(prov(1, n1, 4, []fleet.Inventory{inv(classGold, 0, 0)}, nil)),
	}, {
		name:    "missed by the listing but in scope: planned as listed",
		scope:   Scope{ConductorGroup: "rack-a"},
		lookups: map[string]Lookup{n1: {Node: node(n1, func(n *ironic.Node) { n.ConductorGroup = "rack-a"; n.Maintenance = true })}},
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) {
			r.Scope, r.ConductorGroup, r.Aggregates = Scope{ConductorGroup: "rack-a"}.String(), "rack-a", []string{group}
		})},
		view: view(prov(1, n1, 4, []fleet.Inventory{inv(classGold, 0, 0)}, nil, group)),
		want: []Change{{Action: ActionUpdate, Write: putRecord(store.NodeWrite{NodeUUID: n1, ProviderUUID: n1,
			Provider: store.ProviderModify, Generation: 4, SetInventories: true, Inventories: gold(true),
		}, 3, rec(n1, func(r *baremetal.NodeRecord) {
			r.Scope, r.ConductorGroup, r.Aggregates, r.Maintenance = Scope{ConductorGroup: "rack-a"}.String(), "rack-a", []string{group}, true
		}))}},
	}, {
		name:    "left the scope: withdrawn (reserved)",
		scope:   Scope{Shards: []string{"s1"}},
		lookups: map[string]Lookup{n1: {Node: node(n1, func(n *ironic.Node) { n.Shard = "s2" })}},
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) { r.Scope, r.Shard = Scope{Shards: []string{"s1"}}.String(), "s1" })},
		view:    view(prov(1, n1, 4, []fleet.Inventory{inv(classGold, 0, 0)}, nil)),
		want: []Change{{Action: ActionWithdraw, Write: putRecord(store.NodeWrite{NodeUUID: n1, ProviderUUID: n1,
			Provider: store.ProviderModify, Generation: 4, SetInventories: true, Inventories: gold(true),
		}, 3, rec(n1, func(r *baremetal.NodeRecord) {
			r.Scope, r.Shard, r.State = Scope{Shards: []string{"s1"}}.String(), "s2", baremetal.NodeWithdrawn
		}))}},
		warn: []bool{true},
	}, {
		name:    "withdrawn and still out of scope: released, provider left alone",
		scope:   Scope{Shards: []string{"s1"}},
		lookups: map[string]Lookup{n1: {Node: node(n1, func(n *ironic.Node) { n.Shard = "s2" })}},
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) {
			r.Scope, r.Shard, r.State = Scope{Shards: []string{"s1"}}.String(), "s2", baremetal.NodeWithdrawn
		})},
		view: view(prov(1, n1, 5, []fleet.Inventory{inv(classGold, 1, 0)}, nil)),
		want: []Change{{Action: ActionRelease, Write: putRecord(store.NodeWrite{NodeUUID: n1, ProviderUUID: n1}, 3,
			rec(n1, func(r *baremetal.NodeRecord) { r.Scope, r.Shard, r.State = "", "s2", baremetal.NodeReleased }))}},
	}, {
		name:  "listed with another scope's record: taken over, nothing else changes",
		scope: Scope{Shards: []string{"s2"}},
		nodes: []ironic.Node{node(n1, func(n *ironic.Node) { n.Shard = "s2"; n.Traits = []string{"CUSTOM_RACK_1"} })},
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) {
			r.Scope, r.Shard, r.Traits = Scope{Shards: []string{"s1"}}.String(), "s1", []string{"CUSTOM_RACK_1"}
		})},
		view: view(prov(1, n1, 5, []fleet.Inventory{inv(classGold, 0, 0)}, []int64{traitRack1})),
		want: []Change{{Action: ActionAdopt, Write: putRecord(store.NodeWrite{NodeUUID: n1, ProviderUUID: n1}, 3,
			rec(n1, func(r *baremetal.NodeRecord) {
				r.Scope, r.Shard, r.Traits = Scope{Shards: []string{"s2"}}.String(), "s2", []string{"CUSTOM_RACK_1"}
			}))}},
		warn: []bool{true},
	}, {
		name:  "another scope's and released records of unlisted nodes: ignored",
		scope: Scope{Shards: []string{"s2"}},
		records: []baremetal.NodeRecord{rec(n1, func(r *baremetal.NodeRecord) { r.Scope = "conductor_group=*;shard=s1" }),
			rec(n2, func(r *baremetal.NodeRecord) { r.Scope, r.State = "", baremetal.NodeReleased })},
		view: view(prov(1, n1, 5, nil, nil), prov(2, n2, 5, nil, nil)),
	}, {
		name:    "order: by provider id, creations last",
		nodes:   []ironic.Node{node(n1), node(n2, func(n *ironic.Node) { n.Maintenance = true }), node(n3, func(n *ironic.Node) { n.Maintenance = true })},
		records: []baremetal.NodeRecord{rec(n2), rec(n3)},
		view:    view(prov(9, n2, 1, []fleet.Inventory{inv(classGold, 0, 0)}, nil), prov(8, n3, 1, []fleet.Inventory{inv(classGold, 0, 0)}, nil)),
		want: []Change{
			{Action: ActionUpdate, Write: putRecord(store.NodeWrite{NodeUUID: n3, ProviderUUID: n3, Provider: store.ProviderModify, Generation: 1,
				SetInventories: true, Inventories: gold(true)}, 3, rec(n3, func(r *baremetal.NodeRecord) { r.Maintenance = true }))},
			{Action: ActionUpdate, Write: putRecord(store.NodeWrite{NodeUUID: n2, ProviderUUID: n2, Provider: store.ProviderModify, Generation: 1,
				SetInventories: true, Inventories: gold(true)}, 3, rec(n2, func(r *baremetal.NodeRecord) { r.Maintenance = true }))},
			{Action: ActionCreate, Write: putRecord(store.NodeWrite{NodeUUID: n1, ProviderUUID: n1, Provider: store.ProviderCreate, Name: n1,
				SetInventories: true, Inventories: gold(false)}, 0, rec(n1))},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := Plan(Input{Scope: tc.scope, Nodes: tc.nodes, Lookups: tc.lookups, Records: tc.records, View: tc.view})
			var warn []bool
			for i := range got {
				warn = append(warn, got[i].Warning != "")
				if got[i].Warning != "" {
					t.Logf("warning: %s", got[i].Warning)
				}
				got[i].Warning = ""
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Plan (-want +got):\n%s", diff)
			}
			wantWarn := tc.warn
			if wantWarn == nil {
				wantWarn = make([]bool, len(tc.want))
			}
			if !cmp.Equal(wantWarn, warn, cmpopts.EquateEmpty()) {
				t.Errorf("warnings = %v, want %v", warn, wantWarn)
			}
		})
	}
}

func sorted(xs ...string) []string {
	out := append([]string(nil), xs...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestPlanIsIdempotent(t *testing.T) {
	// Applying a plan's writes to the picture and planning again gives nothing: a pass over
	// an unchanged fleet writes nothing.
	nodes := []ironic.Node{
		node(n1, func(n *ironic.Node) {
			n.Traits = []string{"CUSTOM_RACK_1", "HW_CPU_X86_AVX2"}
			n.ConductorGroup = "rack-a"
		}),
		node(n2, func(n *ironic.Node) { n.Maintenance = true; n.Owner = "p1" }),
		node(n3, func(n *ironic.Node) { n.ResourceClass = "" }),
	}
	changes := Plan(Input{Nodes: nodes, View: view()})
	var ps []*fleet.Provider
	var recs []baremetal.NodeRecord
	for i, c := range changes {
		w := c.Write
		p := &fleet.Provider{ID: int64(i + 1), UUID: w.ProviderUUID, Name: w.Name}
		for class, iv := range w.Inventories {
			p.Inventories = append(p.Inventories, fleet.Inventory{ClassID: testCatalog.ClassIDs[class], Inventory: iv})
		}
		for _, tr := range w.Traits {
			p.Traits = append(p.Traits, testCatalog.TraitIDs[tr])
		}
		p.Aggregates = w.Aggregates
		ps = append(ps, p)
		r := w.Node
		r.Generation = 1
		recs = append(recs, r)
	}
	if again := Plan(Input{Nodes: nodes, Records: recs, View: view(ps...)}); len(again) != 0 {
		t.Errorf("second plan = %+v; want nothing", again)
	}
}

func TestNeedsLookup(t *testing.T) {
	s := Scope{ConductorGroup: "rack-a"}
	records := []baremetal.NodeRecord{
		rec(n1, func(r *baremetal.NodeRecord) { r.Scope = s.String() }),
		rec(n2, func(r *baremetal.NodeRecord) { r.Scope, r.State = s.String(), baremetal.NodeWithdrawn }),
		rec(n3, func(r *baremetal.NodeRecord) { r.Scope, r.State = s.String(), baremetal.NodeOrphaned }),
		rec("40000000-0000-4000-8000-000000000004", func(r *baremetal.NodeRecord) { r.Scope = "other" }),
		rec("50000000-0000-4000-8000-000000000005", func(r *baremetal.NodeRecord) { r.Scope = s.String() }),
	}
	got := NeedsLookup(s, []ironic.Node{node("50000000-0000-4000-8000-000000000005")}, records)
	if want := []string{n1, n2}; !cmp.Equal(got, want) {
		t.Errorf("NeedsLookup = %v, want %v", got, want)
	}
}

func TestResourceClass(t *testing.T) {
	for in, want := range map[string]string{
		"":               "",
		"baremetal-gold": "CUSTOM_BAREMETAL_GOLD",
		"gold":           "CUSTOM_GOLD",
		"GOLD":           "CUSTOM_GOLD",
		"a..b--c_d é":    "CUSTOM_A_B_C_D_", // as os_resource_classes.normalize_name
		"CUSTOM_X":       "CUSTOM_CUSTOM_X",
		"x1.large":       "CUSTOM_X1_LARGE",
	} {
		if got := ResourceClass(in); got != want {
			t.Errorf("ResourceClass(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReserved(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*ironic.Node)
		want bool
	}{
		{"available", func(*ironic.Node) {}, false},
		{"empty provision state counts as available", func(n *ironic.Node) { n.ProvisionState = "" }, false},
		{"maintenance", func(n *ironic.Node) { n.Maintenance = true }, true},
		{"power error", func(n *ironic.Node) { n.PowerState = "error" }, true},
		{"power unknown", func(n *ironic.Node) { n.PowerState = "" }, true},
		{"cleaning", func(n *ironic.Node) { n.ProvisionState = "cleaning" }, true},
		{"manageable", func(n *ironic.Node) { n.ProvisionState = "manageable" }, true},
		{"instance", func(n *ironic.Node) { n.InstanceUUID = n1 }, true},
	} {
		if got := Reserved(node(n1, tc.mod)); got != tc.want {
			t.Errorf("Reserved(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAggregateUUID(t *testing.T) {
	// Values from Python's uuid.uuid5(uuid.UUID(AggregateNamespace), name).
	for _, tc := range []struct{ kind, value, want string }{
		{AggregateConductorGroup, "rack-a", "ced4f091-1dfd-520d-9ef7-96dd26dbfd20"},
		{AggregateOwner, "p1", "d51fa06c-3ee3-5293-b783-084361ddbf48"},
	} {
		if got := AggregateUUID(tc.kind, tc.value); got != tc.want {
			t.Errorf("AggregateUUID(%s, %s) = %s, want %s", tc.kind, tc.value, got, tc.want)
		}
	}
	if got := uuid5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", "ingot:ironic-aggregates"); got != AggregateNamespace {
		t.Errorf("namespace = %s, want %s", got, AggregateNamespace)
	}
}

func TestScope(t *testing.T) {
	s := Scope{ConductorGroup: "Rack-A", Shards: []string{"s2", "s1", "s2"}}
	if got, want := s.String(), "conductor_group=rack-a;shard=s1,s2"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := (Scope{}).String(); got != "conductor_group=*;shard=*" {
		t.Errorf("zero String = %q", got)
	}
	for _, tc := range []struct {
		n    ironic.Node
		want bool
	}{
		{ironic.Node{ConductorGroup: "rack-a", Shard: "s1"}, true},
		{ironic.Node{ConductorGroup: "rack-b", Shard: "s1"}, false},
		{ironic.Node{ConductorGroup: "rack-a", Shard: "s3"}, false},
		{ironic.Node{ConductorGroup: "rack-a"}, false},
	} {
		if got := s.Contains(tc.n); got != tc.want {
			t.Errorf("Contains(%+v) = %v, want %v", tc.n, got, tc.want)
		}
	}
}
