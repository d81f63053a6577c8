// Package progress reports how far a long operation has come (done, total, rate and the
// estimated time left) at a steady cadence, and only once the operation has lasted longer
// than that cadence: a short operation reports nothing.
package progress

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"
)

// DefaultEvery is the cadence of a Meter made with Every zero.
const DefaultEvery = 5 * time.Second

// Report is one progress report.
type Report struct {
	Done  int
	Total int // 0 when unknown
	// Elapsed is the time since the Meter was made.
	Elapsed time.Duration
	// Rate is the average number done per second since the start.
	Rate float64
	// Left is the estimated time left at Rate; negative when it cannot be estimated
	// (total unknown, nothing done yet).
	Left time.Duration
	// Final is set on the report Finish makes.
	Final bool
}

// Percent is Done as a percentage of Total (0 when the total is unknown).
func (r Report) Percent() float64 {
	if r.Total <= 0 {
		return 0
	}
	return 100 * float64(r.Done) / float64(r.Total)
}

// Meter counts the work of one operation and calls its report function at most once per
// Every, the first time only after Every has passed. Safe for concurrent use; the report
// function is called with the Meter's lock held, so calls never overlap.
type Meter struct {
	mu       sync.Mutex
	every    time.Duration
	now      func() time.Time
	report   func(Report)
	start    time.Time
	last     time.Time // of the last report; the start before the first
	done     int
	total    int
	reported bool
}

// Options configure a Meter.
type Options struct {
	// Every is the cadence (DefaultEvery when zero).
	Every time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// New returns a Meter of an operation of total items (0: unknown) that calls report.
func New(total int, report func(Report), opts Options) *Meter {
	if opts.Every <= 0 {
		opts.Every = DefaultEvery
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	start := opts.Now()
	return &Meter{every: opts.Every, now: opts.Now, report: report, start: start, last: start, total: total}
}

// Add counts n more items done and reports when the cadence says so.
func (m *Meter) Add(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.done += n
	now := m.now()
	if now.Sub(m.last) >= m.every {
		m.last = now
		m.reported = true
		m.report(m.snapshot(now, false))
	}
}

// SetTotal changes the total (an estimate became known).
func (m *Meter) SetTotal(total int) {
	m.mu.Lock()
	m.total = total
	m.mu.Unlock()
}

// Finish ends the operation: it makes a final report, but only if it reported before (an
// operation that never reported stays silent), and returns what the final report holds.
func (m *Meter) Finish() Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.snapshot(m.now(), true)
	if m.reported {
		m.report(r)
	}
	return r
}

func (m *Meter) snapshot(now time.Time, final bool) Report {
	r := Report{Done: m.done, Total: m.total, Elapsed: now.Sub(m.start), Left: -1, Final: final}
	if secs := r.Elapsed.Seconds(); secs > 0 {
		r.Rate = float64(m.done) / secs
	}
	switch {
	case final:
		r.Left = 0
	case m.total > 0 && r.Rate > 0:
		left := float64(max(m.total-m.done, 0)) / r.Rate
		r.Left = time.Duration(math.Min(left, float64(math.MaxInt64/int64(time.Second))) * float64(time.Second))
	}
	return r
}

// Attrs are a report's log attributes: done, total, percent, rate (per second), elapsed
// and eta (time left), leaving out what is unknown.
func (r Report) Attrs() []slog.Attr {
	attrs := []slog.Attr{slog.Int("done", r.Done)}
	if r.Total > 0 {
		attrs = append(attrs, slog.Int("total", r.Total), slog.Float64("percent", math.Round(r.Percent()*10)/10))
	}
	attrs = append(attrs, slog.Float64("rate", math.Round(r.Rate*10)/10), slog.Duration("elapsed", r.Elapsed.Round(time.Millisecond)))
	if !r.Final && r.Left >= 0 {
		attrs = append(attrs, slog.Duration("eta", r.Left.Round(time.Second)))
	}
	return attrs
}

// Log returns a report function that logs each report to log at Info with msg, the
// report's Attrs and attrs; the final report's message is msg + " done".
func Log(log *slog.Logger, msg string, attrs ...slog.Attr) func(Report) {
	return func(r Report) {
		m := msg
		if r.Final {
			m += " done"
		}
		log.LogAttrs(context.Background(), slog.LevelInfo, m, append(r.Attrs(), attrs...)...)
	}
}
