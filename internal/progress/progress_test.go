package progress_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"ingot/internal/progress"
)

// clock is a fake clock the test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestMeterCadence(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC)}
	var got []progress.Report
	m := progress.New(1000, func(r progress.Report) { got = append(got, r) }, progress.Options{Every: 5 * time.Second, Now: c.now})

	// 100 items a second for 4.9 s: shorter than the cadence, no report.
	for range 49 {
		c.advance(100 * time.Millisecond)
		m.Add(10)
	}
	if len(got) != 0 {
		t.Fatalf("reports before 5 s: %+v", got)
	}
	c.advance(100 * time.Millisecond)
	m.Add(10) // 5 s, 500 done
	if len(got) != 1 {
		t.Fatalf("%d reports at 5 s; want 1", len(got))
	}
	r := got[0]
	if r.Done != 500 || r.Total != 1000 || r.Elapsed != 5*time.Second || r.Rate != 100 || r.Left != 5*time.Second || r.Percent() != 50 {
		t.Errorf("report at 5 s = %+v (%.1f%%); want 500/1000, 100/s, 5 s left, 50%%", r, r.Percent())
	}
	// The next report comes 5 s after the first, not at every Add.
	for range 49 {
		c.advance(100 * time.Millisecond)
		m.Add(5)
	}
	if len(got) != 1 {
		t.Fatalf("%d reports at 9.9 s; want still 1", len(got))
	}
	c.advance(100 * time.Millisecond)
	m.Add(5) // 10 s, 750 done: 75/s on average, 250 left
	left := 250.0 / 75
	if len(got) != 2 || got[1].Done != 750 || got[1].Rate != 75 || got[1].Left != time.Duration(left*float64(time.Second)) {
		t.Fatalf("reports at 10 s = %+v; want a second one at 750 done, 75/s", got)
	}
	c.advance(time.Second)
	f := m.Finish()
	if len(got) != 3 || !f.Final || got[2] != f || f.Left != 0 || f.Elapsed != 11*time.Second {
		t.Fatalf("Finish = %+v, reports %+v; want a final report at 11 s", f, got)
	}
}

func TestMeterQuietWhenShort(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	calls := 0
	m := progress.New(10, func(progress.Report) { calls++ }, progress.Options{Every: 5 * time.Second, Now: c.now})
	for range 10 {
		c.advance(time.Second / 3)
		m.Add(1)
	}
	if r := m.Finish(); calls != 0 || r.Done != 10 || !r.Final {
		t.Fatalf("an operation of 3.3 s reported %d times (Finish %+v); want none", calls, r)
	}
}

func TestMeterUnknownTotal(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	var got []progress.Report
	m := progress.New(0, func(r progress.Report) { got = append(got, r) }, progress.Options{Now: c.now})
	c.advance(progress.DefaultEvery)
	m.Add(40)
	if len(got) != 1 || got[0].Left >= 0 || got[0].Percent() != 0 || got[0].Rate != 8 {
		t.Fatalf("report without a total = %+v; want no estimate, 8/s", got)
	}
	m.SetTotal(80)
	c.advance(progress.DefaultEvery)
	m.Add(0)
	if len(got) != 2 || got[1].Total != 80 || got[1].Left != 10*time.Second || got[1].Percent() != 50 {
		t.Fatalf("report once the total is known = %+v; want 50%%, ETA from the rate", got[1])
	}
}

func TestLog(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	m := progress.New(3000, progress.Log(log, "tracker pass progress", slog.String("phase", "writing")),
		progress.Options{Now: c.now})
	c.advance(6 * time.Second)
	m.Add(1200)
	c.advance(4 * time.Second)
	m.Add(1800)
	c.advance(time.Second)
	m.Add(0)
	m.Finish()
	want := `level=INFO msg="tracker pass progress" done=1200 total=3000 percent=40 rate=200 elapsed=6s eta=9s phase=writing
level=INFO msg="tracker pass progress" done=3000 total=3000 percent=100 rate=272.7 elapsed=11s eta=0s phase=writing
level=INFO msg="tracker pass progress done" done=3000 total=3000 percent=100 rate=272.7 elapsed=11s phase=writing
`
	if got := buf.String(); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
	if strings.Count(buf.String(), "\n") != 3 {
		t.Error("want three lines")
	}
}
