package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"ingot/internal/baremetal"
	"ingot/internal/ingottest"
	"ingot/internal/instanceapi"
	"ingot/internal/instanceapi/client"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/metrics/metricstest"
	"ingot/internal/reconcile"
	"ingot/internal/store/storetest"
)

func TestMain(m *testing.M) { ingottest.Main(m) }

// ingotProc is ingot's binary running `serve` on a database of its own, which a restart
// keeps.
type ingotProc struct {
	t       *testing.T
	bin     string
	args    []string
	base    string // the API's base URL
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

// startIngot starts ingot tracking and driving the Ironic at ironicURL (nodes of group),
// with a tracker pass every second, and stops it when the test ends.
func startIngot(t *testing.T, ironicURL, group string, extra ...string) *ingotProc {
	t.Helper()
	return startIngotOn(t, "sqlite:"+filepath.Join(t.TempDir(), "ingot.db"), ironicURL, group, extra...)
}

// startIngotOn is startIngot on the database db (a PostgreSQL database shared by
// replicas).
func startIngotOn(t *testing.T, db, ironicURL, group string, extra ...string) *ingotProc {
	t.Helper()
	dir := t.TempDir()
	port := ingottest.FreePort(t)
	p := &ingotProc{
		t: t, bin: ingottest.Binary(t),
		base:    "http://127.0.0.1:" + strconv.Itoa(port),
		logPath: filepath.Join(dir, "ingot.log"),
		args: append([]string{"serve", "--listen", "127.0.0.1:" + strconv.Itoa(port),
			"--database", db,
			"--ironic-url", ironicURL, "--ironic-conductor-group", group,
			"--sync-interval", "1s", "--log-format", "json"}, extra...),
	}
	p.start()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			// The tracker's pass lines say little here; everything else is kept.
			b, _ := os.ReadFile(p.logPath)
			var keep []string
			for _, l := range strings.Split(string(b), "\n") {
				if !strings.Contains(l, `"msg":"tracker pass"`) {
					keep = append(keep, l)
				}
			}
			t.Logf("ingot's log, without tracker passes (%d starts):\n%s", p.starts, ingottest.Tail([]byte(strings.Join(keep, "\n")), 60000))
		}
	})
	return p
}

// start starts the process and waits until its API answers.
func (p *ingotProc) start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "INGOT_") })
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	p.cmd, p.exited = cmd, exited
	p.starts++
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.base + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(p.logPath)
			p.t.Fatalf("ingot exited at start (%v):\n%s", cmd.ProcessState, ingottest.Tail(b, 4000))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatal("ingot did not answer within 60 s")
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *ingotProc) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.cmd = nil
}

// stop sends SIGTERM and waits (SIGKILL after 20 s).
func (p *ingotProc) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
	p.cmd = nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// api talks to ingot's instance and Placement APIs as an admin of one project
// (noauth2: the token "admin"), through the API's own Go client (instanceapi/client).
// With several ingot processes (replicas) each call goes to the next one in turn.
type api struct {
	project string
	clients []*client.Client
	next    atomic.Uint64
	// procs are the processes behind the API, for the checks of replicas.
	procs []*ingotProc
}

func newAPI(project string, procs ...*ingotProc) *api {
	hc := &http.Client{Timeout: 30 * time.Second}
	a := &api{project: project, procs: procs}
	for _, p := range procs {
		a.clients = append(a.clients, &client.Client{URL: p.base, Token: "admin", HTTP: hc,
			Header: http.Header{"X-Roles": {"admin,member,reader"}, "X-Project-Id": {project}, "X-User-Id": {"e2e"}}})
	}
	return a
}

// cl returns the client of the next process.
func (a *api) cl() *client.Client {
	return a.clients[(a.next.Add(1)-1)%uint64(len(a.clients))]
}

// deployment is how a test runs ingot: one process on SQLite, or replicas processes
// sharing one PostgreSQL database (and the one Ironic).
type deployment struct {
	name     string
	replicas int // 0: one process on SQLite
}

// deployments are the ways the instance scenarios run.
var deployments = []deployment{{name: "sqlite"}, {name: "2 replicas on postgresql", replicas: 2}}

// replicaFlags make ownership move within a test: a short lease, frequent scans, and
// rebalancing a couple of seconds after the warm-up, so that nodes are handed over while
// instances are built and deleted.
var replicaFlags = []string{"--replica-ttl", "6s", "--replica-renew-interval", "1s", "--replica-scan-interval", "500ms",
	"--replica-residence", "2s"}

// start starts ingot as the deployment says, tracking and driving the Ironic r, and
// returns an API spreading its calls over every process.
func (d deployment) start(t *testing.T, r ironictest.Real, project string) *api {
	t.Helper()
	if d.replicas == 0 {
		return newAPI(project, startIngot(t, r.URL, r.ConductorGroup, ingotFlags...))
	}
	db := storetest.DSN(t, storetest.Postgres)
	var procs []*ingotProc
	for i := range d.replicas {
		flags := append([]string{"--replica-id", fmt.Sprintf("e2e-%d", i)}, replicaFlags...)
		procs = append(procs, startIngotOn(t, db, r.URL, r.ConductorGroup, append(flags, ingotFlags...)...))
	}
	return newAPI(project, procs...)
}

// checkOwnedOnce returns why the nodes are not each owned by exactly one live replica:
// the API (the database) must name a live owner for every node, no node may be unowned,
// and the nodes each replica owns in memory (ingot_nodes_owned) must add up to the rows
// naming them (GET /v1/replicas), so that no node is owned twice or by nobody. With one
// process there is nothing to check.
func checkOwnedOnce(ctx context.Context, a *api, nodes []string) error {
	if len(a.procs) < 2 {
		return nil
	}
	reps, err := a.cl().Replicas(ctx)
	if err != nil {
		return err
	}
	live, rows := map[string]bool{}, 0
	for _, r := range reps {
		if r.Live && !r.Draining {
			live[r.ID] = true
		}
		rows += r.NodesOwned
	}
	if len(live) != len(a.procs) {
		return fmt.Errorf("%d live replicas, want %d: %+v", len(live), len(a.procs), reps)
	}
	for _, n := range nodes {
		o, err := a.cl().NodeOwner(ctx, n)
		if err != nil {
			return err
		}
		if o.Replica == nil || !live[*o.Replica] {
			return fmt.Errorf("node %s has no live owner (%v)", n, o.Replica)
		}
		if o.HandoffTo != nil {
			return fmt.Errorf("node %s is being handed to %s", n, *o.HandoffTo)
		}
	}
	inMemory, unowned := 0.0, 0.0
	for _, p := range a.procs {
		f, err := scrapeMetrics(ctx, p.base)
		if err != nil {
			return err
		}
		owned, n1 := f.Get("ingot_nodes_owned")
		u, n2 := f.Get("ingot_nodes_unowned")
		if n1 != 1 || n2 != 1 {
			return fmt.Errorf("%s: no replica metrics", p.base)
		}
		inMemory += owned
		unowned = max(unowned, u)
	}
	if unowned != 0 || inMemory != float64(rows) {
		return fmt.Errorf("replicas own %v nodes in memory and %d in the database; %v unowned", inMemory, rows, unowned)
	}
	return nil
}

// scrapeMetrics reads a process's /metrics.
func scrapeMetrics(ctx context.Context, base string) (metricstest.Families, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", base, err)
	}
	return fams, nil
}

// instance is the instance API's view of an instance.
type instance = instanceapi.Instance

func describe(i instance) string {
	s := fmt.Sprintf("%s %s/%s node %q locked %v attempts %d", i.UUID, i.State, i.Task, i.Node, i.NodeLocked, i.Attempts)
	if i.Fault != nil {
		s += fmt.Sprintf(" fault %s: %s", i.Fault.Code, i.Fault.Message)
	}
	return s
}

// createBody is a create request: one node of the resource class, optionally pinned.
func createBody(uuid, name, resourceClass, pin string) instanceapi.CreateRequest {
	return instanceapi.CreateRequest{
		UUID: uuid, Name: name,
		Request: baremetal.Request{ResourceClass: resourceClass, Node: pin},
		Image: baremetal.Image{Source: "http://images.example.invalid/e2e.qcow2",
			Checksum: "0b8c5d7f0f1c2a3b4c5d6e7f8a9b0c1d"},
		ConfigDrive: baremetal.ConfigDrive{UserData: "#cloud-config\n",
			SSHKeys: map[string]string{"e2e": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2E e2e"}},
	}
}

// status is the HTTP status of an instance API call: 202 for a new instance or a delete,
// 200 for a repeated create, the error's status, or 0 when no answer came.
func status(created bool, err error) int {
	var e *client.Error
	switch {
	case errors.As(err, &e):
		return e.Status
	case err != nil:
		return 0
	case created:
		return http.StatusAccepted
	}
	return http.StatusOK
}

func (a *api) create(ctx context.Context, body instanceapi.CreateRequest) (instance, int, error) {
	in, created, err := a.cl().Create(ctx, body)
	return in, status(created, err), err
}

func (a *api) get(ctx context.Context, id string) (instance, int, error) {
	in, err := a.cl().Get(ctx, id)
	return in, status(false, err), err
}

func (a *api) remove(ctx context.Context, id string) (int, error) {
	_, err := a.cl().Delete(ctx, id)
	return status(true, err), err
}

// list returns every instance but the deleted (all projects: the caller is an admin).
func (a *api) list(ctx context.Context) ([]instance, error) {
	return a.cl().List(ctx, client.ListOptions{PageSize: 1000})
}

// providerAllocations returns the consumers allocated against a node's provider and how
// much of each class; ok is false when ingot has no provider for the node.
func (a *api) providerAllocations(ctx context.Context, node string) (map[string]map[string]int, bool, error) {
	var body struct {
		Allocations map[string]struct {
			Resources map[string]int `json:"resources"`
		} `json:"allocations"`
	}
	code, err := a.cl().Placement(ctx, http.MethodGet, "/resource_providers/"+node+"/allocations", nil, &body)
	if code == http.StatusNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := map[string]map[string]int{}
	for c, r := range body.Allocations {
		out[c] = r.Resources
	}
	return out, true, nil
}

// consumerAllocations returns the providers a consumer holds, with its resources.
func (a *api) consumerAllocations(ctx context.Context, consumer string) (map[string]map[string]int, error) {
	var body struct {
		Allocations map[string]struct {
			Resources map[string]int `json:"resources"`
		} `json:"allocations"`
	}
	if _, err := a.cl().Placement(ctx, http.MethodGet, "/allocations/"+consumer, nil, &body); err != nil {
		return nil, err
	}
	out := map[string]map[string]int{}
	for p, r := range body.Allocations {
		out[p] = r.Resources
	}
	return out, nil
}

// candidates returns the providers offered for one unit of the class.
func (a *api) candidates(ctx context.Context, class string) (map[string]bool, error) {
	var body struct {
		ProviderSummaries map[string]any `json:"provider_summaries"`
	}
	if _, err := a.cl().Placement(ctx, http.MethodGet, "/allocation_candidates?resources="+class+":1", nil, &body); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for p := range body.ProviderSummaries {
		out[p] = true
	}
	return out, nil
}

// waitFor polls fn every 200 ms until it returns nil, and fails the test with fn's last
// error after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, fn func() error) {
	t.Helper()
	if err := poll(t.Context(), timeout, fn); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func poll(ctx context.Context, timeout time.Duration, fn func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := fn()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not within %v: %w", timeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitSettled waits until the instances are all in one of the final states (for a
// build: active or error; for a delete: deleted) and returns them.
func waitSettled(t *testing.T, a *api, ids []string, timeout time.Duration, states ...string) map[string]instance {
	t.Helper()
	got := map[string]instance{}
	waitFor(t, timeout, "instances to settle in "+strings.Join(states, " or "), func() error {
		var pending []string
		for _, id := range ids {
			in, _, err := a.get(t.Context(), id)
			if err != nil {
				return err
			}
			got[id] = in
			if !slices.Contains(states, in.State) {
				pending = append(pending, describe(in))
			}
		}
		if len(pending) > 0 {
			return fmt.Errorf("%d not yet, e.g. %s", len(pending), pending[0])
		}
		return nil
	})
	return got
}

// ironicClient returns a client of the Ironic at u.
func ironicClient(t *testing.T, r ironictest.Real) *ironic.Client {
	t.Helper()
	cfg := ironic.Config{URL: r.URL}
	if r.User != "" {
		cfg.Transport = &ironic.BasicAuth{Username: r.User, Password: r.Password}
	}
	c, err := ironic.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Negotiate(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// testNodes are fake-hardware nodes of one resource class that only this test uses.
type testNodes struct {
	class string // Ironic's resource class
	rc    string // Placement's (CUSTOM_...)
	uuids []string
	c     *ironic.Client
}

// enroll creates n available nodes of a new resource class; tweak may adjust each spec.
// The nodes are torn down and deleted when the test ends, after ingot has stopped (so
// register this before startIngot).
func enroll(t *testing.T, c *ironic.Client, group string, n int, tweak func(i int, s *ironictest.NodeSpec)) *testNodes {
	t.Helper()
	run := randomHex(4)
	class := "e2e-" + run
	specs := make([]ironictest.NodeSpec, n)
	for i := range specs {
		specs[i] = ironictest.NodeSpec{NodeCreate: ironic.NodeCreate{
			Name: fmt.Sprintf("e2e-%s-%02d", run, i), Driver: "fake-hardware",
			ResourceClass: class, ConductorGroup: group,
			Properties: map[string]any{"cpus": 8, "memory_mb": 16384, "local_gb": 100, "cpu_arch": "x86_64"},
		}}
		if tweak != nil {
			tweak(i, &specs[i])
		}
	}
	uuids, err := ironictest.Enroll(t.Context(), c, specs, 8)
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	tn := &testNodes{class: class, rc: reconcile.ResourceClass(class), uuids: uuids, c: c}
	t.Cleanup(func() { tn.destroy(t) })
	return tn
}

// destroy tears down whatever is deployed on the nodes and deletes them (best effort:
// the shared Ironic must not keep them).
func (tn *testNodes) destroy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, id := range tn.uuids {
		n, err := tn.c.GetNode(ctx, id)
		if err != nil {
			continue
		}
		if n.Maintenance {
			_ = tn.c.UnsetMaintenance(ctx, id)
		}
		switch n.ProvisionState {
		case ironic.ProvisionStateAvailable, ironic.ProvisionStateManageable, ironic.ProvisionStateEnroll:
		default:
			_ = tn.c.SetProvisionState(ctx, id, "deleted", ironic.ProvisionOptions{})
		}
	}
	_ = poll(ctx, 90*time.Second, func() error {
		for _, id := range tn.uuids {
			n, err := tn.c.GetNode(ctx, id)
			if err == nil && n.ProvisionState != ironic.ProvisionStateAvailable && !strings.HasSuffix(n.ProvisionState, "failed") &&
				n.ProvisionState != ironic.ProvisionStateManageable && n.ProvisionState != ironic.ProvisionStateEnroll {
				return errors.New(n.ProvisionState)
			}
		}
		return nil
	})
	for _, id := range tn.uuids {
		_ = poll(ctx, 20*time.Second, func() error {
			n, err := tn.c.GetNode(ctx, id)
			if errors.Is(err, ironic.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if n.InstanceUUID != "" {
				if _, err := tn.c.PatchNode(ctx, id, []ironic.PatchOp{ironic.RemoveOp("/instance_uuid")}); err != nil {
					return err
				}
			}
			if n.ProvisionState != ironic.ProvisionStateAvailable && n.ProvisionState != ironic.ProvisionStateManageable &&
				n.ProvisionState != ironic.ProvisionStateEnroll {
				_ = tn.c.SetMaintenance(ctx, id, "e2e cleanup")
			}
			return tn.c.DeleteNode(ctx, id)
		})
	}
}

// nodeStates returns the test's nodes as Ironic sees them now.
func (tn *testNodes) nodeStates(ctx context.Context) (map[string]ironic.Node, error) {
	out := map[string]ironic.Node{}
	for _, id := range tn.uuids {
		n, err := tn.c.GetNode(ctx, id, "uuid", "provision_state", "target_provision_state", "instance_uuid",
			"maintenance", "reservation", "last_error")
		if err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, nil
}

// checkInvariants returns the first breach of issue 11's crash-safety invariants over
// the test's nodes and ingot's instances:
//   - no allocation without a live instance on that node;
//   - no node whose instance_uuid names no live instance of ours;
//   - no instance holding a node it has not locked (an instance that says it has locked
//     its node, or is active, is the node's instance_uuid in Ironic).
//
// Its reads are not one snapshot: call it when no instance is building or deleting, or
// poll it until it holds.
func checkInvariants(ctx context.Context, a *api, tn *testNodes) error {
	nodes, err := tn.nodeStates(ctx)
	if err != nil {
		return err
	}
	all, err := a.list(ctx)
	if err != nil {
		return err
	}
	live := map[string]instance{}
	for _, in := range all {
		if in.State != "deleted" {
			live[in.UUID] = in
		}
	}
	for _, id := range tn.uuids {
		allocs, _, err := a.providerAllocations(ctx, id)
		if err != nil {
			return err
		}
		for consumer := range allocs {
			in, ok := live[consumer]
			if !ok {
				return fmt.Errorf("node %s has an allocation of %s, which is no live instance", id, consumer)
			}
			if in.Node != id {
				return fmt.Errorf("node %s has an allocation of instance %s, which holds node %q", id, consumer, in.Node)
			}
		}
		if iu := nodes[id].InstanceUUID; iu != "" {
			if _, ok := live[iu]; !ok {
				return fmt.Errorf("node %s (%s) has instance_uuid %s, which is no live instance", id, nodes[id].ProvisionState, iu)
			}
		}
	}
	for _, in := range live {
		n, ours := nodes[in.Node]
		if in.Node == "" || !ours {
			continue
		}
		if (in.NodeLocked || in.State == "active") && n.InstanceUUID != in.UUID {
			return fmt.Errorf("instance %s holds node %s, whose instance_uuid is %q", describe(in), in.Node, n.InstanceUUID)
		}
	}
	return nil
}

// checkFree returns why a node is not free: available, unlocked, no instance_uuid, no
// allocation, and offered again as a candidate.
func checkFree(ctx context.Context, a *api, tn *testNodes, ids []string) error {
	nodes, err := tn.nodeStates(ctx)
	if err != nil {
		return err
	}
	cands, err := a.candidates(ctx, tn.rc)
	if err != nil {
		return err
	}
	for _, id := range ids {
		n := nodes[id]
		if n.ProvisionState != ironic.ProvisionStateAvailable || n.InstanceUUID != "" || n.Maintenance {
			return fmt.Errorf("node %s: %s, instance_uuid %q, maintenance %v", id, n.ProvisionState, n.InstanceUUID, n.Maintenance)
		}
		allocs, _, err := a.providerAllocations(ctx, id)
		if err != nil {
			return err
		}
		if len(allocs) > 0 {
			return fmt.Errorf("node %s still has allocations %v", id, allocs)
		}
		if !cands[id] {
			return fmt.Errorf("node %s is not an allocation candidate", id)
		}
	}
	return nil
}
