// Package ironictest provides a stateful fake of the Ironic API subset that ingot's
// client uses, served over net/http/httptest (or over in-memory pipes inside a
// testing/synctest bubble), with fault injection for unit, scale and benchmark tests.
//
// The fake keeps real state: nodes in creation order with internal ids, names, JSON-patch
// on the fields ingot uses, the instance_uuid claim rules (409 when another instance
// holds the node or the instance is on another node), fake-hardware provision and power
// transitions (synchronous, or held in their transient states until the test calls
// Advance), maintenance, traits, and microversion negotiation with Ironic's headers and
// its 406 answers. Listings page like Ironic's: limit capped at 1000, marker paging by
// internal id, a "next" link on every full page that drops most filters exactly as
// Ironic 21.4 does, and 404 for a marker that no longer exists. Error bodies have
// Ironic's shape, a JSON document nested in the "error_message" string.
//
// The contract suite in package ironic runs the same assertions against this fake and
// against a real Ironic, so where they differ the fake is fixed. What the fake does not
// model it refuses with 400 and a message naming the fake, rather than guessing.
//
// Faults: Inject answers matching requests with a status (503, 409, ...), drops their
// connection, or delays them; FailPage and DropPage target the k-th listing page;
// SetPageLatency slows every page; SetCostPerNode charges a time per listed node on a
// single simulated CPU (the real Ironic measured about 0.27 ms per node with fields on
// one core), so benchmarks can model real listing times; LockNode makes every write on a
// node answer 409 NodeLocked.
package ironictest
