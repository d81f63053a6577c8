package ui_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"ingot/internal/ironic"
)

type nodesPage struct {
	Total int `json:"total"`
	Nodes []struct {
		UUID           string `json:"uuid"`
		Name           string `json:"name"`
		Class          string `json:"class"`
		ProvisionState string `json:"provision_state"`
		Maintenance    bool   `json:"maintenance"`
		Tracker        string `json:"tracker"`
		Reserved       int64  `json:"reserved"`
		Used           int64  `json:"used"`
		ConductorGroup string `json:"conductor_group"`
		Owner          string `json:"owner"`
		Problem        string `json:"problem"`
		Instance       string `json:"instance"`
	} `json:"nodes"`
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode: %v: %s", err, rec.Body)
	}
	return v
}

// TestNodeFilters checks each server-side filter against the fleet's definition, and
// that pages cover every match once.
func TestNodeFilters(t *testing.T) {
	const n = 400
	f := newFleet(t, n, 40)
	count := func(pred func(i int, nd ironic.Node) bool) int {
		c := 0
		for i := range n {
			if pred(i, fleetNode(i)) {
				c++
			}
		}
		return c
	}
	tests := []struct {
		query string
		want  int
	}{
		{"", n},
		{"maintenance=true", wantMaintenance(n)},
		{"maintenance=false", n - wantMaintenance(n)},
		{"problem=true", count(func(_ int, nd ironic.Node) bool {
			return nd.Fault != "" || nd.LastError != "" || nd.ProvisionState == ironic.ProvisionStateCleanFailed
		})},
		{"cleaning=true", count(func(_ int, nd ironic.Node) bool {
			return nd.ProvisionState == ironic.ProvisionStateCleaning || nd.ProvisionState == ironic.ProvisionStateCleanFailed
		})},
		{"provision_state=clean+failed", count(func(_ int, nd ironic.Node) bool { return nd.ProvisionState == "clean failed" })},
		{"conductor_group=rack-b", count(func(i int, _ ironic.Node) bool { return i%4 == 1 })},
		{"owner=team-ml", count(func(i int, _ ironic.Node) bool { return i%5 == 3 })},
		{"owner=-", count(func(i int, _ ironic.Node) bool { return i%5 == 0 })},
		{"resource_class=CUSTOM_BAREMETAL_GOLD", count(func(i int, _ ironic.Node) bool { return i%3 == 0 })},
		{"conductor_group=rack-a&resource_class=CUSTOM_BAREMETAL_GOLD", count(func(i int, _ ironic.Node) bool { return i%12 == 0 })},
		{"allocated=true", 40},
		{"tracker=managed", n},
		{"tracker=orphaned", 0},
		{"q=node-0039", 10}, // node-00390 ... node-00399
		{"q=NODE-00042", 1},
		{"q=" + f.ids[7][:13], 1},
	}
	for _, tc := range tests {
		p := decode[nodesPage](t, f.get(t, "/ui/api/nodes?limit=1000&"+tc.query))
		if p.Total != tc.want || len(p.Nodes) != tc.want {
			t.Errorf("%q: total %d, %d rows, want %d", tc.query, p.Total, len(p.Nodes), tc.want)
		}
	}
	// Maintenance rows are exactly the maintenance nodes, each reserved.
	for _, row := range decode[nodesPage](t, f.get(t, "/ui/api/nodes?limit=1000&maintenance=true")).Nodes {
		if !row.Maintenance || row.Reserved != 1 {
			t.Errorf("maintenance filter returned %+v", row)
		}
	}
	// Pages of 37 cover every node once, in name order.
	seen := map[string]bool{}
	last := ""
	for off := 0; off < n; off += 37 {
		p := decode[nodesPage](t, f.get(t, "/ui/api/nodes?limit=37&offset="+itoa(off)))
		for _, row := range p.Nodes {
			if seen[row.UUID] || row.Name <= last {
				t.Fatalf("page at %d: %s repeated or out of order after %s", off, row.Name, last)
			}
			seen[row.UUID], last = true, row.Name
		}
	}
	if len(seen) != n {
		t.Errorf("pages covered %d nodes, want %d", len(seen), n)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestNodePage checks one node's page: Ironic's fields, the record, the provider with its
// inventory, traits, aggregates and allocation, and the instance.
func TestNodePage(t *testing.T) {
	f := newFleet(t, 50, 5)
	type detail struct {
		Node     struct{ Name, Instance string }
		Ironic   map[string]any
		Record   map[string]any
		Provider struct {
			Inventories []struct {
				Class       string
				Total, Used int64
				Reserved    int64
			}
			Traits     []string
			Aggregates []struct{ UUID, Label string }
		}
		Allocations []struct{ Consumer string }
		Instance    *struct{ Name, State string }
	}
	d := decode[detail](t, f.get(t, "/ui/api/nodes/"+f.ids[0]))
	if d.Node.Name != "node-00000" || d.Ironic["conductor_group"] != "rack-a" || d.Record["state"] != "managed" {
		t.Errorf("node page: %+v %v %v", d.Node, d.Ironic, d.Record)
	}
	if len(d.Provider.Inventories) != 1 || d.Provider.Inventories[0].Class != "CUSTOM_BAREMETAL_GOLD" ||
		d.Provider.Inventories[0].Used != 1 {
		t.Errorf("inventories %+v", d.Provider.Inventories)
	}
	if strings.Join(d.Provider.Traits, ",") != "CUSTOM_RACK_0" || len(d.Provider.Aggregates) != 1 ||
		d.Provider.Aggregates[0].Label != "conductor group rack-a" {
		t.Errorf("traits %v aggregates %+v", d.Provider.Traits, d.Provider.Aggregates)
	}
	if len(d.Allocations) != 1 || d.Instance == nil || d.Instance.Name != "vm-00000" || d.Instance.State != "error" {
		t.Errorf("allocations %+v instance %+v", d.Allocations, d.Instance)
	}
	// By name too; unknown: 404 with a Placement-style body.
	if rec := f.get(t, "/ui/api/nodes/node-00001"); rec.Code != http.StatusOK {
		t.Errorf("by name: %d", rec.Code)
	}
	rec := f.get(t, "/ui/api/nodes/nope")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"errors"`) {
		t.Errorf("unknown node: %d %s", rec.Code, rec.Body)
	}
}

// TestAuthAndErrors checks that the data needs a token and ingot:fleet:read, that the
// page and static files do not, and that bad parameters are 400s with Placement's body.
func TestAuthAndErrors(t *testing.T) {
	f := newFleet(t, 10, 0)
	do := func(path string, header map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct {
		path   string
		header map[string]string
		want   int
	}{
		{"/ui/api/summary", nil, http.StatusUnauthorized},
		{"/ui/api/nodes", map[string]string{"X-Auth-Token": "alice", "X-Roles": "member,reader"}, http.StatusForbidden},
		{"/ui/api/nodes", map[string]string{"X-Auth-Token": "nova", "X-Roles": "service"}, http.StatusOK},
		{"/ui/api/summary", map[string]string{"X-Auth-Token": "admin"}, http.StatusOK},
		{"/ui/", nil, http.StatusOK},
		{"/ui/static/app.js", nil, http.StatusOK},
		{"/ui/api/config", nil, http.StatusOK},
		{"/ui/api/nodes?limit=0", map[string]string{"X-Auth-Token": "admin"}, http.StatusBadRequest},
		{"/ui/api/nodes?limit=x", map[string]string{"X-Auth-Token": "admin"}, http.StatusBadRequest},
		{"/ui/api/nodes?offset=-1", map[string]string{"X-Auth-Token": "admin"}, http.StatusBadRequest},
		{"/ui/api/nodes?maintenance=maybe", map[string]string{"X-Auth-Token": "admin"}, http.StatusBadRequest},
		{"/ui/api/nodes?tracker=lost", map[string]string{"X-Auth-Token": "admin"}, http.StatusBadRequest},
		{"/ui/api/instances?state=flying", map[string]string{"X-Auth-Token": "admin"}, http.StatusBadRequest},
		{"/ui/api/nope", map[string]string{"X-Auth-Token": "admin"}, http.StatusNotFound},
		{"/ui/nope", nil, http.StatusNotFound},
	} {
		rec := do(tc.path, tc.header)
		if rec.Code != tc.want {
			t.Errorf("GET %s %v: %d, want %d: %s", tc.path, tc.header, rec.Code, tc.want, rec.Body)
		}
		if rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"errors"`) {
			t.Errorf("GET %s: error body %s is not Placement's", tc.path, rec.Body)
		}
	}
	if rec := do("/ui/", nil); !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("page without CSP: %v", rec.Header())
	}
	// Password login without Keystone is a 404 that says why.
	req := httptest.NewRequest(http.MethodPost, "/ui/api/login", strings.NewReader(`{"username":"a","password":"b","project":"c"}`))
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("login without keystone: %d %s", rec.Code, rec.Body)
	}
}

// TestWatchAndEvents checks that a long poll answers when a node changes in Ironic and
// the tracker passes, and that the change is recorded.
func TestWatchAndEvents(t *testing.T) {
	f := newFleet(t, 20, 0)
	v := decode[struct{ Version string }](t, f.get(t, "/ui/api/summary")).Version
	if !f.ironic.UpdateNode(f.ids[2], func(n *ironic.Node) { n.Maintenance = true }) {
		t.Fatal("no node")
	}
	if _, err := f.tracker.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	w := decode[struct {
		Version string
		Changed bool
	}](t, f.get(t, "/ui/api/watch?version="+v))
	if !w.Changed || w.Version == v {
		t.Fatalf("watch after a change: %+v (was %s)", w, v)
	}
	ev := decode[struct {
		Events []struct{ Node, Field, From, To string }
	}](t, f.get(t, "/ui/api/events?node="+f.ids[2]))
	found := map[string]string{}
	for _, e := range ev.Events {
		found[e.Field] = e.From + "->" + e.To
	}
	if found["maintenance"] != "off->on" || found["reserved"] != "0->1" {
		t.Errorf("events %+v", ev.Events)
	}
}

// TestInstanceFilters checks the instance list's filters and counts against the fleet's
// instances: every 20th in error with a fault, the rest active.
func TestInstanceFilters(t *testing.T) {
	f := newFleet(t, 200, 60)
	type page struct {
		Total     int
		Instances []struct {
			Name, State, Node string
		}
		Facets struct {
			Total, Faults int
			States        []struct {
				Value string
				Count int
			}
		}
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 60}, {"state=active", 57}, {"state=error", 3}, {"fault=true", 3}, {"fault=false", 57},
		{"state=building", 0}, {"q=vm-0001", 10}, {"q=vm-00042", 1},
	} {
		p := decode[page](t, f.get(t, "/ui/api/instances?limit=1000&"+tc.query))
		if p.Total != tc.want || len(p.Instances) != tc.want {
			t.Errorf("%q: total %d, %d rows, want %d", tc.query, p.Total, len(p.Instances), tc.want)
		}
		if p.Facets.Total != 60 || p.Facets.Faults != 3 {
			t.Errorf("%q: facets %+v", tc.query, p.Facets)
		}
	}
	// Paged newest first: the first of two pages of 30 starts with the last created.
	p := decode[page](t, f.get(t, "/ui/api/instances?limit=30"))
	if len(p.Instances) != 30 || p.Instances[0].Name != "vm-00059" {
		t.Errorf("first page: %d rows, first %+v", len(p.Instances), p.Instances[0])
	}
}
