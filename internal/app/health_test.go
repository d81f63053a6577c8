package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ingot/internal/app"
	"ingot/internal/app/apptest"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/keystone/keystonetest"
)

// probe GETs base+path (HEAD when method says so) without a token and returns the status
// and the body.
func probe(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// waitFor probes url until its answer is status with a body containing substr.
func waitFor(t *testing.T, url string, status int, substr string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := probe(t, "GET", url)
		if code == status && strings.Contains(body, substr) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s = %d %q; waited for %d with %q", url, code, body, status, substr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sqliteConfig(t *testing.T) (app.Config, string) {
	cfg := app.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	path := filepath.Join(t.TempDir(), "ingot.db")
	cfg.DatabaseURL = "sqlite:" + path
	return cfg, path
}

// TestHealthEndpoints runs app.Run (SQLite, no tracker) and probes every health route
// through the real listener: ready, a migration missing from the database, the disable
// file; the Placement API's own answers are untouched.
func TestHealthEndpoints(t *testing.T) {
	cfg, path := sqliteConfig(t)
	cfg.HealthcheckDisableFile = filepath.Join(t.TempDir(), "disable")
	base := "http://" + apptest.Serve(t, cfg, slog.New(slog.NewTextHandler(t.Output(), nil))).String()

	for _, tt := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/healthz", 200, "ok"},
		{"GET", "/livez", 200, "ok"},
		{"GET", "/readyz", 200, "ok"},
		{"GET", "/readyz?verbose", 200, "[+]shutdown ok\n[+]disable-file ok: path " + cfg.HealthcheckDisableFile + " was not found\n[+]database ok\n[+]migrations ok\nreadyz check passed\n"},
		{"HEAD", "/readyz", 200, ""},
		{"GET", "/healthcheck", 200, "OK"},
		{"HEAD", "/healthcheck", 204, ""},
	} {
		if code, body := probe(t, tt.method, base+tt.path); code != tt.status || body != tt.body {
			t.Errorf("%s %s = %d %q; want %d %q", tt.method, tt.path, code, body, tt.status, tt.body)
		}
	}
	// The Placement API still answers / and its routes.
	if code, body := probe(t, "GET", base+"/"); code != 200 || !strings.Contains(body, `"versions"`) {
		t.Errorf("GET / = %d %q", code, body)
	}

	// The disable file takes the replica out, and back in once removed.
	if err := os.WriteFile(cfg.HealthcheckDisableFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := probe(t, "GET", base+"/healthcheck"); code != 503 || body != "DISABLED BY FILE" {
		t.Errorf("disabled: GET /healthcheck = %d %q", code, body)
	}
	if code, body := probe(t, "GET", base+"/readyz"); code != 503 || !strings.Contains(body, "[-]disable-file failed: DISABLED BY FILE") {
		t.Errorf("disabled: GET /readyz = %d %q", code, body)
	}
	if code, _ := probe(t, "GET", base+"/healthz"); code != 200 {
		t.Errorf("disabled: GET /healthz = %d; want 200 (still live)", code)
	}
	if err := os.Remove(cfg.HealthcheckDisableFile); err != nil {
		t.Fatal(err)
	}
	if code, body := probe(t, "GET", base+"/healthcheck"); code != 200 || body != "OK" {
		t.Errorf("re-enabled: GET /healthcheck = %d %q", code, body)
	}

	// A migration of this binary missing from the database (an older backup restored
	// under it): not ready, and the answer names it.
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`DELETE FROM schema_migrations WHERE name = '0004_instances.sql'`); err != nil {
		t.Fatal(err)
	}
	code, body := probe(t, "GET", base+"/readyz")
	if code != 503 || !strings.Contains(body, "[-]migrations failed: the database lacks this binary's migrations 0004_instances.sql") ||
		!strings.Contains(body, "[+]database ok") {
		t.Errorf("migration missing: GET /readyz = %d %q", code, body)
	}
	if code, body := probe(t, "GET", base+"/healthcheck"); code != 503 || !strings.HasPrefix(body, "migrations: the database lacks") {
		t.Errorf("migration missing: GET /healthcheck = %d %q", code, body)
	}
}

// TestHealthTracker: with --ironic-url, ingot is not ready until the tracker's first pass
// completes (Ironic failing: 503 saying why), then ready; a later failing pass does not
// take it out of service.
func TestHealthTracker(t *testing.T) {
	s := ironictest.NewServer(t)
	s.AddNodes(3, func(i int) ironic.Node {
		return ironic.Node{UUID: fmt.Sprintf("%08d-0000-4000-8000-%012d", i+1, i+1), ResourceClass: "gold",
			ProvisionState: ironic.ProvisionStateAvailable, PowerState: ironic.PowerOff}
	})
	s.Inject(ironictest.Fault{Method: http.MethodGet, Path: "/v1/nodes", Times: -1, Status: http.StatusServiceUnavailable})
	cfg, _ := sqliteConfig(t)
	cfg.IronicURL = s.URL
	cfg.SyncInterval = time.Second
	base := "http://" + apptest.Serve(t, cfg, slog.New(slog.NewTextHandler(t.Output(), nil))).String()

	body := waitFor(t, base+"/readyz", 503, "[-]tracker failed: no tracker pass completed yet (")
	if !strings.Contains(body, "[+]database ok") || !strings.Contains(body, "503") {
		t.Errorf("GET /readyz before the first pass = %q; want the database ok and Ironic's 503 as the reason", body)
	}
	if code, _ := probe(t, "GET", base+"/healthz"); code != 200 {
		t.Errorf("GET /healthz before the first pass = %d; want 200", code)
	}
	// An operator can still take traffic without the tracker (Kubernetes' exclude).
	if code, body := probe(t, "GET", base+"/readyz?exclude=tracker"); code != 200 {
		t.Errorf("GET /readyz?exclude=tracker = %d %q", code, body)
	}

	s.ClearFaults()
	waitFor(t, base+"/readyz", 200, "ok")
	if code, body := probe(t, "GET", base+"/readyz?verbose"); code != 200 || !strings.Contains(body, "[+]tracker ok: ") {
		t.Errorf("GET /readyz?verbose after the first pass = %d %q", code, body)
	}
	// Ironic down again: still ready (Placement serves what the tracker wrote), and the
	// verbose answer says what failed.
	s.Inject(ironictest.Fault{Method: http.MethodGet, Path: "/v1/nodes", Times: -1, Status: http.StatusServiceUnavailable})
	body = waitFor(t, base+"/readyz?verbose", 200, "failed since")
	if !strings.Contains(body, "[+]tracker ok: ") {
		t.Errorf("GET /readyz?verbose with Ironic down after a pass = %q", body)
	}
}

// TestHealthDrain: at shutdown /readyz and /healthcheck answer 503 for --shutdown-delay
// while the API and /livez still serve; then the listener closes.
func TestHealthDrain(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	cfg.ShutdownDelay = 1500 * time.Millisecond
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, cfg, slog.New(slog.NewTextHandler(t.Output(), nil)), ready) }()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr.String()
	case err := <-done:
		t.Fatalf("app.Run: %v", err)
	}
	waitFor(t, base+"/readyz", 200, "ok")
	stopped := time.Now()
	stop()
	waitFor(t, base+"/readyz", 503, "[-]shutdown failed: shutting down")
	if code, body := probe(t, "GET", base+"/healthcheck"); code != 503 || body != "shutdown: shutting down" {
		t.Errorf("draining: GET /healthcheck = %d %q", code, body)
	}
	if code, _ := probe(t, "GET", base+"/livez"); code != 200 {
		t.Errorf("draining: GET /livez = %d; want 200", code)
	}
	req, _ := http.NewRequest("GET", base+"/resource_providers", nil)
	req.Header.Set("X-Auth-Token", "admin")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("draining: the API refused a request: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if err := <-done; err != nil {
		t.Fatalf("app.Run: %v", err)
	}
	if took := time.Since(stopped); took < cfg.ShutdownDelay {
		t.Errorf("Run returned %s after the signal; want at least the %s delay", took, cfg.ShutdownDelay)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the listener still serves after Run returned")
	}
}

// TestHealthAnonymousUnderKeystone: with --auth keystone the health routes need no token,
// as / does, and the APIs still do.
func TestHealthAnonymousUnderKeystone(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	cfg, _ := sqliteConfig(t)
	cfg.Auth = "keystone"
	cfg.KeystoneURL = ks.URL + "/v3"
	cfg.KeystoneUsername, cfg.KeystonePassword = keystonetest.ServiceUser, keystonetest.ServicePassword
	cfg.KeystoneProject = keystonetest.ServiceProject
	base := "http://" + apptest.Serve(t, cfg, slog.New(slog.NewTextHandler(t.Output(), nil))).String()
	for _, tt := range []struct {
		path   string
		status int
		body   string
	}{
		{"/livez", 200, "ok"},
		{"/healthz", 200, "ok"},
		{"/readyz", 200, "ok"},
		{"/healthcheck", 200, "OK"},
		{"/resource_providers", 401, ""},
		{"/v1/instances", 401, ""},
	} {
		code, body := probe(t, "GET", base+tt.path)
		if code != tt.status || (tt.body != "" && body != tt.body) {
			t.Errorf("GET %s without a token = %d %q; want %d %q", tt.path, code, body, tt.status, tt.body)
		}
	}
}
