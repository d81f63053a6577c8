package instanceapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"ingot/internal/baremetal"
	"ingot/internal/instanceapi"
)

const uuid1 = "0b7e6b0c-1f7a-4c55-9a44-5f1f2b3c4d01"

func TestCreateShowDelete(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		r := e.do(t, alice, "POST", "/v1/instances", validBody(strings.ToUpper(uuid1)))
		in := r.instance(t, http.StatusAccepted)
		if in.UUID != uuid1 || in.Name != "web-1" || in.ProjectID != "p1" || in.UserID != "alice" {
			t.Errorf("identity: %+v", in)
		}
		if in.State != "building" || in.Task != "scheduling" || in.Generation != 1 || in.Node != "" || in.Fault != nil {
			t.Errorf("initial state: %+v", in)
		}
		if in.Request.ResourceClass != goldClass || !slices.Equal(in.Request.Required, []string{rackTrait}) ||
			in.Image.Checksum == "" || in.ConfigDrive == nil || in.ConfigDrive.UserData != "#cloud-config\n" {
			t.Errorf("spec: %+v", in)
		}
		self := e.srv.URL + "/v1/instances/" + uuid1
		if r.header.Get("Location") != self || len(in.Links) != 1 || in.Links[0].Href != self {
			t.Errorf("location %q links %+v; want %s", r.header.Get("Location"), in.Links, self)
		}
		if r.header.Get("X-Openstack-Request-Id") == "" {
			t.Error("no request id")
		}

		shown := e.do(t, alice, "GET", "/v1/instances/"+uuid1, nil).instance(t, http.StatusOK)
		if diff := cmp.Diff(in, shown); diff != "" {
			t.Errorf("show differs from create (-create +show):\n%s", diff)
		}

		// The same request again (keys in another order, traits repeated): the existing
		// instance with 200, nothing written.
		again := validBody(uuid1)
		again["request"].(map[string]any)["required_traits"] = []string{rackTrait, rackTrait}
		same := e.do(t, alice, "POST", "/v1/instances", again).instance(t, http.StatusOK)
		if diff := cmp.Diff(in, same); diff != "" {
			t.Errorf("repeated create (-first +again):\n%s", diff)
		}
		// A different body with the same UUID: 409.
		other := validBody(uuid1)
		other["name"] = "web-2"
		if r := e.do(t, alice, "POST", "/v1/instances", other); r.status != http.StatusConflict ||
			!strings.Contains(r.detail(), "already exists with a different request") {
			t.Errorf("conflicting create: %d %s", r.status, r.body)
		}

		// Delete: 202 in deleting; again: 202 without a write.
		del := e.do(t, alice, "DELETE", "/v1/instances/"+uuid1, nil).instance(t, http.StatusAccepted)
		if del.State != "deleting" || del.Generation != 2 {
			t.Errorf("deleted: state %s gen %d", del.State, del.Generation)
		}
		del2 := e.do(t, alice, "DELETE", "/v1/instances/"+uuid1, nil).instance(t, http.StatusAccepted)
		if del2.Generation != 2 {
			t.Errorf("second delete wrote: gen %d", del2.Generation)
		}
		// Once deleted: shown, but not deleted again (404), and not listed by default.
		e.setState(t, uuid1, baremetal.StateDeleted)
		if s := e.do(t, alice, "GET", "/v1/instances/"+uuid1, nil).instance(t, http.StatusOK); s.State != "deleted" {
			t.Errorf("show deleted: %s", s.State)
		}
		if r := e.do(t, alice, "DELETE", "/v1/instances/"+uuid1, nil); r.status != http.StatusNotFound {
			t.Errorf("delete deleted: %d %s", r.status, r.body)
		}
		if l := e.do(t, alice, "GET", "/v1/instances", nil).list(t); len(l.Instances) != 0 {
			t.Errorf("default list shows deleted: %+v", l.Instances)
		}
		if l := e.do(t, alice, "GET", "/v1/instances?state=deleted", nil).list(t); len(l.Instances) != 1 || l.Instances[0].ConfigDrive != nil {
			t.Errorf("list state=deleted: %+v", l.Instances)
		}

		// Notified for the create and the move to deleting, not for the repeats.
		if n := e.notified.Load(); n != 2 {
			t.Errorf("notified %d times; want 2", n)
		}

		// Without a UUID the server makes one.
		gen := e.do(t, alice, "POST", "/v1/instances", validBody("")).instance(t, http.StatusAccepted)
		if _, err := url.Parse(gen.UUID); err != nil || len(gen.UUID) != 36 || gen.UUID == uuid1 {
			t.Errorf("generated uuid %q", gen.UUID)
		}
	})
}

// TestBadCreate sends bodies wrong in one way each: a 4xx with a clear detail, and nothing
// written.
func TestBadCreate(t *testing.T) {
	with := func(path string, v any) map[string]any {
		b := validBody(uuid1)
		parts := strings.Split(path, ".")
		m := b
		for _, p := range parts[:len(parts)-1] {
			m = m[p].(map[string]any)
		}
		if v == nil {
			delete(m, parts[len(parts)-1])
		} else {
			m[parts[len(parts)-1]] = v
		}
		return b
	}
	raw := func(v map[string]any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	tests := []struct {
		name   string
		who    caller
		body   any
		ctype  string
		status int
		detail string
	}{
		{"malformed json", alice, `{"name": `, "", 400, "Malformed JSON"},
		{"not an object", alice, `[1]`, "", 400, "must be a JSON object"},
		{"trailing data", alice, raw(validBody(uuid1)) + `{}`, "", 400, "Malformed JSON"},
		{"unknown field", alice, with("flavor", "big"), "", 400, `unknown field "flavor"`},
		{"unknown nested field", alice, with("image.kernel", "x"), "", 400, `unknown field "kernel"`},
		{"wrong type", alice, with("name", 5), "", 400, "name must be a string, not number"},
		{"malformed uuid", alice, with("uuid", "not-a-uuid"), "", 400, `Invalid uuid "not-a-uuid"`},
		{"long name", alice, with("name", strings.Repeat("n", 256)), "", 400, "Invalid name"},
		{"no resource class", alice, with("request.resource_class", nil), "", 400, "request.resource_class: empty"},
		{"unknown resource class", alice, with("request.resource_class", "baremetal-silver"), "", 400, "Unknown resource class \"baremetal-silver\" (resource class CUSTOM_BAREMETAL_SILVER)"},
		{"unknown trait", alice, with("request.required_traits", []string{"CUSTOM_NOPE"}), "", 400, `Unknown trait "CUSTOM_NOPE"`},
		{"unknown forbidden trait", alice, with("request.forbidden_traits", []string{"CUSTOM_NOPE"}), "", 400, `Unknown trait "CUSTOM_NOPE"`},
		{"required and forbidden", alice, with("request.forbidden_traits", []string{rackTrait}), "", 400, "both required and forbidden"},
		{"member_of not a uuid", alice, with("request.member_of", [][]string{{"rack-1"}}), "", 400, `"rack-1" is not an aggregate UUID`},
		{"member_of empty group", alice, with("request.member_of", [][]string{{}}), "", 400, "group 0 is empty"},
		{"capability name", alice, with("request.capabilities", map[string]string{"Boot Mode": "uefi"}), "", 400, `"Boot Mode" is not a capability name`},
		{"capability value", alice, with("request.capabilities", map[string]string{"boot_mode": "uefi,bios"}), "", 400, "request.capabilities.boot_mode: a non-empty value"},
		{"capability not a string", alice, with("request.capabilities", map[string]int{"cpus": 2}), "", 400, "must be a string"},
		{"member_of flat", alice, with("request.member_of", []string{agg1}), "", 400, "request.member_of must be a list, not string"},
		{"node pin by a member", alice, with("request.node", node1), "", 403, "ingot:instance:create:node_pin"},
		{"node pin malformed", admin, with("request.node", "node-1"), "", 400, "Invalid request.node"},
		{"node pin unknown", admin, with("request.node", "99999999-2222-4333-8444-555555555555"), "", 400, "Unknown node"},
		{"user data too large", alice, with("config_drive.user_data", strings.Repeat("x", instanceapi.MaxUserDataBytes+1)), "", 400, "more than the limit of 65536"},
		{"no image source", alice, with("image.image_source", nil), "", 400, "image_source is required"},
		{"bad image source", alice, with("image.image_source", "ftp://x/y"), "", 400, "Invalid image.image_source"},
		{"no checksum", alice, with("image.image_checksum", nil), "", 400, "image_checksum, or image_os_hash_algo and image_os_hash_value, are required"},
		{"bad hash algo", alice, with("image.image_os_hash_algo", "crc32"), "", 400, "Invalid image.image_os_hash_algo"},
		{"hash without value", alice, with("image.image_os_hash_algo", "sha256"), "", 400, "a hexadecimal digest is required"},
		{"empty key", alice, with("config_drive.public_keys", map[string]string{"k": ""}), "", 400, "a public key"},
		{"reserved meta_data", alice, with("config_drive.meta_data", map[string]string{"hostname": "x"}), "", 400, `"hostname" is set by ingot`},
		{"network_data not an object", alice, with("config_drive.network_data", []int{1}), "", 400, "network_data: a JSON object is required"},
		{"NUL in name", alice, with("name", "a\x00b"), "", 400, "a NUL character"},
		{"NUL in a key", alice, with("config_drive.meta_data", map[string]string{"a\x00": "b"}), "", 400, "a NUL character"},
		{"invalid UTF-8", alice, strings.Replace(raw(validBody(uuid1)), "web-1", "web-\xff", 1), "", 400, "not valid UTF-8"},
		{"body too large", alice, with("config_drive.meta_data", map[string]string{"big": strings.Repeat("x", instanceapi.MaxBodyBytes)}), "", 413, "larger than the limit"},
		{"wrong content type", alice, raw(validBody(uuid1)), "text/plain", 415, "use application/json"},
		{"reader may not create", aliceReader, validBody(uuid1), "", 403, "ingot:instance:create"},
		{"no token", nobody, validBody(uuid1), "", 401, "Authentication required"},
		{"system scope", caller{token: "admin", system: true}, validBody(uuid1), "", 403, "ingot:instance:create"},
	}
	each(t, func(t *testing.T, e *env) {
		for _, tt := range tests {
			var r response
			if tt.ctype != "" {
				r = e.doType(t, tt.who, tt.body.(string), tt.ctype)
			} else {
				r = e.do(t, tt.who, "POST", "/v1/instances", tt.body)
			}
			if r.status != tt.status || !strings.Contains(r.detail(), tt.detail) {
				t.Errorf("%s: %d %q; want %d with %q", tt.name, r.status, r.detail(), tt.status, tt.detail)
			}
			if n := e.count(t); n != 0 || e.notified.Load() != 0 {
				t.Fatalf("%s: %d instances written, %d notifications", tt.name, n, e.notified.Load())
			}
		}
		// The same body, valid, from an admin with a pinned node: accepted.
		in := e.do(t, admin, "POST", "/v1/instances", with("request.node", strings.ToUpper(node1))).instance(t, http.StatusAccepted)
		if in.Request.Node != node1 || in.ProjectID != "admin" {
			t.Errorf("pinned create: %+v", in)
		}
	})
}

func TestPolicy(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a := e.do(t, alice, "POST", "/v1/instances", validBody(uuid1)).instance(t, http.StatusAccepted)
		uuid2 := "0b7e6b0c-1f7a-4c55-9a44-5f1f2b3c4d02"
		e.do(t, bob, "POST", "/v1/instances", validBody(uuid2)).instance(t, http.StatusAccepted)

		for _, tt := range []struct {
			who    caller
			method string
			path   string
			status int
		}{
			{aliceReader, "GET", "/v1/instances/" + a.UUID, 200},
			{bob, "GET", "/v1/instances/" + a.UUID, 404}, // another project's: not revealed
			{bob, "DELETE", "/v1/instances/" + a.UUID, 404},
			{aliceReader, "DELETE", "/v1/instances/" + a.UUID, 403},
			{bob, "GET", "/v1/instances?project_id=p1", 403},
			{aliceReader, "GET", "/v1/instances?project_id=p1", 200},
			{caller{token: "admin", system: true}, "GET", "/v1/instances", 403},
			{caller{token: "dave:p1"}, "GET", "/v1/instances", 403}, // no roles
			{nobody, "GET", "/v1/instances", 401},
			{nobody, "GET", "/v1/instances/" + a.UUID, 401},
			{admin, "GET", "/v1/instances/" + a.UUID, 200},
		} {
			if r := e.do(t, tt.who, tt.method, tt.path, nil); r.status != tt.status {
				t.Errorf("%s %s %s: %d, want %d: %s", tt.who.token, tt.method, tt.path, r.status, tt.status, r.body)
			}
		}
		// Members see their own project; admins every project, or the one they ask for.
		names := func(c caller, q string) []string {
			var out []string
			for _, in := range e.do(t, c, "GET", "/v1/instances"+q, nil).list(t).Instances {
				out = append(out, in.ProjectID)
			}
			return out
		}
		for _, tt := range []struct {
			who  caller
			q    string
			want []string
		}{
			{alice, "", []string{"p1"}},
			{bob, "", []string{"p2"}},
			{bob, "?project_id=p2", []string{"p2"}},
			{admin, "", []string{"p1", "p2"}},
			{admin, "?project_id=p2", []string{"p2"}},
		} {
			if got := names(tt.who, tt.q); !slices.Equal(got, tt.want) {
				t.Errorf("%s lists %q: %q, want %q", tt.who.token, tt.q, got, tt.want)
			}
		}
		if r := e.do(t, admin, "DELETE", "/v1/instances/"+a.UUID, nil); r.status != http.StatusAccepted {
			t.Errorf("admin delete: %d %s", r.status, r.body)
		}
	})
}

// TestLegacyPolicy: with enforce_new_defaults false a role-less token acts on its own
// project's instances (the deprecated admin-or-owner rule), not on others'.
func TestLegacyPolicy(t *testing.T) {
	e := newEnv(t, openSQLite(t), false)
	owner := caller{token: "erin:p1"}
	in := e.do(t, owner, "POST", "/v1/instances", validBody(uuid1)).instance(t, http.StatusAccepted)
	if r := e.do(t, caller{token: "frank:p2"}, "GET", "/v1/instances/"+in.UUID, nil); r.status != http.StatusNotFound {
		t.Errorf("other project shows: %d, want 404", r.status)
	}
	e.do(t, owner, "DELETE", "/v1/instances/"+in.UUID, nil).instance(t, http.StatusAccepted)
}

func TestListPaging(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var uuids []string
		for i := range 7 {
			b := validBody(fmt.Sprintf("0b7e6b0c-1f7a-4c55-9a44-5f1f2b3c4d%02d", i))
			b["name"] = fmt.Sprintf("web-%d", i%2)
			uuids = append(uuids, e.do(t, alice, "POST", "/v1/instances", b).instance(t, http.StatusAccepted).UUID)
		}
		active := e.setState(t, uuids[2], baremetal.StateActive)
		active.Node = node1
		if _, err := e.db.UpdateInstance(context.Background(), active); err != nil {
			t.Fatal(err)
		}

		var got []string
		next := "/v1/instances?limit=3&name=web-0&state=building,active"
		pages := 0
		for next != "" {
			l := e.do(t, alice, "GET", next, nil).list(t)
			pages++
			for _, in := range l.Instances {
				got = append(got, in.UUID)
			}
			next = ""
			for _, link := range l.Links {
				if link.Rel == "next" {
					next = strings.TrimPrefix(link.Href, e.srv.URL)
				}
			}
		}
		want := []string{uuids[0], uuids[2], uuids[4], uuids[6]}
		if !slices.Equal(got, want) || pages != 2 {
			t.Errorf("paged %d pages %q; want 2 pages %q", pages, got, want)
		}
		// Exactly a page's worth: no next link.
		if l := e.do(t, alice, "GET", "/v1/instances?limit=7", nil).list(t); len(l.Instances) != 7 || len(l.Links) != 0 {
			t.Errorf("limit 7 of 7: %d instances, links %+v", len(l.Instances), l.Links)
		}
		for q, want := range map[string][]string{
			"?node=" + node1:      {uuids[2]},
			"?state=active":       {uuids[2]},
			"?state=error":        nil,
			"?marker=" + uuids[5]: {uuids[6]},
		} {
			var got []string
			for _, in := range e.do(t, alice, "GET", "/v1/instances"+q, nil).list(t).Instances {
				got = append(got, in.UUID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: %q, want %q", q, got, want)
			}
		}
		for q, detail := range map[string]string{
			"?limit=0":         "Invalid limit",
			"?limit=1001":      "Invalid limit",
			"?limit=x":         "Invalid limit",
			"?state=sleeping":  `Invalid state "sleeping"`,
			"?marker=x":        `Invalid marker "x"`,
			"?marker=" + node1: "is not an instance",
			"?flavor=big":      `unknown parameter "flavor"`,
			"?name=%00":        "a NUL character",
			"?name=%ff":        "invalid UTF-8",
		} {
			if r := e.do(t, alice, "GET", "/v1/instances"+q, nil); r.status != 400 || !strings.Contains(r.detail(), detail) {
				t.Errorf("%s: %d %q; want 400 with %q", q, r.status, r.detail(), detail)
			}
		}
	})
}

func TestRoutes(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for _, tt := range []struct {
			method, path string
			status       int
			allow        string
		}{
			{"PUT", "/v1/instances", 405, "GET, POST"},
			{"POST", "/v1/instances/" + uuid1, 405, "GET, DELETE"},
			{"GET", "/v1/instances/" + uuid1, 404, ""},
			{"DELETE", "/v1/instances/" + uuid1, 404, ""},
			{"GET", "/v1/instances/" + uuid1 + "/x", 404, ""},
			{"GET", "/v1/instances/not-a-uuid", 400, ""},
			{"GET", "/v1/instances/", 200, ""},
		} {
			r := e.do(t, admin, tt.method, tt.path, nil)
			if r.status != tt.status || r.header.Get("Allow") != tt.allow {
				t.Errorf("%s %s: %d allow %q; want %d %q", tt.method, tt.path, r.status, r.header.Get("Allow"), tt.status, tt.allow)
			}
			if r.status >= 400 {
				var eb map[string][]map[string]any
				if err := json.Unmarshal(r.body, &eb); err != nil || len(eb["errors"]) != 1 {
					t.Errorf("%s %s: error body %s", tt.method, tt.path, r.body)
					continue
				}
				for _, k := range []string{"status", "title", "detail", "code", "request_id"} {
					if _, ok := eb["errors"][0][k]; !ok {
						t.Errorf("%s %s: error body lacks %q: %s", tt.method, tt.path, k, r.body)
					}
				}
			}
		}
	})
}

// TestDeleteRacesController: deletes race with controller writes of the same instance;
// every delete succeeds (retrying its compare-and-swap), the instance ends deleting, and
// the move to deleting is written once.
func TestDeleteRacesController(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		in := e.do(t, alice, "POST", "/v1/instances", validBody(uuid1)).instance(t, http.StatusAccepted)
		ctx := context.Background()
		var wg sync.WaitGroup
		stop := make(chan struct{})
		controllerWrites := 0
		wg.Add(1)
		go func() { // the controller bumps the task while it can
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				cur, err := e.db.Instance(ctx, in.UUID)
				if err != nil || cur.State != baremetal.StateBuilding {
					return
				}
				cur.Attempts++
				if _, err := e.db.UpdateInstance(ctx, cur); err == nil {
					controllerWrites++
				}
			}
		}()
		statuses := make([]int, 4)
		var dels sync.WaitGroup
		for i := range statuses {
			dels.Add(1)
			go func() {
				defer dels.Done()
				statuses[i] = e.do(t, alice, "DELETE", "/v1/instances/"+in.UUID, nil).status
			}()
		}
		dels.Wait()
		close(stop)
		wg.Wait()
		for i, s := range statuses {
			if s != http.StatusAccepted {
				t.Errorf("delete %d: %d", i, s)
			}
		}
		got, err := e.db.Instance(ctx, in.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != baremetal.StateDeleting || got.Generation != int64(1+controllerWrites+1) {
			t.Errorf("state %s gen %d; want deleting at %d (1 + %d controller writes + 1 delete)",
				got.State, got.Generation, 2+controllerWrites, controllerWrites)
		}
	})
}
