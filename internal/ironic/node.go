package ironic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Node is ingot's view of an Ironic node. Fields that were not requested, that the
// negotiated version does not have, or that Ironic reports as null are zero.
type Node struct {
	UUID                 string
	Name                 string
	Driver               string
	ResourceClass        string
	Traits               []string // sorted by Ironic; nil when not requested or none
	Maintenance          bool
	MaintenanceReason    string
	Fault                string // e.g. "power failure" (1.42)
	PowerState           string // "power on", "power off", "error", or "" (unknown)
	TargetPowerState     string
	ProvisionState       string // see the ProvisionState* constants
	TargetProvisionState string
	LastError            string
	InstanceUUID         string
	ConductorGroup       string // always lowercase (Ironic lowercases on update)
	Conductor            string // the conductor host managing the node (1.49)
	Owner                string
	Lessee               string
	Shard                string
	Reservation          string // the conductor holding the node's lock; writes get 409 while set
	AllocationUUID       string
	Protected            bool
	Retired              bool
	Description          string
	Properties           map[string]any // cpus, memory_mb, capabilities, ...
	Extra                map[string]any
	InstanceInfo         map[string]any
	ProvisionUpdatedAt   time.Time
	// UpdatedAt and CreatedAt are filled only by GetNode without fields: Ironic refuses
	// them in a fields selector.
	UpdatedAt time.Time
	CreatedAt time.Time
}

// Provision states that ingot looks at (Ironic's ironic/common/states.py).
const (
	ProvisionStateEnroll       = "enroll"
	ProvisionStateVerifying    = "verifying"
	ProvisionStateManageable   = "manageable"
	ProvisionStateAvailable    = "available"
	ProvisionStateActive       = "active"
	ProvisionStateDeploying    = "deploying"
	ProvisionStateWaitCallback = "wait call-back"
	ProvisionStateDeployFailed = "deploy failed"
	ProvisionStateDeleting     = "deleting"
	ProvisionStateCleaning     = "cleaning"
	ProvisionStateCleanWait    = "clean wait"
	ProvisionStateCleanFailed  = "clean failed"
	ProvisionStateInspecting   = "inspecting"
	ProvisionStateError        = "error"
)

// Power states.
const (
	PowerOn  = "power on"
	PowerOff = "power off"
	// Targets only:
	PowerReboot     = "rebooting"
	PowerSoftOff    = "soft power off"
	PowerSoftReboot = "soft rebooting"
)

// nodeJSON is Ironic's wire form of a node. JSON null leaves a field at its zero value.
type nodeJSON struct {
	UUID                 string         `json:"uuid"`
	Name                 string         `json:"name"`
	Driver               string         `json:"driver"`
	ResourceClass        string         `json:"resource_class"`
	Traits               []string       `json:"traits"`
	Maintenance          bool           `json:"maintenance"`
	MaintenanceReason    string         `json:"maintenance_reason"`
	Fault                string         `json:"fault"`
	PowerState           string         `json:"power_state"`
	TargetPowerState     string         `json:"target_power_state"`
	ProvisionState       string         `json:"provision_state"`
	TargetProvisionState string         `json:"target_provision_state"`
	LastError            string         `json:"last_error"`
	InstanceUUID         string         `json:"instance_uuid"`
	ConductorGroup       string         `json:"conductor_group"`
	Conductor            string         `json:"conductor"`
	Owner                string         `json:"owner"`
	Lessee               string         `json:"lessee"`
	Shard                string         `json:"shard"`
	Reservation          string         `json:"reservation"`
	AllocationUUID       string         `json:"allocation_uuid"`
	Protected            bool           `json:"protected"`
	Retired              bool           `json:"retired"`
	Description          string         `json:"description"`
	Properties           map[string]any `json:"properties"`
	Extra                map[string]any `json:"extra"`
	InstanceInfo         map[string]any `json:"instance_info"`
	ProvisionUpdatedAt   ironicTime     `json:"provision_updated_at"`
	UpdatedAt            ironicTime     `json:"updated_at"`
	CreatedAt            ironicTime     `json:"created_at"`
}

func (w *nodeJSON) node() Node {
	return Node{
		UUID:                 w.UUID,
		Name:                 w.Name,
		Driver:               w.Driver,
		ResourceClass:        w.ResourceClass,
		Traits:               w.Traits,
		Maintenance:          w.Maintenance,
		MaintenanceReason:    w.MaintenanceReason,
		Fault:                w.Fault,
		PowerState:           w.PowerState,
		TargetPowerState:     w.TargetPowerState,
		ProvisionState:       w.ProvisionState,
		TargetProvisionState: w.TargetProvisionState,
		LastError:            w.LastError,
		InstanceUUID:         w.InstanceUUID,
		ConductorGroup:       w.ConductorGroup,
		Conductor:            w.Conductor,
		Owner:                w.Owner,
		Lessee:               w.Lessee,
		Shard:                w.Shard,
		Reservation:          w.Reservation,
		AllocationUUID:       w.AllocationUUID,
		Protected:            w.Protected,
		Retired:              w.Retired,
		Description:          w.Description,
		Properties:           w.Properties,
		Extra:                w.Extra,
		InstanceInfo:         w.InstanceInfo,
		ProvisionUpdatedAt:   time.Time(w.ProvisionUpdatedAt),
		UpdatedAt:            time.Time(w.UpdatedAt),
		CreatedAt:            time.Time(w.CreatedAt),
	}
}

// ironicTime decodes Ironic's timestamps ("2026-11-25T15:10:30.325545+00:00"; older
// releases omit the zone, which means UTC) and null.
type ironicTime time.Time

func (t *ironicTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = ironicTime{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		*t = ironicTime{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			*t = ironicTime(v.UTC())
			return nil
		}
	}
	return fmt.Errorf("parse time %q", s)
}

// nodePath returns /v1/nodes/{id}[/suffix...] with id (UUID or name) escaped.
func nodePath(id string, suffix ...string) string {
	p := "/v1/nodes/" + url.PathEscape(id)
	for _, s := range suffix {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// GetNode returns the node with the given UUID or name. With no fields, Ironic returns
// every field (about 2.5 KB); otherwise only those fields and uuid. Errors: ErrNotFound;
// ErrUnsupported for a field the negotiated version lacks. Idempotent.
func (c *Client) GetNode(ctx context.Context, id string, fields ...string) (Node, error) {
	v, err := c.negotiated(ctx)
	if err != nil {
		return Node{}, fmt.Errorf("get node %s: %w", id, err)
	}
	var q url.Values
	if len(fields) > 0 {
		f, err := checkFields(v, fields)
		if err != nil {
			return Node{}, fmt.Errorf("get node %s: %w", id, err)
		}
		q = url.Values{"fields": {strings.Join(f, ",")}}
	}
	var w nodeJSON
	err = c.do(ctx, request{method: http.MethodGet, path: nodePath(id), query: q, idempotent: true, version: v},
		decodeInto(&w))
	if err != nil {
		return Node{}, fmt.Errorf("get node %s: %w", id, err)
	}
	return w.node(), nil
}

// NodeCreate is the body of CreateNode. Ironic refuses traits and (under noauth) owner at
// creation: set them afterwards with SetTraits and PatchNode.
type NodeCreate struct {
	UUID           string         `json:"uuid,omitempty"`
	Name           string         `json:"name,omitempty"`
	Driver         string         `json:"driver"`
	ResourceClass  string         `json:"resource_class,omitempty"`
	ConductorGroup string         `json:"conductor_group,omitempty"`
	Description    string         `json:"description,omitempty"`
	Properties     map[string]any `json:"properties,omitempty"`
	Extra          map[string]any `json:"extra,omitempty"`
	DriverInfo     map[string]any `json:"driver_info,omitempty"`
}

// CreateNode enrolls a node (provision state "enroll", power state unknown). The
// conductor group must be lowercase and served by a running conductor, or Ironic answers
// 400 "No valid host". Errors: ErrConflict if the name or UUID is taken; ErrInvalid. Not
// idempotent (retried only when the request surely did not reach Ironic).
func (c *Client) CreateNode(ctx context.Context, n NodeCreate) (Node, error) {
	v, err := c.negotiated(ctx)
	if err != nil {
		return Node{}, fmt.Errorf("create node %s: %w", n.Name, err)
	}
	var w nodeJSON
	err = c.do(ctx, request{method: http.MethodPost, path: "/v1/nodes", body: n, version: v}, decodeInto(&w))
	if err != nil {
		return Node{}, fmt.Errorf("create node %s: %w", n.Name, err)
	}
	return w.node(), nil
}

// DeleteNode removes a node. Ironic allows it in enroll, manageable and available, and in
// any state under maintenance. Errors: ErrNotFound; ErrConflict if the node has an
// instance, is locked, or is in a state that forbids deletion. Not idempotent: a repeat
// gets ErrNotFound.
func (c *Client) DeleteNode(ctx context.Context, id string) error {
	v, err := c.negotiated(ctx)
	if err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	if err := c.do(ctx, request{method: http.MethodDelete, path: nodePath(id), version: v}, nil); err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	return nil
}

// PatchOp is one JSON-patch operation on a node. Ironic accepts only add, replace and
// remove (no test: there is no compare-and-swap besides instance_uuid).
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// AddOp returns {"op": "add", "path": path, "value": value}.
func AddOp(path string, value any) PatchOp { return PatchOp{Op: "add", Path: path, Value: value} }

// ReplaceOp returns {"op": "replace", "path": path, "value": value}.
func ReplaceOp(path string, value any) PatchOp {
	return PatchOp{Op: "replace", Path: path, Value: value}
}

// RemoveOp returns {"op": "remove", "path": path}.
func RemoveOp(path string) PatchOp { return PatchOp{Op: "remove", Path: path} }

// PatchNode applies ops atomically and returns the updated node. Adding /instance_uuid is
// Ironic's claim: it fails with ErrConflict when the node holds another instance or the
// instance is on another node, and succeeds again for the same value. Errors: ErrNotFound;
// ErrConflict (also when the node is locked); ErrInvalid for a path Ironic does not allow.
// Not idempotent in general, so a broken connection is not retried.
func (c *Client) PatchNode(ctx context.Context, id string, ops []PatchOp) (Node, error) {
	v, err := c.negotiated(ctx)
	if err != nil {
		return Node{}, fmt.Errorf("patch node %s: %w", id, err)
	}
	if ops == nil {
		ops = []PatchOp{}
	}
	var w nodeJSON
	err = c.do(ctx, request{method: http.MethodPatch, path: nodePath(id), body: ops, version: v}, decodeInto(&w))
	if err != nil {
		return Node{}, fmt.Errorf("patch node %s: %w", id, err)
	}
	return w.node(), nil
}

// decodeInto returns a response handler that decodes the JSON body into dst.
func decodeInto(dst any) func(*http.Response) error {
	return func(resp *http.Response) error {
		return json.NewDecoder(resp.Body).Decode(dst)
	}
}
