// Package fleet is an immutable, indexed, in-memory picture of every resource provider:
// its tree, inventories with their current usage, traits and aggregates, as of one change
// sequence number of the store. The store builds Views (store.DB.View) and keeps them
// exactly consistent with committed writes; readers such as GET /resource_providers and
// the allocation-candidates engine query them without touching the database.
//
// A View is shared between goroutines and never modified. A successor View copies only
// what changed: unchanged providers are shared, and the derived indexes (trees, sharing
// providers) are carried over when only inventories, usage or generations changed, which
// is what claims and the Ironic resource tracker's updates do.
package fleet
