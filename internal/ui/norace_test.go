//go:build !race

package ui_test

// raceEnabled reports whether the race detector instruments this test binary.
const raceEnabled = false
