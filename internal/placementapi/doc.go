// Package placementapi serves the OpenStack Placement API, microversions 1.0 to 1.39, over
// a store.DB.
//
// Requests pass, in order: request id, CORS, authentication (Options.Authenticate:
// noauth2 by default, or the identity a token middleware validated), microversion
// negotiation, basic HTTP checks, routing (404, 405) and the handler, which authorizes
// with the policy engine, validates the body and query with Placement's JSON schemas and
// calls the store. Handlers return errors; one function renders every error in Placement's
// format ({"errors": [{"status", "title", "detail", "code", "request_id"}]}), as JSON, HTML
// or plain text depending on the Accept header, with the wording upstream clients and tests
// match. Wire types live here and are converted explicitly from the domain types, because
// Placement's JSON shapes change with the microversion. Every request ends with one access
// line at Info (LogRequest, shared with the other APIs) and, with Options.Metrics, its
// count and latency by route template.
package placementapi
