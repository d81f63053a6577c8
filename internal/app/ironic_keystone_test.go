package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ingot/internal/app"
	"ingot/internal/app/apptest"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/keystone"
	"ingot/internal/keystone/keystonetest"
)

// keystoneIronic is a stub Keystone whose catalog has a fake Ironic behind it: the fake
// accepts the tokens the stub says are valid, and its default policy gives the service's
// project every node while listAll is set.
type keystoneIronic struct {
	ks      *keystonetest.Server
	ironic  *ironictest.Server
	listAll atomic.Bool
	client  *ironic.Client // the operator's, on the service's credentials
}

func newKeystoneIronic(t *testing.T) *keystoneIronic {
	t.Helper()
	ki := &keystoneIronic{ks: keystonetest.New()}
	t.Cleanup(ki.ks.Close)
	ki.listAll.Store(true)
	ki.ironic = ironictest.NewServer(t, ironictest.WithConductorGroups("ingot"),
		ironictest.WithKeystoneAuth(func(token string) (ironictest.Caller, bool) {
			return ironictest.Caller{Project: "service-id", ListAll: ki.listAll.Load()}, ki.ks.Valid(token)
		}))
	ki.ks.SetCatalog([]keystonetest.Service{{Type: "baremetal", Name: "ironic", Endpoints: []keystonetest.Endpoint{
		{Interface: "internal", Region: "RegionOne", URL: ki.ironic.URL},
		{Interface: "public", Region: "RegionOne", URL: "http://127.0.0.1:1"}, // not what ingot should pick
	}}})
	session, err := keystone.NewSession(keystone.Config{URL: ki.ks.URL, Username: keystonetest.ServiceUser,
		Password: keystonetest.ServicePassword, Project: keystonetest.ServiceProject})
	if err != nil {
		t.Fatal(err)
	}
	if ki.client, err = ironic.New(ironic.Config{URL: ki.ironic.URL, Transport: &keystone.Transport{Session: session}}); err != nil {
		t.Fatal(err)
	}
	return ki
}

func (ki *keystoneIronic) enroll(t *testing.T, names ...string) []string {
	t.Helper()
	specs := make([]ironictest.NodeSpec, len(names))
	for i, n := range names {
		specs[i] = ironictest.NodeSpec{NodeCreate: ironic.NodeCreate{Name: n, Driver: "fake-hardware",
			ResourceClass: "gold", ConductorGroup: "ingot"}}
	}
	ids, err := ironictest.Enroll(t.Context(), ki.client, specs, 2)
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	return ids
}

// config is ingot behind the stub Keystone, finding Ironic in the catalog.
func (ki *keystoneIronic) config(t *testing.T) app.Config {
	cfg := app.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "ingot.db")
	cfg.Auth = "keystone"
	cfg.KeystoneURL = ki.ks.URL + "/v3"
	cfg.KeystoneUsername, cfg.KeystonePassword = keystonetest.ServiceUser, keystonetest.ServicePassword
	cfg.KeystoneProject = keystonetest.ServiceProject
	cfg.IronicFromCatalog = true
	cfg.SyncInterval = time.Second
	return cfg
}

// TestRunIronicFromCatalog: with --ironic-from-catalog ingot finds Ironic's internal
// endpoint in its token's catalog, calls it with its service token (a fresh one after a
// 401), and refuses to track from a listing cut down to its own project.
func TestRunIronicFromCatalog(t *testing.T) {
	ki := newKeystoneIronic(t)
	ids := ki.enroll(t, "kc-0", "kc-1")
	rec := &recorder{}
	base := "http://" + apptest.Serve(t, ki.config(t), slog.New(rec)).String()
	admin := ki.ks.Issue(keystonetest.Token{UserID: "a1", ProjectID: "admin", Roles: []string{"admin", "member", "reader"}})

	waitProviders(t, base, admin, ids)
	if msgs := rec.find("tracker pass failed", ""); len(msgs) > 0 {
		t.Errorf("failed passes: %q", msgs)
	}

	t.Log("Keystone revokes every token: ingot's next calls get 401, renew and go on")
	auths := ki.ks.Auths.Load()
	ki.ks.RevokeAll()
	ids = append(ids, ki.enroll(t, "kc-2")...)
	waitProviders(t, base, admin, ids) // admin's identity is cached by ingot's validator
	if n := ki.ks.Auths.Load(); n < auths+2 {
		t.Errorf("authentications after the revocation: %d, want ingot's and the operator's", n-auths)
	}
	if msgs := rec.find("tracker pass failed", ""); len(msgs) > 0 {
		t.Errorf("failed passes after the revocation: %q", msgs)
	}

	t.Log("ingot's user loses baremetal:node:list_all: passes fail loudly, providers stay")
	ki.listAll.Store(false)
	deadline := time.Now().Add(15 * time.Second)
	for len(rec.find("tracker pass failed", "baremetal:node:list_all")) < 2 {
		if time.Now().After(deadline) {
			lines := rec.find("tracker pass", "")
			t.Fatalf("no failed pass naming list_all; last passes: %q", lines[max(0, len(lines)-3):])
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lines := rec.find("tracker pass failed", "baremetal:node:list_all"); !strings.Contains(lines[0], "level=ERROR") {
		t.Errorf("failed pass logged as %q, want an error", lines[0])
	}
	waitProviders(t, base, admin, ids)
}

// TestRunIronicFromCatalogStartErrors: a catalog without a fitting endpoint, or
// credentials Keystone refuses, stop ingot at start with one clear error.
func TestRunIronicFromCatalogStartErrors(t *testing.T) {
	ki := newKeystoneIronic(t)
	for _, tt := range []struct {
		name string
		edit func(*app.Config)
		want []string
	}{
		{"no endpoint in the region", func(c *app.Config) { c.IronicRegion = "RegionNine" },
			[]string{"--ironic-from-catalog", `no "baremetal" endpoint with interface internal or public in region RegionNine`,
				"public in region RegionOne"}},
		{"no endpoint of the interface", func(c *app.Config) { c.IronicInterfaces = []string{"admin"} },
			[]string{`"baremetal" endpoint with interface admin in region any`}},
		{"refused credentials", func(c *app.Config) { c.KeystonePassword = "wrong" },
			[]string{"--ironic-from-catalog", "refused the service's credentials", "HTTP 401"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ki.config(t)
			tt.edit(&cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := app.Run(ctx, cfg, slog.New(slog.DiscardHandler), nil)
			if err == nil {
				t.Fatal("app.Run started")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestRunIronicFromCatalogWaitsForKeystone: a Keystone that answers 503 at first is
// waited for; ingot starts once it gives the catalog.
func TestRunIronicFromCatalogWaitsForKeystone(t *testing.T) {
	ki := newKeystoneIronic(t)
	var refused atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && refused.Add(1) <= 2 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		ki.ks.Config.Handler.ServeHTTP(w, r)
	}))
	defer front.Close()
	ids := ki.enroll(t, "kw-0")
	cfg := ki.config(t)
	cfg.KeystoneURL = front.URL + "/v3"
	rec := &recorder{}
	base := "http://" + apptest.Serve(t, cfg, slog.New(rec)).String()
	if got := rec.find("waiting for Keystone to read Ironic's endpoint from the catalog", "HTTP 503"); len(got) != 1 {
		t.Errorf("waits logged: %q, want 1", got)
	}
	waitProviders(t, base, ki.ks.Issue(keystonetest.Token{UserID: "a1", ProjectID: "admin", Roles: []string{"admin"}}), ids)
}

// TestRunKeystoneWithoutIronic: keystone authentication alone serves Placement only; no
// catalog lookup, no tracker.
func TestRunKeystoneWithoutIronic(t *testing.T) {
	ki := newKeystoneIronic(t)
	ki.ks.SetCatalog(nil)
	cfg := ki.config(t)
	cfg.IronicFromCatalog = false
	rec := &recorder{}
	apptest.Serve(t, cfg, slog.New(rec))
	if got := rec.find("ironic tracker started", ""); len(got) > 0 {
		t.Errorf("the tracker started: %q", got)
	}
}

// waitProviders waits until every node has its resource provider in ingot.
func waitProviders(t *testing.T, base, token string, ids []string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for _, id := range ids {
		for {
			req, _ := http.NewRequest("GET", base+"/resource_providers/"+id, nil)
			req.Header.Set("X-Auth-Token", token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var p struct{ UUID string }
			_ = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && p.UUID == id {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no provider for node %s: %d", id, resp.StatusCode)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// recorder is a slog.Handler that keeps every record as one line.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "level=%s msg=%q", rec.Level, rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Value.String())
		return true
	})
	r.mu.Lock()
	r.lines = append(r.lines, b.String())
	r.mu.Unlock()
	return nil
}

func (r *recorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &shared{r, attrs}
}

func (r *recorder) WithGroup(string) slog.Handler { return r }

// find returns the lines with the message msg (any when empty) that contain part.
func (r *recorder) find(msg, part string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, l := range r.lines {
		if (msg == "" || strings.Contains(l, fmt.Sprintf("msg=%q", msg))) && strings.Contains(l, part) {
			out = append(out, l)
		}
	}
	return out
}

// shared is a recorder's handler with attributes, writing to the same lines.
type shared struct {
	r     *recorder
	attrs []slog.Attr
}

func (s *shared) Enabled(context.Context, slog.Level) bool { return true }

func (s *shared) Handle(ctx context.Context, rec slog.Record) error {
	rec = rec.Clone()
	rec.AddAttrs(s.attrs...)
	return s.r.Handle(ctx, rec)
}

func (s *shared) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &shared{s.r, append(append([]slog.Attr(nil), s.attrs...), attrs...)}
}

func (s *shared) WithGroup(string) slog.Handler { return s }
