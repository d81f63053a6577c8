package ironic

import (
	"fmt"
	"strings"

	"ingot/internal/microversion"
)

// Version is an Ironic API microversion such as 1.82: internal/microversion's Version, with
// the Ironic feature predicates (HasShard, ...) as methods.
type Version microversion.Version

// Baseline is the oldest microversion ingot accepts from a server. It is 1.37, the version
// that added node traits, because every sync pass mirrors traits into Placement; everything
// else a pass reads is older (fields 1.8, the provision_state filter 1.9, resource_class
// 1.21). Newer features (fault 1.42, conductor_group 1.46, owner 1.50, lessee 1.65, shard
// 1.82) are optional and checked through the Has* predicates, so the baseline stays
// conservative: raise it only when a feature becomes mandatory, and update this comment.
var Baseline = Version{1, 37}

// MaxVersion is the newest microversion ingot speaks: 1.82, the maximum of Ironic 21.4
// (2023.1), against which the contract suite runs. Newer servers are talked to at 1.82.
// 1.83 hides child nodes from listings by default; review such changes before raising it.
var MaxVersion = Version{1, 82}

// Microversions of the features the client gates on (Ironic's webapi version history).
var (
	versionFields          = Version{1, 8}
	versionResourceClass   = Version{1, 21}
	versionTraits          = Version{1, 37}
	versionFault           = Version{1, 42}
	versionConductorGroup  = Version{1, 46}
	versionProtected       = Version{1, 48}
	versionOwner           = Version{1, 50}
	versionDescription     = Version{1, 51}
	versionAllocations     = Version{1, 52}
	versionConfigDriveDict = Version{1, 56}
	versionAllocationNode  = Version{1, 58}
	versionVendorData      = Version{1, 59}
	versionAllocationOwner = Version{1, 60}
	versionRetired         = Version{1, 61}
	versionLessee          = Version{1, 65}
	versionDeployVerbs     = Version{1, 73}
	versionShard           = Version{1, 82}
	versionProvisionFilter = Version{1, 9}
)

// ParseVersion parses "1.82" (surrounding spaces allowed) with microversion.Parse. It
// rejects "latest" and anything that is not two non-negative integers.
func ParseVersion(s string) (Version, error) {
	v, err := microversion.Parse(strings.TrimSpace(s))
	if err != nil {
		return Version{}, fmt.Errorf("parse microversion %q: want MAJOR.MINOR: %w", s, err)
	}
	return Version(v), nil
}

// String returns "MAJOR.MINOR".
func (v Version) String() string { return microversion.Version(v).String() }

// IsZero reports whether v is the zero Version (not negotiated).
func (v Version) IsZero() bool { return microversion.Version(v).IsZero() }

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool { return microversion.Version(v).Less(microversion.Version(w)) }

// AtLeast reports whether v is w or newer.
func (v Version) AtLeast(w Version) bool {
	return microversion.Version(v).AtLeast(microversion.Version(w))
}

// HasFields reports whether listings can ask for a subset of fields (1.8).
func (v Version) HasFields() bool { return v.AtLeast(versionFields) }

// HasTraits reports whether nodes have traits (1.37).
func (v Version) HasTraits() bool { return v.AtLeast(versionTraits) }

// HasFault reports whether nodes have the fault field (1.42).
func (v Version) HasFault() bool { return v.AtLeast(versionFault) }

// HasConductorGroup reports whether nodes have conductor_group and listings can filter on
// it (1.46).
func (v Version) HasConductorGroup() bool { return v.AtLeast(versionConductorGroup) }

// HasProtected reports whether nodes have the protected field (1.48).
func (v Version) HasProtected() bool { return v.AtLeast(versionProtected) }

// HasOwner reports whether nodes have owner and listings can filter on it (1.50).
func (v Version) HasOwner() bool { return v.AtLeast(versionOwner) }

// HasAllocations reports whether the allocation API exists (1.52).
func (v Version) HasAllocations() bool { return v.AtLeast(versionAllocations) }

// HasRetired reports whether nodes have the retired field (1.61).
func (v Version) HasRetired() bool { return v.AtLeast(versionRetired) }

// HasLessee reports whether nodes have lessee and listings can filter on it (1.65).
func (v Version) HasLessee() bool { return v.AtLeast(versionLessee) }

// HasDeployVerbs reports whether "deploy" and "undeploy" are accepted as provision targets
// (1.73); older servers know only "active" and "deleted", which remain valid.
func (v Version) HasDeployVerbs() bool { return v.AtLeast(versionDeployVerbs) }

// HasShard reports whether nodes have shard and listings can filter on it (1.82).
func (v Version) HasShard() bool { return v.AtLeast(versionShard) }

// fieldVersions lists node fields that need a microversion newer than 1.8 (the fields
// selector itself). Ironic answers 406 for a field the requested version does not know.
var fieldVersions = map[string]Version{
	"resource_class":  versionResourceClass,
	"traits":          versionTraits,
	"fault":           versionFault,
	"conductor_group": versionConductorGroup,
	"protected":       versionProtected,
	"owner":           versionOwner,
	"description":     versionDescription,
	"allocation_uuid": versionAllocations,
	"retired":         versionRetired,
	"lessee":          versionLessee,
	"shard":           versionShard,
}

// allowsField reports whether the node field can be requested at v.
func (v Version) allowsField(field string) bool {
	min, ok := fieldVersions[field]
	return !ok || v.AtLeast(min)
}
