package baremetal

import "time"

// NodeState is the Ironic resource tracker's state of a node it keeps a provider for.
type NodeState string

// The states of a tracker record (package reconcile moves records between them).
const (
	// NodeManaged: the node is in the tracker's scope; its provider follows the node.
	NodeManaged NodeState = "managed"
	// NodeWithdrawn: the node left the scope (another conductor group or shard) but
	// exists; its provider is reserved. The next pass releases it.
	NodeWithdrawn NodeState = "withdrawn"
	// NodeReleased: the tracker forgot the node (record scope ""); the provider stays,
	// reserved, for a tracker whose scope the node entered to take over.
	NodeReleased NodeState = "released"
	// NodeOrphaned: Ironic no longer has the node (a direct GET answered 404) but its
	// provider has allocations; the provider stays, reserved, until they are gone.
	NodeOrphaned NodeState = "orphaned"
)

// NodeStates lists every tracker record state.
var NodeStates = []NodeState{NodeManaged, NodeWithdrawn, NodeReleased, NodeOrphaned}

// NodeRecord is the Ironic resource tracker's record of one Ironic node (table
// ironic_nodes; the tracker is its only writer).
type NodeRecord struct {
	NodeUUID     string
	ProviderUUID string // the provider the tracker maintains for the node
	// Scope names the tracker that owns the node (its conductor group and shards); a
	// tracker acts only on records of its own scope, or takes a record over when the node
	// shows up in its own listing.
	Scope string
	// State is the tracker's state of the node.
	State NodeState
	// Generation is incremented by every write of the record; writes compare it.
	Generation int64

	// What the tracker last saw of the node.
	ResourceClass  string // as Ironic reports it, not normalized
	ProvisionState string
	PowerState     string
	Maintenance    bool
	InstanceUUID   string
	ConductorGroup string
	Shard          string
	Owner          string

	// Traits and Aggregates are those the tracker added to the provider, sorted; it
	// removes only these, so traits and aggregates that others set are kept.
	Traits     []string
	Aggregates []string

	CreatedAt time.Time
	UpdatedAt time.Time
}
