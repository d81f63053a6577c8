package health

import "testing"

// TestNegotiate: the answers are webob's (Debian's python3-webob), acceptable_offers of
// oslo's offers, the first taken, text/plain when none is acceptable.
func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                   "text/plain",
		"text/*;q=0.1, application/*":        "application/json",
		"application/json, text/html":        "text/html",
		"text/html;q=0, */*":                 "text/plain",
		"text/plain;q=0, text/*;q=0.5":       "text/html",
		"garbage":                            "text/plain",
		"application/json;q=0":               "text/plain",
		"application/json;q=0.5, text/plain": "text/plain",
		"Application/JSON":                   "application/json",
	} {
		if got := negotiate(accept, osloOffers); got != want {
			t.Errorf("negotiate(%q) = %s; want %s", accept, got, want)
		}
	}
}
