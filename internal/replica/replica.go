package replica

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/store"
)

// Defaults for the zero values of Config (ARCHITECTURE.md "Replicas").
const (
	DefaultTTL          = 15 * time.Second
	DefaultRenewEvery   = 3 * time.Second
	DefaultMargin       = 3 * time.Second
	DefaultScanEvery    = 2 * time.Second
	DefaultResidence    = 60 * time.Second
	DefaultMaxMoves     = 50
	DefaultDrainTimeout = 30 * time.Second
)

// ErrLeaseLost is the cause of the contexts Hold returns when the lease's local deadline
// passes (or another incarnation took the replica's id).
var ErrLeaseLost = errors.New("replica lease lost")

// Config configures a Replica.
type Config struct {
	// ID names the replica (the hostname by default); a restart under the same id
	// reclaims its nodes. Addr and Version are shown to operators.
	ID, Addr, Version string
	// ConductorGroup and Shards are the replica's scope: it may own only nodes in it.
	ConductorGroup string
	Shards         []string
	// RecordScope is the tracker's scope string (reconcile.Scope.String()): a node
	// claimed from a replica of another scope gets its tracker record moved to it in the
	// claim's transaction.
	RecordScope string
	// TTL is the lease's length; RenewEvery the renewal period; Margin how long before
	// the TTL (counted from when the last successful renewal was sent) owned work stops.
	TTL, RenewEvery, Margin time.Duration
	// ScanEvery is the period of ownership scans; HandoffPoll the period at which nodes
	// handed to this replica are looked for between scans (default ScanEvery/8).
	ScanEvery, HandoffPoll time.Duration
	// Residence is how long a node stays before a voluntary move; Warmup how long a new
	// replica waits before nodes are moved to it (default: TTL).
	Residence, Warmup time.Duration
	// MaxMoves bounds voluntary hand-offs per scan.
	MaxMoves int
	// DrainTimeout bounds the drain at shutdown.
	DrainTimeout time.Duration
	// Clock is the local clock (nil: System).
	Clock Clock
	// Logger receives a line per ownership change. Nil discards.
	Logger *slog.Logger
	// OnGain, when set, is called with the nodes this replica gained after a scan (the
	// tracker is kicked so that it writes them at once).
	OnGain func(nodes []string)
}

// Validate checks the timings: the lease must outlive several renewals and the margin.
func (c Config) Validate() error {
	if c.ID == "" {
		return errors.New("replica: an id is needed")
	}
	if c.RenewEvery <= 0 || c.ScanEvery <= 0 || c.Margin < 0 {
		return errors.New("replica: renew and scan periods must be positive, the margin not negative")
	}
	if c.TTL < 3*c.RenewEvery || c.TTL <= c.Margin+c.RenewEvery {
		return fmt.Errorf("replica: TTL %v must be at least 3 renew periods (%v) and exceed margin + renew period (%v)",
			c.TTL, c.RenewEvery, c.Margin+c.RenewEvery)
	}
	return nil
}

func (c *Config) defaults() {
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.RenewEvery <= 0 {
		c.RenewEvery = DefaultRenewEvery
	}
	if c.Margin <= 0 {
		c.Margin = DefaultMargin
	}
	if c.ScanEvery <= 0 {
		c.ScanEvery = DefaultScanEvery
	}
	if c.HandoffPoll <= 0 {
		c.HandoffPoll = max(20*time.Millisecond, c.ScanEvery/8)
	}
	if c.Residence <= 0 {
		c.Residence = DefaultResidence
	}
	if c.Warmup <= 0 {
		c.Warmup = c.TTL
	}
	if c.MaxMoves <= 0 {
		c.MaxMoves = DefaultMaxMoves
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.Clock == nil {
		c.Clock = System{}
	}
}

// Counters are the replica's running totals, for metrics.
type Counters struct {
	// Changes counts ownership changes this replica made, by reason: "claim", "expired",
	// "handoff" (taken from a peer that offered it), "self" (reclaimed at start), "move"
	// (taken from a peer of another scope), "offer" (offered to a peer).
	Changes map[string]uint64
	// RenewFailures counts failed renewals; LeaseLosses times the local deadline passed.
	RenewFailures, LeaseLosses uint64
	// Fenced counts writes the database rejected as stale (store.DB.FencedRejections).
	Fenced uint64
}

// Replica is one process's membership and node ownership. Create it with New, run it with
// Run (an app component: at the end of its context it drains), and give the tracker and
// the instance controller Hold, Owns and Schedules.
type Replica struct {
	db  *store.DB
	cfg Config
	log *slog.Logger
	inc string

	renewFailures, leaseLosses atomic.Uint64
	// abandon makes Run return at the end of its context without draining, as a crash
	// would leave things (tests).
	abandon atomic.Bool
	// renewFails, when set, makes renewals fail as a lost database connection would (tests).
	renewFails atomic.Bool

	mu          sync.Mutex
	deadline    time.Time // local clock; zero: no lease
	lease       context.Context
	leaseCancel context.CancelCauseFunc
	owned       map[string]int64
	members     []string // live, non-draining replicas at the last scan
	listed      map[string]store.NodeScope
	transit     map[string]bool // nodes Ironic showed mid-provision in the last listing
	ensured     map[string]store.NodeScope
	waiting     map[string]int
	offered     map[string]int
	// nodes is the node set the assignment spreads (NodeScopes), read every NodesEvery
	// scans or sooner when a scan's rows show a node it lacks or a changed scope; scans
	// counts the scans since it was read. Only the scanning goroutine uses them.
	nodes     []store.NodeScope
	nodeScope map[string]store.NodeScope
	scans     int
	draining  bool
	lastScan  time.Time
	changes   map[string]uint64
	fatal     error
}

// New returns the replica of cfg on db (PostgreSQL).
func New(db *store.DB, cfg Config) (*Replica, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !db.Postgres() {
		return nil, errors.New("replica: several replicas need PostgreSQL")
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	r := &Replica{db: db, cfg: cfg, log: cfg.Logger, inc: hex.EncodeToString(b[:]),
		owned: map[string]int64{}, listed: map[string]store.NodeScope{}, transit: map[string]bool{},
		ensured: map[string]store.NodeScope{}, waiting: map[string]int{}, offered: map[string]int{},
		changes: map[string]uint64{}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("replica", cfg.ID)
	r.lease, r.leaseCancel = context.WithCancelCause(context.Background())
	r.leaseCancel(ErrLeaseLost) // no lease until registered
	return r, nil
}

// Name names the component.
func (r *Replica) Name() string { return "replica " + r.cfg.ID }

// ID returns the replica's id; Incarnation this process's incarnation.
func (r *Replica) ID() string          { return r.cfg.ID }
func (r *Replica) Incarnation() string { return r.inc }

// Run registers the replica (reclaiming the nodes its id still owns, with their epochs
// bumped), then renews the lease every RenewEvery and scans ownership every ScanEvery
// until ctx ends; then it drains: marks itself draining, hands every node over, keeps
// renewing until it owns none, nobody can take them, or DrainTimeout passes, and deletes
// its row. It returns an error when another incarnation took its id.
func (r *Replica) Run(ctx context.Context) error {
	sent := r.cfg.Clock.Now()
	reclaimed, err := r.db.RegisterReplica(ctx, r.info(), r.cfg.TTL)
	if err != nil {
		return err
	}
	r.renewed(sent)
	for _, c := range reclaimed {
		r.count("self")
		r.logChange(c.Node, c.From, r.cfg.ID, c.Epoch, "self")
	}
	r.log.Info("replica registered", "incarnation", r.inc, "ttl", r.cfg.TTL, "renew_every", r.cfg.RenewEvery,
		"scan_every", r.cfg.ScanEvery, "reclaimed", len(reclaimed))

	// Renewals outlive ctx: they go on through the drain.
	rctx, stopRenew := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { r.renewLoop(rctx) })
	wg.Go(func() { r.watchdog(rctx) })
	defer func() {
		stopRenew()
		wg.Wait()
	}()

	// Between scans, nodes handed to this replica are taken every HandoffPoll, so a
	// hand-off waits a fraction of a scan. Both run on this goroutine, one at a time.
	// A failing poll is logged once until one succeeds: it runs 8 times a scan, and a
	// database outage would otherwise flood the log.
	nextScan := r.cfg.Clock.Now()
	pollFailing := false
	for {
		if err := r.failure(); err != nil {
			return err
		}
		if r.valid() {
			if !r.cfg.Clock.Now().Before(nextScan) {
				nextScan = r.cfg.Clock.Now().Add(r.cfg.ScanEvery)
				if _, err := r.scan(ctx); err != nil && ctx.Err() == nil {
					r.log.Warn("ownership scan failed", "error", err)
				}
			} else {
				err := r.takeHandedOver(ctx)
				switch {
				case err == nil:
					pollFailing = false
				case ctx.Err() != nil:
				case !pollFailing:
					pollFailing = true
					r.log.Warn("taking handed-over nodes failed (not logged again until it works)", "error", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			if r.abandon.Load() {
				r.loseLease("abandoned")
				return nil
			}
			return r.drain(context.WithoutCancel(ctx))
		case <-r.cfg.Clock.After(min(r.cfg.HandoffPoll, max(0, nextScan.Sub(r.cfg.Clock.Now())))):
		}
	}
}

// takeHandedOver claims the nodes other replicas are handing to this one.
func (r *Replica) takeHandedOver(ctx context.Context) error {
	nodes, err := r.db.HandedTo(ctx, r.cfg.ID)
	if err != nil || len(nodes) == 0 {
		return err
	}
	claimed, err := r.db.ClaimNodes(ctx, r.cfg.ID, r.cfg.RecordScope, nodes)
	if err != nil {
		return err
	}
	var gained []string
	r.mu.Lock()
	valid := r.validLocked()
	for _, c := range claimed {
		r.changes["handoff"]++
		r.logChange(c.Node, c.From, r.cfg.ID, c.Epoch, "handoff")
		if valid {
			r.owned[c.Node] = c.Epoch
			gained = append(gained, c.Node)
		}
	}
	onGain := r.cfg.OnGain
	r.mu.Unlock()
	if len(gained) > 0 && onGain != nil {
		onGain(gained)
	}
	return nil
}

func (r *Replica) info() store.ReplicaInfo {
	return store.ReplicaInfo{ID: r.cfg.ID, Incarnation: r.inc, Version: r.cfg.Version, Addr: r.cfg.Addr,
		ConductorGroup: r.cfg.ConductorGroup, Shards: r.cfg.Shards}
}

func (r *Replica) failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

// renewLoop renews the lease every RenewEvery; each attempt is bounded by TTL - Margin.
func (r *Replica) renewLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.cfg.Clock.After(r.cfg.RenewEvery):
		}
		sent := r.cfg.Clock.Now()
		cctx, cancel := context.WithTimeout(ctx, r.cfg.TTL-r.cfg.Margin)
		var err error
		if r.renewFails.Load() {
			err = errors.New("renewal failed (test)")
		} else {
			_, err = r.db.RenewReplica(cctx, r.cfg.ID, r.inc, r.cfg.TTL)
		}
		cancel()
		switch {
		case err == nil:
			r.renewed(sent)
		case errors.Is(err, store.ErrReplicaReplaced):
			r.loseLease("another incarnation took the replica's id")
			r.mu.Lock()
			r.fatal = fmt.Errorf("replica %s: %w", r.cfg.ID, err)
			r.mu.Unlock()
			return
		case ctx.Err() != nil:
			return
		default:
			r.renewFailures.Add(1)
			r.log.Warn("lease renewal failed", "error", err, "lease_left", r.left())
		}
	}
}

// watchdog stops owned work as soon as the local deadline passes without a renewal.
func (r *Replica) watchdog(ctx context.Context) {
	tick := max(10*time.Millisecond, min(100*time.Millisecond, r.cfg.RenewEvery/10))
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.cfg.Clock.After(tick):
		}
		r.mu.Lock()
		expired := !r.deadline.IsZero() && !r.cfg.Clock.Now().Before(r.deadline)
		r.mu.Unlock()
		if expired {
			r.loseLease("local deadline passed without a renewal")
		}
	}
}

// renewed moves the local deadline to sent + TTL - Margin; a replica that had lost its
// lease starts a new one (its nodes are read afresh by the next scan).
func (r *Replica) renewed(sent time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := sent.Add(r.cfg.TTL - r.cfg.Margin)
	if !r.cfg.Clock.Now().Before(d) {
		return // the answer came too late to count
	}
	if r.deadline.IsZero() {
		r.lease, r.leaseCancel = context.WithCancelCause(context.Background())
		r.log.Info("lease held", "deadline_in", d.Sub(r.cfg.Clock.Now()))
	}
	r.deadline = d
}

// loseLease stops all owned work at once: the lease context ends (cancelling the owned
// work's contexts), and nothing is owned until a renewal and a scan say otherwise.
func (r *Replica) loseLease(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.deadline.IsZero() {
		return
	}
	r.deadline = time.Time{}
	r.leaseCancel(ErrLeaseLost)
	n := len(r.owned)
	r.owned = map[string]int64{}
	r.leaseLosses.Add(1)
	r.log.Warn("lease lost: owned work stopped", "why", why, "nodes", n)
}

func (r *Replica) valid() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.validLocked()
}

func (r *Replica) validLocked() bool {
	return !r.deadline.IsZero() && r.cfg.Clock.Now().Before(r.deadline)
}

func (r *Replica) left() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.deadline.IsZero() {
		return 0
	}
	return r.deadline.Sub(r.cfg.Clock.Now())
}

// Hold returns what owned work may do now: a context derived from ctx that also ends when
// the lease is lost, a function releasing it, and the fence (this replica and the epochs
// of the nodes it owns) its writes must carry. The fence is nil when the replica holds no
// lease: then nothing may be done.
func (r *Replica) Hold(ctx context.Context) (context.Context, func(), *store.Fence) {
	r.mu.Lock()
	if !r.validLocked() {
		r.mu.Unlock()
		return ctx, func() {}, nil
	}
	f := &store.Fence{Replica: r.cfg.ID, Epochs: maps.Clone(r.owned)}
	lease := r.lease
	r.mu.Unlock()
	c, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(lease, func() { cancel(ErrLeaseLost) })
	return c, func() { stop(); cancel(nil) }, f
}

// Owns reports whether the replica owns node at epoch and its local deadline holds: the
// check before every mutating Ironic call.
func (r *Replica) Owns(node string, epoch int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.owned[node]
	return ok && e == epoch && r.validLocked()
}

// Lost drops node from the owned set (a write for it was rejected as stale) until a scan
// finds it owned again.
func (r *Replica) Lost(node string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.owned[node]; ok {
		delete(r.owned, node)
		r.log.Warn("ownership lost: a write was fenced", "node", node)
	}
}

// Schedules reports whether this replica schedules the instance (one without a node yet):
// the rendezvous choice among the live, non-draining replicas of the last scan, so that
// one replica schedules it (a claim is a compare-and-swap, so two would still be safe).
func (r *Replica) Schedules(instance string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.validLocked() && !r.draining && Desired(instance, r.members) == r.cfg.ID
}

// transitional are Ironic provision states with an action in flight.
var transitional = map[string]bool{"deploying": true, "wait call-back": true, "deleting": true, "cleaning": true,
	"clean wait": true, "rescuing": true, "rescue wait": true, "unrescuing": true, "inspecting": true,
	"inspect wait": true, "servicing": true, "service wait": true, "adopting": true, "verifying": true}

// ObserveNodes takes a listing of the replica's scope (the tracker's), so that the next
// scan creates ownership rows for new nodes and records nodes that moved.
func (r *Replica) ObserveNodes(nodes []ironic.Node) {
	listed := make(map[string]store.NodeScope, len(nodes))
	transit := map[string]bool{}
	for _, n := range nodes {
		listed[n.UUID] = store.NodeScope{Node: n.UUID, ConductorGroup: n.ConductorGroup, Shard: n.Shard}
		if transitional[n.ProvisionState] {
			transit[n.UUID] = true
		}
	}
	r.mu.Lock()
	r.listed, r.transit = listed, transit
	r.mu.Unlock()
}

// NodesEvery is how many scans the node set of the assignment is kept before it is read
// again (sooner when a scan shows a node it lacks or a changed scope): the one read of
// every ownership row, so a scan reads the whole table only every NodesEvery scans.
const NodesEvery = 5

// readNodes reads the node set when it is due or owners show it is out of date.
func (r *Replica) readNodes(ctx context.Context, owners []store.NodeOwner) error {
	r.scans++
	due := r.nodeScope == nil || r.scans >= NodesEvery
	for _, o := range owners {
		if due {
			break
		}
		n, ok := r.nodeScope[o.Node]
		due = !ok || n.ConductorGroup != o.ConductorGroup || n.Shard != o.Shard
	}
	if !due {
		return nil
	}
	nodes, err := r.db.NodeScopes(ctx)
	if err != nil {
		return err
	}
	r.nodes, r.scans = nodes, 0
	r.nodeScope = make(map[string]store.NodeScope, len(nodes))
	for _, n := range nodes {
		r.nodeScope[n.Node] = n
	}
	return nil
}

// scanResult is what a scan found of this replica's own nodes.
type scanResult struct {
	mine    int // rows naming this replica (pending hand-offs included)
	offered int // hand-offs made or pending
}

// scan reads the membership and the owners, plans, and carries out the claims and
// hand-offs; it then sets the owned set from what the database says.
func (r *Replica) scan(ctx context.Context) (scanResult, error) {
	var res scanResult
	if err := r.ensureRows(ctx); err != nil {
		return res, err
	}
	members, err := r.db.ReplicaMembers(ctx)
	if err != nil {
		return res, err
	}
	owners, err := r.db.NodeOwnersFor(ctx, r.cfg.ID)
	if err != nil {
		return res, err
	}
	if err := r.readNodes(ctx, owners); err != nil {
		return res, err
	}
	busy, err := r.db.BusyNodes(ctx)
	if err != nil {
		return res, err
	}
	r.mu.Lock()
	for n := range r.transit {
		busy[n] = true
	}
	in := Input{Me: r.cfg.ID, Draining: r.draining, Members: members, Owners: owners, Nodes: r.nodes, Busy: busy,
		Warmup: r.cfg.Warmup, Residence: r.cfg.Residence, MaxMoves: r.cfg.MaxMoves,
		Waiting: r.waiting, Offered: r.offered}
	r.mu.Unlock()
	act := Plan(in)
	from := map[string]store.NodeOwner{}
	for _, o := range owners {
		if o.Replica == r.cfg.ID {
			res.mine++
		}
		from[o.Node] = o
	}
	byID := make(map[string]Member, len(members))
	for _, m := range members {
		byID[m.ID] = m
	}

	// Stop working on the nodes being handed over before offering them.
	r.mu.Lock()
	for _, m := range act.HandOff {
		delete(r.owned, m.Node)
	}
	r.mu.Unlock()
	if len(act.HandOff) > 0 {
		nodes := make([]string, len(act.HandOff))
		epochs := make([]int64, len(act.HandOff))
		targets := make([]string, len(act.HandOff))
		for i, m := range act.HandOff {
			nodes[i], epochs[i], targets[i] = m.Node, m.Epoch, m.To
		}
		offered, err := r.db.HandOffs(ctx, r.cfg.ID, nodes, epochs, targets)
		if err != nil {
			return res, err
		}
		ok := make(map[string]bool, len(offered))
		for _, n := range offered {
			ok[n] = true
		}
		for _, m := range act.HandOff {
			if ok[m.Node] {
				act.Offered[m.Node] = 1
				r.count("offer")
				r.log.Info("ownership change", "node", m.Node, "from", r.cfg.ID, "to", m.To, "epoch", m.Epoch, "reason", "offer")
			}
		}
	}
	res.offered = len(act.Offered)
	for _, m := range act.Cancel {
		ok, err := r.db.CancelHandOff(ctx, m.Node, r.cfg.ID, m.Epoch)
		if err != nil {
			return res, err
		}
		if ok && !r.isDraining() {
			act.Owned[m.Node] = m.Epoch
			r.log.Info("hand-off withdrawn: not taken in time", "node", m.Node, "to", from[m.Node].HandoffTo, "epoch", m.Epoch)
		}
	}
	var gained []string
	if len(act.Claim) > 0 {
		claimed, err := r.db.ClaimNodes(ctx, r.cfg.ID, r.cfg.RecordScope, act.Claim)
		if err != nil {
			return res, err
		}
		for _, c := range claimed {
			reason := c.Reason
			if prev, ok := byID[c.From]; ok && reason == "handoff" && prev.Live &&
				!Eligible(prev, from[c.Node].ConductorGroup, from[c.Node].Shard) && !prev.Draining {
				reason = "move"
			}
			r.count(reason)
			r.logChange(c.Node, c.From, r.cfg.ID, c.Epoch, reason)
			act.Owned[c.Node] = c.Epoch
			gained = append(gained, c.Node)
			delete(act.Waiting, c.Node)
		}
	}

	live := make([]string, 0, len(members))
	for _, m := range members {
		if m.Live && !m.Draining {
			live = append(live, m.ID)
		}
	}
	r.mu.Lock()
	if !r.validLocked() {
		// The lease ended during the scan: own nothing (claims made are fenced by their
		// epochs and are taken up again after the next renewal's scan).
		r.mu.Unlock()
		return res, nil
	}
	for n := range r.owned {
		if _, ok := act.Owned[n]; !ok {
			// A node another live replica owns now is not in the scan's rows.
			if o, read := from[n]; !read {
				r.log.Warn("ownership lost: owned by another replica, or its row is gone", "node", n)
			} else if o.Replica != r.cfg.ID && o.Replica != "" {
				r.log.Warn("ownership lost: taken by another replica", "node", n, "to", o.Replica, "epoch", o.Epoch)
			}
		}
	}
	for n := range act.Owned {
		if _, ok := r.owned[n]; !ok && !slices.Contains(gained, n) {
			gained = append(gained, n)
		}
	}
	r.owned = act.Owned
	r.members = live
	r.waiting, r.offered = act.Waiting, act.Offered
	r.lastScan = r.cfg.Clock.Now()
	onGain := r.cfg.OnGain
	r.mu.Unlock()
	if len(gained) > 0 && onGain != nil {
		onGain(gained)
	}
	return res, nil
}

// ensureRows creates the ownership rows of listed nodes that have none and updates those
// whose node moved; only what changed since the last successful call is sent.
func (r *Replica) ensureRows(ctx context.Context) error {
	r.mu.Lock()
	var todo []store.NodeScope
	for id, s := range r.listed {
		if r.ensured[id] != s {
			todo = append(todo, s)
		}
	}
	r.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	// In key order: replicas upserting the same new rows at once then take their locks in
	// the same order (map order made them deadlock, measured with bench/replicasim).
	slices.SortFunc(todo, func(a, b store.NodeScope) int { return strings.Compare(a.Node, b.Node) })
	if _, err := r.db.EnsureNodeOwners(ctx, todo); err != nil {
		return err
	}
	r.mu.Lock()
	for _, s := range todo {
		r.ensured[s.Node] = s
	}
	r.mu.Unlock()
	return nil
}

func (r *Replica) isDraining() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.draining
}

func (r *Replica) count(reason string) {
	r.mu.Lock()
	r.changes[reason]++
	r.mu.Unlock()
}

func (r *Replica) logChange(node, from, to string, epoch int64, reason string) {
	r.log.Info("ownership change", "node", node, "from", from, "to", to, "epoch", epoch, "reason", reason)
}

// drain hands every node over and leaves (see Run).
func (r *Replica) drain(ctx context.Context) error {
	start := r.cfg.Clock.Now()
	r.log.Info("draining: handing nodes over", "timeout", r.cfg.DrainTimeout)
	if err := r.db.SetReplicaDraining(ctx, r.cfg.ID, r.inc); err != nil {
		r.log.Warn("drain: cannot mark the replica draining", "error", err)
	}
	r.mu.Lock()
	r.draining = true
	r.mu.Unlock()
	left := 0
	for {
		if err := r.failure(); err != nil {
			return err
		}
		if !r.valid() {
			r.log.Warn("drain: lease lost; leaving the nodes to expire")
			break
		}
		res, err := r.scan(ctx)
		if err != nil {
			r.log.Warn("drain: scan failed", "error", err)
		} else {
			left = res.mine
			if res.mine == 0 {
				break
			}
			if res.offered == 0 {
				r.log.Warn("drain: no replica can take the remaining nodes", "nodes", res.mine)
				break
			}
		}
		if r.cfg.Clock.Now().Sub(start) >= r.cfg.DrainTimeout {
			r.log.Warn("drain: timed out", "nodes_left", left)
			break
		}
		<-r.cfg.Clock.After(min(r.cfg.ScanEvery, 250*time.Millisecond))
	}
	r.loseLease("drained")
	if err := r.db.DeleteReplica(ctx, r.cfg.ID, r.inc); err != nil {
		r.log.Warn("drain: cannot delete the replica's row; its lease will expire", "error", err)
	}
	r.log.Info("replica left", "drain", r.cfg.Clock.Now().Sub(start), "nodes_left", left)
	return nil
}

// Status is the replica's own view, for operators.
type Status struct {
	ID, Incarnation string
	Draining        bool
	// LeaseLeft is the time to the local deadline (0: no lease).
	LeaseLeft time.Duration
	Owned     int
}

// Status returns the replica's own view.
func (r *Replica) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Status{ID: r.cfg.ID, Incarnation: r.inc, Draining: r.draining, Owned: len(r.owned)}
	if r.validLocked() {
		s.LeaseLeft = r.deadline.Sub(r.cfg.Clock.Now())
	}
	return s
}

// Counters returns the running totals.
func (r *Replica) Counters() Counters {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Counters{Changes: maps.Clone(r.changes), RenewFailures: r.renewFailures.Load(),
		LeaseLosses: r.leaseLosses.Load(), Fenced: r.db.FencedRejections()}
}

// Owned returns the nodes the replica owns now with their epochs (a copy).
func (r *Replica) Owned() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.validLocked() {
		return map[string]int64{}
	}
	return maps.Clone(r.owned)
}
