package ironictest

import (
	"encoding/json"
	"maps"
	"strconv"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/jsonstring"
)

// fieldMinor is the microversion minor that introduced a node field (Ironic's
// api/controllers/v1/utils.py VERSIONED_FIELDS); absent fields predate 1.8.
var fieldMinor = map[string]int{
	"name": 5, "resource_class": 21, "traits": 37, "fault": 42, "conductor_group": 46,
	"automated_clean": 47, "protected": 48, "protected_reason": 48, "conductor": 49,
	"deploy_interface": 31, "owner": 50, "description": 51, "allocation_uuid": 52, "retired": 61,
	"retired_reason": 61, "lessee": 65, "shard": 82,
}

// nodeFields are the node fields the fake renders, in the order of a full node.
var nodeFields = []string{
	"uuid", "created_at", "updated_at", "conductor_group", "description", "driver",
	"driver_info", "extra", "fault", "instance_info", "instance_uuid", "last_error",
	"lessee", "maintenance", "maintenance_reason", "name", "owner", "power_state",
	"properties", "protected", "protected_reason", "provision_state",
	"provision_updated_at", "reservation", "resource_class", "retired", "retired_reason",
	"shard", "target_power_state", "target_provision_state", "traits", "conductor",
	"allocation_uuid", "chassis_uuid", "deploy_interface",
}

// selectable reports whether a field may appear in a fields selector. created_at and
// updated_at are refused by Ironic 21.4 ("Field updated_at is not a valid field.").
var selectable = func() map[string]bool {
	m := make(map[string]bool)
	for _, f := range nodeFields {
		m[f] = true
	}
	delete(m, "created_at")
	delete(m, "updated_at")
	return m
}()

// ironicFields are valid Ironic 21.4 node fields that the fake does not model.
var ironicFields = map[string]bool{
	"automated_clean": true, "bios_interface": true, "boot_interface": true, "boot_mode": true,
	"clean_step": true, "console_enabled": true, "console_interface": true,
	"deploy_step": true, "driver_internal_info": true,
	"inspection_finished_at": true, "inspection_started_at": true, "inspect_interface": true,
	"management_interface": true, "network_data": true, "network_interface": true,
	"power_interface": true, "raid_config": true, "raid_interface": true,
	"rescue_interface": true, "secure_boot": true, "storage_interface": true,
	"target_raid_config": true, "vendor_interface": true,
}

// defaultListFields are returned by a listing without fields or detail.
var defaultListFields = []string{"uuid", "instance_uuid", "maintenance", "name", "power_state", "provision_state"}

func allowed(v ironic.Version, field string) bool {
	m, ok := fieldMinor[field]
	return !ok || v.Minor >= m
}

// fullFields returns every field a full node has at v.
func fullFields(v ironic.Version) []string {
	out := make([]string, 0, len(nodeFields))
	for _, f := range nodeFields {
		if allowed(v, f) {
			out = append(out, f)
		}
	}
	return out
}

// appendNode appends n as JSON with the given fields and its links.
func (s *Server) appendNode(b []byte, n *node, fields []string, base string) []byte {
	b = append(b, '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = jsonstring.Append(b, f)
		b = append(b, ": "...)
		b = s.appendField(b, n, f)
	}
	if len(fields) > 0 {
		b = append(b, ", "...)
	}
	b = append(b, `"links": [{"href": `...)
	b = jsonstring.Append(b, base+"/v1/nodes/"+n.UUID)
	b = append(b, `, "rel": "self"}, {"href": `...)
	b = jsonstring.Append(b, base+"/nodes/"+n.UUID)
	b = append(b, `, "rel": "bookmark"}]}`...)
	return b
}

func (s *Server) appendField(b []byte, n *node, f string) []byte {
	switch f {
	case "uuid":
		return jsonstring.Append(b, n.UUID)
	case "name":
		return appendNullable(b, n.Name)
	case "driver":
		return appendNullable(b, n.Driver)
	case "resource_class":
		return appendNullable(b, n.ResourceClass)
	case "traits":
		b = append(b, '[')
		for i, t := range n.Traits {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = jsonstring.Append(b, t)
		}
		return append(b, ']')
	case "maintenance":
		return strconv.AppendBool(b, n.Maintenance)
	case "maintenance_reason":
		return appendNullable(b, n.MaintenanceReason)
	case "fault":
		return appendNullable(b, n.Fault)
	case "power_state":
		return appendNullable(b, n.PowerState)
	case "target_power_state":
		return appendNullable(b, n.TargetPowerState)
	case "provision_state":
		return appendNullable(b, n.ProvisionState)
	case "target_provision_state":
		return appendNullable(b, n.TargetProvisionState)
	case "last_error":
		return appendNullable(b, n.LastError)
	case "instance_uuid":
		return appendNullable(b, n.InstanceUUID)
	case "reservation":
		return appendNullable(b, n.Reservation)
	case "conductor_group":
		return jsonstring.Append(b, n.ConductorGroup) // never null: "" is the default group
	case "conductor":
		return jsonstring.Append(b, s.host)
	case "owner":
		return appendNullable(b, n.Owner)
	case "lessee":
		return appendNullable(b, n.Lessee)
	case "shard":
		return appendNullable(b, n.Shard)
	case "description":
		return appendNullable(b, n.Description)
	case "protected":
		return strconv.AppendBool(b, n.Protected)
	case "protected_reason":
		return appendNullable(b, n.protectedReason)
	case "retired":
		return strconv.AppendBool(b, n.Retired)
	case "retired_reason":
		return appendNullable(b, n.retiredReason)
	case "allocation_uuid":
		return appendNullable(b, n.AllocationUUID)
	case "chassis_uuid":
		return append(b, "null"...)
	case "deploy_interface":
		if n.deployInterface == "" {
			return jsonstring.Append(b, "fake")
		}
		return jsonstring.Append(b, n.deployInterface)
	case "properties":
		return appendMap(b, n.Properties)
	case "extra":
		return appendMap(b, n.Extra)
	case "instance_info":
		if _, ok := n.InstanceInfo["configdrive"]; ok {
			// Ironic hides the config drive.
			m := maps.Clone(n.InstanceInfo)
			m["configdrive"] = "******"
			return appendMap(b, m)
		}
		return appendMap(b, n.InstanceInfo)
	case "driver_info":
		return appendMap(b, n.driverInfo)
	case "created_at":
		return appendTime(b, n.CreatedAt)
	case "updated_at":
		return appendTime(b, n.UpdatedAt)
	case "provision_updated_at":
		return appendTime(b, n.ProvisionUpdatedAt)
	}
	return append(b, "null"...)
}

func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return jsonstring.Append(b, s)
}

func appendMap(b []byte, m map[string]any) []byte {
	if len(m) == 0 {
		return append(b, "{}"...)
	}
	j, err := json.Marshal(m)
	if err != nil {
		return append(b, "{}"...)
	}
	return append(b, j...)
}

// appendTime writes Ironic's timestamp format, or null for the zero time.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000")
	return append(b, `+00:00"`...)
}
