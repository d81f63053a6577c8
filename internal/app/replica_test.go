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
	"ingot/internal/metrics/metricstest"
	"ingot/internal/store/storetest"
)

// TestReplicasShareIronic runs two whole services (app.Run) on one PostgreSQL database and
// one fake Ironic: every node gets its provider, each node is owned by one of them (GET
// /v1/nodes/{uuid}/owner), GET /v1/replicas counts them all, and each one's /metrics
// agrees with the ownership rows; when one stops (a drain), the other owns everything.
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
	var last string // what the last check saw
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		last = ""
		for deadline := time.Now().Add(20 * time.Second); !ok(); {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s (%s)", what, last)
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

	// The metrics of both agree with the database: nodes owned per replica, none
	// unowned, two live; every change of owner (an epoch step) was counted by the replica
	// that made it. Ownership may still move (hand-offs after the warm-up), so the scrape
	// is compared with the epochs read before and after it, until both readings agree.
	epochs := func() (sum int64, owned map[string]int) {
		owned = map[string]int{}
		for _, id := range ids {
			o, err := admin(b).NodeOwner(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			sum += o.Epoch
			if o.Replica != nil {
				owned[*o.Replica]++
			}
		}
		return sum, owned
	}
	changes := func(f metricstest.Families) float64 {
		sum := 0.0
		for _, r := range []string{"claim", "expired", "handoff", "self", "move"} {
			sum += f.Value(t, "ingot_ownership_changes_total", "reason", r)
		}
		return sum
	}
	waitFor("metrics that match the ownership rows", func() bool {
		before, owned := epochs()
		fa, fb := metricstest.Scrape(t, a+"/metrics"), metricstest.Scrape(t, b+"/metrics")
		after, owned2 := epochs()
		if before != after || owned["a"] != owned2["a"] {
			last = "ownership moved during the scrape"
			return false
		}
		got := fmt.Sprintf("owned a=%v b=%v unowned %v/%v live %v/%v changes %v",
			fa.Value(t, "ingot_nodes_owned"), fb.Value(t, "ingot_nodes_owned"),
			fa.Value(t, "ingot_nodes_unowned"), fb.Value(t, "ingot_nodes_unowned"),
			fa.Value(t, "ingot_replicas_live"), fb.Value(t, "ingot_replicas_live"), changes(fa)+changes(fb))
		want := fmt.Sprintf("owned a=%d b=%d unowned 0/0 live 2/2 changes %d", owned["a"], owned["b"], before)
		last = got + "; want " + want
		return got == want
	})
	t.Log(last)
	fa := metricstest.Scrape(t, a+"/metrics")
	if v := fa.Value(t, "ingot_replica_info", "replica", "a"); v != 1 {
		t.Errorf("ingot_replica_info{replica=a} = %v", v)
	}
	if left := fa.Value(t, "ingot_lease_remaining_seconds"); left <= 0 || left > 3 {
		t.Errorf("lease remaining %v s, want in (0, 3] (TTL 3 s)", left)
	}
	for _, name := range []string{"ingot_fenced_write_rejections_total", "ingot_lease_renew_failures_total", "ingot_lease_losses_total"} {
		if v := fa.Value(t, name); v != 0 {
			t.Errorf("%s = %v, want 0 in a quiet run", name, v)
		}
	}
	// Bounded labels: only the info series names a replica.
	for name, fam := range fa {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "replica" && name != "ingot_replica_info" {
					t.Errorf("%s has a replica label", name)
				}
			}
		}
	}
	handoffs := metricstest.Scrape(t, b+"/metrics").Value(t, "ingot_ownership_changes_total", "reason", "handoff")

	stopA()
	waitFor("b owns every node after a left", func() bool { return owners(b)["b"] == n })
	waitFor("b's metrics after a left", func() bool {
		fb := metricstest.Scrape(t, b+"/metrics")
		last = fmt.Sprintf("owned %v unowned %v live %v handoffs %v (before %v)", fb.Value(t, "ingot_nodes_owned"),
			fb.Value(t, "ingot_nodes_unowned"), fb.Value(t, "ingot_replicas_live"),
			fb.Value(t, "ingot_ownership_changes_total", "reason", "handoff"), handoffs)
		return fb.Value(t, "ingot_nodes_owned") == n && fb.Value(t, "ingot_nodes_unowned") == 0 &&
			fb.Value(t, "ingot_replicas_live") == 1 &&
			fb.Value(t, "ingot_ownership_changes_total", "reason", "handoff") > handoffs
	})
	rs, err = admin(b).Replicas(context.Background())
	if err != nil || len(rs) != 1 || rs[0].ID != "b" || rs[0].NodesOwned != n {
		t.Fatalf("replicas after a left: %+v %v", rs, err)
	}
}
