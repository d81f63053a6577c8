package placementapi_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// The writes below were reached only by the upstream gabbits (and on PostgreSQL only for
// the core files): single-class inventory writes, aggregate writes, resource-class create,
// rename and delete, total usages and the reshaper. Each test runs on SQLite and, when
// configured, PostgreSQL. Lists are compared as sets and numbers by value, not by their
// textual form.

const (
	rp2       = "33333333-3333-4333-8333-333333333333"
	consumerA = "aaaaaaaa-0000-4000-8000-000000000001"
	consumerB = "aaaaaaaa-0000-4000-8000-000000000002"
	consumerC = "aaaaaaaa-0000-4000-8000-000000000003"
	aggA      = "a0000000-0000-4000-8000-00000000000a"
	aggB      = "b0000000-0000-4000-8000-00000000000b"
)

// num returns the JSON number at m[key], failing the test when it is not a number.
func num(t *testing.T, m map[string]any, key string) float64 {
	t.Helper()
	f, ok := m[key].(float64)
	if !ok {
		t.Fatalf("%q = %#v in %v; want a number", key, m[key], m)
	}
	return f
}

// obj returns the JSON object at m[key].
func obj(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	o, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("%q = %#v in %v; want an object", key, m[key], m)
	}
	return o
}

// stringSet returns the JSON list of strings at m[key], sorted.
func stringSet(t *testing.T, m map[string]any, key string) []string {
	t.Helper()
	l, ok := m[key].([]any)
	if !ok {
		t.Fatalf("%q = %#v in %v; want a list", key, m[key], m)
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, ok := x.(string)
		if !ok {
			t.Fatalf("%q holds %#v; want strings", key, x)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// wantNumbers checks that m holds exactly the numeric members want.
func wantNumbers(t *testing.T, what string, m map[string]any, want map[string]float64) {
	t.Helper()
	if len(m) != len(want) {
		t.Fatalf("%s = %v; want %v", what, m, want)
	}
	for k, w := range want {
		if got, ok := m[k].(float64); !ok || got != w {
			t.Fatalf("%s = %v; want %v", what, m, want)
		}
	}
}

func (c *client) generation(uuid string) float64 {
	c.t.Helper()
	return c.must(200, "GET", "/resource_providers/"+uuid, nil).json(c.t)["generation"].(float64)
}

func TestSingleClassInventoryWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newServer(t, db)
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rp1, "name": "cn1"})
		inv := "/resource_providers/" + rp1 + "/inventories"

		r := c.must(201, "POST", inv, map[string]any{
			"resource_provider_generation": 0, "resource_class": "VCPU", "total": 8, "allocation_ratio": 2.0,
		})
		if loc := r.header.Get("Location"); !strings.HasSuffix(loc, inv+"/VCPU") {
			t.Fatalf("Location = %q", loc)
		}
		body := r.json(t)
		if num(t, body, "resource_provider_generation") != 1 || num(t, body, "total") != 8 || num(t, body, "allocation_ratio") != 2 {
			t.Fatalf("created inventory = %v", body)
		}
		// The class is there already. (As upstream, POST does not compare the generation.)
		c.must(409, "POST", inv, map[string]any{"resource_provider_generation": 1, "resource_class": "VCPU", "total": 8})
		c.must(400, "POST", inv, map[string]any{"resource_provider_generation": 1, "resource_class": "CUSTOM_NOPE", "total": 1})
		c.must(201, "POST", inv, map[string]any{"resource_provider_generation": 1, "resource_class": "MEMORY_MB", "total": 1024, "reserved": 512})

		got := c.must(200, "GET", inv+"/VCPU", nil).json(t)
		wantNumbers(t, "GET VCPU", got, map[string]float64{
			"resource_provider_generation": 2, "total": 8, "reserved": 0, "min_unit": 1, "max_unit": 2147483647,
			"step_size": 1, "allocation_ratio": 2,
		})

		r = c.must(200, "PUT", inv+"/VCPU", map[string]any{"resource_provider_generation": 2, "total": 16, "max_unit": 4})
		if body := r.json(t); num(t, body, "resource_provider_generation") != 3 || num(t, body, "total") != 16 || num(t, body, "max_unit") != 4 {
			t.Fatalf("updated inventory = %v", body)
		}
		r = c.must(409, "PUT", inv+"/VCPU", map[string]any{"resource_provider_generation": 2, "total": 32})
		if code := errorCode(t, r); code != "placement.concurrent_update" {
			t.Fatalf("stale PUT: code %q", code)
		}
		c.must(400, "PUT", inv+"/VCPU", map[string]any{"resource_provider_generation": 3, "total": 16, "reserved": 17, "max_unit": 4})
		if got := c.must(200, "GET", inv+"/VCPU", nil).json(t); num(t, got, "total") != 16 || num(t, got, "max_unit") != 4 {
			t.Fatalf("a refused PUT changed the inventory: %v", got)
		}
		// Both classes are listed, as a set.
		invs := obj(t, c.must(200, "GET", inv, nil).json(t), "inventories")
		if len(invs) != 2 || invs["VCPU"] == nil || invs["MEMORY_MB"] == nil {
			t.Fatalf("inventories = %v", invs)
		}

		// Two writers with the same generation: exactly one wins.
		gen := c.generation(rp1)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = c.do("PUT", inv+"/MEMORY_MB", map[string]any{
					"resource_provider_generation": gen, "total": 2048 * (i + 1)}).status
			}()
		}
		wg.Wait()
		slices.Sort(statuses)
		if statuses[0] != 200 || statuses[1] != 409 {
			t.Fatalf("concurrent PUTs with one generation = %v; want one 200 and one 409", statuses)
		}
		if g := c.generation(rp1); g != gen+1 {
			t.Fatalf("generation %v after one winning write from %v", g, gen)
		}

		// An allocated class cannot be deleted; once free it can, once.
		c.must(204, "PUT", "/allocations/"+consumerA, map[string]any{
			"allocations": map[string]any{rp1: map[string]any{"resources": map[string]any{"VCPU": 3}}},
			"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE",
		})
		c.must(409, "DELETE", inv+"/VCPU", nil)
		c.must(200, "GET", inv+"/VCPU", nil)
		c.must(204, "DELETE", "/allocations/"+consumerA, nil)
		before := c.generation(rp1)
		c.must(204, "DELETE", inv+"/VCPU", nil)
		c.must(404, "GET", inv+"/VCPU", nil)
		c.must(404, "DELETE", inv+"/VCPU", nil)
		if g := c.generation(rp1); g != before+1 {
			t.Fatalf("generation %v after deleting a class at %v", g, before)
		}
		invs = obj(t, c.must(200, "GET", inv, nil).json(t), "inventories")
		if len(invs) != 1 || invs["MEMORY_MB"] == nil {
			t.Fatalf("inventories after delete = %v", invs)
		}
		c.must(404, "GET", "/resource_providers/"+rp2+"/inventories/VCPU", nil)
	})
}

func TestAggregateWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newServer(t, db)
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rp1, "name": "cn1"})
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rp2, "name": "cn2"})
		aggs := "/resource_providers/" + rp1 + "/aggregates"

		r := c.must(200, "PUT", aggs, map[string]any{"aggregates": []string{aggB, aggA}, "resource_provider_generation": 0})
		body := r.json(t)
		if got := stringSet(t, body, "aggregates"); !slices.Equal(got, []string{aggA, aggB}) || num(t, body, "resource_provider_generation") != 1 {
			t.Fatalf("PUT aggregates = %v", body)
		}
		r = c.must(409, "PUT", aggs, map[string]any{"aggregates": []string{aggA}, "resource_provider_generation": 0})
		if code := errorCode(t, r); code != "placement.concurrent_update" {
			t.Fatalf("stale aggregates PUT: code %q", code)
		}
		c.must(400, "PUT", aggs, map[string]any{"aggregates": []string{aggA, aggA}, "resource_provider_generation": 1})
		c.must(400, "PUT", aggs, map[string]any{"aggregates": []string{"not-a-uuid"}, "resource_provider_generation": 1})
		got := c.must(200, "GET", aggs, nil).json(t)
		if s := stringSet(t, got, "aggregates"); !slices.Equal(s, []string{aggA, aggB}) || num(t, got, "resource_provider_generation") != 1 {
			t.Fatalf("refused PUTs changed the aggregates: %v", got)
		}

		// member_of sees the write.
		list := c.must(200, "GET", "/resource_providers?member_of="+aggB, nil).json(t)["resource_providers"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["uuid"] != rp1 {
			t.Fatalf("member_of=%s lists %v", aggB, list)
		}

		// Before 1.19 the body is a bare list, and the generation is neither checked nor
		// incremented.
		c.mv = "1.1"
		got = c.must(200, "PUT", aggs, []string{aggA}).json(t)
		if s := stringSet(t, got, "aggregates"); !slices.Equal(s, []string{aggA}) {
			t.Fatalf("PUT at 1.1 = %v", got)
		}
		c.mv = "latest"
		got = c.must(200, "PUT", aggs, map[string]any{"aggregates": []string{}, "resource_provider_generation": 1}).json(t)
		if s := stringSet(t, got, "aggregates"); len(s) != 0 || num(t, got, "resource_provider_generation") != 2 {
			t.Fatalf("emptying the aggregates = %v", got)
		}
		list = c.must(200, "GET", "/resource_providers?member_of="+aggA, nil).json(t)["resource_providers"].([]any)
		if len(list) != 0 {
			t.Fatalf("member_of=%s after emptying lists %v", aggA, list)
		}
		c.must(404, "PUT", "/resource_providers/"+consumerA+"/aggregates", map[string]any{"aggregates": []string{}, "resource_provider_generation": 0})
	})
}

func TestResourceClassLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newServer(t, db)
		r := c.must(201, "POST", "/resource_classes", map[string]any{"name": "CUSTOM_GOLD"})
		if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/resource_classes/CUSTOM_GOLD") {
			t.Fatalf("Location = %q", loc)
		}
		c.must(409, "POST", "/resource_classes", map[string]any{"name": "CUSTOM_GOLD"})
		c.must(400, "POST", "/resource_classes", map[string]any{"name": "GOLD"})
		c.must(400, "POST", "/resource_classes", map[string]any{"name": "CUSTOM_lower"})
		if got := c.must(200, "GET", "/resource_classes/CUSTOM_GOLD", nil).json(t); got["name"] != "CUSTOM_GOLD" {
			t.Fatalf("GET class = %v", got)
		}

		// Before 1.7, PUT renames a custom class.
		c.mv = "1.2"
		got := c.must(200, "PUT", "/resource_classes/CUSTOM_GOLD", map[string]any{"name": "CUSTOM_SILVER"}).json(t)
		if got["name"] != "CUSTOM_SILVER" {
			t.Fatalf("rename = %v", got)
		}
		c.must(404, "GET", "/resource_classes/CUSTOM_GOLD", nil)
		c.must(200, "GET", "/resource_classes/CUSTOM_SILVER", nil)
		c.must(400, "PUT", "/resource_classes/VCPU", map[string]any{"name": "CUSTOM_VCPU"})
		c.must(404, "PUT", "/resource_classes/CUSTOM_GOLD", map[string]any{"name": "CUSTOM_BRONZE"})
		c.must(201, "POST", "/resource_classes", map[string]any{"name": "CUSTOM_BRONZE"})
		c.must(409, "PUT", "/resource_classes/CUSTOM_BRONZE", map[string]any{"name": "CUSTOM_SILVER"})

		// From 1.7, PUT creates or confirms.
		c.mv = "latest"
		c.must(201, "PUT", "/resource_classes/CUSTOM_COPPER", nil)
		c.must(204, "PUT", "/resource_classes/CUSTOM_COPPER", nil)
		c.must(400, "PUT", "/resource_classes/COPPER", nil)
		names := map[string]bool{}
		for _, x := range c.must(200, "GET", "/resource_classes", nil).json(t)["resource_classes"].([]any) {
			names[x.(map[string]any)["name"].(string)] = true
		}
		for _, n := range []string{"VCPU", "CUSTOM_SILVER", "CUSTOM_BRONZE", "CUSTOM_COPPER"} {
			if !names[n] {
				t.Fatalf("class list lacks %s", n)
			}
		}
		if names["CUSTOM_GOLD"] {
			t.Fatal("class list still has the renamed CUSTOM_GOLD")
		}

		// A class with inventory cannot be deleted, nor can a standard class.
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rp1, "name": "cn1"})
		c.must(200, "PUT", "/resource_providers/"+rp1+"/inventories", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{"CUSTOM_SILVER": map[string]any{"total": 1}},
		})
		c.must(409, "DELETE", "/resource_classes/CUSTOM_SILVER", nil)
		c.must(400, "DELETE", "/resource_classes/VCPU", nil)
		c.must(204, "DELETE", "/resource_providers/"+rp1+"/inventories", nil)
		c.must(204, "DELETE", "/resource_classes/CUSTOM_SILVER", nil)
		c.must(404, "GET", "/resource_classes/CUSTOM_SILVER", nil)
		c.must(404, "DELETE", "/resource_classes/CUSTOM_SILVER", nil)
		// The name is free again.
		c.must(201, "POST", "/resource_classes", map[string]any{"name": "CUSTOM_SILVER"})
	})
}

func TestTotalUsages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newServer(t, db)
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rp1, "name": "cn1"})
		c.must(200, "PUT", "/resource_providers/"+rp1+"/inventories", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{
				"VCPU": map[string]any{"total": 32}, "MEMORY_MB": map[string]any{"total": 65536},
			},
		})
		alloc := func(consumer, project, user, ctype string, vcpu, mem int) {
			c.must(204, "PUT", "/allocations/"+consumer, map[string]any{
				"allocations": map[string]any{rp1: map[string]any{"resources": map[string]any{"VCPU": vcpu, "MEMORY_MB": mem}}},
				"project_id":  project, "user_id": user, "consumer_generation": nil, "consumer_type": ctype,
			})
		}
		alloc(consumerA, "proj", "alice", "INSTANCE", 2, 1024)
		alloc(consumerB, "proj", "bob", "MIGRATION", 4, 2048)
		alloc(consumerC, "other", "alice", "INSTANCE", 8, 4096)

		c.mv = "1.9"
		wantNumbers(t, "usages of proj", obj(t, c.must(200, "GET", "/usages?project_id=proj", nil).json(t), "usages"),
			map[string]float64{"VCPU": 6, "MEMORY_MB": 3072})
		wantNumbers(t, "usages of proj/alice", obj(t, c.must(200, "GET", "/usages?project_id=proj&user_id=alice", nil).json(t), "usages"),
			map[string]float64{"VCPU": 2, "MEMORY_MB": 1024})
		wantNumbers(t, "usages of an unknown project", obj(t, c.must(200, "GET", "/usages?project_id=nobody", nil).json(t), "usages"),
			map[string]float64{})
		c.must(400, "GET", "/usages", nil)
		c.must(400, "GET", "/usages?project_id=proj&consumer_type=INSTANCE", nil)

		// From 1.38 usages are grouped by consumer type, with a consumer count.
		c.mv = "1.38"
		got := obj(t, c.must(200, "GET", "/usages?project_id=proj", nil).json(t), "usages")
		if len(got) != 2 {
			t.Fatalf("usages by type = %v", got)
		}
		wantNumbers(t, "INSTANCE usages", obj(t, got, "INSTANCE"), map[string]float64{"VCPU": 2, "MEMORY_MB": 1024, "consumer_count": 1})
		wantNumbers(t, "MIGRATION usages", obj(t, got, "MIGRATION"), map[string]float64{"VCPU": 4, "MEMORY_MB": 2048, "consumer_count": 1})
		got = obj(t, c.must(200, "GET", "/usages?project_id=proj&consumer_type=MIGRATION", nil).json(t), "usages")
		if len(got) != 1 {
			t.Fatalf("consumer_type=MIGRATION usages = %v", got)
		}
		wantNumbers(t, "MIGRATION only", obj(t, got, "MIGRATION"), map[string]float64{"VCPU": 4, "MEMORY_MB": 2048, "consumer_count": 1})
		got = obj(t, c.must(200, "GET", "/usages?project_id=proj&consumer_type=all", nil).json(t), "usages")
		wantNumbers(t, "consumer_type=all", obj(t, got, "all"), map[string]float64{"VCPU": 6, "MEMORY_MB": 3072, "consumer_count": 2})

		// A deleted consumer no longer counts.
		c.must(204, "DELETE", "/allocations/"+consumerB, nil)
		c.mv = "1.9"
		wantNumbers(t, "usages after delete", obj(t, c.must(200, "GET", "/usages?project_id=proj", nil).json(t), "usages"),
			map[string]float64{"VCPU": 2, "MEMORY_MB": 1024})
	})
}

// reshapeBody moves rp1's VCPU inventory, and consumerA's allocation of it, to its child
// rp2 (as Nova does when it starts modelling NUMA cells).
func reshapeBody(rootGen, childGen, consumerGen float64, vcpu int) map[string]any {
	return map[string]any{
		"inventories": map[string]any{
			rp1: map[string]any{"resource_provider_generation": rootGen, "inventories": map[string]any{}},
			rp2: map[string]any{"resource_provider_generation": childGen, "inventories": map[string]any{
				"VCPU": map[string]any{"total": 8},
			}},
		},
		"allocations": map[string]any{
			consumerA: map[string]any{
				"allocations":         map[string]any{rp2: map[string]any{"resources": map[string]any{"VCPU": vcpu}}},
				"project_id":          "p",
				"user_id":             "u",
				"consumer_generation": consumerGen,
				"consumer_type":       "INSTANCE",
			},
		},
	}
}

// reshapeFixture makes rp1 a root with 8 VCPU, 2 of them allocated to consumerA, and rp2
// its child without inventory.
func reshapeFixture(c *client) {
	c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rp1, "name": "cn1"})
	c.must(200, "POST", "/resource_providers", map[string]any{"uuid": rp2, "name": "cn1-numa0", "parent_provider_uuid": rp1})
	c.must(200, "PUT", "/resource_providers/"+rp1+"/inventories", map[string]any{
		"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 8}},
	})
	c.must(204, "PUT", "/allocations/"+consumerA, map[string]any{
		"allocations": map[string]any{rp1: map[string]any{"resources": map[string]any{"VCPU": 2}}},
		"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE",
	})
}

func TestReshaper(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newServerAs(t, db, policy.Options{EnforceNewDefaults: true}, "service")
		reshapeFixture(c)
		rootGen, childGen := c.generation(rp1), c.generation(rp2)

		unchanged := func(when string) {
			t.Helper()
			wantNumbers(t, when+": root usages", obj(t, c.must(200, "GET", "/resource_providers/"+rp1+"/usages", nil).json(t), "usages"),
				map[string]float64{"VCPU": 2})
			if invs := obj(t, c.must(200, "GET", "/resource_providers/"+rp2+"/inventories", nil).json(t), "inventories"); len(invs) != 0 {
				t.Fatalf("%s: child inventories = %v", when, invs)
			}
			if g1, g2 := c.generation(rp1), c.generation(rp2); g1 != rootGen || g2 != childGen {
				t.Fatalf("%s: generations %v, %v; want %v, %v", when, g1, g2, rootGen, childGen)
			}
		}
		// Refused whole: a stale provider generation, a stale consumer generation, more than
		// the new inventory holds, an unknown provider; and before 1.30 there is no reshaper.
		r := c.must(409, "POST", "/reshaper", reshapeBody(rootGen-1, childGen, 1, 2))
		if code := errorCode(t, r); code != "placement.concurrent_update" {
			t.Fatalf("stale provider generation: code %q", code)
		}
		r = c.must(409, "POST", "/reshaper", reshapeBody(rootGen, childGen, 0, 2))
		if code := errorCode(t, r); code != "placement.concurrent_update" {
			t.Fatalf("stale consumer generation: code %q", code)
		}
		c.must(409, "POST", "/reshaper", reshapeBody(rootGen, childGen, 1, 9))
		bad := reshapeBody(rootGen, childGen, 1, 2)
		bad["inventories"].(map[string]any)[consumerB] = map[string]any{"resource_provider_generation": 0, "inventories": map[string]any{}}
		c.must(400, "POST", "/reshaper", bad)
		c.mv = "1.29"
		c.must(404, "POST", "/reshaper", reshapeBody(rootGen, childGen, 1, 2))
		c.mv = "latest"
		unchanged("after refused reshapes")

		c.must(204, "POST", "/reshaper", reshapeBody(rootGen, childGen, 1, 2))
		if invs := obj(t, c.must(200, "GET", "/resource_providers/"+rp1+"/inventories", nil).json(t), "inventories"); len(invs) != 0 {
			t.Fatalf("root inventories after reshape = %v", invs)
		}
		child := obj(t, obj(t, c.must(200, "GET", "/resource_providers/"+rp2+"/inventories", nil).json(t), "inventories"), "VCPU")
		if num(t, child, "total") != 8 {
			t.Fatalf("child VCPU after reshape = %v", child)
		}
		wantNumbers(t, "child usages", obj(t, c.must(200, "GET", "/resource_providers/"+rp2+"/usages", nil).json(t), "usages"),
			map[string]float64{"VCPU": 2})
		got := c.must(200, "GET", "/allocations/"+consumerA, nil).json(t)
		allocs := obj(t, got, "allocations")
		if len(allocs) != 1 || num(t, got, "consumer_generation") != 2 {
			t.Fatalf("consumer after reshape = %v", got)
		}
		wantNumbers(t, "consumer's allocation", obj(t, obj(t, allocs, rp2), "resources"), map[string]float64{"VCPU": 2})
		if g1, g2 := c.generation(rp1), c.generation(rp2); g1 <= rootGen || g2 <= childGen {
			t.Fatalf("generations %v, %v did not move past %v, %v", g1, g2, rootGen, childGen)
		}
		// Replaying the same request is now stale.
		c.must(409, "POST", "/reshaper", reshapeBody(rootGen, childGen, 1, 2))
	})
}

// newServerAs serves the API with the policy options to a client whose requests carry the
// roles given (as keystonemiddleware, or noauth2, would set X-Roles).
func newServerAs(t *testing.T, db *store.DB, opts policy.Options, roles string) *client {
	t.Helper()
	enf, err := policy.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	api := placementapi.New(db, placementapi.Options{Policy: enf})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Roles", roles)
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &client{t: t, url: srv.URL, mv: "latest"}
}

// TestReshaperForOlderNova checks the README's advice for a Nova older than the service
// role (Zed's nova-compute, whose service user holds only admin): master's defaults refuse
// it the reshaper, and either --enforce-new-defaults=false or a policy file granting
// placement:reshaper:reshape to role:admin lets it reshape, without opening the reshaper
// to other roles.
func TestReshaperForOlderNova(t *testing.T) {
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte(`"placement:reshaper:reshape": "role:admin or role:service"`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opts   policy.Options
		roles  string
		status int
	}{
		{"defaults, admin", policy.Options{EnforceNewDefaults: true}, "admin", 403},
		{"defaults, service", policy.Options{EnforceNewDefaults: true}, "service", 204},
		{"enforce-new-defaults=false, admin", policy.Options{EnforceNewDefaults: false}, "admin", 204},
		{"enforce-new-defaults=false, member", policy.Options{EnforceNewDefaults: false}, "member,reader", 403},
		{"policy file, admin", policy.Options{EnforceNewDefaults: true, File: file}, "admin", 204},
		{"policy file, member", policy.Options{EnforceNewDefaults: true, File: file}, "member,reader", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				admin := newServer(t, db)
				reshapeFixture(admin)
				c := newServerAs(t, db, tc.opts, tc.roles)
				c.must(tc.status, "POST", "/reshaper", reshapeBody(admin.generation(rp1), admin.generation(rp2), 1, 2))
			})
		})
	}
}
