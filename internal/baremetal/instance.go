package baremetal

import (
	"encoding/json"
	"time"
)

// State is where an instance is in its life, as its owner sees it.
type State string

// The states of an instance. An instance is created building; it ends active or error, and
// a delete moves any of them to deleting and then deleted, the only final state.
const (
	StateBuilding State = "building" // being scheduled, claimed or deployed
	StateActive   State = "active"   // deployed: the node is active in Ironic
	StateDeleting State = "deleting" // a delete was asked: the node is being torn down
	StateError    State = "error"    // the build failed for good; Fault says why
	StateDeleted  State = "deleted"  // torn down; the node and its allocation are released
)

// States lists every state, in the order of an instance's life.
var States = []State{StateBuilding, StateActive, StateDeleting, StateError, StateDeleted}

// Valid reports whether s is one of States.
func (s State) Valid() bool {
	for _, x := range States {
		if s == x {
			return true
		}
	}
	return false
}

// Task is what the controller is doing for an instance within its state; TaskNone when it
// is doing nothing (active, error, deleted).
type Task string

// The tasks, in the order a build and a delete run them.
const (
	TaskNone         Task = ""
	TaskScheduling   Task = "scheduling"   // choosing a node and claiming its provider
	TaskLocking      Task = "locking"      // claimed; setting the node's instance_uuid in Ironic
	TaskDeploying    Task = "deploying"    // instance_info, validate, provision active, watching
	TaskRescheduling Task = "rescheduling" // a failed attempt's node is torn down and released
	TaskTearingDown  Task = "tearing_down" // unprovisioning the node for a delete
	TaskCleaning     Task = "cleaning"     // waiting for Ironic to clean the node before release
)

// next lists the states each state may move to. A move to the same state is a change of
// task, node or fault and is always allowed unless the state is final.
var next = map[State][]State{
	StateBuilding: {StateActive, StateError, StateDeleting},
	StateActive:   {StateDeleting},
	StateError:    {StateDeleting},
	StateDeleting: {StateDeleted},
	StateDeleted:  nil,
}

// CanMove reports whether an instance in state from may be written in state to.
func CanMove(from, to State) bool {
	if from == to {
		return from != StateDeleted
	}
	for _, s := range next[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Fault is why an instance's last attempt failed, or why it ended in error.
type Fault struct {
	Code    string    // a short stable name, e.g. "no_valid_host", "deploy_failed"
	Message string    // for people: what happened, with Ironic's last_error if any
	Time    time.Time // when it was recorded
}

// Request is what node an instance asks for.
type Request struct {
	// ResourceClass is the Ironic resource class ("baremetal-gold"); the scheduler asks
	// Placement for one unit of its normalized class (CUSTOM_BAREMETAL_GOLD).
	ResourceClass string `json:"resource_class"`
	// Required and Forbidden are trait names the node's provider must have or lack.
	Required  []string `json:"required_traits,omitempty"`
	Forbidden []string `json:"forbidden_traits,omitempty"`
	// MemberOf are aggregate UUID groups: the provider must be in one of each group.
	MemberOf [][]string `json:"member_of,omitempty"`
	// Node pins the instance to one node (UUID); admins only.
	Node string `json:"node,omitempty"`
	// Capabilities are written to the node's instance_info for Ironic (boot_mode: uefi,
	// disk_label: gpt ...), as Nova writes a flavor's capabilities:* extra specs; Ironic
	// checks them against the node's own capabilities when it deploys.
	Capabilities map[string]string `json:"capabilities,omitempty"`
}

// Image is what Ironic writes to the node's disk.
type Image struct {
	Source      string `json:"image_source"`             // an http(s) or file URL, or a Glance id
	Checksum    string `json:"image_checksum,omitempty"` // legacy md5 (or the URL of a checksum file)
	OSHashAlgo  string `json:"image_os_hash_algo,omitempty"`
	OSHashValue string `json:"image_os_hash_value,omitempty"`
}

// ConfigDrive is the input of the instance's config drive. Ironic builds the drive from
// its dict form: meta_data (with uuid, name, hostname and public keys), user_data and
// network_data.
type ConfigDrive struct {
	UserData    string            `json:"user_data,omitempty"`
	SSHKeys     map[string]string `json:"public_keys,omitempty"` // key name -> public key
	MetaData    map[string]string `json:"meta_data,omitempty"`   // extra meta_data entries
	NetworkData json.RawMessage   `json:"network_data,omitempty"`
}

// Spec is everything an instance's creator asked for; it never changes after create.
type Spec struct {
	Request     Request     `json:"request"`
	Image       Image       `json:"image"`
	ConfigDrive ConfigDrive `json:"config_drive"`
}

// Instance is a workload on one bare-metal node, as ingot records it. Every write of the
// record compares and increments Generation.
type Instance struct {
	UUID      string
	Name      string
	ProjectID string
	UserID    string
	Spec      Spec
	// SpecHash identifies the create request's body, so a repeated create with the same
	// UUID is told apart from a different one.
	SpecHash string

	State State
	Task  Task
	// Node is the node (and provider) the instance holds: set with the claim, in the same
	// transaction as its allocation, and cleared with the release.
	Node string
	// Locked reports whether ingot has set the node's instance_uuid to this instance.
	Locked bool
	Fault  *Fault
	// Attempts counts the nodes tried; Excluded are the nodes that failed this instance
	// and are not tried again.
	Attempts int
	Excluded []string

	Generation int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Live reports whether the instance may hold a node: any state but deleted.
func (i *Instance) Live() bool { return i.State != StateDeleted }
