package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"ingot/internal/fleet"
	"ingot/internal/fleet/fleettest"
	"ingot/internal/placement"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// TestIncrementalViewEqualsFresh makes random sequences of writes through the store (new
// providers and classes and traits, inventories, traits, aggregates, allocations, deleted
// providers) and after each one checks that the view the writing process updates
// incrementally equals a view built from scratch by a second process opening the same
// database.
func TestIncrementalViewEqualsFresh(t *testing.T) {
	for _, backend := range storetest.Backends() {
		t.Run(backend, func(t *testing.T) {
			succeeded := map[string]int{}
			for seed := range uint64(3) {
				ctx := context.Background()
				dsn := storetest.DSN(t, backend)
				db, err := store.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				w := &randomWriter{t: t, ctx: ctx, db: db, rnd: rand.New(rand.NewPCG(seed, 2))}
				for step := range 40 {
					what, err := w.step()
					if err == nil {
						succeeded[what]++
					}
					got, err := db.View(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if d := fleettest.Diff(got, freshView(t, dsn)); d != "" {
						t.Fatalf("seed %d step %d (%s): incremental view differs from a fresh one: %s", seed, step, what, d)
					}
				}
				db.Close()
			}
			// The sequences must have changed the fleet in every way, not mostly been refused.
			for _, what := range []string{"create provider", "set inventories", "set traits", "set aggregates",
				"allocate", "delete allocations", "delete provider", "create class", "create trait"} {
				if succeeded[what] == 0 {
					t.Errorf("no %q write succeeded (%v)", what, succeeded)
				}
			}
		})
	}
}

// freshView opens the database anew and returns its first view, built from scratch.
func freshView(t *testing.T, dsn string) *fleet.View {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := db.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type randomWriter struct {
	t       *testing.T
	ctx     context.Context
	db      *store.DB
	rnd     *rand.Rand
	uuids   []string
	classes []string
	traits  []string
	n       int
}

var viewAggregates = []string{"a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002"}

// ok fails the test on an error that is not a Placement error: a random write may be
// refused (a provider with allocations cannot be deleted), but not fail. It returns err.
func (w *randomWriter) ok(err error) error {
	w.t.Helper()
	if _, isPlacement := placement.AsError(err); err != nil && !isPlacement {
		w.t.Fatal(err)
	}
	return err
}

func (w *randomWriter) pick() string { return w.uuids[w.rnd.IntN(len(w.uuids))] }

func (w *randomWriter) generation(uuid string) int64 {
	p, err := w.db.GetProvider(w.ctx, uuid)
	if err != nil {
		w.t.Fatal(err)
	}
	return p.Generation
}

// step makes one random write and says what it was and whether it was refused.
func (w *randomWriter) step() (string, error) {
	if w.classes == nil {
		w.classes = []string{"VCPU", "MEMORY_MB"}
		w.traits = []string{"HW_CPU_X86_AVX2", fleet.ShareTrait}
	}
	switch op := w.rnd.IntN(12); {
	case op < 3 || len(w.uuids) == 0:
		w.n++
		np := store.NewProvider{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", w.n), Name: fmt.Sprint("rp", w.n)}
		if len(w.uuids) > 0 && w.rnd.IntN(2) == 0 {
			np.ParentUUID = w.pick()
		}
		_, err := w.db.CreateProvider(w.ctx, np)
		w.uuids = append(w.uuids, np.UUID)
		return "create provider", w.ok(err)
	case op < 5:
		u := w.pick()
		invs := map[string]placement.Inventory{}
		for _, c := range w.classes {
			if w.rnd.IntN(2) == 0 {
				total := int64(4 + w.rnd.IntN(8))
				invs[c] = placement.Inventory{Total: total, MinUnit: 1, MaxUnit: total, StepSize: 1, AllocationRatio: 1}
			}
		}
		_, _, err := w.db.SetInventories(w.ctx, u, w.generation(u), invs, store.ReservedUpToTotal)
		return "set inventories", w.ok(err)
	case op < 6:
		u := w.pick()
		var names []string
		for _, tr := range w.traits {
			if w.rnd.IntN(2) == 0 {
				names = append(names, tr)
			}
		}
		_, _, err := w.db.SetProviderTraits(w.ctx, u, w.generation(u), names)
		return "set traits", w.ok(err)
	case op < 7:
		u := w.pick()
		var aggs []string
		for _, a := range viewAggregates {
			if w.rnd.IntN(2) == 0 {
				aggs = append(aggs, a)
			}
		}
		gen := w.generation(u)
		_, err := w.db.SetProviderAggregates(w.ctx, u, &gen, aggs)
		return "set aggregates", w.ok(err)
	case op < 9:
		consumer := fmt.Sprintf("c0000000-0000-4000-8000-%012d", w.rnd.IntN(4))
		alloc := placement.Allocation{ProviderUUID: w.pick(), ResourceClass: w.classes[w.rnd.IntN(len(w.classes))], Used: 1}
		err := w.db.ReplaceAllocations(w.ctx, store.WritePut, []placement.ConsumerAllocations{{
			ConsumerUUID: consumer, ProjectID: "p", UserID: "u", Allocations: []placement.Allocation{alloc}}})
		return "allocate", w.ok(err)
	case op < 10:
		err := w.db.DeleteConsumerAllocations(w.ctx, fmt.Sprintf("c0000000-0000-4000-8000-%012d", w.rnd.IntN(4)))
		return "delete allocations", w.ok(err)
	case op < 11:
		i := w.rnd.IntN(len(w.uuids))
		err := w.db.DeleteProvider(w.ctx, w.uuids[i])
		if w.ok(err) == nil {
			w.uuids = append(w.uuids[:i], w.uuids[i+1:]...)
		}
		return "delete provider", err
	default:
		w.n++
		if w.rnd.IntN(2) == 0 {
			name := fmt.Sprint("CUSTOM_C", w.n)
			_, err := w.db.CreateResourceClass(w.ctx, name)
			w.classes = append(w.classes, name)
			return "create class", w.ok(err)
		}
		name := fmt.Sprint("CUSTOM_T", w.n)
		_, _, err := w.db.EnsureTrait(w.ctx, name)
		w.traits = append(w.traits, name)
		return "create trait", w.ok(err)
	}
}
