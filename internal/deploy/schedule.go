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
// class or trait the view does not know (no node can have it).
func Schedule(in ScheduleInput) ([]string, error) {
	v := in.View
	rc := reconcile.ResourceClass(in.Request.ResourceClass)
	classID, ok := v.ClassID(rc)
	if !ok {
		return nil, fmt.Errorf("no resource class %s", rc)
	}
	var required [][]string
	for _, t := range in.Request.Required {
		required = append(required, []string{t})
	}
	req, forb, err := v.TraitSets(required, in.Request.Forbidden)
	if err != nil {
		return nil, err
	}
	g := candidates.Group{
		Resources: []candidates.Amount{{Class: classID, N: 1}},
		Required:  req,
		Forbidden: forb,
		MemberOf:  in.Request.MemberOf,
	}
	if in.Request.Node != "" {
		if _, ok := v.Provider(in.Request.Node); !ok {
			return nil, nil
		}
		g.InTree = in.Request.Node
	}
	res := candidates.Find(v, candidates.Request{Groups: []candidates.Group{g}, NestedAware: true})

	excluded := make(map[string]bool, len(in.Excluded))
	for _, n := range in.Excluded {
		excluded[n] = true
	}
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
		if p.ParentID != 0 || excluded[p.UUID] || !in.Tenancy[p.UUID].Allows(in.ProjectID) {
			continue // a node's provider is a root; a nested one is not a node
		}
		if in.Request.Node != "" && p.UUID != in.Request.Node {
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
