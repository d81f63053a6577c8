package placementapi_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// member is one key of a JSON object as it appears on the wire, with its raw value.
type member struct {
	key string
	raw json.RawMessage
}

// members returns the members of the JSON object raw in wire order.
func members(t *testing.T, raw []byte) []member {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object (%v): %s", err, raw)
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, member{tok.(string), v})
	}
	return out
}

// at returns the raw value at the path of keys in raw.
func at(t *testing.T, raw []byte, path ...string) json.RawMessage {
	t.Helper()
	for _, key := range path {
		found := false
		for _, m := range members(t, raw) {
			if m.key == key {
				raw, found = m.raw, true
				break
			}
		}
		if !found {
			t.Fatalf("no %q in %s", key, raw)
		}
	}
	return raw
}

// keys returns the keys of the object at path in wire order.
func keys(t *testing.T, raw []byte, path ...string) []string {
	t.Helper()
	var out []string
	for _, m := range members(t, at(t, raw, path...)) {
		out = append(out, m.key)
	}
	return out
}

func strs(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return out
}

func wantOrder(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// rawBody is a request body sent exactly as written, so that its key order is known.
type rawBody string

func (b rawBody) MarshalJSON() ([]byte, error) { return []byte(b), nil }

const (
	// rpA is created first and sorts last by UUID; rpB the other way round.
	rpA  = "99999999-9999-4999-8999-999999999999"
	rpB  = "11111111-1111-4111-8111-111111111111"
	agg1 = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	agg2 = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	c1   = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
	c0   = "00000000-0000-4000-8000-000000000000"
)

// TestResponsesInUpstreamOrder checks that every object and list is in upstream
// Placement's order (ARCHITECTURE.md, "Compatibility notes"), not in name order: database id
// order (standard classes and traits first, custom ones as created), request body order
// where upstream answers with what it was given, and floats written with a decimal point.
func TestResponsesInUpstreamOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newServer(t, db)
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rpA, "name": "a"})
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rpB, "name": "b"})
		c.must(201, "PUT", "/resource_classes/CUSTOM_ZED", nil)
		c.must(201, "PUT", "/resource_classes/CUSTOM_ALPHA", nil)
		idOrder := []string{"VCPU", "MEMORY_MB", "DISK_GB", "CUSTOM_ZED", "CUSTOM_ALPHA"}
		genOf := func(uuid string) json.RawMessage {
			return at(t, c.must(200, "GET", "/resource_providers/"+uuid, nil).body, "generation")
		}

		// PUT answers in the body's order; GET in class id order.
		r := c.must(200, "PUT", "/resource_providers/"+rpA+"/inventories", rawBody(`{"inventories": {
			"DISK_GB": {"total": 100}, "CUSTOM_ALPHA": {"total": 1}, "VCPU": {"total": 8, "allocation_ratio": 16},
			"CUSTOM_ZED": {"total": 1, "allocation_ratio": 3.4e+38}, "MEMORY_MB": {"total": 1024, "allocation_ratio": 1.5}},
			"resource_provider_generation": 0}`))
		wantOrder(t, "PUT inventories", keys(t, r.body), []string{"resource_provider_generation", "inventories"})
		wantOrder(t, "PUT inventories' classes", keys(t, r.body, "inventories"),
			[]string{"DISK_GB", "CUSTOM_ALPHA", "VCPU", "CUSTOM_ZED", "MEMORY_MB"})
		// A write is answered with the values given: Python decoded 16 as an int.
		for class, want := range map[string]string{"VCPU": "16", "MEMORY_MB": "1.5", "DISK_GB": "1.0", "CUSTOM_ZED": "3.4e+38"} {
			if got := string(at(t, r.body, "inventories", class, "allocation_ratio")); got != want {
				t.Errorf("PUT: %s allocation_ratio written %s, want %s", class, got, want)
			}
		}
		r = c.must(200, "GET", "/resource_providers/"+rpA+"/inventories", nil)
		wantOrder(t, "GET inventories", keys(t, r.body), []string{"resource_provider_generation", "inventories"})
		wantOrder(t, "GET inventories' classes", keys(t, r.body, "inventories"), idOrder)
		for class, want := range map[string]string{"VCPU": "16.0", "MEMORY_MB": "1.5", "DISK_GB": "1.0", "CUSTOM_ZED": "3.4e+38"} {
			if got := string(at(t, r.body, "inventories", class, "allocation_ratio")); got != want {
				t.Errorf("%s allocation_ratio written %s, want %s", class, got, want)
			}
		}
		r = c.must(200, "GET", "/resource_providers/"+rpA+"/inventories/VCPU", nil)
		wantOrder(t, "GET inventory", keys(t, r.body),
			[]string{"total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio", "resource_provider_generation"})
		if got := string(at(t, r.body, "allocation_ratio")); got != "16.0" {
			t.Errorf("single inventory's allocation_ratio written %s, want 16.0", got)
		}
		for _, w := range []struct{ body, want string }{{"2", "2"}, {"-0", "0"}, {"2.0", "2.0"}, {"2e0", "2.0"}, {"0.25", "0.25"}} {
			r = c.must(200, "PUT", "/resource_providers/"+rpA+"/inventories/CUSTOM_ALPHA",
				rawBody(`{"resource_provider_generation": `+string(genOf(rpA))+`, "total": 1, "allocation_ratio": `+w.body+`}`))
			if got := string(at(t, r.body, "allocation_ratio")); got != w.want {
				t.Errorf("PUT one inventory with ratio %s: answered %s, want %s", w.body, got, w.want)
			}
		}
		c.must(200, "PUT", "/resource_providers/"+rpB+"/inventories", rawBody(`{"resource_provider_generation": 0,
			"inventories": {"VCPU": {"total": 4}, "DISK_GB": {"total": 10}}}`))

		// Usages: provider usages in class id order.
		r = c.must(200, "GET", "/resource_providers/"+rpA+"/usages", nil)
		wantOrder(t, "usages", keys(t, r.body), []string{"resource_provider_generation", "usages"})
		wantOrder(t, "usages' classes", keys(t, r.body, "usages"), idOrder)

		// Traits: trait id order (standard first, custom as created), except where upstream
		// looks them up by name alone (name order); the object's keys as upstream sets them.
		c.must(201, "PUT", "/traits/CUSTOM_ZZZ", nil)
		c.must(201, "PUT", "/traits/CUSTOM_AAA", nil)
		traitOrder := []string{"HW_CPU_X86_AVX2", "CUSTOM_ZZZ", "CUSTOM_AAA"}
		nameOrder := []string{"CUSTOM_AAA", "CUSTOM_ZZZ", "HW_CPU_X86_AVX2"}
		r = c.must(200, "PUT", "/resource_providers/"+rpA+"/traits", map[string]any{
			"resource_provider_generation": genOf(rpA), "traits": []string{"CUSTOM_ZZZ", "HW_CPU_X86_AVX2", "CUSTOM_AAA"}})
		wantOrder(t, "PUT traits", keys(t, r.body), []string{"traits", "resource_provider_generation"})
		wantOrder(t, "PUT traits' list", strs(t, at(t, r.body, "traits")), nameOrder)
		r = c.must(200, "GET", "/resource_providers/"+rpA+"/traits", nil)
		wantOrder(t, "GET traits", keys(t, r.body), []string{"traits", "resource_provider_generation"})
		wantOrder(t, "GET traits' list", strs(t, at(t, r.body, "traits")), traitOrder)
		r = c.must(200, "GET", "/traits?name=in:CUSTOM_ZZZ,HW_CPU_X86_AVX2,CUSTOM_AAA", nil)
		wantOrder(t, "GET /traits?name=in:", strs(t, at(t, r.body, "traits")), nameOrder)
		r = c.must(200, "GET", "/traits?name=startswith:CUSTOM_", nil)
		wantOrder(t, "GET /traits?name=startswith:", strs(t, at(t, r.body, "traits")), nameOrder[:2])
		r = c.must(200, "GET", "/traits?name=in:CUSTOM_ZZZ,HW_CPU_X86_AVX2,CUSTOM_AAA&associated=true", nil)
		wantOrder(t, "GET /traits?name=in:...&associated=true", strs(t, at(t, r.body, "traits")), traitOrder)
		all := strs(t, at(t, c.must(200, "GET", "/traits", nil).body, "traits"))
		wantOrder(t, "GET /traits' custom tail", all[len(all)-2:], traitOrder[1:])

		// Resource classes: id order, the custom ones last as created.
		r = c.must(200, "GET", "/resource_classes", nil)
		var rcs struct {
			ResourceClasses []struct{ Name string } `json:"resource_classes"`
		}
		if err := json.Unmarshal(r.body, &rcs); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, rc := range rcs.ResourceClasses {
			names = append(names, rc.Name)
		}
		if len(names) < 5 || names[0] != "VCPU" || names[1] != "MEMORY_MB" {
			t.Errorf("resource classes start %v, want VCPU, MEMORY_MB", names[:min(len(names), 2)])
		}
		wantOrder(t, "resource classes' custom tail", names[len(names)-2:], []string{"CUSTOM_ZED", "CUSTOM_ALPHA"})

		// Aggregates: PUT answers with the list given; GET in aggregate id order.
		r = c.must(200, "PUT", "/resource_providers/"+rpA+"/aggregates", map[string]any{
			"resource_provider_generation": genOf(rpA), "aggregates": []string{agg1, agg2}})
		wantOrder(t, "PUT aggregates", keys(t, r.body), []string{"aggregates", "resource_provider_generation"})
		wantOrder(t, "PUT aggregates' list", strs(t, at(t, r.body, "aggregates")), []string{agg1, agg2})
		r = c.must(200, "GET", "/resource_providers/"+rpA+"/aggregates", nil)
		wantOrder(t, "GET aggregates' list", strs(t, at(t, r.body, "aggregates")), []string{agg1, agg2})

		// Allocations: listed in the order written, which is the body's.
		c.must(204, "PUT", "/allocations/"+c1, rawBody(`{"allocations": {
			"`+rpA+`": {"resources": {"MEMORY_MB": 1, "VCPU": 2, "DISK_GB": 1}},
			"`+rpB+`": {"resources": {"DISK_GB": 1, "VCPU": 1}}},
			"project_id": "p", "user_id": "u", "consumer_generation": null, "consumer_type": "ZULU"}`))
		c.must(204, "POST", "/allocations", rawBody(`{"`+c0+`": {"allocations": {"`+rpA+`": {"resources": {"VCPU": 1}}},
			"project_id": "p", "user_id": "u", "consumer_generation": null, "consumer_type": "ALPHA"}}`))
		r = c.must(200, "GET", "/allocations/"+c1, nil)
		wantOrder(t, "consumer allocations", keys(t, r.body),
			[]string{"allocations", "project_id", "user_id", "consumer_generation", "consumer_type"})
		wantOrder(t, "consumer allocations' providers", keys(t, r.body, "allocations"), []string{rpA, rpB})
		wantOrder(t, "a consumer allocation", keys(t, r.body, "allocations", rpA), []string{"resources", "generation"})
		wantOrder(t, "a consumer allocation's classes", keys(t, r.body, "allocations", rpA, "resources"),
			[]string{"MEMORY_MB", "VCPU", "DISK_GB"})
		r = c.must(200, "GET", "/resource_providers/"+rpA+"/allocations", nil)
		wantOrder(t, "provider allocations", keys(t, r.body), []string{"allocations", "resource_provider_generation"})
		wantOrder(t, "provider allocations' consumers", keys(t, r.body, "allocations"), []string{c1, c0})
		wantOrder(t, "a provider allocation", keys(t, r.body, "allocations", c1), []string{"resources", "consumer_generation"})

		// Total usages: class id order; from 1.38 by consumer type as upstream builds it.
		c.mv = "1.37"
		r = c.must(200, "GET", "/usages?project_id=p", nil)
		wantOrder(t, "total usages", keys(t, r.body, "usages"), []string{"VCPU", "MEMORY_MB", "DISK_GB"})
		c.mv = "latest"
		r = c.must(200, "GET", "/usages?project_id=p", nil)
		wantOrder(t, "usages' types", keys(t, r.body, "usages"), []string{"ZULU", "ALPHA"})
		wantOrder(t, "a type's usages", keys(t, r.body, "usages", "ZULU"), []string{"VCPU", "consumer_count", "MEMORY_MB", "DISK_GB"})
		if got := string(at(t, r.body, "usages", "ZULU", "VCPU")); got != "3" {
			t.Errorf("ZULU uses %s VCPU, want 3", got)
		}

		// Providers and candidates' summaries: provider id order, not UUID order.
		r = c.must(200, "GET", "/resource_providers", nil)
		var list struct {
			Providers []struct{ UUID string } `json:"resource_providers"`
		}
		if err := json.Unmarshal(r.body, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Providers) != 2 || list.Providers[0].UUID != rpA {
			t.Errorf("providers listed %v, want %s first", list.Providers, rpA)
		}
		r = c.must(200, "GET", "/allocation_candidates?resources=VCPU:1", nil)
		wantOrder(t, "summaries", keys(t, r.body, "provider_summaries"), []string{rpA, rpB})
		wantOrder(t, "a summary", keys(t, r.body, "provider_summaries", rpA),
			[]string{"resources", "traits", "parent_provider_uuid", "root_provider_uuid"})
		wantOrder(t, "a summary's classes", keys(t, r.body, "provider_summaries", rpA, "resources"), idOrder)
		wantOrder(t, "a summary's traits", strs(t, at(t, r.body, "provider_summaries", rpA, "traits")), traitOrder)
	})
}

// TestErrorPrecedence sends requests that are wrong in two ways and checks that the error
// upstream's code finds first is the one reported.
func TestErrorPrecedence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newServer(t, db)
		const child = "cccccccc-0000-4000-8000-000000000001"
		const missing = "dddddddd-0000-4000-8000-000000000001"
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rpA, "name": "parent"})
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": child, "name": "child", "parent_provider_uuid": rpA})
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rpB, "name": "other"})
		c.must(200, "PUT", "/resource_providers/"+rpA+"/inventories", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 4}}})
		c.must(204, "PUT", "/allocations/"+c1, map[string]any{
			"allocations": map[string]any{rpA: map[string]any{"resources": map[string]any{"VCPU": 1}}},
			"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"})

		for _, tc := range []struct {
			name, method, path string
			body               any
			mv                 string
			status             int
			code, detail       string
		}{
			{"delete: children before allocations", "DELETE", "/resource_providers/" + rpA, nil, "latest",
				409, "placement.resource_provider.cannot_delete_parent", "It has child resource providers."},
			{"create: missing parent before duplicate name", "POST", "/resource_providers",
				map[string]any{"name": "other", "parent_provider_uuid": missing}, "latest",
				400, "placement.undefined_code", "parent provider UUID does not exist."},
			{"create: own parent before duplicate UUID", "POST", "/resource_providers",
				map[string]any{"name": "new", "uuid": rpB, "parent_provider_uuid": rpB}, "latest",
				400, "placement.undefined_code", "parent provider UUID cannot be same as UUID."},
			{"update: missing parent before duplicate name", "PUT", "/resource_providers/" + rpB,
				map[string]any{"name": "parent", "parent_provider_uuid": missing}, "latest",
				400, "placement.undefined_code", "Object action create failed because: parent provider UUID does not exist."},
			{"update: missing parent before re-parenting refused", "PUT", "/resource_providers/" + child,
				map[string]any{"name": "child", "parent_provider_uuid": missing}, "1.36",
				400, "placement.undefined_code", "parent provider UUID does not exist."},
			{"update: re-parenting refused before duplicate name", "PUT", "/resource_providers/" + child,
				map[string]any{"name": "other", "parent_provider_uuid": rpB}, "1.36",
				400, "placement.undefined_code", "re-parenting a provider is not currently allowed."},
			{"set inventories: generation before unknown class", "PUT", "/resource_providers/" + rpB + "/inventories",
				map[string]any{"resource_provider_generation": 7, "inventories": map[string]any{"NOPE": map[string]any{"total": 1}}}, "latest",
				409, "placement.concurrent_update", "resource provider generation conflict"},
			{"set inventories: first bad capacity in body order", "PUT", "/resource_providers/" + rpB + "/inventories",
				rawBody(`{"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 1, "reserved": 5}, "DISK_GB": {"total": 1, "reserved": 5}}}`), "latest",
				400, "placement.undefined_code", "Invalid inventory for 'VCPU'"},
			{"set inventories: first unknown class in body order", "PUT", "/resource_providers/" + rpB + "/inventories",
				rawBody(`{"resource_provider_generation": 0, "inventories": {"CUSTOM_ZZ": {"total": 1}, "CUSTOM_AA": {"total": 1}}}`), "latest",
				400, "placement.undefined_code", "No such resource class CUSTOM_ZZ."},
			{"set traits: body before provider", "PUT", "/resource_providers/" + missing + "/traits",
				map[string]any{"traits": "not a list", "resource_provider_generation": 0}, "latest",
				400, "placement.undefined_code", "JSON does not validate"},
			{"set aggregates: provider before body", "PUT", "/resource_providers/" + missing + "/aggregates",
				map[string]any{"aggregates": "not a list"}, "latest",
				404, "placement.undefined_code", missing},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c.mv = tc.mv
				r := c.do(tc.method, tc.path, tc.body)
				if r.status != tc.status {
					t.Fatalf("%d, want %d: %s", r.status, tc.status, r.body)
				}
				var e struct {
					Errors []struct{ Code, Detail string }
				}
				if err := json.Unmarshal(r.body, &e); err != nil || len(e.Errors) != 1 {
					t.Fatalf("error body %s (%v)", r.body, err)
				}
				if e.Errors[0].Code != tc.code || !strings.Contains(e.Errors[0].Detail, tc.detail) {
					t.Fatalf("error %q %q; want %q containing %q", e.Errors[0].Code, e.Errors[0].Detail, tc.code, tc.detail)
				}
				// webob folds the detail's own newlines (a schema error has several) to spaces.
				if n := strings.Count(e.Errors[0].Detail, "\n"); n != 2 {
					t.Fatalf("detail has %d newlines, want only the 2 after the explanation: %q", n, e.Errors[0].Detail)
				}
			})
		}
	})
}

// TestBodiesEndWithoutNewline checks that JSON bodies end as Python's json.dumps ends them,
// without a newline: Nova logs an error body verbatim and clients compare bodies.
func TestBodiesEndWithoutNewline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newServer(t, db)
		for _, r := range []response{
			c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rpA, "name": "a"}),
			c.must(200, "GET", "/resource_providers/"+rpA, nil),
			c.must(404, "GET", "/resource_providers/"+rpB, nil),
			c.must(400, "POST", "/resource_providers", map[string]any{"name": 1}),
		} {
			if len(r.body) == 0 || r.body[len(r.body)-1] != '}' {
				t.Errorf("status %d: body ends %q, want the closing brace", r.status, r.body[max(0, len(r.body)-8):])
			}
		}
	})
}
