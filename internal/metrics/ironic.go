package metrics

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Ironic records the requests sent to Ironic, by call and outcome. It sees them as an
// http.RoundTripper (Transport), so every attempt of a retried call counts, and the Ironic
// client itself is not changed.
type Ironic struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newIronic(reg prometheus.Registerer) *Ironic {
	labels := []string{"call", "outcome"}
	i := &Ironic{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingot_ironic_requests_total",
			Help: "Requests sent to Ironic, by call (list_nodes, get_node, patch_node, set_provision_state ...) and " +
				"outcome (ok, not_found, conflict, client_error, unavailable, server_error, error: no answer).",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ingot_ironic_request_duration_seconds",
			Help:    "Time from sending a request to Ironic to its answer's headers, by call and outcome.",
			Buckets: latencyBuckets,
		}, labels),
	}
	reg.MustRegister(i.requests, i.duration)
	return i
}

// Transport returns next instrumented: each request is counted and timed by call and
// outcome. A nil Ironic returns next unchanged.
func (i *Ironic) Transport(next http.RoundTripper) http.RoundTripper {
	if i == nil {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &ironicTransport{m: i, next: next}
}

type ironicTransport struct {
	m    *Ironic
	next http.RoundTripper
}

func (t *ironicTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	call := IronicCall(r.Method, r.URL.Path)
	outcome := ironicOutcome(resp, err)
	t.m.requests.WithLabelValues(call, outcome).Inc()
	t.m.duration.WithLabelValues(call, outcome).Observe(time.Since(start).Seconds())
	return resp, err
}

// CloseIdleConnections passes the call on, so the Ironic client can still close the
// transport's idle connections.
func (t *ironicTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func ironicOutcome(resp *http.Response, err error) string {
	if err != nil || resp == nil {
		return "error"
	}
	switch c := resp.StatusCode; {
	case c < 400:
		return "ok"
	case c == http.StatusNotFound:
		return "not_found"
	case c == http.StatusConflict:
		return "conflict"
	case c < 500:
		return "client_error"
	case c == http.StatusServiceUnavailable:
		return "unavailable"
	default:
		return "server_error"
	}
}

// IronicCall names the Ironic call of a request by its method and path (under any
// endpoint prefix): "list_nodes", "get_node", "patch_node", "set_provision_state" ...;
// a request no name fits is "other". Node ids and names never appear in the result.
func IronicCall(method, path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	v1 := -1
	for i, s := range segs {
		if s == "v1" {
			v1 = i
			break
		}
	}
	if v1 < 0 {
		if method == http.MethodGet {
			return "versions" // the root document: version negotiation
		}
		return "other"
	}
	rest := segs[v1+1:]
	if len(rest) == 0 {
		if method == http.MethodGet {
			return "version"
		}
		return "other"
	}
	key := method + " " + rest[0]
	switch rest[0] {
	case "nodes", "allocations":
		if len(rest) > 1 && !(rest[0] == "nodes" && rest[1] == "detail") {
			key += "/{id}"
			if len(rest) > 2 {
				key += "/" + strings.Join(rest[2:min(len(rest), 4)], "/")
				if rest[2] == "traits" && len(rest) > 3 {
					key = method + " nodes/{id}/traits/{trait}"
				}
			}
		}
	}
	if name, ok := ironicCalls[key]; ok {
		return name
	}
	return "other"
}

var ironicCalls = map[string]string{
	"GET nodes":                        "list_nodes",
	"GET nodes/{id}":                   "get_node",
	"POST nodes":                       "create_node",
	"PATCH nodes/{id}":                 "patch_node",
	"DELETE nodes/{id}":                "delete_node",
	"GET nodes/{id}/validate":          "validate_node",
	"PUT nodes/{id}/states/provision":  "set_provision_state",
	"PUT nodes/{id}/states/power":      "set_power_state",
	"PUT nodes/{id}/maintenance":       "set_maintenance",
	"DELETE nodes/{id}/maintenance":    "unset_maintenance",
	"GET nodes/{id}/traits":            "get_traits",
	"PUT nodes/{id}/traits":            "set_traits",
	"PUT nodes/{id}/traits/{trait}":    "add_trait",
	"DELETE nodes/{id}/traits/{trait}": "remove_trait",
	"GET allocations":                  "list_allocations",
	"GET allocations/{id}":             "get_allocation",
	"POST allocations":                 "create_allocation",
	"DELETE allocations/{id}":          "delete_allocation",
}
