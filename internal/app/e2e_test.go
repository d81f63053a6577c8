package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ingot/internal/app"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/reconcile"
)

// TestEndToEnd runs the whole service (app.Run: the Placement API and the Ironic resource
// tracker, on SQLite) against the fake Ironic and, when INGOT_IRONIC_URL is set, against a
// real one (scripts/ironic/env.sh starts one; scripts/test.sh does so for CI), and watches
// the nodes through the Placement API:
//
//	eval "$(scripts/ironic/env.sh)" && go test -race -run TestEndToEnd ./internal/app/
//
// INGOT_IRONIC_CONDUCTOR_GROUP (default "ingot") names the group the real conductor serves;
// INGOT_IRONIC_USER and INGOT_IRONIC_PASSWORD select HTTP basic authentication. The test
// enrolls its own nodes (names carry a random run id), deletes them at the end and makes
// no assertion about other nodes, so it can share an Ironic with the contract suite.
func TestEndToEnd(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		t.Parallel()
		s := ironictest.NewServer(t, ironictest.WithConductorGroups("ingot"))
		runEndToEnd(t, s.URL, "ingot", "", "")
	})
	t.Run("real", func(t *testing.T) {
		r := ironictest.RealIronic(t)
		runEndToEnd(t, r.URL, r.ConductorGroup, r.User, r.Password)
	})
}

func runEndToEnd(t *testing.T, ironicURL, group, user, password string) {
	ctx := t.Context()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	icfg := ironic.Config{URL: ironicURL, Logger: log.With("component", "test-client")}
	if user != "" {
		icfg.Transport = &ironic.BasicAuth{Username: user, Password: password}
	}
	client, err := ironic.New(icfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)

	run := randomHex(4)
	class := "CUSTOM_E2E_" + strings.ToUpper(run)
	specs := make([]ironictest.NodeSpec, 3)
	for i := range specs {
		specs[i] = ironictest.NodeSpec{
			NodeCreate: ironic.NodeCreate{Name: fmt.Sprintf("e2e-%s-%d", run, i), Driver: "fake-hardware",
				ResourceClass: "e2e-" + run, ConductorGroup: group},
			Traits: []string{fmt.Sprintf("%s_%d", class, i)},
		}
	}
	ids, err := ironictest.Enroll(ctx, client, specs, 3)
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	t.Cleanup(func() {
		for _, id := range ids {
			if err := client.DeleteNode(context.Background(), id); err != nil && !errors.Is(err, ironic.ErrNotFound) {
				t.Logf("cleanup: %v", err)
			}
		}
	})

	// The service, with a logger that reports every finished tracker pass.
	passes := make(chan struct{}, 64)
	cfg := app.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "ingot.db")
	cfg.IronicURL, cfg.IronicConductorGroup = ironicURL, group
	cfg.IronicUsername, cfg.IronicPassword = user, password
	cfg.SyncInterval = time.Second
	runCtx, stop := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(runCtx, cfg, slog.New(&passWatcher{Handler: log.Handler(), passes: passes}), ready)
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("app.Run: %v", err)
		}
	})
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr.String()
	case err := <-done:
		t.Fatalf("app.Run: %v", err)
	}
	// afterPass returns once a pass that started after the call has finished.
	afterPass := func() {
		t.Helper()
		for len(passes) > 0 {
			<-passes
		}
		for range 2 { // the first may have started before the call
			select {
			case <-passes:
			case err := <-done:
				t.Fatalf("app.Run: %v", err)
			case <-time.After(2 * time.Minute):
				t.Fatal("no tracker pass for 2 minutes")
			}
		}
	}
	inventory := func(id string) (placementInventory, int) {
		t.Helper()
		var body struct {
			Inventories map[string]placementInventory `json:"inventories"`
		}
		status := placementGet(t, base+"/resource_providers/"+id+"/inventories", &body)
		return body.Inventories[class], status
	}
	traits := func(id string) []string {
		t.Helper()
		var body struct {
			Traits []string `json:"traits"`
		}
		if status := placementGet(t, base+"/resource_providers/"+id+"/traits", &body); status != http.StatusOK {
			t.Fatalf("traits of %s: %d", id, status)
		}
		slices.Sort(body.Traits)
		return body.Traits
	}
	wantReserved := func(id string, reserved int64) {
		t.Helper()
		inv, status := inventory(id)
		want := placementInventory{Total: 1, Reserved: reserved, MinUnit: 1, MaxUnit: 1, StepSize: 1, AllocationRatio: 1}
		if status != http.StatusOK || inv != want {
			t.Fatalf("inventory of %s: %d %+v; want %+v", id, status, inv, want)
		}
	}

	t.Log("enrolled nodes appear as providers")
	afterPass()
	for i, id := range ids {
		var p struct {
			UUID, Name string
		}
		if status := placementGet(t, base+"/resource_providers/"+id, &p); status != http.StatusOK || p.Name != id {
			t.Fatalf("provider %s: %d %+v", id, status, p)
		}
		wantReserved(id, 0)
		if got, want := traits(id), specs[i].Traits; !slices.Equal(got, want) {
			t.Fatalf("traits of %s = %v, want %v", id, got, want)
		}
	}
	var inGroup struct {
		Providers []struct{ UUID string } `json:"resource_providers"`
	}
	placementGet(t, base+"/resource_providers?member_of="+reconcile.AggregateUUID(reconcile.AggregateConductorGroup, group), &inGroup)
	for _, id := range ids {
		if !slices.ContainsFunc(inGroup.Providers, func(p struct{ UUID string }) bool { return p.UUID == id }) {
			t.Fatalf("member_of the conductor group's aggregate misses %s", id)
		}
	}

	t.Log("maintenance on and off flips reserved")
	if err := client.SetMaintenance(ctx, ids[0], "ingot e2e"); err != nil {
		t.Fatal(err)
	}
	afterPass()
	wantReserved(ids[0], 1)
	if err := client.UnsetMaintenance(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	afterPass()
	wantReserved(ids[0], 0)

	t.Log("trait changes follow")
	newTraits := []string{class + "_NEW", "HW_CPU_X86_AVX2"}
	if err := client.SetTraits(ctx, ids[1], newTraits); err != nil {
		t.Fatal(err)
	}
	afterPass()
	if got := traits(ids[1]); !slices.Equal(got, []string{class + "_NEW", "HW_CPU_X86_AVX2"}) {
		t.Fatalf("traits after the change = %v", got)
	}

	t.Log("a node deleted in Ironic loses its provider")
	if err := client.DeleteNode(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	afterPass()
	if _, status := inventory(ids[2]); status != http.StatusNotFound {
		t.Fatalf("provider of the deleted node: %d, want 404", status)
	}

	t.Log("a provider deleted by hand returns within one pass")
	if status := placementDo(t, http.MethodDelete, base+"/resource_providers/"+ids[0], nil); status != http.StatusNoContent {
		t.Fatalf("DELETE provider: %d", status)
	}
	afterPass()
	wantReserved(ids[0], 0)
	if got, want := traits(ids[0]), specs[0].Traits; !slices.Equal(got, want) {
		t.Fatalf("traits of the re-created provider = %v, want %v", got, want)
	}
}

type placementInventory struct {
	Total           int64   `json:"total"`
	Reserved        int64   `json:"reserved"`
	MinUnit         int64   `json:"min_unit"`
	MaxUnit         int64   `json:"max_unit"`
	StepSize        int64   `json:"step_size"`
	AllocationRatio float64 `json:"allocation_ratio"`
}

func placementGet(t *testing.T, url string, out any) int {
	t.Helper()
	return placementDo(t, http.MethodGet, url, out)
}

func placementDo(t *testing.T, method, url string, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("OpenStack-API-Version", "placement 1.39")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return resp.StatusCode
}

// passWatcher passes records on to Handler and signals every finished tracker pass.
type passWatcher struct {
	slog.Handler
	passes chan struct{}
}

func (h *passWatcher) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "tracker pass" {
		select {
		case h.passes <- struct{}{}:
		default:
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *passWatcher) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &passWatcher{Handler: h.Handler.WithAttrs(attrs), passes: h.passes}
}

func (h *passWatcher) WithGroup(name string) slog.Handler {
	return &passWatcher{Handler: h.Handler.WithGroup(name), passes: h.passes}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
