// Package uuid makes random (version 4) UUIDs in their canonical lowercase form, as the
// APIs ingot serves and calls write them.
package uuid

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns a random version-4 UUID, e.g. "1b4e28ba-2fa1-4d2b-a3c5-6e0f4a8c1d27".
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:])  // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
