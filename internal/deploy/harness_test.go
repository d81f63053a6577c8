package deploy_test

import (
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/deploy"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/reconcile"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// harness is one ingot (database, tracker, controller) against one fake Ironic whose
// transitions wait for Advance.
type harness struct {
	t       *testing.T
	db      *store.DB
	fake    *ironictest.Server
	client  *ironic.Client
	tracker *reconcile.Reconciler
	ctrl    *deploy.Controller
	cfg     deploy.Config
	nodes   []string
}

func logger() *slog.Logger {
	if os.Getenv("DEPLOY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}

// goldNode is a schedulable node of class "gold".
func goldNode(i int) ironic.Node {
	return ironic.Node{
		UUID:           fmt.Sprintf("0000000%d-aaaa-4aaa-8aaa-%012d", i%10, i),
		Name:           fmt.Sprintf("node-%d", i),
		ResourceClass:  "gold",
		PowerState:     "power off",
		ProvisionState: "available",
		Traits:         []string{"CUSTOM_GPU"},
	}
}

func newHarness(t *testing.T, db *store.DB, nodes int, cfg deploy.Config, opts ...ironictest.Option) *harness {
	t.Helper()
	h := &harness{t: t, db: db, fake: ironictest.NewServer(t, append([]ironictest.Option{ironictest.WithAsync()}, opts...)...)}
	h.nodes = h.fake.AddNodes(nodes, goldNode)
	var err error
	h.client, err = ironic.New(ironic.Config{URL: h.fake.URL, Retry: ironic.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	h.tracker = reconcile.New(h.client, db, reconcile.Config{})
	h.pass()
	if cfg.Refresh == nil {
		cfg.Refresh = h.tracker.Refresh
	}
	if cfg.Logger == nil {
		cfg.Logger = logger()
	}
	if cfg.WatchInterval == 0 {
		// Tests tick by hand, faster than any interval: let every tick watch.
		cfg.WatchInterval = time.Nanosecond
	}
	h.cfg = cfg
	h.ctrl = deploy.New(h.client, db, cfg)
	return h
}

// restart replaces the controller by a new one on the same database and Ironic, as after
// a crash: nothing in memory survives.
func (h *harness) restart() {
	h.ctrl.Wait()
	h.ctrl = deploy.New(h.client, h.db, h.cfg)
}

func (h *harness) pass() reconcile.Stats {
	h.t.Helper()
	st, err := h.tracker.Pass(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// tick runs one controller tick and waits for its steps.
func (h *harness) tick() {
	h.t.Helper()
	if err := h.ctrl.Tick(h.t.Context()); err != nil {
		h.t.Fatal(err)
	}
	h.ctrl.Wait()
}

// until ticks (advancing Ironic's transitions when advance is set) until cond holds.
func (h *harness) until(what string, advance bool, cond func() bool) {
	h.t.Helper()
	for range 60 {
		if cond() {
			return
		}
		h.tick()
		if advance {
			h.fake.AdvanceAll()
		}
	}
	h.t.Fatalf("never reached: %s", what)
}

func (h *harness) create(i int, req baremetal.Request) baremetal.Instance {
	h.t.Helper()
	in := baremetal.Instance{
		UUID: fmt.Sprintf("1111111%d-bbbb-4bbb-8bbb-%012d", i%10, i), Name: fmt.Sprintf("web %d", i),
		ProjectID: "p1", UserID: "u1",
		Spec: baremetal.Spec{
			Request: req,
			Image:   baremetal.Image{Source: "http://images.example/disk.qcow2", Checksum: "0123456789abcdef0123456789abcdef"},
			ConfigDrive: baremetal.ConfigDrive{UserData: "#cloud-config\n", SSHKeys: map[string]string{"k": "ssh-ed25519 AAAA"},
				MetaData: map[string]string{"role": "web"}},
		},
	}
	out, created, err := h.db.CreateInstance(h.t.Context(), in)
	if err != nil || !created {
		h.t.Fatalf("create: %v %v", created, err)
	}
	return out
}

func (h *harness) instance(uuid string) baremetal.Instance {
	h.t.Helper()
	in, err := h.db.Instance(h.t.Context(), uuid)
	if err != nil {
		h.t.Fatal(err)
	}
	return in
}

// delete asks for the instance's deletion as the API does.
func (h *harness) delete(uuid string) {
	h.t.Helper()
	for range 10 {
		in := h.instance(uuid)
		in.State, in.Task = baremetal.StateDeleting, baremetal.TaskTearingDown
		if _, err := h.db.UpdateInstance(h.t.Context(), in); err == nil {
			return
		}
	}
	h.t.Fatalf("could not delete %s", uuid)
}

func (h *harness) node(id string) ironic.Node {
	h.t.Helper()
	n, ok := h.fake.Node(id)
	if !ok {
		h.t.Fatalf("no node %s", id)
	}
	return n
}

// allocation returns the provider the instance's allocation is on ("" for none).
func (h *harness) allocation(uuid string) string {
	h.t.Helper()
	_, allocs, ok, err := h.db.ConsumerAllocations(h.t.Context(), uuid)
	if err != nil {
		h.t.Fatal(err)
	}
	if !ok {
		return ""
	}
	if len(allocs) != 1 || allocs[0].Used != 1 || allocs[0].ResourceClass != "CUSTOM_GOLD" {
		h.t.Fatalf("allocations of %s: %+v", uuid, allocs)
	}
	return allocs[0].ProviderUUID
}

// candidates returns what the scheduler offers a gold request now.
func (h *harness) candidates() []string {
	h.t.Helper()
	v, err := h.db.View(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	nodes, err := deploy.Schedule(deploy.ScheduleInput{View: v, Request: baremetal.Request{ResourceClass: "gold"}, ProjectID: "p1"})
	if err != nil {
		h.t.Fatal(err)
	}
	return nodes
}

// checkInvariants fails the test when the controller's invariant check finds anything.
func (h *harness) checkInvariants() deploy.Report {
	h.t.Helper()
	nodes, err := h.client.ListNodes(h.t.Context(), ironic.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	h.ctrl.ObserveNodes(nodes)
	r, err := h.ctrl.Check(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	if len(r.Claims)+len(r.Foreign)+len(r.Stale)+len(r.Lost) > 0 {
		h.t.Fatalf("invariants broken: %+v", r)
	}
	// No node holds two instances, and every node's instance holds that node.
	live, err := h.db.ListInstances(h.t.Context(), store.InstanceFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	held := map[string]string{}
	for _, in := range live {
		if in.Node != "" {
			if other, ok := held[in.Node]; ok {
				h.t.Fatalf("node %s held by %s and %s", in.Node, other, in.UUID)
			}
			held[in.Node] = in.UUID
		}
		if in.Locked && in.Node == "" {
			h.t.Fatalf("instance %s locked without a node", in.UUID)
		}
	}
	for _, n := range nodes {
		if n.InstanceUUID != "" && held[n.UUID] != n.InstanceUUID {
			h.t.Fatalf("node %s shows instance %s but %q holds it", n.UUID, n.InstanceUUID, held[n.UUID])
		}
	}
	return r
}

func each(t *testing.T, fn func(t *testing.T, db *store.DB)) { storetest.Each(t, fn) }
