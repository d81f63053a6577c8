package ironic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// ErrValidation: the node's interfaces needed for a deploy did not validate (see
// CheckDeployable).
var ErrValidation = errors.New("ironic: node validation failed")

// ValidationResult is one interface's answer in GET /v1/nodes/{id}/validate.
type ValidationResult struct {
	// Result is true when the interface validated. Ironic answers null for an interface
	// the node's driver does not implement; that reads as false with Unsupported set.
	Result      bool
	Unsupported bool
	Reason      string // why it failed or is unsupported; empty when Result is true
}

// ValidateNode asks Ironic to validate every interface of the node (boot, deploy, power,
// management, network, storage, console, ...) with its current driver_info and
// instance_info, and returns the results by interface name. A failed interface is a result,
// not an error: use CheckDeployable for Nova's verdict. Errors: ErrNotFound. Idempotent.
func (c *Client) ValidateNode(ctx context.Context, id string) (map[string]ValidationResult, error) {
	v, err := c.negotiated(ctx)
	if err != nil {
		return nil, fmt.Errorf("validate node %s: %w", id, err)
	}
	var raw map[string]struct {
		Result *bool  `json:"result"`
		Reason string `json:"reason"`
	}
	err = c.do(ctx, request{method: http.MethodGet, path: nodePath(id, "validate"), idempotent: true, version: v},
		decodeInto(&raw))
	if err != nil {
		return nil, fmt.Errorf("validate node %s: %w", id, err)
	}
	out := make(map[string]ValidationResult, len(raw))
	for iface, r := range raw {
		out[iface] = ValidationResult{Result: r.Result != nil && *r.Result, Unsupported: r.Result == nil, Reason: r.Reason}
	}
	return out, nil
}

// DeployInterfaces are the interfaces Nova requires to validate before a deploy (its
// spawn checks deploy, power and storage).
var DeployInterfaces = []string{"deploy", "power", "storage"}

// CheckDeployable returns nil when every interface in DeployInterfaces validated, and
// otherwise an error matching ErrValidation that names each failed interface and its reason.
// A missing interface counts as failed.
func CheckDeployable(results map[string]ValidationResult) error {
	var bad []string
	for _, iface := range DeployInterfaces {
		r, ok := results[iface]
		switch {
		case !ok:
			bad = append(bad, iface+": not reported")
		case !r.Result:
			reason := r.Reason
			if reason == "" {
				reason = "failed"
			}
			bad = append(bad, iface+": "+reason)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrValidation, strings.Join(bad, "; "))
}

// ConfigDrive is a config drive in Ironic's dict form (microversion 1.56): Ironic builds
// the ISO from it and keeps the dict in instance_info.configdrive. Pass it (or a pointer to
// it) as ProvisionOptions.ConfigDrive.
type ConfigDrive struct {
	MetaData MetaData `json:"meta_data"`
	// UserData is the user data as given (cloud-init's #cloud-config, a script, ...).
	UserData string `json:"user_data,omitempty"`
	// NetworkData is OpenStack's network_data.json document (a JSON object), if any.
	NetworkData json.RawMessage `json:"network_data,omitempty"`
	// VendorData is vendor_data.json (a JSON object); it needs 1.59.
	VendorData json.RawMessage `json:"vendor_data,omitempty"`
}

// MetaData is the meta_data.json of a config drive: what Nova writes there for an
// instance that cloud-init reads.
type MetaData struct {
	UUID       string            `json:"uuid"`
	Name       string            `json:"name,omitempty"`
	Hostname   string            `json:"hostname,omitempty"`
	PublicKeys map[string]string `json:"public_keys,omitempty"` // key name -> public key
	ProjectID  string            `json:"project_id,omitempty"`
	// Meta is the instance's free-form metadata (Nova's server metadata).
	Meta map[string]string `json:"meta,omitempty"`
}

// check reports what in d the negotiated version or Ironic's schema would refuse.
func (d *ConfigDrive) check(v Version) error {
	if !v.AtLeast(versionConfigDriveDict) {
		return fmt.Errorf("a config drive in dict form needs microversion %s, negotiated %s: %w",
			versionConfigDriveDict, v, ErrUnsupported)
	}
	if len(d.VendorData) > 0 && !v.AtLeast(versionVendorData) {
		return fmt.Errorf("config drive vendor_data needs microversion %s, negotiated %s: %w",
			versionVendorData, v, ErrUnsupported)
	}
	for name, raw := range map[string]json.RawMessage{"network_data": d.NetworkData, "vendor_data": d.VendorData} {
		if len(raw) == 0 {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return fmt.Errorf("config drive %s must be a JSON object: %w", name, ErrInvalid)
		}
	}
	return nil
}

// InstanceInfo is what Nova writes into a node's instance_info before a deploy
// (nova/virt/ironic/patcher.py), as far as ingot uses it. Zero fields are not written.
type InstanceInfo struct {
	ImageSource      string // http(s) or file URL, or a Glance id
	ImageChecksum    string // legacy md5, or a checksum file's URL
	ImageOSHashAlgo  string // e.g. sha256; with ImageOSHashValue
	ImageOSHashValue string
	// Traits must be a subset of the node's traits, or validation and deploy fail.
	Traits []string
	// Capabilities must not contradict properties.capabilities (boot_mode, ...).
	Capabilities map[string]string
	DisplayName  string
	ProjectID    string
	UserID       string
	RootGB       int
	// Extra holds any other keys, written as given.
	Extra map[string]any
}

// Map returns the keys and values the info sets.
func (ii InstanceInfo) Map() map[string]any {
	m := make(map[string]any, len(ii.Extra)+10)
	for k, v := range ii.Extra {
		m[k] = v
	}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("image_source", ii.ImageSource)
	set("image_checksum", ii.ImageChecksum)
	set("image_os_hash_algo", ii.ImageOSHashAlgo)
	set("image_os_hash_value", ii.ImageOSHashValue)
	set("display_name", ii.DisplayName)
	set("project_id", ii.ProjectID)
	set("user_id", ii.UserID)
	if ii.Traits != nil {
		m["traits"] = slices.Clone(ii.Traits)
	}
	if len(ii.Capabilities) > 0 {
		caps := make(map[string]any, len(ii.Capabilities))
		for k, v := range ii.Capabilities {
			caps[k] = v
		}
		m["capabilities"] = caps
	}
	if ii.RootGB > 0 {
		m["root_gb"] = ii.RootGB
	}
	return m
}

// ClaimOps returns the patch that claims a node for an instance, Ironic's atomic lock:
// add /instance_uuid. Send it once, without retrying on 409: ErrAssociated means another
// instance won the node (or this instance holds another node), ErrNodeLocked that a
// conductor is busy with it. Repeating it with the same instance succeeds.
func ClaimOps(instanceUUID string) []PatchOp {
	return []PatchOp{AddOp("/instance_uuid", instanceUUID)}
}

// InstanceInfoOps returns one add operation per key of info, under /instance_info, in key
// order. JSON-patch add replaces a key that exists, so the same ops serve to add and to
// replace, and keys not named are left alone, as Nova's patcher does.
func InstanceInfoOps(info InstanceInfo) []PatchOp {
	m := info.Map()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ops := make([]PatchOp, 0, len(keys))
	for _, k := range keys {
		ops = append(ops, AddOp("/instance_info/"+escapePointer(k), m[k]))
	}
	return ops
}

// ReleaseOps returns the patch that gives a node back when it was claimed but never
// deployed (Nova's _cleanup_deploy): remove /instance_uuid and /instance_info. A node that
// was deployed is released by tearing it down (TargetUndeploy) instead: Ironic clears both
// itself at the end of tear-down.
func ReleaseOps() []PatchOp {
	return []PatchOp{RemoveOp("/instance_uuid"), RemoveOp("/instance_info")}
}

// escapePointer escapes one JSON-pointer segment (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
