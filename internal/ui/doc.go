// Package ui is ingot's fleet dashboard, served at /ui from the binary: plain HTML, CSS
// and JavaScript embedded with embed (no build step, nothing fetched from elsewhere), and
// a JSON data API under /ui/api/ that pages and filters on the server.
//
// The data comes from what ingot already holds: the store's in-memory fleet view
// (providers, inventories, usage, traits, aggregates), the Ironic resource tracker's
// records and its last listing of the nodes (reconcile.Reconciler.LastListing), its
// recent passes (History), and the instance records. A Handler merges them into an
// immutable snapshot, one row per node, rebuilt only when one of them changed (the
// store's change sequence, the records' and instances' versions, a new listing), so that
// a request at 10,000 nodes filters and pages slices in memory. Comparing successive
// snapshots yields the recent changes (a node's provision state, power, maintenance,
// reservation, usage, tracker state). The page follows changes by long polling
// (/ui/api/watch), which answers as soon as the snapshot's version moves.
//
// The page and its static files are anonymous; the data needs a token (X-Auth-Token,
// kept in the browser's sessionStorage) and the policy rule ingot:fleet:read. With
// Keystone authentication the login form posts a username and password to
// /ui/api/login, which exchanges them for a Keystone token.
package ui
