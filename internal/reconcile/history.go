package reconcile

import (
	"sync"
	"time"

	"ingot/internal/ironic"
)

// HistorySize is how many recent passes History keeps.
const HistorySize = 240

// PassRecord is one finished pass as History keeps it.
type PassRecord struct {
	Start        time.Time
	Duration     time.Duration
	ListDuration time.Duration
	Nodes        int
	Changes      int
	Conflicts    int
	Errors       int
	Orphaned     int
	Seq          int64
	Err          string // why the pass failed; "" when it succeeded
}

// Listing is the tracker's last successful listing of its scope's nodes.
type Listing struct {
	Nodes []ironic.Node // must not be modified
	At    time.Time     // when the listing ended
	Pass  int64         // the number of listings so far (1 for the first)
}

// history is a ring of recent passes and the last listing; safe for concurrent use.
type history struct {
	mu      sync.Mutex
	ring    []PassRecord
	next    int
	listing Listing
}

func (h *history) add(start time.Time, st Stats, err error) {
	rec := PassRecord{Start: start, Duration: st.Duration, ListDuration: st.ListDuration, Nodes: st.Nodes,
		Changes: st.Changes, Conflicts: st.Conflicts, Errors: st.Errors, Orphaned: st.Orphaned, Seq: st.Seq}
	if err != nil {
		rec.Err = err.Error()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ring) < HistorySize {
		h.ring = append(h.ring, rec)
		return
	}
	h.ring[h.next] = rec
	h.next = (h.next + 1) % HistorySize
}

func (h *history) setListing(nodes []ironic.Node) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.listing = Listing{Nodes: nodes, At: time.Now(), Pass: h.listing.Pass + 1}
}

// History returns the last HistorySize passes, oldest first. Safe for concurrent use.
func (r *Reconciler) History() []PassRecord {
	h := &r.hist
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]PassRecord, 0, len(h.ring))
	out = append(out, h.ring[h.next:]...)
	return append(out, h.ring[:h.next]...)
}

// LastListing returns the last successful listing of the scope's nodes (zero before the
// first). Safe for concurrent use.
func (r *Reconciler) LastListing() Listing {
	r.hist.mu.Lock()
	defer r.hist.mu.Unlock()
	return r.hist.listing
}
