package fleet

// ClassTotals are one resource class's sums over every provider that has an inventory of
// it.
type ClassTotals struct {
	Providers             int
	Total, Reserved, Used int64
	// Capacity is what can be allocated in all: the sum of (total - reserved) x
	// allocation ratio, not truncated.
	Capacity float64
}

// Totals sums the view's inventories by resource class id (ClassName names them): what
// the metrics and the dashboard report as the fleet's capacity.
func (v *View) Totals() map[int64]*ClassTotals {
	sums := map[int64]*ClassTotals{}
	v.Providers(func(p *Provider) bool {
		for i := range p.Inventories {
			inv := &p.Inventories[i]
			s := sums[inv.ClassID]
			if s == nil {
				s = &ClassTotals{}
				sums[inv.ClassID] = s
			}
			s.Providers++
			s.Total += inv.Total
			s.Reserved += inv.Reserved
			s.Used += inv.Used
			s.Capacity += float64(inv.Total-inv.Reserved) * inv.AllocationRatio
		}
		return true
	})
	return sums
}
