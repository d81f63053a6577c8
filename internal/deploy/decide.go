package deploy

import (
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/ironic"
)

// Action is what one step of an instance does.
type Action string

// The actions, in the order a build and a delete use them.
const (
	Wait        Action = "wait"         // nothing to do until Ironic or the user acts
	DoSchedule  Action = "schedule"     // choose a node and claim it (store.ClaimInstance)
	DoLock      Action = "lock"         // check the node and PATCH its instance_uuid
	DoLocked    Action = "mark_locked"  // Ironic shows our lock: record it, start deploying
	DoDeploy    Action = "deploy"       // instance_info, validate, provision active
	DoActive    Action = "mark_active"  // the node is active: record it
	DoFail      Action = "fail"         // this node failed the build: record why, tear it down
	DoUndeploy  Action = "undeploy"     // provision "deleted" (tear down)
	DoUnlock    Action = "unlock"       // remove instance_uuid and instance_info (never deployed)
	DoRelease   Action = "release"      // Ironic dropped the instance: give the claim back
	DoDeleted   Action = "mark_deleted" // no node held: the instance is deleted
	DoUnchanged Action = "none"         // a final or settled state: nothing ever to do
)

// Observation is what is known of the instance's node.
type Observation struct {
	Node ironic.Node // as Ironic last reported it
	Seen bool        // Node is a real report (false: nothing known yet)
	Gone bool        // Ironic answered 404 for the node
	// DeployRequested: this controller had provision "active" accepted for the node and
	// Ironic has not reported a state since.
	DeployRequested bool
	// At is when Ironic reported Node (zero: unknown, as for the tracker's listings).
	At time.Time
}

// Fresh reports whether the observation was read from Ironic at most maxAge before now.
func (o Observation) Fresh(now time.Time, maxAge time.Duration) bool {
	return o.Seen && !o.At.IsZero() && now.Sub(o.At) <= maxAge
}

// Decision is the outcome of Decide.
type Decision struct {
	Action Action
	Fault  *baremetal.Fault // with DoFail
}

// Provision states that Decide tells apart.
const (
	stAvailable    = "available"
	stActive       = "active"
	stDeployFailed = "deploy failed"
)

// waitStates are states in which a node holding the instance is left alone: Ironic is
// working on it (a delete is refused there, or is already under way).
var waitStates = map[string]bool{
	"deploying": true, "deleting": true, "cleaning": true, "clean wait": true, "verifying": true,
	"adopting": true, "rescuing": true, "unrescuing": true, "inspecting": true, "inspect wait": true,
}

// unlockStates are states of a node that was never deployed: the instance's lock and
// instance_info are removed by a PATCH, as Nova's _cleanup_deploy.
var unlockStates = map[string]bool{"available": true, "": true, "manageable": true, "enroll": true}

// Unprovisions reports whether a node in this provision state, holding an instance, is
// torn down with provision "deleted": active, deploy failed, error, wait call-back,
// deploy hold, servicing, service wait/hold/failed, rescue states, and every state this
// package does not know (fail safe, as Nova since LP#2131960). Ironic answers 400 for the
// few of them it refuses, and the step waits and tries again.
func Unprovisions(state string) bool {
	return !waitStates[state] && !unlockStates[state]
}

// Decide returns what the next step of the instance does, given what is observed of its
// node at now. It is pure; the controller re-reads the node before acting on anything
// but Wait, DoSchedule and DoUnchanged.
func Decide(in baremetal.Instance, obs Observation, now time.Time, deployTimeout time.Duration) Decision {
	ours := obs.Seen && !obs.Gone && obs.Node.InstanceUUID == in.UUID
	switch in.State {
	case baremetal.StateActive, baremetal.StateError, baremetal.StateDeleted:
		return Decision{Action: DoUnchanged}
	case baremetal.StateDeleting:
		if in.Node == "" {
			return Decision{Action: DoDeleted}
		}
		return tearDown(obs, ours)
	}
	// Building.
	if in.Node == "" {
		return Decision{Action: DoSchedule}
	}
	if !obs.Seen {
		return Decision{Action: DoLock} // re-read first: the lock step GETs the node
	}
	switch in.Task {
	case baremetal.TaskRescheduling:
		return tearDown(obs, ours)
	case baremetal.TaskDeploying:
		if !ours {
			return fail("node_lost", "Ironic no longer shows the instance on node "+in.Node+
				" (torn down or taken outside ingot)", now)
		}
		n := obs.Node
		switch {
		case n.ProvisionState == stActive && n.TargetProvisionState == "":
			return Decision{Action: DoActive}
		case n.ProvisionState == stDeployFailed:
			msg := "Ironic failed to deploy node " + in.Node
			if n.LastError != "" {
				msg += ": " + n.LastError
			}
			return fail("deploy_failed", msg, now)
		case deployTimeout > 0 && now.Sub(in.UpdatedAt) > deployTimeout:
			return fail("deploy_timeout", "node "+in.Node+" did not become active within "+deployTimeout.String()+
				" (provision state "+n.ProvisionState+")", now)
		case unlockStates[n.ProvisionState] && n.TargetProvisionState == "" && !obs.DeployRequested:
			return Decision{Action: DoDeploy}
		}
		return Decision{Action: Wait}
	default: // locking (or a claim recorded with any other task)
		if ours {
			return Decision{Action: DoLocked}
		}
		return Decision{Action: DoLock}
	}
}

// tearDown decides a step of giving a node back: while Ironic shows the instance on the
// node, unprovision or unlock it (or wait while Ironic works); once it does not, release.
func tearDown(obs Observation, ours bool) Decision {
	if !obs.Seen {
		return Decision{Action: DoRelease} // the release step GETs the node first
	}
	if !ours {
		return Decision{Action: DoRelease}
	}
	st := obs.Node.ProvisionState
	switch {
	case waitStates[st] || obs.Node.TargetProvisionState == "deleted" || obs.Node.TargetProvisionState == stAvailable:
		return Decision{Action: Wait}
	case unlockStates[st]:
		return Decision{Action: DoUnlock}
	}
	return Decision{Action: DoUndeploy}
}

func fail(code, msg string, now time.Time) Decision {
	return Decision{Action: DoFail, Fault: &baremetal.Fault{Code: code, Message: msg, Time: now}}
}
