package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/policy"
	"ingot/internal/reconcile"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
	"ingot/internal/ui"
)

type replicaSummary struct {
	Replicas *[]struct {
		ID        string  `json:"id"`
		Address   string  `json:"address"`
		Live      bool    `json:"live"`
		Draining  bool    `json:"draining"`
		LeaseAge  float64 `json:"lease_age_seconds"`
		LeaseLeft float64 `json:"lease_remaining_seconds"`
		Owned     int     `json:"nodes_owned"`
	} `json:"replicas"`
}

type nodeOwnership struct {
	Ownership *struct {
		Replica   string   `json:"replica"`
		Epoch     int64    `json:"epoch"`
		OwnedFor  *float64 `json:"owned_for_seconds"`
		HandoffTo string   `json:"handoff_to"`
	} `json:"ownership"`
}

// TestReplicasPanel: on PostgreSQL the overview lists the replicas sharing the database
// (address, lease, nodes owned, as the database counts them) and a node's page names its
// owner and epoch and a pending hand-off; an unowned node says so, a node no replica
// listed has no ownership; on SQLite (one process) neither appears.
func TestReplicasPanel(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.Postgres)
	fake := ironictest.NewServer(t)
	ids := fake.AddNodes(6, func(i int) ironic.Node {
		return ironic.Node{Name: fmt.Sprintf("n%d", i), ResourceClass: "gold", ProvisionState: ironic.ProvisionStateAvailable}
	})
	client, err := ironic.New(ironic.Config{URL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)
	tracker := reconcile.New(client, db, reconcile.Config{})
	if _, err := tracker.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"r1", "r2"} {
		if _, err := db.RegisterReplica(ctx, store.ReplicaInfo{ID: r, Incarnation: r + "-1", Addr: r + ":8778"}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	// Registration made a row for every tracked node; one more node is listed by the
	// tracker but by no replica. r1 claims two, r2 two, the others stay unowned; r1 hands
	// its second to r2.
	late := fake.AddNodes(1, func(int) ironic.Node {
		return ironic.Node{Name: "late", ResourceClass: "gold", ProvisionState: ironic.ProvisionStateAvailable}
	})[0]
	if _, err := tracker.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	var scopes []store.NodeScope
	for _, id := range ids[:5] {
		scopes = append(scopes, store.NodeScope{Node: id})
	}
	if _, err := db.EnsureNodeOwners(ctx, scopes); err != nil {
		t.Fatal(err)
	}
	for r, nodes := range map[string][]string{"r1": ids[0:2], "r2": ids[2:4]} {
		if c, err := db.ClaimNodes(ctx, r, "", nodes); err != nil || len(c) != 2 {
			t.Fatalf("claim for %s: %v %v", r, c, err)
		}
	}
	if ok, err := db.HandOff(ctx, ids[1], "r1", 1, "r2"); err != nil || !ok {
		t.Fatalf("hand-off: %v %v", ok, err)
	}

	enforcer, err := policy.New(policy.Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	h := ui.New(db, ui.Options{Policy: enforcer, Tracker: tracker})
	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("X-Auth-Token", "admin")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	s := decode[replicaSummary](t, get("/ui/api/summary"))
	if s.Replicas == nil || len(*s.Replicas) != 2 {
		t.Fatalf("replicas: %+v", s.Replicas)
	}
	for i, r := range *s.Replicas {
		want := []string{"r1", "r2"}[i]
		if r.ID != want || r.Address != want+":8778" || !r.Live || r.Draining || r.Owned != 2 ||
			r.LeaseAge < 0 || r.LeaseAge > 30 || r.LeaseLeft < 30 || r.LeaseLeft > 60 {
			t.Errorf("replica %d: %+v, want %s live owning 2 with a fresh lease of a minute", i, r, want)
		}
	}

	for _, c := range []struct {
		node             string
		replica, handoff string
		epoch            int64
		none             bool
	}{
		{node: ids[0], replica: "r1", epoch: 1},
		{node: ids[1], replica: "r1", epoch: 1, handoff: "r2"},
		{node: ids[2], replica: "r2", epoch: 1},
		{node: ids[4], epoch: 0},
		{node: ids[5], epoch: 0},
		{node: late, none: true},
	} {
		o := decode[nodeOwnership](t, get("/ui/api/nodes/"+c.node))
		if c.none {
			if o.Ownership != nil {
				t.Errorf("node %s, listed by no replica: ownership %+v", c.node, o.Ownership)
			}
			continue
		}
		if o.Ownership == nil || o.Ownership.Replica != c.replica || o.Ownership.Epoch != c.epoch ||
			o.Ownership.HandoffTo != c.handoff || (c.replica != "") != (o.Ownership.OwnedFor != nil) {
			t.Errorf("node %s: ownership %+v, want %+v", c.node, o.Ownership, c)
		}
	}

	// SQLite: one process, no replica panel or ownership.
	f := newFleet(t, 5, 0)
	if s := decode[replicaSummary](t, f.get(t, "/ui/api/summary")); s.Replicas != nil {
		t.Errorf("SQLite summary lists replicas: %+v", *s.Replicas)
	}
	if o := decode[nodeOwnership](t, f.get(t, "/ui/api/nodes/"+f.ids[0])); o.Ownership != nil {
		t.Errorf("SQLite node page has an ownership: %+v", o.Ownership)
	}
}
