package placement

import (
	"math"
	"time"
)

// Provider is a resource provider. ParentUUID is empty for a root; RootUUID is the provider's
// own UUID for a root.
type Provider struct {
	UUID       string
	Name       string
	Generation int64
	ParentUUID string
	RootUUID   string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Modified is the provider's last modification time: its update time, or its creation time if
// it was never updated.
func (p Provider) Modified() time.Time {
	if p.UpdatedAt.IsZero() {
		return p.CreatedAt
	}
	return p.UpdatedAt
}

// Inventory is one resource class's inventory on one provider.
type Inventory struct {
	Total           int64
	Reserved        int64
	MinUnit         int64
	MaxUnit         int64
	StepSize        int64
	AllocationRatio float64
}

// Defaults for the inventory fields a client may omit.
const (
	DefaultReserved        = 0
	DefaultMinUnit         = 1
	DefaultStepSize        = 1
	DefaultAllocationRatio = 1.0
	// MaxInt is the largest value of an integer inventory or allocation field (a 32-bit
	// signed integer, as Placement's schemas and database columns allow).
	MaxInt = 2147483647
)

// Capacity is the amount of the class that can be allocated in total: (total - reserved) *
// allocation_ratio, truncated toward zero as Placement does. Placement computes it in
// floating point and admits ratios up to 3.4e38, so the product can exceed int64: it is
// clamped to [math.MinInt64, math.MaxInt64] (a Go conversion of such a float is undefined).
func (i Inventory) Capacity() int64 {
	c := float64(i.Total-i.Reserved) * i.AllocationRatio
	switch {
	case c != c: // NaN: no ratio the schema admits gives one
		return 0
	case c >= -float64(math.MinInt64): // 2^63
		return math.MaxInt64
	case c <= float64(math.MinInt64):
		return math.MinInt64
	}
	return int64(c)
}

// CheckAmount reports whether one allocation of amount fits the inventory's unit rules:
// min_unit <= amount <= max_unit and amount a multiple of step_size.
func (i Inventory) CheckAmount(amount int64) bool {
	if amount < i.MinUnit || amount > i.MaxUnit {
		return false
	}
	return i.StepSize <= 0 || amount%i.StepSize == 0
}

// Fits reports whether amount more can be allocated given used already allocated: the unit
// rules hold and used + amount does not exceed the capacity.
func (i Inventory) Fits(used, amount int64) bool {
	return i.CheckAmount(amount) && i.HasRoom(used, amount)
}

// HasRoom reports whether amount more fits within the capacity given used already
// allocated, unit rules aside.
func (i Inventory) HasRoom(used, amount int64) bool {
	return float64(used+amount) <= float64(i.Total-i.Reserved)*i.AllocationRatio
}

// Allocation is an amount of one resource class that a consumer holds on one provider.
type Allocation struct {
	ProviderUUID  string
	ResourceClass string
	Used          int64
}

// Consumer is the holder of allocations.
type Consumer struct {
	UUID       string
	ProjectID  string
	UserID     string
	Type       string // "" when not set (shown as "unknown")
	Generation int64
}

// ConsumerAllocations is the full set of allocations a write gives one consumer, replacing
// whatever it held before. An empty Allocations removes all of the consumer's allocations.
type ConsumerAllocations struct {
	ConsumerUUID string
	ProjectID    string
	UserID       string
	// ConsumerType is the consumer type to record; "" keeps the existing type (or none).
	ConsumerType string
	// CheckGeneration makes the write conditional on the consumer's generation:
	// Generation == nil means the consumer must not exist yet.
	CheckGeneration bool
	Generation      *int64
	Allocations     []Allocation
}

// Usage is the amount of each resource class in use, keyed by class name.
type Usage map[string]int64
