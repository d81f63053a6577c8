package keystone_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"ingot/internal/keystone"
	"ingot/internal/keystone/keystonetest"
)

// measuredCatalog is the shape of a real Keystone 22 token's catalog (keystone.md §2.3),
// with a baremetal service in two regions.
const measuredCatalog = `{"token": {"methods": ["password"], "user": {"id": "u1", "name": "ingot"},
 "expires_at": "2026-12-05T14:33:00.000000Z",
 "catalog": [
  {"type": "identity", "name": "keystone", "id": "k", "endpoints": [
    {"id": "e1", "interface": "public", "region_id": "RegionOne", "url": "http://127.0.0.1:19300/v3", "region": "RegionOne"}]},
  {"type": "baremetal", "name": "ironic", "id": "b", "endpoints": [
    {"id": "e2", "interface": "public", "region_id": "RegionOne", "url": "https://ironic.example:6385", "region": "RegionOne"},
    {"id": "e3", "interface": "internal", "region_id": "RegionOne", "url": "http://10.0.0.9:6385", "region": "RegionOne"},
    {"id": "e4", "interface": "public", "region_id": "RegionTwo", "url": "https://ironic2.example:6385", "region": "RegionTwo"}]}]}}`

func TestDecodeCatalog(t *testing.T) {
	c, err := keystone.DecodeCatalog([]byte(measuredCatalog))
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 2 || c[1].Type != "baremetal" || len(c[1].Endpoints) != 3 ||
		c[1].Endpoints[1] != (keystone.CatalogEndpoint{Interface: "internal", RegionID: "RegionOne", Region: "RegionOne", URL: "http://10.0.0.9:6385"}) {
		t.Errorf("catalog = %+v", c)
	}
	if c, err := keystone.DecodeCatalog([]byte(`{"token": {"user": {"id": "u"}}}`)); err != nil || len(c) != 0 {
		t.Errorf("no catalog: %v, %v", c, err)
	}
	for _, bad := range []string{`{`, `{"other": 1}`, `{"token": {"catalog": "x"}}`} {
		if _, err := keystone.DecodeCatalog([]byte(bad)); err == nil {
			t.Errorf("%s: decoded", bad)
		}
	}
}

func TestCatalogEndpoint(t *testing.T) {
	measured, err := keystone.DecodeCatalog([]byte(measuredCatalog))
	if err != nil {
		t.Fatal(err)
	}
	ep := func(iface, region, url string) keystone.CatalogEndpoint {
		return keystone.CatalogEndpoint{Interface: iface, RegionID: region, URL: url}
	}
	bm := func(eps ...keystone.CatalogEndpoint) keystone.CatalogService {
		return keystone.CatalogService{Type: "baremetal", Name: "ironic", Endpoints: eps}
	}
	for _, tt := range []struct {
		name       string
		catalog    keystone.Catalog
		interfaces []string
		region     string
		want       string
		wantErr    []string // parts of the error
	}{
		{name: "default: internal first", catalog: measured, region: "RegionOne", want: "http://10.0.0.9:6385"},
		{name: "public asked", catalog: measured, interfaces: []string{"public"}, region: "RegionTwo", want: "https://ironic2.example:6385"},
		{name: "keystoneauth spelling", catalog: measured, interfaces: []string{"publicURL"}, region: "RegionOne", want: "https://ironic.example:6385"},
		{name: "internal only in one region, any region", catalog: measured, want: "http://10.0.0.9:6385"},
		{name: "public in two regions, any region: ambiguous", catalog: measured, interfaces: []string{"public"},
			wantErr: []string{`"baremetal"`, "public", "region any", "RegionOne, RegionTwo", "name one region"}},
		{name: "falls back to public", catalog: measured, region: "RegionTwo", want: "https://ironic2.example:6385"},
		{name: "no such region", catalog: measured, region: "RegionThree",
			wantErr: []string{`no "baremetal" endpoint with interface internal or public in region RegionThree`,
				"public in region RegionOne", "internal in region RegionOne", "public in region RegionTwo"}},
		{name: "no such interface", catalog: measured, interfaces: []string{"admin"},
			wantErr: []string{"interface admin in region any"}},
		{name: "no service", catalog: measured[:1],
			wantErr: []string{`the catalog has no "baremetal" service`, "interface internal or public", "region any"}},
		{name: "empty catalog", wantErr: []string{`no "baremetal" service`}},
		{name: "same URL twice is one endpoint", catalog: keystone.Catalog{bm(ep("internal", "R1", "http://a"), ep("internal", "R2", "http://a"))},
			want: "http://a"},
		{name: "two services of the type", catalog: keystone.Catalog{bm(ep("internal", "R1", "http://a")), bm(ep("internal", "R1", "http://b"))},
			region: "R1", wantErr: []string{"2 different internal URLs"}},
		{name: "deprecated region field", catalog: keystone.Catalog{bm(keystone.CatalogEndpoint{Interface: "public", Region: "R9", URL: "http://r9"})},
			region: "R9", want: "http://r9"},
		{name: "endpoint without region, any region", catalog: keystone.Catalog{bm(ep("public", "", "http://x"))}, want: "http://x"},
		{name: "endpoint without region, a region asked", catalog: keystone.Catalog{bm(ep("public", "", "http://x"))}, region: "R1",
			wantErr: []string{"public in region (none)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.catalog.Endpoint("baremetal", tt.interfaces, tt.region)
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Errorf("= %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil || !errors.Is(err, keystone.ErrNoEndpoint) {
				t.Fatalf("= %q, %v; want an ErrNoEndpoint", got, err)
			}
			for _, part := range tt.wantErr {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q lacks %q", err, part)
				}
			}
		})
	}
}

// TestSessionCatalog: the session asks for its token with the catalog and keeps it;
// renewing the token refreshes it.
func TestSessionCatalog(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	ks.SetCatalog([]keystonetest.Service{{Type: "baremetal", Name: "ironic",
		Endpoints: []keystonetest.Endpoint{{Interface: "internal", Region: "RegionOne", URL: "http://ironic-1:6385"}}}})
	s := newSession(t, ks)
	c, err := s.Catalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u, err := c.Endpoint("baremetal", nil, ""); err != nil || u != "http://ironic-1:6385" {
		t.Errorf("endpoint = %q, %v", u, err)
	}
	ks.SetCatalog([]keystonetest.Service{{Type: "baremetal", Name: "ironic",
		Endpoints: []keystonetest.Endpoint{{Interface: "internal", Region: "RegionOne", URL: "http://ironic-2:6385"}}}})
	tok, _ := s.Token(context.Background())
	s.Invalidate(tok)
	c, err = s.Catalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u, err := c.Endpoint("baremetal", nil, ""); err != nil || u != "http://ironic-2:6385" {
		t.Errorf("after renewal: endpoint = %q, %v", u, err)
	}
	if n := ks.Auths.Load(); n != 2 {
		t.Errorf("authentications = %d, want 2", n)
	}
}

// TestSessionCredentialsRefused: a Keystone that refuses the service's password is told
// apart from one that cannot be reached.
func TestSessionCredentialsRefused(t *testing.T) {
	ks := keystonetest.New()
	s, err := keystone.NewSession(keystone.Config{URL: ks.URL, Username: keystonetest.ServiceUser, Password: "wrong",
		Project: keystonetest.ServiceProject})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Catalog(context.Background())
	if !errors.Is(err, keystone.ErrCredentialsRefused) || !errors.Is(err, keystone.ErrUnavailable) {
		t.Errorf("wrong password: %v, want ErrCredentialsRefused and ErrUnavailable", err)
	}
	ks.Close()
	s = newSession(t, ks)
	_, err = s.Catalog(context.Background())
	if errors.Is(err, keystone.ErrCredentialsRefused) || !errors.Is(err, keystone.ErrUnavailable) {
		t.Errorf("Keystone down: %v, want ErrUnavailable only", err)
	}
}

func newSession(t *testing.T, ks *keystonetest.Server) *keystone.Session {
	t.Helper()
	s, err := keystone.NewSession(keystone.Config{URL: ks.URL, Username: keystonetest.ServiceUser,
		Password: keystonetest.ServicePassword, Project: keystonetest.ServiceProject})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
