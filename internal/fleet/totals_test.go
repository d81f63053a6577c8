package fleet_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"ingot/internal/fleet"
	"ingot/internal/placement"
)

func TestTotals(t *testing.T) {
	inv := func(class, total, reserved, used int64, ratio float64) fleet.Inventory {
		return fleet.Inventory{ClassID: class, Used: used,
			Inventory: placement.Inventory{Total: total, Reserved: reserved, MinUnit: 1, MaxUnit: total, StepSize: 1, AllocationRatio: ratio}}
	}
	a, b, c := provider(1, "a"), provider(2, "b"), provider(3, "c")
	a.Inventories = []fleet.Inventory{inv(1, 16, 2, 4, 2), inv(2, 1, 0, 1, 1)}
	b.Inventories = []fleet.Inventory{inv(1, 8, 0, 0, 1.5)}
	v := fleet.New(1, &fleet.Catalog{}, []*fleet.Provider{a, b, c})
	want := map[int64]*fleet.ClassTotals{
		1: {Providers: 2, Total: 24, Reserved: 2, Used: 4, Capacity: (16-2)*2 + 8*1.5},
		2: {Providers: 1, Total: 1, Reserved: 0, Used: 1, Capacity: 1},
	}
	if diff := cmp.Diff(want, v.Totals()); diff != "" {
		t.Errorf("Totals (-want +got):\n%s", diff)
	}
}
