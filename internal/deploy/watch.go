package deploy

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/ironic"
	"ingot/internal/reconcile"
	"ingot/internal/store"
)

// watchStart is how far before the controller's clock its first watch starts.
const watchStart = 10 * time.Second

// watch refreshes what is known of the nodes of in-flight instances with a bounded number
// of Ironic requests: one ChangedNodes call (the nodes whose provision state changed since
// the last one, newest first), or, when Ironic cannot sort by provision_updated_at, at
// most WatchGets GETs taken round-robin over the in-flight nodes.
func (c *Controller) watch(ctx context.Context, insts []baremetal.Instance) error {
	var nodes []string
	for _, in := range insts {
		if in.Node != "" {
			nodes = append(nodes, in.Node)
		}
	}
	c.mu.Lock()
	for n := range c.cleaning {
		nodes = append(nodes, n)
	}
	c.mu.Unlock()
	if len(nodes) == 0 {
		return nil
	}
	defer c.refreshCleaned(ctx)
	now := c.cfg.Now()
	c.mu.Lock()
	fallback, since, page := c.fallback, c.watermark, c.watchPage
	if now.Sub(c.lastWatch) < c.cfg.WatchInterval*9/10 {
		// A kicked tick (a create, a delete) does not watch again: new work needs no
		// watch, and the watch stays at one per interval.
		c.mu.Unlock()
		return nil
	}
	c.lastWatch = now
	c.mu.Unlock()
	if since.IsZero() {
		// The first watch starts shortly before now rather than listing every node:
		// nodes whose last change is older are read by their instance's next step
		// (every action but deploying reads its node first, and a node never seen is
		// read). Later watches move the watermark with Ironic's clock.
		since = c.cfg.Now().Add(-watchStart)
	}
	if !fallback {
		c.requests.Watch.Add(1)
		sent := c.cfg.Now()
		changed, next, err := c.ironic.ChangedNodes(ctx, since, ironic.WatchOptions{ListOptions: ironic.ListOptions{
			Fields: c.fields(), ConductorGroup: c.cfg.Scope.ConductorGroup, Shards: c.cfg.Scope.Shards,
			Limit: page}})
		switch {
		case err == nil:
			c.mu.Lock()
			c.watermark = next
			// A burst of changes is likely followed by more: the next first page holds
			// twice as many, so a burst costs one request a tick rather than a page chain.
			c.watchPage = min(max(2*len(changed), ironic.DefaultWatchPage), ironic.MaxLimit)
			for _, n := range changed {
				if _, ok := c.obs[n.UUID]; ok || slices.Contains(nodes, n.UUID) {
					c.remember(Observation{Node: n, Seen: true, At: sent})
				}
				c.setTenancy(n)
			}
			c.mu.Unlock()
			return nil
		case errors.Is(err, ironic.ErrInvalid) || errors.Is(err, ironic.ErrUnsupported):
			c.log.Warn("Ironic cannot list nodes by provision change; watching with GETs", "error", err,
				"gets_per_tick", c.cfg.WatchGets)
			c.mu.Lock()
			c.fallback = true
			c.mu.Unlock()
		default:
			return err
		}
	}
	slices.Sort(nodes)
	nodes = slices.Compact(nodes)
	c.mu.Lock()
	start := c.rr % len(nodes)
	c.rr = start + c.cfg.WatchGets
	c.mu.Unlock()
	for i := range min(c.cfg.WatchGets, len(nodes)) {
		if _, err := c.get(ctx, nodes[(start+i)%len(nodes)]); err != nil {
			return err
		}
	}
	return nil
}

// refreshCleaned hands the nodes given back during cleaning that are now seen available
// to the tracker (Config.Refresh), which stops reserving them: they are candidates again
// within a tick of Ironic reporting them available.
func (c *Controller) refreshCleaned(ctx context.Context) {
	var done []ironic.Node
	c.mu.Lock()
	for id := range c.cleaning {
		if o := c.obs[id]; o.Gone || o.Seen && !reconcile.Reserved(o.Node) {
			done = append(done, o.Node)
			delete(c.cleaning, id)
		}
	}
	c.mu.Unlock()
	if len(done) == 0 || c.cfg.Refresh == nil {
		return
	}
	if err := c.cfg.Refresh(ctx, done); err != nil {
		c.log.Warn("tracker refresh failed", "nodes", len(done), "error", err)
		c.mu.Lock()
		for _, n := range done {
			c.cleaning[n.UUID] = true
		}
		c.mu.Unlock()
	}
}

// Report is what an invariant check found.
type Report struct {
	// Claims are allocations without a live instance on their node, or live instances
	// holding a node without its allocation (the claim and release transactions make
	// both impossible; reported, never changed).
	Claims []store.ClaimProblem
	// Foreign are nodes whose instance_uuid names no instance of ours: reported, left
	// alone (another system's workload).
	Foreign []string
	// Undone are nodes that held one of our instances which no longer holds them (a lock
	// whose outcome the controller did not learn, then gave up): never deployed, so the
	// lock was removed.
	Undone []string
	// Stale are nodes holding one of our instances which does not hold them, in a state
	// that is not safe to undo (deployed): reported.
	Stale []string
	// Lost are active instances whose node no longer shows them: reported.
	Lost []string
}

// Check verifies the invariants against the database and the tracker's last listing (see
// ObserveNodes), undoing the locks that are safe to undo, and logs what it found.
func (c *Controller) Check(ctx context.Context) (Report, error) {
	var r Report
	var err error
	if r.Claims, err = c.db.ClaimProblems(ctx); err != nil {
		return r, err
	}
	for _, p := range r.Claims {
		c.log.Error("claim invariant broken", "instance", p.Instance, "node", p.Node, "problem", p.What)
	}
	c.mu.Lock()
	listing := c.listing
	c.mu.Unlock()
	if listing == nil {
		return r, nil
	}
	// With replicas, each checks (and repairs) only the nodes it owns.
	var fence *store.Fence
	if own := c.cfg.Ownership; own != nil {
		hctx, release, f := own.Hold(ctx)
		defer release()
		if f == nil {
			return r, nil
		}
		ctx, fence = hctx, f
		mine := make([]ironic.Node, 0, len(f.Epochs))
		for _, n := range listing {
			if _, ok := f.Epochs[n.UUID]; ok {
				mine = append(mine, n)
			}
		}
		listing = mine
	}
	live, err := c.db.ListInstances(ctx, store.InstanceFilter{})
	if err != nil {
		return r, err
	}
	byUUID := make(map[string]baremetal.Instance, len(live))
	for _, in := range live {
		byUUID[in.UUID] = in
	}
	listed := make(map[string]ironic.Node, len(listing))
	for _, n := range listing {
		listed[n.UUID] = n
		if n.InstanceUUID == "" {
			continue
		}
		in, ours := byUUID[n.InstanceUUID]
		if ours && in.Node == n.UUID {
			continue
		}
		if !ours {
			if _, err := c.db.Instance(ctx, n.InstanceUUID); err != nil {
				// Not even a deleted instance of ours: someone else's.
				r.Foreign = append(r.Foreign, n.UUID)
				c.log.Warn("node holds an instance ingot does not know; left alone", "node", n.UUID,
					"instance_uuid", n.InstanceUUID)
				continue
			}
		}
		// Ours, but the instance does not hold this node: read it again before acting,
		// the listing may be older than the release.
		o, err := c.get(ctx, n.UUID)
		if err != nil {
			return r, err
		}
		if o.Gone || o.Node.InstanceUUID != n.InstanceUUID {
			continue
		}
		if cur, err := c.db.Instance(ctx, n.InstanceUUID); err == nil && cur.Node == n.UUID && cur.Live() {
			continue // it holds the node now
		}
		if unlockStates[o.Node.ProvisionState] {
			// Nobody else can lock the node while it shows our instance, so the
			// removal cannot undo someone else's lock.
			c.requests.Unlock.Add(1)
			sent := c.cfg.Now()
			uctx := ctx
			if fence != nil {
				uctx = store.WithFence(ctx, &store.Fence{Replica: fence.Replica, Epochs: map[string]int64{n.UUID: fence.Epochs[n.UUID]}})
				if err := c.guard(uctx, n.UUID); err != nil {
					continue
				}
				uctx = ironic.WithFenceHeader(uctx, fence.Replica+"/"+strconv.FormatInt(fence.Epochs[n.UUID], 10))
			}
			freed, err := c.ironic.PatchNode(uctx, n.UUID, ironic.ReleaseOps())
			if err != nil {
				c.log.Warn("undoing a stale lock failed", "node", n.UUID, "error", err)
				continue
			}
			c.see(freed, sent)
			if c.cfg.Refresh != nil {
				// Offered again now rather than at the tracker's next pass.
				if err := c.cfg.Refresh(uctx, []ironic.Node{freed}); err != nil {
					c.log.Warn("tracker refresh failed", "node", n.UUID, "error", err)
				}
			}
			r.Undone = append(r.Undone, n.UUID)
			c.log.Warn("undid a stale lock", "node", n.UUID, "instance_uuid", n.InstanceUUID)
			continue
		}
		r.Stale = append(r.Stale, n.UUID)
		c.log.Error("node is deployed for an instance that does not hold it", "node", n.UUID,
			"instance_uuid", n.InstanceUUID, "provision_state", o.Node.ProvisionState)
	}
	for _, in := range live {
		if in.State != baremetal.StateActive || in.Node == "" {
			continue
		}
		if fence != nil {
			if _, ok := fence.Epochs[in.Node]; !ok {
				continue
			}
		}
		if n, ok := listed[in.Node]; ok && n.InstanceUUID != in.UUID {
			// The listing may predate the deploy: read the node again.
			o, err := c.get(ctx, in.Node)
			if err != nil {
				return r, err
			}
			if !o.Gone && o.Node.InstanceUUID == in.UUID {
				continue
			}
			n = o.Node
			r.Lost = append(r.Lost, in.UUID)
			c.log.Error("active instance's node no longer shows it", "instance", in.UUID, "node", in.Node,
				"node_instance_uuid", n.InstanceUUID)
		}
	}
	return r, nil
}
