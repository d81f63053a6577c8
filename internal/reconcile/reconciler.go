package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"ingot/internal/backoff"
	"ingot/internal/baremetal"
	"ingot/internal/fleet"
	"ingot/internal/ironic"
	"ingot/internal/metrics"
	"ingot/internal/progress"
	"ingot/internal/safe"
	"ingot/internal/store"
)

// Defaults for the zero values in Config.
const (
	DefaultInterval    = 60 * time.Second
	DefaultPassTimeout = 10 * time.Minute
	DefaultMinBackoff  = time.Second
	DefaultLookups     = 8
)

// maxRounds bounds how often one pass plans again the nodes whose writes lost a race.
const maxRounds = 3

// ErrPassTimeout is the cause of a pass's context when the pass took longer than
// Config.PassTimeout.
var ErrPassTimeout = errors.New("tracker pass timed out")

// Config configures a Reconciler.
type Config struct {
	// Scope is the part of Ironic this tracker manages (conductor group, shards).
	Scope Scope
	// Interval is the time from the end of one pass to the start of the next.
	Interval time.Duration
	// PassTimeout bounds one pass; the pass is then abandoned (nothing half-written: each
	// node's write is its own) and the next one starts after the backoff.
	PassTimeout time.Duration
	// MinBackoff is the first wait after a failed pass; it doubles with each further
	// failure, up to Interval, with jitter.
	MinBackoff time.Duration
	// BatchSize is how many nodes' writes share one transaction (DefaultBatchSize, or
	// DefaultPostgresBatchSize on PostgreSQL).
	BatchSize int
	// Lookups is how many direct GETs of nodes missing from a listing run at once.
	Lookups int
	// Logger receives one Info line per pass and a line per problem. Nil discards.
	Logger *slog.Logger
	// Rand is the jitter source; nil means math/rand/v2's global source.
	Rand rand.Source
	// OnListing, when set, is called with every successful listing of the scope's nodes,
	// on the pass's goroutine before the pass plans, so that others (the instance
	// controller) need not list Ironic again. It must not block for long and must not
	// modify the nodes; it may keep them (a pass never changes a listing it handed over).
	// A panic in it fails the pass like any other.
	OnListing func(nodes []ironic.Node)
	// ProgressEvery is how often a long pass logs its progress (listing, lookups,
	// writing): done, total, rate and time left; a phase shorter than that logs none.
	// Zero means progress.DefaultEvery.
	ProgressEvery time.Duration
	// Metrics, when not nil, receives every pass's figures.
	Metrics *metrics.Tracker
	// Ownership, when set (replicas sharing PostgreSQL), restricts the tracker to the
	// nodes this replica owns and fences every write with their epochs; nil: every node
	// of the scope is the tracker's (SQLite's single replica).
	Ownership Ownership
}

// Ownership is what the tracker needs of a replica's node ownership (package replica).
type Ownership interface {
	// Hold returns a context that also ends when the replica's lease is lost, a function
	// releasing it, and the fence of the nodes owned now (nil: no lease, do nothing).
	Hold(ctx context.Context) (context.Context, func(), *store.Fence)
	// Lost drops a node whose write was rejected as stale.
	Lost(node string)
}

// Reconciler keeps one Placement resource provider per Ironic node of its scope in step
// with Ironic. Create it with New and run it with Run; Pass runs a single pass.
type Reconciler struct {
	ironic *ironic.Client
	db     *store.DB
	cfg    Config
	log    *slog.Logger
	kick   chan struct{}
	// backoff is the wait after failed passes: MinBackoff doubling up to Interval.
	backoff *backoff.Backoff

	// passMu makes passes one at a time; it guards what passes carry over: the tracker
	// records read by an earlier pass (kept while their version is unchanged) and the
	// size of the last listing.
	passMu      sync.Mutex
	records     []baremetal.NodeRecord
	recordsOK   bool
	recordsVer  store.IronicNodesVersion
	recordsAge  int
	listedNodes int

	// refreshed holds, per node, when Refresh last began for it (see withoutRefreshed).
	refreshMu sync.Mutex
	refreshed map[string]time.Time

	// beforeApply, when set (tests), runs before each Apply of Refresh.
	beforeApply func()

	status status  // what passes have done, for Status
	hist   history // recent passes and the last listing (History, LastListing)
}

// fullReadEvery bounds how many passes may reuse the records read by an earlier one.
const fullReadEvery = 10

// New returns a Reconciler that reads Ironic through client and writes providers and its
// records through db.
func New(client *ironic.Client, db *store.DB, cfg Config) *Reconciler {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.PassTimeout <= 0 {
		cfg.PassTimeout = DefaultPassTimeout
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
		if db.Postgres() {
			cfg.BatchSize = DefaultPostgresBatchSize
		}
	}
	if cfg.Lookups <= 0 {
		cfg.Lookups = DefaultLookups
	}
	r := &Reconciler{ironic: client, db: db, cfg: cfg, log: cfg.Logger, kick: make(chan struct{}, 1)}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.backoff = backoff.New(cfg.MinBackoff, cfg.Interval, cfg.Rand)
	return r
}

// Kick asks for a pass as soon as the current one (if any) ends. Kicks coalesce: many
// kicks during a pass cause one more pass. It never blocks; safe for concurrent use.
func (r *Reconciler) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run makes a pass at once and then one every Interval (or sooner when kicked) until ctx
// ends, and then returns nil. A failed pass (Ironic unreachable, the database down) is
// logged and retried after a backoff that starts at MinBackoff and doubles up to
// Interval, with jitter; it never stops Run. Run must not be called twice at once.
func (r *Reconciler) Run(ctx context.Context) error {
	r.log.Info("ironic tracker started", "scope", r.cfg.Scope.String(), "interval", r.cfg.Interval)
	failures := 0
	for {
		st, err := r.Pass(ctx)
		if ctx.Err() != nil {
			r.log.Info("ironic tracker stopped")
			return nil
		}
		wait := r.cfg.Interval
		if err != nil {
			failures++
			wait = r.backoff.Delay(failures)
			level := slog.LevelWarn
			if errors.Is(err, ironic.ErrUnsupported) || errors.Is(err, ironic.ErrUnauthorized) {
				level = slog.LevelError // the operator has to act: configuration or credentials
			}
			attrs := []any{"error", err, "failures", failures, "retry_in", wait, "duration", st.Duration.Round(time.Millisecond)}
			if st.Changes > 0 { // committed before the failure; they stay
				attrs = append(attrs, "changes", st.Changes)
			}
			r.log.Log(ctx, level, "tracker pass failed", attrs...)
		} else {
			failures = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			r.log.Info("ironic tracker stopped")
			return nil
		case <-t.C:
		case <-r.kick:
			t.Stop()
		}
	}
}

// Stats describes one pass.
type Stats struct {
	Duration     time.Duration // the whole pass
	ListDuration time.Duration // the node listing alone
	Nodes        int           // nodes in the listing
	Lookups      int           // direct GETs of nodes the listing missed
	Changes      int           // node writes committed
	Actions      map[Action]int
	Healed       int // providers corrected or recreated while their node had not changed (edited or deleted by hand)
	Conflicts    int // writes that lost a race and were planned again
	Errors       int // node writes or lookups that failed (the nodes are retried next pass)
	Warnings     int
	Orphaned     int   // providers of deleted nodes kept for their allocations
	Seq          int64 // the store's change sequence after the pass
	Owned        int   // nodes this replica owned for the pass (with Ownership)
	Fenced       int   // writes rejected because the replica no longer owned the node

	records []recordWrite // the record writes applied, for counting orphans
}

// recordWrite is what an applied change did to a node's record.
type recordWrite struct {
	node  string
	op    store.RecordOp
	state baremetal.NodeState
}

// Pass makes one reconciliation pass: list the scope's nodes (one listing, only the
// fields needed), look up the managed nodes the listing missed, plan in memory against
// the store's view and the tracker's records, and write the changes in batches. It
// returns an error when the listing failed anywhere, having changed nothing ("Ironic
// unreachable" is never "zero nodes"), and when the database failed (batches committed
// before stay; each node's write is whole). A failure of one node's lookup or write is
// logged, counted in Stats.Errors, and retried next pass.
// Passes run one at a time (a concurrent call waits). A panic during the pass is logged
// with its stack and returned as a *safe.PanicError: a failed pass like any other.
func (r *Reconciler) Pass(ctx context.Context) (st Stats, err error) {
	r.passMu.Lock()
	defer r.passMu.Unlock()
	start := time.Now()
	defer func() { r.hist.add(start, st, err) }()
	err = safe.Do(func() error {
		var err error
		st, err = r.pass(ctx)
		return err
	})
	if pe, ok := errors.AsType[*safe.PanicError](err); ok {
		r.log.Error("tracker pass panicked", "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
		r.recordsOK = false // what the pass carries over may be half updated: read it afresh
	}
	r.status.record(st, err, time.Now())
	if ctx.Err() == nil { // a pass cut short by shutdown is no failure
		r.observe(st, err)
	}
	return st, err
}

// observe reports a pass to the metrics.
func (r *Reconciler) observe(st Stats, err error) {
	if r.cfg.Metrics == nil {
		return
	}
	changes := make(map[string]int, len(st.Actions))
	for a, n := range st.Actions {
		changes[string(a)] = n
	}
	r.cfg.Metrics.ObservePass(metrics.Pass{Failed: err != nil, End: time.Now(), Duration: st.Duration,
		ListDuration: st.ListDuration, Nodes: st.Nodes, Changes: changes, Errors: st.Errors,
		Conflicts: st.Conflicts, Orphaned: st.Orphaned})
}

// pass is Pass without the lock and the recovery.
func (r *Reconciler) pass(ctx context.Context) (Stats, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, r.cfg.PassTimeout, ErrPassTimeout)
	defer cancel()
	start := time.Now()
	st := Stats{Actions: map[Action]int{}}
	fail := func(err error) (Stats, error) {
		st.Duration = time.Since(start)
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, cause)
		}
		return st, err
	}

	v := r.ironic.Version()
	if v.IsZero() {
		var err error
		if v, err = r.ironic.Negotiate(ctx); err != nil {
			return fail(err)
		}
	}
	scope := r.cfg.Scope
	nodes, err := r.list(ctx, v, r.meter(r.listedNodes, "listing"))
	st.ListDuration = time.Since(start)
	if err != nil {
		return fail(err)
	}
	st.Nodes = len(nodes)
	r.hist.setListing(nodes)
	if r.cfg.OnListing != nil {
		r.cfg.OnListing(nodes)
	}

	view, err := r.db.View(ctx)
	if err != nil {
		return fail(err)
	}
	if n, err := r.ensureCatalog(ctx, view, nodes); err != nil {
		return fail(err)
	} else if n > 0 {
		if view, err = r.db.View(ctx); err != nil {
			return fail(err)
		}
	}
	records, err := r.loadRecords(ctx)
	if err != nil {
		return fail(err)
	}
	var fence *store.Fence
	if own := r.cfg.Ownership; own != nil {
		hctx, release, f := own.Hold(ctx)
		defer release()
		if f == nil {
			st.Duration = time.Since(start)
			r.log.Debug("tracker pass skipped: no lease")
			return st, nil
		}
		ctx, fence = store.WithFence(hctx, f), f
		nodes, records = ownedNodes(nodes, f), ownedRecords(records, f)
		st.Owned = len(f.Epochs)
	}
	missing := NeedsLookup(scope, nodes, records)
	st.Lookups = len(missing)
	lookups := r.lookup(ctx, v, missing, r.meter(len(missing), "lookups"))
	for _, id := range missing {
		if err := lookups[id].Err; err != nil {
			if ctx.Err() != nil {
				return fail(err)
			}
			st.Errors++
			r.log.Warn("node lookup failed", "node_uuid", id, "error", err)
		}
	}

	in := Input{Scope: scope, Nodes: nodes, Lookups: lookups, Records: records, View: view}
	changes := Plan(r.withoutRefreshed(in, start))
	if len(changes) > 0 {
		r.recordsOK = false // the writes change records: read them again next pass
	}
	writing := r.meter(len(changes), "writing")
	planned := len(changes)
	for round := 1; len(changes) > 0; round++ {
		if round > 1 {
			planned += len(changes)
			writing.SetTotal(planned)
		}
		res, err := r.apply(ctx, changes, writing)
		r.account(&st, res)
		if err != nil {
			return fail(err)
		}
		if len(res.Conflicts) == 0 {
			break
		}
		if round == maxRounds {
			for _, c := range res.Conflicts {
				st.Errors++
				r.log.Warn("node change failed", "node_uuid", c.Change.Write.NodeUUID,
					"action", c.Change.Action, "error", c.Err)
			}
			break
		}
		st.Conflicts += len(res.Conflicts)
		// Plan the nodes that lost a race again, from a fresh picture.
		if in.View, err = r.db.View(ctx); err != nil {
			return fail(err)
		}
		if in.Records, err = r.db.IronicNodes(ctx); err != nil {
			return fail(err)
		}
		if fence != nil {
			in.Records = ownedRecords(in.Records, fence)
		}
		changes = Plan(r.withoutRefreshed(only(in, res.Conflicts), start))
	}

	writing.Finish()
	if view, err = r.db.View(ctx); err != nil {
		return fail(err)
	}
	st.Seq = view.Seq
	st.Orphaned = orphaned(scope, records, st.records)
	st.Duration = time.Since(start)
	attrs := []any{"duration", st.Duration.Round(time.Millisecond), "list_duration", st.ListDuration.Round(time.Millisecond),
		"nodes", st.Nodes, "changes", st.Changes, "errors", st.Errors}
	for _, a := range []Action{ActionCreate, ActionAdopt, ActionUpdate, ActionRecord, ActionWithdraw,
		ActionRelease, ActionOrphan, ActionDelete} {
		if n := st.Actions[a]; n > 0 {
			attrs = append(attrs, string(a), n)
		}
	}
	if st.Healed > 0 {
		attrs = append(attrs, "healed", st.Healed)
	}
	if st.Warnings > 0 {
		attrs = append(attrs, "warnings", st.Warnings)
	}
	if st.Lookups > 0 {
		attrs = append(attrs, "lookups", st.Lookups)
	}
	if st.Conflicts > 0 {
		attrs = append(attrs, "conflicts", st.Conflicts)
	}
	if st.Orphaned > 0 {
		attrs = append(attrs, "orphaned", st.Orphaned)
	}
	if fence != nil {
		attrs = append(attrs, "owned", st.Owned)
	}
	if st.Fenced > 0 {
		attrs = append(attrs, "fenced", st.Fenced)
	}
	attrs = append(attrs, "seq", st.Seq)
	r.log.Info("tracker pass", attrs...)
	return st, nil
}

// list lists the scope's nodes at version v, into a slice sized after the last listing,
// counting them in m (whose total is the last listing's size, an estimate).
func (r *Reconciler) list(ctx context.Context, v ironic.Version, m *progress.Meter) ([]ironic.Node, error) {
	nodes := make([]ironic.Node, 0, r.listedNodes+r.listedNodes/16+16)
	for n, err := range r.ironic.Nodes(ctx, ironic.ListOptions{
		Fields: Fields(v), ConductorGroup: r.cfg.Scope.ConductorGroup, Shards: r.cfg.Scope.Shards,
	}) {
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
		m.Add(1)
	}
	r.listedNodes = len(nodes)
	m.SetTotal(len(nodes))
	m.Finish()
	return nodes, nil
}

// meter returns the progress meter of one phase of a pass.
func (r *Reconciler) meter(total int, phase string) *progress.Meter {
	return progress.New(total, progress.Log(r.log, "tracker pass progress", slog.String("phase", phase)),
		progress.Options{Every: r.cfg.ProgressEvery})
}

// apply is Apply one batch at a time, counting the changes written in m.
func (r *Reconciler) apply(ctx context.Context, changes []Change, m *progress.Meter) (Result, error) {
	var res Result
	for start := 0; start < len(changes); start += r.cfg.BatchSize {
		batch := changes[start:min(start+r.cfg.BatchSize, len(changes))]
		br, err := Apply(ctx, r.db, batch, r.cfg.BatchSize)
		res.Applied = append(res.Applied, br.Applied...)
		res.Conflicts = append(res.Conflicts, br.Conflicts...)
		res.Failed = append(res.Failed, br.Failed...)
		m.Add(len(batch))
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// loadRecords returns the tracker records: those an earlier pass read while their version
// has not changed (and at most fullReadEvery passes ago), or a fresh read. The version is
// read first, so a write between the two reads only causes one more read next time.
func (r *Reconciler) loadRecords(ctx context.Context) ([]baremetal.NodeRecord, error) {
	ver, err := r.db.IronicNodesVersion(ctx)
	if err != nil {
		return nil, err
	}
	if r.recordsOK && ver == r.recordsVer && r.recordsAge < fullReadEvery {
		r.recordsAge++
		return r.records, nil
	}
	recs, err := r.db.IronicNodes(ctx)
	if err != nil {
		return nil, err
	}
	r.records, r.recordsOK, r.recordsVer, r.recordsAge = recs, true, ver, 0
	return recs, nil
}

// account adds a round's results to st and logs them: a line per node at Debug, at Info
// for what an operator should see node by node (a node leaving the scope or Ironic, a
// provider healed after a hand edit); the pass's line counts the rest.
func (r *Reconciler) account(st *Stats, res Result) {
	for _, c := range res.Applied {
		st.records = append(st.records, recordWrite{c.Write.NodeUUID, c.Write.Record, c.Write.Node.State})
		st.Changes++
		st.Actions[c.Action]++
		level := slog.LevelDebug
		attrs := []any{"node_uuid", c.Write.NodeUUID, "action", c.Action}
		switch {
		case healed(c):
			st.Healed++
			level = slog.LevelInfo
			attrs = append(attrs, "healed", true)
		case c.Action == ActionWithdraw, c.Action == ActionRelease, c.Action == ActionOrphan, c.Action == ActionDelete:
			level = slog.LevelInfo
		}
		r.log.Log(context.Background(), level, "node change", attrs...)
		if c.Warning != "" {
			st.Warnings++
			r.log.Warn(c.Warning, "node_uuid", c.Write.NodeUUID, "action", c.Action)
		}
	}
	for _, f := range res.Fenced {
		st.Fenced++
		if r.cfg.Ownership != nil {
			r.cfg.Ownership.Lost(f.Change.Write.NodeUUID)
		}
		r.log.Warn("node change fenced: no longer this replica's", "node_uuid", f.Change.Write.NodeUUID,
			"action", f.Change.Action, "error", f.Err)
	}
	for _, f := range res.Failed {
		st.Errors++
		r.log.Warn("node change failed", "node_uuid", f.Change.Write.NodeUUID, "action", f.Change.Action,
			"error", f.Err)
	}
}

// healed reports whether c corrects a provider although the node's record (what the
// tracker last saw of the node) does not change: the provider was edited or deleted by
// hand (or a class change deferred for allocations completes).
func healed(c Change) bool {
	return (c.Action == ActionCreate || c.Action == ActionUpdate) && c.Write.Record == store.RecordKeep
}

// orphaned counts the scope's orphaned records after the applied record writes.
func orphaned(scope Scope, records []baremetal.NodeRecord, applied []recordWrite) int {
	s := scope.String()
	n := 0
	var changed map[string]bool // the written nodes: was the record orphaned before
	if len(applied) > 0 {
		changed = make(map[string]bool, len(applied))
		for _, w := range applied {
			changed[w.node] = false
		}
	}
	for _, r := range records {
		if r.Scope == s && r.State == baremetal.NodeOrphaned {
			if _, ok := changed[r.NodeUUID]; ok {
				changed[r.NodeUUID] = true
			} else {
				n++
			}
		}
	}
	for _, w := range applied {
		switch w.op {
		case store.RecordPut:
			if w.state == baremetal.NodeOrphaned {
				n++
			}
		case store.RecordKeep:
			if changed[w.node] {
				n++
			}
		}
	}
	return n
}

// only restricts in to the nodes of the failed changes.
func only(in Input, failed []Failure) Input {
	keep := make(map[string]struct{}, len(failed))
	for _, f := range failed {
		keep[f.Change.Write.NodeUUID] = struct{}{}
	}
	out := in
	out.Nodes = nil
	for _, n := range in.Nodes {
		if _, ok := keep[n.UUID]; ok {
			out.Nodes = append(out.Nodes, n)
		}
	}
	out.Records = nil
	for _, rec := range in.Records {
		if _, ok := keep[rec.NodeUUID]; ok {
			out.Records = append(out.Records, rec)
		}
	}
	return out
}

// Fields are the node fields a pass asks Ironic for at version v: what the mapping needs
// (conductor_group, owner and shard when v has them); the lessee (1.65), which the
// mapping does not use but the instance controller reads from the pass's listing
// (OnListing) to keep leased nodes for their lessees; and what the fleet dashboard shows
// of a node (LastListing): name, target provision state, maintenance reason, last error,
// fault (1.42) and retired (1.61), small strings, mostly null.
func Fields(v ironic.Version) []string {
	f := []string{"uuid", "resource_class", "traits", "maintenance", "power_state", "provision_state", "instance_uuid"}
	if v.HasConductorGroup() {
		f = append(f, "conductor_group")
	}
	if v.HasOwner() {
		f = append(f, "owner")
	}
	if v.HasLessee() {
		f = append(f, "lessee")
	}
	if v.HasShard() {
		f = append(f, "shard")
	}
	f = append(f, "name", "target_provision_state", "maintenance_reason", "last_error")
	if v.HasFault() {
		f = append(f, "fault")
	}
	if v.HasRetired() {
		f = append(f, "retired")
	}
	return f
}

// ensureCatalog creates the custom resource classes and traits the nodes need that
// Placement does not have yet, and returns how many it created. Standard traits Placement
// does not know and malformed custom ones are left out by Plan.
func (r *Reconciler) ensureCatalog(ctx context.Context, v *fleet.View, nodes []ironic.Node) (int, error) {
	classes := map[string]struct{}{}
	traits := map[string]struct{}{}
	for _, n := range nodes {
		if rc := ResourceClass(n.ResourceClass); rc != "" {
			if _, ok := v.ClassID(rc); !ok {
				classes[rc] = struct{}{}
			}
		}
		for _, t := range n.Traits {
			if _, ok := v.TraitID(t); !ok && validCustomTrait(t) {
				traits[t] = struct{}{}
			}
		}
	}
	created := 0
	for _, rc := range sortedSet(classes) {
		ok, err := r.db.EnsureResourceClass(ctx, rc)
		if err != nil {
			return created, err
		}
		created++
		if ok {
			r.log.Info("created resource class", "resource_class", rc)
		}
	}
	for _, t := range sortedSet(traits) {
		_, ok, err := r.db.EnsureTrait(ctx, t)
		if err != nil {
			return created, err
		}
		created++
		if ok {
			r.log.Info("created trait", "trait", t)
		}
	}
	return created, nil
}

func sortedSet(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// lookup GETs the nodes, Config.Lookups at a time, counting them in m.
func (r *Reconciler) lookup(ctx context.Context, v ironic.Version, ids []string, m *progress.Meter) map[string]Lookup {
	defer m.Finish()
	out := make(map[string]Lookup, len(ids))
	if len(ids) == 0 {
		return out
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.cfg.Lookups)
	fields := Fields(v)
	for _, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			n, err := r.ironic.GetNode(ctx, id, fields...)
			var lk Lookup
			switch {
			case err == nil:
				lk.Node = n
			case errors.Is(err, ironic.ErrNotFound):
				lk.Gone = true
			default:
				lk.Err = err
			}
			mu.Lock()
			out[id] = lk
			mu.Unlock()
			m.Add(1)
		})
	}
	wg.Wait()
	return out
}

// ownedNodes keeps the nodes the fence names.
func ownedNodes(nodes []ironic.Node, f *store.Fence) []ironic.Node {
	out := make([]ironic.Node, 0, len(f.Epochs))
	for _, n := range nodes {
		if _, ok := f.Epochs[n.UUID]; ok {
			out = append(out, n)
		}
	}
	return out
}

// ownedRecords keeps the records of the nodes the fence names.
func ownedRecords(records []baremetal.NodeRecord, f *store.Fence) []baremetal.NodeRecord {
	out := make([]baremetal.NodeRecord, 0, len(f.Epochs))
	for _, rec := range records {
		if _, ok := f.Epochs[rec.NodeUUID]; ok {
			out = append(out, rec)
		}
	}
	return out
}
