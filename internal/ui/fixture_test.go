package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"ingot/internal/baremetal"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/policy"
	"ingot/internal/reconcile"
	"ingot/internal/store"
	"ingot/internal/ui"
)

// fleetNode is node i of a test fleet: three classes, four conductor groups, five
// owners, and a mix of states: every 50th in maintenance, every 97th failed cleaning
// with a last error, every 200th with a power fault (and in maintenance), every 31st
// cleaning, every 4th active.
func fleetNode(i int) ironic.Node {
	n := ironic.Node{
		Name:           fmt.Sprintf("node-%05d", i),
		ResourceClass:  []string{"baremetal-gold", "baremetal-silver", "baremetal-large"}[i%3],
		ConductorGroup: fmt.Sprintf("rack-%c", 'a'+i%4),
		Owner:          []string{"", "team-db", "team-web", "team-ml", "team-ci"}[i%5],
		PowerState:     ironic.PowerOff,
		ProvisionState: ironic.ProvisionStateAvailable,
		Traits:         []string{"CUSTOM_RACK_" + fmt.Sprint(i%4)},
	}
	switch {
	case i%200 == 11:
		n.Maintenance, n.MaintenanceReason, n.Fault = true, "power failure", "power failure"
		n.PowerState = ""
	case i%97 == 3:
		n.ProvisionState, n.LastError = ironic.ProvisionStateCleanFailed, "Timeout reached while cleaning the node"
	case i%50 == 7:
		n.Maintenance, n.MaintenanceReason = true, "disk replacement"
	case i%31 == 5:
		n.ProvisionState = ironic.ProvisionStateCleaning
	}
	return n
}

// wantMaintenance counts the maintenance nodes among the first n of fleetNode.
func wantMaintenance(n int) int {
	c := 0
	for i := range n {
		if fleetNode(i).Maintenance {
			c++
		}
	}
	return c
}

// fleet is a fake Ironic with n nodes, a store whose providers the tracker made from it
// (one pass), and instances live instances claimed on available nodes: every 20th in
// error with a fault, the rest active.
type fleet struct {
	db      *store.DB
	ironic  *ironictest.Server
	tracker *reconcile.Reconciler
	ids     []string
	handler *ui.Handler
	url     string // of an httptest server of the handler alone
}

func newFleet(t testing.TB, n, instances int) *fleet {
	t.Helper()
	ctx := context.Background()
	f := &fleet{ironic: ironictest.NewServer(t)}
	f.ids = f.ironic.AddNodes(n, fleetNode)
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "ingot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	client, err := ironic.New(ironic.Config{URL: f.ironic.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)
	f.tracker = reconcile.New(client, db, reconcile.Config{})
	if st, err := f.tracker.Pass(ctx); err != nil || st.Changes != n {
		t.Fatalf("tracker pass: %+v, %v", st, err)
	}
	made := 0
	for i := 0; made < instances && i < n; i++ {
		node := fleetNode(i)
		if node.ProvisionState != ironic.ProvisionStateAvailable || node.Maintenance {
			continue
		}
		in := baremetal.Instance{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", made), Name: fmt.Sprintf("vm-%05d", made),
			ProjectID: "demo", UserID: "alice", State: baremetal.StateBuilding, Task: baremetal.TaskScheduling,
			Spec: baremetal.Spec{Request: baremetal.Request{ResourceClass: node.ResourceClass}}, SpecHash: "h"}
		in, _, err := db.CreateInstance(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		in.Node, in.Task, in.Attempts = f.ids[i], baremetal.TaskLocking, 1
		if in, err = db.ClaimInstance(ctx, in, reconcile.ResourceClass(node.ResourceClass)); err != nil {
			t.Fatalf("claim %s: %v", in.UUID, err)
		}
		in.State, in.Task = baremetal.StateActive, baremetal.TaskNone
		if made%20 == 0 {
			in.State = baremetal.StateError
			in.Fault = &baremetal.Fault{Code: "deploy_failed", Message: "Ironic: deploy failed on " + node.Name}
		}
		if _, err := db.UpdateInstance(ctx, in); err != nil {
			t.Fatal(err)
		}
		made++
	}
	f.handler = f.newHandler(t)
	hs := httptest.NewServer(f.handler)
	t.Cleanup(hs.Close)
	f.url = hs.URL
	return f
}

// newHandler returns a new dashboard over the fleet (noauth2, default policy), with no
// snapshot built yet.
func (f *fleet) newHandler(t testing.TB) *ui.Handler {
	enforcer, err := policy.New(policy.Options{EnforceNewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	return ui.New(f.db, ui.Options{Policy: enforcer, Tracker: f.tracker})
}

// get serves one request to the handler as the admin (token "admin", noauth2).
func (f *fleet) get(t testing.TB, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("X-Auth-Token", "admin")
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}
