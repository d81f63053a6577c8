// Package reconcile is ingot's Ironic resource tracker: it keeps one Placement resource
// provider per Ironic node in step with Ironic, race-free by construction.
//
// It is level-based. Each pass lists the nodes of the tracker's scope (conductor group,
// shards) once, with only the fields it needs, takes the store's in-memory view of the
// providers and the tracker's own records, and lets the pure function Plan compute every
// write that makes the providers agree with Ironic; Apply writes them in batched
// transactions, each node's provider and record together and conditional on the
// generations the plan saw. Run makes a pass at once, then one per interval or when
// kicked, and backs off with jitter while passes fail (a panicking pass is one of them).
//
// Between passes, Refresh plans and applies a few nodes the caller has just observed in
// Ironic (the instance controller: a node entering cleaning, or available again) by the
// same rules, and Config.OnListing hands each pass's listing to others.
//
// # The mapping
//
// A node's provider has the node's UUID as UUID and name, one inventory of the node's
// resource class normalized as Nova does (ResourceClass: "baremetal-gold" is
// CUSTOM_BAREMETAL_GOLD) with total, min_unit, max_unit and step_size 1 and allocation
// ratio 1.0, reserved while the node is unavailable or holds an instance (Reserved), the
// node's traits, and aggregates for the node's conductor group and owner with stable
// version 5 UUIDs (AggregateUUID), so member_of can target them. A node without a
// resource class gets a provider without inventory and one warning.
//
// # Ownership and deletion
//
// The tracker changes only what it derived from Ironic: inventories, and the traits and
// aggregates its record says it added (others' traits and aggregates are kept). It never
// touches allocations. A node missing from a listing is looked up directly; only Ironic's
// 404 makes its provider go, and never while the provider has allocations (it then stays,
// reserved, as orphaned). A node that left the scope is withdrawn (reserved), then
// released: its provider stays for the tracker whose scope it entered, which takes the
// record over. Records carry a generation compared by every write, so two trackers never
// both act on one node. A failed listing changes nothing: an unreachable Ironic is never
// "zero nodes".
package reconcile
