// Package backoff computes the waits between attempts of something that keeps failing
// (an Ironic request, a tracker pass): exponential, capped, with jitter so that many
// clients that failed together do not retry together.
package backoff

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Backoff is an exponential backoff with jitter. It is safe for concurrent use.
type Backoff struct {
	min, max time.Duration

	mu   sync.Mutex
	rand *rand.Rand // nil: math/rand/v2's global source
}

// New returns the backoff whose n-th wait is min*2^(n-1), at most max (a max below min
// counts as min), picked uniformly from the upper half of that. src is the jitter's
// source; nil means math/rand/v2's global source (tests pass a fixed one).
func New(min, max time.Duration, src rand.Source) *Backoff {
	b := &Backoff{min: min, max: max}
	if src != nil {
		b.rand = rand.New(src)
	}
	return b
}

// Delay returns the wait after the n-th failure in a row (n >= 1; below 1 counts as 1).
func (b *Backoff) Delay(n int) time.Duration {
	limit := max(b.max, b.min)
	d := b.min
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	return half + time.Duration(b.float64()*float64(d-half))
}

func (b *Backoff) float64() float64 {
	if b.rand == nil {
		return rand.Float64()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rand.Float64()
}
