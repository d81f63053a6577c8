package reconcile

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"ingot/internal/baremetal"
	"ingot/internal/fleet"
	"ingot/internal/ironic"
	"ingot/internal/placement"
	"ingot/internal/store"
)

// Scope is the part of Ironic a tracker manages: the nodes of one conductor group and of
// some shards. The zero Scope is every node.
type Scope struct {
	ConductorGroup string   // "" for every group; compared lowercased, as Ironic stores it
	Shards         []string // nil for every shard
}

// String names the scope in tracker records, such as "conductor_group=rack-a;shard=s1,s2"
// ("*" for no restriction). Two trackers with equal strings manage the same nodes.
func (s Scope) String() string {
	g := "*"
	if s.ConductorGroup != "" {
		g = strings.ToLower(s.ConductorGroup)
	}
	sh := "*"
	if len(s.Shards) > 0 {
		x := slices.Clone(s.Shards)
		slices.Sort(x)
		sh = strings.Join(slices.Compact(x), ",")
	}
	return "conductor_group=" + g + ";shard=" + sh
}

// Contains reports whether the node is in the scope.
func (s Scope) Contains(n ironic.Node) bool {
	if s.ConductorGroup != "" && !strings.EqualFold(n.ConductorGroup, s.ConductorGroup) {
		return false
	}
	return len(s.Shards) == 0 || slices.Contains(s.Shards, n.Shard)
}

// Lookup is the result of a direct GET of a node that a listing did not return.
type Lookup struct {
	Node ironic.Node // the node, when it exists
	Gone bool        // Ironic answered 404: the node was deleted
	Err  error       // any other failure: the node is left alone this pass
}

// Input is everything Plan decides from.
type Input struct {
	// Scope is the tracker's scope.
	Scope Scope
	// Nodes is one complete listing of the scope.
	Nodes []ironic.Node
	// Lookups holds the direct GETs of the nodes NeedsLookup named.
	Lookups map[string]Lookup
	// Records are the tracker records (of every scope).
	Records []baremetal.NodeRecord
	// View is the providers and the class and trait catalogue.
	View *fleet.View
}

// Action says what a Change does, for logs and counts.
type Action string

// Actions.
const (
	ActionCreate   Action = "create"   // create the node's provider (new node, or provider deleted by hand)
	ActionAdopt    Action = "adopt"    // take over a provider with no record of this scope
	ActionUpdate   Action = "update"   // correct the provider (node changed, or drift)
	ActionRecord   Action = "record"   // only the tracker's record changes
	ActionWithdraw Action = "withdraw" // the node left the scope: reserve its provider
	ActionRelease  Action = "release"  // forget a withdrawn node (the provider stays)
	ActionOrphan   Action = "orphan"   // the node is gone but allocated: keep the provider reserved
	ActionDelete   Action = "delete"   // the node is gone: delete the provider and the record
)

// Change is one node's planned write. Its maps and slices may be shared with other
// changes and with Plan's input: they must not be modified.
type Change struct {
	Action Action
	Write  store.NodeWrite
	// Warning, when set, is logged once when the change is applied: something the
	// operator should know (a node without resource class, a deferred class change, ...).
	Warning string
}

// NeedsLookup returns, sorted, the nodes that the tracker manages in this scope (managed
// or withdrawn records) and that the listing did not return. Each needs a direct GET
// before Plan: a node missing from a listing is never taken for deleted.
func NeedsLookup(scope Scope, nodes []ironic.Node, records []baremetal.NodeRecord) []string {
	listed := make(map[string]struct{}, len(nodes))
	for _, n := range nodes {
		listed[n.UUID] = struct{}{}
	}
	s := scope.String()
	var out []string
	for _, r := range records {
		if r.Scope != s || (r.State != baremetal.NodeManaged && r.State != baremetal.NodeWithdrawn) {
			continue
		}
		if _, ok := listed[r.NodeUUID]; !ok {
			out = append(out, r.NodeUUID)
		}
	}
	slices.Sort(out)
	return out
}

// Plan compares what Ironic says (the listing and lookups) with the providers and the
// tracker's records and returns the writes that make them agree, one Change per node that
// needs one, ordered by provider id (new providers last). It does no I/O. The rules:
//
//   - A listed node gets a provider with its UUID as UUID and name, one inventory of its
//     normalized resource class (none without a class), reserved when Reserved(node) (or
//     withdrawn), its traits and its conductor group and owner aggregates. Traits and
//     aggregates the provider has from others are kept: the tracker removes only those
//     its record says it added. A listed node whose record belongs to another scope is
//     taken over.
//   - An inventory class with allocations is never removed: it stays, reserved, and a
//     change of the node's resource class waits until the allocations are gone.
//   - A managed node the listing missed is judged by its lookup: gone (404) means its
//     provider is deleted, or kept reserved as orphaned while allocations remain;
//     present in scope means it is planned as if listed; present out of scope means it
//     is withdrawn (reserved), then released on a later pass; a failed lookup changes
//     nothing.
//   - Every write is conditional on the provider generation and record generation the
//     plan saw, so a plan made from a stale picture fails instead of doing harm.
func Plan(in Input) []Change {
	p := planner{in: in, scope: in.Scope.String(), records: make(map[string]*baremetal.NodeRecord, len(in.Records)),
		aggs: map[[2]string][]string{}, invs: map[invKey]map[string]placement.Inventory{}}
	for i := range in.Records {
		p.records[in.Records[i].NodeUUID] = &in.Records[i]
	}
	listed := make(map[string]struct{}, len(in.Nodes))
	var out []Change
	for _, n := range in.Nodes {
		if _, dup := listed[n.UUID]; dup || n.UUID == "" {
			continue
		}
		listed[n.UUID] = struct{}{}
		if c, ok := p.node(n, p.records[n.UUID], false); ok {
			out = append(out, c)
		}
	}
	for i := range in.Records {
		r := &in.Records[i]
		if _, ok := listed[r.NodeUUID]; ok || r.Scope != p.scope {
			continue
		}
		if c, ok := p.missing(r); ok {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b Change) int {
		return cmp.Or(cmp.Compare(p.order(a), p.order(b)), strings.Compare(a.Write.NodeUUID, b.Write.NodeUUID))
	})
	return out
}

type planner struct {
	in      Input
	scope   string
	records map[string]*baremetal.NodeRecord
	aggs    map[[2]string][]string // Aggregates by (conductor group, owner)
	invs    map[invKey]map[string]placement.Inventory
}

type invKey struct {
	class    string
	reserved bool
}

// inventory returns the one-class inventory map of a new provider, shared by every node
// with the same class and reserved value (writes are read-only; a first pass over 10,000
// nodes would otherwise hold 10,000 maps).
func (p *planner) inventory(class string, reserved bool) map[string]placement.Inventory {
	k := invKey{class, reserved}
	m, ok := p.invs[k]
	if !ok {
		m = map[string]placement.Inventory{class: Inventory(reserved)}
		p.invs[k] = m
	}
	return m
}

// aggregates is Aggregates(n), computed once per (conductor group, owner) pair: a pass
// over 10,000 nodes would otherwise hash 20,000 names.
func (p *planner) aggregates(n ironic.Node) []string {
	k := [2]string{n.ConductorGroup, n.Owner}
	if a, ok := p.aggs[k]; ok {
		return a
	}
	a := Aggregates(n)
	p.aggs[k] = a
	return a
}

// order sorts writes to existing providers by provider id, so concurrent writers that
// lock providers in id order (allocation writes) cannot deadlock with a batch on
// PostgreSQL; creations go last.
func (p *planner) order(c Change) int64 {
	if pr, ok := p.in.View.Provider(c.Write.ProviderUUID); ok && c.Write.Provider != store.ProviderCreate {
		return pr.ID
	}
	return math.MaxInt64
}

// node plans a node that exists in Ironic. withdraw reserves its provider and marks the
// record withdrawn (the node left the scope).
func (p *planner) node(n ironic.Node, rec *baremetal.NodeRecord, withdraw bool) (Change, bool) {
	v := p.in.View
	rc := ResourceClass(n.ResourceClass)
	reserved := withdraw || Reserved(n)
	traits, unknown := p.nodeTraits(n.Traits)
	aggs := p.aggregates(n)
	var oldTraits, oldAggs []string
	if rec != nil {
		oldTraits, oldAggs = rec.Traits, rec.Aggregates
	}

	w := store.NodeWrite{NodeUUID: n.UUID, ProviderUUID: n.UUID}
	var warnings []string
	var managedTraits, managedAggs []string
	prov, exists := v.Provider(n.UUID)
	if !exists {
		w.Provider, w.Name = store.ProviderCreate, n.UUID
		if rc != "" {
			w.SetInventories, w.Inventories = true, p.inventory(rc, reserved)
		}
		w.SetTraits, w.Traits = len(traits) > 0, traits
		w.SetAggregates, w.Aggregates = len(aggs) > 0, aggs
		managedTraits, managedAggs = traits, aggs
	} else if p.unchanged(prov, rec, rc, reserved, traits, aggs) {
		// The common case of a steady pass: nothing to diff, nothing to allocate.
		managedTraits, managedAggs = traits, aggs
	} else {
		changed := false
		have := p.providerInventories(prov)
		want, deferred := p.wantInventories(prov, rc, reserved)
		if !maps.Equal(have, want) {
			w.SetInventories, w.Inventories, changed = true, want, true
		}
		if deferred != "" && (rec == nil || rec.ResourceClass != n.ResourceClass) {
			if rc == "" {
				warnings = append(warnings, fmt.Sprintf("the node lost its resource class, but its provider has allocations of %s: that inventory stays, reserved, until they are gone", deferred))
			} else {
				warnings = append(warnings, fmt.Sprintf("resource class change to %s deferred: the provider has allocations of %s, which stay reserved until they are gone", rc, deferred))
			}
		}
		haveTraits := p.providerTraits(prov)
		var wantTraits []string
		wantTraits, managedTraits = merge(haveTraits, oldTraits, traits)
		if !slices.Equal(haveTraits, wantTraits) {
			w.SetTraits, w.Traits, changed = true, wantTraits, true
		}
		var wantAggs []string
		wantAggs, managedAggs = merge(prov.Aggregates, oldAggs, aggs)
		if !slices.Equal(prov.Aggregates, wantAggs) {
			w.SetAggregates, w.Aggregates, changed = true, wantAggs, true
		}
		if changed {
			w.Provider, w.Generation = store.ProviderModify, prov.Generation
		}
	}

	state := baremetal.NodeManaged
	if withdraw {
		state = baremetal.NodeWithdrawn
	}
	next := baremetal.NodeRecord{
		NodeUUID: n.UUID, ProviderUUID: n.UUID, Scope: p.scope, State: state,
		ResourceClass: n.ResourceClass, ProvisionState: n.ProvisionState, PowerState: n.PowerState,
		Maintenance: n.Maintenance, InstanceUUID: n.InstanceUUID, ConductorGroup: n.ConductorGroup,
		Shard: n.Shard, Owner: n.Owner, Traits: managedTraits, Aggregates: managedAggs,
	}
	recordChanged := rec == nil || !sameRecord(rec, &next)
	if recordChanged {
		w.Record, w.Node = store.RecordPut, next
		if rec != nil {
			w.RecordGeneration = rec.Generation
		}
	}
	if w.Provider == store.ProviderKeep && !recordChanged {
		return Change{}, false
	}

	if rc == "" && (rec == nil || rec.ResourceClass != "") {
		warnings = append(warnings, "the node has no resource class: its provider has no inventory until it gets one")
	}
	if len(unknown) > 0 && recordChanged {
		warnings = append(warnings, "traits unknown to Placement left out: "+strings.Join(unknown, ", "))
	}
	var action Action
	switch {
	case withdraw:
		action = ActionWithdraw
		warnings = append(warnings, fmt.Sprintf("the node left the tracker's scope (conductor group %q, shard %q): its provider is withdrawn (reserved)", n.ConductorGroup, n.Shard))
	case w.Provider == store.ProviderCreate:
		action = ActionCreate
	case rec == nil || rec.Scope != p.scope:
		action = ActionAdopt
		if rec != nil && rec.Scope != "" {
			warnings = append(warnings, fmt.Sprintf("took the node over from the tracker of scope %q", rec.Scope))
		}
	case w.Provider == store.ProviderModify:
		action = ActionUpdate
	default:
		action = ActionRecord
	}
	return Change{Action: action, Write: w, Warning: strings.Join(warnings, "; ")}, true
}

// unchanged reports, without allocating, whether the provider already has exactly what
// the node asks for and the record's traits and aggregates are the node's: then neither
// the provider nor the managed sets change. Anything else takes the full diff.
func (p *planner) unchanged(prov *fleet.Provider, rec *baremetal.NodeRecord, rc string, reserved bool, traits, aggs []string) bool {
	if rec == nil || !slices.Equal(rec.Traits, traits) || !slices.Equal(rec.Aggregates, aggs) ||
		!slices.Equal(prov.Aggregates, aggs) || len(prov.Traits) != len(traits) {
		return false
	}
	switch {
	case rc == "" && len(prov.Inventories) != 0:
		return false
	case rc != "":
		if len(prov.Inventories) != 1 || prov.Inventories[0].Inventory != Inventory(reserved) ||
			p.in.View.ClassName(prov.Inventories[0].ClassID) != rc {
			return false
		}
	}
	for _, t := range traits {
		id, ok := p.in.View.TraitID(t)
		if !ok || !prov.HasTrait(id) {
			return false
		}
	}
	return true
}

// missing plans a node of this scope that the listing did not return.
func (p *planner) missing(r *baremetal.NodeRecord) (Change, bool) {
	switch r.State {
	case baremetal.NodeOrphaned:
		return p.gone(r)
	case baremetal.NodeManaged, baremetal.NodeWithdrawn:
	default:
		return Change{}, false
	}
	lk, ok := p.in.Lookups[r.NodeUUID]
	switch {
	case !ok || lk.Err != nil:
		return Change{}, false
	case lk.Gone:
		return p.gone(r)
	case p.in.Scope.Contains(lk.Node):
		// The listing missed it (it moved between pages, or joined the scope meanwhile).
		return p.node(lk.Node, r, false)
	case r.State == baremetal.NodeManaged:
		return p.node(lk.Node, r, true)
	}
	next := *r
	next.Scope, next.State, next.Generation = "", baremetal.NodeReleased, 0
	return Change{Action: ActionRelease, Write: store.NodeWrite{
		NodeUUID: r.NodeUUID, ProviderUUID: r.ProviderUUID,
		Record: store.RecordPut, RecordGeneration: r.Generation, Node: next,
	}}, true
}

// gone plans a node that Ironic no longer has: delete its provider and record, or, while
// the provider has allocations, keep it with every class reserved.
func (p *planner) gone(r *baremetal.NodeRecord) (Change, bool) {
	w := store.NodeWrite{NodeUUID: r.NodeUUID, ProviderUUID: r.ProviderUUID,
		Record: store.RecordDelete, RecordGeneration: r.Generation}
	prov, exists := p.in.View.Provider(r.ProviderUUID)
	if !exists {
		return Change{Action: ActionDelete, Write: w}, true
	}
	var used []string
	for _, inv := range prov.Inventories {
		if inv.Used > 0 {
			used = append(used, p.in.View.ClassName(inv.ClassID))
		}
	}
	if len(used) == 0 {
		w.Provider, w.Generation = store.ProviderDelete, prov.Generation
		return Change{Action: ActionDelete, Write: w}, true
	}
	w = store.NodeWrite{NodeUUID: r.NodeUUID, ProviderUUID: r.ProviderUUID}
	have := p.providerInventories(prov)
	want := make(map[string]placement.Inventory, len(have))
	for name, inv := range have {
		inv.Reserved = inv.Total
		want[name] = inv
	}
	if !maps.Equal(have, want) {
		w.Provider, w.Generation = store.ProviderModify, prov.Generation
		w.SetInventories, w.Inventories = true, want
	}
	var warning string
	if r.State != baremetal.NodeOrphaned {
		next := *r
		next.State, next.Generation = baremetal.NodeOrphaned, 0
		w.Record, w.RecordGeneration, w.Node = store.RecordPut, r.Generation, next
		warning = fmt.Sprintf("the node was deleted from Ironic but its provider has allocations of %s: "+
			"the provider stays, reserved, until they are removed", strings.Join(used, ", "))
	}
	if w.Provider == store.ProviderKeep && w.Record == store.RecordKeep {
		return Change{}, false
	}
	return Change{Action: ActionOrphan, Write: w, Warning: warning}, true
}

// wantInventories returns the provider's desired inventories: the node's class (unless
// the change to it must wait) and, reserved, every other class that has allocations.
// deferred names those classes when they hold back the node's class.
func (p *planner) wantInventories(prov *fleet.Provider, rc string, reserved bool) (map[string]placement.Inventory, string) {
	want := make(map[string]placement.Inventory, 1)
	var inUse []string
	hasRC := false
	for _, inv := range prov.Inventories {
		name := p.in.View.ClassName(inv.ClassID)
		if name == rc {
			hasRC = true
			continue
		}
		if inv.Used > 0 {
			keep := inv.Inventory
			keep.Reserved = keep.Total
			want[name] = keep
			inUse = append(inUse, name)
		}
	}
	if rc != "" && (hasRC || len(inUse) == 0) {
		want[rc] = Inventory(reserved)
	}
	if len(inUse) > 0 && (rc == "" || !hasRC) {
		return want, strings.Join(inUse, ", ")
	}
	return want, ""
}

func (p *planner) providerInventories(prov *fleet.Provider) map[string]placement.Inventory {
	out := make(map[string]placement.Inventory, len(prov.Inventories))
	for _, inv := range prov.Inventories {
		out[p.in.View.ClassName(inv.ClassID)] = inv.Inventory
	}
	return out
}

func (p *planner) providerTraits(prov *fleet.Provider) []string {
	out := make([]string, 0, len(prov.Traits))
	for _, id := range prov.Traits {
		out = append(out, p.in.View.TraitName(id))
	}
	slices.Sort(out)
	return out
}

// nodeTraits returns the node's traits that Placement knows, sorted and without
// duplicates, and those it does not know.
func (p *planner) nodeTraits(traits []string) (known, unknown []string) {
	fast := true
	for i, t := range traits {
		if _, ok := p.in.View.TraitID(t); !ok || (i > 0 && traits[i-1] >= t) {
			fast = false
			break
		}
	}
	if fast {
		return traits, nil // Ironic's usual answer: sorted, unique, known
	}
	for _, t := range traits {
		if _, ok := p.in.View.TraitID(t); ok {
			known = append(known, t)
		} else {
			unknown = append(unknown, t)
		}
	}
	slices.Sort(known)
	slices.Sort(unknown)
	return slices.Compact(known), slices.Compact(unknown)
}

// merge returns the set a provider should have and the part of it the tracker manages,
// given the provider's set (have), what the tracker added before (managed) and what the
// node has (node), all sorted: the tracker removes what it added and the node no longer
// has, adds what the node has, and leaves everything else alone. What it adds is then
// its own; what was already there when the node got it stays the owner's.
func merge(have, managed, node []string) (want, nowManaged []string) {
	// The sets are small (Ironic allows 50 traits per node): linear scans beat maps.
	for _, x := range have {
		if slices.Contains(managed, x) && !slices.Contains(node, x) {
			continue
		}
		want = append(want, x)
	}
	for _, x := range node {
		switch {
		case !slices.Contains(have, x):
			want = append(want, x)
			nowManaged = append(nowManaged, x)
		case slices.Contains(managed, x):
			nowManaged = append(nowManaged, x)
		}
	}
	slices.Sort(want)
	slices.Sort(nowManaged)
	return slices.Compact(want), slices.Compact(nowManaged)
}

// sameRecord reports whether two records say the same (generations and times aside).
func sameRecord(a, b *baremetal.NodeRecord) bool {
	return a.ProviderUUID == b.ProviderUUID && a.Scope == b.Scope && a.State == b.State &&
		a.ResourceClass == b.ResourceClass && a.ProvisionState == b.ProvisionState &&
		a.PowerState == b.PowerState && a.Maintenance == b.Maintenance &&
		a.InstanceUUID == b.InstanceUUID && a.ConductorGroup == b.ConductorGroup &&
		a.Shard == b.Shard && a.Owner == b.Owner &&
		slices.Equal(a.Traits, b.Traits) && slices.Equal(a.Aggregates, b.Aggregates)
}
