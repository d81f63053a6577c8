// Package metrics owns ingot's Prometheus metrics: every name, help text, label and bucket
// layout, and their registration on one registry per server (New), never on
// client_golang's global default registry. The instrumented packages receive only the
// part they report to (an *HTTP, a *Store, a *Tracker, an *Instances ...); every method of
// those parts does nothing on a nil receiver, so a package built without metrics (tests,
// --metrics=false) needs no check. Gauges of the fleet and of instances are not kept up
// to date by the packages: a Collector computes them when Prometheus scrapes, from the
// store's in-memory view, the tracker's last listing and one indexed count of instances,
// so they are exact and cost nothing between scrapes.
//
// Label values are bounded: route templates from the APIs' routers (never raw paths),
// a fixed set of methods, Ironic calls named from a fixed table of Ironic's routes,
// provision states folded into Ironic's known states plus "other", outcome enums, and
// resource classes from the catalogue. No label carries a UUID or client text.
package metrics
