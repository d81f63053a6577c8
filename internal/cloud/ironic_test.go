package cloud

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"ingot/internal/uuid"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/instanceapi"
	"ingot/internal/instanceapi/client"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/keystone"
	"ingot/internal/reconcile"
)

// keystoneIronic returns the URL and conductor group of the real Ironic behind the
// Keystone (auth_strategy = keystone; scripts/ironic/start.sh AUTH=keystone), or skips
// the test (fails it when INGOT_REQUIRE_KEYSTONE_IRONIC is set, as scripts/test.sh does).
func keystoneIronic(t *testing.T) (url, group string) {
	t.Helper()
	url = os.Getenv("INGOT_TEST_KEYSTONE_IRONIC_URL")
	if url == "" {
		if os.Getenv("INGOT_REQUIRE_KEYSTONE_IRONIC") != "" {
			t.Fatal("INGOT_REQUIRE_KEYSTONE_IRONIC is set but INGOT_TEST_KEYSTONE_IRONIC_URL is not: start an Ironic with AUTH=keystone (scripts/test.sh shows how)")
		}
		t.Skip("no Ironic behind Keystone: set INGOT_TEST_KEYSTONE_IRONIC_URL (scripts/ironic/start.sh AUTH=keystone)")
	}
	group = os.Getenv("INGOT_TEST_KEYSTONE_IRONIC_CONDUCTOR_GROUP")
	if group == "" {
		group = "ingot"
	}
	return strings.TrimRight(url, "/"), group
}

// pointBaremetal makes the catalog's baremetal service have exactly these endpoints (by
// interface), creating the service if the Keystone has none.
func pointBaremetal(t *testing.T, e cloudEnv, urls map[string]string) {
	t.Helper()
	admin := issue(t, e, "admin", "admin")
	var svcs struct{ Services []struct{ ID string } }
	if err := json.Unmarshal(keystoneCall(t, e, admin, "GET", "/services?type=baremetal", "", 200), &svcs); err != nil {
		t.Fatal(err)
	}
	var svc string
	if len(svcs.Services) > 0 {
		svc = svcs.Services[0].ID
	} else {
		var created struct{ Service struct{ ID string } }
		b := keystoneCall(t, e, admin, "POST", "/services", `{"service": {"type": "baremetal", "name": "ironic"}}`, 201)
		if err := json.Unmarshal(b, &created); err != nil {
			t.Fatal(err)
		}
		svc = created.Service.ID
	}
	var eps struct {
		Endpoints []struct{ ID, Interface string }
	}
	if err := json.Unmarshal(keystoneCall(t, e, admin, "GET", "/endpoints?service_id="+svc, "", 200), &eps); err != nil {
		t.Fatal(err)
	}
	for _, ep := range eps.Endpoints {
		keystoneCall(t, e, admin, "DELETE", "/endpoints/"+ep.ID, "", 204)
	}
	for iface, u := range urls {
		keystoneCall(t, e, admin, "POST", "/endpoints", fmt.Sprintf(
			`{"endpoint": {"service_id": %q, "interface": %q, "region_id": "RegionOne", "url": %q}}`, svc, iface, u), 201)
	}
}

// tokens hands out a user's token, issuing a new one before it expires (the test
// Keystone's tokens last 30 seconds).
type tokens struct {
	t             *testing.T
	e             cloudEnv
	user, project string

	mu  sync.Mutex
	tok token
}

func (s *tokens) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.id == "" || time.Until(s.tok.expiresAt) < 10*time.Second {
		s.tok = issue(s.t, s.e, s.user, s.project)
	}
	return s.tok.id
}

// instances returns the instance API's client with a fresh token of the source.
func (s *tokens) instances(base string) *client.Client {
	return &client.Client{URL: base, Token: s.get(), HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// TestIronicBehindKeystone: a real Ironic with auth_strategy = keystone whose endpoint is
// only in Keystone's catalog; ingot runs with --auth keystone --ironic-from-catalog (no
// --ironic-url) as its service user (admin and service on project service). The tracker
// makes a provider of each enrolled node and the instance controller deploys an instance
// there and deletes it, every Ironic call with ingot's service token. ingot run as a
// user without Ironic's list_all (nova: the service role only, which Ironic 21's default
// policy lets see only its own project's nodes) fails every tracker pass with an error
// naming the rule, and tracks nothing.
func TestIronicBehindKeystone(t *testing.T) {
	e := keystoneEnv(t)
	ironicURL, group := keystoneIronic(t)
	t.Parallel()
	ctx := t.Context()

	// Only the internal endpoint is right: ingot looks for internal first, as Nova does.
	pointBaremetal(t, e, map[string]string{"internal": ironicURL, "public": "http://127.0.0.1:9"})

	// Without a token Ironic refuses; the test's own client uses ingot's account.
	if code, _, b := call(t, "GET", ironicURL+"/v1/nodes", nil, ""); code != http.StatusUnauthorized {
		t.Fatalf("Ironic without a token: %d %s; want 401 (is it behind Keystone?)", code, b)
	}
	session, err := keystone.NewSession(keystone.Config{URL: e.url, Username: "ingot", Password: e.password, Project: "service"})
	if err != nil {
		t.Fatal(err)
	}
	ic, err := ironic.New(ironic.Config{URL: ironicURL, Transport: &keystone.Transport{Session: session}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ic.CloseIdleConnections)
	nodes := enrollNodes(t, ic, group, 2)
	rc := reconcile.ResourceClass(nodes.class)

	p := startIngot(t, e, "--ironic-from-catalog", "--ironic-conductor-group", group, "--sync-interval", "1s")
	svc := &tokens{t: t, e: e, user: "ingot", project: "service"}
	member := &tokens{t: t, e: e, user: "member", project: "demo"}

	t.Log("the tracker makes a provider of each node")
	waitUntil(t, 60*time.Second, "a provider per node", func() error {
		for _, id := range nodes.uuids {
			var inv struct {
				Inventories map[string]struct{ Total int } `json:"inventories"`
			}
			if _, err := svc.instances(p.base).Placement(ctx, "GET", "/resource_providers/"+id+"/inventories", nil, &inv); err != nil {
				return fmt.Errorf("node %s: %w", id, err)
			}
			if inv.Inventories[rc].Total != 1 {
				return fmt.Errorf("node %s: inventory %+v, want 1 %s", id, inv.Inventories, rc)
			}
		}
		return nil
	})
	if b, _ := os.ReadFile(p.logPath); !strings.Contains(string(b), `"msg":"found Ironic in the Keystone catalog","ironic_url":"`+ironicURL+`"`) {
		t.Errorf("ingot's log does not say it found %s in the catalog", ironicURL)
	}

	t.Log("a project member's instance is deployed on one of them, then deleted")
	id := uuid.New()
	body := instanceapi.CreateRequest{UUID: id, Name: "cloud-1",
		Request: baremetal.Request{ResourceClass: nodes.class},
		Image:   baremetal.Image{Source: "http://images.example.invalid/cloud.qcow2", Checksum: "0b8c5d7f0f1c2a3b4c5d6e7f8a9b0c1d"},
		ConfigDrive: baremetal.ConfigDrive{UserData: "#cloud-config\n",
			SSHKeys: map[string]string{"cloud": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2E cloud"}},
	}
	if _, _, err := member.instances(p.base).Create(ctx, body); err != nil {
		t.Fatalf("create: %v", err)
	}
	in := waitInstance(t, member, p.base, id, 120*time.Second, "active", "error")
	if in.State != "active" || !in.NodeLocked {
		t.Fatalf("instance: %s/%s on %q locked %v fault %+v; want active", in.State, in.Task, in.Node, in.NodeLocked, in.Fault)
	}
	n, err := ic.GetNode(ctx, in.Node, "uuid", "provision_state", "instance_uuid")
	if err != nil || n.ProvisionState != ironic.ProvisionStateActive || n.InstanceUUID != id {
		t.Fatalf("node %s in Ironic: %+v, %v; want active with instance %s", in.Node, n, err, id)
	}
	var alloc struct {
		Allocations map[string]struct{ Resources map[string]int } `json:"allocations"`
	}
	if _, err := svc.instances(p.base).Placement(ctx, "GET", "/allocations/"+id, nil, &alloc); err != nil ||
		alloc.Allocations[in.Node].Resources[rc] != 1 {
		t.Fatalf("allocation of %s: %+v, %v; want 1 %s on %s", id, alloc, err, rc, in.Node)
	}
	if _, err := member.instances(p.base).Delete(ctx, id); err != nil {
		t.Fatalf("delete: %v", err)
	}
	waitInstance(t, member, p.base, id, 120*time.Second, "deleted")
	waitUntil(t, 60*time.Second, "the node available again, without instance", func() error {
		n, err := ic.GetNode(ctx, in.Node, "uuid", "provision_state", "instance_uuid")
		if err != nil {
			return err
		}
		if n.ProvisionState != ironic.ProvisionStateAvailable || n.InstanceUUID != "" {
			return fmt.Errorf("node %s: %s, instance %q", in.Node, n.ProvisionState, n.InstanceUUID)
		}
		return nil
	})

	t.Log("ingot as nova (service role, no admin) may not list every node: its passes fail loudly")
	// What Ironic would hand nova without complaint: only its own project's nodes.
	novaSession, err := keystone.NewSession(keystone.Config{URL: e.url, Username: "nova", Password: e.password, Project: "service"})
	if err != nil {
		t.Fatal(err)
	}
	novaIronic, err := ironic.New(ironic.Config{URL: ironicURL, Transport: &keystone.Transport{Session: novaSession}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(novaIronic.CloseIdleConnections)
	if _, err := novaIronic.ListNodes(ctx, ironic.ListOptions{Fields: []string{"uuid"}}); err != nil {
		t.Fatalf("Ironic refuses nova's plain listing (%v); the case this guards against is a silent partial one", err)
	}
	nova := startIngotAs(t, []string{"--auth", "keystone", "--keystone-url", e.url, "--keystone-username", "nova",
		"--keystone-password", e.password, "--keystone-project", "service"},
		"--ironic-from-catalog", "--ironic-conductor-group", group, "--sync-interval", "1s")
	waitUntil(t, 60*time.Second, "two failed tracker passes naming list_all", func() error {
		b, _ := os.ReadFile(nova.logPath)
		n := 0
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) && strings.Contains(line, `"msg":"tracker pass failed"`) &&
				strings.Contains(line, "baremetal:node:list_all") && strings.Contains(line, "403") {
				n++
			}
		}
		if n < 2 {
			return fmt.Errorf("%d such lines", n)
		}
		return nil
	})
	for _, id := range nodes.uuids {
		code, err := svc.instances(nova.base).Placement(ctx, "GET", "/resource_providers/"+id, nil, nil)
		if code != http.StatusNotFound {
			t.Errorf("provider %s in nova's ingot: %d %v; want 404 (nothing tracked)", id, code, err)
		}
	}
}

// testNodes are fake-hardware nodes of a resource class of their own.
type testNodes struct {
	class string
	uuids []string
}

// enrollNodes creates n available nodes of a new resource class and deletes them when
// the test ends.
func enrollNodes(t *testing.T, ic *ironic.Client, group string, n int) testNodes {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	run := hex.EncodeToString(b)
	tn := testNodes{class: "cloud-" + run}
	specs := make([]ironictest.NodeSpec, n)
	for i := range specs {
		specs[i] = ironictest.NodeSpec{NodeCreate: ironic.NodeCreate{Name: fmt.Sprintf("cloud-%s-%d", run, i),
			Driver: "fake-hardware", ResourceClass: tn.class, ConductorGroup: group}}
	}
	var err error
	if tn.uuids, err = ironictest.Enroll(t.Context(), ic, specs, n); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	// Ironic makes the project of a project-scoped creator the node's owner, so these would
	// serve project service only; an operator's nodes (enrolled system-scoped) have none.
	for _, id := range tn.uuids {
		if _, err := ic.PatchNode(t.Context(), id, []ironic.PatchOp{ironic.RemoveOp("/owner")}); err != nil {
			t.Fatalf("remove the owner of %s: %v", id, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, id := range tn.uuids {
			err := ic.DeleteNode(ctx, id)
			if err != nil && !errors.Is(err, ironic.ErrNotFound) {
				// Not available (a failed test left it deployed): force it out.
				_ = ic.SetMaintenance(ctx, id, "cloud test cleanup")
				_, _ = ic.PatchNode(ctx, id, []ironic.PatchOp{ironic.RemoveOp("/instance_uuid")})
				if err := ic.DeleteNode(ctx, id); err != nil && !errors.Is(err, ironic.ErrNotFound) {
					t.Logf("cleanup of node %s: %v", id, err)
				}
			}
		}
	})
	return tn
}

// waitInstance polls the instance until it is in one of states.
func waitInstance(t *testing.T, src *tokens, base, id string, timeout time.Duration, states ...string) instanceapi.Instance {
	t.Helper()
	var in instanceapi.Instance
	waitUntil(t, timeout, "instance "+id+" "+strings.Join(states, " or "), func() error {
		var err error
		in, err = src.instances(base).Get(t.Context(), id)
		if err != nil {
			return err
		}
		for _, s := range states {
			if in.State == s {
				return nil
			}
		}
		return fmt.Errorf("%s/%s on %q", in.State, in.Task, in.Node)
	})
	return in
}

// waitUntil polls fn every 250 ms until it returns nil, failing the test with its last
// error after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
