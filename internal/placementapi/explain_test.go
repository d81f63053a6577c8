package placementapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"testing"

	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// newExplainServer serves the Placement API with the explain call mounted at its path, as
// app does.
func newExplainServer(t testing.TB, db *store.DB) *client {
	t.Helper()
	enf, err := policy.New(policy.Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	p := placementapi.New(db, placementapi.Options{Policy: enf})
	mux := http.NewServeMux()
	mux.Handle("/", p)
	mux.Handle(placementapi.ExplainPath, p.Explain())
	mux.Handle(placementapi.ExplainPath+"/", p.Explain())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &client{t: t, url: srv.URL, mv: "latest"}
}

type explainAnswer struct {
	Providers int `json:"providers"`
	Groups    []struct {
		Group      string `json:"group"`
		Suffix     string `json:"suffix"`
		Considered int    `json:"considered"`
		Steps      []struct {
			Step       string `json:"step"`
			Considered int    `json:"considered"`
			Removed    int    `json:"removed"`
			Kept       int    `json:"kept"`
			Causes     []struct {
				Cause   string `json:"cause"`
				Removed int    `json:"removed"`
			} `json:"causes"`
			Examples []struct {
				UUID string `json:"uuid"`
				Name string `json:"name"`
			} `json:"examples"`
		} `json:"steps"`
		Eligible         int `json:"eligible"`
		EligibleExamples []struct {
			UUID string `json:"uuid"`
			Name string `json:"name"`
		} `json:"eligible_examples"`
		Summary string `json:"summary"`
	} `json:"groups"`
	Combination struct {
		GroupPolicy         string `json:"group_policy"`
		Trees               int    `json:"trees"`
		TreesWithCandidates int    `json:"trees_with_candidates"`
		RejectedChoices     []struct {
			Reason  string `json:"reason"`
			Choices int    `json:"choices"`
		} `json:"rejected_choices"`
		CandidatesFound    int     `json:"candidates_found"`
		CandidatesReturned int     `json:"candidates_returned"`
		Limit              *int    `json:"limit"`
		Stopped            *string `json:"stopped"`
		Summary            string  `json:"summary"`
	} `json:"combination"`
}

// explainFleet makes five providers of CUSTOM_GOLD: cn1 free with AVX2, cn2 free without,
// cn3 allocated, cn4 reserved, cn5 without the class.
func explainFleet(t *testing.T, c *client) map[string]string {
	uuids := map[string]string{}
	c.must(201, "PUT", "/resource_classes/CUSTOM_GOLD", nil)
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("cn%d", i)
		u := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
		uuids[name] = u
		c.must(200, "POST", "/resource_providers", map[string]any{"uuid": u, "name": name})
		inv := map[string]any{"total": 1}
		switch i {
		case 4:
			inv["reserved"] = 1
		case 5:
			inv = nil
		}
		if inv != nil {
			c.must(200, "PUT", "/resource_providers/"+u+"/inventories", map[string]any{
				"resource_provider_generation": 0, "inventories": map[string]any{"CUSTOM_GOLD": inv}})
		}
	}
	c.must(200, "PUT", "/resource_providers/"+uuids["cn1"]+"/traits", map[string]any{
		"resource_provider_generation": 1, "traits": []string{"HW_CPU_X86_AVX2"}})
	c.must(204, "PUT", "/allocations/99999999-0000-4000-8000-000000000000", map[string]any{
		"allocations": map[string]any{uuids["cn3"]: map[string]any{"resources": map[string]any{"CUSTOM_GOLD": 1}}},
		"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"})
	return uuids
}

// candidateProviders lists, per group suffix, the providers GET /allocation_candidates
// maps to it.
func candidateProviders(t *testing.T, c *client, query string) map[string][]string {
	var body struct {
		AllocationRequests []struct {
			Mappings map[string][]string `json:"mappings"`
		} `json:"allocation_requests"`
	}
	r := c.must(200, "GET", "/allocation_candidates?"+query, nil)
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, ar := range body.AllocationRequests {
		for sfx, ps := range ar.Mappings {
			for _, p := range ps {
				if !slices.Contains(out[sfx], p) {
					out[sfx] = append(out[sfx], p)
				}
			}
		}
	}
	for _, ps := range out {
		sort.Strings(ps)
	}
	return out
}

func TestExplainCandidates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newExplainServer(t, db)
		uuids := explainFleet(t, c)
		for _, tc := range []struct {
			query    string
			removed  map[string]int
			eligible []string
			rejected map[string]int
		}{
			{"resources=CUSTOM_GOLD:1&required=HW_CPU_X86_AVX2",
				map[string]int{"resource_class": 1, "capacity": 2, "combination": 1}, []string{"cn1"},
				map[string]int{"required_traits": 1}},
			{"resources1=CUSTOM_GOLD:1&required1=HW_CPU_X86_AVX2",
				map[string]int{"resource_class": 1, "capacity": 2, "required_traits": 1}, []string{"cn1"}, nil},
			{"resources=CUSTOM_GOLD:1&required=!HW_CPU_X86_AVX2",
				map[string]int{"resource_class": 1, "capacity": 2, "forbidden_traits": 1}, []string{"cn2"}, nil},
			{"resources=CUSTOM_GOLD:1&limit=1",
				map[string]int{"resource_class": 1, "capacity": 2, "combination": 1}, []string{"cn1"}, nil},
			{"resources=CUSTOM_GOLD:1&in_tree=" + uuids["cn2"],
				map[string]int{"in_tree": 4}, []string{"cn2"}, nil},
		} {
			r := c.must(200, "GET", placementapi.ExplainPath+"?"+tc.query, nil)
			if r.header.Get("Openstack-Api-Version") == "" {
				t.Errorf("%s: no OpenStack-API-Version header", tc.query)
			}
			var e explainAnswer
			if err := json.Unmarshal(r.body, &e); err != nil {
				t.Fatalf("%s: %v\n%s", tc.query, err, r.body)
			}
			if e.Providers != 5 || len(e.Groups) != 1 || e.Groups[0].Considered != 5 {
				t.Fatalf("%s: %s", tc.query, r.body)
			}
			g := e.Groups[0]
			for _, s := range g.Steps {
				if s.Removed != tc.removed[s.Step] || s.Kept != s.Considered-s.Removed || len(s.Examples) != min(s.Removed, 3) {
					t.Errorf("%s: step %s removed %d (kept %d of %d, %d examples), want %d", tc.query, s.Step, s.Removed, s.Kept, s.Considered, len(s.Examples), tc.removed[s.Step])
				}
			}
			var eligible []string
			for _, ex := range g.EligibleExamples {
				eligible = append(eligible, ex.Name)
			}
			if g.Eligible != len(tc.eligible) || !slices.Equal(eligible, tc.eligible) {
				t.Errorf("%s: eligible %d %v, want %v", tc.query, g.Eligible, eligible, tc.eligible)
			}
			// The real call agrees: the same providers, the same number of candidates.
			var want []string
			for _, n := range tc.eligible {
				want = append(want, uuids[n])
			}
			if got := candidateProviders(t, c, tc.query)[g.Suffix]; !slices.Equal(got, want) {
				t.Errorf("%s: GET /allocation_candidates uses %v, explain says %v", tc.query, got, want)
			}
			rejected := map[string]int{}
			for _, rc := range e.Combination.RejectedChoices {
				rejected[rc.Reason] = rc.Choices
			}
			if len(rejected) != len(tc.rejected) {
				t.Errorf("%s: rejected %v, want %v", tc.query, rejected, tc.rejected)
			}
			for k, n := range tc.rejected {
				if rejected[k] != n {
					t.Errorf("%s: rejected %v, want %v", tc.query, rejected, tc.rejected)
				}
			}
			if g.Summary == "" || e.Combination.Summary == "" || e.Combination.Trees != 5 {
				t.Errorf("%s: %s", tc.query, r.body)
			}
		}
		// Capacity says which providers are in use and which reserved.
		r := c.must(200, "GET", placementapi.ExplainPath+"?resources=CUSTOM_GOLD:1", nil)
		var e explainAnswer
		if err := json.Unmarshal(r.body, &e); err != nil {
			t.Fatal(err)
		}
		for _, s := range e.Groups[0].Steps {
			if s.Step == "capacity" && (len(s.Causes) != 2 || s.Causes[0].Cause != "CUSTOM_GOLD (in use)" || s.Causes[1].Cause != "CUSTOM_GOLD (reserved)") {
				t.Errorf("capacity causes %+v", s.Causes)
			}
		}
	})
}

// TestExplainErrors checks that the explain call refuses what GET /allocation_candidates
// refuses, with the same status and body, and answers routing mistakes as Placement does.
func TestExplainErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newExplainServer(t, db)
		explainFleet(t, c)
		send := func(path, version, roles string) response {
			req, err := http.NewRequest("GET", c.url+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Auth-Token", "user")
			req.Header.Set("X-Roles", roles)
			req.Header.Set("X-Project-Id", "p")
			if version != "" {
				req.Header.Set("OpenStack-API-Version", "placement "+version)
			}
			return c.roundTrip(req)
		}
		type errBody struct {
			Errors []struct {
				Status int    `json:"status"`
				Code   string `json:"code"`
				Detail string `json:"detail"`
			} `json:"errors"`
		}
		for _, tc := range []struct {
			name, query, version, roles string
			status                      int
		}{
			{"unknown key", "resources=CUSTOM_GOLD:1&bogus=1", "latest", "admin", 400},
			{"unknown class", "resources=CUSTOM_NOPE:1", "latest", "admin", 400},
			{"unknown trait", "resources=CUSTOM_GOLD:1&required=CUSTOM_NOPE", "latest", "admin", 400},
			{"bad amount", "resources=CUSTOM_GOLD:0", "latest", "admin", 400},
			{"no group_policy", "resources1=CUSTOM_GOLD:1&resources2=CUSTOM_GOLD:1", "latest", "admin", 400},
			{"root_required twice", "resources=CUSTOM_GOLD:1&root_required=HW_CPU_X86_AVX2&root_required=HW_CPU_X86_AVX2", "latest", "admin", 400},
			{"suffix before 1.33", "resources_A=CUSTOM_GOLD:1", "1.32", "admin", 400},
			{"no resources", "", "latest", "admin", 400},
			{"below 1.10", "resources=CUSTOM_GOLD:1", "1.9", "admin", 404},
			{"bad version", "resources=CUSTOM_GOLD:1", "1.x", "admin", 400},
			{"version too high", "resources=CUSTOM_GOLD:1", "1.99", "admin", 406},
			{"policy", "resources=CUSTOM_GOLD:1", "latest", "member", 403},
		} {
			want := send("/allocation_candidates?"+tc.query, tc.version, tc.roles)
			got := send(placementapi.ExplainPath+"?"+tc.query, tc.version, tc.roles)
			if want.status != tc.status || got.status != tc.status {
				t.Errorf("%s: explain %d, allocation_candidates %d, want %d\n%s", tc.name, got.status, want.status, tc.status, got.body)
				continue
			}
			var we, ge errBody
			if err := json.Unmarshal(want.body, &we); err != nil || len(we.Errors) != 1 {
				t.Fatalf("%s: %v %s", tc.name, err, want.body)
			}
			if err := json.Unmarshal(got.body, &ge); err != nil || len(ge.Errors) != 1 {
				t.Fatalf("%s: %v %s", tc.name, err, got.body)
			}
			if ge.Errors[0].Code != we.Errors[0].Code || ge.Errors[0].Detail != we.Errors[0].Detail || ge.Errors[0].Status != tc.status {
				t.Errorf("%s: explain error %+v, allocation_candidates %+v", tc.name, ge.Errors[0], we.Errors[0])
			}
		}
		// Routing: another method, a path below, as Placement answers them.
		r := c.do("POST", placementapi.ExplainPath, map[string]any{})
		if r.status != 405 || r.header.Get("Allow") != "GET" {
			t.Errorf("POST: %d, Allow %q", r.status, r.header.Get("Allow"))
		}
		if r := c.do("GET", placementapi.ExplainPath+"/more?resources=CUSTOM_GOLD:1", nil); r.status != 404 {
			t.Errorf("a path below: %d", r.status)
		}
		req, _ := http.NewRequest("GET", c.url+placementapi.ExplainPath+"?resources=CUSTOM_GOLD:1", nil)
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("X-Roles", "admin")
		req.Header.Set("Accept", "text/html")
		req.Header.Set("OpenStack-API-Version", "placement latest")
		if r := c.roundTrip(req); r.status != 406 {
			t.Errorf("Accept: text/html: %d", r.status)
		}
	})
}
