package ironic

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Provision targets for SetProvisionState (the verbs of Ironic's state machine).
const (
	TargetActive   = "active"   // deploy an available node
	TargetDeploy   = "deploy"   // alias of active (1.73; sent as active before that)
	TargetRebuild  = "rebuild"  // redeploy an active node
	TargetDeleted  = "deleted"  // tear down: deleting -> cleaning -> available
	TargetUndeploy = "undeploy" // alias of deleted (1.73; sent as deleted before that)
	TargetManage   = "manage"   // enroll or available -> manageable
	TargetProvide  = "provide"  // manageable -> cleaning -> available
	TargetInspect  = "inspect"  // manageable -> inspecting -> manageable
	TargetClean    = "clean"    // manual cleaning (needs CleanSteps)
	TargetAbort    = "abort"
	TargetAdopt    = "adopt"
	TargetRescue   = "rescue"
	TargetUnrescue = "unrescue"
)

// ProvisionOptions are the optional parts of a provision request.
type ProvisionOptions struct {
	// ConfigDrive is a ConfigDrive or *ConfigDrive (Ironic's dict form, 1.56; checked
	// against the negotiated version before sending), a gzipped, base64-encoded ISO or a
	// URL (string), or any other value to send as is.
	ConfigDrive any
	CleanSteps  []map[string]any // with TargetClean
	DeploySteps []map[string]any // with TargetActive or TargetRebuild (1.69)
}

// SetProvisionState asks Ironic to move the node toward target and returns once Ironic
// accepted (202); the transition runs asynchronously, so poll GetNode for the outcome.
// Errors: ErrNotFound; ErrConflict when the node is locked or busy (wait and retry);
// ErrInvalid when the node's state does not allow target or the node is in maintenance
// (deploy and rebuild only); ErrUnavailable when no conductor worker is free (already
// retried). Not idempotent: a broken connection is not retried.
func (c *Client) SetProvisionState(ctx context.Context, id, target string, opts ProvisionOptions) error {
	v, err := c.negotiated(ctx)
	if err != nil {
		return fmt.Errorf("set provision state of %s to %s: %w", id, target, err)
	}
	switch d := opts.ConfigDrive.(type) {
	case ConfigDrive:
		err = d.check(v)
	case *ConfigDrive:
		if d != nil {
			err = d.check(v)
		} else {
			opts.ConfigDrive = nil
		}
	}
	if err != nil {
		return fmt.Errorf("set provision state of %s to %s: %w", id, target, err)
	}
	t := target
	if !v.HasDeployVerbs() || opts.ConfigDrive != nil {
		// Ironic 21.4 takes a config drive only with "active" or "rebuild", not with
		// "deploy", its alias.
		switch t {
		case TargetDeploy:
			t = TargetActive
		case TargetUndeploy:
			if !v.HasDeployVerbs() {
				t = TargetDeleted
			}
		}
	}
	body := struct {
		Target      string           `json:"target"`
		ConfigDrive any              `json:"configdrive,omitempty"`
		CleanSteps  []map[string]any `json:"clean_steps,omitempty"`
		DeploySteps []map[string]any `json:"deploy_steps,omitempty"`
	}{t, opts.ConfigDrive, opts.CleanSteps, opts.DeploySteps}
	err = c.do(ctx, request{method: http.MethodPut, path: nodePath(id, "states", "provision"), body: body, version: v}, nil)
	if err != nil {
		return fmt.Errorf("set provision state of %s to %s: %w", id, target, err)
	}
	return nil
}

// SetPowerState asks Ironic to power the node to target (PowerOn, PowerOff, PowerReboot,
// PowerSoftOff, PowerSoftReboot) and returns once Ironic accepted (202). A positive
// timeout bounds soft actions on the Ironic side. Errors: ErrNotFound; ErrConflict (node
// locked); ErrInvalid (unknown target). Not idempotent: a broken connection is not retried.
func (c *Client) SetPowerState(ctx context.Context, id, target string, timeout time.Duration) error {
	v, err := c.negotiated(ctx)
	if err != nil {
		return fmt.Errorf("set power state of %s to %s: %w", id, target, err)
	}
	body := struct {
		Target  string `json:"target"`
		Timeout int    `json:"timeout,omitempty"`
	}{Target: target}
	if timeout > 0 {
		body.Timeout = int((timeout + time.Second - 1) / time.Second)
	}
	err = c.do(ctx, request{method: http.MethodPut, path: nodePath(id, "states", "power"), body: body, version: v}, nil)
	if err != nil {
		return fmt.Errorf("set power state of %s to %s: %w", id, target, err)
	}
	return nil
}

// SetMaintenance puts the node in maintenance with a reason. Idempotent. Errors:
// ErrNotFound; ErrConflict (node locked).
func (c *Client) SetMaintenance(ctx context.Context, id, reason string) error {
	v, err := c.negotiated(ctx)
	if err != nil {
		return fmt.Errorf("set maintenance on %s: %w", id, err)
	}
	body := struct {
		Reason string `json:"reason,omitempty"`
	}{reason}
	err = c.do(ctx, request{method: http.MethodPut, path: nodePath(id, "maintenance"), body: body, idempotent: true, version: v}, nil)
	if err != nil {
		return fmt.Errorf("set maintenance on %s: %w", id, err)
	}
	return nil
}

// UnsetMaintenance takes the node out of maintenance; Ironic also clears the reason and
// the fault. Idempotent. Errors: ErrNotFound; ErrConflict (node locked).
func (c *Client) UnsetMaintenance(ctx context.Context, id string) error {
	v, err := c.negotiated(ctx)
	if err != nil {
		return fmt.Errorf("unset maintenance on %s: %w", id, err)
	}
	err = c.do(ctx, request{method: http.MethodDelete, path: nodePath(id, "maintenance"), idempotent: true, version: v}, nil)
	if err != nil {
		return fmt.Errorf("unset maintenance on %s: %w", id, err)
	}
	return nil
}
