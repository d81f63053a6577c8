package placementapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// problemsAfterRefusedWrites reports what changed when refused writes should have left one
// provider, rp, at generation 1 with no VCPU usage ("" when nothing did).
func problemsAfterRefusedWrites(t *testing.T, c *client, rp string) string {
	t.Helper()
	list := c.must(200, "GET", "/resource_providers", nil).json(t)
	if n := len(list["resource_providers"].([]any)); n != 1 {
		return fmt.Sprintf("%d providers after refused writes; want 1", n)
	}
	inv := c.must(200, "GET", "/resource_providers/"+rp+"/inventories", nil).json(t)
	if gen := inv["resource_provider_generation"].(float64); gen != 1 {
		return fmt.Sprintf("generation %v after refused writes; want 1", gen)
	}
	usage := c.must(200, "GET", "/resource_providers/"+rp+"/usages", nil).json(t)
	if u := usage["usages"].(map[string]any)["VCPU"].(float64); u != 0 {
		return fmt.Sprintf("usage %v after refused writes; want 0", u)
	}
	return ""
}

// doRaw sends body exactly as given (no JSON encoding, which would repair invalid UTF-8).
func (c *client) doRaw(method, path, rawQuery, body string) response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.URL.RawQuery = rawQuery
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("X-Roles", "admin")
	req.Header.Set("OpenStack-API-Version", "placement "+c.mv)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.roundTrip(req)
}

// placementError returns the detail of a Placement error body, failing t when r is not one
// with r's status.
func placementError(t *testing.T, r response) string {
	t.Helper()
	return placementErrorTB(t, r)
}

func placementErrorTB(t testing.TB, r response) string {
	t.Helper()
	var e struct {
		Errors []struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
			Code   string `json:"code"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || len(e.Errors) != 1 || e.Errors[0].Status != r.status || e.Errors[0].Code == "" {
		t.Fatalf("status %d without a Placement error body: %.300s", r.status, r.body)
	}
	return e.Errors[0].Detail
}

const consumer1 = "22222222-2222-4222-8222-222222222222"

// allocationBody is a PUT /allocations/{c} body (1.39) with the given owner strings, raw.
func allocationBody(project, user string) string {
	return `{"allocations": {"` + rp1 + `": {"resources": {"VCPU": 1}}}, "project_id": "` + project +
		`", "user_id": "` + user + `", "consumer_generation": null, "consumer_type": "INSTANCE"}`
}

// TestNULAndInvalidUTF8AreRefused sends a NUL or invalid UTF-8 everywhere a client string
// reaches the database: each must get a 400 with Placement's error body, on both databases
// (PostgreSQL refuses such strings with SQLSTATE 22021; SQLite would store them), and
// nothing may change.
func TestNULAndInvalidUTF8AreRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newServer(t, db)
		seedForFuzz(t, c)
		multi := func(project string) string {
			return `{"` + consumer1 + `": {"allocations": {"` + rp1 + `": {"resources": {"VCPU": 1}}}, "project_id": "` +
				project + `", "user_id": "u", "consumer_generation": null, "consumer_type": "INSTANCE"}}`
		}
		type probe struct{ method, path, query, body string }
		var probes []probe
		for _, bad := range []struct{ escaped, json string }{{"%00", `\u0000`}, {"%FF", "\xff"}, {"a%C3", "a\xc3"}} {
			for _, p := range []string{
				"/resource_providers/" + bad.escaped + "/usages",
				"/resource_providers/" + bad.escaped + "/aggregates",
				"/resource_providers/" + bad.escaped + "/allocations",
			} {
				probes = append(probes, probe{"GET", p, "", ""})
			}
			for _, p := range []string{ // routes with GET and DELETE
				"/resource_providers/" + bad.escaped,
				"/resource_providers/" + bad.escaped + "/inventories",
				"/resource_providers/" + bad.escaped + "/inventories/VCPU",
				"/resource_providers/" + bad.escaped + "/traits",
				"/resource_providers/" + rp1 + "/inventories/" + bad.escaped,
				"/traits/" + bad.escaped,
				"/resource_classes/" + bad.escaped,
				"/traits/CUSTOM_" + bad.escaped,
				"/resource_classes/CUSTOM_" + bad.escaped,
				"/allocations/" + bad.escaped,
			} {
				probes = append(probes, probe{"GET", p, "", ""}, probe{"DELETE", p, "", ""})
			}
			probes = append(probes,
				probe{"PUT", "/traits/CUSTOM_" + bad.escaped, "", ""},
				probe{"PUT", "/resource_classes/CUSTOM_" + bad.escaped, "", ""},
				probe{"PUT", "/resource_providers/" + bad.escaped, "", `{"name": "x"}`},
				probe{"PUT", "/allocations/" + bad.escaped, "", allocationBody("p", "u")},
				probe{"GET", "/usages", "project_id=" + bad.escaped, ""},
				probe{"GET", "/usages", "project_id=p&user_id=" + bad.escaped, ""},
				probe{"GET", "/traits", "name=in:" + bad.escaped, ""},
				probe{"GET", "/traits", "name=startswith:" + bad.escaped, ""},
				probe{"GET", "/resource_providers", "name=" + bad.escaped, ""},
				probe{"GET", "/resource_providers", "required=CUSTOM_" + bad.escaped, ""},
				probe{"GET", "/resource_providers", "resources=CUSTOM_" + bad.escaped + ":1", ""},
				probe{"GET", "/allocation_candidates", "resources=VCPU:1&required=CUSTOM_" + bad.escaped, ""},
				probe{"GET", "/resource_providers", bad.escaped + "=1", ""},
				probe{"POST", "/resource_providers", "", `{"name": "a` + bad.json + `"}`},
				probe{"PUT", "/resource_providers/" + rp1, "", `{"name": "a` + bad.json + `"}`},
				probe{"POST", "/resource_classes", "", `{"name": "CUSTOM_` + bad.json + `"}`},
				probe{"PUT", "/allocations/" + consumer1, "", allocationBody("p"+bad.json, "u")},
				probe{"PUT", "/allocations/" + consumer1, "", allocationBody("p", "u"+bad.json)},
				probe{"POST", "/allocations", "", multi("p" + bad.json)},
				probe{"PUT", "/resource_providers/" + rp1 + "/traits", "", `{"resource_provider_generation": 1, "traits": ["CUSTOM_` + bad.json + `"]}`},
				probe{"PUT", "/resource_providers/" + rp1 + "/aggregates", "", `{"resource_provider_generation": 1, "aggregates": ["` + bad.json + `"]}`},
			)
		}
		for _, p := range probes {
			r := c.doRaw(p.method, p.path, p.query, p.body)
			if r.status != http.StatusBadRequest {
				t.Errorf("%s %s?%s %q = %d; want 400: %.300s", p.method, p.path, p.query, p.body, r.status, r.body)
				continue
			}
			placementError(t, r)
		}
		// Nothing changed: one provider, generation 1, no usage, no consumer.
		if p := problemsAfterRefusedWrites(t, c, rp1); p != "" {
			t.Error(p)
		}
		// Valid non-ASCII text still works.
		c.must(200, "POST", "/resource_providers", map[string]any{"name": "café ☃"})
		c.must(200, "GET", "/resource_providers?name=caf%C3%A9%20%E2%98%83", nil)
	})
}

// TestHugeAllocationRatio stores an allocation ratio of 1e38 (Placement's schema admits up
// to 3.4e38): the capacity overflows int64 and must not read as "reserved is greater than
// total".
func TestHugeAllocationRatio(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newServer(t, db)
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rp1, "name": "cn1"})
		inv := map[string]any{"total": 8, "allocation_ratio": 1e38}
		c.must(200, "PUT", "/resource_providers/"+rp1+"/inventories", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": inv}})
		c.must(200, "PUT", "/resource_providers/"+rp1+"/inventories/VCPU", map[string]any{
			"resource_provider_generation": 1, "total": 8, "max_unit": 2147483647, "allocation_ratio": 1e38})
		c.must(201, "POST", "/resource_providers/"+rp1+"/inventories", map[string]any{
			"resource_provider_generation": 2, "resource_class": "MEMORY_MB", "total": 8, "allocation_ratio": 3.4e38})
		c.must(204, "PUT", "/allocations/"+consumer1, map[string]any{
			"allocations": map[string]any{rp1: map[string]any{"resources": map[string]any{"VCPU": 2147483647}}},
			"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"})
		r := c.must(200, "GET", "/allocation_candidates?resources=VCPU:1000000", nil).json(t)
		if n := len(r["allocation_requests"].([]any)); n != 1 {
			t.Errorf("%d candidates on a provider with ratio 1e38; want 1", n)
		}
		// Reserved above total is still refused, whatever the ratio.
		r2 := c.do("PUT", "/resource_providers/"+rp1+"/inventories/VCPU", map[string]any{
			"resource_provider_generation": 4, "total": 8, "reserved": 9, "allocation_ratio": 1e38})
		if r2.status != 400 {
			t.Errorf("reserved > total at ratio 1e38 = %d; want 400: %s", r2.status, r2.body)
		}
	})
}

func newServerWith(t testing.TB, db *store.DB, opts placementapi.Options) *client {
	t.Helper()
	enf, err := policy.New(policy.Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	opts.Policy = enf
	srv := httptest.NewServer(placementapi.New(db, opts))
	t.Cleanup(srv.Close)
	return &client{t: t, url: srv.URL, mv: "latest"}
}

// send sends body (with the given length, -1 for a chunked body) and returns the answer.
func (c *client) send(method, path string, body io.Reader, length int64) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("OpenStack-API-Version", "placement "+c.mv)
	req.Header.Set("Content-Type", "application/json")
	return c.roundTrip(req)
}

// onlyReader hides a reader's type so that net/http cannot learn its length (chunked).
type onlyReader struct{ io.Reader }

// TestBodyLimit: a body over the limit is a 413 with Placement's error body, whether its
// Content-Length says so or it is chunked; an error quoting a large value stays small.
func TestBodyLimit(t *testing.T) {
	c := newServerWith(t, storetest.Open(t, storetest.SQLite), placementapi.Options{MaxBodyBytes: 1 << 20})
	nameBody := func(n int) string { return `{"name": "` + strings.Repeat("x", n) + `"}` }
	big := nameBody(1 << 20)
	for _, length := range []int64{int64(len(big)), -1} {
		r := c.send("POST", "/resource_providers", onlyReader{strings.NewReader(big)}, length)
		if r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("POST of %d bytes (length %d) = %d; want 413: %.300s", len(big), length, r.status, r.body)
		}
		if d := placementErrorTB(t, r); !strings.Contains(d, "larger than the limit of 1048576 bytes") {
			t.Errorf("413 detail %q", d)
		}
		if len(r.body) > 1000 {
			t.Errorf("413 body is %d bytes", len(r.body))
		}
	}
	// Just under the limit: read, and refused by the schema with a short message that
	// still says why.
	under := nameBody(1<<20 - 20)
	r := c.send("POST", "/resource_providers", strings.NewReader(under), int64(len(under)))
	if r.status != http.StatusBadRequest {
		t.Fatalf("POST of %d bytes = %d; want 400: %.300s", len(under), r.status, r.body)
	}
	d := placementErrorTB(t, r)
	if !strings.Contains(d, "is too long") || !strings.Contains(d, "Failed validating 'maxLength'") {
		t.Errorf("400 detail lost its meaning: %.500s", d)
	}
	if len(r.body) > 8000 {
		t.Errorf("400 body is %d bytes for a %d-byte request; want it bounded", len(r.body), len(under))
	}
	// A short body that is not JSON, chunked.
	r = c.send("POST", "/resource_providers", onlyReader{strings.NewReader("{")}, -1)
	if r.status != http.StatusBadRequest {
		t.Fatalf("chunked malformed body = %d; want 400", r.status)
	}
	c.must(200, "POST", "/resource_providers", map[string]any{"name": "fits"})
}

// TestBodyBytesInFlight: a request whose body does not fit in the in-flight budget waits
// until the request holding it is answered.
func TestBodyBytesInFlight(t *testing.T) {
	c := newServerWith(t, storetest.Open(t, storetest.SQLite), placementapi.Options{MaxBodyBytes: 100, MaxBodyBytesInFlight: 100})
	first := `{"name": "first` + strings.Repeat(" ", 75) + `"}`
	// The first request is written by hand, so that half of its body reaches the server
	// (an http.Client would buffer it): its request now holds its whole length.
	conn, err := net.Dial("tcp", strings.TrimPrefix(c.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /resource_providers HTTP/1.1\r\nHost: x\r\nX-Auth-Token: admin\r\n"+
		"OpenStack-API-Version: placement latest\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		len(first), first[:30])
	firstDone := make(chan response, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			firstDone <- response{status: -1, body: []byte(err.Error())}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		firstDone <- response{resp.StatusCode, resp.Header, b}
	}()
	time.Sleep(200 * time.Millisecond)
	second := `{"name": "second"}`
	secondDone := make(chan response, 1)
	go func() {
		secondDone <- c.send("POST", "/resource_providers", strings.NewReader(second), int64(len(second)))
	}()
	select {
	case r := <-secondDone:
		t.Fatalf("second request answered %d while the first held the budget", r.status)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := io.WriteString(conn, first[30:]); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []chan response{firstDone, secondDone} {
		select {
		case r := <-ch:
			if r.status != 200 {
				t.Errorf("status %d: %s", r.status, r.body)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a request never finished")
		}
	}
}
