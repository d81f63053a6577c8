package deploy

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"ingot/internal/baremetal"
	"ingot/internal/candidates"
	"ingot/internal/fleet"
	"ingot/internal/ironic"
	"ingot/internal/reconcile"
)

// Tenancy is who may use a node, as Ironic says: its owner and its lessee (empty: none).
type Tenancy struct {
	Owner, Lessee string
}

// Allows reports whether a project may be given the node. A node with neither owner nor
// lessee is open to every project. A leased node is for its lessee only (the lease is
// Ironic's grant: a node that another project owns and leases to this one is allowed,
// as Ironic's allocation API matches owner or lessee); an owned node that is not leased
// is for its owner only. So a node whose owner or lessee is another project is never
// given, except through a lease to this project.
func (t Tenancy) Allows(project string) bool {
	if t.Lessee != "" {
		return t.Lessee == project
	}
	return t.Owner == "" || t.Owner == project
}

// Weighing orders the nodes that fit a request.
type Weighing string

// The weighings. A node's rack is the first of its provider's aggregates listed in
// Weigher.Racks; with no list, the set of its provider's aggregates (the tracker puts a
// node in the aggregates of its conductor group and its owner, so by default a rack is a
// conductor group); a node in none of them is a rack of its own. A rack's load is how
// many of its nodes of the requested class are in use or reserved.
const (
	Spread Weighing = "spread" // least loaded rack first: instances spread over racks
	Pack   Weighing = "pack"   // most loaded rack first: whole racks stay free
)

// Weigher ranks candidate nodes.
type Weigher struct {
	Mode  Weighing // Spread when empty
	Racks []string // aggregate UUIDs that are racks (see Weighing)
}

// Valid reports whether the weigher's mode is known.
func (w Weigher) Valid() bool { return w.Mode == "" || w.Mode == Spread || w.Mode == Pack }

// ScheduleInput is what Schedule decides from.
type ScheduleInput struct {
	View      *fleet.View
	Request   baremetal.Request
	ProjectID string
	// Excluded nodes are never returned (nodes this instance failed on or lost).
	Excluded []string
	// Tenancy is the owner and lessee of nodes as last seen in Ironic; a node missing
	// here is taken as open (the lock step checks the node itself before taking it).
	Tenancy map[string]Tenancy
	Weigher Weigher
	// Nodes are the nodes as last listed from Ironic, by UUID; only ExplainSchedule reads
	// them, to say why a node's inventory is reserved (nil: "reserved").
	Nodes map[string]ironic.Node
	// Rand breaks ties, so concurrent schedulers try different nodes first. Nil: no
	// shuffling (ties in provider order), for tests.
	Rand *rand.Rand
}

// ErrNoValidHost is the fault code when no node fits an instance's request.
const ErrNoValidHost = "no_valid_host"

// Schedule returns the nodes that may take one instance of in.Request for in.ProjectID,
// best first: the allocation candidates of one unit of the request's normalized class
// (reconcile.ResourceClass) with its required and forbidden traits and member_of, on the
// pinned node only when the request pins one, without the excluded nodes and the nodes
// the project may not use, ordered by the weigher. It fails when the request names a
// class or trait the view does not know (no node can have it). ExplainSchedule says why
// a node is left out, from the same request and filters.
func Schedule(in ScheduleInput) ([]string, error) {
	v := in.View
	req, classID, err := scheduleRequest(in)
	if err != nil || req == nil {
		return nil, err
	}
	res := candidates.Find(v, *req)

	excluded := excludedSet(in.Excluded)
	type choice struct {
		node string
		load int
		tie  uint64
	}
	load := rackLoads(v, classID, in.Weigher)
	var out []choice
	for _, c := range res.Candidates {
		if len(c.Allocs) != 1 {
			continue
		}
		p := v.Slot(c.Allocs[0].Slot)
		if in.nodeFilter(p, excluded) != "" {
			continue
		}
		ch := choice{node: p.UUID, load: load[rackOf(p, in.Weigher.Racks)]}
		if in.Rand != nil {
			ch.tie = in.Rand.Uint64()
		}
		out = append(out, ch)
	}
	sign := 1
	if in.Weigher.Mode == Pack {
		sign = -1
	}
	slices.SortStableFunc(out, func(a, b choice) int {
		if c := sign * cmp.Compare(a.load, b.load); c != 0 {
			return c
		}
		return cmp.Compare(a.tie, b.tie)
	})
	nodes := make([]string, len(out))
	for i, c := range out {
		nodes[i] = c.node
	}
	return nodes, nil
}

// scheduleRequest is the allocation-candidates request Schedule makes, and the class id;
// nil when the pinned node has no provider (nothing fits).
func scheduleRequest(in ScheduleInput) (*candidates.Request, int64, error) {
	v := in.View
	rc := reconcile.ResourceClass(in.Request.ResourceClass)
	classID, ok := v.ClassID(rc)
	if !ok {
		return nil, 0, fmt.Errorf("no resource class %s", rc)
	}
	var required [][]string
	for _, t := range in.Request.Required {
		required = append(required, []string{t})
	}
	req, forb, err := v.TraitSets(required, in.Request.Forbidden)
	if err != nil {
		return nil, 0, err
	}
	g := candidates.Group{
		Resources: []candidates.Amount{{Class: classID, N: 1}},
		Required:  req,
		Forbidden: forb,
		MemberOf:  in.Request.MemberOf,
	}
	if in.Request.Node != "" {
		if _, ok := v.Provider(in.Request.Node); !ok {
			return nil, classID, nil
		}
		g.InTree = in.Request.Node
	}
	return &candidates.Request{Groups: []candidates.Group{g}, NestedAware: true}, classID, nil
}

func excludedSet(nodes []string) map[string]bool {
	excluded := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		excluded[n] = true
	}
	return excluded
}

// Why Schedule leaves a candidate out (nodeFilter), and what ExplainSchedule names the
// allocation-candidates filters' removals.
const (
	WhyPinned     = "not the pinned node"
	WhyNotNode    = "nested provider (not a node)"
	WhyExcluded   = "failed here before"
	WhyTenancy    = "owned or leased by another project"
	WhyClass      = "without the resource class"
	WhyUnits      = "unit rules (min_unit, max_unit, step_size)"
	WhyClaimed    = "claimed"
	WhyMaint      = "in maintenance"
	WhyInstance   = "holding an instance"
	WhyReserved   = "reserved"
	WhyRequired   = "missing a required trait"
	WhyForbidden  = "having a forbidden trait"
	WhyMemberOf   = "outside member_of"
	whyOther      = "other"
	whyProvision  = "provision state "
	whyPowerState = "power state "
)

// nodeFilter says why Schedule does not offer candidate p ("": it does).
func (in ScheduleInput) nodeFilter(p *fleet.Provider, excluded map[string]bool) string {
	switch {
	case p.ParentID != 0:
		return WhyNotNode // a node's provider is a root; a nested one is not a node
	case in.Request.Node != "" && p.UUID != in.Request.Node:
		return WhyPinned
	case excluded[p.UUID]:
		return WhyExcluded
	case !in.Tenancy[p.UUID].Allows(in.ProjectID):
		return WhyTenancy
	}
	return ""
}

// ScheduleExplanation says how many nodes Schedule considered, how many each filter
// removed (in order, each node counted once, at its first failing filter) and how many
// fit. Considered equals the removed ones plus Fit.
type ScheduleExplanation struct {
	Considered int
	Steps      []ScheduleStep
	Fit        int
	// Error is Schedule's error, when it failed.
	Error string
}

// ScheduleStep is one filter's removals, with a few example nodes (names).
type ScheduleStep struct {
	Why      string
	Removed  int
	Examples []string
}

// String is the explanation on one line, for an instance's fault: "0 of 12 nodes fit: 5
// without the resource class (n6, n7, n8), 3 claimed (n4, ...)".
func (e ScheduleExplanation) String() string {
	if e.Error != "" {
		return e.Error
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d nodes fit", e.Fit, e.Considered)
	sep := ": "
	for _, s := range e.Steps {
		fmt.Fprintf(&b, "%s%d %s (%s", sep, s.Removed, s.Why, strings.Join(s.Examples, ", "))
		if s.Removed > len(s.Examples) {
			b.WriteString(", ...")
		}
		b.WriteString(")")
		sep = ", "
	}
	return b.String()
}

// ExplainSchedule explains Schedule's answer to in: the allocation-candidates filters of
// Schedule's own request (candidates.Explain, the search Schedule runs), with capacity
// told apart by what in.Nodes (the last listing of the nodes) says of each node (claimed,
// maintenance, provision or power state, holding an instance), then Schedule's own
// filters (nested providers, the pinned node, excluded nodes, tenancy).
func ExplainSchedule(in ScheduleInput) ScheduleExplanation {
	v := in.View
	req, classID, err := scheduleRequest(in)
	if err != nil {
		return ScheduleExplanation{Error: err.Error()}
	}
	e := ScheduleExplanation{Considered: v.Len()}
	steps := map[string][]*fleet.Provider{}
	var order []string
	add := func(why string, p *fleet.Provider) {
		if _, ok := steps[why]; !ok {
			order = append(order, why)
		}
		steps[why] = append(steps[why], p)
	}
	if req == nil { // the pinned node has no provider
		v.Providers(func(p *fleet.Provider) bool { add(WhyPinned, p); return true })
	} else {
		ex := candidates.Explain(v, *req)
		g := ex.Groups[0]
		for _, st := range g.Steps {
			for _, slot := range st.Slots {
				p := v.Slot(slot)
				add(candidateWhy(st.Name, p, classID, in.Nodes), p)
			}
		}
		excluded := excludedSet(in.Excluded)
		for _, slot := range g.Eligible {
			p := v.Slot(slot)
			if why := in.nodeFilter(p, excluded); why != "" {
				add(why, p)
				continue
			}
			e.Fit++
		}
	}
	for _, why := range orderWhy(order) {
		ps := steps[why]
		st := ScheduleStep{Why: why, Removed: len(ps)}
		for _, p := range ps[:min(len(ps), 3)] {
			st.Examples = append(st.Examples, p.Name)
		}
		e.Steps = append(e.Steps, st)
	}
	return e
}

// candidateWhy names why the allocation-candidates filter step removed p.
func candidateWhy(step string, p *fleet.Provider, classID int64, nodes map[string]ironic.Node) string {
	switch step {
	case candidates.ReasonInTree.String():
		return WhyPinned
	case candidates.ReasonClassAbsent.String():
		return WhyClass
	case candidates.ReasonUnits.String():
		return WhyUnits
	case candidates.ReasonRequiredTraits.String():
		return WhyRequired
	case candidates.ReasonForbiddenTraits.String():
		return WhyForbidden
	case candidates.ReasonMemberOf.String():
		return WhyMemberOf
	case candidates.StepCombination:
		// One group of one unit of one class: the only check of the combination is the
		// group's required traits, which its one provider must have.
		return WhyRequired
	case candidates.ReasonCapacity.String():
		inv, _ := p.Inventory(classID)
		if inv.Fits(0, 1) {
			return WhyClaimed // free but for what is allocated
		}
		n, ok := nodes[p.UUID]
		switch {
		case !ok:
			return WhyReserved
		case n.Maintenance:
			return WhyMaint
		case n.ProvisionState != ironic.ProvisionStateAvailable && n.ProvisionState != "":
			return whyProvision + n.ProvisionState
		case n.PowerState == "error" || n.PowerState == "":
			return whyPowerState + cmp.Or(n.PowerState, "unknown")
		case n.InstanceUUID != "":
			return WhyInstance
		}
		return WhyReserved
	}
	return whyOther + " (" + step + ")"
}

// orderWhy puts the reasons in the order of Schedule's filters (provision states
// together, by name).
func orderWhy(whys []string) []string {
	rank := func(w string) int {
		for i, x := range []string{WhyPinned, WhyClass, WhyUnits, WhyClaimed, WhyMaint, whyProvision, whyPowerState,
			WhyInstance, WhyReserved, WhyRequired, WhyForbidden, WhyMemberOf, WhyNotNode, WhyExcluded, WhyTenancy} {
			if w == x || (x == whyProvision || x == whyPowerState) && strings.HasPrefix(w, x) {
				return i
			}
		}
		return 100
	}
	out := slices.Clone(whys)
	slices.SortStableFunc(out, func(a, b string) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return out
}

// rackLoads counts, per rack, the providers with inventory of the class that are in use
// or reserved.
func rackLoads(v *fleet.View, classID int64, w Weigher) map[string]int {
	load := map[string]int{}
	v.Providers(func(p *fleet.Provider) bool {
		if inv, ok := p.Inventory(classID); ok && (inv.Used > 0 || inv.Reserved > 0) {
			load[rackOf(p, w.Racks)]++
		}
		return true
	})
	return load
}

// rackOf names the rack of a node's provider (see Weighing).
func rackOf(p *fleet.Provider, racks []string) string {
	if len(racks) > 0 {
		for _, r := range racks {
			if p.InAggregate(r) {
				return r
			}
		}
		return "node:" + p.UUID
	}
	if len(p.Aggregates) == 0 {
		return "node:" + p.UUID
	}
	return strings.Join(p.Aggregates, ",")
}
