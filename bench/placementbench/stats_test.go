package main

import (
	"testing"
	"time"
)

func TestSummarizeNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted input
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := summarize(ds)
	want := Stats{N: 100, P50ms: 50, P90ms: 90, P95ms: 95, P99ms: 99, MeanMs: 50.5, MinMs: 1, MaxMs: 100}
	if got != want {
		t.Errorf("summarize(1..100 ms) = %+v, want %+v", got, want)
	}
	if ds[0] != 100*time.Millisecond {
		t.Errorf("summarize sorted its input in place")
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"one sample", ms(7), 99, 7 * time.Millisecond},
		{"p50 of two", ms(1, 2), 50, 1 * time.Millisecond},
		{"p99 of two", ms(1, 2), 99, 2 * time.Millisecond},
		{"p50 of odd", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"p99 of ten is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p90 of ten", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{"p100", ms(1, 2, 3), 100, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarizeEmpty(t *testing.T) {
	if got := summarize(nil); got != (Stats{}) {
		t.Errorf("summarize(nil) = %+v, want zero", got)
	}
}

func TestPerSecond(t *testing.T) {
	if got := perSecond(500, 2*time.Second); got != 250 {
		t.Errorf("perSecond(500, 2s) = %v, want 250", got)
	}
	if got := perSecond(5, 0); got != 0 {
		t.Errorf("perSecond(5, 0) = %v, want 0", got)
	}
}

func TestRecorder(t *testing.T) {
	r := newRecorder()
	r.add("a", time.Millisecond)
	r.add("a", 3*time.Millisecond)
	r.add("b", 2*time.Millisecond)
	if r.count() != 3 || len(r.all()) != 3 {
		t.Fatalf("count %d, all %d; want 3", r.count(), len(r.all()))
	}
	s := r.summary()
	if s["a"].N != 2 || s["a"].MaxMs != 3 || s["b"].N != 1 {
		t.Errorf("summary = %+v", s)
	}
}
