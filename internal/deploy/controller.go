package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/ironic"
	"ingot/internal/metrics"
	"ingot/internal/placement"
	"ingot/internal/reconcile"
	"ingot/internal/safe"
	"ingot/internal/store"
)

// Defaults for the zero values in Config.
const (
	DefaultDeployTimeout = 30 * time.Minute
	DefaultMaxAttempts   = 3
	DefaultWatchInterval = time.Second
	DefaultWorkers       = 64
	DefaultWatchGets     = 2
	DefaultCheckEvery    = 60
)

// Config configures a Controller.
type Config struct {
	// DeployTimeout bounds a deploy on one node, from the lock to active; a node that
	// takes longer is torn down and the instance rescheduled.
	DeployTimeout time.Duration
	// MaxAttempts is how many nodes an instance's deploy is tried on before it ends in
	// error (nodes skipped before their lock do not count).
	MaxAttempts int
	// Weigher ranks the candidate nodes.
	Weigher Weigher
	// WatchInterval is the time between ticks: each tick watches the in-flight nodes
	// (one ChangedNodes request, or at most WatchGets GETs when Ironic cannot sort by
	// provision_updated_at) and steps the instances that need it.
	WatchInterval time.Duration
	// Workers bounds the instance steps that run at once. A step carries an instance
	// from claim to the deploy request (four Ironic writes), so with fewer workers than
	// concurrent creates the last ones are locked only after the first have deployed.
	Workers int
	// WatchGets bounds the fallback watch's GETs per tick.
	WatchGets int
	// CheckEvery runs the invariant check every this many ticks (and once at start).
	CheckEvery int
	// Scope filters the watch listing (conductor group, shards), as the tracker's.
	Scope reconcile.Scope
	// Refresh, when set, makes the resource tracker apply its rules to the given nodes
	// now (reconcile.Reconciler.Refresh): a node that Ironic started cleaning gets its
	// inventory reserved before the instance's allocation is removed, instead of at the
	// tracker's next pass.
	Refresh func(ctx context.Context, nodes []ironic.Node) error
	// Logger receives one line per state change and per problem. Nil discards.
	Logger *slog.Logger
	// Rand breaks scheduling ties; nil means math/rand/v2's global source.
	Rand rand.Source
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Metrics, when not nil, receives every instance write (deploys and tear-downs
	// ending, reschedules, faults).
	Metrics *metrics.Instances
	// Ownership, when set (replicas sharing PostgreSQL), restricts the controller to the
	// instances on nodes this replica owns (and those without a node it is to schedule),
	// fences their writes with the node's epoch, and is asked before every mutating
	// Ironic request; nil: every instance is the controller's (SQLite).
	Ownership Ownership
}

// Ownership is what the controller needs of a replica's node ownership (package replica).
type Ownership interface {
	// Hold returns a context that also ends when the lease is lost, a function releasing
	// it, and the fence of the nodes owned now (nil: no lease, do nothing).
	Hold(ctx context.Context) (context.Context, func(), *store.Fence)
	// Owns reports whether the replica owns node at epoch and its lease's local deadline
	// holds.
	Owns(node string, epoch int64) bool
	// Schedules reports whether this replica schedules an instance that has no node yet.
	Schedules(instance string) bool
}

// errNotOwner stops a step whose replica does not own the node (any more).
var errNotOwner = errors.New("this replica does not own the node")

// Controller runs instances through their life on Ironic. Create it with New and run it
// with Run; Kick asks for a tick now, ObserveNodes feeds it the tracker's listings.
type Controller struct {
	ironic *ironic.Client
	db     *store.DB
	cfg    Config
	log    *slog.Logger
	kick   chan struct{}
	sem    chan struct{}
	wg     sync.WaitGroup

	randMu sync.Mutex
	rand   *rand.Rand

	mu        sync.Mutex
	obs       map[string]Observation // node UUID -> what was last seen of it
	tenancy   map[string]Tenancy
	running   map[string]bool // instances being stepped
	watermark time.Time
	lastWatch time.Time // when the last watch was sent: at most one per WatchInterval
	watchPage int       // the next watch's first page: twice the last watch's changes
	fallback  bool      // Ironic cannot sort by provision_updated_at: watch by GETs
	rr        int       // the fallback watch's round-robin position
	ticks     int
	listing   []ironic.Node // the tracker's last listing, for the invariant check
	checkSoon bool          // the first listing arrived: check the invariants next tick
	// cleaning are nodes given back while Ironic still cleaned them: watched until
	// available, then refreshed, so they are offered again within a tick. A new
	// controller starts it from the tracker's records (seedCleaning).
	cleaning map[string]bool
	seeded   bool

	// locking counts the instances being scheduled and locked; deploys wait for it (see
	// deferDeploy).
	locking    *gate
	deferred   map[string]time.Time // instances whose deploy waits for locking, since when
	kickOnIdle bool                 // a kick is due once locking is idle

	requests Requests
	maxMoves int // decisions one Step acts on (tests lower it to stop between steps)
}

// Requests counts the controller's Ironic requests by purpose.
type Requests struct {
	Watch, Get, Lock, Info, Validate, Provision, Unprovision, Unlock atomic.Int64
}

// Total is the sum of all counts.
func (r *Requests) Total() int64 {
	return r.Watch.Load() + r.Get.Load() + r.Lock.Load() + r.Info.Load() + r.Validate.Load() +
		r.Provision.Load() + r.Unprovision.Load() + r.Unlock.Load()
}

// New returns a Controller that drives client's Ironic and keeps its records in db.
func New(client *ironic.Client, db *store.DB, cfg Config) *Controller {
	if cfg.DeployTimeout <= 0 {
		cfg.DeployTimeout = DefaultDeployTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.WatchInterval <= 0 {
		cfg.WatchInterval = DefaultWatchInterval
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.WatchGets <= 0 {
		cfg.WatchGets = DefaultWatchGets
	}
	if cfg.CheckEvery <= 0 {
		cfg.CheckEvery = DefaultCheckEvery
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Controller{
		ironic: client, db: db, cfg: cfg, log: cfg.Logger,
		kick:     make(chan struct{}, 1),
		sem:      make(chan struct{}, cfg.Workers),
		obs:      map[string]Observation{},
		tenancy:  map[string]Tenancy{},
		running:  map[string]bool{},
		maxMoves: maxMoves,
		cleaning: map[string]bool{},
		locking:  newGate(),
		deferred: map[string]time.Time{},
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Rand != nil {
		c.rand = rand.New(cfg.Rand)
	} else {
		c.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return c
}

// Name names the controller as an app component.
func (c *Controller) Name() string { return "instance controller" }

// Requests returns the counters of Ironic requests made so far.
func (c *Controller) Requests() *Requests { return &c.requests }

// Kick asks for a tick as soon as possible (after a create or a delete). It never blocks.
func (c *Controller) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Run checks the invariants, then ticks every WatchInterval (or when kicked) until ctx
// ends; it then waits for the steps under way and returns nil.
func (c *Controller) Run(ctx context.Context) error {
	c.log.Info("instance controller started", "watch_interval", c.cfg.WatchInterval,
		"deploy_timeout", c.cfg.DeployTimeout, "max_attempts", c.cfg.MaxAttempts, "weigher", string(c.cfg.Weigher.Mode))
	defer c.wg.Wait()
	t := time.NewTicker(c.cfg.WatchInterval)
	defer t.Stop()
	for {
		if err := safe.Do(func() error { return c.Tick(ctx) }); err != nil && ctx.Err() == nil {
			c.log.Warn("instance controller tick failed", "error", err)
		}
		select {
		case <-ctx.Done():
			c.log.Info("instance controller stopped")
			return nil
		case <-t.C:
		case <-c.kick:
		}
	}
}

// Tick watches the in-flight nodes once and starts a step for every instance that is
// building or deleting, has something to do (Decide, on what is known of its node) and is
// not being stepped already; it does not wait for the steps.
// Every CheckEvery ticks, on the first, and on the first after the tracker's first listing
// arrived, it checks the invariants first.
func (c *Controller) Tick(ctx context.Context) error {
	if c.ironic.Version().IsZero() {
		// Every read asks for fields by the negotiated version (see fields).
		if _, err := c.ironic.Negotiate(ctx); err != nil {
			return err
		}
	}
	c.mu.Lock()
	first := !c.seeded
	check := c.ticks%c.cfg.CheckEvery == 0 || c.checkSoon
	c.ticks++
	c.checkSoon = false
	c.mu.Unlock()
	if first {
		if err := c.seedCleaning(ctx); err != nil {
			return err
		}
	}
	if check {
		if _, err := c.Check(ctx); err != nil {
			c.log.Warn("invariant check failed", "error", err)
		}
	}
	insts, err := c.db.ListInstances(ctx, store.InstanceFilter{
		States: []baremetal.State{baremetal.StateBuilding, baremetal.StateDeleting}})
	if err != nil {
		return err
	}
	if own := c.cfg.Ownership; own != nil {
		_, release, f := own.Hold(ctx)
		release()
		if f == nil {
			return nil // no lease: nothing is ours
		}
		mine := insts[:0:0]
		for _, in := range insts {
			if _, ok := f.Epochs[in.Node]; ok || in.Node == "" && own.Schedules(in.UUID) {
				mine = append(mine, in)
			}
		}
		insts = mine
	}
	c.forgetDeferred(insts)
	if err := c.watch(ctx, insts); err != nil && ctx.Err() == nil {
		c.log.Warn("watching nodes failed", "error", err)
	}
	now := c.cfg.Now()
	for _, in := range insts {
		// Instances waiting on Ironic cost nothing: no goroutine, no read.
		d := Decide(in, c.observation(in.Node), now, c.cfg.DeployTimeout)
		if d.Action == Wait || d.Action == DoUnchanged {
			continue
		}
		c.start(ctx, in.UUID, claims(d.Action))
	}
	return nil
}

// start runs a step of the instance in its own goroutine unless one is running. claiming
// says the step starts by scheduling or locking: it counts in c.locking from now (also
// while it waits for a worker) until it is past its lock.
func (c *Controller) start(ctx context.Context, uuid string, claiming bool) {
	c.mu.Lock()
	if c.running[uuid] {
		c.mu.Unlock()
		return
	}
	c.running[uuid] = true
	c.mu.Unlock()
	done := func() {}
	if claiming {
		done = c.locking.enter()
	}
	c.wg.Go(func() {
		defer done()
		defer func() {
			c.mu.Lock()
			delete(c.running, uuid)
			c.mu.Unlock()
		}()
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-c.sem }()
		if err := safe.Do(func() error { return c.step(ctx, uuid, done) }); err != nil && ctx.Err() == nil {
			attrs := []any{"instance", uuid, "error", err}
			if pe, ok := errors.AsType[*safe.PanicError](err); ok {
				attrs = append(attrs, "stack", string(pe.Stack))
			}
			c.log.Warn("instance step failed", attrs...)
		}
	})
}

// Wait waits for the steps under way.
func (c *Controller) Wait() { c.wg.Wait() }

// maxMoves bounds the decisions one Step acts on before it leaves the rest to the next
// tick.
const maxMoves = 12

// Step moves the instance as far as it can go now: it decides, acts, and decides again
// until the decision is to wait. Each action is idempotent and reads what it acts on, so
// a step that stops anywhere (crash, error) is finished by a later one.
func (c *Controller) Step(ctx context.Context, uuid string) error {
	return c.step(ctx, uuid, func() {})
}

// step is Step; lockDone ends the step's count in c.locking once the instance is past its
// lock (see start).
func (c *Controller) step(ctx context.Context, uuid string, lockDone func()) error {
	outer := ctx
	var fence *store.Fence
	for range c.maxMoves {
		in, err := c.db.Instance(outer, uuid)
		if err != nil {
			return err
		}
		if own := c.cfg.Ownership; own != nil {
			if fence == nil {
				hctx, release, f := own.Hold(outer)
				defer release()
				if f == nil {
					return nil
				}
				outer, fence = hctx, f
			}
			// The instance's writes carry its node's epoch; one without a node is
			// scheduled by one replica (its claim is a compare-and-swap on the record).
			ctx = outer
			if in.Node == "" {
				if !own.Schedules(in.UUID) {
					return nil
				}
				ctx = store.WithFence(outer, nil)
			} else if e, ok := fence.Epochs[in.Node]; ok {
				ctx = store.WithFence(outer, &store.Fence{Replica: fence.Replica, Epochs: map[string]int64{in.Node: e}})
				ctx = ironic.WithFenceHeader(ctx, fence.Replica+"/"+strconv.FormatInt(e, 10))
			} else {
				return nil // the node's owner steps it
			}
		}
		obs := c.observation(in.Node)
		d := Decide(in, obs, c.cfg.Now(), c.cfg.DeployTimeout)
		if !claims(d.Action) {
			lockDone() // past its lock: no longer holds up others' deploys
		}
		switch d.Action {
		case Wait, DoUnchanged:
			return nil
		case DoSchedule, DoDeleted:
		case DoLock:
			// No read first: the lock judges the node by Ironic's answer to the PATCH and
			// gives it back if it is unusable (one request instead of two).
		case DoDeploy:
			if c.deferDeploy(in.UUID) {
				return nil // stepped again once the locks under way are done
			}
			fallthrough
		default:
			// Act on a fresh reading of the node: for the actions whose mistake Ironic
			// itself refuses or that cannot be wrong (deploy, undeploy, recording a lock or
			// active), one this tick's watch or this step's own request just returned;
			// for the others (lock, unlock, release, a failure) a GET now.
			if skipRead[d.Action] && obs.Fresh(c.cfg.Now(), freshFor) || d.Action == DoUndeploy && obs.Seen {
				// A tear-down asked of a node that is past it is refused by Ironic
				// (400, 409): the step then waits and reads the node again.
				break
			}
			if obs, err = c.get(ctx, in.Node); err != nil {
				return err
			}
			d = Decide(in, obs, c.cfg.Now(), c.cfg.DeployTimeout)
		}
		more, err := c.act(ctx, in, obs, d)
		if errors.Is(err, errNotOwner) || errors.Is(err, store.ErrFenced) {
			c.log.Info("instance step stopped: the node is no longer this replica's", "instance", in.UUID,
				"node", in.Node, "action", d.Action)
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", d.Action, err)
		}
		if !more {
			return nil
		}
	}
	return nil
}

// act carries out d; more reports whether the instance may be stepped again at once.
func (c *Controller) act(ctx context.Context, in baremetal.Instance, obs Observation, d Decision) (more bool, err error) {
	switch d.Action {
	case Wait, DoUnchanged:
		return false, nil
	case DoSchedule:
		return c.schedule(ctx, in)
	case DoLock:
		return c.lock(ctx, in, obs)
	case DoLocked:
		next := in
		next.Locked, next.Task, next.Attempts = true, baremetal.TaskDeploying, in.Attempts+1
		return c.update(ctx, in, next, "locked node", "node", in.Node)
	case DoDeploy:
		return c.deploy(ctx, in, obs)
	case DoActive:
		next := in
		next.State, next.Task, next.Fault = baremetal.StateActive, baremetal.TaskNone, nil
		return c.update(ctx, in, next, "instance active", "node", in.Node)
	case DoFail:
		next := in
		next.Task, next.Fault = baremetal.TaskRescheduling, d.Fault
		next.Excluded = appendNew(in.Excluded, in.Node)
		return c.update(ctx, in, next, "deploy failed on node", "node", in.Node, "fault", d.Fault.Message)
	case DoUndeploy:
		return c.undeploy(ctx, in, obs)
	case DoUnlock:
		return c.unlock(ctx, in)
	case DoRelease:
		return c.release(ctx, in, obs)
	case DoDeleted:
		next := in
		next.State, next.Task, next.Locked = baremetal.StateDeleted, baremetal.TaskNone, false
		_, err := c.db.ReleaseInstance(ctx, next)
		if err != nil {
			return c.lost(err)
		}
		c.cfg.Metrics.Moved(in, next, c.cfg.Now())
		c.log.Info("instance deleted", "instance", in.UUID)
		return false, nil
	}
	return false, fmt.Errorf("unknown action %q", d.Action)
}

// guard is asked before every mutating Ironic request for node: with Ownership, the
// replica must still own the node at the epoch the step's fence carries, within its
// lease's local deadline.
func (c *Controller) guard(ctx context.Context, node string) error {
	own := c.cfg.Ownership
	if own == nil {
		return nil
	}
	f := store.FenceFrom(ctx)
	if f == nil {
		return errNotOwner
	}
	e, ok := f.Epochs[node]
	if !ok || !own.Owns(node, e) {
		return errNotOwner
	}
	return nil
}

// update writes next over prev (compare-and-swap on its generation) and logs msg.
func (c *Controller) update(ctx context.Context, prev, next baremetal.Instance, msg string, attrs ...any) (bool, error) {
	if _, err := c.db.UpdateInstance(ctx, next); err != nil {
		return c.lost(err)
	}
	c.cfg.Metrics.Moved(prev, next, c.cfg.Now())
	c.log.Info(msg, append([]any{"instance", next.UUID, "state", string(next.State), "task", string(next.Task)}, attrs...)...)
	return true, nil
}

// lost turns a lost compare-and-swap (someone else wrote the record: a delete, another
// replica) into "step again from a fresh read".
func (c *Controller) lost(err error) (bool, error) {
	if errors.Is(err, placement.ErrConflict) {
		return true, nil
	}
	return false, err
}

// schedule chooses a node for the instance and claims it, trying the next candidate when
// a claim loses a race. With no candidate left it ends the instance in error.
func (c *Controller) schedule(ctx context.Context, in baremetal.Instance) (bool, error) {
	view, err := c.db.View(ctx)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	tenancy := c.tenancy
	c.mu.Unlock()
	c.randMu.Lock()
	r := rand.New(rand.NewPCG(c.rand.Uint64(), c.rand.Uint64()))
	c.randMu.Unlock()
	sin := ScheduleInput{View: view, Request: in.Spec.Request, ProjectID: in.ProjectID,
		Excluded: in.Excluded, Tenancy: tenancy, Weigher: c.cfg.Weigher, Rand: r}
	nodes, serr := Schedule(sin)
	if serr != nil || len(nodes) == 0 {
		msg := "No node fits the request"
		if serr != nil {
			msg += ": " + serr.Error()
		} else {
			sin.Nodes = c.lastSeen()
			msg += ": " + ExplainSchedule(sin).String()
		}
		if in.Fault != nil {
			msg += "; the last attempt failed: " + in.Fault.Message
		}
		next := in
		next.State, next.Task = baremetal.StateError, baremetal.TaskNone
		next.Fault = &baremetal.Fault{Code: ErrNoValidHost, Message: msg, Time: c.cfg.Now()}
		return c.update(ctx, in, next, "no valid node", "fault", msg)
	}
	rc := reconcile.ResourceClass(in.Spec.Request.ResourceClass)
	for i, node := range nodes {
		if i == maxClaimTries {
			break
		}
		next := in
		next.Node, next.Task, next.Locked = node, baremetal.TaskLocking, false
		if _, err := c.db.ClaimInstance(ctx, next, rc); err != nil {
			if !errors.Is(err, placement.ErrConflict) {
				return false, err
			}
			cur, rerr := c.db.Instance(ctx, in.UUID)
			if rerr != nil {
				return false, rerr
			}
			if cur.Generation != in.Generation {
				return true, nil // the record moved on (deleted?): decide again
			}
			continue // the node was taken: the next candidate
		}
		c.log.Info("claimed node", "instance", in.UUID, "node", node, "candidates", len(nodes))
		return true, nil
	}
	return false, nil // every tried candidate was taken meanwhile: next tick, fresh view
}

// skipRead are the actions a step may take on a fresh watched reading (see Step).
var skipRead = map[Action]bool{DoDeploy: true, DoUndeploy: true, DoLocked: true, DoActive: true}

// freshFor is how old a reading of a node may be for a step to act on it without reading
// it again: about one tick's watch.
const freshFor = 500 * time.Millisecond

// maxClaimTries bounds the candidates one schedule tries to claim.
const maxClaimTries = 8

// lock takes Ironic's lock on the claimed node: PATCH instance_uuid once, without retry on
// 409. A node that is unavailable, taken, or not the project's is skipped: the claim is
// released (the node excluded) and the instance scheduled again.
func (c *Controller) lock(ctx context.Context, in baremetal.Instance, obs Observation) (bool, error) {
	if !obs.Fresh(c.cfg.Now(), freshFor) {
		obs = Observation{} // too old to judge the node by: Ironic's answer decides
	} else if reason := unusable(in, obs); reason != "" {
		return c.skip(ctx, in, obs, reason)
	}
	c.requests.Lock.Add(1)
	sent := c.cfg.Now()
	if err := c.guard(ctx, in.Node); err != nil {
		return false, err
	}
	n, err := c.ironic.PatchNode(ctx, in.Node, ironic.ClaimOps(in.UUID))
	if errors.Is(err, ironic.ErrConflict) {
		// A lock of ours that was still in flight when a previous run died can land after
		// this one was read, and Ironic refuses this one (409 "associated"): the node is
		// ours if it says so. Found by the crash test (internal/e2e) on the real Ironic.
		if o, gerr := c.get(ctx, in.Node); gerr == nil && o.Node.InstanceUUID == in.UUID {
			n, err = o.Node, nil
		}
	}
	switch {
	case errors.Is(err, ironic.ErrConflict), errors.Is(err, ironic.ErrNotFound), errors.Is(err, ironic.ErrInvalid):
		return c.skip(ctx, in, obs, "lock refused: "+err.Error())
	case err != nil:
		return false, err // unknown outcome: the next step reads the node and sees
	}
	obs = c.see(n, sent)
	// Judge the node as Ironic answered the PATCH, apart from the lock just taken: a node
	// that went into maintenance, left available or is another project's is given back.
	free := n
	free.InstanceUUID = ""
	if reason := unusable(in, Observation{Node: free, Seen: true}); reason != "" {
		c.requests.Unlock.Add(1)
		if err := c.guard(ctx, in.Node); err != nil {
			return false, err
		}
		if _, err := c.ironic.PatchNode(ctx, in.Node, ironic.ReleaseOps()); err != nil {
			return false, err
		}
		obs.Node.InstanceUUID = ""
		return c.skip(ctx, in, obs, reason)
	}
	next := in
	next.Locked, next.Task, next.Attempts = true, baremetal.TaskDeploying, in.Attempts+1
	return c.update(ctx, in, next, "locked node", "node", in.Node)
}

// unusable says why the observed node cannot take the instance ("" when it can).
func unusable(in baremetal.Instance, obs Observation) string {
	n := obs.Node
	switch {
	case obs.Gone:
		return "the node is gone from Ironic"
	case n.InstanceUUID != "" && n.InstanceUUID != in.UUID:
		return "the node holds instance " + n.InstanceUUID
	case n.InstanceUUID == in.UUID:
		return ""
	case reconcile.Unavailable(n):
		return fmt.Sprintf("the node is unavailable (provision state %q, maintenance %v, power %q)",
			n.ProvisionState, n.Maintenance, n.PowerState)
	case !(Tenancy{Owner: n.Owner, Lessee: n.Lessee}).Allows(in.ProjectID):
		return "the node is not the project's (owner " + n.Owner + ", lessee " + n.Lessee + ")"
	}
	return ""
}

// skip gives back a claim on a node that could not be locked, excludes the node and
// schedules the instance again. It does not count as an attempt.
func (c *Controller) skip(ctx context.Context, in baremetal.Instance, obs Observation, reason string) (bool, error) {
	next := in
	next.Node, next.Locked, next.Task = "", false, baremetal.TaskScheduling
	next.Excluded = appendNew(in.Excluded, in.Node)
	if _, err := c.db.ReleaseInstance(ctx, next); err != nil {
		return c.lost(err)
	}
	c.log.Info("skipped node", "instance", in.UUID, "node", in.Node, "reason", reason)
	if obs.Seen && !obs.Gone && c.cfg.Refresh != nil {
		// The tracker may not have reserved it yet (it left available since its last pass).
		if err := c.cfg.Refresh(ctx, []ironic.Node{obs.Node}); err != nil {
			c.log.Warn("tracker refresh failed", "node", in.Node, "error", err)
		}
	}
	return true, nil
}

// deploy writes instance_info, validates and asks Ironic to deploy with the config drive.
// A refusal of the node (validation, a 400 on provision) fails this attempt; a busy node
// or an unreachable Ironic waits for the next tick.
func (c *Controller) deploy(ctx context.Context, in baremetal.Instance, obs Observation) (bool, error) {
	now := c.cfg.Now()
	c.requests.Info.Add(1)
	if err := c.guard(ctx, in.Node); err != nil {
		return false, err
	}
	if _, err := c.ironic.PatchNode(ctx, in.Node, ironic.InstanceInfoOps(InstanceInfo(in, obs.Node))); err != nil {
		if errors.Is(err, ironic.ErrInvalid) {
			return c.act(ctx, in, obs, fail("deploy_failed", "Ironic refused the instance_info: "+err.Error(), now))
		}
		return false, waitOn(err)
	}
	c.requests.Validate.Add(1)
	res, err := c.ironic.ValidateNode(ctx, in.Node)
	switch {
	case err == nil:
		if err := ironic.CheckDeployable(res); err != nil {
			return c.act(ctx, in, obs, fail("validation_failed", err.Error(), now))
		}
	case errors.Is(err, ironic.ErrNotFound):
		// An Ironic without the validate route (or a node just deleted): the provision
		// request below validates too, and a deleted node fails it.
		c.log.Debug("node validation unavailable", "node", in.Node, "error", err)
	default:
		return false, waitOn(err)
	}
	cd := ConfigDrive(in)
	c.requests.Provision.Add(1)
	sent := c.cfg.Now()
	if err := c.guard(ctx, in.Node); err != nil {
		return false, err
	}
	err = c.ironic.SetProvisionState(ctx, in.Node, ironic.TargetActive, ironic.ProvisionOptions{ConfigDrive: &cd})
	switch {
	case err == nil:
	case errors.Is(err, ironic.ErrInvalid):
		// Refused: the node's doing (validation, maintenance), unless the deploy was
		// already under way (an earlier request whose answer was lost).
		cur, gerr := c.get(ctx, in.Node)
		if gerr != nil {
			return false, gerr
		}
		if !cur.Gone && !unlockStates[cur.Node.ProvisionState] {
			return true, nil
		}
		return c.act(ctx, in, cur, fail("deploy_failed", "Ironic refused the deploy: "+err.Error(), now))
	default:
		c.forget(in.Node) // the outcome is unknown: the next step reads the node
		return false, waitOn(err)
	}
	n := obs.Node
	n.ProvisionState, n.TargetProvisionState = "deploying", ironic.TargetActive
	c.mu.Lock()
	c.obs[in.Node] = Observation{Node: n, Seen: true, DeployRequested: true, At: sent}
	c.mu.Unlock()
	c.log.Info("deploying", "instance", in.UUID, "node", in.Node)
	return false, nil
}

// waitOn turns an Ironic error that only asks for patience (node locked, Ironic busy or
// unreachable) into nil: the next tick tries again.
func waitOn(err error) error {
	if errors.Is(err, ironic.ErrConflict) || errors.Is(err, ironic.ErrUnavailable) {
		return nil
	}
	return err
}

// undeploy asks Ironic to tear the node down; a locked node (cleaning, a power sync) or a
// state Ironic does not allow it from waits for the next tick.
func (c *Controller) undeploy(ctx context.Context, in baremetal.Instance, obs Observation) (bool, error) {
	c.requests.Unprovision.Add(1)
	sent := c.cfg.Now()
	if err := c.guard(ctx, in.Node); err != nil {
		return false, err
	}
	err := c.ironic.SetProvisionState(ctx, in.Node, ironic.TargetDeleted, ironic.ProvisionOptions{})
	if err != nil {
		if errors.Is(err, ironic.ErrInvalid) {
			c.log.Info("Ironic refused the tear-down for now", "instance", in.UUID, "node", in.Node, "error", err)
			c.forget(in.Node) // read it again next time
			return false, nil
		}
		return false, waitOn(err)
	}
	// Until Ironic reports otherwise, the tear-down is under way: do not ask again.
	n := obs.Node
	n.TargetProvisionState = ironic.TargetDeleted
	c.mu.Lock()
	c.remember(Observation{Node: n, Seen: true, At: sent})
	c.mu.Unlock()
	c.log.Info("tearing down", "instance", in.UUID, "node", in.Node)
	if in.State == baremetal.StateDeleting && in.Task != baremetal.TaskTearingDown {
		next := in
		next.Task = baremetal.TaskTearingDown
		// Only the task is recorded: a lost race is harmless (the next step reads the
		// record again), anything else is said, since the record stays behind Ironic.
		if _, err := c.update(ctx, in, next, "recorded the tear-down"); err != nil && ctx.Err() == nil {
			c.log.Warn("recording the tear-down failed; the next step records it", "instance", in.UUID, "node", in.Node, "error", err)
		}
	}
	return false, nil
}

// unlock removes the instance's lock and instance_info from a node that was never
// deployed.
func (c *Controller) unlock(ctx context.Context, in baremetal.Instance) (bool, error) {
	c.requests.Unlock.Add(1)
	sent := c.cfg.Now()
	if err := c.guard(ctx, in.Node); err != nil {
		return false, err
	}
	n, err := c.ironic.PatchNode(ctx, in.Node, ironic.ReleaseOps())
	if err != nil {
		return false, waitOn(err)
	}
	c.see(n, sent)
	return true, nil
}

// release gives the claim back once Ironic no longer shows the instance on the node, and
// only once the node cannot be offered while Ironic cleans it: its provider's inventory
// is reserved (the tracker's rule, applied at once through Refresh), or the node is
// available again. The instance is then deleted, scheduled again, or ends in error after
// MaxAttempts.
func (c *Controller) release(ctx context.Context, in baremetal.Instance, obs Observation) (bool, error) {
	if !obs.Gone && obs.Seen && c.cfg.Refresh != nil && reconcile.Reserved(obs.Node) {
		if err := c.cfg.Refresh(ctx, []ironic.Node{obs.Node}); err != nil {
			return false, fmt.Errorf("tracker refresh of node %s: %w", in.Node, err)
		}
	}
	if ok, err := c.offerSafe(ctx, in, obs); err != nil || !ok {
		if err == nil {
			c.log.Debug("waiting for the tracker to reserve the node", "instance", in.UUID, "node", in.Node)
		}
		return false, err
	}
	next := in
	next.Node, next.Locked = "", false
	var msg string
	switch {
	case in.State == baremetal.StateDeleting:
		next.State, next.Task = baremetal.StateDeleted, baremetal.TaskNone
		msg = "instance deleted"
	case in.Attempts >= c.cfg.MaxAttempts:
		next.Excluded = appendNew(in.Excluded, in.Node)
		next.State, next.Task = baremetal.StateError, baremetal.TaskNone
		msg = "instance failed"
	default:
		next.Excluded = appendNew(in.Excluded, in.Node)
		next.Task = baremetal.TaskScheduling
		msg = "rescheduling"
	}
	if _, err := c.db.ReleaseInstance(ctx, next); err != nil {
		return c.lost(err)
	}
	c.cfg.Metrics.Moved(in, next, c.cfg.Now())
	if obs.Seen && !obs.Gone && reconcile.Reserved(obs.Node) {
		c.mu.Lock()
		c.cleaning[in.Node] = true
		c.mu.Unlock()
	}
	c.log.Info(msg, "instance", in.UUID, "node", in.Node, "attempts", in.Attempts)
	return next.State == baremetal.StateBuilding, nil
}

// offerSafe reports whether removing the instance's allocation cannot make its node a
// candidate while Ironic is not done with it.
func (c *Controller) offerSafe(ctx context.Context, in baremetal.Instance, obs Observation) (bool, error) {
	if obs.Gone || (obs.Seen && !reconcile.Reserved(obs.Node)) {
		return true, nil // gone, or available with no instance: free to offer
	}
	v, err := c.db.View(ctx)
	if err != nil {
		return false, err
	}
	p, ok := v.Provider(in.Node)
	if !ok {
		return true, nil
	}
	rc, ok := v.ClassID(reconcile.ResourceClass(in.Spec.Request.ResourceClass))
	if !ok {
		return true, nil
	}
	inv, ok := p.Inventory(rc)
	return !ok || inv.Reserved >= inv.Total, nil
}

// get reads the node from Ironic and remembers it.
func (c *Controller) get(ctx context.Context, node string) (Observation, error) {
	c.requests.Get.Add(1)
	sent := c.cfg.Now()
	n, err := c.ironic.GetNode(ctx, node, c.fields()...)
	if errors.Is(err, ironic.ErrNotFound) {
		o := Observation{Seen: true, Gone: true, Node: ironic.Node{UUID: node}, At: sent}
		c.mu.Lock()
		c.obs[node] = o
		c.mu.Unlock()
		return o, nil
	}
	if err != nil {
		return Observation{}, err
	}
	return c.see(n, sent), nil
}

// forget drops what was seen of the node, so the next step reads it.
func (c *Controller) forget(node string) {
	c.mu.Lock()
	delete(c.obs, node)
	c.mu.Unlock()
}

// see records a report of a node from a request sent at sent, and returns it. Reports are
// ordered by when their request was sent: a reply can only reflect what happened before
// its request left, so a slower reply to an older request (a watch listing racing a lock)
// never replaces a newer one in what is remembered.
func (c *Controller) see(n ironic.Node, sent time.Time) Observation {
	o := Observation{Node: n, Seen: true, At: sent}
	c.mu.Lock()
	c.remember(o)
	c.setTenancy(n)
	c.mu.Unlock()
	return o
}

// remember stores o unless a report from a later request is known (c.mu held).
func (c *Controller) remember(o Observation) {
	if old, ok := c.obs[o.Node.UUID]; ok && old.At.After(o.At) {
		return
	}
	c.obs[o.Node.UUID] = o
}

// setTenancy records n's owner and lessee (c.mu held). The map is replaced, not changed,
// so a schedule can read the one it got without the lock.
func (c *Controller) setTenancy(n ironic.Node) {
	t := Tenancy{Owner: n.Owner, Lessee: n.Lessee}
	if c.tenancy[n.UUID] == t {
		return
	}
	m := make(map[string]Tenancy, len(c.tenancy)+1)
	for k, v := range c.tenancy {
		m[k] = v
	}
	if t == (Tenancy{}) {
		delete(m, n.UUID)
	} else {
		m[n.UUID] = t
	}
	c.tenancy = m
}

// lastSeen returns the nodes as last seen, by UUID: the tracker's last listing, and the
// controller's own reads of nodes that listing lacks.
func (c *Controller) lastSeen() map[string]ironic.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]ironic.Node, len(c.listing))
	for _, n := range c.listing {
		m[n.UUID] = n
	}
	for u, o := range c.obs {
		if _, ok := m[u]; !ok && o.Seen {
			m[u] = o.Node
		}
	}
	return m
}

// observation returns what was last seen of the node.
func (c *Controller) observation(node string) Observation {
	if node == "" {
		return Observation{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.obs[node]
}

// fields are the node fields the controller reads: the tracker's (reconcile.Fields, so
// that what the controller reads can be handed to Config.Refresh) and what deciding
// needs besides.
func (c *Controller) fields() []string {
	v := c.ironic.Version()
	f := append(reconcile.Fields(v), "target_provision_state", "provision_updated_at", "last_error", "reservation")
	if v.HasLessee() {
		f = append(f, "lessee")
	}
	return f
}

// listingAge is how old ObserveNodes takes a listing to be: longer than a tracker's
// listing of 10,000 nodes takes (about 3 s).
const listingAge = 30 * time.Second

// ObserveNodes takes a listing of nodes (the resource tracker's, through its OnListing
// hook) as fresh reports: owners and lessees for scheduling, states for watching. It
// never blocks on Ironic or the database.
func (c *Controller) ObserveNodes(nodes []ironic.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A listing is not timed; take it as listingAge old: it replaces only what was seen
	// before that, and a step never acts on it without reading the node again.
	at := c.cfg.Now().Add(-listingAge)
	for _, n := range nodes {
		if _, ok := c.obs[n.UUID]; ok {
			c.remember(Observation{Node: n, Seen: true, At: at})
		}
		// The tracker's listing has no lessee: keep the one the controller's own reads saw
		// (the lock step checks the node itself in any case).
		l := n
		l.Lessee = c.tenancy[n.UUID].Lessee
		c.setTenancy(l)
	}
	if c.listing == nil {
		c.checkSoon = true
	}
	c.listing = nodes
}

func appendNew(xs []string, x string) []string {
	if x == "" || slices.Contains(xs, x) {
		return xs
	}
	return append(slices.Clone(xs), x)
}

// tearDownStates are the provision states of a node between an instance's tear-down and
// its return to available, in which a released node is watched.
var tearDownStates = map[string]bool{"deleting": true, "cleaning": true, "clean wait": true}

// seedCleaning starts the set of watched cleaning nodes from the tracker's records: every
// node last seen (by a tracker pass, or by this controller's Refresh before a release) being
// torn down or cleaned without an instance. So a node given back during cleaning by a
// controller that then died is still offered again within a tick of Ironic reporting it
// available, not at the next tracker pass.
func (c *Controller) seedCleaning(ctx context.Context) error {
	recs, err := c.db.IronicNodes(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		if r.State == baremetal.NodeManaged && r.InstanceUUID == "" && tearDownStates[r.ProvisionState] {
			c.cleaning[r.NodeUUID] = true
		}
	}
	c.seeded = true
	return nil
}

// claims reports whether an action is part of taking a node (scheduling and locking).
func claims(a Action) bool { return a == DoSchedule || a == DoLock }

// lockFirstWait bounds how long a deploy waits for other instances' locks.
const lockFirstWait = 2 * time.Second

// deferDeploy reports whether the instance's deploy waits because other instances are
// being scheduled or locked; the controller is then kicked once they are done. Ironic
// serves a burst of requests one after another, so without this the instance_info,
// validate and provision requests of the first instances of a burst of creates queue in
// front of the locks of the later ones; a deploy runs for minutes and loses nothing by
// starting a moment later, while a node locked sooner is one no one else can take. A
// deploy waits at most lockFirstWait, so a steady stream of creates cannot starve it.
func (c *Controller) deferDeploy(uuid string) bool {
	idle := c.locking.idle()
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	since, waiting := c.deferred[uuid]
	select {
	case <-idle:
		delete(c.deferred, uuid)
		return false
	default:
	}
	if waiting && now.Sub(since) >= lockFirstWait {
		delete(c.deferred, uuid)
		return false
	}
	if !waiting {
		c.deferred[uuid] = now
	}
	if !c.kickOnIdle {
		c.kickOnIdle = true
		c.wg.Go(func() {
			t := time.NewTimer(lockFirstWait)
			defer t.Stop()
			select {
			case <-idle:
			case <-t.C:
			}
			c.mu.Lock()
			c.kickOnIdle = false
			c.mu.Unlock()
			c.Kick()
		})
	}
	return true
}

// forgetDeferred drops the deferred deploys of instances no longer in flight (insts).
func (c *Controller) forgetDeferred(insts []baremetal.Instance) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.deferred) == 0 {
		return
	}
	live := make(map[string]bool, len(insts))
	for _, in := range insts {
		live[in.UUID] = true
	}
	for uuid := range c.deferred {
		if !live[uuid] {
			delete(c.deferred, uuid)
		}
	}
}

// gate counts the holders of something and says when there are none.
type gate struct {
	mu    sync.Mutex
	n     int
	empty chan struct{} // closed while n == 0
}

func newGate() *gate {
	g := &gate{empty: make(chan struct{})}
	close(g.empty)
	return g
}

// enter counts one more holder and returns the function that ends its hold (idempotent).
func (g *gate) enter() func() {
	g.mu.Lock()
	if g.n == 0 {
		g.empty = make(chan struct{})
	}
	g.n++
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.n--
			if g.n == 0 {
				close(g.empty)
			}
			g.mu.Unlock()
		})
	}
}

// idle returns a channel closed once there are no holders.
func (g *gate) idle() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.empty
}
