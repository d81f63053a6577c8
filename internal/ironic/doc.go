// Package ironic is ingot's client for the OpenStack Ironic bare-metal API, written on
// net/http for the handful of endpoints ingot uses: node listing, get, create, JSON-patch,
// delete, validate, provision and power state, maintenance, traits, and allocations.
//
// # Deploying
//
// The instance path follows Nova's recipe: [ClaimOps] (add /instance_uuid, Ironic's lock
// on the node, sent once: a 409 is [ErrAssociated] when another instance won, or
// [ErrNodeLocked] when a conductor is busy), [InstanceInfoOps] (one add per
// instance_info key), [Client.ValidateNode] and [CheckDeployable], then
// [Client.SetProvisionState] to [TargetActive] with a [ConfigDrive] in Ironic's dict form
// (1.56). Tear-down is [TargetUndeploy]; a node claimed but never deployed is given back
// with [ReleaseOps]. [Client.ChangedNodes] watches many deploys at the cost of about one
// listing request per call (see watch.go for the design and what the real Ironic showed).
// The allocation API ([Client.CreateAllocation], ...) is there to compare with.
//
// # Microversions
//
// [Client.Negotiate] reads the server's supported range from the root document and picks
// min(server maximum, [MaxVersion]). A server whose maximum is below [Baseline] is refused.
// Features newer than the baseline are asked for by name ([Version.HasShard],
// [Version.HasConductorGroup], ...), never by comparing numbers at the call site. Every
// request carries the negotiated version in X-OpenStack-Ironic-API-Version.
//
// # Listing
//
// [Client.ListNodes] and [Client.Nodes] page by marker (the last UUID of the previous page)
// and send every filter again on every page. Ironic's own "next" link drops most filters
// (resource_class, conductor_group, shard, provision_state, maintenance=false, ...), so it is
// used only as a hint that another page exists. A filter the negotiated version cannot apply
// fails the listing with [ErrUnsupported] rather than returning an unfiltered list, and an
// error on any page fails the whole listing: "Ironic unreachable" never reads as "no nodes".
//
// # Errors
//
// Failed calls return a *[Error] carrying the status, method, path, Ironic's own message and
// its request ID. errors.Is maps it onto [ErrNotFound] (404), [ErrConflict] (409: node locked,
// busy or already associated), [ErrUnavailable] (503 or no response at all), [ErrInvalid]
// (400), [ErrUnauthorized] (401, 403) and [ErrUnsupported] (406). A 409 is told apart by
// Ironic's message: [ErrNodeLocked] (wait and try again) or [ErrAssociated] and
// [ErrInstanceAssociated] (another claim won: do not retry). The client itself never
// retries a 4xx.
//
// # Retries, timeouts, connections
//
// 503 answers are retried for every method: Ironic sends 503 only when it did not act
// (no free conductor worker, concurrent action limit). Broken connections and per-attempt
// timeouts are retried for idempotent calls, and for the others only when the request
// surely never reached the server (the dial failed). Backoff is exponential with jitter from
// an injectable random source, and waits on a context-aware timer, so tests can drive it with
// testing/synctest. Every attempt has its own timeout. Connections are kept alive and
// response bodies are always drained.
//
// # Authentication
//
// Authentication is an [http.RoundTripper] in [Config.Transport]: nil for none (Ironic's
// noauth), [BasicAuth] for Ironic's standalone http_basic mode, or one that adds a
// Keystone token (ingot's keystone.Transport). Behind Keystone, [Config.RequireListAll]
// makes listings fail with [ErrUnauthorized] rather than return the part of the fleet a
// caller without Ironic's baremetal:node:list_all is shown.
//
// A *Client is safe for concurrent use.
package ironic
