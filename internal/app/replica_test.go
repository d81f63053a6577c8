package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"ingot/internal/app"
	"ingot/internal/instanceapi/client"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/store/storetest"
)

// TestReplicasShareIronic runs two whole services (app.Run) on one PostgreSQL database and
// one fake Ironic: every node gets its provider, each node is owned by one of them (GET
// /v1/nodes/{uuid}/owner), and GET /v1/replicas counts them all; when one stops (a drain),
// the other owns everything.
func TestReplicasShareIronic(t *testing.T) {
	const n = 20
	dsn := storetest.DSN(t, storetest.Postgres)
	s := ironictest.NewServer(t)
	ids := s.AddNodes(n, func(i int) ironic.Node {
		return ironic.Node{Name: fmt.Sprintf("n%d", i), ResourceClass: "gold", ProvisionState: ironic.ProvisionStateAvailable}
	})
	start := func(id string) (string, func()) {
		cfg := app.DefaultConfig()
		cfg.ListenAddr, cfg.DatabaseURL, cfg.IronicURL = "127.0.0.1:0", dsn, s.URL
		cfg.SyncInterval = time.Second
		cfg.ReplicaID = id
		cfg.ReplicaTTL, cfg.ReplicaRenewInterval, cfg.ReplicaScanInterval = 3*time.Second, 500*time.Millisecond, 250*time.Millisecond
		cfg.ReplicaResidence = time.Second
		ctx, stop := context.WithCancel(context.Background())
		ready := make(chan net.Addr, 1)
		done := make(chan error, 1)
		go func() { done <- app.Run(ctx, cfg, slog.New(slog.DiscardHandler), ready) }()
		var addr net.Addr
		select {
		case addr = <-ready:
		case err := <-done:
			t.Fatalf("app.Run: %v", err)
		}
		stopped := false
		halt := func() {
			if stopped {
				return
			}
			stopped = true
			stop()
			if err := <-done; err != nil {
				t.Errorf("app.Run %s: %v", id, err)
			}
		}
		t.Cleanup(halt)
		return "http://" + addr.String(), halt
	}
	a, stopA := start("a")
	b, _ := start("b")
	admin := func(base string) *client.Client {
		return &client.Client{URL: base, Token: "admin", Header: http.Header{"X-Roles": {"admin"}, "X-Project-Id": {"p"}}}
	}
	owners := func(base string) map[string]int {
		out := map[string]int{}
		for _, id := range ids {
			o, err := admin(base).NodeOwner(context.Background(), id)
			if err != nil || o.Replica == nil {
				out[""]++
				continue
			}
			out[*o.Replica]++
		}
		return out
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("both own nodes and every node has a provider", func() bool {
		o := owners(b)
		var provs struct {
			ResourceProviders []any `json:"resource_providers"`
		}
		placementGet(t, a+"/resource_providers", &provs)
		return o["a"] > 0 && o["b"] > 0 && o["a"]+o["b"] == n && len(provs.ResourceProviders) == n
	})
	rs, err := admin(a).Replicas(context.Background())
	if err != nil || len(rs) != 2 || rs[0].NodesOwned+rs[1].NodesOwned != n {
		t.Fatalf("replicas: %+v %v", rs, err)
	}
	stopA()
	waitFor("b owns every node after a left", func() bool { return owners(b)["b"] == n })
	rs, err = admin(b).Replicas(context.Background())
	if err != nil || len(rs) != 1 || rs[0].ID != "b" || rs[0].NodesOwned != n {
		t.Fatalf("replicas after a left: %+v %v", rs, err)
	}
}
