package ui

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/fleet"
	"ingot/internal/ironic"
	"ingot/internal/reconcile"
	"ingot/internal/store"
)

// maxEvents bounds the recent changes a Handler keeps.
const maxEvents = 2000

// nodeRow is one Ironic node as the dashboard shows it: Ironic's state as the tracker last
// saw it (its listing, or its record for a node the listing no longer has), the tracker's
// state, and the node's provider's inventory of its class.
type nodeRow struct {
	UUID                 string `json:"uuid"`
	Name                 string `json:"name"`
	ResourceClass        string `json:"resource_class"` // as Ironic reports it
	Class                string `json:"class"`          // the provider's class (normalized)
	ProvisionState       string `json:"provision_state"`
	TargetProvisionState string `json:"target_provision_state,omitempty"`
	PowerState           string `json:"power_state"`
	Maintenance          bool   `json:"maintenance"`
	MaintenanceReason    string `json:"maintenance_reason,omitempty"`
	Fault                string `json:"fault,omitempty"`
	LastError            string `json:"last_error,omitempty"`
	Retired              bool   `json:"retired,omitempty"`
	InstanceUUID         string `json:"instance_uuid,omitempty"`
	ConductorGroup       string `json:"conductor_group,omitempty"`
	Owner                string `json:"owner,omitempty"`
	Shard                string `json:"shard,omitempty"`
	// Tracker is the tracker record's state, or "untracked".
	Tracker  string `json:"tracker"`
	Listed   bool   `json:"listed"` // in the tracker's last listing
	Provider bool   `json:"provider"`
	Total    int64  `json:"total"`
	Reserved int64  `json:"reserved"`
	Used     int64  `json:"used"`
	Traits   int    `json:"traits"`
	// Instance is the name of the ingot instance holding the node, if any.
	Instance string `json:"instance,omitempty"`
	// Problem says why the node needs attention ("" when it does not).
	Problem string    `json:"problem,omitempty"`
	Updated time.Time `json:"updated,omitzero"` // the tracker record's last write

	lowerName string
}

// failedStates are the provision states that end an operation in failure.
var failedStates = map[string]bool{
	"deploy failed": true, "clean failed": true, "inspect failed": true, "rescue failed": true,
	"unrescue failed": true, "adopt failed": true, "service failed": true, "error": true,
}

// cleaningStates are the provision states of a node being cleaned.
var cleaningStates = map[string]bool{"cleaning": true, "clean wait": true, "clean failed": true}

func (r *nodeRow) cleaning() bool { return cleaningStates[r.ProvisionState] }

// problem returns why the node needs attention.
func problem(r *nodeRow) string {
	switch {
	case r.Fault != "":
		return "fault: " + r.Fault
	case failedStates[r.ProvisionState]:
		return r.ProvisionState
	case r.PowerState == "error":
		return "power error"
	case r.LastError != "":
		return "last error"
	case r.Tracker == string(baremetal.NodeOrphaned):
		return "orphaned"
	}
	return ""
}

// classCapacity is one resource class's capacity over every provider, and the Ironic
// nodes of that class by availability.
type classCapacity struct {
	Class     string  `json:"class"`
	Providers int     `json:"providers"`
	Total     int64   `json:"total"`
	Reserved  int64   `json:"reserved"`
	Used      int64   `json:"used"`
	Capacity  float64 `json:"capacity"` // (total - reserved) * allocation ratio
	Free      float64 `json:"free"`     // capacity - used
	Nodes     int     `json:"nodes"`
	// Available nodes are unreserved and unused; Unavailable ones reserved and unused.
	Available   int `json:"available"`
	Allocated   int `json:"allocated"`
	Unavailable int `json:"unavailable"`
	Maintenance int `json:"maintenance"`
}

// count is one value of a facet and how many rows have it.
type count struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// nodeFacets counts the nodes by the values the filters offer.
type nodeFacets struct {
	Total           int     `json:"total"`
	Maintenance     int     `json:"maintenance"`
	Problems        int     `json:"problems"`
	Cleaning        int     `json:"cleaning"`
	Allocated       int     `json:"allocated"`
	ProvisionStates []count `json:"provision_states"`
	PowerStates     []count `json:"power_states"`
	Tracker         []count `json:"tracker"`
	ConductorGroups []count `json:"conductor_groups"`
	Owners          []count `json:"owners"`
	Classes         []count `json:"classes"`
}

// event is one change of a node seen between two snapshots.
type event struct {
	Time  time.Time `json:"time"`
	Node  string    `json:"node"`
	Name  string    `json:"name"`
	Field string    `json:"field"`
	From  string    `json:"from"`
	To    string    `json:"to"`
}

// inputs identify what a snapshot was built from.
type inputs struct {
	seq     int64
	records store.IronicNodesVersion
	listing int64 // reconcile.Listing.Pass
	insts   store.InstancesVersion
	pass    time.Time // the last pass's start
	passes  int
}

// snapshot is the fleet as of inputs; immutable once built.
type snapshot struct {
	in       inputs
	version  string
	built    time.Time
	view     *fleet.View
	records  []baremetal.NodeRecord
	recordOf map[string]*baremetal.NodeRecord
	listing  reconcile.Listing
	listed   map[string]*ironic.Node

	rows     []*nodeRow // by name, then UUID
	byUUID   map[string]*nodeRow
	facets   nodeFacets
	capacity []classCapacity
	events   []event // oldest first, at most maxEvents

	instances  []baremetal.Instance // live, by creation
	instByNode map[string]*baremetal.Instance
	instFacets instanceFacets
}

// instanceFacets counts the live instances.
type instanceFacets struct {
	Total  int     `json:"total"`
	Faults int     `json:"faults"`
	States []count `json:"states"`
	Tasks  []count `json:"tasks"`
}

// current returns a snapshot that reflects every change committed before the call:
// the last one when nothing changed (three small queries), else a new one.
func (h *Handler) current(ctx context.Context) (*snapshot, error) {
	view, err := h.db.View(ctx)
	if err != nil {
		return nil, err
	}
	in := inputs{seq: view.Seq}
	if in.records, err = h.db.IronicNodesVersion(ctx); err != nil {
		return nil, err
	}
	if in.insts, err = h.db.InstancesVersion(ctx); err != nil {
		return nil, err
	}
	var listing reconcile.Listing
	if h.tracker != nil {
		listing = h.tracker.LastListing()
		in.listing = listing.Pass
		if hist := h.tracker.History(); len(hist) > 0 {
			in.pass, in.passes = hist[len(hist)-1].Start, len(hist)
		}
	}
	if old := h.snap.Load(); old != nil && old.in == in {
		return old, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.snap.Load()
	if old != nil && old.in == in {
		return old, nil
	}
	s, err := h.build(ctx, old, in, view, listing)
	if err != nil {
		return nil, err
	}
	h.snap.Store(s)
	return s, nil
}

// build makes the snapshot of in, reusing what did not change since old.
func (h *Handler) build(ctx context.Context, old *snapshot, in inputs, view *fleet.View, listing reconcile.Listing) (*snapshot, error) {
	s := &snapshot{in: in, built: time.Now(), view: view, listing: listing}
	s.version = fmt.Sprintf("%d.%d.%d.%d.%d.%d", in.seq, in.records.GenerationSum+in.records.Count, in.listing,
		in.insts.GenerationSum+in.insts.Count, in.passes, in.pass.UnixNano())
	if old != nil && old.in.records == in.records {
		s.records, s.recordOf = old.records, old.recordOf
	} else {
		recs, err := h.db.IronicNodes(ctx)
		if err != nil {
			return nil, err
		}
		s.records, s.recordOf = recs, make(map[string]*baremetal.NodeRecord, len(recs))
		for i := range recs {
			s.recordOf[recs[i].NodeUUID] = &recs[i]
		}
	}
	if old != nil && old.in.listing == in.listing {
		s.listed = old.listed
	} else {
		s.listed = make(map[string]*ironic.Node, len(listing.Nodes))
		for i := range listing.Nodes {
			s.listed[listing.Nodes[i].UUID] = &listing.Nodes[i]
		}
	}
	if old != nil && old.in.insts == in.insts {
		s.instances, s.instByNode, s.instFacets = old.instances, old.instByNode, old.instFacets
	} else {
		insts, err := h.db.ListInstances(ctx, store.InstanceFilter{})
		if err != nil {
			return nil, err
		}
		s.instances = insts
		s.instByNode = map[string]*baremetal.Instance{}
		for i := range insts {
			if insts[i].Node != "" {
				s.instByNode[insts[i].Node] = &insts[i]
			}
		}
		s.instFacets = countInstances(insts)
	}
	if old != nil && old.in.seq == in.seq && old.in.records == in.records && old.in.listing == in.listing &&
		old.in.insts == in.insts {
		s.rows, s.byUUID, s.facets, s.capacity, s.events = old.rows, old.byUUID, old.facets, old.capacity, old.events
		return s, nil
	}
	s.buildRows()
	s.capacity = capacityOf(view, s.rows)
	s.facets = facetsOf(s.rows)
	if old != nil {
		s.events = appendEvents(old.events, old.byUUID, s.rows, s.built)
	}
	return s, nil
}

// buildRows merges the listing, the records, the view and the instances into rows.
func (s *snapshot) buildRows() {
	s.rows = make([]*nodeRow, 0, max(len(s.listed), len(s.records)))
	s.byUUID = make(map[string]*nodeRow, cap(s.rows))
	add := func(r *nodeRow) {
		if rec := s.recordOf[r.UUID]; rec != nil {
			r.Tracker, r.Updated = string(rec.State), rec.UpdatedAt
		} else {
			r.Tracker = "untracked"
		}
		provider := r.UUID
		if rec := s.recordOf[r.UUID]; rec != nil && rec.ProviderUUID != "" {
			provider = rec.ProviderUUID
		}
		if p, ok := s.view.Provider(provider); ok {
			r.Provider, r.Traits = true, len(p.Traits)
			if id, ok := s.view.ClassID(r.Class); ok {
				if inv, ok := p.Inventory(id); ok {
					r.Total, r.Reserved, r.Used = inv.Total, inv.Reserved, inv.Used
				}
			}
		}
		if in := s.instByNode[r.UUID]; in != nil {
			r.Instance = in.Name
			if r.Instance == "" {
				r.Instance = in.UUID
			}
		}
		r.Problem = problem(r)
		r.lowerName = strings.ToLower(r.Name)
		s.rows = append(s.rows, r)
		s.byUUID[r.UUID] = r
	}
	for i := range s.listing.Nodes {
		n := &s.listing.Nodes[i]
		add(&nodeRow{UUID: n.UUID, Name: n.Name, ResourceClass: n.ResourceClass, Class: reconcile.ResourceClass(n.ResourceClass),
			ProvisionState: n.ProvisionState, TargetProvisionState: n.TargetProvisionState, PowerState: n.PowerState,
			Maintenance: n.Maintenance, MaintenanceReason: n.MaintenanceReason, Fault: n.Fault, LastError: n.LastError,
			Retired: n.Retired, InstanceUUID: n.InstanceUUID, ConductorGroup: n.ConductorGroup, Owner: n.Owner,
			Shard: n.Shard, Listed: true})
	}
	for i := range s.records {
		rec := &s.records[i]
		if _, ok := s.byUUID[rec.NodeUUID]; ok {
			continue
		}
		add(&nodeRow{UUID: rec.NodeUUID, ResourceClass: rec.ResourceClass, Class: reconcile.ResourceClass(rec.ResourceClass),
			ProvisionState: rec.ProvisionState, PowerState: rec.PowerState, Maintenance: rec.Maintenance,
			InstanceUUID: rec.InstanceUUID, ConductorGroup: rec.ConductorGroup, Owner: rec.Owner, Shard: rec.Shard})
	}
	slices.SortFunc(s.rows, func(a, b *nodeRow) int {
		if c := cmp.Compare(a.lowerName, b.lowerName); c != 0 {
			return c
		}
		return cmp.Compare(a.UUID, b.UUID)
	})
}

// capacityOf sums every provider's inventories by class, and counts the nodes of each.
func capacityOf(v *fleet.View, rows []*nodeRow) []classCapacity {
	by := map[string]*classCapacity{}
	get := func(class string) *classCapacity {
		c := by[class]
		if c == nil {
			c = &classCapacity{Class: class}
			by[class] = c
		}
		return c
	}
	for id, t := range v.Totals() {
		c := get(v.ClassName(id))
		c.Providers += t.Providers
		c.Total += t.Total
		c.Reserved += t.Reserved
		c.Used += t.Used
		c.Capacity += t.Capacity
		c.Free += t.Capacity - float64(t.Used)
	}
	for _, r := range rows {
		if r.Class == "" || !r.Provider || r.Total == 0 {
			continue
		}
		c := get(r.Class)
		c.Nodes++
		switch {
		case r.Used > 0:
			c.Allocated++
		case r.Reserved >= r.Total:
			c.Unavailable++
		default:
			c.Available++
		}
		if r.Maintenance {
			c.Maintenance++
		}
	}
	out := make([]classCapacity, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b classCapacity) int {
		if c := cmp.Compare(b.Nodes, a.Nodes); c != 0 {
			return c
		}
		return cmp.Compare(a.Class, b.Class)
	})
	return out
}

// counter counts values, for facets.
type counter map[string]int

func (c counter) sorted() []count {
	out := make([]count, 0, len(c))
	for v, n := range c {
		out = append(out, count{v, n})
	}
	slices.SortFunc(out, func(a, b count) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Value, b.Value)
	})
	return out
}

func facetsOf(rows []*nodeRow) nodeFacets {
	f := nodeFacets{Total: len(rows)}
	prov, power, tracker, groups, owners, classes := counter{}, counter{}, counter{}, counter{}, counter{}, counter{}
	for _, r := range rows {
		if r.Maintenance {
			f.Maintenance++
		}
		if r.Problem != "" {
			f.Problems++
		}
		if r.cleaning() {
			f.Cleaning++
		}
		if r.Used > 0 {
			f.Allocated++
		}
		prov[r.ProvisionState]++
		power[r.PowerState]++
		tracker[r.Tracker]++
		groups[r.ConductorGroup]++
		owners[r.Owner]++
		classes[r.Class]++
	}
	f.ProvisionStates, f.PowerStates, f.Tracker = prov.sorted(), power.sorted(), tracker.sorted()
	f.ConductorGroups, f.Owners, f.Classes = groups.sorted(), owners.sorted(), classes.sorted()
	return f
}

func countInstances(insts []baremetal.Instance) instanceFacets {
	f := instanceFacets{Total: len(insts)}
	states, tasks := counter{}, counter{}
	for i := range insts {
		states[string(insts[i].State)]++
		if insts[i].Task != "" {
			tasks[string(insts[i].Task)]++
		}
		if insts[i].Fault != nil {
			f.Faults++
		}
	}
	f.States, f.Tasks = states.sorted(), tasks.sorted()
	return f
}

// appendEvents appends to events (a new slice; events is shared) the changes from the
// rows of before to rows, keeping the last maxEvents.
func appendEvents(events []event, before map[string]*nodeRow, rows []*nodeRow, at time.Time) []event {
	var added []event
	seen := make(map[string]bool, len(rows))
	for _, r := range rows {
		seen[r.UUID] = true
		o := before[r.UUID]
		if o == nil {
			if len(before) > 0 { // not the fleet's first appearance
				added = append(added, event{at, r.UUID, r.Name, "node", "", "appeared"})
			}
			continue
		}
		diff := func(field, from, to string) {
			if from != to {
				added = append(added, event{at, r.UUID, r.Name, field, from, to})
			}
		}
		diff("provision_state", o.ProvisionState, r.ProvisionState)
		diff("power_state", o.PowerState, r.PowerState)
		diff("maintenance", onOff(o.Maintenance), onOff(r.Maintenance))
		diff("tracker", o.Tracker, r.Tracker)
		diff("reserved", fmt.Sprint(o.Reserved), fmt.Sprint(r.Reserved))
		diff("used", fmt.Sprint(o.Used), fmt.Sprint(r.Used))
		diff("instance_uuid", o.InstanceUUID, r.InstanceUUID)
		diff("fault", o.Fault, r.Fault)
		diff("last_error", o.LastError, r.LastError)
	}
	for id, o := range before {
		if !seen[id] {
			added = append(added, event{at, id, o.Name, "node", "", "gone"})
		}
	}
	if len(added) == 0 {
		return events
	}
	if len(added) > maxEvents {
		added = added[len(added)-maxEvents:]
	}
	keep := max(0, len(events)+len(added)-maxEvents)
	out := make([]event, 0, len(events)-keep+len(added))
	out = append(out, events[keep:]...)
	return append(out, added...)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
