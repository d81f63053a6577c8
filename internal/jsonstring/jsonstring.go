// Package jsonstring writes a Go string as a JSON string, for the JSON bodies written by
// hand (allocation candidates, provider lists, Python-ordered objects) where encoding/json
// would cost too much.
package jsonstring

import "unicode/utf8"

// Append appends s to b as a JSON string: quoted, with '"' and '\' escaped, newline,
// carriage return and tab as \n, \r and \t, other control characters as \u00XX, and each
// byte that is not part of valid UTF-8 as \ufffd (as encoding/json does). Other characters
// are written as they are (UTF-8, not \u escapes; HTML characters are not escaped).
func Append(b []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	b = append(b, '"')
	if plain { // UUIDs and names: nothing to escape
		b = append(b, s...)
		return append(b, '"')
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			const hex = "0123456789abcdef"
			b = append(b, `\u00`...)
			b = append(b, hex[c>>4], hex[c&0xf])
		}
		i++
	}
	return append(b, '"')
}
