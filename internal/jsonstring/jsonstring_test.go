package jsonstring_test

import (
	"encoding/json"
	"strings"
	"testing"

	"ingot/internal/jsonstring"
)

func TestAppend(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", `""`},
		{"2f7b1e3c-0000-4000-8000-000000000001", `"2f7b1e3c-0000-4000-8000-000000000001"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"line\nfeed\r\ttab", `"line\nfeed\r\ttab"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"<&>", `"<&>"`},
		{"héllo ☃ 😀", `"héllo ☃ 😀"`},
		{"bad\xffbyte", `"bad\ufffdbyte"`},
		{"cut\xe2\x98", `"cut\ufffd\ufffd"`},
	} {
		if got := string(jsonstring.Append([]byte("x"), c.in)); got != "x"+c.want {
			t.Errorf("Append(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// FuzzAppend checks that encoding/json reads back what Append wrote: the string itself,
// with each byte of invalid UTF-8 replaced by U+FFFD.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"\\\n\x00", "\xff\xfe", "日本\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := jsonstring.Append(nil, s)
		var got string
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("Append(%q) = %s: not JSON: %v", s, enc, err)
		}
		if got != fffdEach(s) {
			t.Fatalf("Append(%q) reads back as %q", s, got)
		}
	})
}

// fffdEach replaces every invalid byte (not every run of them) with U+FFFD.
func fffdEach(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // ranging yields U+FFFD for each invalid byte
	}
	return b.String()
}
