package ui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"ingot/internal/app"
	"ingot/internal/keystone/keystonetest"
)

// TestKeystoneLogin runs ingot with --auth keystone behind the stub Keystone: the page,
// its static files and the login are anonymous; the data needs a valid token; a
// username and password become a token through /ui/api/login (wrong ones: 401); and in
// Chromium the password form logs in and shows the fleet.
func TestKeystoneLogin(t *testing.T) {
	ks := keystonetest.New()
	t.Cleanup(ks.Close)
	cfg := app.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "ingot.db")
	cfg.Auth = "keystone"
	cfg.KeystoneURL = ks.URL + "/v3"
	cfg.KeystoneUsername, cfg.KeystonePassword = keystonetest.ServiceUser, keystonetest.ServicePassword
	cfg.KeystoneProject = keystonetest.ServiceProject
	base := "http://" + serveApp(t, cfg).String()

	call := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("X-Auth-Token", token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, p := range []string{"/ui/", "/ui/static/app.js", "/ui/static/style.css", "/ui/api/config"} {
		if code, body := call(http.MethodGet, p, "", ""); code != http.StatusOK {
			t.Errorf("GET %s anonymously: %d %s", p, code, body)
		}
	}
	if _, body := call(http.MethodGet, "/ui/api/config", "", ""); !strings.Contains(body, `"keystone"`) {
		t.Errorf("config %s", body)
	}
	for _, p := range []string{"/ui/api/summary", "/ui/api/nodes"} {
		if code, _ := call(http.MethodGet, p, "", ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want 401", p, code)
		}
		if code, _ := call(http.MethodGet, p, "forged", ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a forged token: %d, want 401", p, code)
		}
	}
	login := `{"username": "` + keystonetest.ServiceUser + `", "password": "%s", "project": "` + keystonetest.ServiceProject + `"}`
	if code, body := call(http.MethodPost, "/ui/api/login", "", strings.Replace(login, "%s", "wrong", 1)); code != http.StatusUnauthorized {
		t.Errorf("login with a wrong password: %d %s", code, body)
	}
	if code, body := call(http.MethodPost, "/ui/api/login", "", `{"username": "x"}`); code != http.StatusBadRequest {
		t.Errorf("login without a password: %d %s", code, body)
	}
	code, body := call(http.MethodPost, "/ui/api/login", "", strings.Replace(login, "%s", keystonetest.ServicePassword, 1))
	var got struct{ Token string }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || got.Token == "" {
		t.Fatalf("login: %d %s", code, body)
	}
	if code, body := call(http.MethodGet, "/ui/api/summary", got.Token, ""); code != http.StatusOK {
		t.Errorf("summary with the login's token: %d %s", code, body)
	}
	// A project member's valid token is refused by ingot:fleet:read.
	member := ks.Issue(keystonetest.Token{UserID: "m1", ProjectID: "p1", Roles: []string{"member", "reader"}})
	if code, _ := call(http.MethodGet, "/ui/api/summary", member, ""); code != http.StatusForbidden {
		t.Errorf("summary as a member: %d, want 403", code)
	}

	ctx := browser(t)
	run(t, ctx, "log in with a password",
		chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), keystonetest.ServiceUser),
		chromedp.SendKeys(chromedp.ID("password"), keystonetest.ServicePassword),
		chromedp.SetValue(chromedp.ID("project"), keystonetest.ServiceProject),
		chromedp.Click(chromedp.CSS(`#login-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("capacity")))
	if who := value(t, ctx, "who", chromedp.Text(chromedp.ID("who"))); who != keystonetest.ServiceUser+" @ "+keystonetest.ServiceProject {
		t.Errorf("logged in as %q", who)
	}
	shot(t, ctx, screenshots(t), "keystone-overview")
}
