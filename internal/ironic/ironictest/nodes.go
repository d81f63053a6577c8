package ironictest

import (
	"cmp"
	"encoding/json"
	"ingot/internal/uuid"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"ingot/internal/backoff"
	"ingot/internal/ironic"
	"ingot/internal/jsonstring"
)

// node is the fake's record of one node.
type node struct {
	ironic.Node
	id              int
	driverInfo      map[string]any
	protectedReason string
	retiredReason   string
	steps           []step            // provision steps still to run (WithAsync)
	powerTarget     string            // power action still to run (WithAsync)
	lockedBy        string            // set by LockNode
	gen             int               // counts steps, so a stale WithTiming timer does nothing
	failDeploy      string            // last_error of the next deploy's failure (FailDeploy)
	failValidation  map[string]string // interface -> reason (FailValidation)
	unlocked        bool              // the current transient state holds no lock (wait call-back)
	deployInterface string            // "" (fake) or custom-agent
}

// AddNode seeds a node and returns its UUID. Zero fields get defaults: a random UUID,
// driver fake-hardware, provision state available. The conductor group is lowercased and
// the traits are sorted. It panics if the UUID or name is taken.
func (s *Server) AddNode(n ironic.Node) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(n)
}

// AddNodes seeds n nodes made by gen(0) ... gen(n-1) (gen may be nil for defaults) and
// returns their UUIDs in order. It panics like AddNode.
func (s *Server) AddNodes(n int, gen func(i int) ironic.Node) []string {
	nodes := make([]ironic.Node, n)
	if gen != nil {
		for i := range nodes {
			nodes[i] = gen(i)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, n)
	for i, nd := range nodes {
		ids[i] = s.addLocked(nd)
	}
	return ids
}

func (s *Server) addLocked(in ironic.Node) string {
	n := &node{Node: in}
	if n.UUID == "" {
		n.UUID = uuid.New()
	}
	n.UUID = strings.ToLower(n.UUID)
	if n.Driver == "" {
		n.Driver = "fake-hardware"
	}
	if n.ProvisionState == "" {
		n.ProvisionState = ironic.ProvisionStateAvailable
	}
	n.ConductorGroup = strings.ToLower(n.ConductorGroup)
	n.Traits = slices.Sorted(slices.Values(n.Traits))
	n.Properties = maps.Clone(n.Properties)
	n.Extra = maps.Clone(n.Extra)
	n.InstanceInfo = maps.Clone(n.InstanceInfo)
	if n.CreatedAt.IsZero() {
		n.CreatedAt = s.now()
	}
	if n.ProvisionUpdatedAt.IsZero() && n.ProvisionState != ironic.ProvisionStateEnroll {
		// It got to its state through at least one provision change.
		n.ProvisionUpdatedAt = s.stamp()
	}
	if _, ok := s.nodes[n.UUID]; ok {
		panic("ironictest: duplicate node UUID " + n.UUID)
	}
	if n.Name != "" {
		if _, ok := s.names[n.Name]; ok {
			panic("ironictest: duplicate node name " + n.Name)
		}
		s.names[n.Name] = n
	}
	s.nextID++
	n.id = s.nextID
	s.nodes[n.UUID] = n
	s.order = append(s.order, n)
	return n.UUID
}

// Node returns a copy of the node with this UUID or name.
func (s *Server) Node(id string) (ironic.Node, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lookup(id)
	if n == nil {
		return ironic.Node{}, false
	}
	return n.snapshot(), true
}

// UpdateNode changes a node as another Ironic client would, bypassing every API rule
// (for example to move it to "error" or set last_error). It reports whether the node
// exists. UUID and name changes are ignored.
func (s *Server) UpdateNode(id string, fn func(*ironic.Node)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lookup(id)
	if n == nil {
		return false
	}
	c := n.snapshot()
	fn(&c)
	c.UUID, c.Name = n.UUID, n.Name
	if c.ProvisionState != n.ProvisionState && c.ProvisionUpdatedAt.Equal(n.ProvisionUpdatedAt) {
		c.ProvisionUpdatedAt = s.stamp()
	}
	c.ConductorGroup = strings.ToLower(c.ConductorGroup)
	c.Traits = slices.Sorted(slices.Values(c.Traits))
	n.Node = c
	n.UpdatedAt = s.now()
	return true
}

// RemoveNode deletes a node regardless of its state, as an operator might between two
// pages of a listing. It reports whether the node existed.
func (s *Server) RemoveNode(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lookup(id)
	if n == nil {
		return false
	}
	s.removeLocked(n)
	return true
}

// NodeCount returns the number of nodes.
func (s *Server) NodeCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.nodes)
}

// LockNode makes the node look locked by holder (its reservation): every write on it
// answers 409 NodeLocked until UnlockNode.
func (s *Server) LockNode(id, holder string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lookup(id)
	if n == nil {
		return false
	}
	n.lockedBy = holder
	s.syncReservation(n)
	return true
}

// UnlockNode undoes LockNode.
func (s *Server) UnlockNode(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lookup(id)
	if n == nil {
		return false
	}
	n.lockedBy = ""
	s.syncReservation(n)
	return true
}

func (s *Server) syncReservation(n *node) {
	switch {
	case n.lockedBy != "":
		n.Reservation = n.lockedBy
	case len(n.steps) > 0 && !n.unlocked || n.powerTarget != "":
		n.Reservation = s.host
	default:
		n.Reservation = ""
	}
}

func (n *node) snapshot() ironic.Node {
	c := n.Node
	c.Traits = slices.Clone(n.Traits)
	c.Properties = maps.Clone(n.Properties)
	c.Extra = maps.Clone(n.Extra)
	c.InstanceInfo = maps.Clone(n.InstanceInfo)
	return c
}

func (s *Server) lookup(id string) *node {
	if n, ok := s.nodes[strings.ToLower(id)]; ok && isUUID(id) {
		return n
	}
	return s.names[id]
}

func (s *Server) removeLocked(n *node) {
	delete(s.nodes, n.UUID)
	if n.Name != "" {
		delete(s.names, n.Name)
	}
	i := s.index(n.id)
	if i < len(s.order) && s.order[i] == n {
		s.order = slices.Delete(s.order, i, i+1)
	}
}

// index returns the position in s.order of the first node whose id is >= id.
func (s *Server) index(id int) int {
	return sort.Search(len(s.order), func(i int) bool { return s.order[i].id >= id })
}

// getNode finds the node named in the request path, or answers 404.
func (s *Server) getNode(r *http.Request) (*node, error) {
	id := r.PathValue("id")
	n := s.lookup(id)
	if c, ok := r.Context().Value(callerKey{}).(Caller); ok && !c.ListAll && n != nil &&
		n.Owner != c.Project && n.Lessee != c.Project {
		n = nil // Ironic hides another project's node behind a 404
	}
	if n == nil {
		return nil, errorf(http.StatusNotFound, "Node %s could not be found.", id)
	}
	return n, nil
}

func locked(n *node) error {
	if n.Reservation != "" {
		return errorf(http.StatusConflict, "Node %s is locked by host %s, please retry after the current operation is completed.",
			n.UUID, n.Reservation)
	}
	return nil
}

// listParams are the query parameters Ironic 21.4 accepts on GET /v1/nodes.
var listParams = map[string]bool{
	"chassis_uuid": true, "instance_uuid": true, "associated": true, "maintenance": true,
	"retired": true, "provision_state": true, "marker": true, "limit": true, "sort_key": true,
	"sort_dir": true, "driver": true, "fields": true, "resource_class": true, "fault": true,
	"conductor_group": true, "detail": true, "conductor": true, "owner": true,
	"description_contains": true, "lessee": true, "project": true, "shard": true, "sharded": true,
}

// validStates are Ironic's provision states, for the provision_state filter.
var validStates = map[string]bool{
	"enroll": true, "verifying": true, "manageable": true, "available": true, "active": true,
	"deploying": true, "wait call-back": true, "deploy failed": true, "deploy hold": true,
	"deleting": true, "deleted": true, "cleaning": true, "clean wait": true,
	"clean failed": true, "clean hold": true, "inspecting": true, "inspect wait": true,
	"inspect failed": true, "adopting": true, "adopt failed": true, "rescuing": true,
	"rescue wait": true, "rescue failed": true, "rescue": true, "unrescuing": true,
	"unrescue failed": true, "error": true, "rebuild": true,
}

// parseBool accepts what oslo's strutils.bool_from_string accepts in strict mode.
func parseBool(name, s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, nil
	case "0", "f", "false", "off", "n", "no":
		return false, nil
	}
	return false, errorf(http.StatusBadRequest,
		"Invalid %s: Unrecognized value '%s', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
		name, s)
}

func notAcceptable(minor int) error {
	return errorf(http.StatusNotAcceptable, "Request not acceptable. The minimal required API version should be 1.%d", minor)
}

// nodeFilter is a parsed listing query.
type nodeFilter struct {
	maintenance, associated, retired, sharded *bool
	provisionState, resourceClass, group      string
	owner, lessee, driver, fault, instance    string
	project                                   string // owner or lessee
	shards                                    []string
}

func (f *nodeFilter) match(n *node) bool {
	switch {
	case f.maintenance != nil && n.Maintenance != *f.maintenance,
		f.associated != nil && (n.InstanceUUID != "") != *f.associated,
		f.retired != nil && n.Retired != *f.retired,
		f.sharded != nil && (n.Shard != "") != *f.sharded,
		f.provisionState != "" && n.ProvisionState != f.provisionState,
		f.resourceClass != "" && n.ResourceClass != f.resourceClass,
		f.group != "" && n.ConductorGroup != f.group,
		f.owner != "" && n.Owner != f.owner,
		f.lessee != "" && n.Lessee != f.lessee,
		f.project != "" && n.Owner != f.project && n.Lessee != f.project,
		f.driver != "" && n.Driver != f.driver,
		f.fault != "" && n.Fault != f.fault,
		f.instance != "" && !strings.EqualFold(n.InstanceUUID, f.instance),
		f.shards != nil && !slices.Contains(f.shards, n.Shard):
		return false
	}
	return true
}

// parseFields validates a fields selector at v.
func parseFields(v ironic.Version, raw string) ([]string, error) {
	if v.Minor < 8 {
		return nil, errorf(http.StatusNotAcceptable, "Request not acceptable.")
	}
	var fields []string
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !selectable[f] {
			if ironicFields[f] {
				return nil, errorf(http.StatusBadRequest, "fake ironic does not model field %s", f)
			}
			return nil, errorf(http.StatusBadRequest, "Field %s is not a valid field.", f)
		}
		if !allowed(v, f) {
			return nil, errorf(http.StatusNotAcceptable, "Request not acceptable.")
		}
		fields = append(fields, f)
	}
	return fields, nil
}

func (s *Server) handleListNodes(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	q := r.URL.Query()
	var unexpected []string
	for k := range q {
		if !listParams[k] {
			unexpected = append(unexpected, k)
		}
	}
	if len(unexpected) > 0 {
		slices.Sort(unexpected)
		return errorf(http.StatusBadRequest, "Unexpected arguments: %s", strings.Join(unexpected, ", "))
	}
	for _, k := range []string{"chassis_uuid", "conductor", "description_contains"} {
		if q.Has(k) {
			return errorf(http.StatusBadRequest, "fake ironic does not implement the %s filter", k)
		}
	}

	var f nodeFilter
	boolParam := func(name string, dst **bool) error {
		if !q.Has(name) {
			return nil
		}
		b, err := parseBool(name, q.Get(name))
		if err != nil {
			return err
		}
		*dst = &b
		return nil
	}
	for name, dst := range map[string]**bool{"maintenance": &f.maintenance, "associated": &f.associated, "retired": &f.retired, "sharded": &f.sharded} {
		if err := boolParam(name, dst); err != nil {
			return err
		}
	}
	gate := func(name string, minor int) error {
		if q.Has(name) && v.Minor < minor {
			return notAcceptable(minor)
		}
		return nil
	}
	for name, minor := range map[string]int{"provision_state": 9, "driver": 16, "resource_class": 21,
		"fault": 42, "conductor_group": 46, "owner": 50, "retired": 61, "lessee": 65, "project": 65, "shard": 82, "sharded": 82} {
		if err := gate(name, minor); err != nil {
			return err
		}
	}
	if ps := q.Get("provision_state"); ps != "" {
		if !validStates[ps] {
			return errorf(http.StatusBadRequest, "Provision state \"%s\" is not valid", ps)
		}
		f.provisionState = ps
	}
	f.resourceClass = q.Get("resource_class")
	f.group = q.Get("conductor_group")
	f.owner, f.lessee, f.project = q.Get("owner"), q.Get("lessee"), q.Get("project")
	if c, ok := r.Context().Value(callerKey{}).(Caller); ok && !c.ListAll {
		// Ironic's check_list_policy: without list_all, only the caller's project.
		if f.project != "" && f.project != c.Project {
			return errorf(http.StatusForbidden, "Access was denied to the following resource: baremetal:node:list_all")
		}
		f.project = c.Project
	}
	f.driver, f.fault = q.Get("driver"), q.Get("fault")
	if inst := q.Get("instance_uuid"); inst != "" {
		if !isUUID(inst) {
			return errorf(http.StatusBadRequest, "Expected a UUID for instance_uuid: %s", inst)
		}
		f.instance = inst
	}
	if q.Has("shard") {
		f.shards = []string{}
		for _, sh := range strings.Split(q.Get("shard"), ",") {
			if sh = strings.TrimSpace(sh); sh != "" {
				f.shards = append(f.shards, sh)
			}
		}
	}

	limit := s.maxLimit
	if q.Has("limit") {
		l, err := strconv.Atoi(q.Get("limit"))
		if err != nil {
			return errorf(http.StatusBadRequest, "Invalid limit: %s", q.Get("limit"))
		}
		if l <= 0 {
			return errorf(http.StatusBadRequest, "Limit must be positive")
		}
		limit = min(l, s.maxLimit)
	}
	sortKey, sortDir := "id", "asc"
	if sk := q.Get("sort_key"); sk != "" {
		if _, ok := sortKeys[sk]; !ok {
			return errorf(http.StatusBadRequest, "fake ironic does not sort by %s", sk)
		}
		sortKey = sk
	}
	if sd := q.Get("sort_dir"); sd != "" {
		if sd != "asc" && sd != "desc" {
			return errorf(http.StatusBadRequest, "Invalid sort direction: %s. Acceptable values are 'asc' or 'desc'", sd)
		}
		sortDir = sd
	}

	var fields []string
	detail := false
	if q.Has("detail") {
		d, err := parseBool("detail", q.Get("detail"))
		if err != nil {
			return err
		}
		if v.Minor < 43 {
			return notAcceptable(43)
		}
		detail = d
	}
	switch {
	case q.Has("fields"):
		if detail {
			return errorf(http.StatusBadRequest, "Can not specify ?detail=True and fields in the same request.")
		}
		fs, err := parseFields(v, q.Get("fields"))
		if err != nil {
			return err
		}
		fields = fs
	case detail:
		fields = fullFields(v)
	default:
		fields = defaultListFields
	}

	marker := q.Get("marker")
	if marker != "" && !isUUID(marker) {
		return errorf(http.StatusBadRequest, "Expected a UUID for marker: %s", marker)
	}

	base := baseURL(r)
	s.mu.Lock()
	var m *node
	if marker != "" {
		var ok bool
		if m, ok = s.nodes[strings.ToLower(marker)]; !ok {
			s.mu.Unlock()
			return errorf(http.StatusNotFound, "Node %s could not be found.", marker)
		}
	}
	candidates := s.order
	if sortKey == "id" && sortDir == "asc" {
		if m != nil {
			candidates = s.order[s.index(m.id+1):]
		}
	} else {
		candidates = sortedAfter(s.order, sortKey, sortDir == "desc", m)
	}
	b := make([]byte, 0, 64<<10)
	b = append(b, `{"nodes": [`...)
	count := 0
	var last string
	for _, n := range candidates {
		if count == limit {
			break
		}
		if !f.match(n) {
			continue
		}
		if count > 0 {
			b = append(b, ", "...)
		}
		b = s.appendNode(b, n, fields, base)
		last = n.UUID
		count++
	}
	latency, cost := s.pageLatency, s.costPerNode
	s.mu.Unlock()

	b = append(b, ']')
	// Ironic emits next whenever the page is full, except for instance_uuid queries. The
	// link keeps only sort_key, sort_dir, associated/maintenance/retired when true,
	// detail, fields, limit and marker: every other filter is lost.
	if count == limit && f.instance == "" {
		nq := "sort_key=" + sortKey + "&sort_dir=" + sortDir
		for _, p := range []struct {
			name string
			val  *bool
		}{{"associated", f.associated}, {"maintenance", f.maintenance}, {"retired", f.retired}} {
			if p.val != nil && *p.val {
				nq += "&" + p.name + "=True"
			}
		}
		if q.Has("detail") {
			nq += "&detail=" + pyBool(detail)
		}
		if q.Has("fields") {
			nq += "&fields=" + strings.Join(fields, ",")
		}
		nq += "&limit=" + strconv.Itoa(limit) + "&marker=" + last
		b = append(b, `, "next": `...)
		b = jsonstring.Append(b, base+"/v1/nodes?"+nq)
	}
	b = append(b, '}')

	if err := backoff.Sleep(r.Context(), latency); err != nil {
		return nil
	}
	if cost > 0 && count > 0 {
		select {
		case s.cpu <- struct{}{}:
		case <-r.Context().Done():
			return nil
		}
		err := backoff.Sleep(r.Context(), time.Duration(count)*cost)
		<-s.cpu
		if err != nil {
			return nil
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
	return nil
}

// sortKeys are the node columns the fake sorts by, with how to read each: a string or
// a time, where "" and the zero time are SQL NULL.
var sortKeys = map[string]func(n *node) (string, time.Time){
	"id":                   nil,
	"uuid":                 func(n *node) (string, time.Time) { return n.UUID, time.Time{} },
	"name":                 func(n *node) (string, time.Time) { return n.Name, time.Time{} },
	"provision_state":      func(n *node) (string, time.Time) { return n.ProvisionState, time.Time{} },
	"resource_class":       func(n *node) (string, time.Time) { return n.ResourceClass, time.Time{} },
	"created_at":           func(n *node) (string, time.Time) { return "", n.CreatedAt },
	"updated_at":           func(n *node) (string, time.Time) { return "", n.UpdatedAt },
	"provision_updated_at": func(n *node) (string, time.Time) { return "", n.ProvisionUpdatedAt },
}

// compareKey compares a and b by key in ascending order, with NULL smallest (SQLite's
// and MySQL's order: first ascending, last descending). The bool is false when either is
// NULL, where SQL comparisons are not true.
func compareKey(key string, a, b *node) (int, bool) {
	if key == "id" {
		return cmp.Compare(a.id, b.id), true
	}
	as, at := sortKeys[key](a)
	bs, bt := sortKeys[key](b)
	if key == "created_at" || key == "updated_at" || key == "provision_updated_at" {
		switch {
		case at.IsZero() || bt.IsZero():
			return cmp.Compare(boolInt(!at.IsZero()), boolInt(!bt.IsZero())), false
		}
		return at.Compare(bt), true
	}
	if as == "" || bs == "" {
		return cmp.Compare(boolInt(as != ""), boolInt(bs != "")), false
	}
	return strings.Compare(as, bs), true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sortedAfter returns nodes sorted by (key, id) in the direction, keeping those after the
// marker m the way oslo.db's paginate_query selects them: (key beyond m's) or (key equal
// and id beyond m's); when m's key is NULL, only the id counts. A node whose key is NULL
// never passes a comparison with a non-NULL marker.
func sortedAfter(nodes []*node, key string, desc bool, m *node) []*node {
	dir := 1
	if desc {
		dir = -1
	}
	out := make([]*node, 0, len(nodes))
	for _, n := range nodes {
		if m == nil {
			out = append(out, n)
			continue
		}
		c, known := compareKey(key, n, m)
		byID := dir*cmp.Compare(n.id, m.id) > 0
		mNull := false
		if key != "id" {
			ms, mt := sortKeys[key](m)
			mNull = ms == "" && mt.IsZero()
		}
		switch {
		case mNull:
			if byID {
				out = append(out, n)
			}
		case known && (dir*c > 0 || c == 0 && byID):
			out = append(out, n)
		}
	}
	slices.SortStableFunc(out, func(a, b *node) int {
		c, _ := compareKey(key, a, b)
		if c == 0 {
			c = cmp.Compare(a.id, b.id)
		}
		return dir * c
	})
	return out
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func (s *Server) writeNode(w http.ResponseWriter, r *http.Request, status int, n *node, fields []string) {
	b := s.appendNode(make([]byte, 0, 2048), n, fields, baseURL(r))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) handleGetNode(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	q := r.URL.Query()
	fields := fullFields(v)
	if q.Has("fields") {
		fs, err := parseFields(v, q.Get("fields"))
		if err != nil {
			return err
		}
		fields = fs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getNode(r)
	if err != nil {
		return err
	}
	s.writeNode(w, r, http.StatusOK, n, fields)
	return nil
}

func (s *Server) handleGetStates(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getNode(r)
	if err != nil {
		return err
	}
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"power_state": null(n.PowerState), "target_power_state": null(n.TargetPowerState),
		"provision_state": null(n.ProvisionState), "target_provision_state": null(n.TargetProvisionState),
		"last_error": null(n.LastError), "console_enabled": false,
		"provision_updated_at": json.RawMessage(appendTime(nil, n.ProvisionUpdatedAt)),
		"raid_config":          map[string]any{}, "target_raid_config": map[string]any{},
		"boot_mode": nil, "secure_boot": nil,
	})
	return nil
}

// createKeys are the POST /v1/nodes body keys the fake accepts.
var createKeys = map[string]bool{
	"uuid": true, "name": true, "driver": true, "resource_class": true, "conductor_group": true,
	"description": true, "properties": true, "extra": true, "driver_info": true,
	"instance_info": true, "lessee": true, "shard": true, "owner": true, "traits": true,
	"maintenance": true, "protected": true, "retired": true, "retired_reason": true,
}

// validName mirrors Ironic's node name rule: RFC 3986 unreserved characters.
func validName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}

func (s *Server) handleCreateNode(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return errorf(http.StatusBadRequest, "Invalid JSON body: %v", err)
	}
	for k := range body {
		if !createKeys[k] {
			return errorf(http.StatusBadRequest, "Schema error for node: Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	if _, ok := body["traits"]; ok {
		return errorf(http.StatusBadRequest, "Cannot specify node traits on node creation. Traits must be set via the node traits API.")
	}
	if _, ok := body["owner"]; ok {
		// Ironic under noauth treats the caller as a project-scoped admin of no project.
		return errorf(http.StatusBadRequest, "Cannot create node with project scoped admin with an owner other than your own project.")
	}
	str := func(key string) (string, error) {
		raw, ok := body[key]
		if !ok || string(raw) == "null" {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", errorf(http.StatusBadRequest, "Schema error for node: %s must be a string", key)
		}
		return s, nil
	}
	obj := func(key string) (map[string]any, error) {
		raw, ok := body[key]
		if !ok || string(raw) == "null" {
			return nil, nil
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, errorf(http.StatusBadRequest, "Schema error for node: %s must be an object", key)
		}
		return m, nil
	}
	var n node
	var errs []error
	var err error
	set := func(dst *string, key string) {
		*dst, err = str(key)
		errs = append(errs, err)
	}
	set(&n.UUID, "uuid")
	set(&n.Name, "name")
	set(&n.Driver, "driver")
	set(&n.ResourceClass, "resource_class")
	set(&n.ConductorGroup, "conductor_group")
	set(&n.Description, "description")
	set(&n.Lessee, "lessee")
	set(&n.Shard, "shard")
	n.Properties, err = obj("properties")
	errs = append(errs, err)
	n.Extra, err = obj("extra")
	errs = append(errs, err)
	n.InstanceInfo, err = obj("instance_info")
	errs = append(errs, err)
	n.driverInfo, err = obj("driver_info")
	errs = append(errs, err)
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	for _, key := range []string{"resource_class", "conductor_group", "description", "lessee", "shard"} {
		if _, ok := body[key]; ok && v.Minor < fieldMinor[key] {
			return notAcceptable(fieldMinor[key])
		}
	}
	if n.Driver == "" {
		return errorf(http.StatusBadRequest, "Schema error for node: 'driver' is a required property")
	}
	if n.Driver != "fake-hardware" {
		return errorf(http.StatusBadRequest, "Could not find the following driver(s) or hardware type(s): %s.", n.Driver)
	}
	if n.UUID != "" && !isUUID(n.UUID) {
		return errorf(http.StatusBadRequest, "Expected a UUID for uuid: %s", n.UUID)
	}
	if n.Name != "" && (!validName(n.Name) || isUUID(n.Name)) {
		return errorf(http.StatusBadRequest, "Cannot create node with invalid name '%s'", n.Name)
	}
	// The POST path does not lowercase the group before looking for a conductor, so a
	// group with capitals never finds one.
	if !s.serves(n.ConductorGroup) {
		return errorf(http.StatusBadRequest,
			"No valid host was found. Reason: No conductor service registered which supports driver fake-hardware for conductor group \"%s\".",
			n.ConductorGroup)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if n.UUID != "" {
		if _, ok := s.nodes[strings.ToLower(n.UUID)]; ok {
			return errorf(http.StatusConflict, "A node with UUID %s already exists.", n.UUID)
		}
	}
	if n.Name != "" {
		if _, ok := s.names[n.Name]; ok {
			return errorf(http.StatusConflict, "A node with name %s already exists.", n.Name)
		}
	}
	n.ProvisionState = ironic.ProvisionStateEnroll
	if v.Minor < 11 {
		n.ProvisionState = ironic.ProvisionStateAvailable
	}
	driverInfo := n.driverInfo
	uuid := s.addLocked(n.Node)
	created := s.nodes[uuid]
	created.driverInfo = driverInfo
	w.Header().Set("Location", baseURL(r)+"/v1/nodes/"+uuid)
	s.writeNode(w, r, http.StatusCreated, created, fullFields(v))
	return nil
}

func (s *Server) serves(group string) bool {
	if group != strings.ToLower(group) {
		return false
	}
	if s.groups == nil {
		return true
	}
	return slices.Contains(s.groups, group)
}

// deletable are the states a node may be deleted from outside maintenance (Ironic 21.4
// DELETE_ALLOWED_STATES plus available, as allow_deleting_available_nodes defaults on).
var deletable = map[string]bool{"enroll": true, "manageable": true, "adopt failed": true, "available": true}

func (s *Server) handleDeleteNode(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.getNode(r)
	if err != nil {
		return err
	}
	if err := locked(n); err != nil {
		return err
	}
	if !n.Maintenance && n.InstanceUUID != "" {
		return errorf(http.StatusConflict, "Node %s is associated with instance %s.", n.UUID, n.InstanceUUID)
	}
	if n.Protected {
		return errorf(http.StatusConflict, "Node %s is protected and cannot be undeployed, rebuilt or deleted", n.UUID)
	}
	if !n.Maintenance && !deletable[n.ProvisionState] {
		return errorf(http.StatusConflict,
			"Can not delete node \"%s\" while it is in provision state \"%s\". Valid provision states to perform deletion are: \"('manageable', 'enroll', 'adopt failed', 'available')\", or set the node into maintenance mode",
			n.UUID, n.ProvisionState)
	}
	s.removeLocked(n)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleGetShards(w http.ResponseWriter, r *http.Request, v ironic.Version) error {
	if v.Minor < 82 {
		return errorf(http.StatusNotFound, "The resource could not be found.")
	}
	s.mu.Lock()
	counts := map[string]int{}
	for _, n := range s.order {
		sh := n.Shard
		if sh == "" {
			sh = "None"
		}
		counts[sh]++
	}
	s.mu.Unlock()
	type shard struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	out := []shard{}
	for _, name := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, shard{name, counts[name]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"shards": out})
	return nil
}

// unescapePointer decodes one JSON-pointer segment.
func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}
