package placementapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
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
