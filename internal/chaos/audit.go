package chaos

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"ingot/internal/ironic/ironictest"
)

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// Event is one audit line of a replica's log: a fenced write's outcome ("fenced write")
// or an ownership change ("ownership change"); others are kept with their message.
type Event struct {
	Time time.Time `json:"time"`
	Msg  string    `json:"msg"`
	// Fenced write: the node, the writer and its epoch, and whether it was accepted.
	Node     string `json:"node"`
	Replica  string `json:"replica"`
	Epoch    int64  `json:"epoch"`
	Accepted bool   `json:"accepted"`
	// Checked is when an accepted write's fence held (store.FenceAudit.Checked): the
	// write is ordered by it, since its rows stayed locked from then until the commit.
	Checked time.Time `json:"checked_at"`
	// Ownership change: from, to and why (claim, expired, handoff, move, self, offer).
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
	// Log is the file the line came from.
	Log string `json:"-"`
}

const (
	msgWrite  = "fenced write"
	msgChange = "ownership change"
)

// ReadLog returns the audit events of one log (JSON lines; others are skipped).
func ReadLog(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !strings.Contains(string(line), `"msg":"fenced write"`) && !strings.Contains(string(line), `"msg":"ownership change"`) {
			continue
		}
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			continue // a line cut by kill -9
		}
		e.Log = path
		if e.Msg == msgWrite && e.Accepted && !e.Checked.IsZero() {
			e.Time = e.Checked // not when it was logged: a pause may come between
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// Report is the auditor's verdict and counts.
type Report struct {
	Accepted, Rejected int // fenced writes
	Changes            int // ownership changes (offers excluded)
	Mutations          int // mutating Ironic calls
	Violations         []string
}

func (r Report) String() string {
	return fmt.Sprintf("%d accepted and %d rejected fenced writes, %d ownership changes, %d mutating Ironic calls, %d violations",
		r.Accepted, r.Rejected, r.Changes, r.Mutations, len(r.Violations))
}

type grant struct {
	node, replica string
	epoch         int64
}

// Check checks the invariants over every replica's events and the fake Ironic's audit:
//
//  1. per node, accepted fenced writes have non-decreasing epochs in commit order (the
//     order of their lines: each is written after its commit), and each was written under
//     an epoch granted to its writer by an ownership change;
//  2. per node, the mutating Ironic calls (answered other than 409) carry a fence, their
//     epochs are non-decreasing in the order the fake received them, one epoch is used by
//     one replica, each fence was granted, and none reached Ironic after a later owner's
//     claim was logged (the old owner's window ended);
//  3. no epoch was granted twice (to two replicas, or twice to one).
func Check(evs []Event, muts []ironictest.Mutation) Report {
	var rep Report
	bad := func(format string, args ...any) {
		if len(rep.Violations) < 50 {
			rep.Violations = append(rep.Violations, fmt.Sprintf(format, args...))
		} else if len(rep.Violations) == 50 {
			rep.Violations = append(rep.Violations, "... (more)")
		}
	}
	slices.SortStableFunc(evs, func(a, b Event) int { return a.Time.Compare(b.Time) })
	granted := map[grant]time.Time{}
	byEpoch := map[string]map[int64]string{}
	claims := map[string][]Event{} // per node, in time order
	for _, e := range evs {
		if e.Msg != msgChange || e.Reason == "offer" {
			continue
		}
		rep.Changes++
		g := grant{e.Node, e.To, e.Epoch}
		if m := byEpoch[e.Node]; m != nil {
			if prev, dup := m[e.Epoch]; dup {
				bad("node %s: epoch %d granted to %s and again to %s", e.Node, e.Epoch, prev, e.To)
			}
		} else {
			byEpoch[e.Node] = map[int64]string{}
		}
		byEpoch[e.Node][e.Epoch] = e.To
		granted[g] = e.Time
		claims[e.Node] = append(claims[e.Node], e)
	}
	last := map[string]Event{}
	for _, e := range evs {
		if e.Msg != msgWrite {
			continue
		}
		if !e.Accepted {
			rep.Rejected++
			continue
		}
		rep.Accepted++
		if _, ok := granted[grant{e.Node, e.Replica, e.Epoch}]; !ok {
			bad("node %s: write accepted from %s at epoch %d, never granted to it", e.Node, e.Replica, e.Epoch)
		}
		if p, ok := last[e.Node]; ok && e.Epoch < p.Epoch {
			bad("node %s: write accepted from %s at epoch %d at %s after one at epoch %d from %s at %s",
				e.Node, e.Replica, e.Epoch, e.Time.Format(time.RFC3339Nano), p.Epoch, p.Replica, p.Time.Format(time.RFC3339Nano))
		}
		last[e.Node] = e
	}
	slices.SortStableFunc(muts, func(a, b ironictest.Mutation) int { return a.Received.Compare(b.Received) })
	type fence struct {
		replica string
		epoch   int64
	}
	lastCall := map[string]fence{}
	for _, m := range muts {
		if m.Status == http.StatusConflict {
			continue
		}
		rep.Mutations++
		id, ep, ok := strings.Cut(m.Fence, "/")
		epoch, err := strconv.ParseInt(ep, 10, 64)
		if !ok || err != nil || id == "" {
			bad("%s %s at %s without a fence (%q)", m.Method, m.Path, m.Received.Format(time.RFC3339Nano), m.Fence)
			continue
		}
		if _, ok := granted[grant{m.Node, id, epoch}]; !ok {
			bad("%s %s by %s at epoch %d, never granted to it", m.Method, m.Path, id, epoch)
		}
		f := fence{id, epoch}
		if p, ok := lastCall[m.Node]; ok && (f.epoch < p.epoch || f.epoch == p.epoch && f.replica != p.replica) {
			bad("node %s: %s %s by %s/%d at %s after a call by %s/%d", m.Node, m.Method, m.Path, id, epoch,
				m.Received.Format(time.RFC3339Nano), p.replica, p.epoch)
		}
		lastCall[m.Node] = f
		for _, c := range claims[m.Node] {
			if c.Epoch > epoch && c.Time.Before(m.Received) {
				bad("node %s: %s %s by %s/%d reached Ironic at %s, after %s claimed it at epoch %d at %s",
					m.Node, m.Method, m.Path, id, epoch, m.Received.Format(time.RFC3339Nano), c.To, c.Epoch,
					c.Time.Format(time.RFC3339Nano))
				break
			}
		}
	}
	return rep
}

// HandoverGaps returns, for every offer in evs between from and to, the time until the
// node's next grant (an ownership change to anyone): how long the node had no owner
// acting on it. Offers never followed by a grant are returned as -1.
func HandoverGaps(evs []Event, from, to time.Time) []time.Duration {
	slices.SortStableFunc(evs, func(a, b Event) int { return a.Time.Compare(b.Time) })
	open := map[string]time.Time{}
	var gaps []time.Duration
	for _, e := range evs {
		if e.Msg != msgChange || e.Time.Before(from) || e.Time.After(to) {
			continue
		}
		if e.Reason == "offer" {
			open[e.Node] = e.Time
			continue
		}
		if t, ok := open[e.Node]; ok {
			gaps = append(gaps, e.Time.Sub(t))
			delete(open, e.Node)
		}
	}
	for range open {
		gaps = append(gaps, -1)
	}
	return gaps
}

// Grants returns the ownership changes (offers excluded) in evs between from and to.
func Grants(evs []Event, from, to time.Time) []Event {
	var out []Event
	for _, e := range evs {
		if e.Msg == msgChange && e.Reason != "offer" && !e.Time.Before(from) && !e.Time.After(to) {
			out = append(out, e)
		}
	}
	return out
}

// Events reads every replica's log.
func (c *Cluster) Events() []Event {
	c.t.Helper()
	var evs []Event
	for _, p := range c.Logs() {
		e, err := ReadLog(p)
		if err != nil {
			c.t.Fatal(err)
		}
		evs = append(evs, e...)
	}
	return evs
}

// Percentile returns the p-th percentile (0-100) of ds, 0 for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}
