package jsonschema

import "strings"

// isUUIDLike is oslo.utils' uuidutils.is_uuid_like, which Placement registers
// as the "uuid" format checker:
//
//	str(uuid.UUID(val)).replace('-', '') == _format_uuid_string(val)
//
// Both sides drop every "urn:" and "uuid:", strip braces from the ends and
// drop dashes; what is left must be 32 hex digits, in either case. Anything
// that is not a string fails (uuid.UUID raises, and the checker says False).
func isUUIDLike(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	if strings.Contains(s, "urn:") || strings.Contains(s, "uuid:") {
		s = strings.ReplaceAll(s, "urn:", "")
		s = strings.ReplaceAll(s, "uuid:", "")
	}
	s = strings.Trim(s, "{}")
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-':
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
			digits++
		default:
			return false
		}
	}
	return digits == 32
}
