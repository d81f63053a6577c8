// Package placement holds the domain of the OpenStack Placement service as ingot implements it:
// resource providers and their trees, inventories and the capacity rules that govern them,
// consumers and their allocations, and the errors (with Placement's error codes) that the
// store returns and the HTTP layer renders. It does no I/O.
//
// Vocabulary: a resource provider ("provider") offers inventories of resource classes
// ("VCPU", "CUSTOM_BAREMETAL_GOLD"); a consumer (an instance, a migration) holds allocations
// against providers; every change to a provider's inventories, traits, aggregates or
// allocations increments its generation, and writes that name a generation succeed only if
// it is still current (compare-and-swap).
package placement
