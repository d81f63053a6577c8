// Package replica makes several ingot processes on one PostgreSQL database share an
// Ironic fleet: each process is a replica with a lease in the database (judged only by the
// database's clock), each node has exactly one owner at a time with an epoch that every
// write for the node carries as a fencing token (store.Fence), and ownership moves only by
// compare-and-swap: claims of unowned or expired nodes by the replica that rendezvous
// hashing with bounded loads assigns them (Assign), and hand-offs the current owner initiates. A local deadline (the monotonic time the
// last successful renewal was sent, plus the TTL less a margin) stops owned work before the
// database could give the nodes to someone else.
//
// Plan, Assign and Desired are pure; Replica runs the lease, the scans and the drain.
package replica
