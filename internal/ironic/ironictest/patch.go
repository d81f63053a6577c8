package ironictest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"ingot/internal/ironic"
)

// patchable is Ironic 21.4's list of node fields a PATCH may touch, in its error message.
const patchable = "automated_clean, bios_interface, boot_interface, chassis_uuid, conductor_group, console_interface, deploy_interface, description, driver, driver_info, extra, inspect_interface, instance_info, instance_uuid, lessee, maintenance, management_interface, name, network_data, network_interface, owner, power_interface, properties, protected, protected_reason, raid_interface, rescue_interface, resource_class, retired, retired_reason, shard, storage_interface, vendor_interface"

var patchableSet = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Split(patchable, ", ") {
		m[f] = true
	}
	return m
}()

// updateAllowed are the transient states in which Ironic still accepts a PATCH (21.4
// states.UPDATE_ALLOWED_STATES); in the others a PATCH gets 409 while a target is set.
var updateAllowed = map[string]bool{"deploy failed": true, "inspecting": true, "inspect failed": true,
	"inspect wait": true, "clean failed": true, "error": true, "verifying": true, "adopt failed": true,
	"rescue failed": true, "unrescue failed": true}

// interfaceUpdateAllowed are the states in which an interface may change outside
// maintenance (21.4 conductor update_node).
var interfaceUpdateAllowed = map[string]bool{"enroll": true, "inspecting": true, "inspect wait": true,
	"manageable": true, "available": true}

// deployInterfaces are the deploy interfaces scripts/ironic enables ("" is fake).
var deployInterfaces = map[string]bool{"fake": true, "custom-agent": true}

type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

func (s *Server) handlePatchNode(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	var ops []patchOp
	if err := json.NewDecoder(r.Body).Decode(&ops); err != nil {
		return errorf(http.StatusBadRequest, "Invalid JSON patch: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getNode(r)
	if err != nil {
		return err
	}
	// Ironic's API refuses a PATCH while a transition runs, before it looks at the lock,
	// except for a bare instance_uuid removal in maintenance.
	releaseOnly := len(ops) == 1 && ops[0].Op == "remove" && ops[0].Path == "/instance_uuid"
	if !(n.Maintenance && releaseOnly) && n.TargetProvisionState != "" && !updateAllowed[n.ProvisionState] {
		return errorf(http.StatusConflict, "Node %s can not be updated while a state transition is in progress.", r.PathValue("id"))
	}
	c := &node{Node: n.snapshot(), driverInfo: maps.Clone(n.driverInfo),
		protectedReason: n.protectedReason, retiredReason: n.retiredReason, deployInterface: n.deployInterface}
	// Nested values are replaced wholesale below, so deep-copy the maps patched into.
	c.Properties, c.Extra, c.InstanceInfo, c.driverInfo =
		deepCopy(c.Properties), deepCopy(c.Extra), deepCopy(c.InstanceInfo), deepCopy(c.driverInfo)
	for _, op := range ops {
		if err := applyOp(c, op, v); err != nil {
			return err
		}
	}
	if err := locked(n); err != nil {
		return err
	}
	if c.deployInterface != n.deployInterface && !n.Maintenance && !interfaceUpdateAllowed[n.ProvisionState] {
		return errorf(http.StatusConflict, "Node %s can not have deploy_interface updated unless it is in one of allowed (enroll, inspecting, inspect wait, manageable, available) states or in maintenance mode.", n.UUID)
	}
	c.ConductorGroup = strings.ToLower(c.ConductorGroup)
	if c.Name != n.Name && c.Name != "" {
		if !validName(c.Name) || isUUID(c.Name) {
			return errorf(http.StatusBadRequest, "Node %s can not be updated with invalid name %s", n.UUID, c.Name)
		}
		if _, taken := s.names[c.Name]; taken {
			return errorf(http.StatusConflict, "A node with name %s already exists.", c.Name)
		}
	}
	if c.InstanceUUID != n.InstanceUUID && c.InstanceUUID != "" {
		if !isUUID(c.InstanceUUID) {
			return errorf(http.StatusBadRequest, "Expected a UUID for instance_uuid: %s", c.InstanceUUID)
		}
		if n.InstanceUUID != "" {
			return errorf(http.StatusConflict, "Node %s is associated with instance %s.", n.UUID, n.InstanceUUID)
		}
		for _, o := range s.order {
			if o != n && strings.EqualFold(o.InstanceUUID, c.InstanceUUID) {
				return errorf(http.StatusConflict,
					"Instance %s is already associated with a node, it cannot be associated with this other node %s",
					c.InstanceUUID, n.UUID)
			}
		}
	}
	if !c.Maintenance {
		c.MaintenanceReason, c.Fault = "", ""
	}
	if !c.Protected {
		c.protectedReason = ""
	}
	if c.Name != n.Name {
		delete(s.names, n.Name)
		if c.Name != "" {
			s.names[c.Name] = n
		}
	}
	if c.InstanceUUID == "" && n.InstanceUUID != "" && n.AllocationUUID != "" {
		// Removing instance_uuid removes the node's allocation too.
		if a := s.allocs[n.AllocationUUID]; a != nil {
			s.removeAllocation(a)
		}
		c.AllocationUUID = ""
	}
	c.UpdatedAt = s.now()
	n.Node, n.driverInfo, n.protectedReason, n.retiredReason = c.Node, c.driverInfo, c.protectedReason, c.retiredReason
	n.deployInterface = c.deployInterface
	s.writeNode(w, r, http.StatusOK, n, fullFields(v))
	return nil
}

func deepCopy(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// applyOp applies one operation to c.
func applyOp(c *node, op patchOp, v ironic.Version) error {
	switch op.Op {
	case "add", "replace", "remove":
	default:
		return errorf(http.StatusBadRequest, "Schema error for patch: '%s' is not one of ['add', 'replace', 'remove']", op.Op)
	}
	if !strings.HasPrefix(op.Path, "/") {
		return errorf(http.StatusBadRequest, "Schema error for patch: '%s' does not match '^(/[\\\\w-]+)+$'", op.Path)
	}
	segs := strings.Split(op.Path[1:], "/")
	for i := range segs {
		segs[i] = unescapePointer(segs[i])
	}
	top := segs[0]
	if !patchableSet[top] {
		return errorf(http.StatusBadRequest, "Cannot patch %s. Only the following can be updated: %s", op.Path, patchable)
	}
	if m, ok := fieldMinor[top]; ok && v.Minor < m {
		return errorf(http.StatusNotAcceptable, "Request not acceptable.")
	}
	if op.Op != "remove" && op.Value == nil {
		return errorf(http.StatusBadRequest, "Schema error for patch: 'value' is a required property")
	}
	bad := func(want string) error {
		return errorf(http.StatusBadRequest, "Invalid value for %s: %s expected, got %s", op.Path, want, op.Value)
	}

	var mp *map[string]any
	switch top {
	case "properties":
		mp = &c.Properties
	case "extra":
		mp = &c.Extra
	case "instance_info":
		mp = &c.InstanceInfo
	case "driver_info":
		mp = &c.driverInfo
	}
	if mp != nil {
		if len(segs) == 1 {
			if op.Op == "remove" {
				*mp = nil
				return nil
			}
			var m map[string]any
			if err := json.Unmarshal(op.Value, &m); err != nil || m == nil {
				return bad("an object")
			}
			*mp = m
			return nil
		}
		if *mp == nil {
			*mp = map[string]any{}
		}
		return patchMap(*mp, segs[1:], op)
	}
	if len(segs) != 1 {
		return errorf(http.StatusBadRequest, "Cannot patch %s. Only the following can be updated: %s", op.Path, patchable)
	}

	if top == "deploy_interface" {
		if len(segs) != 1 {
			return errorf(http.StatusBadRequest, "Cannot patch %s. Only the following can be updated: %s", op.Path, patchable)
		}
		if op.Op == "remove" || string(op.Value) == "null" {
			c.deployInterface = ""
			return nil
		}
		var di string
		if err := json.Unmarshal(op.Value, &di); err != nil {
			return bad("a string")
		}
		if !deployInterfaces[di] {
			return errorf(http.StatusBadRequest, "Could not find the following interface in the 'ironic.hardware.interfaces.deploy' entrypoint: %s. Valid interfaces are ['custom-agent', 'fake'].", di)
		}
		if di == "fake" {
			di = ""
		}
		c.deployInterface = di
		return nil
	}

	var sp *string
	switch top {
	case "name":
		sp = &c.Name
	case "resource_class":
		sp = &c.ResourceClass
	case "instance_uuid":
		sp = &c.InstanceUUID
	case "conductor_group":
		sp = &c.ConductorGroup
	case "owner":
		sp = &c.Owner
	case "lessee":
		sp = &c.Lessee
	case "shard":
		sp = &c.Shard
	case "description":
		sp = &c.Description
	case "protected_reason":
		sp = &c.protectedReason
	case "retired_reason":
		sp = &c.retiredReason
	}
	if sp != nil {
		if op.Op == "remove" || string(op.Value) == "null" {
			*sp = ""
			return nil
		}
		var s string
		if err := json.Unmarshal(op.Value, &s); err != nil {
			return bad("a string")
		}
		*sp = s
		return nil
	}

	var bp *bool
	switch top {
	case "maintenance":
		bp = &c.Maintenance
	case "protected":
		bp = &c.Protected
	case "retired":
		bp = &c.Retired
	}
	if bp != nil {
		if op.Op == "remove" {
			*bp = false
			return nil
		}
		var b bool
		if err := json.Unmarshal(op.Value, &b); err != nil {
			return bad("a boolean")
		}
		*bp = b
		return nil
	}
	return errorf(http.StatusBadRequest, "fake ironic does not support patching %s", op.Path)
}

// patchMap applies op at path segs inside m.
func patchMap(m map[string]any, segs []string, op patchOp) error {
	for _, seg := range segs[:len(segs)-1] {
		next, ok := m[seg].(map[string]any)
		if !ok {
			return errorf(http.StatusBadRequest, "Couldn't apply patch '%s'. Reason: member '%s' not found in %s", describe(op), seg, op.Path)
		}
		m = next
	}
	key := segs[len(segs)-1]
	_, exists := m[key]
	switch op.Op {
	case "remove":
		if !exists {
			return errorf(http.StatusBadRequest, "Couldn't apply patch '%s'. Reason: can't remove a non-existent object '%s'", describe(op), key)
		}
		delete(m, key)
		return nil
	case "replace":
		if !exists {
			return errorf(http.StatusBadRequest, "Couldn't apply patch '%s'. Reason: can't replace a non-existent object '%s'", describe(op), key)
		}
	}
	var val any
	if err := json.Unmarshal(op.Value, &val); err != nil {
		return errorf(http.StatusBadRequest, "Invalid JSON value for %s", op.Path)
	}
	m[key] = val
	return nil
}

func describe(op patchOp) string {
	if op.Op == "remove" {
		return fmt.Sprintf("{'op': '%s', 'path': '%s'}", op.Op, op.Path)
	}
	return fmt.Sprintf("{'op': '%s', 'path': '%s', 'value': %s}", op.Op, op.Path, op.Value)
}
