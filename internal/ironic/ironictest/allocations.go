package ironictest

import (
	"encoding/json"
	"ingot/internal/uuid"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"ingot/internal/ironic"
)

// allocation is the fake's record of one allocation (Ironic's allocation API, 1.52).
type allocation struct {
	id             int
	UUID           string
	Name           string
	State          string
	NodeUUID       string
	LastError      string
	ResourceClass  string
	Traits         []string
	CandidateNodes []string
	Owner          string
	Extra          map[string]any
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (a *allocation) json(base string) map[string]any {
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	ts := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format("2006-01-02T15:04:05.000000") + "+00:00"
	}
	extra := a.Extra
	if extra == nil {
		extra = map[string]any{}
	}
	return map[string]any{
		"uuid": a.UUID, "created_at": ts(a.CreatedAt), "updated_at": ts(a.UpdatedAt),
		"candidate_nodes": nonNil(a.CandidateNodes), "extra": extra, "last_error": null(a.LastError),
		"name": null(a.Name), "owner": null(a.Owner), "resource_class": null(a.ResourceClass),
		"state": a.State, "traits": nonNil(a.Traits), "node_uuid": null(a.NodeUUID),
		"links": []map[string]string{
			{"href": base + "/v1/allocations/" + a.UUID, "rel": "self"},
			{"href": base + "/allocations/" + a.UUID, "rel": "bookmark"},
		},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Allocations returns the number of allocations the fake holds.
func (s *Server) Allocations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.allocs)
}

func (s *Server) lookupAllocation(id string) *allocation {
	if a, ok := s.allocs[strings.ToLower(id)]; ok && isUUID(id) {
		return a
	}
	return s.allocNames[id]
}

func (s *Server) removeAllocation(a *allocation) {
	delete(s.allocs, a.UUID)
	if a.Name != "" {
		delete(s.allocNames, a.Name)
	}
	if i := slices.Index(s.allocOrder, a); i >= 0 {
		s.allocOrder = slices.Delete(s.allocOrder, i, i+1)
	}
}

// allocationAPI answers 404 below 1.52, where the endpoint does not exist.
func allocationAPI(v ironic.Version) error {
	if v.Minor < 52 {
		return errorf(http.StatusNotFound, "The resource could not be found.")
	}
	return nil
}

func (s *Server) handleCreateAllocation(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	if err := allocationAPI(v); err != nil {
		return err
	}
	var body struct {
		UUID           string         `json:"uuid"`
		Name           string         `json:"name"`
		ResourceClass  string         `json:"resource_class"`
		Traits         []string       `json:"traits"`
		CandidateNodes []string       `json:"candidate_nodes"`
		Owner          *string        `json:"owner"`
		Extra          map[string]any `json:"extra"`
		Node           string         `json:"node"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return errorf(http.StatusBadRequest, "Schema error for allocation: %v", err)
	}
	if body.Node != "" {
		return errorf(http.StatusBadRequest, "fake ironic does not model allocation backfilling")
	}
	if body.Owner != nil && v.Minor < 60 {
		return notAcceptable(60)
	}
	if body.ResourceClass == "" {
		return errorf(http.StatusBadRequest, "The resource_class field is mandatory when not backfilling")
	}
	for _, t := range body.Traits {
		if !validTrait(t) {
			return errorf(http.StatusBadRequest,
				"Schema error for allocation: '%s' is not valid under any of the given schemas. Possible root cause: '%s' does not match '^CUSTOM_[A-Z0-9_]+$'", t, t)
		}
	}
	if body.UUID != "" && !isUUID(body.UUID) {
		return errorf(http.StatusBadRequest, "Expected a UUID for uuid: %s", body.UUID)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var cands []string
	for _, c := range body.CandidateNodes {
		n := s.lookup(c)
		if n == nil {
			return errorf(http.StatusBadRequest, "Node %s could not be found.", c)
		}
		cands = append(cands, n.UUID)
	}
	if body.Name != "" && s.allocNames[body.Name] != nil {
		return errorf(http.StatusConflict, "An allocation with name %s already exists.", body.Name)
	}
	a := &allocation{UUID: strings.ToLower(body.UUID), Name: body.Name, State: ironic.AllocationAllocating,
		ResourceClass: body.ResourceClass, Traits: body.Traits, CandidateNodes: cands, Extra: body.Extra,
		CreatedAt: s.now()}
	if body.Owner != nil {
		a.Owner = *body.Owner
	}
	if a.UUID == "" {
		a.UUID = uuid.New()
	} else if s.allocs[a.UUID] != nil {
		return errorf(http.StatusConflict, "Allocation with UUID %s already exists.", a.UUID)
	}
	s.nextAllocID++
	a.id = s.nextAllocID
	s.allocs[a.UUID] = a
	if a.Name != "" {
		s.allocNames[a.Name] = a
	}
	s.allocOrder = append(s.allocOrder, a)
	base := baseURL(r)
	w.Header().Set("Location", base+"/v1/allocations/"+a.UUID)
	// The answer shows the allocation as created; the conductor then works on it, which
	// the fake does before anyone can ask again.
	writeJSON(w, http.StatusCreated, a.json(base))
	s.allocate(a)
	return nil
}

// allocate picks a node for a as Ironic's conductor does (allocations.py): the matching
// available nodes, filtered by traits, in random order, skipping locked ones.
func (s *Server) allocate(a *allocation) {
	fail := func(msg string) {
		a.State, a.LastError, a.UpdatedAt = ironic.AllocationError, "Failed to process allocation "+a.UUID+": "+msg+".", s.now()
	}
	var nodes []*node
	for _, n := range s.order {
		if n.ProvisionState != ironic.ProvisionStateAvailable || n.Maintenance || n.InstanceUUID != "" ||
			n.PowerState == "" || n.ResourceClass != a.ResourceClass {
			continue
		}
		if a.CandidateNodes != nil && !slices.Contains(a.CandidateNodes, n.UUID) {
			continue
		}
		if a.Owner != "" && n.Owner != a.Owner && n.Lessee != a.Owner {
			continue
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 0 {
		if a.CandidateNodes != nil {
			fail("none of the requested nodes are available and match the resource class " + a.ResourceClass)
		} else {
			fail("no available nodes match the resource class " + a.ResourceClass)
		}
		return
	}
	nodes = slices.DeleteFunc(nodes, func(n *node) bool {
		for _, t := range a.Traits {
			if !slices.Contains(n.Traits, t) {
				return true
			}
		}
		return false
	})
	if len(nodes) == 0 {
		fail("no suitable nodes have the requested traits " + strings.Join(a.Traits, ", "))
		return
	}
	rand.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	for _, n := range nodes {
		if n.Reservation != "" {
			continue
		}
		n.InstanceUUID, n.AllocationUUID, n.UpdatedAt = a.UUID, a.UUID, s.now()
		a.NodeUUID, a.State, a.UpdatedAt = n.UUID, ironic.AllocationActive, s.now()
		return
	}
	fail("could not reserve any of " + strconv.Itoa(len(nodes)) + " suitable nodes")
}

func (s *Server) handleGetAllocation(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	if err := allocationAPI(v); err != nil {
		return err
	}
	if r.URL.Query().Has("fields") {
		return errorf(http.StatusBadRequest, "fake ironic does not model fields on allocations")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.lookupAllocation(r.PathValue("id"))
	if a == nil {
		return errorf(http.StatusNotFound, "Allocation %s could not be found.", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, a.json(baseURL(r)))
	return nil
}

func (s *Server) handleDeleteAllocation(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	if err := allocationAPI(v); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.lookupAllocation(r.PathValue("id"))
	if a == nil {
		return errorf(http.StatusNotFound, "Allocation %s could not be found.", r.PathValue("id"))
	}
	if n := s.nodes[a.NodeUUID]; n != nil && n.AllocationUUID == a.UUID {
		if err := locked(n); err != nil {
			return err
		}
		if !n.Maintenance {
			if n.TargetProvisionState != "" && !updateAllowed[n.ProvisionState] {
				return errorf(http.StatusConflict, "Cannot remove allocation %s for node %s, because the node is in state %s where updates are not allowed (and maintenance mode is off)",
					a.UUID, n.UUID, n.ProvisionState)
			}
			if n.ProvisionState == ironic.ProvisionStateActive {
				return errorf(http.StatusConflict, "Cannot remove allocation %s for node %s, because the node is active (and maintenance mode is off)",
					a.UUID, n.UUID)
			}
		}
		n.InstanceUUID, n.AllocationUUID, n.UpdatedAt = "", "", s.now()
	}
	s.removeAllocation(a)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleListAllocations(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	if err := allocationAPI(v); err != nil {
		return err
	}
	q := r.URL.Query()
	var unexpected []string
	for k := range q {
		switch k {
		case "node", "resource_class", "state", "owner", "marker", "limit", "sort_key", "sort_dir":
		case "fields":
			return errorf(http.StatusBadRequest, "fake ironic does not model fields on allocations")
		default:
			unexpected = append(unexpected, k)
		}
	}
	if len(unexpected) > 0 {
		slices.Sort(unexpected)
		return errorf(http.StatusBadRequest, "Unexpected arguments: %s", strings.Join(unexpected, ", "))
	}
	if sk := q.Get("sort_key"); sk != "" && sk != "id" {
		return errorf(http.StatusBadRequest, "fake ironic sorts allocations only by id")
	}
	if sd := q.Get("sort_dir"); sd != "" && sd != "asc" {
		return errorf(http.StatusBadRequest, "fake ironic sorts allocations only ascending")
	}
	limit := s.maxLimit
	if q.Has("limit") {
		l, err := strconv.Atoi(q.Get("limit"))
		if err != nil || l <= 0 {
			return errorf(http.StatusBadRequest, "Limit must be positive")
		}
		limit = min(l, s.maxLimit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	nodeUUID := ""
	if id := q.Get("node"); id != "" {
		n := s.lookup(id)
		if n == nil {
			return errorf(http.StatusBadRequest, "Node %s could not be found.", id)
		}
		nodeUUID = n.UUID
	}
	start := 0
	if mk := q.Get("marker"); mk != "" {
		m := s.allocs[strings.ToLower(mk)]
		if m == nil {
			return errorf(http.StatusNotFound, "Allocation %s could not be found.", mk)
		}
		start = slices.Index(s.allocOrder, m) + 1
	}
	base := baseURL(r)
	out := []map[string]any{}
	var last string
	for _, a := range s.allocOrder[start:] {
		if len(out) == limit {
			break
		}
		if nodeUUID != "" && a.NodeUUID != nodeUUID ||
			q.Get("resource_class") != "" && a.ResourceClass != q.Get("resource_class") ||
			q.Get("state") != "" && a.State != q.Get("state") ||
			q.Get("owner") != "" && a.Owner != q.Get("owner") {
			continue
		}
		out = append(out, a.json(base))
		last = a.UUID
	}
	resp := map[string]any{"allocations": out}
	if len(out) == limit {
		resp["next"] = base + "/v1/allocations?sort_key=id&sort_dir=asc&limit=" + strconv.Itoa(limit) + "&marker=" + last
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
