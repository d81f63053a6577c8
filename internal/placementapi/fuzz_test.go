package placementapi_test

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ingot/internal/store/storetest"
)

// fuzzGet sends GET path?query with the microversion header and fails on a 5xx or on an
// error without a Placement error body.
func fuzzGet(t *testing.T, c *client, path, rawQuery, mv string) {
	if !sendableHeaderValue(mv) {
		return // no HTTP client can send it
	}
	req, err := http.NewRequest("GET", c.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.RawQuery = rawQuery
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("OpenStack-API-Version", "placement "+mv)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		t.Fatalf("GET %s?%s (mv %q) = %d: %s", path, rawQuery, mv, resp.StatusCode, body)
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Errors []struct {
				Status int    `json:"status"`
				Detail string `json:"detail"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) != 1 || e.Errors[0].Status != resp.StatusCode {
			t.Fatalf("GET %s?%s = %d without a Placement error body: %s", path, rawQuery, resp.StatusCode, body)
		}
	}
}

func seedForFuzz(t testing.TB, c *client) {
	c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rp1, "name": "cn1"})
	c.must(200, "PUT", "/resource_providers/"+rp1+"/inventories", map[string]any{
		"resource_provider_generation": 0,
		"inventories":                  map[string]any{"VCPU": map[string]any{"total": 4}},
	})
}

// FuzzProviderQuery feeds arbitrary values to the GET /resource_providers filters
// (resources, required, member_of, in_tree, name, uuid) at arbitrary microversions.
func FuzzProviderQuery(f *testing.F) {
	seeds := [][3]string{
		{"resources", "VCPU:1", "1.39"},
		{"required", "in:HW_CPU_X86_AVX2,!FOO", "1.39"},
		{"required", "!!!HW_CPU_X86_AVX2,,", "1.22"},
		{"member_of", "!in:" + rp1 + ",x", "1.32"},
		{"member_of", "in:", "1.24"},
		{"in_tree", "not-a-uuid", "1.14"},
		{"resources", "VCPU:-1,DISK_GB:1_0", "1.4"},
		{"uuid", rp1, "1.0"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	c := newServer(f, storetest.Open(f, storetest.SQLite))
	seedForFuzz(f, c)
	f.Fuzz(func(t *testing.T, key, value, mv string) {
		c := *c
		c.t = t
		q := url.Values{key: {value}, "required": {value}}
		fuzzGet(t, &c, "/resource_providers", q.Encode(), mv)
	})
}

// FuzzMicroversionHeader feeds arbitrary OpenStack-API-Version values.
func FuzzMicroversionHeader(f *testing.F) {
	for _, s := range []string{"1.0", "latest", "1.39", "1.40", "0.5", "pony.horse", "1.2.3", " 1.2", "LATEST", ""} {
		f.Add(s)
	}
	c := newServer(f, storetest.Open(f, storetest.SQLite))
	f.Fuzz(func(t *testing.T, mv string) {
		c := *c
		c.t = t
		for _, path := range []string{"/", "/resource_providers", "/resource_providers/" + rp1, "/traits", "/usages"} {
			fuzzGet(t, &c, path, "project_id=p", mv)
		}
	})
}

// sendableHeaderValue reports whether net/http will send v as a header value (no control
// characters but tab).
func sendableHeaderValue(v string) bool {
	for _, r := range v {
		if r < ' ' && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

// FuzzCandidatesQuery feeds arbitrary GET /allocation_candidates queries: suffixed groups
// (resourcesN, requiredN, member_ofN, in_treeN), same_subtree, group_policy, root_required,
// limit, at arbitrary microversions. No input may cause a 5xx.
func FuzzCandidatesQuery(f *testing.F) {
	seeds := []struct{ k1, v1, k2, v2, mv string }{
		{"resources", "VCPU:1", "limit", "5", "1.39"},
		{"resources_A", "VCPU:1", "same_subtree", "_A,_B", "1.36"},
		{"required_B", "in:HW_CPU_X86_AVX2,!X", "resources_B", "VCPU:1", "1.39"},
		{"member_of1", "!in:" + rp1, "group_policy", "isolate", "1.32"},
		{"root_required", "!!HW_CPU_X86_AVX2,HW_CPU_X86_AVX2", "resources", "VCPU:2", "1.35"},
		{"in_tree2", "x", "resources2", "DISK_GB:1,VCPU:0", "1.31"},
		{"same_subtree", ",", "resources", ":", "1.36"},
	}
	for _, s := range seeds {
		f.Add(s.k1, s.v1, s.k2, s.v2, s.mv)
	}
	c := newServer(f, storetest.Open(f, storetest.SQLite))
	seedForFuzz(f, c)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, mv string) {
		c := *c
		c.t = t
		q := url.Values{k1: {v1}, k2: {v2}}
		fuzzGet(t, &c, "/allocation_candidates", q.Encode(), mv)
		fuzzGet(t, &c, "/allocation_candidates", q.Encode()+"&resources=VCPU:1", mv)
	})
}

// FuzzTextInput sends an arbitrary string where client strings reach the database (a path
// segment, query values, a provider name, a consumer's project and user) to the API on
// SQLite and, when INGOT_TEST_POSTGRES is set, on PostgreSQL too (one database each per
// fuzz process). No input may cause a 5xx, every error must be a Placement error body, and
// both databases must answer every request with the same status.
func FuzzTextInput(f *testing.F) {
	for _, s := range []string{"cn1", "a\x00b", "\xff", "caf\xc3", "café ☃", "", "in:\x00", "startswith:CUSTOM_", " ", "%", "/", "\U0010ffff"} {
		f.Add(s)
	}
	backends := []*client{newServer(f, storetest.Open(f, storetest.SQLite))}
	if storetest.PostgresURL() != "" {
		backends = append(backends, newServer(f, storetest.Open(f, storetest.Postgres)))
	}
	for _, c := range backends {
		seedForFuzz(f, c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		body := func(v any) string {
			b, _ := json.Marshal(v)
			// json.Marshal repairs invalid UTF-8; send the string's own bytes instead.
			return strings.ReplaceAll(string(b), "\ufffd", "\xff")
		}
		reqs := []struct{ method, path, query, body string }{
			{"GET", "/resource_providers/" + url.PathEscape(s), "", ""},
			{"GET", "/resource_providers/" + url.PathEscape(s) + "/inventories/VCPU", "", ""},
			{"GET", "/traits/" + url.PathEscape(s), "", ""},
			{"PUT", "/resource_classes/" + url.PathEscape(s), "", ""},
			{"GET", "/allocations/" + url.PathEscape(s), "", ""},
			{"GET", "/traits", url.Values{"name": {"in:" + s}}.Encode(), ""},
			{"GET", "/usages", url.Values{"project_id": {s}, "user_id": {s}}.Encode(), ""},
			{"GET", "/resource_providers", url.Values{"name": {s}}.Encode(), ""},
			{"POST", "/resource_providers", "", body(map[string]any{"name": s})},
			{"PUT", "/allocations/" + consumerFor(s), "", body(map[string]any{
				"allocations": map[string]any{rp1: map[string]any{"resources": map[string]any{"VCPU": 1}}},
				"project_id":  s, "user_id": s, "consumer_generation": nil})},
			{"DELETE", "/allocations/" + consumerFor(s), "", ""},
		}
		for _, rq := range reqs {
			var statuses []int
			for _, c := range backends {
				c := *c
				c.t = t
				r := c.doRaw(rq.method, rq.path, rq.query, rq.body)
				if r.status >= 500 {
					t.Fatalf("%s %s?%s %q = %d: %s", rq.method, rq.path, rq.query, rq.body, r.status, r.body)
				}
				if r.status >= 400 {
					placementErrorTB(t, r)
				}
				statuses = append(statuses, r.status)
			}
			if len(statuses) == 2 && statuses[0] != statuses[1] {
				t.Fatalf("%s %s?%s %q: SQLite answered %d, PostgreSQL %d", rq.method, rq.path, rq.query, rq.body, statuses[0], statuses[1])
			}
		}
	})
}

// consumerFor returns a consumer UUID derived from s, so that one input's allocation is
// written and deleted again.
func consumerFor(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return fmt.Sprintf("33333333-3333-4333-8333-%012x", h.Sum64()&0xffffffffffff)
}
