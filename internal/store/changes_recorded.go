//go:build !ingot_norecord

package store

// recordChangesDisabled is true only in the benchmark build tagged ingot_norecord (see
// changes_norecord.go).
const recordChangesDisabled = false
