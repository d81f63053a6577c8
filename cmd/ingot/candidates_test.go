package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"ingot/internal/app"
	"ingot/internal/app/apptest"
	"ingot/internal/instanceapi/client"
	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store/storetest"
)

// explainEnv serves the Placement API and the explain call over a real SQLite database
// holding three providers of CUSTOM_GOLD (node-1 with AVX2, node-2 without, node-3 in
// use) and one without it.
func explainEnv(t *testing.T) string {
	t.Helper()
	db := storetest.Open(t, storetest.SQLite)
	enf, err := policy.New(policy.Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	p := placementapi.New(db, placementapi.Options{Policy: enf})
	mux := http.NewServeMux()
	mux.Handle("/", p)
	mux.Handle(placementapi.ExplainPath, p.Explain())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := &client.Client{URL: srv.URL, Token: "admin", Header: http.Header{"X-Roles": {"admin"}}}
	ctx := context.Background()
	must := func(method, path string, body any) {
		t.Helper()
		if _, err := c.Placement(ctx, method, path, body, nil); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	must("PUT", "/resource_classes/CUSTOM_GOLD", nil)
	for i := 1; i <= 4; i++ {
		u := fmt.Sprintf("%08d-0000-4000-8000-00000000000c", i)
		must("POST", "/resource_providers", map[string]any{"uuid": u, "name": fmt.Sprintf("node-%d", i)})
		if i < 4 {
			must("PUT", "/resource_providers/"+u+"/inventories", map[string]any{"resource_provider_generation": 0,
				"inventories": map[string]any{"CUSTOM_GOLD": map[string]any{"total": 1}}})
		}
		if i == 1 {
			must("PUT", "/resource_providers/"+u+"/traits", map[string]any{"resource_provider_generation": 1, "traits": []string{"HW_CPU_X86_AVX2"}})
		}
		if i == 3 {
			must("PUT", "/allocations/99999999-0000-4000-8000-00000000000c", map[string]any{
				"allocations": map[string]any{u: map[string]any{"resources": map[string]any{"CUSTOM_GOLD": 1}}},
				"project_id":  "p", "user_id": "u", "consumer_generation": nil, "consumer_type": "INSTANCE"})
		}
	}
	return srv.URL
}

func runCandidates(t *testing.T, url string, args ...string) (int, string, string) {
	t.Helper()
	env := map[string]string{"INGOT_URL": url, "INGOT_TOKEN": "admin", "INGOT_ROLES": "admin"}
	var out, errOut bytes.Buffer
	code := candidatesCmd(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCandidatesExplainCLI(t *testing.T) {
	url := explainEnv(t)

	code, out, errOut := runCandidates(t, url, "explain", "--group", "1 resources=CUSTOM_GOLD:1 required=HW_CPU_X86_AVX2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Group resources1: 1 of 4 providers eligible; 1 resource_class [CUSTOM_GOLD: 1], 1 capacity [CUSTOM_GOLD (in use): 1], 1 required_traits [HW_CPU_X86_AVX2: 1]",
		"| resource_class       | 4          | 1       | 3    | CUSTOM_GOLD: 1 ",
		"| required_traits      | 2          | 1       | 1    | HW_CPU_X86_AVX2: 1 ",
		"| eligible ",
		"node-1",
		"Combination (group_policy none), in trees: 1 of 4 trees with candidates; 3 group_empty",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// -f json is the API's answer, and the unsuffixed flags build the same query as --query.
	code, out, errOut = runCandidates(t, url, "explain", "-f", "json", "--resources", "CUSTOM_GOLD:1", "--required", "!HW_CPU_X86_AVX2", "--limit", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var fromFlags map[string]any
	if err := json.Unmarshal([]byte(out), &fromFlags); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	_, out2, _ := runCandidates(t, url, "explain", "-f", "json", "--query", "resources=CUSTOM_GOLD:1&required=!HW_CPU_X86_AVX2&limit=5")
	if out2 != out {
		t.Errorf("--query answer differs from the flags':\n%s\n%s", out2, out)
	}
	if g := fromFlags["groups"].([]any)[0].(map[string]any); g["eligible"] != 1.0 {
		t.Errorf("eligible = %v", g["eligible"])
	}

	// Refusals: the API's (exit 1, with its message), and usage mistakes (exit 2).
	if code, _, errOut := runCandidates(t, url, "explain", "--resources", "CUSTOM_NOPE:1"); code != 1 || !strings.Contains(errOut, "No such resource class CUSTOM_NOPE") {
		t.Errorf("unknown class: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runCandidates(t, url, "explain", "--resources", "CUSTOM_GOLD:1", "--microversion", "1.9"); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("microversion 1.9: exit %d, %s", code, errOut)
	}
	for _, args := range [][]string{
		{"explain"},
		{"explain", "--group", "1"},
		{"explain", "--group", "1 bogus=1"},
		{"explain", "--group", "1 resources"},
		{"explain", "--query", "resources=VCPU:1", "--resources", "VCPU:1"},
		{"explain", "extra"},
		{"frobnicate"},
	} {
		if code, _, errOut := runCandidates(t, url, args...); code != 2 {
			t.Errorf("%q: exit %d (%s), want 2", args, code, errOut)
		}
	}
}

func TestExplainQuery(t *testing.T) {
	q, err := explainQuery("VCPU:1,MEMORY_MB:512", []string{"HW_CPU_X86_AVX2", "in:A,B"}, []string{"in:x,y"}, "",
		[]string{"_NIC resources=SRIOV_NET_VF:1 required=CUSTOM_PHYSNET1", "_GPU resources=VGPU:1"},
		"isolate", "!CUSTOM_X", []string{"_NIC,_GPU"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := "resources=VCPU%3A1%2CMEMORY_MB%3A512&required=HW_CPU_X86_AVX2&required=in%3AA%2CB&member_of=in%3Ax%2Cy" +
		"&resources_NIC=SRIOV_NET_VF%3A1&required_NIC=CUSTOM_PHYSNET1&resources_GPU=VGPU%3A1" +
		"&group_policy=isolate&root_required=%21CUSTOM_X&same_subtree=_NIC%2C_GPU&limit=3"
	if q != want {
		t.Errorf("query\n got %s\nwant %s", q, want)
	}
	if client.ExplainPath != placementapi.ExplainPath {
		t.Errorf("the client calls %s; the API serves %s", client.ExplainPath, placementapi.ExplainPath)
	}
}

// TestExplainMounted runs the whole server (app.Run) and explains through it: the call is
// mounted beside the Placement API.
func TestExplainMounted(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "ingot.db")
	addr := apptest.Serve(t, cfg, slog.New(slog.DiscardHandler))
	code, out, errOut := runCandidates(t, "http://"+addr.String(), "explain", "--resources", "VCPU:1")
	if code != 0 || !strings.Contains(out, "Group resources: 0 of 0 providers eligible") {
		t.Errorf("explain through app.Run: exit %d\n%s%s", code, out, errOut)
	}
}
