package main

import (
	"slices"
	"strings"
	"testing"
)

func TestCreateFlatRequestBodies(t *testing.T) {
	f, url := newFakePlacement(t)
	b := testBench(t, url, datasetFlat, 25)
	res, err := b.create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Providers != 25 || res.Requests != 25*4 {
		t.Errorf("created %d providers with %d requests, want 25 with 100", res.Providers, res.Requests)
	}
	if got := f.requests("PUT", "/resource_classes/"); len(got) != 1 || got[0].Path != "/resource_classes/"+classGold {
		t.Errorf("resource class requests = %+v", got)
	}
	if got := len(f.requests("PUT", "/traits/")); got != 21 { // 20 rack traits + RAID
		t.Errorf("%d trait creations, want 21", got)
	}

	p0 := b.ds.Trees[0][0]
	posts := f.requests("POST", "/resource_providers")
	i := slices.IndexFunc(posts, func(r recorded) bool { return r.Body["uuid"] == p0.UUID })
	if i < 0 {
		t.Fatalf("provider 0 was not POSTed")
	}
	if posts[i].Body["name"] != p0.Name || posts[i].Version != "placement 1.20" || posts[i].Body["parent_provider_uuid"] != nil {
		t.Errorf("POST of provider 0 = %+v", posts[i])
	}

	inv := only(t, f.requests("PUT", "/resource_providers/"+p0.UUID+"/inventories"))
	gold := inv.Body["inventories"].(map[string]any)[classGold].(map[string]any)
	if inv.Body["resource_provider_generation"] != 0.0 || gold["total"] != 1.0 || gold["max_unit"] != 1.0 {
		t.Errorf("inventories of provider 0 = %v", inv.Body)
	}
	traits := only(t, f.requests("PUT", "/resource_providers/"+p0.UUID+"/traits"))
	if traits.Body["resource_provider_generation"] != 1.0 ||
		!sameStrings(traits.Body["traits"], "CUSTOM_BENCH_RACK_R00", traitAVX2, traitRAID) {
		t.Errorf("traits of provider 0 = %v", traits.Body)
	}
	aggs := only(t, f.requests("PUT", "/resource_providers/"+p0.UUID+"/aggregates"))
	if aggs.Body["resource_provider_generation"] != 2.0 || aggs.Version != "placement 1.19" ||
		!sameStrings(aggs.Body["aggregates"], b.ds.Aggregates[0]) {
		t.Errorf("aggregates of provider 0 = %+v", aggs)
	}

	p21 := b.ds.Trees[21][0]
	traits = only(t, f.requests("PUT", "/resource_providers/"+p21.UUID+"/traits"))
	if !sameStrings(traits.Body["traits"], "CUSTOM_BENCH_RACK_R01") {
		t.Errorf("provider 21 traits = %v, want only rack R01", traits.Body["traits"])
	}
	aggs = only(t, f.requests("PUT", "/resource_providers/"+p21.UUID+"/aggregates"))
	if !sameStrings(aggs.Body["aggregates"], b.ds.Aggregates[1]) {
		t.Errorf("provider 21 aggregates = %v, want rack 1", aggs.Body["aggregates"])
	}
}

func TestCreateNestedParentsFirst(t *testing.T) {
	f, url := newFakePlacement(t)
	b := testBench(t, url, datasetNested, 3)
	if _, err := b.create(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := 3*providersPerCN + 3; b.ds.providerCount() != want {
		t.Fatalf("%d providers, want %d", b.ds.providerCount(), want)
	}
	seen := map[string]bool{}
	for _, r := range f.requests("POST", "/resource_providers") {
		if parent, ok := r.Body["parent_provider_uuid"].(string); ok && !seen[parent] {
			t.Errorf("%s POSTed before its parent", r.Body["name"])
		}
		seen[r.Body["uuid"].(string)] = true
	}
	root := b.ds.Trees[0][0]
	if got := f.requests("PUT", "/resource_providers/"+root.UUID+"/inventories"); len(got) != 0 {
		t.Errorf("root without inventory got an inventory PUT: %+v", got)
	}
	disk := b.ds.Trees[3][0]
	traits := only(t, f.requests("PUT", "/resource_providers/"+disk.UUID+"/traits"))
	if !sameStrings(traits.Body["traits"], traitSharing) || traits.Body["resource_provider_generation"] != 1.0 {
		t.Errorf("sharing provider traits = %v", traits.Body)
	}
	numa1 := b.ds.Trees[0][2]
	inv := only(t, f.requests("PUT", "/resource_providers/"+numa1.UUID+"/inventories"))
	mem := inv.Body["inventories"].(map[string]any)["MEMORY_MB"].(map[string]any)
	if mem["step_size"] != 256.0 || mem["min_unit"] != 256.0 {
		t.Errorf("numa1 MEMORY_MB = %v", mem)
	}
}

func TestDatasetIDsAreStablePerRunID(t *testing.T) {
	a, _ := buildDataset(datasetFlat, 3, 2, "x")
	b, _ := buildDataset(datasetFlat, 3, 2, "x")
	c, _ := buildDataset(datasetFlat, 3, 2, "y")
	if a.Trees[2][0].UUID != b.Trees[2][0].UUID || a.Aggregates[1] != b.Aggregates[1] {
		t.Errorf("same run id gave different UUIDs")
	}
	if a.Trees[2][0].UUID == c.Trees[2][0].UUID {
		t.Errorf("different run ids gave the same UUID")
	}
	if u := a.Trees[0][0].UUID; len(u) != 36 || u[14] != '4' {
		t.Errorf("UUID %q is not version-4 shaped", u)
	}
	if _, err := buildDataset("bogus", 1, 1, "x"); err == nil {
		t.Errorf("unknown data set accepted")
	}
}

// only returns the single element of rs.
func only(t *testing.T, rs []recorded) recorded {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("got %d requests, want 1: %+v", len(rs), rs)
	}
	return rs[0]
}

// sameStrings reports whether a decoded JSON list holds exactly want, in any order.
func sameStrings(v any, want ...string) bool {
	list, ok := v.([]any)
	if !ok || len(list) != len(want) {
		return false
	}
	var got []string
	for _, x := range list {
		s, _ := x.(string)
		got = append(got, s)
	}
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	return strings.Join(got, ",") == strings.Join(w, ",")
}
