package main

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
)

// Trait and class names the data sets use.
const (
	classGold      = "CUSTOM_BAREMETAL_GOLD"
	traitRAID      = "CUSTOM_BENCH_RAID"
	traitAVX2      = "HW_CPU_X86_AVX2"
	traitNUMAFast  = "CUSTOM_BENCH_NUMA_FAST"
	traitPhysnetA  = "CUSTOM_BENCH_PHYSNET_A"
	traitPhysnetB  = "CUSTOM_BENCH_PHYSNET_B"
	traitMultiAtt  = "COMPUTE_VOLUME_MULTI_ATTACH"
	traitNUMARoot  = "HW_NUMA_ROOT"
	traitSharing   = "MISC_SHARES_VIA_AGGREGATE"
	traitSRIOV     = "HW_NIC_SRIOV"
	datasetFlat    = "flat"
	datasetNested  = "nested"
	datasetWide    = "wide"
	datasetGate    = "gate"
	traitFoo       = "CUSTOM_FOO"
	classPCI       = "CUSTOM_BENCH_PCI"
	providersPerCN = 9 // nested: root, 2 NUMA nodes, 6 devices
)

// inventory is one resource class's inventory record as PUT /inventories takes it.
type inventory struct {
	Total      int     `json:"total"`
	Reserved   int     `json:"reserved,omitempty"`
	MinUnit    int     `json:"min_unit,omitempty"`
	MaxUnit    int     `json:"max_unit,omitempty"`
	StepSize   int     `json:"step_size,omitempty"`
	AllocRatio float64 `json:"allocation_ratio,omitempty"`
}

// provider is one resource provider to create, with everything set on it.
type provider struct {
	Name        string
	UUID        string
	ParentUUID  string
	Inventories map[string]inventory
	Traits      []string
	Aggregates  []string
}

// query is one named GET /allocation_candidates query string (without limit).
type query struct {
	Name string
	QS   string
}

// dataset is what one benchmark run builds and queries. Trees are created in order, each tree
// parent first; different trees are created concurrently.
type dataset struct {
	Kind          string
	CustomClasses []string
	CustomTraits  []string
	Aggregates    []string
	Trees         [][]provider
	Queries       []query // allocation candidates, limit appended per run
	ClaimQuery    string  // the scheduler's candidate query (limit appended)
	PutResources  map[string]int
	ListQueries   []query // GET /resource_providers query strings ("" = all)
}

// providerCount returns how many providers the data set has.
func (d *dataset) providerCount() int {
	n := 0
	for _, t := range d.Trees {
		n += len(t)
	}
	return n
}

// idGen derives stable UUIDs from a run id, so that a later run with the same run id (and
// -phases without create) addresses the same providers and aggregates.
type idGen struct{ runID string }

// uuid returns a version-4-shaped UUID derived from the run id and the parts.
func (g idGen) uuid(parts ...any) string {
	h := sha256.New()
	fmt.Fprint(h, g.runID)
	for _, p := range parts {
		fmt.Fprintf(h, "/%v", p)
	}
	b := h.Sum(nil)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// rackAggregates returns one aggregate UUID per rack.
func (g idGen) rackAggregates(racks int) []string {
	aggs := make([]string, racks)
	for i := range aggs {
		aggs[i] = g.uuid("rack", i)
	}
	return aggs
}

// rackTrait names the trait of rack r.
func rackTrait(r int) string { return fmt.Sprintf("CUSTOM_BENCH_RACK_R%02d", r) }

// buildDataset returns the named data set of size n (providers for flat, compute nodes for
// nested) spread over racks rack aggregates.
func buildDataset(kind string, n, racks int, runID string) (*dataset, error) {
	if n < 1 || racks < 1 {
		return nil, fmt.Errorf("data set size %d and racks %d must be positive", n, racks)
	}
	g := idGen{runID: runID}
	switch kind {
	case datasetFlat:
		return flatDataset(g, n, racks), nil
	case datasetNested:
		return nestedDataset(g, n, racks), nil
	case datasetWide:
		return wideDataset(g, n), nil
	case datasetGate:
		return gateDataset(g, n), nil
	}
	return nil, fmt.Errorf("unknown data set %q (want flat, nested, wide or gate)", kind)
}

// flatDataset is the Ironic-like fleet of ../shared/peers/placement/bench: n providers with
// one unit of CUSTOM_BAREMETAL_GOLD each, provider i in rack i%racks (aggregate and trait),
// every 2nd with HW_CPU_X86_AVX2 and every 10th with CUSTOM_BENCH_RAID.
func flatDataset(g idGen, n, racks int) *dataset {
	d := &dataset{
		Kind:          datasetFlat,
		CustomClasses: []string{classGold},
		Aggregates:    g.rackAggregates(racks),
		PutResources:  map[string]int{classGold: 1},
	}
	for r := range racks {
		d.CustomTraits = append(d.CustomTraits, rackTrait(r))
	}
	d.CustomTraits = append(d.CustomTraits, traitRAID)
	for i := range n {
		d.Trees = append(d.Trees, []provider{flatProvider(g, d.Aggregates, i)})
	}
	base := "resources=" + classGold + ":1"
	d.Queries = []query{
		{"plain", base},
		{"required_raid", base + "&required=" + traitRAID},
		{"required_avx2", base + "&required=" + traitAVX2},
		{"member_of_rack0", base + "&member_of=" + d.Aggregates[0]},
	}
	d.ClaimQuery = base
	d.ListQueries = []query{
		{"all", ""},
		{"resources", base},
		{"required_raid", "required=" + traitRAID},
		{"member_of_rack0", "member_of=" + d.Aggregates[0]},
	}
	return d
}

// flatProvider returns provider i of the flat fleet.
func flatProvider(g idGen, aggs []string, i int) provider {
	racks := len(aggs)
	traits := []string{rackTrait(i % racks)}
	if i%2 == 0 {
		traits = append(traits, traitAVX2)
	}
	if i%10 == 0 {
		traits = append(traits, traitRAID)
	}
	return provider{
		Name:        "bench-" + g.runID + "-" + fmt.Sprintf("%06d", i),
		UUID:        g.uuid("rp", i),
		Inventories: map[string]inventory{classGold: {Total: 1, MaxUnit: 1}},
		Traits:      traits,
		Aggregates:  []string{aggs[i%racks]},
	}
}

// nestedDataset is a libvirt-like cloud in the spirit of upstream's nested-perfload: n compute
// trees of 9 providers (a root in a rack aggregate; two NUMA nodes with VCPU and MEMORY_MB; per
// NUMA node an FPGA, a VGPU or second FPGA, and an SR-IOV PF with VFs), plus one DISK_GB
// provider per rack shared with the rack's trees through MISC_SHARES_VIA_AGGREGATE.
func nestedDataset(g idGen, n, racks int) *dataset {
	racks = min(racks, n)
	d := &dataset{
		Kind:         datasetNested,
		CustomTraits: []string{traitNUMAFast, traitPhysnetA, traitPhysnetB},
		Aggregates:   g.rackAggregates(racks),
		PutResources: map[string]int{"VCPU": 1, "MEMORY_MB": 256},
		ClaimQuery:   "resources=VCPU:1,MEMORY_MB:512,DISK_GB:10",
	}
	for i := range n {
		d.Trees = append(d.Trees, computeTree(g, d.Aggregates, i))
	}
	for r := range racks {
		d.Trees = append(d.Trees, []provider{sharingDisk(g, d.Aggregates[r], r)})
	}
	d.Queries = nestedQueries(d.Aggregates[0])
	d.ListQueries = []query{
		{"all", ""},
		{"resources", "resources=VCPU:1,MEMORY_MB:256"},
		{"member_of_rack0", "member_of=" + d.Aggregates[0]},
		{"in_tree_cn0", "in_tree=" + d.Trees[0][0].UUID},
	}
	return d
}

// nestedQueries returns the nested data set's allocation-candidate queries.
func nestedQueries(rack0 string) []query {
	const vm = "resources=VCPU:1,MEMORY_MB:512,DISK_GB:10"
	return []query{
		{"nested_plain", vm},
		{"nested_member_of_rack0", vm + "&member_of=" + rack0},
		// upstream nested-perfload's query: NUMA node with a trait plus an FPGA below it
		{"nested_same_subtree", "resources=DISK_GB:10&resources_COMPUTE=VCPU:1,MEMORY_MB:256" +
			"&required_COMPUTE=" + traitNUMAFast + "&resources_FPGA=FPGA:1" +
			"&group_policy=none&same_subtree=_COMPUTE,_FPGA"},
		{"nested_isolate_vfs", "resources=VCPU:2,MEMORY_MB:1024" +
			"&resources_VF1=SRIOV_NET_VF:1&resources_VF2=SRIOV_NET_VF:1&group_policy=isolate"},
		{"nested_root_required", "resources_GPU=VGPU:1&resources_ACC=FPGA:1&group_policy=isolate" +
			"&root_required=" + traitMultiAtt},
	}
}

// computeTree returns compute node i's providers, parents first.
func computeTree(g idGen, aggs []string, i int) []provider {
	name := "bench-" + g.runID + "-cn" + strconv.Itoa(i)
	id := func(part string) string { return g.uuid("cn", i, part) }
	var rootTraits []string
	if i%2 == 0 {
		rootTraits = []string{traitMultiAtt}
	}
	root := provider{Name: name, UUID: id("root"), Traits: rootTraits, Aggregates: []string{aggs[i%len(aggs)]}}
	numa := func(k int, traits ...string) provider {
		return provider{
			Name: fmt.Sprintf("%s-numa%d", name, k), UUID: id(fmt.Sprintf("numa%d", k)), ParentUUID: root.UUID,
			Inventories: map[string]inventory{
				"VCPU":      {Total: 16, MaxUnit: 16, AllocRatio: 4},
				"MEMORY_MB": {Total: 65536, MinUnit: 256, MaxUnit: 65536, StepSize: 256},
			},
			Traits: append([]string{traitNUMARoot}, traits...),
		}
	}
	dev := func(parent provider, suffix, class string, total int, traits ...string) provider {
		return provider{
			Name: parent.Name + "-" + suffix, UUID: id(suffix), ParentUUID: parent.UUID,
			Inventories: map[string]inventory{class: {Total: total, MaxUnit: total}},
			Traits:      traits,
		}
	}
	n0, n1 := numa(0), numa(1, traitNUMAFast)
	return []provider{
		root, n0, n1,
		dev(n0, "fpga0", "FPGA", 1),
		dev(n0, "vgpu0", "VGPU", 8),
		dev(n0, "pf0", "SRIOV_NET_VF", 8, traitSRIOV, traitPhysnetA),
		dev(n1, "fpga1", "FPGA", 1),
		dev(n1, "fpga2", "FPGA", 1),
		dev(n1, "pf1", "SRIOV_NET_VF", 8, traitSRIOV, traitPhysnetB),
	}
}

// sharingDisk returns the DISK_GB provider shared with rack r's trees.
func sharingDisk(g idGen, agg string, r int) provider {
	return provider{
		Name:        fmt.Sprintf("bench-%s-disk%d", g.runID, r),
		UUID:        g.uuid("disk", r),
		Inventories: map[string]inventory{"DISK_GB": {Total: 1 << 20, MaxUnit: 1 << 20}},
		Traits:      []string{traitSharing},
		Aggregates:  []string{agg},
	}
}

// wideDataset holds the tree shapes on which Placement's candidate set explodes
// combinatorially (upstream bugs 2070257 and 2126751, ../shared/docs/placement.md): n compute
// roots with 8 SR-IOV PFs of 8 VFs each, and n roots with 8 single-unit PCI devices. Asking
// for 6 VFs in 6 groups has 8^6 = 262,144 valid candidates per VF tree; asking for 8 devices
// in 8 groups has 8! = 40,320 valid ones per PCI tree among 8^8 = 16.7 million products. The
// data set has no claim, list or put phase.
func wideDataset(g idGen, n int) *dataset {
	d := &dataset{Kind: datasetWide, CustomClasses: []string{classPCI}}
	for i := range n {
		d.Trees = append(d.Trees, wideTree(g, "vf", i, "SRIOV_NET_VF", 8))
	}
	for i := range n {
		d.Trees = append(d.Trees, wideTree(g, "pci", i, classPCI, 1))
	}
	d.Queries = []query{
		{"wide_6vf_groups", groupsQuery("SRIOV_NET_VF", 6)},
		{"wide_8pci_groups", groupsQuery(classPCI, 8)},
	}
	return d
}

// wideTree returns a root with 8 children, each with total units of class.
func wideTree(g idGen, kind string, i int, class string, total int) []provider {
	name := fmt.Sprintf("bench-%s-%s%d", g.runID, kind, i)
	root := provider{Name: name, UUID: g.uuid(kind, i, "root")}
	tree := []provider{root}
	for c := range 8 {
		tree = append(tree, provider{
			Name: fmt.Sprintf("%s-dev%d", name, c), UUID: g.uuid(kind, i, "dev", c), ParentUUID: root.UUID,
			Inventories: map[string]inventory{class: {Total: total, MaxUnit: total}},
		})
	}
	return tree
}

// groupsQuery asks for one unit of class in each of k numbered request groups.
func groupsQuery(class string, k int) string {
	var b strings.Builder
	for i := 1; i <= k; i++ {
		fmt.Fprintf(&b, "resources%d=%s:1&", i, class)
	}
	return b.String() + "group_policy=none"
}

// gateQuery is upstream's nested-perfload query (gate/perfload-nested-runner.sh): DISK_GB on
// a root with COMPUTE_VOLUME_MULTI_ATTACH, VCPU and memory on a NUMA node with CUSTOM_FOO, and
// an FPGA in the same subtree as that NUMA node.
const gateQuery = "resources=DISK_GB:10&required=" + traitMultiAtt +
	"&resources_COMPUTE=VCPU:1,MEMORY_MB:256&required_COMPUTE=" + traitFoo +
	"&resources_FPGA=FPGA:1&group_policy=none&same_subtree=_COMPUTE,_FPGA"

// gateDataset is upstream's nested-perfload gate job (gate/gabbits/nested-perfload.yaml):
// n trees of 7 providers. The root has DISK_GB 20480 and COMPUTE_VOLUME_MULTI_ATTACH; numa0
// has VCPU 4 (2 reserved) and MEMORY_MB 2048 (min_unit 512, step_size 256) with an FPGA and
// a VGPU below it; numa1 has VCPU 4 and MEMORY_MB 2048 (min_unit 256, max_unit 1024) and
// CUSTOM_FOO, with two FPGAs below it. Its query has 2 candidates per tree, and the answer
// summarizes all 7 providers of every tree. It is measured by the check, gate and throughput
// phases (no limit; the servers randomize).
func gateDataset(g idGen, n int) *dataset {
	d := &dataset{Kind: datasetGate, CustomTraits: []string{traitFoo}}
	for i := range n {
		d.Trees = append(d.Trees, gateTree(g, i))
	}
	d.Queries = []query{{"gate", gateQuery}}
	return d
}

// gateTree returns tree i of the gate data set, parents first.
func gateTree(g idGen, i int) []provider {
	name := "bench-" + g.runID + "-gate" + strconv.Itoa(i)
	id := func(part string) string { return g.uuid("gate", i, part) }
	root := provider{Name: name, UUID: id("root"), Traits: []string{traitMultiAtt},
		Inventories: map[string]inventory{"DISK_GB": {Total: 20480}}}
	numa0 := provider{Name: name + "-numa0", UUID: id("numa0"), ParentUUID: root.UUID,
		Inventories: map[string]inventory{
			"VCPU":      {Total: 4, Reserved: 2},
			"MEMORY_MB": {Total: 2048, MinUnit: 512, StepSize: 256},
		},
		Traits: []string{traitNUMARoot}}
	numa1 := provider{Name: name + "-numa1", UUID: id("numa1"), ParentUUID: root.UUID,
		Inventories: map[string]inventory{
			"VCPU":      {Total: 4},
			"MEMORY_MB": {Total: 2048, MinUnit: 256, MaxUnit: 1024},
		},
		Traits: []string{traitNUMARoot, traitFoo}}
	dev := func(parent provider, suffix, class string, total int) provider {
		return provider{Name: name + "-" + suffix, UUID: id(suffix), ParentUUID: parent.UUID,
			Inventories: map[string]inventory{class: {Total: total}}}
	}
	return []provider{root, numa0, dev(numa0, "fpga0", "FPGA", 1), dev(numa0, "pgpu0", "VGPU", 8),
		numa1, dev(numa1, "fpga1_0", "FPGA", 1), dev(numa1, "fpga1_1", "FPGA", 1)}
}
