package ironictest

import "time"

// RealLatency is the real Ironic's median time per request kind (the keys Counts uses),
// measured on the development machine (2 shared cores, Debian's Ironic 21.4 in one process
// on SQLite, fake-hardware, 1,000 nodes, sequential requests) with
//
//	scripts/ironic/enroll -n 1000 -prefix lat
//	scripts/ironic/enroll -n 0 -prefix lat -latency 30 -limit 1000
//
// A listing costs its "GET /v1/nodes" figure plus RealCostPerNode for each node it returns.
var RealLatency = map[string]time.Duration{
	"GET /v1/nodes/{id}":                  5300 * time.Microsecond,
	"GET /v1/nodes/{id}/validate":         7300 * time.Microsecond,
	"PATCH /v1/nodes/{id}":                36 * time.Millisecond,
	"PUT /v1/nodes/{id}/states/provision": 25 * time.Millisecond,
	"GET /v1/nodes":                       50 * time.Millisecond,
}

// RealCostPerNode is the real Ironic's time per node in a listing with ingot's default
// fields, measured as RealLatency is.
const RealCostPerNode = 400 * time.Microsecond
