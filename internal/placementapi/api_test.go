package placementapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// client talks to a Placement API served by httptest over the real handler and a real
// database.
type client struct {
	t   testing.TB
	url string
	mv  string
}

func newServer(t testing.TB, db *store.DB) *client {
	t.Helper()
	enf, err := policy.New(policy.Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(placementapi.New(db, placementapi.Options{Policy: enf}))
	t.Cleanup(srv.Close)
	return &client{t: t, url: srv.URL, mv: "latest"}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not JSON: %v\n%s", r.status, err, r.body)
	}
	return m
}

func (c *client) do(method, path string, body any) response {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("X-Roles", "admin")
	req.Header.Set("X-Project-Id", "admin-project")
	req.Header.Set("OpenStack-API-Version", "placement "+c.mv)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.roundTrip(req)
}

// roundTrip sends req and reads the whole answer.
func (c *client) roundTrip(req *http.Request) response {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

func (c *client) must(status int, method, path string, body any) response {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.status != status {
		c.t.Fatalf("%s %s = %d; want %d\n%s", method, path, r.status, status, r.body)
	}
	return r
}

const rp1 = "11111111-1111-4111-8111-111111111111"

func TestProviderLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newServer(t, db)
		r := c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rp1, "name": "cn1"})
		if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/resource_providers/"+rp1) {
			t.Fatalf("Location = %q", loc)
		}
		// The class does not exist yet: refused.
		c.must(400, "PUT", "/resource_providers/"+rp1+"/inventories", map[string]any{
			"resource_provider_generation": 0,
			"inventories":                  map[string]any{"CUSTOM_BAREMETAL_GOLD": map[string]any{"total": 1}},
		})
		c.must(201, "PUT", "/resource_classes/CUSTOM_BAREMETAL_GOLD", nil)
		c.must(200, "PUT", "/resource_providers/"+rp1+"/inventories", map[string]any{
			"resource_provider_generation": 0,
			"inventories":                  map[string]any{"CUSTOM_BAREMETAL_GOLD": map[string]any{"total": 1, "max_unit": 1}},
		})
		c.must(201, "PUT", "/traits/CUSTOM_RACK_R01", nil)
		c.must(200, "PUT", "/resource_providers/"+rp1+"/traits", map[string]any{
			"resource_provider_generation": 1, "traits": []string{"CUSTOM_RACK_R01", "HW_CPU_X86_AVX2"},
		})
		list := c.must(200, "GET", "/resource_providers?resources=CUSTOM_BAREMETAL_GOLD:1&required=CUSTOM_RACK_R01", nil).json(t)
		if n := len(list["resource_providers"].([]any)); n != 1 {
			t.Fatalf("filtered list has %d providers; want 1", n)
		}
		consumer := "22222222-2222-4222-8222-222222222222"
		c.must(204, "PUT", "/allocations/"+consumer, map[string]any{
			"allocations": map[string]any{rp1: map[string]any{"resources": map[string]any{"CUSTOM_BAREMETAL_GOLD": 1}}},
			"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE",
		})
		// The provider is now full: it drops out of the capacity filter.
		list = c.must(200, "GET", "/resource_providers?resources=CUSTOM_BAREMETAL_GOLD:1", nil).json(t)
		if n := len(list["resource_providers"].([]any)); n != 0 {
			t.Fatalf("full provider still listed (%d)", n)
		}
		got := c.must(200, "GET", "/allocations/"+consumer, nil).json(t)
		if got["consumer_generation"].(float64) != 1 || got["consumer_type"] != "INSTANCE" {
			t.Fatalf("allocations = %v", got)
		}
		r = c.must(409, "DELETE", "/resource_providers/"+rp1, nil)
		if code := errorCode(t, r); code != "placement.resource_provider.inuse" {
			t.Fatalf("delete in-use provider: code %q", code)
		}
		c.must(204, "DELETE", "/allocations/"+consumer, nil)
		c.must(204, "DELETE", "/resource_providers/"+rp1, nil)
		c.must(404, "GET", "/resource_providers/"+rp1, nil)
	})
}

func errorCode(t *testing.T, r response) string {
	t.Helper()
	errs := r.json(t)["errors"].([]any)
	return errs[0].(map[string]any)["code"].(string)
}

// TestBadInputIsRefusedWhole sends malformed writes and checks each gets a 4xx Placement
// error body and leaves nothing behind.
func TestBadInputIsRefusedWhole(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	c := newServer(t, db)
	c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rp1, "name": "cn1"})
	c.must(200, "PUT", "/resource_providers/"+rp1+"/inventories", map[string]any{
		"resource_provider_generation": 0,
		"inventories":                  map[string]any{"VCPU": map[string]any{"total": 4}},
	})
	bad := []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/resource_providers", map[string]any{"name": strings.Repeat("x", 201)}, 400},
		{"POST", "/resource_providers", map[string]any{"name": "x", "uuid": "not-a-uuid"}, 400},
		{"PUT", "/resource_providers/" + rp1 + "/inventories", map[string]any{
			"resource_provider_generation": 1,
			"inventories":                  map[string]any{"VCPU": map[string]any{"total": 8}, "NOT_A_CLASS": map[string]any{"total": 1}},
		}, 400},
		{"PUT", "/resource_providers/" + rp1 + "/inventories", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{},
		}, 409},
		{"POST", "/allocations", map[string]any{
			"33333333-3333-4333-8333-333333333333": map[string]any{
				"allocations": map[string]any{rp1: map[string]any{"resources": map[string]any{"VCPU": 2}}},
				"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"},
			"44444444-4444-4444-8444-444444444444": map[string]any{
				"allocations": map[string]any{rp1: map[string]any{"resources": map[string]any{"VCPU": 3}}},
				"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"},
		}, 409},
		{"PUT", "/allocations/not-a-uuid", map[string]any{}, 400},
	}
	for _, b := range bad {
		r := c.do(b.method, b.path, b.body)
		if r.status != b.status {
			t.Errorf("%s %s = %d; want %d: %s", b.method, b.path, r.status, b.status, r.body)
			continue
		}
		if code := errorCode(t, r); code == "" {
			t.Errorf("%s %s: error without code", b.method, b.path)
		}
	}
	if p := problemsAfterRefusedWrites(t, c, rp1); p != "" {
		t.Fatal(p)
	}
}

// TestConcurrentHTTPClaims claims one unit per request from 16 clients against a provider
// with 10 units, through HTTP.
func TestConcurrentHTTPClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newServer(t, db)
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rp1, "name": "cn1"})
		c.must(200, "PUT", "/resource_providers/"+rp1+"/inventories", map[string]any{
			"resource_provider_generation": 0,
			"inventories":                  map[string]any{"VCPU": map[string]any{"total": 10}},
		})
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				r := c.do("PUT", fmt.Sprintf("/allocations/00000000-0000-4000-8000-%012d", i), map[string]any{
					"allocations": map[string]any{rp1: map[string]any{"resources": map[string]any{"VCPU": 1}}},
					"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE",
				})
				mu.Lock()
				statuses[r.status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if statuses[204] != 10 || statuses[409] != 6 {
			t.Fatalf("statuses %v; want 10 x 204 and 6 x 409", statuses)
		}
	})
}
