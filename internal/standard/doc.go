// Package standard holds Placement's two standard catalogues, which must match upstream
// exactly: the standard resource classes (os-resource-classes) and the standard traits
// (os-traits).
//
// Both lists are generated from the Debian bookworm packages python3-os-resource-classes
// and python3-os-traits by scripts/gen-standard.sh (go generate), and the generated files
// are committed; each names the package version it came from in its header. A test compares
// them with the installed packages when /usr/bin/python3 can import them, and skips otherwise.
//
// A standard resource class's id is its index in upstream's ordered list (VCPU is 0), which
// is the id Placement reports and stores; custom classes (CUSTOM_*) are numbered from
// [FirstCustomResourceClassID]. Standard names never start with CUSTOM_.
//
// The package is pure data: it imports only the standard library, and every function is
// safe for concurrent use.
package standard
