package reconcile

import (
	"sync"
	"time"
)

// Status is what the tracker's passes have done so far, for health checks and operators.
type Status struct {
	// Passes counts the passes that completed (a pass that listed, planned and applied,
	// whatever its per-node errors).
	Passes int
	// LastPass is when the last completed pass ended, and LastStats what it did.
	LastPass  time.Time
	LastStats Stats
	// Failures counts the failed passes since the last completed one, and LastError is
	// the last one's error (nil after a completed pass).
	Failures  int
	LastError error
}

// status keeps a Reconciler's Status.
type status struct {
	mu sync.Mutex
	s  Status
}

func (s *status) record(st Stats, err error, end time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.s.Failures++
		s.s.LastError = err
		return
	}
	s.s.Passes++
	s.s.LastPass, s.s.LastStats = end, st
	s.s.Failures, s.s.LastError = 0, nil
}

// Status reports the passes so far. Safe for concurrent use, also during a pass.
func (r *Reconciler) Status() Status {
	r.status.mu.Lock()
	defer r.status.mu.Unlock()
	return r.status.s
}
