package app_test

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"ingot/internal/app"
	"ingot/internal/app/apptest"
	"ingot/internal/keystone/keystonetest"
)

// TestRunKeystone: app.Run with --auth keystone obtains the service token at start and wires
// the middleware and the token's identity into both APIs.
func TestRunKeystone(t *testing.T) {
	ks := keystonetest.New()
	defer ks.Close()
	cfg := app.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "ingot.db")
	cfg.Auth = "keystone"
	cfg.KeystoneURL = ks.URL + "/v3"
	cfg.KeystoneUsername, cfg.KeystonePassword = keystonetest.ServiceUser, keystonetest.ServicePassword
	cfg.KeystoneProject = keystonetest.ServiceProject
	base := "http://" + apptest.Serve(t, cfg, slog.New(slog.NewTextHandler(t.Output(), nil))).String()
	if n := ks.Auths.Load(); n != 1 {
		t.Errorf("service authentications at start = %d, want 1", n)
	}
	admin := ks.Issue(keystonetest.Token{UserID: "a1", ProjectID: "admin", Roles: []string{"admin", "member", "reader"}})
	member := ks.Issue(keystonetest.Token{UserID: "m1", ProjectID: "p1", Roles: []string{"member", "reader"}})
	for _, tt := range []struct {
		path, token, roles string
		want               int
	}{
		{"/", "", "", 200},
		{"/metrics", "", "", 200}, // Prometheus sends no token
		{"/resource_providers", "", "", 401},
		{"/resource_providers", "admin", "admin", 401}, // noauth2's token means nothing here
		{"/resource_providers", admin, "", 200},
		{"/resource_providers", member, "admin", 403},
		{"/v1/instances", member, "", 200},
		{"/v1/instances?project_id=p2", member, "admin", 403},
	} {
		req, _ := http.NewRequest("GET", base+tt.path, nil)
		if tt.token != "" {
			req.Header.Set("X-Auth-Token", tt.token)
		}
		if tt.roles != "" {
			req.Header.Set("X-Roles", tt.roles)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s (token %.8s, X-Roles %q): %d, want %d", tt.path, tt.token, tt.roles, resp.StatusCode, tt.want)
		}
	}
}
