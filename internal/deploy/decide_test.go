package deploy

import (
	"testing"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/ironic"
)

func TestDecide(t *testing.T) {
	const me, other, x = "inst-1", "inst-2", "node-x"
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	node := func(state, target, instance string) Observation {
		return Observation{Seen: true, Node: ironic.Node{UUID: x, ProvisionState: state, TargetProvisionState: target,
			InstanceUUID: instance, PowerState: "power off", LastError: "boom"}}
	}
	inst := func(state baremetal.State, task baremetal.Task, nodeID string, locked bool) baremetal.Instance {
		return baremetal.Instance{UUID: me, State: state, Task: task, Node: nodeID, Locked: locked, UpdatedAt: now.Add(-time.Minute)}
	}
	building := func(task baremetal.Task) baremetal.Instance {
		return inst(baremetal.StateBuilding, task, x, task != baremetal.TaskLocking)
	}
	deleting := inst(baremetal.StateDeleting, baremetal.TaskTearingDown, x, true)
	tests := []struct {
		name    string
		in      baremetal.Instance
		obs     Observation
		timeout time.Duration
		want    Action
		fault   string
	}{
		{"new instance", inst(baremetal.StateBuilding, baremetal.TaskScheduling, "", false), Observation{}, 0, DoSchedule, ""},
		{"claimed, node not read yet", building(baremetal.TaskLocking), Observation{}, 0, DoLock, ""},
		{"claimed, node free", building(baremetal.TaskLocking), node("available", "", ""), 0, DoLock, ""},
		{"claimed, node shows our lock (crash after PATCH)", building(baremetal.TaskLocking), node("available", "", me), 0, DoLocked, ""},
		{"claimed, node taken: the lock step skips it", building(baremetal.TaskLocking), node("available", "", other), 0, DoLock, ""},
		{"locked, not deployed yet", building(baremetal.TaskDeploying), node("available", "", me), 0, DoDeploy, ""},
		{"locked, deploy asked", building(baremetal.TaskDeploying),
			Observation{Seen: true, DeployRequested: true, Node: ironic.Node{ProvisionState: "available", InstanceUUID: me}}, 0, Wait, ""},
		{"deploying", building(baremetal.TaskDeploying), node("deploying", "active", me), 0, Wait, ""},
		{"wait call-back", building(baremetal.TaskDeploying), node("wait call-back", "active", me), 0, Wait, ""},
		{"active", building(baremetal.TaskDeploying), node("active", "", me), 0, DoActive, ""},
		{"deploy failed", building(baremetal.TaskDeploying), node("deploy failed", "active", me), 0, DoFail, "deploy_failed"},
		{"timed out", building(baremetal.TaskDeploying), node("deploying", "active", me), 30 * time.Second, DoFail, "deploy_timeout"},
		{"not timed out", building(baremetal.TaskDeploying), node("deploying", "active", me), 2 * time.Minute, Wait, ""},
		{"lock lost under us", building(baremetal.TaskDeploying), node("available", "", ""), 0, DoFail, "node_lost"},
		{"node deleted from Ironic", building(baremetal.TaskDeploying), Observation{Seen: true, Gone: true}, 0, DoFail, "node_lost"},
		{"rescheduling: tear down the failed node", building(baremetal.TaskRescheduling), node("deploy failed", "", me), 0, DoUndeploy, ""},
		{"rescheduling: never deployed", building(baremetal.TaskRescheduling), node("available", "", me), 0, DoUnlock, ""},
		{"rescheduling: Ironic tearing down", building(baremetal.TaskRescheduling), node("deleting", "available", me), 0, Wait, ""},
		{"rescheduling: instance dropped, cleaning", building(baremetal.TaskRescheduling), node("cleaning", "available", ""), 0, DoRelease, ""},
		{"deleting active", deleting, node("active", "", me), 0, DoUndeploy, ""},
		{"deleting deploy failed", deleting, node("deploy failed", "", me), 0, DoUndeploy, ""},
		{"deleting error", deleting, node("error", "", me), 0, DoUndeploy, ""},
		{"deleting deploy hold", deleting, node("deploy hold", "", me), 0, DoUndeploy, ""},
		{"deleting servicing", deleting, node("servicing", "", me), 0, DoUndeploy, ""},
		{"deleting service failed", deleting, node("service failed", "", me), 0, DoUndeploy, ""},
		{"deleting rescue", deleting, node("rescue", "", me), 0, DoUndeploy, ""},
		{"deleting unknown state: fail safe", deleting, node("some future state", "", me), 0, DoUndeploy, ""},
		{"deleting while deploying: wait", deleting, node("deploying", "active", me), 0, Wait, ""},
		{"deleting, tear-down asked", deleting, node("active", "deleted", me), 0, Wait, ""},
		{"deleting, never deployed", deleting, node("available", "", me), 0, DoUnlock, ""},
		{"deleting, cleaning", deleting, node("cleaning", "available", ""), 0, DoRelease, ""},
		{"deleting, node gone", deleting, Observation{Seen: true, Gone: true}, 0, DoRelease, ""},
		{"deleting, another instance on the node", deleting, node("active", "", other), 0, DoRelease, ""},
		{"deleting without a node", inst(baremetal.StateDeleting, baremetal.TaskNone, "", false), Observation{}, 0, DoDeleted, ""},
		{"active instance", inst(baremetal.StateActive, baremetal.TaskNone, x, true), node("active", "", me), 0, DoUnchanged, ""},
		{"error instance", inst(baremetal.StateError, baremetal.TaskNone, "", false), Observation{}, 0, DoUnchanged, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.in, tc.obs, now, tc.timeout)
			if d.Action != tc.want {
				t.Fatalf("action %s, want %s", d.Action, tc.want)
			}
			if got := ""; d.Fault != nil || tc.fault != "" {
				if d.Fault != nil {
					got = d.Fault.Code
				}
				if got != tc.fault {
					t.Errorf("fault %q, want %q", got, tc.fault)
				}
			}
		})
	}
}

func TestInstanceInfoAndConfigDrive(t *testing.T) {
	in := baremetal.Instance{UUID: "u-1", Name: "Web Server #1!", ProjectID: "p", UserID: "u",
		Spec: baremetal.Spec{
			Request: baremetal.Request{Required: []string{"CUSTOM_GPU", "CUSTOM_NOT_ON_NODE"},
				Capabilities: map[string]string{"boot_mode": "uefi"}},
			Image: baremetal.Image{Source: "http://img", OSHashAlgo: "sha256", OSHashValue: "abc"},
			ConfigDrive: baremetal.ConfigDrive{UserData: "#!/bin/sh", SSHKeys: map[string]string{"k": "ssh-ed25519 A"},
				MetaData: map[string]string{"role": "web"}, NetworkData: []byte(`{"links":[]}`)},
		}}
	info := InstanceInfo(in, ironic.Node{Traits: []string{"CUSTOM_GPU", "CUSTOM_OTHER"}})
	if info.ImageSource != "http://img" || info.ImageOSHashAlgo != "sha256" || info.ImageOSHashValue != "abc" ||
		info.ImageChecksum != "" || info.DisplayName != in.Name || info.ProjectID != "p" || info.UserID != "u" ||
		len(info.Traits) != 1 || info.Traits[0] != "CUSTOM_GPU" || len(info.Capabilities) != 1 || info.Capabilities["boot_mode"] != "uefi" {
		t.Errorf("instance_info %+v", info)
	}
	cd := ConfigDrive(in)
	md := cd.MetaData
	if md.UUID != "u-1" || md.Name != in.Name || md.Hostname != "web-server-1" || md.PublicKeys["k"] != "ssh-ed25519 A" ||
		md.Meta["role"] != "web" || md.ProjectID != "p" || cd.UserData != "#!/bin/sh" || string(cd.NetworkData) != `{"links":[]}` {
		t.Errorf("config drive %+v", cd)
	}
	for name, want := range map[string]string{"": "instance-u", "---": "instance-u", "a.b-c": "a.b-c"} {
		if got := Hostname(name, "u-1"); got != want {
			t.Errorf("Hostname(%q) = %q, want %q", name, got, want)
		}
	}
}
