package ui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/placement"
	"ingot/internal/placementapi"
	"ingot/internal/reconcile"
)

// Paging defaults and bounds of the list endpoints.
const (
	defaultLimit = 50
	maxLimit     = 1000
)

// page reads limit and offset.
func page(q url.Values) (limit, offset int, err error) {
	limit, offset = defaultLimit, 0
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > maxLimit {
			return 0, 0, badRequest("Invalid limit %q: an integer from 1 to %d.", s, maxLimit)
		}
	}
	if s := q.Get("offset"); s != "" {
		if offset, err = strconv.Atoi(s); err != nil || offset < 0 {
			return 0, 0, badRequest("Invalid offset %q: a non-negative integer.", s)
		}
	}
	return limit, offset, nil
}

// boolParam reads a "true"/"false" filter; "" is unset.
func boolParam(q url.Values, name string) (set, value bool, err error) {
	switch s := q.Get(name); s {
	case "":
		return false, false, nil
	case "true", "1", "yes":
		return true, true, nil
	case "false", "0", "no":
		return true, false, nil
	default:
		return false, false, badRequest("Invalid %s %q: true or false.", name, s)
	}
}

// summary is the overview: capacity, node and instance counts, the tracker's last pass
// and the latest changes.
func (h *Handler) summary(w http.ResponseWriter, r *http.Request) error {
	s, err := h.current(r.Context())
	if err != nil {
		return err
	}
	out := map[string]any{
		"version":   s.version,
		"seq":       s.in.seq,
		"providers": s.view.Len(),
		"capacity":  s.capacity,
		"nodes":     s.facets,
		"instances": s.instFacets,
		"tracker":   h.trackerSummary(s),
		"events":    lastEvents(s.events, "", 25),
	}
	if h.db.Postgres() {
		reps, err := h.replicas(r)
		if err != nil {
			return err
		}
		out["replicas"] = reps
	}
	return send(w, r, out)
}

// replicaRow is one replica as the overview shows it (PostgreSQL only).
type replicaRow struct {
	ID        string  `json:"id"`
	Address   string  `json:"address"`
	Version   string  `json:"version"`
	Live      bool    `json:"live"`
	Draining  bool    `json:"draining"`
	LeaseAge  float64 `json:"lease_age_seconds"`
	LeaseLeft float64 `json:"lease_remaining_seconds"`
	Owned     int     `json:"nodes_owned"`
}

// replicas reads the replicas sharing the database, with the database's clock.
func (h *Handler) replicas(r *http.Request) ([]replicaRow, error) {
	rs, err := h.db.Replicas(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]replicaRow, 0, len(rs))
	for _, x := range rs {
		out = append(out, replicaRow{ID: x.ID, Address: x.Addr, Version: x.Version, Live: x.Live, Draining: x.Draining,
			LeaseAge: x.LeaseAge.Seconds(), LeaseLeft: x.LeaseRemaining.Seconds(), Owned: x.Owned})
	}
	return out, nil
}

// trackerSummary describes the tracker and its last passes.
func (h *Handler) trackerSummary(s *snapshot) map[string]any {
	if h.tracker == nil {
		return map[string]any{"enabled": false}
	}
	hist := h.tracker.History()
	out := map[string]any{"enabled": true, "passes": len(hist), "listed": len(s.listing.Nodes)}
	if !s.listing.At.IsZero() {
		out["listed_at"] = s.listing.At
	}
	if len(hist) > 0 {
		out["last"] = passJSON(hist[len(hist)-1])
		for i := len(hist) - 1; i >= 0; i-- {
			if hist[i].Err == "" {
				out["last_success"] = hist[i].Start.Add(hist[i].Duration)
				break
			}
		}
	}
	return out
}

func passJSON(p reconcile.PassRecord) map[string]any {
	m := map[string]any{"start": p.Start, "duration_ms": ms(p.Duration), "list_ms": ms(p.ListDuration),
		"nodes": p.Nodes, "changes": p.Changes, "conflicts": p.Conflicts, "errors": p.Errors,
		"orphaned": p.Orphaned, "seq": p.Seq}
	if p.Err != "" {
		m["error"] = p.Err
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// nodeFilter selects rows.
type nodeFilter struct {
	q                                                     string
	provision, power, tracker, group, owner, class        string
	maintenanceSet, maintenance, problemSet, problem      bool
	cleaningSet, cleaning, allocatedSet, allocated, haveQ bool
}

func parseNodeFilter(q url.Values) (nodeFilter, error) {
	var f nodeFilter
	for _, k := range []string{"q", "provision_state", "power_state", "tracker", "conductor_group", "owner", "resource_class"} {
		if len(q[k]) > 1 {
			return f, badRequest("Give %s once.", k)
		}
	}
	f.q = strings.ToLower(strings.TrimSpace(q.Get("q")))
	f.haveQ = f.q != ""
	f.provision, f.power, f.tracker = q.Get("provision_state"), q.Get("power_state"), q.Get("tracker")
	f.group, f.owner, f.class = q.Get("conductor_group"), q.Get("owner"), q.Get("resource_class")
	if f.tracker != "" && f.tracker != "untracked" && !slices.Contains(baremetal.NodeStates, baremetal.NodeState(f.tracker)) {
		return f, badRequest("Invalid tracker %q: one of managed, withdrawn, released, orphaned, untracked.", f.tracker)
	}
	var err error
	if f.maintenanceSet, f.maintenance, err = boolParam(q, "maintenance"); err != nil {
		return f, err
	}
	if f.problemSet, f.problem, err = boolParam(q, "problem"); err != nil {
		return f, err
	}
	if f.cleaningSet, f.cleaning, err = boolParam(q, "cleaning"); err != nil {
		return f, err
	}
	if f.allocatedSet, f.allocated, err = boolParam(q, "allocated"); err != nil {
		return f, err
	}
	return f, nil
}

// groupParam matches a filter that may ask for the empty value with "-" (none).
func groupParam(want, have string) bool {
	if want == "" {
		return true
	}
	if want == "-" {
		return have == ""
	}
	return want == have
}

func (f *nodeFilter) match(r *nodeRow) bool {
	if f.haveQ && !strings.Contains(r.lowerName, f.q) && !strings.Contains(r.UUID, f.q) {
		return false
	}
	if f.provision != "" && r.ProvisionState != f.provision {
		return false
	}
	if f.power != "" && r.PowerState != f.power {
		return false
	}
	if f.tracker != "" && r.Tracker != f.tracker {
		return false
	}
	if !groupParam(f.group, r.ConductorGroup) || !groupParam(f.owner, r.Owner) || !groupParam(f.class, r.Class) {
		return false
	}
	if f.maintenanceSet && r.Maintenance != f.maintenance {
		return false
	}
	if f.problemSet && (r.Problem != "") != f.problem {
		return false
	}
	if f.cleaningSet && r.cleaning() != f.cleaning {
		return false
	}
	if f.allocatedSet && (r.Used > 0) != f.allocated {
		return false
	}
	return true
}

// nodes is one page of the nodes a filter selects, in name order.
func (h *Handler) nodes(w http.ResponseWriter, r *http.Request, q url.Values) error {
	f, err := parseNodeFilter(q)
	if err != nil {
		return err
	}
	limit, offset, err := page(q)
	if err != nil {
		return err
	}
	s, err := h.current(r.Context())
	if err != nil {
		return err
	}
	out := make([]*nodeRow, 0, limit)
	matched := 0
	for _, row := range s.rows {
		if !f.match(row) {
			continue
		}
		if matched >= offset && len(out) < limit {
			out = append(out, row)
		}
		matched++
	}
	return send(w, r, map[string]any{"version": s.version, "total": matched, "offset": offset, "limit": limit,
		"nodes": out, "facets": s.facets})
}

// node is one node's page: its row, Ironic's fields as listed, the tracker's record, its
// provider (inventory, traits, aggregates, allocations), its instance and its changes.
func (h *Handler) node(w http.ResponseWriter, r *http.Request, id string) error {
	s, err := h.current(r.Context())
	if err != nil {
		return err
	}
	row := s.byUUID[id]
	if row == nil {
		for _, x := range s.rows { // by name
			if x.Name == id && id != "" {
				row = x
				break
			}
		}
	}
	if row == nil {
		return placementapi.StatusError(http.StatusNotFound, "No Ironic node %s.", id)
	}
	out := map[string]any{"version": s.version, "node": row}
	if n := s.listed[row.UUID]; n != nil {
		out["ironic"] = map[string]any{"uuid": n.UUID, "name": n.Name, "resource_class": n.ResourceClass,
			"provision_state": n.ProvisionState, "target_provision_state": n.TargetProvisionState,
			"power_state": n.PowerState, "maintenance": n.Maintenance, "maintenance_reason": n.MaintenanceReason,
			"fault": n.Fault, "last_error": n.LastError, "instance_uuid": n.InstanceUUID, "traits": n.Traits,
			"conductor_group": n.ConductorGroup, "owner": n.Owner, "lessee": n.Lessee, "shard": n.Shard,
			"retired": n.Retired, "listed_at": s.listing.At}
	}
	providerUUID := row.UUID
	if rec := s.recordOf[row.UUID]; rec != nil {
		out["record"] = map[string]any{"state": rec.State, "scope": rec.Scope, "generation": rec.Generation,
			"provider_uuid": rec.ProviderUUID, "resource_class": rec.ResourceClass,
			"provision_state": rec.ProvisionState, "power_state": rec.PowerState, "maintenance": rec.Maintenance,
			"instance_uuid": rec.InstanceUUID, "conductor_group": rec.ConductorGroup, "owner": rec.Owner,
			"shard": rec.Shard, "traits": rec.Traits, "aggregates": rec.Aggregates,
			"created_at": rec.CreatedAt, "updated_at": rec.UpdatedAt}
		if rec.ProviderUUID != "" {
			providerUUID = rec.ProviderUUID
		}
	}
	if p, ok := s.view.Provider(providerUUID); ok {
		invs := make([]map[string]any, 0, len(p.Inventories))
		for _, inv := range p.Inventories {
			invs = append(invs, map[string]any{"class": s.view.ClassName(inv.ClassID), "total": inv.Total,
				"reserved": inv.Reserved, "min_unit": inv.MinUnit, "max_unit": inv.MaxUnit, "step_size": inv.StepSize,
				"allocation_ratio": inv.AllocationRatio, "used": inv.Used})
		}
		traits := make([]string, 0, len(p.Traits))
		for _, t := range p.Traits {
			traits = append(traits, s.view.TraitName(t))
		}
		slices.Sort(traits)
		labels := map[string]string{}
		if row.ConductorGroup != "" {
			labels[reconcile.AggregateUUID(reconcile.AggregateConductorGroup, strings.ToLower(row.ConductorGroup))] =
				"conductor group " + row.ConductorGroup
		}
		if row.Owner != "" {
			labels[reconcile.AggregateUUID(reconcile.AggregateOwner, row.Owner)] = "owner " + row.Owner
		}
		aggs := make([]map[string]string, 0, len(p.Aggregates))
		for _, a := range p.Aggregates {
			aggs = append(aggs, map[string]string{"uuid": a, "label": labels[a]})
		}
		out["provider"] = map[string]any{"uuid": p.UUID, "name": p.Name, "generation": p.Generation,
			"inventories": invs, "traits": traits, "aggregates": aggs, "modified": p.Modified()}
		allocs, _, err := h.db.ProviderAllocations(r.Context(), p.UUID)
		if err != nil && !errors.Is(err, placement.ErrNotFound) {
			return err
		}
		list := make([]map[string]any, 0, len(allocs))
		for _, a := range allocs {
			list = append(list, map[string]any{"consumer": a.ConsumerUUID, "class": a.ResourceClass, "used": a.Used,
				"created_at": a.CreatedAt})
		}
		out["allocations"] = list
	}
	if in := s.instByNode[row.UUID]; in != nil {
		out["instance"] = instanceJSON(in, s)
	}
	if h.db.Postgres() {
		// Which replica tracks and drives the node, at which epoch (package replica).
		o, err := h.db.NodeOwnerOf(r.Context(), row.UUID)
		switch {
		case errors.Is(err, placement.ErrNotFound):
		case err != nil:
			return err
		default:
			own := map[string]any{"replica": o.Replica, "epoch": o.Epoch}
			if o.Replica != "" {
				own["owned_for_seconds"] = o.OwnedFor.Seconds()
			}
			if o.HandoffTo != "" {
				own["handoff_to"] = o.HandoffTo
			}
			out["ownership"] = own
		}
	}
	out["events"] = lastEvents(s.events, row.UUID, 100)
	return send(w, r, out)
}

// instanceRow is one instance as the dashboard lists it.
type instanceRow struct {
	UUID      string          `json:"uuid"`
	Name      string          `json:"name"`
	Project   string          `json:"project_id"`
	State     baremetal.State `json:"state"`
	Task      baremetal.Task  `json:"task,omitempty"`
	Node      string          `json:"node,omitempty"`
	NodeName  string          `json:"node_name,omitempty"`
	Class     string          `json:"resource_class"`
	Attempts  int             `json:"attempts"`
	Fault     *faultJSON      `json:"fault,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

type faultJSON struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Time    time.Time `json:"time"`
}

func instanceJSON(in *baremetal.Instance, s *snapshot) instanceRow {
	row := instanceRow{UUID: in.UUID, Name: in.Name, Project: in.ProjectID, State: in.State, Task: in.Task,
		Node: in.Node, Class: in.Spec.Request.ResourceClass, Attempts: in.Attempts, CreatedAt: in.CreatedAt,
		UpdatedAt: in.UpdatedAt}
	if n := s.byUUID[in.Node]; n != nil {
		row.NodeName = n.Name
	}
	if in.Fault != nil {
		row.Fault = &faultJSON{in.Fault.Code, in.Fault.Message, in.Fault.Time}
	}
	return row
}

// instances is one page of the live instances, newest first, by state and fault.
func (h *Handler) instances(w http.ResponseWriter, r *http.Request, q url.Values) error {
	state := q.Get("state")
	if state != "" && !baremetal.State(state).Valid() {
		return badRequest("Invalid state %q.", state)
	}
	faultSet, fault, err := boolParam(q, "fault")
	if err != nil {
		return err
	}
	text := strings.ToLower(strings.TrimSpace(q.Get("q")))
	limit, offset, err := page(q)
	if err != nil {
		return err
	}
	s, err := h.current(r.Context())
	if err != nil {
		return err
	}
	out := make([]instanceRow, 0, limit)
	matched := 0
	for i := len(s.instances) - 1; i >= 0; i-- {
		in := &s.instances[i]
		if state != "" && string(in.State) != state || faultSet && (in.Fault != nil) != fault {
			continue
		}
		if text != "" && !strings.Contains(strings.ToLower(in.Name), text) && !strings.Contains(in.UUID, text) &&
			!strings.Contains(in.Node, text) {
			continue
		}
		if matched >= offset && len(out) < limit {
			out = append(out, instanceJSON(in, s))
		}
		matched++
	}
	return send(w, r, map[string]any{"version": s.version, "total": matched, "offset": offset, "limit": limit,
		"instances": out, "facets": s.instFacets})
}

// passes is the tracker's recent passes, oldest first.
func (h *Handler) passes(w http.ResponseWriter, r *http.Request) error {
	s, err := h.current(r.Context())
	if err != nil {
		return err
	}
	var list []map[string]any
	if h.tracker != nil {
		for _, p := range h.tracker.History() {
			list = append(list, passJSON(p))
		}
	}
	return send(w, r, map[string]any{"version": s.version, "tracker": h.trackerSummary(s), "passes": list})
}

// events is the recent changes, newest first, optionally of one node.
func (h *Handler) events(w http.ResponseWriter, r *http.Request, q url.Values) error {
	limit, _, err := page(q)
	if err != nil {
		return err
	}
	s, err := h.current(r.Context())
	if err != nil {
		return err
	}
	return send(w, r, map[string]any{"version": s.version, "events": lastEvents(s.events, q.Get("node"), limit)})
}

// lastEvents returns up to n of the latest events, newest first, of node ("" for all).
func lastEvents(events []event, node string, n int) []event {
	out := make([]event, 0, min(n, len(events)))
	for i := len(events) - 1; i >= 0 && len(out) < n; i-- {
		if node == "" || events[i].Node == node {
			out = append(out, events[i])
		}
	}
	return out
}

// watch answers when the fleet's version differs from the one given (at once if it
// already does), or with the same version after the long-poll timeout.
func (h *Handler) watch(w http.ResponseWriter, r *http.Request, q url.Values) error {
	since := q.Get("version")
	ctx, cancel := h.waitContext(r.Context())
	defer cancel()
	tick := time.NewTicker(h.opts.WatchEvery)
	defer tick.Stop()
	for {
		s, err := h.current(ctx)
		if err != nil {
			if r.Context().Err() != nil {
				return nil // the client is gone
			}
			if ctx.Err() != nil {
				break // the long poll's time is up
			}
			return err
		}
		if s.version != since {
			return send(w, r, map[string]any{"version": s.version, "changed": true})
		}
		select {
		case <-ctx.Done():
			if r.Context().Err() != nil {
				return nil // the client is gone
			}
			return send(w, r, map[string]any{"version": s.version, "changed": false})
		case <-tick.C:
		}
	}
	return send(w, r, map[string]any{"version": since, "changed": false})
}
