package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ingot/internal/baremetal"
)

// Instances records what the instance controller does to instances: deploys and
// tear-downs ending, reschedules and faults. Instances by state are counted at scrape
// time (Collect).
type Instances struct {
	deploy      prometheus.Histogram
	teardown    prometheus.Histogram
	reschedules prometheus.Counter
	faults      *prometheus.CounterVec
}

// deployBuckets are the upper bounds (seconds) of deploy and tear-down durations: seconds
// on a fake, minutes to an hour on hardware (the deploy timeout is 30 minutes a node).
var deployBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 7200}

func newInstances(reg prometheus.Registerer) *Instances {
	m := &Instances{
		deploy: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ingot_instance_deploy_duration_seconds",
			Help:    "Time from an instance's create to active (scheduling, reschedules and Ironic's deploy included).",
			Buckets: deployBuckets,
		}),
		teardown: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingot_instance_teardown_duration_seconds",
			Help: "Time from the start of an instance's tear-down (the tear-down request, or the delete when its " +
				"node was never deployed) to deleted, its node released.",
			Buckets: deployBuckets,
		}),
		reschedules: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ingot_instance_reschedules_total",
			Help: "Builds scheduled again after a failed attempt on a node (its node torn down and released).",
		}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingot_instance_faults_total",
			Help: "Faults recorded on instances, by code (no_valid_host, deploy_failed, deploy_timeout, validation_failed, node_lost ...).",
		}, []string{"code"}),
	}
	reg.MustRegister(m.deploy, m.teardown, m.reschedules, m.faults)
	return m
}

// Moved records what writing next over prev, at now, means: a deploy or tear-down ended,
// a reschedule, a new fault. Call it after each successful write of an instance record.
func (m *Instances) Moved(prev, next baremetal.Instance, now time.Time) {
	if m == nil {
		return
	}
	switch {
	case next.State == baremetal.StateActive && prev.State != baremetal.StateActive:
		m.deploy.Observe(now.Sub(prev.CreatedAt).Seconds())
	case next.State == baremetal.StateDeleted && prev.State != baremetal.StateDeleted:
		m.teardown.Observe(now.Sub(prev.UpdatedAt).Seconds())
	case prev.Task == baremetal.TaskRescheduling && next.State == baremetal.StateBuilding && next.Task == baremetal.TaskScheduling:
		m.reschedules.Inc()
	}
	if f := next.Fault; f != nil && (prev.Fault == nil || !prev.Fault.Time.Equal(f.Time) || prev.Fault.Code != f.Code) {
		m.faults.WithLabelValues(faultCode(f.Code)).Inc()
	}
}

// faultCode bounds a fault code: codes are the controller's constants (snake_case); any
// other string is "other".
func faultCode(c string) string {
	if c == "" || len(c) > 32 {
		return "other"
	}
	for _, r := range c {
		if (r < 'a' || r > 'z') && r != '_' {
			return "other"
		}
	}
	return c
}
