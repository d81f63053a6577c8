package instanceapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"ingot/internal/baremetal"
	"ingot/internal/instanceapi"
	"ingot/internal/policy"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// The catalogue every test database has: what a tracker would have created for nodes of
// Ironic class "baremetal-gold" with a rack trait, and one node's provider.
const (
	goldClass = "baremetal-gold"
	rackTrait = "CUSTOM_RACK_1"
	node1     = "11111111-2222-4333-8444-555555555555"
	agg1      = "aaaaaaaa-0000-4000-8000-000000000001"
)

// env is the real handler over a fresh database, served by httptest.
type env struct {
	db  *store.DB
	srv *httptest.Server
	// notified counts the handler's Notify calls.
	notified atomic.Int64
}

func newEnv(t testing.TB, db *store.DB, enforceNew bool) *env {
	t.Helper()
	ctx := context.Background()
	if _, err := db.EnsureResourceClass(ctx, "CUSTOM_BAREMETAL_GOLD"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.EnsureTrait(ctx, rackTrait); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateProvider(ctx, store.NewProvider{UUID: node1, Name: "node-1"}); err != nil {
		t.Fatal(err)
	}
	enf, err := policy.New(policy.Options{EnforceNewDefaults: enforceNew})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db}
	e.srv = httptest.NewServer(instanceapi.New(db, instanceapi.Options{Policy: enf, Notify: func() { e.notified.Add(1) }}))
	t.Cleanup(e.srv.Close)
	return e
}

// each runs fn on SQLite and PostgreSQL with new defaults enforced.
func each(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { fn(t, newEnv(t, db, true)) })
}

// caller is who sends a request: noauth2 headers.
type caller struct {
	token   string
	roles   string // X-Roles, when not empty
	project string // X-Project-Id, when not empty
	system  bool
}

var (
	admin       = caller{token: "admin"}
	alice       = caller{token: "alice:p1", roles: "member,reader"}
	aliceReader = caller{token: "carol:p1", roles: "reader"}
	bob         = caller{token: "bob:p2", roles: "member,reader"}
	nobody      = caller{}
)

type response struct {
	status int
	header http.Header
	body   []byte
}

// detail returns the first error's detail.
func (r response) detail() string {
	var eb struct {
		Errors []struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
			Code   string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(r.body, &eb) != nil || len(eb.Errors) == 0 {
		return ""
	}
	return eb.Errors[0].Detail
}

func (e *env) do(t *testing.T, c caller, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, ct = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("X-Auth-Token", c.token)
	}
	if c.roles != "" {
		req.Header.Set("X-Roles", c.roles)
	}
	if c.project != "" {
		req.Header.Set("X-Project-Id", c.project)
	}
	if c.system {
		req.Header.Set("OpenStack-System-Scope", "all")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// instance decodes an instance answer, failing unless the status is one of want.
func (r response) instance(t *testing.T, want ...int) instanceapi.Instance {
	t.Helper()
	ok := false
	for _, w := range want {
		ok = ok || r.status == w
	}
	if !ok {
		t.Fatalf("status %d, want %v: %s", r.status, want, r.body)
	}
	var in instanceapi.Instance
	if err := json.Unmarshal(r.body, &in); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return in
}

func (r response) list(t *testing.T) instanceapi.List {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("list: status %d: %s", r.status, r.body)
	}
	var l instanceapi.List
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return l
}

// validBody is a create request that passes every check.
func validBody(uuid string) map[string]any {
	b := map[string]any{
		"name": "web-1",
		"request": map[string]any{
			"resource_class":  goldClass,
			"required_traits": []string{rackTrait},
			"member_of":       [][]string{{agg1}},
		},
		"image": map[string]any{
			"image_source":   "http://images.example/web.qcow2",
			"image_checksum": "0123456789abcdef0123456789abcdef",
		},
		"config_drive": map[string]any{
			"user_data":   "#cloud-config\n",
			"public_keys": map[string]string{"default": "ssh-ed25519 AAAAC3Nza test"},
		},
	}
	if uuid != "" {
		b["uuid"] = uuid
	}
	return b
}

// count returns how many instance records exist, deleted ones included.
func (e *env) count(t testing.TB) int {
	t.Helper()
	ins, err := e.db.ListInstances(context.Background(), store.InstanceFilter{IncludeDeleted: true})
	if err != nil {
		t.Fatal(err)
	}
	return len(ins)
}

// setState moves an instance along allowed states, as the controller would.
func (e *env) setState(t *testing.T, uuid string, states ...baremetal.State) baremetal.Instance {
	t.Helper()
	in, err := e.db.Instance(context.Background(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		in.State = s
		if s == baremetal.StateDeleted {
			in.Node = ""
		}
		if in, err = e.db.UpdateInstance(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

func openSQLite(t *testing.T) *store.DB { return storetest.Open(t, storetest.SQLite) }

// doType posts body with a Content-Type.
func (e *env) doType(t *testing.T, c caller, body, ctype string) response {
	t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+"/v1/instances", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("X-Auth-Token", c.token)
	if c.roles != "" {
		req.Header.Set("X-Roles", c.roles)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}
