package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one server's registry and the parts the instrumented packages report to.
// The zero value reports nothing: every part is nil, and nil parts ignore their calls.
type Metrics struct {
	reg *prometheus.Registry

	HTTP       *HTTP
	Candidates *Candidates
	Store      *Store
	Tracker    *Tracker
	Ironic     *Ironic
	Instances  *Instances
	// Fleet holds the tracker's last listing for the scrape-time gauges.
	Fleet *Fleet
}

// New returns metrics registered on a new registry, with the Go runtime and process
// collectors. Sources for the scrape-time gauges are added with Collect.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		reg:        reg,
		HTTP:       newHTTP(reg),
		Candidates: newCandidates(reg),
		Store:      newStore(reg),
		Tracker:    newTracker(reg),
		Ironic:     newIronic(reg),
		Instances:  newInstances(reg),
		Fleet:      &Fleet{},
	}
	return m
}

// Registry returns the registry (nil for the zero Metrics).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus' exposition formats (text, or protobuf and
// OpenMetrics when the scraper asks), with promhttp's own scrape counters. An error of one
// collector is served as a partial answer (the other metrics), and logged by the scraper.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	}))
}

// latencyBuckets are the upper bounds (seconds) of request latency histograms: from half
// a millisecond (a cached Placement read) to 10 s.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// HTTP counts the requests of ingot's APIs and their latency.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTP(reg prometheus.Registerer) *HTTP {
	labels := []string{"api", "route", "method", "code"}
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingot_http_requests_total",
			Help: "HTTP requests served, by API (placement, instance), route template, method and status code.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ingot_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, body included, by API, route template, method and status code.",
			Buckets: latencyBuckets,
		}, labels),
	}
	reg.MustRegister(h.requests, h.duration)
	return h
}

// Observe records one served request. route must be a route template of the API's router
// (or "other" for a path none matches), never a raw path.
func (h *HTTP) Observe(api, route, method string, status int, d time.Duration) {
	if h == nil {
		return
	}
	lv := []string{api, route, methodLabel(method), statusCode(status)}
	h.requests.WithLabelValues(lv...).Inc()
	h.duration.WithLabelValues(lv...).Observe(d.Seconds())
}

// methodLabel returns m when it is a standard HTTP method, else "other": clients choose the
// method, so it is folded into a bounded set.
func methodLabel(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	}
	return "other"
}

// statusCodes holds the label of every status an HTTP server may write.
var statusCodes = func() []string {
	s := make([]string, 600)
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func statusCode(status int) string {
	if status <= 0 {
		status = http.StatusOK // nothing written explicitly: net/http sends 200
	}
	if status >= len(statusCodes) {
		return "other"
	}
	return statusCodes[status]
}

// Candidates records GET /allocation_candidates answers.
type Candidates struct {
	duration prometheus.Histogram
	returned prometheus.Histogram
}

func newCandidates(reg prometheus.Registerer) *Candidates {
	c := &Candidates{
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingot_allocation_candidates_duration_seconds",
			Help: "Time from the arrival of a GET /allocation_candidates to its answer being ready " +
				"(parsing, the search or the cached answer), before the body is written.",
			Buckets: latencyBuckets,
		}),
		returned: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ingot_allocation_candidates_returned",
			Help:    "Allocation candidates in each successful GET /allocation_candidates answer (0: no valid host).",
			Buckets: []float64{0, 1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 50000, 100000},
		}),
	}
	reg.MustRegister(c.duration, c.returned)
	return c
}

// Observe records one answer of n candidates, ready d after the request arrived.
func (c *Candidates) Observe(d time.Duration, n int) {
	if c == nil {
		return
	}
	c.duration.Observe(d.Seconds())
	c.returned.Observe(float64(n))
}
