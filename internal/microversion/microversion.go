// Package microversion parses and compares OpenStack API microversions ("1.39") and reads the
// OpenStack-API-Version request header. It is used by the Placement server to negotiate the
// version of each request and by the Ironic client to pick a version the server supports.
package microversion

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Version is a microversion MAJOR.MINOR. The zero value is 0.0, which no OpenStack service
// serves; it is used as "not set".
type Version struct {
	Major, Minor int
}

// V returns the version major.minor.
func V(major, minor int) Version { return Version{major, minor} }

// String formats v as "MAJOR.MINOR".
func (v Version) String() string {
	return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor)
}

// Compare returns -1, 0 or +1 as v is lower than, equal to or higher than w.
func (v Version) Compare(w Version) int {
	switch {
	case v.Major != w.Major:
		if v.Major < w.Major {
			return -1
		}
		return 1
	case v.Minor < w.Minor:
		return -1
	case v.Minor > w.Minor:
		return 1
	}
	return 0
}

// AtLeast reports whether v >= w.
func (v Version) AtLeast(w Version) bool { return v.Compare(w) >= 0 }

// Less reports whether v < w.
func (v Version) Less(w Version) bool { return v.Compare(w) < 0 }

// IsZero reports whether v is the unset version 0.0.
func (v Version) IsZero() bool { return v == Version{} }

// ErrInvalid is returned (wrapped) by Parse for a string that is not MAJOR.MINOR.
var ErrInvalid = errors.New("invalid version string")

// Parse parses "MAJOR.MINOR" where both parts are non-negative decimal integers without signs.
// Anything else (empty parts, a third part, letters) is an error satisfying
// errors.Is(err, ErrInvalid) whose text is "invalid version string: S", as OpenStack services
// word it.
func Parse(s string) (Version, error) {
	maj, min, ok := strings.Cut(s, ".")
	if !ok {
		return Version{}, fmt.Errorf("%w: %s", ErrInvalid, s)
	}
	a, errA := parseUint(maj)
	b, errB := parseUint(min)
	if errA != nil || errB != nil {
		return Version{}, fmt.Errorf("%w: %s", ErrInvalid, s)
	}
	return Version{a, b}, nil
}

func parseUint(s string) (int, error) {
	if s == "" || len(s) > 9 {
		return 0, ErrInvalid
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, ErrInvalid
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// Latest is the sentinel a client sends to ask for the newest version a server supports.
const Latest = "latest"

// FromHeaders extracts the requested version string for service from the values of the
// OpenStack-API-Version header (each "SERVICE VERSION", comma separated, possibly repeated) and
// from a legacy header value (e.g. X-OpenStack-Ironic-API-Version), which is used when the
// standard header does not name the service. It returns "" when neither names one. Service
// names compare case-insensitively, as microversion-parse does.
func FromHeaders(service string, standard []string, legacy string) string {
	for _, h := range standard {
		for _, part := range strings.Split(h, ",") {
			name, ver, ok := strings.Cut(strings.TrimSpace(part), " ")
			if ok && strings.EqualFold(name, service) {
				return strings.TrimSpace(ver)
			}
		}
	}
	return strings.TrimSpace(legacy)
}
