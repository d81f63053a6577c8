package placementapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// candidateServer serves db with the given candidate options.
func candidateServer(t *testing.T, db *store.DB, opts placementapi.CandidateOptions) *client {
	t.Helper()
	enf, err := policy.New(policy.Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(placementapi.New(db, placementapi.Options{Policy: enf, Candidates: opts}))
	t.Cleanup(srv.Close)
	return &client{t: t, url: srv.URL, mv: "1.39"}
}

// answerOf returns an answer's allocation requests as canonical strings (in answer order)
// and its provider summaries as canonical strings (sorted).
func answerOf(t *testing.T, r response) (cands, sums []string) {
	t.Helper()
	var doc struct {
		ARs       []json.RawMessage          `json:"allocation_requests"`
		Summaries map[string]json.RawMessage `json:"provider_summaries"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.body)
	}
	for _, ar := range doc.ARs {
		var v any
		if err := json.Unmarshal(ar, &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v) // maps are marshalled with sorted keys
		cands = append(cands, string(b))
	}
	for uuid, s := range doc.Summaries {
		var v any
		if err := json.Unmarshal(s, &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		sums = append(sums, uuid+"="+string(b))
	}
	slices.Sort(sums)
	return cands, sums
}

// TestUnlimitedCandidatesFollowEveryWrite checks the per-view answer cache and the memos
// behind unlimited answers: both a randomizing and a plain server answer what a limited
// query (which uses neither) answers on the same database, after every allocation write and
// trait change (no stale answer), and the randomizing one shuffles anew for each response.
func TestUnlimitedCandidatesFollowEveryWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		random := candidateServer(t, db, placementapi.CandidateOptions{Randomize: true, Max: 100000})
		plain := candidateServer(t, db, placementapi.CandidateOptions{Max: 100000})
		random.must(201, "PUT", "/traits/CUSTOM_FOO", nil)
		uuid := func(tree, k int) string { return fmt.Sprintf("%08d-0000-4000-8000-%012d", tree, k) }
		const trees = 4
		for i := range trees {
			random.must(200, "POST", "/resource_providers", map[string]any{"uuid": uuid(i, 0), "name": uuid(i, 0)})
			random.must(200, "PUT", "/resource_providers/"+uuid(i, 0)+"/inventories", map[string]any{
				"resource_provider_generation": 0, "inventories": map[string]any{"DISK_GB": map[string]any{"total": 100}}})
			random.must(200, "POST", "/resource_providers", map[string]any{"uuid": uuid(i, 1), "name": uuid(i, 1), "parent_provider_uuid": uuid(i, 0)})
			random.must(200, "PUT", "/resource_providers/"+uuid(i, 1)+"/inventories", map[string]any{
				"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 4}}})
			random.must(200, "PUT", "/resource_providers/"+uuid(i, 1)+"/traits", map[string]any{
				"resource_provider_generation": 1, "traits": []string{"CUSTOM_FOO"}})
			for k := 2; k < 5; k++ {
				random.must(200, "POST", "/resource_providers", map[string]any{"uuid": uuid(i, k), "name": uuid(i, k), "parent_provider_uuid": uuid(i, 1)})
				random.must(200, "PUT", "/resource_providers/"+uuid(i, k)+"/inventories", map[string]any{
					"resource_provider_generation": 0, "inventories": map[string]any{"FPGA": map[string]any{"total": 1}}})
			}
		}
		const q = "/allocation_candidates?resources=DISK_GB:10&resources_C=VCPU:1&required_C=CUSTOM_FOO" +
			"&resources_F=FPGA:1&group_policy=none&same_subtree=_C,_F"
		check := func(want int) {
			t.Helper()
			wantCands, wantSums := answerOf(t, plain.must(200, "GET", q+"&limit=1000", nil))
			if len(wantCands) != want {
				t.Fatalf("limited query: %d candidates, want %d", len(wantCands), want)
			}
			slices.Sort(wantCands)
			cands, sums := answerOf(t, plain.must(200, "GET", q, nil))
			slices.Sort(cands)
			if !slices.Equal(cands, wantCands) || !slices.Equal(sums, wantSums) {
				t.Fatalf("plain server answers\n%v\n%v\nwant\n%v\n%v", cands, sums, wantCands, wantSums)
			}
			orders := map[string]bool{}
			for range 6 {
				cands, sums := answerOf(t, random.must(200, "GET", q, nil))
				orders[strings.Join(cands, "\n")] = true
				slices.Sort(cands)
				if !slices.Equal(cands, wantCands) || !slices.Equal(sums, wantSums) {
					t.Fatalf("randomizing server answers\n%v\n%v\nwant\n%v\n%v", cands, sums, wantCands, wantSums)
				}
			}
			if want > 4 && len(orders) < 2 {
				t.Errorf("6 answers of %d candidates all in one order", want)
			}
		}
		check(trees * 3)
		for i := range trees {
			random.must(204, "PUT", fmt.Sprintf("/allocations/cccccccc-0000-4000-8000-%012d", i), map[string]any{
				"allocations": map[string]any{
					uuid(i, 0): map[string]any{"resources": map[string]int{"DISK_GB": 10}},
					uuid(i, 1): map[string]any{"resources": map[string]int{"VCPU": 1}},
					uuid(i, 2): map[string]any{"resources": map[string]int{"FPGA": 1}},
				},
				"project_id": "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"})
			check(trees*3 - i - 1)
		}
		// A structural change: one tree's NUMA node loses its trait.
		random.must(200, "PUT", "/resource_providers/"+uuid(0, 1)+"/traits", map[string]any{
			"resource_provider_generation": 3, "traits": []string{}})
		check(trees*3 - trees - 2)
		random.must(204, "DELETE", "/allocations/cccccccc-0000-4000-8000-000000000003", nil)
		check(trees*3 - trees - 1)
	})
}

// TestUnlimitedCandidatesUnderConcurrentWrites reads unlimited answers from several clients
// while allocations are written (run it with -race): every answer is whole, has between the
// final and the initial number of candidates, and once the writes stop the answer is the
// limited query's.
func TestUnlimitedCandidatesUnderConcurrentWrites(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	c := candidateServer(t, db, placementapi.CandidateOptions{Randomize: true, Max: 100000})
	const trees = 12
	uuid := func(i int) string { return fmt.Sprintf("%08d-0000-4000-8000-000000000000", i) }
	for i := range trees {
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": uuid(i), "name": uuid(i)})
		c.must(200, "PUT", "/resource_providers/"+uuid(i)+"/inventories", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 2}}})
	}
	const q = "/allocation_candidates?resources=VCPU:2"
	done := make(chan struct{})
	errs := make(chan string, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- ""
					return
				default:
				}
				// not c.do: it would end the test from this goroutine
				req, _ := http.NewRequest("GET", c.url+q, nil)
				req.Header.Set("X-Auth-Token", "admin")
				req.Header.Set("OpenStack-API-Version", "placement 1.39")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				var doc struct {
					ARs []json.RawMessage `json:"allocation_requests"`
				}
				err = json.NewDecoder(resp.Body).Decode(&doc)
				resp.Body.Close()
				if resp.StatusCode != 200 || err != nil || len(doc.ARs) < trees/2 || len(doc.ARs) > trees {
					errs <- fmt.Sprintf("status %d, %d candidates, %v", resp.StatusCode, len(doc.ARs), err)
					return
				}
			}
		}()
	}
	for i := range trees / 2 {
		c.must(204, "PUT", fmt.Sprintf("/allocations/cccccccc-0000-4000-8000-%012d", i), map[string]any{
			"allocations": map[string]any{uuid(i): map[string]any{"resources": map[string]int{"VCPU": 2}}},
			"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"})
	}
	close(done)
	for range 4 {
		if e := <-errs; e != "" {
			t.Fatal(e)
		}
	}
	got, gotSums := answerOf(t, c.must(200, "GET", q, nil))
	want, wantSums := answerOf(t, c.must(200, "GET", q+"&limit=100", nil))
	slices.Sort(got)
	slices.Sort(want)
	if len(got) != trees/2 || !slices.Equal(got, want) || !slices.Equal(gotSums, wantSums) {
		t.Errorf("after the writes: %d candidates %v\nwant %v", len(got), got, want)
	}
}
