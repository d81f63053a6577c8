// Package candidates answers GET /allocation_candidates: given a fleet.View and a parsed
// request (request groups with resources, traits, aggregates and trees, plus request-wide
// rules), it finds the ways to satisfy the request, as OpenStack Placement defines them,
// and the providers to summarize. It does no I/O; the view is exactly the committed state.
//
// # Semantics (upstream Placement master)
//
// The unsuffixed group's resources may come from several providers of one tree plus
// sharing providers (MISC_SHARES_VIA_AGGREGATE) attached to that tree through an aggregate;
// its required traits are satisfied by the union of the traits of the providers that supply
// its resources; member_of holds when a provider or its tree's root is in the aggregates.
// Every suffixed group is met by one provider (traits and aggregates on that provider);
// a resourceless suffixed group (1.36) just names a provider for same_subtree. Each result
// is anchored at a tree root; a sharing provider serves every tree it shares an aggregate
// with. group_policy=isolate makes suffixed groups use distinct providers; same_subtree
// requires one provider of each listed set to be an ancestor of the others; root_required
// filters the anchor; before 1.29 a result may not use two providers of one tree. Amounts
// that land on the same provider and class are summed and checked against capacity.
//
// # Bounded work
//
// Results are produced lazily, anchor by anchor (depth-first, or round-robin across
// anchors with BreadthFirst), by a depth-first search over the request's dimensions (one
// per class of the unsuffixed group, one per suffixed group) that abandons a partial
// choice as soon as it exceeds a provider's free capacity (existing usage included) or
// breaks group_policy=isolate. Without randomization the search stops after Limit results;
// MaxCandidates caps it in every case. A flat fleet (one provider per tree, no sharing)
// costs one pass over the providers that have the class, stopping at Limit. A Memo lets a
// randomized unlimited search of a successor view reuse the results of unchanged trees.
//
// # Explaining
//
// Explain answers a request as Find does and says why: per request group, how many
// providers each filter removed (each provider counted at the first filter it fails), and
// how the groups combined, tree by tree. It is the same search, run with a recorder: the
// filters return the reason a provider fails, and the search notes it only when asked.
package candidates
