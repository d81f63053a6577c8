package ironictest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/jsonstring"
)

// step is a provision state a transition passes through, with the target shown meanwhile.
type step struct {
	state, target string
	// clear drops instance_uuid, instance_info and the allocation on entering the step:
	// Ironic's tear-down does so at its end, before cleaning starts.
	clear bool
	// deploy marks the step a deploy ends in: FailDeploy turns it into "deploy failed".
	deploy bool
	// unlocked: the conductor does not hold the node in this state (wait call-back).
	unlocked bool
	// lastError is set on entering the step.
	lastError string
}

// transition is what a provision verb does from the states that allow it.
type transition struct {
	from  []string
	steps []step // transient states, in order; the last step is the stable result
}

// transitions model fake-hardware (Ironic 21.4 ironic/common/states.py); every transient
// step completes at once unless WithAsync or WithTiming hold it.
var transitions = map[string]transition{
	"manage": {from: []string{"enroll"},
		steps: []step{{state: "verifying", target: "manageable"}, {state: "manageable"}}},
	"provide": {from: []string{"manageable"},
		steps: []step{{state: "cleaning", target: "available"}, {state: "available"}}},
	"active": {from: []string{"available", "deploy failed"},
		steps: []step{{state: "deploying", target: "active"}, {state: "active", deploy: true}}},
	"rebuild": {from: []string{"active", "deploy failed"},
		steps: []step{{state: "deploying", target: "active"}, {state: "active", deploy: true}}},
	"deleted": {from: []string{"active", "deploy failed", "error", "wait call-back", "rescue", "rescue failed", "rescue wait", "unrescue failed"},
		steps: []step{{state: "deleting", target: "available"}, {state: "cleaning", target: "available", clear: true}, {state: "available"}}},
	"inspect": {from: []string{"manageable", "inspect failed"},
		steps: []step{{state: "inspecting", target: "manageable"}, {state: "manageable"}}},
	"clean": {from: []string{"manageable"},
		steps: []step{{state: "cleaning", target: "manageable"}, {state: "manageable"}}},
	"adopt": {from: []string{"manageable", "adopt failed"},
		steps: []step{{state: "adopting", target: "active"}, {state: "active"}}},
	"rescue": {from: []string{"active"},
		steps: []step{{state: "rescuing", target: "rescue"}, {state: "rescue"}}},
	"unrescue": {from: []string{"rescue"},
		steps: []step{{state: "unrescuing", target: "active"}, {state: "active"}}},
}

// directManage lists the states "manage" leaves without a transient state.
var directManage = []string{"available", "clean failed", "inspect failed", "adopt failed"}

// configDriveKeys are the keys of Ironic's dict config drive, with the JSON types allowed.
var configDriveKeys = map[string]string{"meta_data": "object", "network_data": "object",
	"user_data": "any", "vendor_data": "object"}

// checkConfigDrive refuses what Ironic 21.4's configdrive schema refuses.
func checkConfigDrive(v ironic.Version, raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var cd any
	if err := json.Unmarshal(raw, &cd); err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid configdrive format: %v", err)
	}
	switch d := cd.(type) {
	case string:
		return d, nil
	case map[string]any:
		if v.Minor < 56 {
			return nil, errorf(http.StatusBadRequest, "Providing a JSON object for configdrive is only supported starting with API version 1.56")
		}
		for _, k := range slices.Sorted(maps.Keys(d)) {
			want, ok := configDriveKeys[k]
			if !ok {
				return nil, errorf(http.StatusBadRequest, "Invalid configdrive format: Additional properties are not allowed ('%s' was unexpected)", k)
			}
			if _, isObj := d[k].(map[string]any); want == "object" && !isObj {
				return nil, errorf(http.StatusBadRequest, "Invalid configdrive format: %s is not of type 'object'", k)
			}
		}
		if _, ok := d["vendor_data"]; ok && v.Minor < 59 {
			return nil, errorf(http.StatusBadRequest, "Providing vendor_data in configdrive is only supported starting with API version 1.59")
		}
		return d, nil
	}
	return nil, errorf(http.StatusBadRequest, "Invalid configdrive format: %s is not of type 'object', 'string'", raw)
}

func (s *Server) handlePutProvision(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	var body struct {
		Target      string           `json:"target"`
		ConfigDrive json.RawMessage  `json:"configdrive"`
		CleanSteps  []map[string]any `json:"clean_steps"`
		DeploySteps []map[string]any `json:"deploy_steps"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return errorf(http.StatusBadRequest, "Invalid JSON body: %v", err)
	}
	verb := body.Target
	switch verb {
	case "deploy", "undeploy":
		if v.Minor < 73 {
			return errorf(http.StatusNotAcceptable, "Request not acceptable.")
		}
		verb = map[string]string{"deploy": "active", "undeploy": "deleted"}[verb]
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getNode(r)
	if err != nil {
		return err
	}
	// Ironic's API checks, in its order: maintenance, the state machine (409 instead of
	// 400 when the node is locked), the config drive, the steps.
	if (verb == "active" || verb == "rebuild") && n.Maintenance {
		return errorf(http.StatusBadRequest, "The provisioning operation can't be performed on node %s because it's in maintenance mode.", n.UUID)
	}
	tr, ok := transitions[verb]
	direct := verb == "manage" && slices.Contains(directManage, n.ProvisionState)
	if !direct && (!ok || !slices.Contains(tr.from, n.ProvisionState)) {
		if err := locked(n); err != nil {
			return err
		}
		return errorf(http.StatusBadRequest, "The requested action \"%s\" can not be performed on node \"%s\" while it is in state \"%s\".",
			body.Target, n.UUID, n.ProvisionState)
	}
	if len(body.ConfigDrive) > 0 && string(body.ConfigDrive) != "null" && body.Target != "active" && body.Target != "rebuild" {
		// The raw target: Ironic 21.4 refuses a config drive with "deploy", its own alias.
		return errorf(http.StatusBadRequest, "Adding a config drive is only supported when setting provision state to active, rebuild")
	}
	configDrive, err := checkConfigDrive(v, body.ConfigDrive)
	if err != nil {
		return err
	}
	if verb == "clean" && len(body.CleanSteps) == 0 {
		return errorf(http.StatusBadRequest, "\"clean_steps\" is required when setting target provision state to clean")
	}
	if verb != "clean" && body.CleanSteps != nil {
		return errorf(http.StatusBadRequest, "\"clean_steps\" is only valid when setting target provision state to clean")
	}
	// The conductor: the lock, then (deploy) power and deploy validation.
	if err := locked(n); err != nil {
		return err
	}
	if verb == "active" || verb == "rebuild" {
		for _, iface := range []string{"power", "deploy"} {
			if reason := s.validation(n, iface); reason != "" {
				return errorf(http.StatusBadRequest, "Failed to validate deploy or power info for node %s: %s", n.UUID, reason)
			}
		}
	}
	now := s.now()
	n.UpdatedAt = now
	n.LastError = ""
	if configDrive != nil {
		if n.InstanceInfo == nil {
			n.InstanceInfo = map[string]any{}
		}
		n.InstanceInfo["configdrive"] = configDrive
	}
	if direct {
		n.ProvisionState, n.TargetProvisionState = "manageable", ""
		n.ProvisionUpdatedAt = s.stamp()
	} else {
		n.steps = slices.Clone(tr.steps)
		if (verb == "active" || verb == "rebuild") && n.deployInterface == "custom-agent" {
			// The agent deploy boots a ramdisk that never calls back.
			n.steps = []step{{state: "deploying", target: "active"},
				{state: "wait call-back", target: "active", unlocked: true},
				{state: "deploy failed", target: "active",
					lastError: "Timeout reached while waiting for callback for node " + n.UUID}}
		}
		s.step(n)
		s.run(n)
	}
	s.syncReservation(n)
	w.Header().Set("Location", baseURL(r)+"/v1/nodes/"+r.PathValue("id")+"/states")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// run completes n's transition now when nothing holds it, or schedules its next step
// when WithTiming gives the current state (or the lock's release) a duration.
func (s *Server) run(n *node) {
	for len(n.steps) > 0 {
		if s.timing != nil {
			next := n.steps[0]
			d := s.timing.hold(n.ProvisionState, n.TargetProvisionState)
			if next.state == n.ProvisionState && next.target == n.TargetProvisionState {
				d = s.timing.Release
			}
			if d > 0 {
				gen := n.gen
				time.AfterFunc(d, func() {
					s.mu.Lock()
					defer s.mu.Unlock()
					if n.gen == gen && s.nodes[n.UUID] == n {
						s.step(n)
						n.UpdatedAt = s.now()
						s.run(n)
					}
				})
				return
			}
		} else if s.async {
			return
		}
		s.step(n)
	}
}

// step moves n to its next provision step. When the transition is held (WithAsync,
// WithTiming), a real Ironic's habit is kept: the stable state shows while the conductor
// still holds the node, and one more step releases it (a write in between gets 409).
func (s *Server) step(n *node) {
	if len(n.steps) == 0 {
		return
	}
	n.gen++
	st := n.steps[0]
	n.steps = n.steps[1:]
	if n.ProvisionState == st.state && n.TargetProvisionState == st.target {
		// The release step: nothing visible changes but the lock.
		s.syncReservation(n)
		return
	}
	if st.deploy && n.failDeploy != "" {
		st = step{state: "deploy failed", target: "active"}
		n.LastError, n.failDeploy = n.failDeploy, ""
	}
	if st.clear {
		s.releaseInstance(n)
	}
	if st.lastError != "" {
		n.LastError = st.lastError
	}
	n.unlocked = st.unlocked
	n.ProvisionState, n.TargetProvisionState = st.state, st.target
	n.ProvisionUpdatedAt = s.stamp()
	if len(n.steps) == 0 && (s.async || s.timing != nil) {
		n.steps = []step{st}
	}
	s.syncReservation(n)
}

// releaseInstance clears what tear-down clears: instance_uuid, instance_info and the
// node's allocation.
func (s *Server) releaseInstance(n *node) {
	n.InstanceUUID, n.InstanceInfo = "", nil
	if a := s.allocs[n.AllocationUUID]; a != nil {
		s.removeAllocation(a)
	}
	n.AllocationUUID = ""
}

// Advance runs the next pending step of the node's provision transition, or else its
// pending power action (WithAsync). It reports whether there was one. With WithTiming it
// runs the step early.
func (s *Server) Advance(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lookup(id)
	if n == nil {
		return false
	}
	return s.advance(n)
}

func (s *Server) advance(n *node) bool {
	switch {
	case len(n.steps) > 0:
		s.step(n)
		if s.timing != nil {
			s.run(n)
		}
	case n.powerTarget != "":
		n.PowerState, n.TargetPowerState, n.powerTarget = n.powerTarget, "", ""
		s.syncReservation(n)
	default:
		return false
	}
	n.UpdatedAt = s.now()
	return true
}

// AdvanceAll completes every pending transition and power action, and returns how many
// steps it ran.
func (s *Server) AdvanceAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	steps := 0
	for _, n := range s.order {
		for s.advance(n) {
			steps++
		}
	}
	return steps
}

// FailDeploy makes the node's current or next deploy end in "deploy failed" (target
// still active) with lastError, as a real driver's failure does. It reports whether the
// node exists.
func (s *Server) FailDeploy(id, lastError string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lookup(id)
	if n == nil {
		return false
	}
	if lastError == "" {
		lastError = "Deploy failed (ironictest.FailDeploy)"
	}
	n.failDeploy = lastError
	return true
}

// FailValidation makes the node's interface (deploy, power, boot, ...) fail validation
// with reason, in GET /validate and, for deploy and power, in a deploy request (400), until
// called again with an empty reason. It reports whether the node exists.
func (s *Server) FailValidation(id, iface, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lookup(id)
	if n == nil {
		return false
	}
	if reason == "" {
		delete(n.failValidation, iface)
		return true
	}
	if n.failValidation == nil {
		n.failValidation = map[string]string{}
	}
	n.failValidation[iface] = reason
	return true
}

// interfaces are the hardware interfaces fake-hardware validates, in Ironic's order.
var interfaces = []string{"boot", "deploy", "management", "network", "power", "bios", "console",
	"inspect", "raid", "rescue", "storage"}

// validation returns why the node's interface does not validate, or "".
func (s *Server) validation(n *node, iface string) string {
	if reason := n.failValidation[iface]; reason != "" {
		return reason
	}
	if iface != "deploy" {
		return ""
	}
	raw, ok := n.InstanceInfo["traits"]
	if !ok || raw == nil {
		return ""
	}
	list, ok := raw.([]any)
	if !ok {
		return fmt.Sprintf("Error parsing traits from Node %s instance_info field. A list of strings is expected.", n.UUID)
	}
	var missing []string
	for _, t := range list {
		ts, ok := t.(string)
		if !ok {
			return fmt.Sprintf("Error parsing traits from Node %s instance_info field. A list of strings is expected.", n.UUID)
		}
		if !slices.Contains(n.Traits, ts) && !slices.Contains(missing, ts) {
			missing = append(missing, ts)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("Cannot specify instance traits that are not also set on the node. Node %s is missing traits %s",
		n.UUID, strings.Join(missing, ", "))
}

func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getNode(r)
	if err != nil {
		return err
	}
	b := []byte{'{'}
	for i, iface := range interfaces {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = jsonstring.Append(b, iface)
		if reason := s.validation(n, iface); reason != "" {
			b = append(b, `: {"result": false, "reason": `...)
			b = jsonstring.Append(b, reason)
			b = append(b, '}')
		} else {
			b = append(b, `: {"result": true}`...)
		}
	}
	b = append(b, '}')
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
	return nil
}

// powerResults maps power targets to the state they end in.
var powerResults = map[string]string{
	"power on": "power on", "power off": "power off", "rebooting": "power on",
	"soft power off": "power off", "soft rebooting": "power on",
}

func (s *Server) handlePutPower(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	var body struct {
		Target  string `json:"target"`
		Timeout *int   `json:"timeout"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return errorf(http.StatusBadRequest, "Invalid JSON body: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getNode(r)
	if err != nil {
		return err
	}
	result, ok := powerResults[body.Target]
	if !ok {
		state := n.PowerState
		if state == "" {
			state = "None"
		}
		return errorf(http.StatusBadRequest, "The requested action \"%s\" can not be performed on node \"%s\" while it is in state \"%s\".",
			body.Target, r.PathValue("id"), state)
	}
	if body.Timeout != nil && *body.Timeout < 1 {
		return errorf(http.StatusBadRequest, "Invalid timeout value %d. The timeout must be a positive integer.", *body.Timeout)
	}
	if err := locked(n); err != nil {
		return err
	}
	n.UpdatedAt = s.now()
	if s.async {
		n.TargetPowerState, n.powerTarget = body.Target, result
	} else {
		n.PowerState, n.TargetPowerState = result, ""
	}
	s.syncReservation(n)
	w.Header().Set("Location", baseURL(r)+"/v1/nodes/"+r.PathValue("id")+"/states")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *Server) handlePutMaintenance(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	var body struct {
		Reason string `json:"reason"`
	}
	if b, _ := io.ReadAll(r.Body); len(strings.TrimSpace(string(b))) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			return errorf(http.StatusBadRequest, "Invalid JSON body: %v", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getNode(r)
	if err != nil {
		return err
	}
	if err := locked(n); err != nil {
		return err
	}
	n.Maintenance, n.MaintenanceReason, n.UpdatedAt = true, body.Reason, s.now()
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *Server) handleDeleteMaintenance(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getNode(r)
	if err != nil {
		return err
	}
	if err := locked(n); err != nil {
		return err
	}
	n.Maintenance, n.MaintenanceReason, n.Fault, n.UpdatedAt = false, "", "", s.now()
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// maxTraits is Ironic's limit of traits per node.
const maxTraits = 50

// validTrait accepts CUSTOM_[A-Z0-9_]+ and, standing in for os-traits' list of standard
// traits, any upper-case name of the same alphabet.
func validTrait(t string) bool {
	if t == "" || len(t) > 255 || t[0] < 'A' || t[0] > 'Z' {
		return false
	}
	for _, c := range t {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return t != "CUSTOM_"
}

func traitError(t string) error {
	return errorf(http.StatusBadRequest,
		"Schema error for trait: '%s' is not valid under any of the given schemas. Possible root cause: '%s' does not match '^CUSTOM_[A-Z0-9_]+$'", t, t)
}

// traitsNode finds the node for a traits call, which exists only from 1.37.
func (s *Server) traitsNode(r *http.Request, v ironic.Version) (*node, error) {
	if v.Minor < 37 {
		return nil, errorf(http.StatusNotFound, "The resource could not be found.")
	}
	return s.getNode(r)
}

func (s *Server) handleGetTraits(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.traitsNode(r, v)
	if err != nil {
		return err
	}
	traits := n.Traits
	if traits == nil {
		traits = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"traits": traits})
	return nil
}

func (s *Server) handlePutTraits(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	var body struct {
		Traits *[]string `json:"traits"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Traits == nil {
		return errorf(http.StatusBadRequest, "A single node trait may be added via PUT /v1/nodes/<node identifier>/traits/<trait> with no body, or all node traits may be replaced via PUT /v1/nodes/<node identifier>/traits with the list of traits specified in the request body.")
	}
	for _, t := range *body.Traits {
		if !validTrait(t) {
			return traitError(t)
		}
	}
	traits := slices.Compact(slices.Sorted(slices.Values(*body.Traits)))
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.traitsNode(r, v)
	if err != nil {
		return err
	}
	if len(traits) > maxTraits {
		return errorf(http.StatusBadRequest, "Could not modify traits for node %s: would exceed the maximum number of traits (%d) per node", n.UUID, maxTraits)
	}
	if err := locked(n); err != nil {
		return err
	}
	n.Traits, n.UpdatedAt = traits, s.now()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handlePutTrait(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	t := r.PathValue("trait")
	if !validTrait(t) {
		return traitError(t)
	}
	if b, _ := io.ReadAll(r.Body); len(strings.TrimSpace(string(b))) > 0 {
		return errorf(http.StatusBadRequest, "No body should be provided when adding a trait")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.traitsNode(r, v)
	if err != nil {
		return err
	}
	if !slices.Contains(n.Traits, t) && len(n.Traits) >= maxTraits {
		return errorf(http.StatusBadRequest, "Could not modify traits for node %s: would exceed the maximum number of traits (%d) per node", n.UUID, maxTraits)
	}
	if err := locked(n); err != nil {
		return err
	}
	n.Traits = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(n.Traits), t))))
	n.UpdatedAt = s.now()
	w.Header().Set("Location", baseURL(r)+"/v1/nodes/"+r.PathValue("id")+"/traits/"+t)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleDeleteTraits(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.traitsNode(r, v)
	if err != nil {
		return err
	}
	if err := locked(n); err != nil {
		return err
	}
	n.Traits, n.UpdatedAt = nil, s.now()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleDeleteTrait(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	t := r.PathValue("trait")
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.traitsNode(r, v)
	if err != nil {
		return err
	}
	if err := locked(n); err != nil {
		return err
	}
	i := slices.Index(n.Traits, t)
	if i < 0 {
		return errorf(http.StatusNotFound, "Node %s doesn't have a trait '%s'", n.UUID, t)
	}
	n.Traits = slices.Delete(slices.Clone(n.Traits), i, i+1)
	n.UpdatedAt = s.now()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
