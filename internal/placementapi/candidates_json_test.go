package placementapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"ingot/internal/candidates"
	"ingot/internal/fleet"
	"ingot/internal/microversion"
	"ingot/internal/placement"
)

// awkward are fragments for names that JSON must escape or pass through: quotes,
// backslashes, control characters, HTML-special characters, non-ASCII, the JavaScript
// line separators and bytes that are not UTF-8.
var awkward = []string{"a", "Z_9", `"`, `\`, "\n", "\t", "\r", "\x00", "\x1f", "\x7f", "<>&", "é", "日本",
	"\u2028", "\u2029", "😀", "\xff", "\xc3", "\xed\xa0\x80", "/"}

func awkwardName(r *rand.Rand, unique int) string {
	s := ""
	for range r.IntN(4) {
		s += awkward[r.IntN(len(awkward))]
	}
	return fmt.Sprint(s, "#", unique) // unique, so that no two keys of an object collide
}

// randomCandidates builds a view of providers, classes and traits with awkward names and
// a search result over it: what renderCandidates is given.
func randomCandidates(r *rand.Rand) (*fleet.View, candidates.Result, map[int64]bool) {
	catalog := &fleet.Catalog{ClassIDs: map[string]int64{}, ClassNames: map[int64]string{},
		TraitIDs: map[string]int64{}, TraitNames: map[int64]string{}}
	for id := range int64(4) {
		n := awkwardName(r, int(id))
		catalog.ClassIDs[n], catalog.ClassNames[id] = id, n
		t := awkwardName(r, int(id))
		catalog.TraitIDs[t], catalog.TraitNames[id+10] = id+10, t
	}
	var ps []*fleet.Provider
	for id := int64(1); id <= int64(1+r.IntN(6)); id++ {
		p := &fleet.Provider{ID: id, UUID: awkwardName(r, int(id)), RootID: id}
		if id > 1 && r.IntN(2) == 0 {
			parent := ps[r.IntN(len(ps))]
			p.ParentID, p.RootID = parent.ID, parent.RootID
		}
		for class := range int64(4) {
			if r.IntN(2) == 0 {
				total := r.Int64N(1 << 40)
				p.Inventories = append(p.Inventories, fleet.Inventory{ClassID: class, Used: r.Int64N(total + 1),
					Inventory: placement.Inventory{Total: total, Reserved: r.Int64N(total + 1), MinUnit: 1, MaxUnit: total,
						StepSize: 1, AllocationRatio: []float64{1, 1.5, 16, 0.1}[r.IntN(4)]}})
			}
		}
		for tr := int64(10); tr < 14; tr++ {
			if r.IntN(2) == 0 {
				p.Traits = append(p.Traits, tr)
			}
		}
		ps = append(ps, p)
	}
	v := fleet.New(1, catalog, ps)
	var res candidates.Result
	for range r.IntN(5) {
		var c candidates.Candidate
		for slot := range int32(v.Slots()) {
			if r.IntN(2) == 0 {
				continue
			}
			for class := range int64(4) {
				if r.IntN(2) == 0 {
					c.Allocs = append(c.Allocs, candidates.Alloc{Slot: slot, Class: class, N: r.Int64N(1 << 40)})
				}
			}
		}
		for i := range r.IntN(3) {
			m := candidates.Mapping{Suffix: awkwardName(r, i)}
			for slot := range int32(v.Slots()) {
				if r.IntN(2) == 0 {
					m.Slots = append(m.Slots, slot)
				}
			}
			c.Mappings = append(c.Mappings, m)
		}
		res.Candidates = append(res.Candidates, c)
	}
	for slot := range int32(v.Slots()) {
		if r.IntN(3) > 0 {
			res.Summaries = append(res.Summaries, slot)
		}
	}
	requested := map[int64]bool{}
	for class := range int64(4) {
		if r.IntN(2) == 0 {
			requested[class] = true
		}
	}
	return v, res, requested
}

// candidatesValue is the GET /allocation_candidates body as Go values, for encoding/json.
func candidatesValue(v *fleet.View, res candidates.Result, requested map[int64]bool, ver version) any {
	resources := func(allocs []candidates.Alloc) map[string]int64 {
		m := map[string]int64{}
		for _, a := range allocs {
			m[v.ClassName(a.Class)] = a.N
		}
		return m
	}
	// bySlot splits a candidate's allocations into runs of one provider.
	bySlot := func(allocs []candidates.Alloc) [][]candidates.Alloc {
		var runs [][]candidates.Alloc
		for i := 0; i < len(allocs); {
			j := i
			for j < len(allocs) && allocs[j].Slot == allocs[i].Slot {
				j++
			}
			runs = append(runs, allocs[i:j])
			i = j
		}
		return runs
	}
	requests := []any{}
	for _, c := range res.Candidates {
		if !ver.allocationsDict() {
			list := []any{}
			for _, run := range bySlot(c.Allocs) {
				list = append(list, map[string]any{
					"resource_provider": map[string]any{"uuid": v.Slot(run[0].Slot).UUID},
					"resources":         resources(run),
				})
			}
			requests = append(requests, map[string]any{"allocations": list})
			continue
		}
		dict := map[string]any{}
		for _, run := range bySlot(c.Allocs) {
			dict[v.Slot(run[0].Slot).UUID] = map[string]any{"resources": resources(run)}
		}
		req := map[string]any{"allocations": dict}
		if ver.mappings() {
			mappings := map[string][]string{}
			for _, m := range c.Mappings {
				uuids := []string{}
				for _, s := range m.Slots {
					uuids = append(uuids, v.Slot(s).UUID)
				}
				mappings[m.Suffix] = uuids
			}
			req["mappings"] = mappings
		}
		requests = append(requests, req)
	}
	summaries := map[string]any{}
	for _, slot := range res.Summaries {
		p := v.Slot(slot)
		rs := map[string]any{}
		for _, inv := range p.Inventories {
			if ver.at(27) || requested[inv.ClassID] {
				rs[v.ClassName(inv.ClassID)] = map[string]int64{"capacity": inv.Capacity(), "used": inv.Used}
			}
		}
		s := map[string]any{"resources": rs}
		if ver.at(17) {
			traits := []string{}
			for _, t := range p.Traits {
				traits = append(traits, v.TraitName(t))
			}
			s["traits"] = traits
		}
		if ver.at(29) {
			s["parent_provider_uuid"] = nil
			if p.ParentID != 0 {
				s["parent_provider_uuid"] = v.ProviderUUID(p.ParentID)
			}
			s["root_provider_uuid"] = v.ProviderUUID(p.RootID)
		}
		summaries[p.UUID] = s
	}
	return map[string]any{"allocation_requests": requests, "provider_summaries": summaries}
}

// TestCandidatesJSONMatchesEncodingJSON checks that the hand-written candidates body is
// valid JSON that decodes to the same value as encoding/json's encoding of the same data,
// at every microversion of the candidates API, for random fleets and results whose names
// need escaping. Numbers are decoded exactly (json.Number), so large ones are compared
// digit for digit.
func TestCandidatesJSONMatchesEncodingJSON(t *testing.T) {
	decode := func(b []byte) (any, error) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var x any
		if err := d.Decode(&x); err != nil {
			return nil, err
		}
		if d.More() {
			return nil, fmt.Errorf("trailing data")
		}
		return x, nil
	}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 3))
		v, res, requested := randomCandidates(r)
		for minor := 10; minor <= 39; minor++ {
			ver := version{microversion.V(1, minor)}
			hand := renderCandidates(v, res, requested, ver)
			if !json.Valid(hand) {
				t.Fatalf("seed %d, 1.%d: not valid JSON:\n%s", seed, minor, hand)
			}
			got, err := decode(hand)
			if err != nil {
				t.Fatalf("seed %d, 1.%d: %v\n%s", seed, minor, err, hand)
			}
			std, err := json.Marshal(candidatesValue(v, res, requested, ver))
			if err != nil {
				t.Fatal(err)
			}
			want, err := decode(std)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, 1.%d: hand-written body decodes differently\n got: %s\nwant: %s", seed, minor, hand, std)
			}
		}
	}
}

// TestCandidatesJSONKeepsListOrder checks what decoding to maps cannot: the lists of the
// body (allocation requests, a mapping's providers, a summary's traits) keep the order
// of the result.
func TestCandidatesJSONKeepsListOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for range 50 {
		v, res, requested := randomCandidates(r)
		var body struct {
			Requests []struct {
				Mappings map[string][]string `json:"mappings"`
			} `json:"allocation_requests"`
			Summaries map[string]struct {
				Traits []string `json:"traits"`
			} `json:"provider_summaries"`
		}
		if err := json.Unmarshal(renderCandidates(v, res, requested, version{microversion.V(1, 39)}), &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Requests) != len(res.Candidates) {
			t.Fatalf("%d allocation requests; want %d", len(body.Requests), len(res.Candidates))
		}
		for i, c := range res.Candidates {
			for _, m := range c.Mappings {
				want := []string{}
				for _, s := range m.Slots {
					want = append(want, v.Slot(s).UUID)
				}
				if got := body.Requests[i].Mappings[viaJSON(t, m.Suffix)]; !slices.Equal(got, viaJSONAll(t, want)) {
					t.Fatalf("mapping %q = %q; want %q", m.Suffix, got, want)
				}
			}
		}
		for _, s := range res.Summaries {
			p := v.Slot(s)
			want := []string{}
			for _, tr := range p.Traits {
				want = append(want, v.TraitName(tr))
			}
			if got := body.Summaries[viaJSON(t, p.UUID)].Traits; !slices.Equal(got, viaJSONAll(t, want)) {
				t.Fatalf("traits of %q = %q; want %q", p.UUID, got, want)
			}
		}
	}
}

// viaJSON is s as it reads after a trip through JSON: invalid UTF-8 becomes U+FFFD.
func viaJSON(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func viaJSONAll(t *testing.T, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = viaJSON(t, s)
	}
	return out
}
