package keystone

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Catalog is the service catalog of a token: the services of the cloud and their
// endpoints, as Keystone lists them in the token body.
type Catalog []CatalogService

// CatalogService is one service of a catalog.
type CatalogService struct {
	Type      string            `json:"type"`
	Name      string            `json:"name"`
	Endpoints []CatalogEndpoint `json:"endpoints"`
}

// CatalogEndpoint is one endpoint of a service.
type CatalogEndpoint struct {
	// Interface is public, internal or admin.
	Interface string `json:"interface"`
	// RegionID is the endpoint's region; Region is the same, in Keystone's older
	// (deprecated) field.
	RegionID string `json:"region_id"`
	Region   string `json:"region"`
	URL      string `json:"url"`
}

// Interfaces are the endpoint interfaces Keystone knows.
var Interfaces = []string{"public", "internal", "admin"}

// DefaultInterfaces is the order endpoints are looked for when none is given: internal,
// then public, as Nova's [ironic] valid_interfaces.
var DefaultInterfaces = []string{"internal", "public"}

// ErrNoEndpoint is wrapped by Endpoint's error when the catalog has no endpoint that
// fits, or more than one.
var ErrNoEndpoint = errors.New("no endpoint in the service catalog")

// DecodeCatalog returns the catalog of a Keystone v3 token body (the answer of POST
// /v3/auth/tokens without ?nocatalog); a body without one gives an empty catalog.
func DecodeCatalog(body []byte) (Catalog, error) {
	var b struct {
		Token *struct {
			Catalog Catalog `json:"catalog"`
		} `json:"token"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if b.Token == nil {
		return nil, fmt.Errorf("%w: no token", errMalformed)
	}
	return b.Token.Catalog, nil
}

// region returns the endpoint's region.
func (e CatalogEndpoint) region() string {
	if e.RegionID != "" {
		return e.RegionID
	}
	return e.Region
}

// Endpoint returns the URL of serviceType's endpoint: the first of interfaces (in order;
// none: DefaultInterfaces) that the catalog has in region (empty: any region), as
// keystoneauth picks an endpoint. An interface may be written as keystoneauth accepts it,
// "internalURL" for "internal". Several endpoints of the first matching interface with
// different URLs (in different regions, or several services of the type) are ambiguous:
// an error that asks for a region. Every error wraps ErrNoEndpoint and names the service
// type, the interfaces and the region, and what the catalog has instead.
func (c Catalog) Endpoint(serviceType string, interfaces []string, region string) (string, error) {
	if len(interfaces) == 0 {
		interfaces = DefaultInterfaces
	}
	where := fmt.Sprintf("%q endpoint with interface %s in region %s", serviceType,
		strings.Join(interfaces, " or "), regionName(region))
	for _, want := range interfaces {
		want = NormalizeInterface(want)
		var urls, regions []string
		for _, s := range c {
			if s.Type != serviceType {
				continue
			}
			for _, e := range s.Endpoints {
				if NormalizeInterface(e.Interface) != want || region != "" && e.region() != region {
					continue
				}
				if !slices.Contains(urls, e.URL) {
					urls = append(urls, e.URL)
					regions = append(regions, endpointRegion(e))
				}
			}
		}
		switch len(urls) {
		case 0:
			continue
		case 1:
			return urls[0], nil
		}
		return "", fmt.Errorf("%w: %s: %d different %s URLs (regions %s); name one region",
			ErrNoEndpoint, where, len(urls), want, strings.Join(regions, ", "))
	}
	var have []string // the type's endpoints, for the error
	for _, s := range c {
		if s.Type != serviceType {
			continue
		}
		for _, e := range s.Endpoints {
			have = append(have, fmt.Sprintf("%s in region %s", NormalizeInterface(e.Interface), endpointRegion(e)))
		}
	}
	if len(have) == 0 {
		return "", fmt.Errorf("%w: no %s: the catalog has no %q service", ErrNoEndpoint, where, serviceType)
	}
	return "", fmt.Errorf("%w: no %s (the catalog has %s)", ErrNoEndpoint, where, strings.Join(have, ", "))
}

// NormalizeInterface returns the Keystone name of an interface as keystoneauth accepts
// it: "publicURL" is "public".
func NormalizeInterface(s string) string {
	return strings.TrimSuffix(s, "URL")
}

// regionName is a requested region for messages.
func regionName(r string) string {
	if r == "" {
		return "any"
	}
	return r
}

// endpointRegion is an endpoint's region for messages.
func endpointRegion(e CatalogEndpoint) string {
	if r := e.region(); r != "" {
		return r
	}
	return "(none)"
}
