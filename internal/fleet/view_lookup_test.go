package fleet

import "testing"

// TestProviderLookups checks Inventory and HasTrait on both sides of the size at which they
// switch from a scan to a binary search, for present, absent, smaller and larger ids.
func TestProviderLookups(t *testing.T) {
	for _, n := range []int{0, 1, 3, 8, 9, 20} {
		p := &Provider{}
		for i := range n {
			id := int64(2*i + 1) // odd ids present, even ids absent
			p.Inventories = append(p.Inventories, Inventory{ClassID: id, Used: id * 10})
			p.Traits = append(p.Traits, id)
		}
		for id := int64(0); id <= int64(2*n+2); id++ {
			want := id%2 == 1 && id < int64(2*n)
			inv, ok := p.Inventory(id)
			if ok != want || ok && (inv.ClassID != id || inv.Used != id*10) {
				t.Errorf("n=%d: Inventory(%d) = %+v, %v; want present=%v", n, id, inv, ok, want)
			}
			if got := p.HasTrait(id); got != want {
				t.Errorf("n=%d: HasTrait(%d) = %v, want %v", n, id, got, want)
			}
		}
	}
}
