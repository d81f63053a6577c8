package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Store records the database's write transactions.
type Store struct {
	transactions *prometheus.HistogramVec
	batchSize    prometheus.Histogram
	batchTime    prometheus.Histogram
	conflicts    *prometheus.CounterVec
	retries      *prometheus.CounterVec
}

// Outcomes of a write transaction (Store.Transaction).
const (
	OutcomeCommitted = "committed"
	OutcomeConflict  = "conflict"  // a generation compare-and-swap lost: nothing written
	OutcomeTransient = "transient" // a database conflict (deadlock, busy): run again
	OutcomeRejected  = "rejected"  // refused by a rule (not found, capacity, in use): nothing written
	OutcomeFailed    = "failed"    // anything else (the database failed)
)

// Kinds of store conflicts and reasons for retries.
const (
	ConflictGeneration = "generation" // a provider's or consumer's generation changed underneath
	ConflictTransient  = "transient"  // deadlock, serialization failure, SQLite busy
)

func newStore(reg prometheus.Registerer) *Store {
	s := &Store{
		transactions: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ingot_store_transaction_duration_seconds",
			Help: "Time of one write transaction as its caller waits for it (on SQLite including the wait for " +
				"its group commit), by outcome: committed, conflict (a generation check failed), transient " +
				"(a database conflict, run again), rejected (a rule refused the write), failed.",
			Buckets: latencyBuckets,
		}, []string{"outcome"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ingot_store_write_batch_size",
			Help:    "Writes committed together by one SQLite group commit (the count is the number of batches).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}),
		batchTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ingot_store_write_batch_duration_seconds",
			Help:    "Time of one SQLite group commit, from BEGIN IMMEDIATE to COMMIT.",
			Buckets: latencyBuckets,
		}),
		conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingot_store_conflicts_total",
			Help: "Write transactions that lost a race, by kind: generation (a provider or consumer generation " +
				"changed underneath) or transient (deadlock, serialization failure, database busy).",
		}, []string{"kind"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingot_store_retries_total",
			Help: "Write transactions run again by the store after a lost race, by kind (generation: allocation " +
				"writes, up to 10 times; transient: up to 5 times).",
		}, []string{"kind"}),
	}
	for _, k := range []string{ConflictGeneration, ConflictTransient} {
		s.conflicts.WithLabelValues(k)
		s.retries.WithLabelValues(k)
	}
	reg.MustRegister(s.transactions, s.batchSize, s.batchTime, s.conflicts, s.retries)
	return s
}

// Transaction records one attempt of a write transaction and its outcome (Outcome*).
func (s *Store) Transaction(outcome string, d time.Duration) {
	if s == nil {
		return
	}
	s.transactions.WithLabelValues(outcome).Observe(d.Seconds())
	switch outcome {
	case OutcomeConflict:
		s.conflicts.WithLabelValues(ConflictGeneration).Inc()
	case OutcomeTransient:
		s.conflicts.WithLabelValues(ConflictTransient).Inc()
	}
}

// Retry records that a transaction lost a race of the kind (Conflict*) and runs again.
func (s *Store) Retry(kind string) {
	if s == nil {
		return
	}
	s.retries.WithLabelValues(kind).Inc()
}

// Batch records one SQLite group commit of n writes that took d.
func (s *Store) Batch(n int, d time.Duration) {
	if s == nil {
		return
	}
	s.batchSize.Observe(float64(n))
	s.batchTime.Observe(d.Seconds())
}
