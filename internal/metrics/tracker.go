package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Tracker records the Ironic resource tracker's passes.
type Tracker struct {
	passes      *prometheus.CounterVec
	duration    prometheus.Histogram
	listing     prometheus.Histogram
	nodes       prometheus.Gauge
	changes     *prometheus.CounterVec
	errors      prometheus.Counter
	conflicts   prometheus.Counter
	orphaned    prometheus.Gauge
	lastSuccess prometheus.Gauge
}

// passBuckets are the upper bounds (seconds) of pass durations: an unchanged fleet costs a
// listing (tens of milliseconds), a first pass at 10,000 nodes some seconds, the timeout
// is 10 minutes.
var passBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

func newTracker(reg prometheus.Registerer) *Tracker {
	t := &Tracker{
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingot_tracker_passes_total",
			Help: "Ironic resource tracker passes, by outcome (success, failure: Ironic or the database failed).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ingot_tracker_pass_duration_seconds",
			Help:    "Time of one tracker pass (listing, planning and writing), failed passes included.",
			Buckets: passBuckets,
		}),
		listing: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ingot_tracker_listing_duration_seconds",
			Help:    "Time of one pass's listing of the scope's nodes in Ironic (every page).",
			Buckets: passBuckets,
		}),
		nodes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ingot_tracker_nodes",
			Help: "Nodes in the last successful pass's listing of the tracker's scope.",
		}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingot_tracker_changes_total",
			Help: "Node writes committed by tracker passes, by action (create, adopt, update, record, withdraw, release, orphan, delete).",
		}, []string{"action"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ingot_tracker_node_errors_total",
			Help: "Node lookups and writes that failed in a pass (the nodes are tried again next pass).",
		}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ingot_tracker_conflicts_total",
			Help: "Node writes that lost a race (a claim or an API write changed the provider) and were planned again.",
		}),
		orphaned: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ingot_tracker_orphaned_providers",
			Help: "Providers of nodes deleted from Ironic kept for their allocations, after the last successful pass.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ingot_tracker_last_success_timestamp_seconds",
			Help: "When the last successful tracker pass ended (Unix time; 0: none yet).",
		}),
	}
	t.passes.WithLabelValues("success")
	t.passes.WithLabelValues("failure")
	reg.MustRegister(t.passes, t.duration, t.listing, t.nodes, t.changes, t.errors, t.conflicts, t.orphaned, t.lastSuccess)
	return t
}

// Pass is what the tracker reports of one pass.
type Pass struct {
	Failed       bool
	End          time.Time
	Duration     time.Duration
	ListDuration time.Duration // zero when the pass failed before listing
	Nodes        int
	Changes      map[string]int // by action
	Errors       int
	Conflicts    int
	Orphaned     int
}

// ObservePass records one pass.
func (t *Tracker) ObservePass(p Pass) {
	if t == nil {
		return
	}
	t.duration.Observe(p.Duration.Seconds())
	if p.ListDuration > 0 {
		t.listing.Observe(p.ListDuration.Seconds())
	}
	for action, n := range p.Changes {
		t.changes.WithLabelValues(action).Add(float64(n))
	}
	t.errors.Add(float64(p.Errors))
	t.conflicts.Add(float64(p.Conflicts))
	if p.Failed {
		t.passes.WithLabelValues("failure").Inc()
		return
	}
	t.passes.WithLabelValues("success").Inc()
	t.nodes.Set(float64(p.Nodes))
	t.orphaned.Set(float64(p.Orphaned))
	t.lastSuccess.Set(float64(p.End.UnixNano()) / 1e9)
}
