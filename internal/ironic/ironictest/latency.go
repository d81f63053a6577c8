package ironictest

import "time"

// RealLatency is the real Ironic's median time per request kind (the keys Counts uses),
// measured on the development machine (2 shared cores, Debian's Ironic 21.4 in one process
// on SQLite, fake-hardware, 1,000 nodes, sequential requests) with
//
//	scripts/ironic/enroll -n 1000 -prefix lat
//	scripts/ironic/enroll -n 0 -prefix lat -latency 30 -limit 1000
//
// Measured p50 (p90): GET node 4.9 ms (7.2), with fields 4.7 ms (5.0), validate 7.0 ms
// (8.3), PATCH node 35.1 ms (43.2), PUT provision 25.3 ms (31.7, deploy and undeploy), the
// watch's page of 50 nodes sorted by provision_updated_at 63.2 ms (68.2), a page of 1,000
// nodes with ingot's default fields 361.7 ms (392.0). A listing is modelled as its
// "GET /v1/nodes" figure plus RealCostPerNode for each node it returns, the line through
// the two listing figures.
var RealLatency = map[string]time.Duration{
	"GET /v1/nodes/{id}":                  4900 * time.Microsecond,
	"GET /v1/nodes/{id}/validate":         7 * time.Millisecond,
	"PATCH /v1/nodes/{id}":                35 * time.Millisecond,
	"PUT /v1/nodes/{id}/states/provision": 25 * time.Millisecond,
	"GET /v1/nodes":                       47 * time.Millisecond,
}

// RealCostPerNode is the real Ironic's time per node in a listing with ingot's default
// fields, measured as RealLatency is: (361.7 - 63.2) ms / 950 nodes.
const RealCostPerNode = 315 * time.Microsecond
