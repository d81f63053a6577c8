package backoff_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"ingot/internal/backoff"
)

// fixed is a rand.Source whose every Float64 is the same, set by its Uint64.
type fixed uint64

func (f fixed) Uint64() uint64 { return uint64(f) }

func TestDelay(t *testing.T) {
	low := fixed(0)               // Float64 = 0: the lower end, half the nominal delay
	high := fixed(math.MaxUint64) // Float64 just below 1: the nominal delay
	s := time.Second
	for _, c := range []struct {
		name     string
		min, max time.Duration
		src      rand.Source
		want     []time.Duration // for n = 1, 2, ...
	}{
		{"doubles to the cap, low end", s, 10 * s, low, []time.Duration{s / 2, s, 2 * s, 4 * s, 5 * s, 5 * s}},
		{"doubles to the cap, high end", s, 10 * s, high, []time.Duration{s, 2 * s, 4 * s, 8 * s, 10 * s, 10 * s}},
		{"max below min counts as min", 4 * s, s, low, []time.Duration{2 * s, 2 * s}},
	} {
		b := backoff.New(c.min, c.max, c.src)
		for i, want := range c.want {
			got := b.Delay(i + 1)
			// The high end is Float64's largest value, a hair below 1.
			if got != want && !(c.src == high && want-got > 0 && want-got < time.Microsecond) {
				t.Errorf("%s: Delay(%d) = %v, want %v", c.name, i+1, got, want)
			}
		}
	}
	if d := backoff.New(s, 10*s, low).Delay(0); d != s/2 {
		t.Errorf("Delay(0) = %v, want the first delay", d)
	}
	if d := backoff.New(s, time.Hour, low).Delay(1 << 20); d != 30*time.Minute {
		t.Errorf("Delay(huge n) = %v, want the cap's low end", d)
	}
}

func TestDelayJitterStaysInTheUpperHalf(t *testing.T) {
	b := backoff.New(time.Second, time.Minute, nil)
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := b.Delay(3) // nominal 4s
		if d < 2*time.Second || d > 4*time.Second {
			t.Fatalf("Delay(3) = %v, outside [2s, 4s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 100 {
		t.Errorf("only %d different delays in 1000: no jitter", len(seen))
	}
}
