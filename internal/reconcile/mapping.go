package reconcile

import (
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"strings"

	"ingot/internal/ironic"
	"ingot/internal/placement"
)

// ResourceClass returns the Placement resource class of an Ironic node's resource class,
// as Nova's ironic driver names it (os_resource_classes.normalize_name): every run of
// characters other than A-Z, a-z and 0-9 becomes one underscore, the result is upper-cased
// and prefixed with CUSTOM_. "baremetal-gold" is CUSTOM_BAREMETAL_GOLD. An empty class
// gives "" (the node gets a provider without inventory).
func ResourceClass(ironicClass string) string {
	if ironicClass == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("CUSTOM_")
	run := false
	for _, r := range ironicClass {
		switch {
		case 'a' <= r && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
			run = false
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			b.WriteRune(r)
			run = false
		case !run:
			b.WriteByte('_')
			run = true
		}
	}
	return b.String()
}

// Unavailable reports whether the node must not be offered for scheduling whatever its
// instance: it is in maintenance, its power state is "error" or unknown, or its provision
// state is other than "available" (an empty provision state, Ironic's old NOSTATE, counts
// as available). This is Nova's _node_resources_unavailable.
func Unavailable(n ironic.Node) bool {
	return n.Maintenance ||
		n.PowerState == "error" || n.PowerState == "" ||
		(n.ProvisionState != ironic.ProvisionStateAvailable && n.ProvisionState != "")
}

// Reserved reports whether the node's inventory is reserved: it is Unavailable or holds
// an instance (Nova's rule since 2023.1, so that a node being cleaned after its instance
// was deleted is not offered before Ironic reports it available again).
func Reserved(n ironic.Node) bool {
	return Unavailable(n) || n.InstanceUUID != ""
}

// Inventory is the inventory a node's provider has of its resource class: one unit,
// wholly reserved when reserved is true.
func Inventory(reserved bool) placement.Inventory {
	inv := placement.Inventory{Total: 1, MinUnit: 1, MaxUnit: 1, StepSize: 1, AllocationRatio: 1}
	if reserved {
		inv.Reserved = 1
	}
	return inv
}

// AggregateNamespace is the UUID namespace of the aggregates the tracker derives from node
// fields: the aggregate of conductor group G is the version 5 UUID of "conductor_group:G"
// in this namespace, and the aggregate of owner O that of "owner:O". The namespace is itself
// uuid5(NAMESPACE_URL, "ingot:ironic-aggregates"). In Python:
//
//	uuid.uuid5(uuid.UUID("d4a60ce5-8dfa-587c-a66c-865dc607998b"), "conductor_group:rack-a")
const AggregateNamespace = "d4a60ce5-8dfa-587c-a66c-865dc607998b"

// Kinds of derived aggregates.
const (
	AggregateConductorGroup = "conductor_group"
	AggregateOwner          = "owner"
)

// AggregateUUID returns the stable UUID of the aggregate for a node field value, such as
// AggregateUUID(AggregateConductorGroup, "rack-a"), so that member_of can target every node
// of a conductor group or an owner.
func AggregateUUID(kind, value string) string {
	return uuid5(AggregateNamespace, kind+":"+value)
}

// Aggregates returns the aggregates a node's provider is in: its conductor group's and its
// owner's, for those that are set, sorted.
func Aggregates(n ironic.Node) []string {
	var out []string
	if n.ConductorGroup != "" {
		out = append(out, AggregateUUID(AggregateConductorGroup, strings.ToLower(n.ConductorGroup)))
	}
	if n.Owner != "" {
		out = append(out, AggregateUUID(AggregateOwner, n.Owner))
	}
	slices.Sort(out)
	return out
}

// uuid5 returns the RFC 9562 version 5 (SHA-1) UUID of name in namespace ns.
func uuid5(ns, name string) string {
	raw, err := hex.DecodeString(strings.ReplaceAll(ns, "-", ""))
	if err != nil || len(raw) != 16 {
		panic("reconcile: bad namespace UUID " + ns)
	}
	h := sha1.New()
	h.Write(raw)
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	s := hex.EncodeToString(u[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// validCustomTrait reports whether name can be created as a custom Placement trait:
// CUSTOM_ followed by A-Z, 0-9 and _, at most 255 characters (Placement's schema).
func validCustomTrait(name string) bool {
	if len(name) > 255 || !strings.HasPrefix(name, "CUSTOM_") || len(name) == len("CUSTOM_") {
		return false
	}
	for _, r := range name[len("CUSTOM_"):] {
		if !('A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
