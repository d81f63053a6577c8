package ironictest

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	"ingot/internal/ironic"
)

// step is a provision state a transition passes through, with the target shown meanwhile.
type step struct {
	state, target string
}

// transition is what a provision verb does from the states that allow it.
type transition struct {
	from  []string
	steps []step // transient states, in order; the last step is the stable result
	clear bool   // tear-down: drop instance_uuid and instance_info
}

// transitions model fake-hardware with automated cleaning off (Ironic 21.4
// ironic/common/states.py); every transient step completes at once unless WithAsync.
var transitions = map[string]transition{
	"manage": {from: []string{"enroll"},
		steps: []step{{"verifying", "manageable"}, {"manageable", ""}}},
	"provide": {from: []string{"manageable"},
		steps: []step{{"cleaning", "available"}, {"available", ""}}},
	"active": {from: []string{"available", "deploy failed"},
		steps: []step{{"deploying", "active"}, {"active", ""}}},
	"rebuild": {from: []string{"active"},
		steps: []step{{"deploying", "active"}, {"active", ""}}},
	"deleted": {from: []string{"active", "deploy failed", "error", "wait call-back", "rescue", "rescue failed", "unrescue failed"},
		steps: []step{{"deleting", "available"}, {"cleaning", "available"}, {"available", ""}}, clear: true},
	"inspect": {from: []string{"manageable", "inspect failed"},
		steps: []step{{"inspecting", "manageable"}, {"manageable", ""}}},
	"clean": {from: []string{"manageable"},
		steps: []step{{"cleaning", "manageable"}, {"manageable", ""}}},
	"adopt": {from: []string{"manageable", "adopt failed"},
		steps: []step{{"adopting", "active"}, {"active", ""}}},
	"rescue": {from: []string{"active"},
		steps: []step{{"rescuing", "rescue"}, {"rescue", ""}}},
	"unrescue": {from: []string{"rescue"},
		steps: []step{{"unrescuing", "active"}, {"active", ""}}},
}

// directManage lists the states "manage" leaves without a transient state.
var directManage = []string{"available", "clean failed", "inspect failed", "adopt failed"}

func (s *Server) handlePutProvision(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	var body struct {
		Target      string           `json:"target"`
		ConfigDrive any              `json:"configdrive"`
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
	if (verb == "active" || verb == "rebuild") && n.Maintenance {
		return errorf(http.StatusBadRequest, "The provisioning operation can't be performed on node %s because it's in maintenance mode.", n.UUID)
	}
	tr, ok := transitions[verb]
	direct := verb == "manage" && slices.Contains(directManage, n.ProvisionState)
	if !direct && (!ok || !slices.Contains(tr.from, n.ProvisionState)) {
		if n.Reservation != "" {
			return locked(n)
		}
		return errorf(http.StatusBadRequest, "The requested action \"%s\" can not be performed on node \"%s\" while it is in state \"%s\".",
			body.Target, n.UUID, n.ProvisionState)
	}
	if verb == "clean" && len(body.CleanSteps) == 0 {
		return errorf(http.StatusBadRequest, "\"clean_steps\" is required when setting target provision state to clean")
	}
	if verb != "clean" && body.CleanSteps != nil {
		return errorf(http.StatusBadRequest, "\"clean_steps\" is only valid when setting target provision state to clean")
	}
	if err := locked(n); err != nil {
		return err
	}
	now := s.now()
	n.ProvisionUpdatedAt, n.UpdatedAt = now, now
	n.LastError = ""
	if direct {
		n.ProvisionState, n.TargetProvisionState = "manageable", ""
	} else {
		if tr.clear {
			n.InstanceUUID, n.InstanceInfo = "", nil
		}
		n.steps = slices.Clone(tr.steps)
		s.step(n)
		if !s.async {
			for len(n.steps) > 0 {
				s.step(n)
			}
		}
	}
	s.syncReservation(n)
	w.Header().Set("Location", baseURL(r)+"/v1/nodes/"+r.PathValue("id")+"/states")
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// step moves n to its next provision step. With WithAsync, a real Ironic's habit is kept:
// the stable state shows while the conductor still holds the node, and one more Advance
// releases it (a write in between gets 409).
func (s *Server) step(n *node) {
	if len(n.steps) == 0 {
		return
	}
	st := n.steps[0]
	n.steps = n.steps[1:]
	if n.ProvisionState == st.state && n.TargetProvisionState == st.target {
		// The release step: nothing visible changes but the lock.
		s.syncReservation(n)
		return
	}
	n.ProvisionState, n.TargetProvisionState = st.state, st.target
	n.ProvisionUpdatedAt = s.now()
	if len(n.steps) == 0 && s.async {
		n.steps = []step{st}
	}
	s.syncReservation(n)
}

// Advance runs the next pending step of the node's provision transition, or else its
// pending power action (WithAsync). It reports whether there was one.
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
