package fleet_test

import (
	"fmt"
	"testing"

	"ingot/internal/fleet"
)

func provider(id int64, uuid string) *fleet.Provider {
	return &fleet.Provider{ID: id, UUID: uuid, RootID: id}
}

func order(v *fleet.View) string {
	var ids []int64
	v.Providers(func(p *fleet.Provider) bool { ids = append(ids, p.ID); return true })
	return fmt.Sprint(ids)
}

// TestWithKeepsIDOrder adds providers to views in every order an out-of-order commit can
// produce, with deletions and a reused UUID, and checks that each successor iterates in
// id order and that its lookups agree with its slots.
func TestWithKeepsIDOrder(t *testing.T) {
	cat := &fleet.Catalog{}
	for _, c := range []struct {
		name    string
		start   []int64
		added   []int64
		deleted []int64
		want    string
	}{
		{"append", []int64{1, 2}, []int64{3, 4}, nil, "[1 2 3 4]"},
		{"late smaller id", []int64{1, 3}, []int64{2}, nil, "[1 2 3]"},
		{"interleaved", []int64{2, 4, 6}, []int64{5, 1, 3, 7}, nil, "[1 2 3 4 5 6 7]"},
		{"with deletion", []int64{1, 3, 5}, []int64{4, 2}, []int64{3}, "[1 2 4 5]"},
		{"deleted last", []int64{1, 5}, []int64{3}, []int64{5}, "[1 3]"},
		{"into empty", nil, []int64{2, 1}, nil, "[1 2]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ps []*fleet.Provider
			for _, id := range c.start {
				ps = append(ps, provider(id, fmt.Sprintf("u%d", id)))
			}
			v := fleet.New(1, cat, ps)
			var added []*fleet.Provider
			for _, id := range c.added {
				added = append(added, provider(id, fmt.Sprintf("u%d", id)))
			}
			w := v.With(2, nil, added, c.deleted)
			if got := order(w); got != c.want {
				t.Fatalf("successor iterates %s, want %s", got, c.want)
			}
			if got := order(v); got != fmt.Sprint(nonNil(c.start)) {
				t.Fatalf("predecessor changed: %s", got)
			}
			checkLookups(t, w)
			if w.Len() != len(c.start)+len(c.added)-len(c.deleted) {
				t.Fatalf("Len %d", w.Len())
			}
		})
	}
	t.Run("reused uuid", func(t *testing.T) {
		v := fleet.New(1, cat, []*fleet.Provider{provider(1, "a"), provider(3, "x")})
		w := v.With(2, nil, []*fleet.Provider{provider(2, "x")}, []int64{3})
		if p, ok := w.Provider("x"); !ok || p.ID != 2 {
			t.Fatalf("Provider(x) = %v, %v; want the new provider 2", p, ok)
		}
		checkLookups(t, w)
	})
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

func checkLookups(t *testing.T, v *fleet.View) {
	t.Helper()
	for i := range v.Slots() {
		p := v.Slot(int32(i))
		if p == nil {
			continue
		}
		if s, ok := v.SlotOf(p.ID); !ok || s != int32(i) {
			t.Errorf("SlotOf(%d) = %d, %v; want %d", p.ID, s, ok, i)
		}
		if q, ok := v.Provider(p.UUID); !ok || q != p {
			t.Errorf("Provider(%s) is not slot %d's provider", p.UUID, i)
		}
	}
}
