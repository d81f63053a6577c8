package placement

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestInventoryCapacityAndFits(t *testing.T) {
	vcpu := Inventory{Total: 16, Reserved: 2, MinUnit: 1, MaxUnit: 8, StepSize: 1, AllocationRatio: 4}
	mem := Inventory{Total: 1000, Reserved: 1, MinUnit: 256, MaxUnit: 1000, StepSize: 256, AllocationRatio: 1.5}
	tests := []struct {
		name         string
		inv          Inventory
		used, amount int64
		unit, fits   bool
	}{
		{"within capacity", vcpu, 0, 8, true, true},
		{"above max_unit", vcpu, 0, 9, false, false},
		{"below min_unit", vcpu, 0, 0, false, false},
		{"exactly at capacity", vcpu, 48, 8, true, true},
		{"one over capacity", vcpu, 49, 8, true, false},
		{"multiple of step", mem, 0, 512, true, true},
		{"not a multiple of step", mem, 0, 300, false, false},
		// (1000-1)*1.5 = 1498.5: the integer part is usable, nothing beyond it.
		{"fractional capacity admits its integer part", mem, 1242, 256, true, true},
		{"fractional capacity is not rounded up", mem, 1243, 256, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.inv.CheckAmount(tc.amount); got != tc.unit {
				t.Errorf("CheckAmount(%d) = %v, want %v", tc.amount, got, tc.unit)
			}
			if got := tc.inv.Fits(tc.used, tc.amount); got != tc.fits {
				t.Errorf("Fits(%d, %d) = %v, want %v", tc.used, tc.amount, got, tc.fits)
			}
		})
	}
	if got := mem.Capacity(); got != 1498 {
		t.Errorf("Capacity() = %d, want 1498 (truncated, as provider summaries show it)", got)
	}
	// Placement admits allocation_ratio up to 3.4e38: 8 * 1e38 is far beyond int64.
	huge := Inventory{Total: 8, Reserved: 0, MinUnit: 1, MaxUnit: 8, StepSize: 1, AllocationRatio: 1e38}
	if got := huge.Capacity(); got != math.MaxInt64 {
		t.Errorf("Capacity() with ratio 1e38 = %d, want math.MaxInt64", got)
	}
	if !huge.Fits(math.MaxInt32, 8) {
		t.Error("ratio 1e38 must fit any allocation")
	}
	over := Inventory{Total: 1, Reserved: 8, AllocationRatio: 1e38}
	if got := over.Capacity(); got != math.MinInt64 {
		t.Errorf("Capacity() of reserved > total at ratio 1e38 = %d, want math.MinInt64", got)
	}
	if got := (Inventory{Total: 4, StepSize: 0, MinUnit: 1, MaxUnit: 4, AllocationRatio: 1}).CheckAmount(3); !got {
		t.Error("a zero step_size must not reject amounts")
	}
}

func TestErrorIsMatchesKindAndCode(t *testing.T) {
	conflict := ConcurrentUpdatef("provider %s changed", "p1")
	wrapped := fmt.Errorf("set inventories: %w", conflict)
	if !errors.Is(wrapped, ErrConcurrentUpdate) || !errors.Is(wrapped, ErrConflict) {
		t.Error("a concurrent update must match ErrConcurrentUpdate and ErrConflict through wrapping")
	}
	if errors.Is(wrapped, ErrInventoryInUse) || errors.Is(wrapped, ErrNotFound) {
		t.Error("a concurrent update must not match another code or kind")
	}
	if errors.Is(wrapped, &Error{Kind: KindConflict, Code: CodeConcurrentUpdate, Detail: "x"}) {
		t.Error("only sentinels (empty detail) match by kind; other errors compare by identity")
	}
	e, ok := AsError(wrapped)
	if !ok || e.Detail != "provider p1 changed" || e.Code != CodeConcurrentUpdate {
		t.Errorf("AsError = %+v, %v", e, ok)
	}
	if _, ok := AsError(errors.New("disk on fire")); ok {
		t.Error("AsError found a domain error in a plain error")
	}
}
