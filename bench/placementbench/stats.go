package main

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Stats summarizes a set of request latencies. Percentiles use the nearest-rank method, so
// every reported value is one that was actually observed.
type Stats struct {
	N      int     `json:"n"`
	P50ms  float64 `json:"p50_ms"`
	P90ms  float64 `json:"p90_ms"`
	P95ms  float64 `json:"p95_ms"`
	P99ms  float64 `json:"p99_ms"`
	MeanMs float64 `json:"mean_ms"`
	MinMs  float64 `json:"min_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// summarize returns the statistics of ds; the zero Stats for no samples.
func summarize(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Stats{
		N:      len(s),
		P50ms:  ms(percentile(s, 50)),
		P90ms:  ms(percentile(s, 90)),
		P95ms:  ms(percentile(s, 95)),
		P99ms:  ms(percentile(s, 99)),
		MeanMs: ms(sum / time.Duration(len(s))),
		MinMs:  ms(s[0]),
		MaxMs:  ms(s[len(s)-1]),
	}
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of sorted, which must not
// be empty: the smallest value such that at least p percent of the samples are <= it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	k := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	k = max(0, min(k, len(sorted)-1))
	return sorted[k]
}

// ms converts d to milliseconds rounded to microseconds.
func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

// round3 rounds f to three decimals.
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// perSecond returns count/elapsed rounded to three decimals; 0 for no elapsed time.
func perSecond(count int, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return round3(float64(count) / elapsed.Seconds())
}

// recorder collects latencies per request kind from concurrent clients.
type recorder struct {
	mu   sync.Mutex
	byOp map[string][]time.Duration
}

func newRecorder() *recorder { return &recorder{byOp: map[string][]time.Duration{}} }

func (r *recorder) add(op string, d time.Duration) {
	r.mu.Lock()
	r.byOp[op] = append(r.byOp[op], d)
	r.mu.Unlock()
}

// all returns every recorded latency of every kind.
func (r *recorder) all() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	for _, ds := range r.byOp {
		out = append(out, ds...)
	}
	return out
}

// count returns how many latencies were recorded.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ds := range r.byOp {
		n += len(ds)
	}
	return n
}

// summary returns the statistics of every request kind.
func (r *recorder) summary() map[string]Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Stats, len(r.byOp))
	for op, ds := range r.byOp {
		out[op] = summarize(ds)
	}
	return out
}

// medianFloat returns the median of vs (the mean of the two middle values for an even
// count); 0 for none.
func medianFloat(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
