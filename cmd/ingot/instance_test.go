package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ingot/internal/app"
	"ingot/internal/app/apptest"
	"ingot/internal/baremetal"
	"ingot/internal/instanceapi"
	"ingot/internal/policy"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// cliEnv is the real instance API (httptest, SQLite) for the CLI to talk to.
type cliEnv struct {
	db  *store.DB
	url string
	// gets counts the GETs of one instance the API has answered.
	gets atomic.Int64
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	db := storetest.Open(t, storetest.SQLite)
	ctx := context.Background()
	if _, err := db.EnsureResourceClass(ctx, "CUSTOM_BAREMETAL_GOLD"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.EnsureTrait(ctx, "CUSTOM_RACK_1"); err != nil {
		t.Fatal(err)
	}
	enf, err := policy.New(policy.Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &cliEnv{db: db}
	api := instanceapi.New(db, instanceapi.Options{Policy: enf})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.ServeHTTP(w, r)
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, instanceapi.Prefix+"/") {
			e.gets.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// run runs `ingot instance args...` with INGOT_URL and INGOT_TOKEN from env.
func (e *cliEnv) run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if env == nil {
		env = map[string]string{"INGOT_URL": e.url, "INGOT_TOKEN": "admin", "INGOT_POLL_INTERVAL": "5ms"}
	}
	var out, errOut bytes.Buffer
	code = instanceCmd(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

const cliUUID = "5a1b2c3d-0000-4000-8000-00000000c001"

func createArgs(extra ...string) []string {
	return append([]string{"create", "--uuid", cliUUID, "--name", "web", "--resource-class", "baremetal-gold",
		"--trait", "CUSTOM_RACK_1", "--image", "http://images.example/web.qcow2", "--image-checksum", "abc"}, extra...)
}

func TestInstanceCLICreateShowListDelete(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519.pub")
	ud := filepath.Join(dir, "user-data")
	for f, body := range map[string]string{key: "ssh-ed25519 AAAA me@host\n", ud: "#cloud-config\n"} {
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := e.run(t, nil, createArgs("--ssh-key", key, "--user-data", ud, "--meta", "role=web", "-f", "json")...)
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	var in instanceapi.Instance
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatalf("create -f json: %v: %s", err, out)
	}
	if in.UUID != cliUUID || in.State != "building" || in.ConfigDrive == nil ||
		in.ConfigDrive.SSHKeys["id_ed25519"] != "ssh-ed25519 AAAA me@host" ||
		in.ConfigDrive.UserData != "#cloud-config\n" || in.ConfigDrive.MetaData["role"] != "web" {
		t.Errorf("created %+v", in)
	}
	// Flags after the positional argument, and the Field/Value table.
	code, out, errOut = e.run(t, nil, "show", cliUUID, "-f", "table")
	if code != 0 || !strings.Contains(out, "| state ") || !strings.Contains(out, "| building ") || !strings.HasPrefix(out, "+---") {
		t.Errorf("show: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = e.run(t, nil, "list")
	if code != 0 || !strings.Contains(out, "| UUID ") || !strings.Contains(out, cliUUID) {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out, _ = e.run(t, nil, "list", "--state", "active", "-f", "json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("list --state active: exit %d %q", code, out)
	}
	code, out, errOut = e.run(t, nil, "delete", cliUUID)
	if code != 0 || strings.TrimSpace(out) != cliUUID+" deleting" {
		t.Errorf("delete: exit %d %q %s", code, out, errOut)
	}
}

func TestInstanceCLIList(t *testing.T) {
	e := newCLIEnv(t)
	for i := range 5 {
		in := baremetal.Instance{UUID: "5a1b2c3d-0000-4000-8000-00000000d00" + string(rune('0'+i)), ProjectID: "p", UserID: "u",
			Spec: baremetal.Spec{Request: baremetal.Request{ResourceClass: "baremetal-gold"}}}
		if _, _, err := e.db.CreateInstance(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	for args, want := range map[string]int{"": 5, "--limit 2": 2, "--project p": 5, "--project q": 0} {
		code, out, errOut := e.run(t, nil, append([]string{"list", "-f", "json"}, strings.Fields(args)...)...)
		var got []instanceapi.Instance
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got) != want {
			t.Errorf("list %s: exit %d, %d instances, want %d: %s", args, code, len(got), want, errOut)
		}
	}
}

// advance plays the controller: each step is written once the CLI has seen the state
// before it (two GETs of the instance answered after it was written: the CLI polls one
// at a time, so the second started after the write).
func advance(t *testing.T, e *cliEnv, uuid string, steps ...func(*baremetal.Instance)) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx := context.Background()
		for {
			if _, err := e.db.Instance(ctx, uuid); err == nil {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		seen := e.gets.Load()
		for _, step := range steps {
			for e.gets.Load() < seen+2 {
				time.Sleep(2 * time.Millisecond)
			}
			in, err := e.db.Instance(ctx, uuid)
			if err != nil {
				t.Error(err)
				return
			}
			step(&in)
			if _, err := e.db.UpdateInstance(ctx, in); err != nil {
				t.Error(err)
				return
			}
			seen = e.gets.Load()
		}
	}()
	return &wg
}

func TestInstanceCLIWait(t *testing.T) {
	e := newCLIEnv(t)
	node := "6b000000-0000-4000-8000-000000000001"
	wg := advance(t, e, cliUUID,
		func(in *baremetal.Instance) { in.Task, in.Node = baremetal.TaskLocking, node },
		func(in *baremetal.Instance) { in.Task = baremetal.TaskDeploying },
		func(in *baremetal.Instance) { in.State, in.Task = baremetal.StateActive, baremetal.TaskNone })
	code, out, errOut := e.run(t, nil, createArgs("--wait")...)
	wg.Wait()
	if code != 0 || !strings.Contains(out, "| active ") {
		t.Fatalf("create --wait: exit %d\n%s%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	wantTail := []string{"state=building task=scheduling", "state=building task=locking node=" + node,
		"state=building task=deploying node=" + node, "state=active node=" + node}
	if len(lines) != len(wantTail) {
		t.Fatalf("progress lines %q; want %d", lines, len(wantTail))
	}
	for i, l := range lines {
		if !strings.HasSuffix(l, wantTail[i]) {
			t.Errorf("progress line %d %q; want it to end %q", i, l, wantTail[i])
		}
	}

	wg = advance(t, e, cliUUID,
		func(in *baremetal.Instance) { in.Task = baremetal.TaskCleaning },
		func(in *baremetal.Instance) {
			in.State, in.Task, in.Node = baremetal.StateDeleted, baremetal.TaskNone, ""
		})
	code, out, errOut = e.run(t, nil, "delete", "--wait", cliUUID)
	wg.Wait()
	if code != 0 || strings.TrimSpace(out) != cliUUID+" deleted" || !strings.Contains(errOut, "state=deleting task=cleaning") {
		t.Errorf("delete --wait: exit %d %q\n%s", code, out, errOut)
	}
}

func TestInstanceCLIWaitError(t *testing.T) {
	e := newCLIEnv(t)
	wg := advance(t, e, cliUUID, func(in *baremetal.Instance) {
		in.State, in.Task = baremetal.StateError, baremetal.TaskNone
		in.Fault = &baremetal.Fault{Code: "no_valid_host", Message: "no node fits"}
	})
	code, out, errOut := e.run(t, nil, createArgs("--wait", "-f", "json")...)
	wg.Wait()
	if code != 1 || !strings.Contains(errOut, "is error: no_valid_host: no node fits") || !strings.Contains(out, `"state": "error"`) {
		t.Errorf("create --wait into error: exit %d %s\n%s", code, out, errOut)
	}
}

func TestInstanceCLIErrors(t *testing.T) {
	e := newCLIEnv(t)
	for _, tt := range []struct {
		env  map[string]string
		args []string
		code int
		msg  string
	}{
		{map[string]string{"INGOT_URL": e.url}, []string{"list"}, 2, "no token"},
		{nil, []string{"list", "-f", "yaml"}, 2, `-f "yaml"`},
		{nil, []string{"frobnicate"}, 2, "unknown command"},
		{nil, []string{"show"}, 2, "want one instance UUID"},
		{nil, []string{"create", "--image", "http://x/y"}, 2, "--resource-class and --image are required"},
		{map[string]string{"INGOT_URL": "ftp://x", "INGOT_TOKEN": "admin"}, []string{"list"}, 2, "want an http"},
		{nil, []string{"show", "5a1b2c3d-0000-4000-8000-0000000000ff"}, 1, "404 Not Found: No instance with UUID"},
		{nil, createArgs("--resource-class", "baremetal-silver"), 1, "400 Bad Request: Unknown resource class"},
		{map[string]string{"INGOT_URL": e.url, "INGOT_TOKEN": "bob:p2", "INGOT_ROLES": "reader"}, createArgs(), 1, "403 Forbidden: Policy does not allow ingot:instance:create"},
	} {
		code, _, errOut := e.run(t, tt.env, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.msg) {
			t.Errorf("%q: exit %d %q; want %d with %q", tt.args, code, errOut, tt.code, tt.msg)
		}
	}
}

// TestInstanceAPIMounted runs the whole service (app.Run) and drives it with the CLI: the
// instance API is served on the Placement API's listener.
func TestInstanceAPIMounted(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "ingot.db")
	addr := apptest.Serve(t, cfg, slog.New(slog.DiscardHandler))
	env := map[string]string{"INGOT_URL": "http://" + addr.String(), "INGOT_TOKEN": "admin"}
	code, out, errOut := new(cliEnv).run(t, env, "list", "-f", "json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("list through app.Run: exit %d %q %s", code, out, errOut)
	}
	// A create reaches the store's catalogue check: the class is unknown here.
	code, _, errOut = new(cliEnv).run(t, env, createArgs()...)
	if code != 1 || !strings.Contains(errOut, "Unknown resource class") {
		t.Errorf("create through app.Run: exit %d %s", code, errOut)
	}
}
