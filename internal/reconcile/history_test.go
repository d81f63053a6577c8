package reconcile

import (
	"errors"
	"testing"
	"time"
)

// TestHistoryKeepsTheLastPasses checks that History is bounded, oldest first, and keeps
// failed passes with their error.
func TestHistoryKeepsTheLastPasses(t *testing.T) {
	r := &Reconciler{}
	t0 := time.Unix(1000, 0)
	for i := range HistorySize + 5 {
		var err error
		if i%7 == 0 {
			err = errors.New("ironic down")
		}
		r.hist.add(t0.Add(time.Duration(i)*time.Second), Stats{Nodes: i}, err)
	}
	h := r.History()
	if len(h) != HistorySize {
		t.Fatalf("%d passes kept, want %d", len(h), HistorySize)
	}
	for j, p := range h {
		i := j + 5
		if p.Nodes != i || !p.Start.Equal(t0.Add(time.Duration(i)*time.Second)) || (p.Err != "") != (i%7 == 0) {
			t.Fatalf("pass %d = %+v, want pass %d", j, p, i)
		}
	}
	if l := r.LastListing(); l.Pass != 0 || l.Nodes != nil {
		t.Errorf("listing before any: %+v", l)
	}
	r.hist.setListing(nil)
	r.hist.setListing(nil)
	if l := r.LastListing(); l.Pass != 2 || l.At.IsZero() {
		t.Errorf("listing after two: %+v", l)
	}
}
