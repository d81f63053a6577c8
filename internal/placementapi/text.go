package placementapi

import (
	"strings"
	"unicode/utf8"
)

// What a client string may hold. Every string that can reach the database (URL path
// segments, query parameters, JSON body strings) must be valid UTF-8 without NUL: PostgreSQL
// refuses both (SQLSTATE 22021) while SQLite would store them, so they are refused here, at
// the edge, with a 400 and the same answer on both databases. Python's Placement decodes
// bodies as UTF-8 and fails the same way ("Malformed JSON").

// textProblem says what is wrong with s ("" when nothing is).
func textProblem(s string) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "a NUL character"
	}
	return ""
}

// checkText refuses a request whose path or query holds a string the database cannot
// store. It runs after routing and policy, where upstream validates queries.
func (rq *request) checkText() error {
	if p := textProblem(rq.r.URL.Path); p != "" {
		return badRequest("Invalid URL path: it contains %s.", p)
	}
	for k, vs := range rq.query {
		if p := textProblem(k); p != "" {
			return badRequest("Invalid query string parameters: a parameter name contains %s.", p)
		}
		for _, v := range vs {
			if p := textProblem(v); p != "" {
				return badRequest("Invalid query string parameters: the value of '%s' contains %s.", truncateText(k, maxEcho), p)
			}
		}
	}
	return nil
}

// bodyTextProblem walks a decoded JSON document (as encoding/json builds it) and says what
// is wrong with the first string (key or value) that the database cannot store. Invalid
// UTF-8 cannot appear here: decodeJSON refuses it in the raw body first.
func bodyTextProblem(doc any) string {
	switch d := doc.(type) {
	case string:
		return textProblem(d)
	case []any:
		for _, e := range d {
			if p := bodyTextProblem(e); p != "" {
				return p
			}
		}
	case map[string]any:
		for k, e := range d {
			if p := textProblem(k); p != "" {
				return p
			}
			if p := bodyTextProblem(e); p != "" {
				return p
			}
		}
	}
	return ""
}

// maxEcho bounds how much of a client's value an error message repeats (in bytes, before
// quoting).
const maxEcho = 256

// truncateText returns s cut to at most n bytes on a rune boundary, with "..." appended when
// it was cut.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// truncateMiddle returns s cut to about n bytes by removing its middle (on rune boundaries),
// marked with " ... "; the last quarter of the budget keeps s's end.
func truncateMiddle(s string, n int) string {
	if len(s) <= n {
		return s
	}
	tail := len(s) - n/4
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return strings.TrimSuffix(truncateText(s, n-n/4), "...") + " ... " + s[tail:]
}
