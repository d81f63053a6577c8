// Package ironictest provides a stateful fake of the Ironic API subset that ingot's
// client uses, served over net/http/httptest (or over in-memory pipes inside a
// testing/synctest bubble), with fault injection for unit, scale and benchmark tests.
//
// The fake keeps real state: nodes in creation order with internal ids, names, JSON-patch
// on the fields ingot uses, the instance_uuid claim rules (409 NodeAssociated or
// InstanceAssociated, worded as Ironic words them), fake-hardware provision and power
// transitions (synchronous; held in their transient states until the test calls Advance,
// WithAsync; or lasting a configured time, WithTiming), deploy with a config drive (kept,
// hidden, in instance_info), tear-down that clears the instance before cleaning, node
// locks (reservation set while a transition runs; writes get 409 NodeLocked, a PATCH 409
// "state transition is in progress"), node validation, Ironic's allocation API,
// maintenance, traits, listings sorted by any of a few columns (provision_updated_at
// included, NULL first ascending, with oslo.db's marker rules), and microversion
// negotiation with Ironic's headers and its 406 answers. Listings page like Ironic's: limit capped at 1000, marker paging by
// internal id, a "next" link on every full page that drops most filters exactly as
// Ironic 21.4 does, and 404 for a marker that no longer exists. Error bodies have
// Ironic's shape, a JSON document nested in the "error_message" string.
//
// The contract suite in package ironic runs the same assertions against this fake and
// against a real Ironic, so where they differ the fake is fixed. What the fake does not
// model it refuses with 400 and a message naming the fake, rather than guessing.
//
// Failures: FailDeploy ends a node's deploy in "deploy failed" with a last_error;
// FailValidation fails an interface's validation; a node whose deploy_interface is
// custom-agent (as on scripts/ironic's real Ironic) deploys into "wait call-back" and fails
// there after Timing.Callback with the real one's "Timeout reached while waiting for
// callback" last_error. Costs and counts: WithLatency delays
// requests by kind (method and route; RealLatency has the real Ironic's measured figures)
// and Counts reports how many requests of each kind arrived.
//
// Faults: Inject answers matching requests with a status (503, 409, ...), drops their
// connection, or delays them; FailPage and DropPage target the k-th listing page;
// SetPageLatency slows every page; SetCostPerNode charges a time per listed node on a
// single simulated CPU (the real Ironic measured about 0.27 ms per node with fields on
// one core), so benchmarks can model real listing times; LockNode makes every write on a
// node answer 409 NodeLocked.
package ironictest
