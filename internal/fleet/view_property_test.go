package fleet_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"ingot/internal/fleet"
	"ingot/internal/fleet/fleettest"
	"ingot/internal/placement"
)

// model is the fleet a random sequence of writes builds: what a view built from scratch
// is made of.
type model struct {
	rnd       *rand.Rand
	nextID    int64
	providers map[int64]*fleet.Provider
	catalog   *fleet.Catalog
}

var aggregates = []string{"a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002",
	"a0000000-0000-4000-8000-000000000003"}

func newModel(seed uint64) *model {
	m := &model{rnd: rand.New(rand.NewPCG(seed, 1)), providers: map[int64]*fleet.Provider{}}
	m.catalog = &fleet.Catalog{ClassIDs: map[string]int64{}, ClassNames: map[int64]string{},
		TraitIDs: map[string]int64{}, TraitNames: map[int64]string{}}
	for i, c := range []string{"VCPU", "MEMORY_MB", "DISK_GB", "CUSTOM_GOLD"} {
		m.catalog.ClassIDs[c], m.catalog.ClassNames[int64(i)] = int64(i), c
	}
	for i, tr := range []string{"HW_CPU_X86_AVX2", fleet.ShareTrait, "CUSTOM_RACK_1", "CUSTOM_RACK_2"} {
		m.catalog.TraitIDs[tr], m.catalog.TraitNames[int64(i+1)] = int64(i+1), tr
	}
	return m
}

// randomContents gives p random inventories (with usage), traits and aggregates.
func (m *model) randomContents(p *fleet.Provider) {
	p.Inventories, p.Traits, p.Aggregates = nil, nil, nil
	for class := range int64(len(m.catalog.ClassNames)) {
		if m.rnd.IntN(2) == 0 {
			total := int64(1 + m.rnd.IntN(16))
			p.Inventories = append(p.Inventories, fleet.Inventory{ClassID: class, Used: m.rnd.Int64N(total + 1),
				Inventory: placement.Inventory{Total: total, MinUnit: 1, MaxUnit: total, StepSize: 1, AllocationRatio: 1}})
		}
	}
	for id := range m.catalog.TraitNames {
		if m.rnd.IntN(3) == 0 {
			p.Traits = append(p.Traits, id)
		}
	}
	slices.Sort(p.Traits)
	for _, a := range aggregates {
		if m.rnd.IntN(3) == 0 {
			p.Aggregates = append(p.Aggregates, a)
		}
	}
}

func (m *model) ids() []int64 {
	ids := make([]int64, 0, len(m.providers))
	for id := range m.providers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// step makes one random write to the model and returns what View.With is given for it.
func (m *model) step() (catalog *fleet.Catalog, changed []*fleet.Provider, deleted []int64, what string) {
	ids := m.ids()
	switch op := m.rnd.IntN(10); {
	case op < 3 || len(ids) == 0: // create a provider, a root or a child
		m.nextID++
		p := &fleet.Provider{ID: m.nextID, UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", m.nextID),
			Name: fmt.Sprint("rp", m.nextID), RootID: m.nextID, CreatedAt: m.nextID}
		if len(ids) > 0 && m.rnd.IntN(2) == 0 {
			parent := m.providers[ids[m.rnd.IntN(len(ids))]]
			p.ParentID, p.RootID = parent.ID, parent.RootID
		}
		m.randomContents(p)
		m.providers[p.ID] = p
		return nil, []*fleet.Provider{p}, nil, "create"
	case op < 5: // usage, generation or name only
		q := *m.providers[ids[m.rnd.IntN(len(ids))]]
		q.Generation++
		q.Name += "'"
		q.Inventories = slices.Clone(q.Inventories)
		for i := range q.Inventories {
			q.Inventories[i].Used = m.rnd.Int64N(q.Inventories[i].Total + 1)
		}
		m.providers[q.ID] = &q
		return nil, []*fleet.Provider{&q}, nil, "usage"
	case op < 8: // inventories, traits and aggregates of one or two providers
		for range 1 + m.rnd.IntN(2) {
			q := *m.providers[ids[m.rnd.IntN(len(ids))]]
			q.Generation++
			m.randomContents(&q)
			m.providers[q.ID] = &q
			changed = append(changed, &q)
		}
		return nil, changed, nil, "contents"
	case op < 9: // delete a provider without children
		for _, id := range ids {
			if !slices.ContainsFunc(ids, func(c int64) bool { return m.providers[c].ParentID == id }) {
				delete(m.providers, id)
				return nil, nil, []int64{id}, "delete"
			}
		}
		return nil, nil, nil, "nothing"
	default: // a new trait (the catalog changes)
		c := &fleet.Catalog{ClassIDs: m.catalog.ClassIDs, ClassNames: m.catalog.ClassNames,
			TraitIDs: map[string]int64{}, TraitNames: map[int64]string{}}
		for k, v := range m.catalog.TraitIDs {
			c.TraitIDs[k], c.TraitNames[v] = v, k
		}
		id := int64(len(c.TraitNames) + 1)
		c.TraitIDs[fmt.Sprint("CUSTOM_T", id)], c.TraitNames[id] = id, fmt.Sprint("CUSTOM_T", id)
		m.catalog = c
		return c, nil, nil, "catalog"
	}
}

func (m *model) fromScratch(seq int64) *fleet.View {
	ps := make([]*fleet.Provider, 0, len(m.providers))
	for _, p := range m.providers {
		ps = append(ps, p)
	}
	return fleet.New(seq, m.catalog, ps)
}

// TestWithEqualsFromScratch applies random sequences of writes to a view with View.With,
// as the store does between two requests, and checks that after every step the view
// equals one built from scratch on the same providers, indexes included. Its indexes are
// built (by the comparison) before most steps, so that With's reuse of unchanged indexes
// is exercised as well as rebuilding.
func TestWithEqualsFromScratch(t *testing.T) {
	for seed := range uint64(200) {
		m := newModel(seed)
		v := fleet.New(0, m.catalog, nil)
		var history []string
		for seq := int64(1); seq <= 60; seq++ {
			catalog, changed, deleted, what := m.step()
			history = append(history, what)
			v = v.With(seq, catalog, changed, deleted)
			if m.rnd.IntN(4) == 0 {
				continue // leave this view's indexes unbuilt
			}
			if d := fleettest.Diff(v, m.fromScratch(seq)); d != "" {
				t.Fatalf("seed %d, after %v: %s", seed, history, d)
			}
		}
		if d := fleettest.Diff(v, m.fromScratch(61)); d != "" {
			t.Fatalf("seed %d, after %v: %s", seed, history, d)
		}
	}
}
