package replicaapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/policy"
	"ingot/internal/replicaapi"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

const node = "11111111-2222-4333-8444-555555555555"

func get(t *testing.T, h http.Handler, method, path, roles string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	r.Header.Set("X-Auth-Token", "admin")
	r.Header.Set("X-Roles", roles)
	r.Header.Set("X-Project-Id", "p")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var body map[string]any
	if w.Body.Len() > 0 && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, w.Body)
		}
	}
	return w.Code, body
}

func handler(t *testing.T, db *store.DB) http.Handler {
	enf, err := policy.New(policy.Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	return replicaapi.New(db, replicaapi.Options{Policy: enf, Self: replicaapi.Self{ID: "me", Address: "127.0.0.1:8778"}})
}

func TestErrors(t *testing.T) {
	h := handler(t, storetest.Open(t, storetest.SQLite))
	for _, tc := range []struct {
		method, path, roles string
		want                int
	}{
		{"GET", "/v1/replicas", "member,reader", http.StatusForbidden},
		{"GET", "/v1/nodes/" + node + "/owner", "reader", http.StatusForbidden},
		{"POST", "/v1/replicas", "admin", http.StatusMethodNotAllowed},
		{"GET", "/v1/nodes/not-a-uuid/owner", "admin", http.StatusBadRequest},
		{"GET", "/v1/nodes/" + node, "admin", http.StatusNotFound},
		{"GET", "/v1/nodes/" + node + "/owner", "admin", http.StatusNotFound},
	} {
		code, body := get(t, h, tc.method, tc.path, tc.roles)
		if code != tc.want || body["errors"] == nil {
			t.Errorf("%s %s as %s: %d %v, want %d with an error body", tc.method, tc.path, tc.roles, code, body, tc.want)
		}
	}
}

func TestSQLiteIsOneReplica(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	errs, err := db.WriteNodes(t.Context(), []store.NodeWrite{{NodeUUID: node, ProviderUUID: node, Provider: store.ProviderCreate,
		Name: "n", Record: store.RecordPut, Node: baremetal.NodeRecord{ProviderUUID: node, Scope: "s", State: baremetal.NodeManaged}}})
	if err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	h := handler(t, db)
	code, body := get(t, h, "GET", "/v1/replicas", "admin")
	rs, _ := body["replicas"].([]any)
	if code != 200 || len(rs) != 1 || rs[0].(map[string]any)["id"] != "me" || rs[0].(map[string]any)["nodes_owned"] != 1.0 {
		t.Fatalf("%d %v", code, body)
	}
	code, body = get(t, h, "GET", "/v1/nodes/"+strings.ToUpper(node)+"/owner", "admin")
	if code != 200 || body["replica"] != "me" || body["node_uuid"] != node {
		t.Fatalf("%d %v", code, body)
	}
}

func TestPostgresOwner(t *testing.T) {
	db := storetest.Open(t, storetest.Postgres)
	ctx := t.Context()
	if _, err := db.EnsureNodeOwners(ctx, []store.NodeScope{{Node: node, ConductorGroup: "g"}}); err != nil {
		t.Fatal(err)
	}
	h := handler(t, db)
	code, body := get(t, h, "GET", "/v1/nodes/"+node+"/owner", "admin")
	if code != 200 || body["replica"] != nil || body["epoch"] != 0.0 || body["conductor_group"] != "g" {
		t.Fatalf("unowned: %d %v", code, body)
	}
	if _, err := db.RegisterReplica(ctx, store.ReplicaInfo{ID: "r1", Incarnation: "i", Addr: "a:1"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimNodes(ctx, "r1", "", []string{node}); err != nil {
		t.Fatal(err)
	}
	code, body = get(t, h, "GET", "/v1/nodes/"+node+"/owner", "admin")
	if code != 200 || body["replica"] != "r1" || body["epoch"] != 1.0 || body["owned_for_seconds"] == nil {
		t.Fatalf("owned: %d %v", code, body)
	}
	code, body = get(t, h, "GET", "/v1/replicas", "admin")
	rs, _ := body["replicas"].([]any)
	if code != 200 || len(rs) != 1 {
		t.Fatalf("%d %v", code, body)
	}
	r := rs[0].(map[string]any)
	if r["id"] != "r1" || r["address"] != "a:1" || r["live"] != true || r["nodes_owned"] != 1.0 ||
		r["lease_remaining_seconds"].(float64) < 50 || r["incarnation"] != "i" {
		t.Fatalf("replica: %v", r)
	}
}
