package ironic_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"ingot/internal/uuid"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
)

// The contract suite runs the same assertions against the fake Ironic and, when
// INGOT_IRONIC_URL is set, against a real one (scripts/ironic/start.sh), so the fake
// cannot drift from Ironic's behaviour.
//
//	scripts/ironic/install.sh && scripts/ironic/start.sh
//	INGOT_IRONIC_URL=http://127.0.0.1:16385 go test -race -run TestContract ./internal/ironic/
//
// INGOT_IRONIC_CONDUCTOR_GROUP (default "ingot") must name the group the real conductor
// serves. INGOT_IRONIC_USER and INGOT_IRONIC_PASSWORD select HTTP basic authentication.
// The suite creates its own nodes (names and resource classes carry a random run id) and
// deletes them at the end; it leaves other nodes alone.

// contractTiming makes the fake's transitions take about as long as the real Ironic's
// with DEPLOY_DELAY=1, scaled down (deploying and deleting each call the fake deploy interface twice).
var contractTiming = ironictest.Timing{Deploy: 200 * time.Millisecond, Teardown: 200 * time.Millisecond,
	Clean: 50 * time.Millisecond, Callback: 300 * time.Millisecond, Release: 10 * time.Millisecond}

// target is an Ironic to run the contract against.
type target struct {
	url            string
	group          string
	user, password string
	fake           *ironictest.Server // nil for a real Ironic
}

func TestContract(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		t.Parallel()
		s := ironictest.NewServer(t, ironictest.WithConductorGroups("ingot"), ironictest.WithTiming(contractTiming))
		runContract(t, target{url: s.URL, group: "ingot", fake: s})
	})
	t.Run("fake-basic-auth", func(t *testing.T) {
		t.Parallel()
		s := ironictest.NewServer(t, ironictest.WithConductorGroups("ingot"), ironictest.WithBasicAuth("ingot", "secret"),
			ironictest.WithTiming(contractTiming))
		runContract(t, target{url: s.URL, group: "ingot", user: "ingot", password: "secret", fake: s})
	})
	t.Run("real", func(t *testing.T) {
		r := ironictest.RealIronic(t)
		runContract(t, target{url: r.URL, group: r.ConductorGroup, user: r.User, password: r.Password})
	})
}

func newClient(t testing.TB, tg target, cfg ironic.Config) *ironic.Client {
	t.Helper()
	cfg.URL = tg.url
	if tg.user != "" && cfg.Transport == nil {
		cfg.Transport = &ironic.BasicAuth{Username: tg.user, Password: tg.password}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	c, err := ironic.New(cfg)
	if err != nil {
		t.Fatalf("ironic.New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ptr[T any](v T) *T { return &v }

func names(nodes []ironic.Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.Name)
	}
	slices.Sort(out)
	return out
}

// wantErr fails unless err matches want (nil means no error).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: error = %v, want %v", what, err, want)
	}
}

func runContract(t *testing.T, tg target) {
	ctx := t.Context()
	c := newClient(t, tg, ironic.Config{})

	v, err := c.Negotiate(ctx)
	if err != nil {
		t.Fatalf("Negotiate: %v", err)
	}
	smin, smax := c.ServerVersions()
	t.Logf("server versions %s-%s, negotiated %s", smin, smax, v)
	want := smax
	if ironic.MaxVersion.Less(want) {
		want = ironic.MaxVersion
	}
	if v != want || v.Less(ironic.Baseline) {
		t.Fatalf("Negotiate = %s, want min(server max %s, MaxVersion %s) >= baseline", v, smax, ironic.MaxVersion)
	}

	run := "ct-" + randomHex(4)
	gold, silver := run+"-gold", run+"-silver"
	traitRun := "CUSTOM_" + strings.ToUpper(strings.ReplaceAll(run, "-", "_"))
	var specs []ironictest.NodeSpec
	for i := range 7 {
		rc, trait := silver, traitRun+"_SILVER"
		if i%3 == 0 {
			rc, trait = gold, traitRun+"_GOLD"
		}
		specs = append(specs, ironictest.NodeSpec{
			NodeCreate: ironic.NodeCreate{
				Name: fmt.Sprintf("%s-%02d", run, i), Driver: "fake-hardware",
				ResourceClass: rc, ConductorGroup: tg.group,
				Properties: map[string]any{"cpus": 8, "memory_mb": 4096, "local_gb": 100,
					"cpu_arch": "x86_64", "capabilities": "boot_mode:uefi"},
			},
			Traits: []string{trait},
		})
	}
	t.Cleanup(func() { cleanup(t, c, run) })
	start := time.Now()
	uuids, err := ironictest.Enroll(ctx, c, specs, 4)
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	t.Logf("enrolled %d nodes in %v", len(uuids), time.Since(start).Round(time.Millisecond))
	byName := map[string]string{}
	for i, s := range specs {
		byName[s.Name] = uuids[i]
	}
	golds := []string{uuids[0], uuids[3], uuids[6]}
	silvers := []string{uuids[1], uuids[2], uuids[4], uuids[5]}
	silverNames := []string{specs[1].Name, specs[2].Name, specs[4].Name, specs[5].Name}
	goldNames := []string{specs[0].Name, specs[3].Name, specs[6].Name}

	t.Run("EnrolledNodes", func(t *testing.T) {
		for i, id := range uuids {
			n, err := c.GetNode(ctx, id)
			if err != nil {
				t.Fatalf("GetNode(%s): %v", id, err)
			}
			got := []any{n.Name, n.Driver, n.ResourceClass, n.ConductorGroup, n.ProvisionState, n.TargetProvisionState,
				n.PowerState, n.Maintenance, n.InstanceUUID, n.Traits, n.Properties["cpus"], n.Properties["capabilities"]}
			want := []any{specs[i].Name, "fake-hardware", specs[i].ResourceClass, tg.group, "available", "",
				"power off", false, "", specs[i].Traits, float64(8), "boot_mode:uefi"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetNode(%s) (-want +got):\n%s", specs[i].Name, diff)
			}
			if n.CreatedAt.IsZero() || n.UpdatedAt.IsZero() || n.ProvisionUpdatedAt.IsZero() {
				t.Errorf("GetNode(%s): timestamps created %v updated %v provision_updated %v, want all set",
					n.Name, n.CreatedAt, n.UpdatedAt, n.ProvisionUpdatedAt)
			}
		}
	})

	t.Run("ListPagesResendFilters", func(t *testing.T) {
		if tg.fake != nil {
			tg.fake.ResetRequests()
		}
		nodes, err := c.ListNodes(ctx, ironic.ListOptions{ResourceClass: silver, Limit: 2,
			Fields: []string{"name", "resource_class", "provision_state"}})
		if err != nil {
			t.Fatalf("ListNodes: %v", err)
		}
		if diff := cmp.Diff(silverNames, names(nodes)); diff != "" {
			t.Fatalf("ListNodes(resource_class=silver, limit=2) names (-want +got):\n%s", diff)
		}
		for _, n := range nodes {
			if n.ResourceClass != silver || n.ProvisionState != "available" || n.PowerState != "" || n.Traits != nil {
				t.Errorf("node %s = %+v, want only the requested fields", n.Name, n)
			}
		}
		if tg.fake != nil {
			var pages int
			for _, r := range tg.fake.Requests() {
				if r.Path != "/v1/nodes" {
					continue
				}
				pages++
				if r.Query.Get("resource_class") != silver || r.Query.Get("limit") != "2" || r.Version != v.String() {
					t.Errorf("page %d query %v version %q, want the filter, limit and version on every page", pages, r.Query, r.Version)
				}
			}
			if pages != 3 {
				t.Errorf("pages = %d, want 3 (2 + 2 + an empty page after a full one)", pages)
			}
		}
	})

	t.Run("NextLinkDropsFilters", func(t *testing.T) {
		// Following Ironic's next link verbatim loses the filter; this is why the client
		// pages by marker.
		q := url.Values{"resource_class": {silver}, "limit": {"2"}, "fields": {"uuid,name"}}
		body := rawGet(t, tg, v, "/v1/nodes?"+q.Encode())
		var page struct {
			Nodes []map[string]any `json:"nodes"`
			Next  string           `json:"next"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if len(page.Nodes) != 2 || page.Next == "" {
			t.Fatalf("page = %d nodes, next %q; want 2 and a next link", len(page.Nodes), page.Next)
		}
		next, err := url.Parse(page.Next)
		if err != nil {
			t.Fatalf("next link %q: %v", page.Next, err)
		}
		nq := next.Query()
		if nq.Has("resource_class") || nq.Get("limit") != "2" || nq.Get("fields") != "uuid,name" ||
			nq.Get("marker") != page.Nodes[1]["uuid"] {
			t.Errorf("next link query = %v, want limit, fields and marker but no resource_class", nq)
		}
	})

	t.Run("ListDefaultFields", func(t *testing.T) {
		nodes, err := c.ListNodes(ctx, ironic.ListOptions{ResourceClass: gold})
		if err != nil {
			t.Fatalf("ListNodes: %v", err)
		}
		if diff := cmp.Diff(goldNames, names(nodes)); diff != "" {
			t.Fatalf("names (-want +got):\n%s", diff)
		}
		for _, n := range nodes {
			if n.ConductorGroup != tg.group || n.PowerState != "power off" || len(n.Traits) != 1 ||
				n.Properties["memory_mb"] != float64(4096) || n.ProvisionUpdatedAt.IsZero() {
				t.Errorf("node %s = %+v, want the default fields filled", n.Name, n)
			}
		}
	})

	t.Run("ConductorGroupFilter", func(t *testing.T) {
		nodes, err := c.ListNodes(ctx, ironic.ListOptions{ResourceClass: gold, Limit: 1,
			ConductorGroup: strings.ToUpper(tg.group)})
		if err != nil {
			t.Fatalf("ListNodes: %v", err)
		}
		if diff := cmp.Diff(goldNames, names(nodes)); diff != "" {
			t.Errorf("conductor group %q (-want +got):\n%s", strings.ToUpper(tg.group), diff)
		}
		nodes, err = c.ListNodes(ctx, ironic.ListOptions{ResourceClass: gold, ConductorGroup: "no-such-group"})
		if err != nil || len(nodes) != 0 {
			t.Errorf("ListNodes(no-such-group) = %d nodes, %v; want none", len(nodes), err)
		}
	})

	t.Run("FiltersFailClosed", func(t *testing.T) {
		old := newClient(t, tg, ironic.Config{MaxVersion: ironic.Version{Major: 1, Minor: 45}})
		_, err := old.ListNodes(ctx, ironic.ListOptions{ConductorGroup: tg.group})
		wantErr(t, "ListNodes(conductor_group) at 1.45", err, ironic.ErrUnsupported)
		nodes, err := old.ListNodes(ctx, ironic.ListOptions{ResourceClass: gold})
		if err != nil || len(nodes) != 3 || nodes[0].ConductorGroup != "" {
			t.Errorf("ListNodes at 1.45 = %v, %v; want 3 nodes without conductor_group", nodes, err)
		}
		old = newClient(t, tg, ironic.Config{MaxVersion: ironic.Version{Major: 1, Minor: 81}})
		_, err = old.ListNodes(ctx, ironic.ListOptions{Shards: []string{"a"}})
		wantErr(t, "ListNodes(shard) at 1.81", err, ironic.ErrUnsupported)
		_, err = old.GetNode(ctx, uuids[0], "shard")
		wantErr(t, "GetNode(fields=shard) at 1.81", err, ironic.ErrUnsupported)
	})

	t.Run("Shards", func(t *testing.T) {
		if !c.HasShard() {
			t.Skipf("negotiated %s has no shards", v)
		}
		shard := run + "-a"
		for _, id := range silvers[:2] {
			if _, err := c.PatchNode(ctx, id, []ironic.PatchOp{ironic.AddOp("/shard", shard)}); err != nil {
				t.Fatalf("PatchNode(shard): %v", err)
			}
		}
		nodes, err := c.ListNodes(ctx, ironic.ListOptions{Shards: []string{shard, run + "-none"}, Limit: 1})
		if err != nil {
			t.Fatalf("ListNodes: %v", err)
		}
		if diff := cmp.Diff(silverNames[:2], names(nodes)); diff != "" {
			t.Errorf("shard listing (-want +got):\n%s", diff)
		}
		for _, id := range silvers[:2] {
			if _, err := c.PatchNode(ctx, id, []ironic.PatchOp{ironic.RemoveOp("/shard")}); err != nil {
				t.Fatalf("PatchNode(remove shard): %v", err)
			}
		}
	})

	t.Run("Maintenance", func(t *testing.T) {
		id := silvers[0]
		wantErr(t, "SetMaintenance", c.SetMaintenance(ctx, id, "contract test"), nil)
		on, err := c.ListNodes(ctx, ironic.ListOptions{ResourceClass: silver, Maintenance: ptr(true), Limit: 1})
		if err != nil || len(on) != 1 || on[0].UUID != id || on[0].MaintenanceReason != "contract test" {
			t.Fatalf("ListNodes(maintenance=true) = %+v, %v; want the one node with its reason", on, err)
		}
		off, err := c.ListNodes(ctx, ironic.ListOptions{ResourceClass: silver, Maintenance: ptr(false), Limit: 1})
		if err != nil {
			t.Fatalf("ListNodes(maintenance=false): %v", err)
		}
		if diff := cmp.Diff(silverNames[1:], names(off)); diff != "" {
			t.Errorf("ListNodes(maintenance=false, limit=1) (-want +got):\n%s", diff)
		}
		wantErr(t, "UnsetMaintenance", c.UnsetMaintenance(ctx, id), nil)
		n, err := c.GetNode(ctx, id, "maintenance", "maintenance_reason")
		if err != nil || n.Maintenance || n.MaintenanceReason != "" {
			t.Errorf("after UnsetMaintenance: %+v, %v", n, err)
		}
	})

	t.Run("GetByNameAndFields", func(t *testing.T) {
		n, err := c.GetNode(ctx, specs[2].Name)
		if err != nil || n.UUID != uuids[2] {
			t.Fatalf("GetNode(name) = %s, %v; want %s", n.UUID, err, uuids[2])
		}
		n, err = c.GetNode(ctx, uuids[2], "provision_state")
		if err != nil || n.UUID != uuids[2] || n.ProvisionState != "available" || n.Name != "" {
			t.Errorf("GetNode(fields=provision_state) = %+v, %v; want uuid and provision_state only", n, err)
		}
		_, err = c.GetNode(ctx, uuids[2], "updated_at")
		wantErr(t, "GetNode(fields=updated_at)", err, ironic.ErrInvalid)
	})

	t.Run("Patch", func(t *testing.T) {
		id := uuids[4]
		n, err := c.PatchNode(ctx, id, []ironic.PatchOp{
			ironic.AddOp("/properties/ct_key", "v1"),
			ironic.ReplaceOp("/extra", map[string]any{"rack": "r1"}),
			ironic.AddOp("/description", "contract"),
		})
		if err != nil {
			t.Fatalf("PatchNode: %v", err)
		}
		if n.Properties["ct_key"] != "v1" || n.Properties["cpus"] != float64(8) || n.Extra["rack"] != "r1" || n.Description != "contract" {
			t.Errorf("PatchNode result = properties %v extra %v description %q", n.Properties, n.Extra, n.Description)
		}
		g, err := c.GetNode(ctx, id)
		if err != nil || !cmp.Equal(g.Properties, n.Properties) || g.UpdatedAt.IsZero() {
			t.Errorf("GetNode after PatchNode = %v, %v; want %v", g.Properties, err, n.Properties)
		}
		_, err = c.PatchNode(ctx, id, []ironic.PatchOp{ironic.RemoveOp("/properties/ct_key")})
		wantErr(t, "remove /properties/ct_key", err, nil)
		_, err = c.PatchNode(ctx, id, []ironic.PatchOp{ironic.RemoveOp("/properties/ct_key")})
		wantErr(t, "remove a missing key", err, ironic.ErrInvalid)
		_, err = c.PatchNode(ctx, id, []ironic.PatchOp{{Op: "test", Path: "/name", Value: "x"}})
		wantErr(t, "op test", err, ironic.ErrInvalid)
		_, err = c.PatchNode(ctx, id, []ironic.PatchOp{ironic.ReplaceOp("/uuid", uuid.New())})
		wantErr(t, "replace /uuid", err, ironic.ErrInvalid)
		n, err = c.PatchNode(ctx, id, []ironic.PatchOp{ironic.ReplaceOp("/conductor_group", strings.ToUpper(tg.group))})
		if err != nil || n.ConductorGroup != tg.group {
			t.Errorf("replace /conductor_group upper-case = %q, %v; want it lowercased to %q", n.ConductorGroup, err, tg.group)
		}
		_, err = c.PatchNode(ctx, id, []ironic.PatchOp{ironic.ReplaceOp("/name", specs[5].Name)})
		wantErr(t, "rename to a taken name", err, ironic.ErrConflict)
	})

	t.Run("InstanceClaim", func(t *testing.T) {
		id, other := golds[1], golds[2]
		inst, inst2 := uuid.New(), uuid.New()
		claim := func(node, instance string) error {
			_, err := c.PatchNode(ctx, node, []ironic.PatchOp{ironic.AddOp("/instance_uuid", instance)})
			return err
		}
		wantErr(t, "claim a free node", claim(id, inst), nil)
		wantErr(t, "claim again with the same instance", claim(id, inst), nil)
		wantErr(t, "claim a node that holds another instance", claim(id, inst2), ironic.ErrConflict)
		wantErr(t, "claim a second node for the instance", claim(other, inst), ironic.ErrConflict)
		_, err := c.PatchNode(ctx, other, []ironic.PatchOp{ironic.AddOp("/instance_uuid", "not-a-uuid")})
		wantErr(t, "claim with a bad UUID", err, ironic.ErrInvalid)

		assoc, err := c.ListNodes(ctx, ironic.ListOptions{ResourceClass: gold, Associated: ptr(true), Limit: 1})
		if err != nil || len(assoc) != 1 || assoc[0].UUID != id || assoc[0].InstanceUUID != inst {
			t.Errorf("ListNodes(associated=true) = %+v, %v", assoc, err)
		}
		free, err := c.ListNodes(ctx, ironic.ListOptions{ResourceClass: gold, Associated: ptr(false), Limit: 1})
		if err != nil || len(free) != 2 {
			t.Errorf("ListNodes(associated=false, limit=1) = %d nodes, %v; want 2", len(free), err)
		}
		n, err := c.PatchNode(ctx, id, []ironic.PatchOp{ironic.RemoveOp("/instance_uuid")})
		if err != nil || n.InstanceUUID != "" {
			t.Errorf("release = %q, %v", n.InstanceUUID, err)
		}
	})

	t.Run("Traits", func(t *testing.T) {
		id := uuids[5]
		a, b, cc := traitRun+"_A", traitRun+"_B", traitRun+"_C"
		check := func(what string, want ...string) {
			t.Helper()
			got, err := c.GetTraits(ctx, id)
			if err != nil {
				t.Fatalf("%s: GetTraits: %v", what, err)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: traits (-want +got):\n%s", what, diff)
			}
		}
		wantErr(t, "SetTraits", c.SetTraits(ctx, id, []string{b, a}), nil)
		check("SetTraits", a, b)
		wantErr(t, "AddTrait", c.AddTrait(ctx, id, cc), nil)
		wantErr(t, "AddTrait again", c.AddTrait(ctx, id, cc), nil)
		check("AddTrait", a, b, cc)
		wantErr(t, "RemoveTrait", c.RemoveTrait(ctx, id, a), nil)
		wantErr(t, "RemoveTrait again", c.RemoveTrait(ctx, id, a), ironic.ErrNotFound)
		check("RemoveTrait", b, cc)
		wantErr(t, "AddTrait(lower_case)", c.AddTrait(ctx, id, "lower_case"), ironic.ErrInvalid)
		wantErr(t, "SetTraits(bad)", c.SetTraits(ctx, id, []string{"CUSTOM_ok", b}), ironic.ErrInvalid)
		n, err := c.GetNode(ctx, id, "traits")
		if err != nil || !cmp.Equal(n.Traits, []string{b, cc}) {
			t.Errorf("GetNode(fields=traits) = %v, %v", n.Traits, err)
		}
		wantErr(t, "SetTraits(nil)", c.SetTraits(ctx, id, nil), nil)
		check("SetTraits(nil)")
	})

	t.Run("Power", func(t *testing.T) {
		id := uuids[5]
		wantErr(t, "SetPowerState(on)", c.SetPowerState(ctx, id, ironic.PowerOn, 0), nil)
		waitFor(t, c, id, func(n ironic.Node) bool {
			return n.PowerState == ironic.PowerOn && n.TargetPowerState == "" && n.Reservation == ""
		})
		wantErr(t, "SetPowerState(off)", c.SetPowerState(ctx, id, ironic.PowerOff, 0), nil)
		waitFor(t, c, id, func(n ironic.Node) bool {
			return n.PowerState == ironic.PowerOff && n.TargetPowerState == "" && n.Reservation == ""
		})
		err := c.SetPowerState(ctx, id, "bogus", 0)
		wantErr(t, "SetPowerState(bogus)", err, ironic.ErrInvalid)
	})

	t.Run("ProvisionCycle", func(t *testing.T) {
		id := golds[1]
		inst := uuid.New()
		if _, err := c.PatchNode(ctx, id, []ironic.PatchOp{ironic.AddOp("/instance_uuid", inst)}); err != nil {
			t.Fatalf("claim: %v", err)
		}
		wantErr(t, "deploy", c.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{}), nil)
		wantErr(t, "wait active", ironictest.WaitForState(ctx, c, []string{id}, ironic.ProvisionStateActive), nil)
		err := c.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{})
		wantErr(t, "deploy an active node", err, ironic.ErrInvalid)
		wantErr(t, "delete an active node with an instance", c.DeleteNode(ctx, id), ironic.ErrConflict)
		wantErr(t, "undeploy", c.SetProvisionState(ctx, id, ironic.TargetUndeploy, ironic.ProvisionOptions{}), nil)
		wantErr(t, "wait available", ironictest.WaitForState(ctx, c, []string{id}, ironic.ProvisionStateAvailable), nil)
		n, err := c.GetNode(ctx, id)
		if err != nil || n.InstanceUUID != "" || n.ProvisionState != "available" {
			t.Errorf("after undeploy = instance %q state %q, %v; want no instance, available", n.InstanceUUID, n.ProvisionState, err)
		}
		err = c.SetProvisionState(ctx, id, ironic.TargetProvide, ironic.ProvisionOptions{})
		wantErr(t, "provide an available node", err, ironic.ErrInvalid)
	})

	t.Run("DeployInMaintenance", func(t *testing.T) {
		id := golds[2]
		wantErr(t, "SetMaintenance", c.SetMaintenance(ctx, id, ""), nil)
		err := c.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{})
		wantErr(t, "deploy in maintenance", err, ironic.ErrInvalid)
		wantErr(t, "UnsetMaintenance", c.UnsetMaintenance(ctx, id), nil)
	})

	t.Run("Deploy", func(t *testing.T) {
		runDeployContract(t, tg, c, deployNodes{
			run: run, deploy: golds[1], deployTraits: specs[3].Traits,
			silverRC: silver, silvers: silvers, silverNames: silverNames, allocationNode: 3,
		})
	})

	t.Run("CreateErrors", func(t *testing.T) {
		_, err := c.CreateNode(ctx, ironic.NodeCreate{Name: specs[0].Name, Driver: "fake-hardware", ConductorGroup: tg.group})
		wantErr(t, "create with a taken name", err, ironic.ErrConflict)
		_, err = c.CreateNode(ctx, ironic.NodeCreate{Name: run + "-x", Driver: "fake-hardware", ConductorGroup: run + "-nogroup"})
		wantErr(t, "create in a group no conductor serves", err, ironic.ErrInvalid)
		_, err = c.CreateNode(ctx, ironic.NodeCreate{Name: run + "-y", Driver: "fake-hardware", ConductorGroup: strings.ToUpper(tg.group)})
		wantErr(t, "create with an upper-case group", err, ironic.ErrInvalid)
	})

	t.Run("MarkerNodeDeletedBetweenPages", func(t *testing.T) {
		var got []string
		for n, err := range c.Nodes(ctx, ironic.ListOptions{ResourceClass: silver, Limit: 2, Fields: []string{"name"}}) {
			if err != nil {
				t.Fatalf("Nodes: %v", err)
			}
			got = append(got, n.Name)
			if len(got) == 2 {
				// The next page's marker is this node; delete it before asking.
				wantErr(t, "DeleteNode(marker)", c.DeleteNode(ctx, n.UUID), nil)
			}
		}
		slices.Sort(got)
		if diff := cmp.Diff(silverNames, got); diff != "" {
			t.Errorf("listing across a deleted marker (-want +got):\n%s", diff)
		}
	})

	t.Run("NotFoundError", func(t *testing.T) {
		id := byName[specs[0].Name]
		wantErr(t, "DeleteNode", c.DeleteNode(ctx, id), nil)
		_, err := c.GetNode(ctx, id)
		e, ok := errors.AsType[*ironic.Error](err)
		if !ok {
			t.Fatalf("GetNode(deleted) error = %v, want *ironic.Error", err)
		}
		got := []any{e.StatusCode, e.Method, e.Path, e.Message, strings.HasPrefix(e.RequestID, "req-"),
			errors.Is(err, ironic.ErrNotFound), errors.Is(err, ironic.ErrConflict)}
		want := []any{404, "GET", "/v1/nodes/" + id, "Node " + id + " could not be found.", true, true, false}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetNode(deleted) error (-want +got):\n%s", diff)
		}
		wantErr(t, "DeleteNode again", c.DeleteNode(ctx, id), ironic.ErrNotFound)
		_, err = c.PatchNode(ctx, id, []ironic.PatchOp{ironic.AddOp("/extra/a", "b")})
		wantErr(t, "PatchNode(deleted)", err, ironic.ErrNotFound)
		wantErr(t, "SetProvisionState(deleted)", c.SetProvisionState(ctx, id, ironic.TargetManage, ironic.ProvisionOptions{}), ironic.ErrNotFound)
		wantErr(t, "SetTraits(deleted)", c.SetTraits(ctx, id, nil), ironic.ErrNotFound)
	})

	t.Run("Unauthorized", func(t *testing.T) {
		if tg.user == "" {
			t.Skip("no HTTP basic credentials configured")
		}
		anon := newClient(t, target{url: tg.url}, ironic.Config{})
		if _, err := anon.Negotiate(ctx); err != nil {
			t.Fatalf("Negotiate without credentials: %v (the root document is public)", err)
		}
		_, err := anon.ListNodes(ctx, ironic.ListOptions{ResourceClass: gold})
		wantErr(t, "ListNodes without credentials", err, ironic.ErrUnauthorized)
		if e, ok := errors.AsType[*ironic.Error](err); !ok || e.Message != "Authorization required" {
			t.Errorf("ListNodes without credentials: %v, want Ironic's message", err)
		}
		wrong := newClient(t, target{url: tg.url}, ironic.Config{
			Transport: &ironic.BasicAuth{Username: tg.user, Password: tg.password + "x"}})
		_, err = wrong.GetNode(ctx, uuids[1])
		if e, ok := errors.AsType[*ironic.Error](err); !ok || e.StatusCode != 401 || e.Message != "Incorrect username or password" {
			t.Errorf("GetNode with a wrong password: %v, want 401 Incorrect username or password", err)
		}
	})

	if tg.fake != nil {
		for _, r := range tg.fake.Requests() {
			if r.Path != "/" && r.Version == "" {
				t.Errorf("%s %s was sent without X-OpenStack-Ironic-API-Version", r.Method, r.Path)
			}
		}
	}
}

// waitFor polls the node until ok holds, for up to 30 seconds.
func waitFor(t *testing.T, c *ironic.Client, id string, ok func(ironic.Node) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		n, err := c.GetNode(ctx, id)
		if err != nil {
			t.Fatalf("GetNode(%s): %v", id, err)
		}
		if ok(n) {
			return
		}
		tm := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Fatalf("node %s never got there: %+v", id, n)
		case <-tm.C:
		}
	}
}

// rawGet fetches path with plain net/http, to look at Ironic's own answer.
func rawGet(t *testing.T, tg target, v ironic.Version, path string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, strings.TrimSuffix(tg.url, "/")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-OpenStack-Ironic-API-Version", v.String())
	if tg.user != "" {
		req.SetBasicAuth(tg.user, tg.password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// cleanup deletes the nodes of this run: maintenance first, so any state may be deleted.
func cleanup(t *testing.T, c *ironic.Client, run string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), time.Minute)
	defer cancel()
	nodes, err := c.ListNodes(ctx, ironic.ListOptions{Fields: []string{"name"}})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, n := range nodes {
		if !strings.HasPrefix(n.Name, run+"-") {
			continue
		}
		if err := c.SetMaintenance(ctx, n.UUID, "contract cleanup"); err != nil && !errors.Is(err, ironic.ErrNotFound) {
			t.Errorf("cleanup %s: %v", n.Name, err)
			continue
		}
		if err := c.DeleteNode(ctx, n.UUID); err != nil && !errors.Is(err, ironic.ErrNotFound) {
			t.Errorf("cleanup %s: %v", n.Name, err)
		}
	}
}
