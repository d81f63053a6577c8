package ui_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ingot/internal/app"
	"ingot/internal/app/apptest"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
)

// browser starts Debian's Chromium (INGOT_CHROMIUM, or chromium on the PATH) headless
// and returns a chromedp context on a fresh tab. Without Chromium the test skips, or
// fails when INGOT_REQUIRE_CHROMIUM=1 (CI: scripts/chromium.sh installs it).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("INGOT_CHROMIUM")
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		if os.Getenv("INGOT_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("INGOT_REQUIRE_CHROMIUM=1 but no Chromium: run scripts/chromium.sh")
		}
		t.Skip("no Chromium (scripts/chromium.sh installs Debian's); INGOT_REQUIRE_CHROMIUM=1 makes this a failure")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // as root in CI
		chromedp.WindowSize(1400, 900),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshots returns where the test's screenshots go: $INGOT_UI_SCREENSHOTS, or the
// test's artifact directory (go test -artifacts keeps it under -outputdir).
func screenshots(t *testing.T) string {
	if d := os.Getenv("INGOT_UI_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

// shot captures the whole page to dir/name.png.
func shot(t *testing.T, ctx context.Context, dir, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs chromedp actions with a deadline, failing the test with what was tried.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs one chromedp action with a deadline and returns its value.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// until waits for a JavaScript predicate.
func until(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond))
}

// TestDashboardInBrowser serves ingot (app.Run, the real handler) tracking a fake Ironic
// of 120 nodes, and in a real Chromium: logs in with a token, sees the capacity, filters
// to the maintenance nodes, opens one, and watches a state change made in Ironic appear
// without a reload. Each step leaves a screenshot; INGOT_UPDATE_SCREENSHOT=1 also
// writes the overview's to docs/img/dashboard.png (the README's).
func TestDashboardInBrowser(t *testing.T) {
	ctx := browser(t)
	dir := screenshots(t)
	const nodes = 120
	fake := ironictest.NewServer(t)
	ids := fake.AddNodes(nodes, fleetNode)

	cfg := app.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "ingot.db")
	cfg.IronicURL = fake.URL
	cfg.SyncInterval = time.Second
	base := "http://" + serveApp(t, cfg).String() + "/ui/"

	// Step 1: the login page; a token the policy refuses is told so; "admin" logs in.
	run(t, ctx, "open the login page", chromedp.Navigate(base), chromedp.WaitVisible(chromedp.ID("token")))
	shot(t, ctx, dir, "01-login")
	run(t, ctx, "log in as a non-admin",
		chromedp.SendKeys(chromedp.ID("token"), "alice"), chromedp.Click(chromedp.CSS(`#login-form button[type=submit]`)),
		until(`document.querySelector("#login-error").textContent.includes("may not read")`))
	run(t, ctx, "log in as admin",
		chromedp.SetValue(chromedp.ID("token"), "admin"), chromedp.Click(chromedp.CSS(`#login-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("capacity")))

	// Step 2: the capacity of the three classes, once the tracker has made every provider
	// and the instance controller has deployed a few instances (the page follows without
	// a reload).
	run(t, ctx, "see every node", until(fmt.Sprintf(
		`document.querySelector("#node-cards .n") && document.querySelector("#node-cards .n").textContent === "%d"`, nodes)))
	const instances = 9
	for i := range instances {
		body := fmt.Sprintf(`{"name": "web-%d", "request": {"resource_class": "%s"},
			"image": {"image_source": "http://images.example/web.qcow2", "image_checksum": "0123456789abcdef0123456789abcdef"}}`,
			i, []string{"baremetal-gold", "baremetal-silver", "baremetal-large"}[i%3])
		req, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(base, "/ui/")+"/v1/instances", strings.NewReader(body))
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("create instance: %s", resp.Status)
		}
	}
	run(t, ctx, "see the instances deployed", until(fmt.Sprintf(
		`Array.from(document.querySelectorAll("#node-cards .card")).some(c => c.querySelector(".l").textContent === "allocated" && c.querySelector(".n").textContent === "%d") &&
		Array.from(document.querySelectorAll("#node-cards .card")).some(c => c.querySelector(".l").textContent === "building" && c.querySelector(".n").textContent === "0") &&
		document.querySelector("table.events") !== null && document.querySelector("table.events").textContent.includes("active")`, instances)))
	capacity := value(t, ctx, "read the capacity", chromedp.Text(chromedp.ID("capacity")))
	for _, c := range []string{"CUSTOM_BAREMETAL_GOLD", "CUSTOM_BAREMETAL_SILVER", "CUSTOM_BAREMETAL_LARGE"} {
		if !strings.Contains(capacity, c) {
			t.Errorf("capacity table lacks %s:\n%s", c, capacity)
		}
	}
	overview := shot(t, ctx, dir, "02-overview")

	// Step 3: filter to the maintenance nodes with the filter bar.
	want := wantMaintenance(nodes)
	run(t, ctx, "filter to maintenance",
		chromedp.Click(chromedp.CSS(`a[data-nav="nodes"]`)),
		chromedp.WaitVisible(chromedp.ID("f-maintenance")),
		chromedp.SetValue(chromedp.ID("f-maintenance"), "true"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#f-maintenance").dispatchEvent(new Event("change"))`),
		until(fmt.Sprintf(`location.hash.includes("maintenance=true") && document.querySelectorAll("table.nodes tbody tr[data-uuid]").length === %d`, want)))
	rows := value(t, ctx, "count maintenance rows", chromedp.Evaluate[int](
		`Array.from(document.querySelectorAll("table.nodes tbody tr[data-uuid]")).filter(r => r.cells[5].textContent.trim() === "yes").length`))
	if rows != want {
		t.Errorf("%d rows marked in maintenance, want %d", rows, want)
	}
	shot(t, ctx, dir, "03-maintenance")

	// Step 4: open the first of them.
	first, uuid := "", ""
	for i := range nodes {
		if fleetNode(i).Maintenance {
			first, uuid = fleetNode(i).Name, ids[i]
			break
		}
	}
	run(t, ctx, "open a node",
		chromedp.Click(chromedp.CSS(`table.nodes tbody tr[data-uuid] td a`)),
		chromedp.WaitVisible(chromedp.ID("node-title")),
		chromedp.WaitVisible(chromedp.ID("inventory")))
	title := value(t, ctx, "read the title", chromedp.Text(chromedp.ID("node-title")))
	if !strings.Contains(title, first) || !strings.Contains(title, "maintenance") {
		t.Errorf("node page title %q, want %s in maintenance", title, first)
	}
	shot(t, ctx, dir, "04-node")

	// Step 5: the node leaves maintenance and goes to manageable in Ironic; the page shows
	// it without a reload (the marker set on this window survives).
	run(t, ctx, "mark the window", chromedp.Evaluate[chromedp.Void](`window.sameDocument = 42`))
	fake.UpdateNode(uuid, func(n *ironic.Node) {
		n.Maintenance, n.MaintenanceReason, n.ProvisionState = false, "", ironic.ProvisionStateManageable
	})
	run(t, ctx, "watch the change appear", until(`document.querySelector("#node-title").textContent.includes("manageable") &&
		!document.querySelector("#node-title").textContent.includes("maintenance") &&
		document.querySelector("table.events") !== null && document.querySelector("table.events").textContent.includes("provision_state")`))
	if same := value(t, ctx, "read the marker", chromedp.Evaluate[int](`window.sameDocument`)); same != 42 {
		t.Errorf("the page reloaded (marker %d)", same)
	}
	shot(t, ctx, dir, "05-live-change")

	// The instances and the tracker's passes.
	run(t, ctx, "list the instances", chromedp.Click(chromedp.CSS(`a[data-nav="instances"]`)),
		until(fmt.Sprintf(`document.querySelectorAll("table.instances tbody tr").length === %d`, instances)))
	shot(t, ctx, dir, "06-instances")
	run(t, ctx, "chart the passes", chromedp.Click(chromedp.CSS(`a[data-nav="tracker"]`)),
		chromedp.WaitVisible(chromedp.ID("pass-chart")),
		until(`document.querySelectorAll("#pass-chart rect.ok").length >= 3 && document.querySelectorAll("#passes tbody tr").length >= 3`))
	shot(t, ctx, dir, "07-tracker")
	t.Logf("screenshots in %s", dir)

	if os.Getenv("INGOT_UPDATE_SCREENSHOT") == "1" {
		png, err := os.ReadFile(overview)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "img", "dashboard.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// serveApp runs app.Run with cfg until the test ends and returns its address.
func serveApp(t *testing.T, cfg app.Config) net.Addr {
	t.Helper()
	return apptest.Serve(t, cfg, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// TestDashboardFirstLoad measures, in Chromium, the dashboard's first page load at
// 10,000 nodes and 2,000 instances: from navigation start to the overview's data
// rendered (window.ingotFirstRender, performance.now() when the first page's data is in
// the DOM). Cold: the server's first snapshot is built by that load; warm: a reload.
// The nodes page (first page of 50, filtered server-side) is measured the same way.
// The target is under 1 s; without the race detector the test fails above it.
func TestDashboardFirstLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a fleet of 10,000 nodes; -short leaves it out")
	}
	ctx := browser(t)
	dir := screenshots(t)
	start := time.Now()
	f := newFleet(t, 10000, 2000)
	t.Logf("fleet of 10,000 nodes and 2,000 instances built in %v", time.Since(start).Round(time.Millisecond))
	base := f.url + "/ui/"
	run(t, ctx, "open", chromedp.Navigate(base), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem("ingot.token", "admin")`))
	load := func(what, url, page string) float64 {
		run(t, ctx, what, chromedp.Navigate("about:blank"), chromedp.Navigate(url))
		// Poll from Go: a poll in the page does not survive the page's own navigation.
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.rendered || ""`))
			if err == nil && strings.HasPrefix(got, page+":") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not rendered (%q, %v)", what, got, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		ms := value(t, ctx, what, chromedp.Evaluate[float64](`window.ingotFirstRender`))
		t.Logf("%s: %.0f ms from navigation start to data rendered", what, ms)
		return ms
	}
	cold := load("overview, cold", base, "overview")
	warm := load("overview, warm", base+"#/", "overview")
	shot(t, ctx, dir, "10k-overview")
	nodes := load("nodes page", base+"#/nodes?maintenance=true", "nodes")
	total := value(t, ctx, "count", chromedp.Text(chromedp.ID("node-total")))
	if want := fmt.Sprintf("%d of 10,000", wantMaintenance(10000)); !strings.Contains(total, want) {
		t.Errorf("nodes page says %q, want %q", total, want)
	}
	shot(t, ctx, dir, "10k-nodes")
	inst := load("instances page", base+"#/instances?fault=true", "instances")
	// The 1 s target holds for ingot as built; under the race detector (scripts/test.sh)
	// the server and its pure-Go SQLite run several times slower, so the figures are
	// only logged there.
	if !raceEnabled && (cold > 1000 || warm > 1000 || nodes > 1000 || inst > 1000) {
		t.Errorf("first page load over 1 s: cold %.0f ms, warm %.0f ms, nodes %.0f ms, instances %.0f ms", cold, warm, nodes, inst)
	}
}
