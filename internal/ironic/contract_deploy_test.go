package ironic_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/uuid"
)

// deployNodes are the contract's nodes that the deploy subtests may use: available, with
// the given traits, resource classes and names.
type deployNodes struct {
	run            string
	deploy         string   // a gold node, for deploy and tear-down
	deployTraits   []string // its traits
	silverRC       string
	silvers        []string // UUIDs
	silverNames    []string
	allocationNode int // index in silvers of the node the allocation subtest may take
}

// deployDelay is the real Ironic's [fake] deploy_delay in seconds, as scripts/ironic/env.sh
// exports it (INGOT_IRONIC_DEPLOY_DELAY); the fake runs its own timing.
func deployDelay(tg target) float64 {
	if tg.fake != nil {
		return 0.1
	}
	d, _ := strconv.ParseFloat(os.Getenv("INGOT_IRONIC_DEPLOY_DELAY"), 64)
	return d
}

// observe polls the node every 20 ms until done holds, and returns every distinct
// (state, target, instance, reserved) it saw, in order. A failed state fails the test
// unless failOK.
func observe(t *testing.T, c *ironic.Client, id string, done func(ironic.Node) bool, failOK ...bool) []ironic.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var seen []ironic.Node
	key := func(n ironic.Node) [4]string {
		return [4]string{n.ProvisionState, n.TargetProvisionState, n.InstanceUUID, strconv.FormatBool(n.Reservation != "")}
	}
	for {
		n, err := c.GetNode(ctx, id, "provision_state", "target_provision_state", "instance_uuid", "reservation",
			"last_error", "instance_info", "provision_updated_at")
		if err != nil {
			t.Fatalf("observe %s: %v", id, err)
		}
		if len(seen) == 0 || key(seen[len(seen)-1]) != key(n) {
			seen = append(seen, n)
		}
		if done(n) {
			return seen
		}
		if len(failOK) == 0 && (strings.HasSuffix(n.ProvisionState, "failed") || n.ProvisionState == ironic.ProvisionStateError) {
			t.Fatalf("node %s went to %s: %s", id, n.ProvisionState, n.LastError)
		}
		tm := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Fatalf("node %s never got there; saw %v", id, states(seen))
		case <-tm.C:
		}
	}
}

func states(nodes []ironic.Node) []string {
	var out []string
	for _, n := range nodes {
		s := n.ProvisionState
		if n.TargetProvisionState != "" {
			s += "->" + n.TargetProvisionState
		}
		out = append(out, s)
	}
	return out
}

func settled(state string) func(ironic.Node) bool {
	return func(n ironic.Node) bool {
		return n.ProvisionState == state && n.TargetProvisionState == "" && n.Reservation == ""
	}
}

func runDeployContract(t *testing.T, tg target, c *ironic.Client, dn deployNodes) {
	ctx := t.Context()

	t.Run("Validate", func(t *testing.T) {
		id := dn.deploy
		res, err := c.ValidateNode(ctx, id)
		if err != nil {
			t.Fatalf("ValidateNode: %v", err)
		}
		for _, iface := range []string{"boot", "deploy", "power", "management", "network", "storage"} {
			if r, ok := res[iface]; !ok || !r.Result || r.Reason != "" {
				t.Errorf("ValidateNode %s = %+v, %v; want a success", iface, r, ok)
			}
		}
		wantErr(t, "CheckDeployable", ironic.CheckDeployable(res), nil)

		missing := "CUSTOM_" + strings.ToUpper(strings.ReplaceAll(dn.run, "-", "_")) + "_MISSING"
		_, err = c.PatchNode(ctx, id, ironic.InstanceInfoOps(ironic.InstanceInfo{Traits: []string{missing}}))
		wantErr(t, "PatchNode(instance_info/traits)", err, nil)
		res, err = c.ValidateNode(ctx, id)
		if err != nil {
			t.Fatalf("ValidateNode: %v", err)
		}
		wantReason := "Cannot specify instance traits that are not also set on the node. Node " + id + " is missing traits " + missing
		if got := res["deploy"]; got.Result || got.Reason != wantReason || !res["power"].Result {
			t.Errorf("ValidateNode deploy = %+v, power = %+v; want deploy false with %q", got, res["power"], wantReason)
		}
		err = ironic.CheckDeployable(res)
		if !errors.Is(err, ironic.ErrValidation) || !strings.Contains(err.Error(), "deploy: "+wantReason) {
			t.Errorf("CheckDeployable = %v, want ErrValidation naming deploy", err)
		}
		err = c.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{})
		wantErr(t, "deploy with unknown instance traits", err, ironic.ErrInvalid)
		if e, ok := errors.AsType[*ironic.Error](err); !ok || e.Message != "Failed to validate deploy or power info for node "+id+": "+wantReason {
			t.Errorf("deploy with unknown instance traits: %v", err)
		}
		n, err := c.PatchNode(ctx, id, []ironic.PatchOp{ironic.RemoveOp("/instance_info")})
		if err != nil || len(n.InstanceInfo) != 0 {
			t.Fatalf("remove /instance_info = %v, %v", n.InstanceInfo, err)
		}
		_, err = c.ValidateNode(ctx, dn.run+"-nope")
		wantErr(t, "ValidateNode(unknown)", err, ironic.ErrNotFound)
	})

	t.Run("DeployWithConfigDriveAndTearDown", func(t *testing.T) {
		id := dn.deploy
		inst := uuid.New()
		n, err := c.PatchNode(ctx, id, ironic.ClaimOps(inst))
		if err != nil || n.InstanceUUID != inst {
			t.Fatalf("claim = %q, %v", n.InstanceUUID, err)
		}
		info := ironic.InstanceInfo{
			ImageSource: "http://images.invalid/ct.qcow2", ImageChecksum: strings.Repeat("a", 32),
			Traits: dn.deployTraits, Capabilities: map[string]string{"boot_mode": "uefi"},
			DisplayName: dn.run + "-vm", ProjectID: "p-" + dn.run,
		}
		n, err = c.PatchNode(ctx, id, ironic.InstanceInfoOps(info))
		if err != nil {
			t.Fatalf("PatchNode(instance_info): %v", err)
		}
		wantInfo := map[string]any{"image_source": info.ImageSource, "image_checksum": info.ImageChecksum,
			"traits": []any{dn.deployTraits[0]}, "capabilities": map[string]any{"boot_mode": "uefi"},
			"display_name": info.DisplayName, "project_id": info.ProjectID}
		if diff := cmp.Diff(wantInfo, n.InstanceInfo); diff != "" {
			t.Errorf("instance_info (-want +got):\n%s", diff)
		}
		// Replacing one key leaves the others.
		n, err = c.PatchNode(ctx, id, ironic.InstanceInfoOps(ironic.InstanceInfo{DisplayName: dn.run + "-renamed"}))
		if err != nil || n.InstanceInfo["display_name"] != dn.run+"-renamed" || n.InstanceInfo["image_source"] != info.ImageSource {
			t.Errorf("replace display_name = %v, %v", n.InstanceInfo, err)
		}
		res, err := c.ValidateNode(ctx, id)
		if err != nil || ironic.CheckDeployable(res) != nil {
			t.Fatalf("ValidateNode = %+v, %v", res, err)
		}
		cd := &ironic.ConfigDrive{
			MetaData: ironic.MetaData{UUID: inst, Name: dn.run + "-vm", Hostname: dn.run + "-vm",
				PublicKeys: map[string]string{"default": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB ct@ingot"}},
			UserData:    "#cloud-config\n",
			NetworkData: json.RawMessage(`{"links": [], "networks": [], "services": []}`),
		}
		wantErr(t, "deploy", c.SetProvisionState(ctx, id, ironic.TargetDeploy, ironic.ProvisionOptions{ConfigDrive: cd}), nil)
		seen := observe(t, c, id, settled(ironic.ProvisionStateActive))
		if deployDelay(tg) > 0 && !slices.ContainsFunc(seen, func(n ironic.Node) bool {
			return n.ProvisionState == ironic.ProvisionStateDeploying && n.TargetProvisionState == "active" && n.Reservation != ""
		}) {
			t.Errorf("deploy states = %v, want deploying->active (locked) on the way", states(seen))
		}
		n, err = c.GetNode(ctx, id)
		if err != nil || n.InstanceUUID != inst || n.InstanceInfo["configdrive"] != "******" ||
			n.InstanceInfo["image_source"] != info.ImageSource || n.LastError != "" {
			t.Fatalf("active node: instance %q instance_info %v last_error %q, %v; want the instance, the info and a hidden config drive",
				n.InstanceUUID, n.InstanceInfo, n.LastError, err)
		}

		wantErr(t, "undeploy", c.SetProvisionState(ctx, id, ironic.TargetUndeploy, ironic.ProvisionOptions{}), nil)
		seen = observe(t, c, id, settled(ironic.ProvisionStateAvailable))
		for _, o := range seen {
			// Ironic clears the instance at the end of tear-down, before cleaning.
			if (o.ProvisionState == ironic.ProvisionStateCleaning || o.ProvisionState == ironic.ProvisionStateAvailable) &&
				(o.InstanceUUID != "" || len(o.InstanceInfo) != 0) {
				t.Errorf("%s with instance %q, instance_info %v; want both cleared", o.ProvisionState, o.InstanceUUID, o.InstanceInfo)
			}
			if !slices.Contains([]string{"active", "deleting", "cleaning", "clean wait", "available"}, o.ProvisionState) {
				t.Errorf("tear-down passed through %q", o.ProvisionState)
			}
		}
		if deployDelay(tg) > 0 && !slices.ContainsFunc(seen, func(n ironic.Node) bool {
			return n.ProvisionState == ironic.ProvisionStateDeleting && n.TargetProvisionState == "available" && n.InstanceUUID == inst
		}) {
			t.Errorf("tear-down states = %v, want deleting->available with the instance still set", states(seen))
		}
		t.Logf("tear-down: %v", states(seen))
	})

	t.Run("ConfigDriveRefused", func(t *testing.T) {
		id := dn.deploy
		old := newClient(t, tg, ironic.Config{MaxVersion: ironic.Version{Major: 1, Minor: 55}})
		err := old.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{ConfigDrive: ironic.ConfigDrive{}})
		wantErr(t, "dict config drive at 1.55", err, ironic.ErrUnsupported)
		err = c.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{
			ConfigDrive: map[string]any{"meta_data": map[string]any{}, "bogus": 1}})
		wantErr(t, "config drive with an unknown key", err, ironic.ErrInvalid)
		err = c.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{
			ConfigDrive: ironic.ConfigDrive{NetworkData: json.RawMessage(`"x"`)}})
		wantErr(t, "config drive with network_data not an object", err, ironic.ErrInvalid)
		n, err := c.GetNode(ctx, id, "provision_state")
		if err != nil || n.ProvisionState != ironic.ProvisionStateAvailable {
			t.Errorf("after refused deploys: %q, %v; want available", n.ProvisionState, err)
		}
	})

	t.Run("LockedDuringTransition", func(t *testing.T) {
		if deployDelay(tg) <= 0 {
			t.Skip("the real Ironic has no [fake] deploy_delay (INGOT_IRONIC_DEPLOY_DELAY): a deploy ends before a second request can meet its lock")
		}
		id := dn.deploy
		inst := uuid.New()
		if _, err := c.PatchNode(ctx, id, ironic.ClaimOps(inst)); err != nil {
			t.Fatalf("claim: %v", err)
		}
		wantErr(t, "deploy", c.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{}), nil)
		_, err := c.PatchNode(ctx, id, []ironic.PatchOp{ironic.AddOp("/extra/ct", "x")})
		wantErr(t, "PatchNode while deploying", err, ironic.ErrNodeLocked)
		if e, ok := errors.AsType[*ironic.Error](err); !ok || e.Message != "Node "+id+" can not be updated while a state transition is in progress." {
			t.Errorf("PatchNode while deploying: %v", err)
		}
		if errors.Is(err, ironic.ErrAssociated) || !errors.Is(err, ironic.ErrConflict) {
			t.Errorf("PatchNode while deploying: %v matches ErrAssociated or not ErrConflict", err)
		}
		err = c.SetProvisionState(ctx, id, ironic.TargetUndeploy, ironic.ProvisionOptions{})
		wantErr(t, "undeploy while deploying", err, ironic.ErrNodeLocked)
		if e, ok := errors.AsType[*ironic.Error](err); !ok || !strings.HasPrefix(e.Message, "Node "+id+" is locked by host ") ||
			!strings.HasSuffix(e.Message, ", please retry after the current operation is completed.") {
			t.Errorf("undeploy while deploying: %v", err)
		}
		observe(t, c, id, settled(ironic.ProvisionStateActive))
		wantErr(t, "undeploy", c.SetProvisionState(ctx, id, ironic.TargetUndeploy, ironic.ProvisionOptions{}), nil)
		observe(t, c, id, settled(ironic.ProvisionStateAvailable))
	})

	t.Run("DeployFailsWithoutCallback", func(t *testing.T) {
		// A real, per-node deploy failure: the custom-agent deploy interface boots a ramdisk
		// (fake) that never calls back, so the deploy waits in "wait call-back" and fails
		// after [conductor] deploy_callback_timeout (scripts/ironic: CALLBACK_TIMEOUT).
		id := dn.deploy
		inst := uuid.New()
		_, err := c.PatchNode(ctx, id, []ironic.PatchOp{ironic.ReplaceOp("/deploy_interface", "bogus")})
		wantErr(t, "deploy_interface bogus", err, ironic.ErrInvalid)
		n, err := c.PatchNode(ctx, id, append(ironic.ClaimOps(inst), ironic.ReplaceOp("/deploy_interface", "custom-agent")))
		if err != nil {
			t.Fatalf("claim and switch to custom-agent: %v", err)
		}
		wantErr(t, "deploy", c.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{}), nil)
		var patched, unlocked bool
		seen := observe(t, c, id, func(n ironic.Node) bool {
			if n.ProvisionState == "wait call-back" && n.Reservation == "" && !patched {
				// The conductor lets go while it waits, yet a PATCH is refused while the
				// transition runs.
				patched, unlocked = true, true
				_, err := c.PatchNode(ctx, id, []ironic.PatchOp{ironic.AddOp("/extra/ct", "x")})
				wantErr(t, "PatchNode in wait call-back", err, ironic.ErrNodeLocked)
			}
			return n.ProvisionState == ironic.ProvisionStateDeployFailed && n.Reservation == ""
		}, true)
		last := seen[len(seen)-1]
		want := "Timeout reached while waiting for callback for node " + id
		if !unlocked || last.TargetProvisionState != "active" || last.LastError != want || last.InstanceUUID != inst {
			t.Errorf("states %v, last %s -> %s %q instance %q; want wait call-back, then deploy failed -> active with %q and the instance",
				states(seen), last.ProvisionState, last.TargetProvisionState, last.LastError, last.InstanceUUID, want)
		}
		// deploy failed allows a PATCH, but not of an interface.
		_, err = c.PatchNode(ctx, id, []ironic.PatchOp{ironic.AddOp("/extra/ct", "x")})
		wantErr(t, "PatchNode in deploy failed", err, nil)
		_, err = c.PatchNode(ctx, id, []ironic.PatchOp{ironic.RemoveOp("/deploy_interface")})
		wantErr(t, "reset deploy_interface in deploy failed", err, ironic.ErrConflict)
		if errors.Is(err, ironic.ErrNodeLocked) || errors.Is(err, ironic.ErrAssociated) {
			t.Errorf("reset deploy_interface in deploy failed: %v is neither locked nor associated", err)
		}
		wantErr(t, "undeploy", c.SetProvisionState(ctx, id, ironic.TargetUndeploy, ironic.ProvisionOptions{}), nil)
		observe(t, c, id, settled(ironic.ProvisionStateAvailable))
		n, err = c.PatchNode(ctx, id, []ironic.PatchOp{ironic.RemoveOp("/deploy_interface"), ironic.RemoveOp("/extra/ct")})
		if err != nil || n.InstanceUUID != "" || n.LastError != "" {
			t.Errorf("after tear-down: instance %q last_error %q, %v", n.InstanceUUID, n.LastError, err)
		}
		if got, err := c.GetNode(ctx, id, "deploy_interface"); err != nil {
			t.Errorf("GetNode(deploy_interface): %v", err)
		} else if got.UUID != id {
			t.Errorf("GetNode = %+v", got)
		}
	})

	t.Run("ClaimConflicts", func(t *testing.T) {
		a, b := dn.silvers[0], dn.silvers[1]
		inst, inst2 := uuid.New(), uuid.New()
		wantErr(t, "claim", func() error { _, err := c.PatchNode(ctx, a, ironic.ClaimOps(inst)); return err }(), nil)
		_, err := c.PatchNode(ctx, a, ironic.ClaimOps(inst2))
		if !errors.Is(err, ironic.ErrAssociated) || errors.Is(err, ironic.ErrInstanceAssociated) || errors.Is(err, ironic.ErrNodeLocked) {
			t.Errorf("second instance on a node: %v, want ErrAssociated (NodeAssociated)", err)
		}
		if e, ok := errors.AsType[*ironic.Error](err); !ok || e.StatusCode != 409 || e.Message != "Node "+a+" is associated with instance "+inst+"." {
			t.Errorf("second instance on a node: %v", err)
		}
		_, err = c.PatchNode(ctx, a, []ironic.PatchOp{ironic.ReplaceOp("/instance_uuid", inst2)})
		wantErr(t, "replace instance_uuid", err, ironic.ErrAssociated)
		_, err = c.PatchNode(ctx, b, ironic.ClaimOps(inst))
		if !errors.Is(err, ironic.ErrInstanceAssociated) || !errors.Is(err, ironic.ErrAssociated) {
			t.Errorf("instance on a second node: %v, want ErrInstanceAssociated", err)
		}
		if e, ok := errors.AsType[*ironic.Error](err); !ok || e.Message != "Instance "+inst+" is already associated with a node, it cannot be associated with this other node "+b {
			t.Errorf("instance on a second node: %v", err)
		}
		n, err := c.PatchNode(ctx, a, ironic.ReleaseOps())
		if err != nil || n.InstanceUUID != "" || len(n.InstanceInfo) != 0 {
			t.Errorf("ReleaseOps = instance %q info %v, %v", n.InstanceUUID, n.InstanceInfo, err)
		}
		// Releasing a free node is accepted too (the remove of a null field).
		_, err = c.PatchNode(ctx, a, ironic.ReleaseOps())
		wantErr(t, "ReleaseOps on a free node", err, nil)
	})

	t.Run("WatchChangedNodes", func(t *testing.T) {
		const overlap = 10 * time.Millisecond
		opts := ironic.WatchOptions{ListOptions: ironic.ListOptions{ResourceClass: dn.silverRC,
			Fields: []string{"name", "provision_state", "target_provision_state", "reservation"}},
			Overlap: overlap}
		all, w0, err := c.ChangedNodes(ctx, time.Time{}, opts)
		if err != nil {
			t.Fatalf("ChangedNodes(zero): %v", err)
		}
		if diff := cmp.Diff(dn.silverNames, names(all)); diff != "" {
			t.Fatalf("ChangedNodes(zero) (-want +got):\n%s", diff)
		}
		// A watch returns what changed since the watermark, and again what changed within
		// the overlap before it.
		var recent []string // newest first, as the watch returns them
		slices.SortStableFunc(all, func(a, b ironic.Node) int { return b.ProvisionUpdatedAt.Compare(a.ProvisionUpdatedAt) })
		for _, n := range all {
			if n.ProvisionUpdatedAt.After(w0) || n.ProvisionUpdatedAt.IsZero() {
				t.Errorf("node %s stamped %v, watermark %v", n.Name, n.ProvisionUpdatedAt, w0)
			}
			if !n.ProvisionUpdatedAt.Before(w0.Add(-overlap)) {
				recent = append(recent, n.UUID)
			}
		}
		uuids := func(nodes []ironic.Node) []string {
			var out []string
			for _, n := range nodes {
				out = append(out, n.UUID)
			}
			return out
		}
		got, w, err := c.ChangedNodes(ctx, w0, opts)
		if err != nil || w.Before(w0) || w.After(time.Now()) {
			t.Fatalf("ChangedNodes(w0) before any change: watermark %v, %v; want from %v to now", w, err, w0)
		}
		if diff := cmp.Diff(recent, uuids(got), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("ChangedNodes(w0) before any change (-want +got):\n%s", diff)
		}
		changed := []string{dn.silvers[2], dn.silvers[0]}
		for _, id := range changed {
			wantErr(t, "manage", c.SetProvisionState(ctx, id, ironic.TargetManage, ironic.ProvisionOptions{}), nil)
		}
		want := append([]string{changed[1], changed[0]}, slices.DeleteFunc(slices.Clone(recent), func(id string) bool {
			return slices.Contains(changed, id)
		})...)
		for _, limit := range []int{0, 1} {
			o := opts
			o.Limit = limit
			if tg.fake != nil {
				tg.fake.ResetRequests()
			}
			got, w1, err := c.ChangedNodes(ctx, w0, o)
			if err != nil {
				t.Fatalf("ChangedNodes(w0, limit %d): %v", limit, err)
			}
			// Newest first: the node managed last comes first; then the overlap's.
			if diff := cmp.Diff(want, uuids(got)); diff != "" {
				t.Errorf("ChangedNodes(w0, limit %d) (-want +got):\n%s", limit, diff)
			}
			if len(got) >= 2 {
				if got[0].ProvisionState != ironic.ProvisionStateManageable || got[1].ProvisionState != ironic.ProvisionStateManageable {
					t.Errorf("changed nodes in %s and %s, want manageable", got[0].ProvisionState, got[1].ProvisionState)
				}
				if w1.Before(got[0].ProvisionUpdatedAt) || !w1.After(w0) {
					t.Errorf("watermark %v, want from the newest stamp %v (after %v)", w1, got[0].ProvisionUpdatedAt, w0)
				}
			}
			if tg.fake != nil {
				pages := tg.fake.Counts()["GET /v1/nodes"]
				// One page holds everything; with one node a page, the scan reads one
				// page beyond the window's last node at most.
				if limit == 0 && pages != 1 || limit == 1 && pages > len(want)+1 {
					t.Errorf("limit %d: %d listing requests for %d changes", limit, pages, len(want))
				}
			}
		}
		for _, id := range changed {
			wantErr(t, "provide", c.SetProvisionState(ctx, id, ironic.TargetProvide, ironic.ProvisionOptions{}), nil)
		}
		wantErr(t, "wait available", ironictest.WaitForState(ctx, c, changed, ironic.ProvisionStateAvailable), nil)
	})

	t.Run("Allocations", func(t *testing.T) {
		if !c.Version().HasAllocations() {
			t.Skipf("negotiated %s has no allocations", c.Version())
		}
		node := dn.silvers[dn.allocationNode]
		a, err := c.CreateAllocation(ctx, ironic.AllocationCreate{Name: dn.run + "-alloc", ResourceClass: dn.silverRC,
			CandidateNodes: []string{dn.silverNames[dn.allocationNode]}, Extra: map[string]any{"ct": dn.run}})
		if err != nil {
			t.Fatalf("CreateAllocation: %v", err)
		}
		if a.UUID == "" || a.State != ironic.AllocationAllocating || a.ResourceClass != dn.silverRC ||
			!cmp.Equal(a.CandidateNodes, []string{node}) || a.CreatedAt.IsZero() {
			t.Errorf("CreateAllocation = %+v; want allocating with the candidate resolved to its UUID", a)
		}
		a = waitAllocation(t, c, a.UUID)
		if a.State != ironic.AllocationActive || a.NodeUUID != node || a.LastError != "" {
			t.Fatalf("allocation = %+v; want active on %s", a, node)
		}
		n, err := c.GetNode(ctx, node, "instance_uuid")
		if err != nil || n.InstanceUUID != a.UUID {
			t.Errorf("node instance_uuid = %q, %v; want the allocation %s", n.InstanceUUID, err, a.UUID)
		}
		byName, err := c.GetAllocation(ctx, dn.run+"-alloc")
		if err != nil || byName.UUID != a.UUID {
			t.Errorf("GetAllocation(name) = %+v, %v", byName, err)
		}
		list, err := c.ListAllocations(ctx, ironic.AllocationListOptions{Node: node})
		if err != nil || len(list) != 1 || list[0].UUID != a.UUID {
			t.Errorf("ListAllocations(node) = %+v, %v", list, err)
		}
		_, err = c.CreateAllocation(ctx, ironic.AllocationCreate{Name: dn.run + "-alloc", ResourceClass: dn.silverRC})
		wantErr(t, "CreateAllocation with a taken name", err, ironic.ErrConflict)
		_, err = c.CreateAllocation(ctx, ironic.AllocationCreate{Name: dn.run + "-norc"})
		wantErr(t, "CreateAllocation without a resource class", err, ironic.ErrInvalid)

		bad, err := c.CreateAllocation(ctx, ironic.AllocationCreate{Name: dn.run + "-bad", ResourceClass: dn.run + "-none"})
		if err != nil {
			t.Fatalf("CreateAllocation(unknown class): %v", err)
		}
		bad = waitAllocation(t, c, bad.UUID)
		want := "Failed to process allocation " + bad.UUID + ": no available nodes match the resource class " + dn.run + "-none."
		if bad.State != ironic.AllocationError || bad.LastError != want || bad.NodeUUID != "" {
			t.Errorf("allocation of an unknown class = %+v; want error %q", bad, want)
		}
		errs, err := c.ListAllocations(ctx, ironic.AllocationListOptions{State: ironic.AllocationError, Limit: 1})
		if err != nil || !slices.ContainsFunc(errs, func(x ironic.Allocation) bool { return x.UUID == bad.UUID }) {
			t.Errorf("ListAllocations(state=error, limit=1) = %d, %v; want it to hold %s", len(errs), err, bad.UUID)
		}

		wantErr(t, "DeleteAllocation", c.DeleteAllocation(ctx, a.UUID), nil)
		n, err = c.GetNode(ctx, node, "instance_uuid")
		if err != nil || n.InstanceUUID != "" {
			t.Errorf("after DeleteAllocation: instance_uuid %q, %v; want none", n.InstanceUUID, err)
		}
		wantErr(t, "DeleteAllocation again", c.DeleteAllocation(ctx, a.UUID), ironic.ErrNotFound)
		_, err = c.GetAllocation(ctx, a.UUID)
		wantErr(t, "GetAllocation(deleted)", err, ironic.ErrNotFound)
		wantErr(t, "DeleteAllocation(error)", c.DeleteAllocation(ctx, bad.UUID), nil)
	})
}

// waitAllocation polls the allocation until it leaves allocating.
func waitAllocation(t *testing.T, c *ironic.Client, id string) ironic.Allocation {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		a, err := c.GetAllocation(t.Context(), id)
		if err != nil {
			t.Fatalf("GetAllocation(%s): %v", id, err)
		}
		if a.State != ironic.AllocationAllocating || time.Now().After(deadline) {
			return a
		}
		time.Sleep(20 * time.Millisecond)
	}
}
