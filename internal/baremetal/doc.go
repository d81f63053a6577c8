// Package baremetal holds ingot's domain records for bare-metal machines: the Ironic
// resource tracker's record of each node, and instances (a workload deployed on one node
// through Ironic), with their named states and the rules for moving between them. It does
// no I/O: package store reads and writes these records, package reconcile and the instance
// controller decide what to do with them.
package baremetal
