//go:build ingot_norecord

package store

// recordChangesDisabled is set by the build tag ingot_norecord, which exists only to measure
// what recording changes costs writers (scripts/bench-replicas-writes.sh): writes then record
// nothing, and every view is built from scratch instead of from the changes since the last
// one, so views stay exact but reads cost far more. Never ship such a build.
const recordChangesDisabled = true
