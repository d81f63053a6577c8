package cloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ingot/internal/ingottest"
)

func TestMain(m *testing.M) { ingottest.Main(m) }

// cloudEnv is the Keystone scripts/keystone/env.sh started.
type cloudEnv struct {
	url           string // identity endpoint, .../v3
	adminPassword string
	password      string // every other user's
	dir           string // KEYSTONE_DIR, for stopping and restarting it
	port          string
	expiration    time.Duration
}

// keystoneEnv returns the Keystone to test against, or skips the test (fails it when
// INGOT_REQUIRE_KEYSTONE is set).
func keystoneEnv(t *testing.T) cloudEnv {
	t.Helper()
	url := os.Getenv("INGOT_TEST_KEYSTONE_URL")
	if url == "" {
		if os.Getenv("INGOT_REQUIRE_KEYSTONE") != "" {
			t.Fatal("INGOT_REQUIRE_KEYSTONE is set but INGOT_TEST_KEYSTONE_URL is not: eval \"$(scripts/keystone/env.sh)\"")
		}
		t.Skip("no Keystone: eval \"$(scripts/keystone/env.sh)\" to run the cloud tests")
	}
	e := cloudEnv{
		url:           strings.TrimRight(url, "/"),
		adminPassword: os.Getenv("INGOT_TEST_KEYSTONE_ADMIN_PASSWORD"),
		password:      os.Getenv("INGOT_TEST_KEYSTONE_PASSWORD"),
		dir:           os.Getenv("KEYSTONE_DIR"),
		port:          os.Getenv("KEYSTONE_PORT"),
	}
	secs, err := strconv.Atoi(os.Getenv("INGOT_TEST_KEYSTONE_EXPIRATION"))
	if err != nil || e.adminPassword == "" || e.password == "" {
		t.Fatal("set INGOT_TEST_KEYSTONE_ADMIN_PASSWORD, INGOT_TEST_KEYSTONE_PASSWORD and INGOT_TEST_KEYSTONE_EXPIRATION as scripts/keystone/env.sh prints them")
	}
	e.expiration = time.Duration(secs) * time.Second
	return e
}

// ingotProc is ingot's binary running `serve --auth keystone` on a database of its own.
type ingotProc struct {
	t       *testing.T
	base    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// keystoneArgs are the flags that put ingot behind Keystone as its service user `ingot`
// (bootstrap.sh's), with its token cache lasting cacheTime.
func keystoneArgs(e cloudEnv, cacheTime time.Duration) []string {
	return []string{"--auth", "keystone", "--keystone-url", e.url,
		"--keystone-username", "ingot", "--keystone-password", e.password,
		"--keystone-project", "service",
		"--keystone-token-cache-time", cacheTime.String()}
}

// startIngot starts ingot behind Keystone and stops it when the test ends. extra flags
// come last and so win.
func startIngot(t *testing.T, e cloudEnv, extra ...string) *ingotProc {
	t.Helper()
	return startIngotAs(t, keystoneArgs(e, 300*time.Second), extra...)
}

// startIngotAs is startIngot with ingot's Keystone flags given.
func startIngotAs(t *testing.T, auth []string, extra ...string) *ingotProc {
	t.Helper()
	dir := t.TempDir()
	port := ingottest.FreePort(t)
	p := &ingotProc{t: t, base: "http://127.0.0.1:" + strconv.Itoa(port), logPath: filepath.Join(dir, "ingot.log")}
	args := append([]string{"serve", "--listen", "127.0.0.1:" + strconv.Itoa(port),
		"--database", "sqlite:" + filepath.Join(dir, "ingot.db"), "--log-format", "json"},
		auth...)
	args = append(args, extra...)
	logf, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ingottest.Binary(t), args...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "INGOT_") })
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-p.exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.logPath)
			t.Logf("ingot's log:\n%s", ingottest.Tail(b, 20000))
		}
	})
	// Version discovery stays anonymous behind Keystone, as upstream's.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.base + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			b, _ := os.ReadFile(p.logPath)
			t.Fatalf("ingot exited at start (%v):\n%s", cmd.ProcessState, ingottest.Tail(b, 4000))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("ingot did not answer within 60 s")
		}
	}
}

// token is a Keystone token as issued.
type token struct {
	id        string
	expiresAt time.Time
	projectID string // empty for a system token
	userID    string
	roles     []string
}

// scope values for issue.
const (
	systemScope = ""
)

// issue authenticates user with a password, scoped to project (systemScope: the system),
// as the openstack CLI does.
func issue(t *testing.T, e cloudEnv, user, project string) token {
	t.Helper()
	password := e.password
	if user == "admin" {
		password = e.adminPassword
	}
	scope := map[string]any{"system": map[string]any{"all": true}}
	if project != systemScope {
		scope = map[string]any{"project": map[string]any{"name": project, "domain": map[string]any{"id": "default"}}}
	}
	body, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": user, "domain": map[string]any{"id": "default"}, "password": password}}},
		"scope": scope}})
	resp, err := http.Post(e.url+"/auth/tokens?nocatalog", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("token for %s on %q: %d %s", user, project, resp.StatusCode, b)
	}
	var v struct {
		Token struct {
			ExpiresAt time.Time `json:"expires_at"`
			User      struct{ ID string }
			Project   struct{ ID string }
			Roles     []struct{ Name string }
		}
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	tok := token{id: resp.Header.Get("X-Subject-Token"), expiresAt: v.Token.ExpiresAt,
		projectID: v.Token.Project.ID, userID: v.Token.User.ID}
	for _, r := range v.Token.Roles {
		tok.roles = append(tok.roles, r.Name)
	}
	if tok.id == "" {
		t.Fatalf("token for %s: no X-Subject-Token", user)
	}
	return tok
}

// call sends one request and returns the status, headers and body.
func call(t *testing.T, method, url string, hdr map[string]string, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// keystoneCall is call against Keystone's API with the admin's token.
func keystoneCall(t *testing.T, e cloudEnv, admin token, method, path, body string, want int) []byte {
	t.Helper()
	code, _, b := call(t, method, e.url+path, map[string]string{"X-Auth-Token": admin.id}, body)
	if code != want {
		t.Fatalf("keystone %s %s: %d, want %d: %s", method, path, code, want, b)
	}
	return b
}

// pointCatalog points every placement endpoint of the catalog at base, so that clients
// that find Placement in their token's catalog reach this test's ingot.
func pointCatalog(t *testing.T, e cloudEnv, base string) {
	t.Helper()
	admin := issue(t, e, "admin", "admin")
	var svcs struct{ Services []struct{ ID string } }
	if err := json.Unmarshal(keystoneCall(t, e, admin, "GET", "/services?type=placement", "", 200), &svcs); err != nil || len(svcs.Services) != 1 {
		t.Fatalf("placement services in the catalog: %+v (%v); scripts/keystone/bootstrap.sh registers one", svcs, err)
	}
	var eps struct{ Endpoints []struct{ ID string } }
	if err := json.Unmarshal(keystoneCall(t, e, admin, "GET", "/endpoints?service_id="+svcs.Services[0].ID, "", 200), &eps); err != nil || len(eps.Endpoints) == 0 {
		t.Fatalf("placement endpoints: %+v (%v)", eps, err)
	}
	for _, ep := range eps.Endpoints {
		keystoneCall(t, e, admin, "PATCH", "/endpoints/"+ep.ID, fmt.Sprintf(`{"endpoint":{"url":%q}}`, base), 200)
	}
}

// checkUnauthorized checks a 401 is keystonemiddleware's: its JSON body and a
// WWW-Authenticate header naming the identity endpoint.
func checkUnauthorized(t *testing.T, e cloudEnv, what string, h http.Header, b []byte) {
	t.Helper()
	if got, want := h.Get("WWW-Authenticate"), fmt.Sprintf("Keystone uri=%q", e.url); got != want {
		t.Errorf("%s: WWW-Authenticate %q, want %q", what, got, want)
	}
	var v struct {
		Error struct {
			Code    int
			Title   string
			Message string
		}
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Error.Code != 401 || v.Error.Title != "Unauthorized" ||
		v.Error.Message != "The request you have made requires authentication." {
		t.Errorf("%s: 401 body %s, want keystonemiddleware's", what, b)
	}
}
