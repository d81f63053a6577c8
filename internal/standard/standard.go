package standard

import "slices"

//go:generate bash ../../scripts/gen-standard.sh

// FirstCustomResourceClassID is the id Placement gives the first custom resource class;
// standard class ids are below it.
const FirstCustomResourceClassID = 10000

// Lookup maps, built once at package initialisation and only read afterwards.
var (
	resourceClassIDs = func() map[string]int {
		m := make(map[string]int, len(resourceClasses))
		for i, c := range resourceClasses {
			m[c] = i
		}
		return m
	}()
	traitSet = func() map[string]struct{} {
		m := make(map[string]struct{}, len(traits))
		for _, t := range traits {
			m[t] = struct{}{}
		}
		return m
	}()
)

// ResourceClasses returns the standard resource classes in upstream order; index == upstream
// id. It returns a new slice on each call, which the caller may modify.
func ResourceClasses() []string {
	return slices.Clone(resourceClasses[:])
}

// ResourceClassID returns the upstream id of the standard resource class name and true, or
// 0 and false when name is not a standard class (custom classes included).
func ResourceClassID(name string) (int, bool) {
	id, ok := resourceClassIDs[name]
	return id, ok
}

// Traits returns the standard traits, sorted. It returns a new slice on each call, which the
// caller may modify.
func Traits() []string {
	return slices.Clone(traits[:])
}

// IsTrait reports whether name is a standard trait. Custom traits (CUSTOM_*) are not.
func IsTrait(name string) bool {
	_, ok := traitSet[name]
	return ok
}
