package ironic_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
)

// tokenTransport sends a fixed X-Auth-Token.
type tokenTransport string

func (t tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("X-Auth-Token", string(t))
	return http.DefaultTransport.RoundTrip(r)
}

// TestRequireListAll: behind Keystone, a caller without Ironic's list_all is given its own
// project's nodes without complaint; RequireListAll turns that into ErrUnauthorized, and
// leaves a caller with list_all its whole listing.
func TestRequireListAll(t *testing.T) {
	s := ironictest.NewServer(t, ironictest.WithKeystoneAuth(func(token string) (ironictest.Caller, bool) {
		switch token {
		case "admin":
			return ironictest.Caller{Project: "p-admin", ListAll: true}, true
		case "service":
			return ironictest.Caller{Project: "p-service"}, true
		}
		return ironictest.Caller{}, false
	}))
	s.AddNode(ironic.Node{Name: "mine", Owner: "p-service"})
	s.AddNode(ironic.Node{Name: "leased", Lessee: "p-service"})
	s.AddNode(ironic.Node{Name: "other"})
	list := func(token string, require bool) ([]ironic.Node, error) {
		c, err := ironic.New(ironic.Config{URL: s.URL, Transport: tokenTransport(token), RequireListAll: require,
			Retry: ironic.RetryPolicy{MaxAttempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return c.ListNodes(context.Background(), ironic.ListOptions{Fields: []string{"name"}})
	}
	if nodes, err := list("service", false); err != nil || len(nodes) != 2 {
		t.Errorf("without the check, the service's listing: %d nodes, %v; want its 2, silently", len(nodes), err)
	}
	_, err := list("service", true)
	if !errors.Is(err, ironic.ErrUnauthorized) || !strings.Contains(err.Error(), "baremetal:node:list_all") {
		t.Errorf("with the check: %v; want ErrUnauthorized naming list_all", err)
	}
	if nodes, err := list("admin", true); err != nil || len(nodes) != 3 {
		t.Errorf("admin with the check: %d nodes, %v; want all 3", len(nodes), err)
	}
	if _, err := list("bogus", true); !errors.Is(err, ironic.ErrUnauthorized) {
		t.Errorf("an invalid token: %v; want ErrUnauthorized", err)
	}
}
