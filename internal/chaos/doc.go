// Package chaos is issue 14's multi-process test harness: ingot replicas as separate
// `ingot serve` processes on one PostgreSQL database, a fake Ironic served over HTTP that
// audits every mutating call, a loopback TCP proxy that can blackhole a replica's database
// connections, a throwaway PostgreSQL cluster that can be restarted, and an auditor that
// checks the fencing invariants from the replicas' logs and the fake Ironic's audit.
// The fault tests and the soak (scripts/chaos.sh) are this package's tests.
package chaos
