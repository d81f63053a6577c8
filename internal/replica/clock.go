package replica

import (
	"time"
)

// Clock is the time source of the lease's local deadline and of the replica's timers.
// Tests (and the hidden --debug-clock-offset and --debug-clock-rate flags) skew it;
// readings keep Go's monotonic clock, so only Sub between readings of one Clock matters.
type Clock interface {
	Now() time.Time
	// After waits d as measured by this clock.
	After(d time.Duration) <-chan time.Time
}

// System is the real clock.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// After is time.After.
func (System) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Skewed is a clock that reads Offset ahead of the real one and runs Rate times as fast
// (Rate 1.25: 1.25 s pass on it for every real second). It stands in for a machine whose
// clock is off, which faketime cannot make Go see.
type Skewed struct {
	start  time.Time
	offset time.Duration
	rate   float64
}

// NewSkewed returns a clock with the offset and rate (<= 0 means 1).
func NewSkewed(offset time.Duration, rate float64) *Skewed {
	if rate <= 0 {
		rate = 1
	}
	return &Skewed{start: time.Now(), offset: offset, rate: rate}
}

// Now returns the skewed reading; it keeps a monotonic reading, scaled by the rate.
func (c *Skewed) Now() time.Time {
	el := time.Since(c.start)
	return c.start.Add(c.offset + time.Duration(float64(el)*c.rate))
}

// After waits d of this clock's time: d/rate of real time.
func (c *Skewed) After(d time.Duration) <-chan time.Time {
	return time.After(time.Duration(float64(d) / c.rate))
}
