//go:build race

package ui_test

// raceEnabled reports whether the race detector instruments this test binary (and the
// pure-Go SQLite under it), which makes the server several times slower.
const raceEnabled = true
