// Package instanceapi is ingot's native REST API for instances on bare-metal nodes,
// mounted at /v1/instances beside the Placement API on the same listener, with the same
// authentication (placementapi.Credentials), the same error bodies (placementapi.WriteError)
// and rules of the same policy engine (policy.Instance*). It only writes records: create
// stores an instance in state building and delete moves it to deleting, each with a
// compare-and-swap on its generation; the instance controller does the work. Every
// request is validated whole (including the resource class and traits against the
// store's catalogue) before anything is written. The wire format is the exported types
// (Instance, CreateRequest, List); docs/instance-api.md is its reference. Package
// instanceapi/client is a client for it.
package instanceapi
