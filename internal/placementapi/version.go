package placementapi

import "ingot/internal/microversion"

// The microversions this server supports.
var (
	minVersion = microversion.V(1, 0)
	maxVersion = microversion.V(1, 39)
)

// Named features of microversions, so handlers ask "does this request have X" instead of
// comparing numbers.
type version struct{ microversion.Version }

func (v version) at(minor int) bool { return v.AtLeast(microversion.V(1, minor)) }

func (v version) aggregates() bool          { return v.at(1) }
func (v version) memberOf() bool            { return v.at(3) }
func (v version) resourcesFilter() bool     { return v.at(4) }
func (v version) traits() bool              { return v.at(6) }
func (v version) putClassIdempotent() bool  { return v.at(7) }
func (v version) allocationOwners() bool    { return v.at(8) }
func (v version) allocationsLink() bool     { return v.at(11) }
func (v version) allocationsDict() bool     { return v.at(12) }
func (v version) nested() bool              { return v.at(14) }
func (v version) cacheHeaders() bool        { return v.at(15) }
func (v version) requiredFilter() bool      { return v.at(18) }
func (v version) aggregateGeneration() bool { return v.at(19) }
func (v version) createReturnsBody() bool   { return v.at(20) }
func (v version) forbiddenTraits() bool     { return v.at(22) }
func (v version) errorCodes() bool          { return v.at(23) }
func (v version) multipleMemberOf() bool    { return v.at(24) }
func (v version) reservedMayEqualTotal() bool {
	return v.at(26)
}
func (v version) consumerGenerations() bool { return v.at(28) }
func (v version) forbiddenAggregates() bool { return v.at(32) }
func (v version) mappings() bool            { return v.at(34) }
func (v version) reparent() bool            { return v.at(37) }
func (v version) consumerTypes() bool       { return v.at(38) }
func (v version) anyTraits() bool           { return v.at(39) }
