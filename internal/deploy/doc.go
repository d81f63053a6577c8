// Package deploy is ingot's instance controller: it takes instances (package baremetal)
// from a request to an active Ironic node and back, crash-safe and never double-booked.
//
// It is level-based. Each step of an instance reads what is desired (the instance's
// record: state, task, node, locked) and what is (the node as Ironic last reported it,
// the provider in the store's view) and does the one thing that moves them closer, so a
// step repeated after a crash does nothing twice. The pure parts are Schedule (an
// instance's request to a ranked list of nodes on the fleet view), Decide (what a step
// does) and InstanceInfo/ConfigDrive (what Ironic is given to deploy); Controller runs
// them against the store and Ironic.
//
// A node is taken in two writes, as Nova does: the claim (store.ClaimInstance: the
// allocation and the instance's node in one transaction, generation-checked) and then
// Ironic's lock (PATCH instance_uuid, never retried on 409). Losing either moves on to the
// next candidate. A node is given back with store.ReleaseInstance (the allocation removed
// and the node cleared in one transaction), and only once Ironic has dropped the
// instance and the node's provider is reserved again by the resource tracker, so a node
// being cleaned is never offered.
package deploy
