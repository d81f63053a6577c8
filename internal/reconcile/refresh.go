package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/safe"
	"ingot/internal/store"
)

// Refresh plans and applies the given nodes now, as freshly observed in Ironic, instead of
// at the next pass: the instance controller calls it when it sees a node enter cleaning
// (it must become reserved before the instance's allocation is removed) or become
// available (it is offered again within seconds). The nodes must carry the fields Fields
// names (a GET of the node with those fields, or without a field list, does).
//
// The rules are exactly a pass's, applied to these nodes alone, from a fresh view and
// fresh records: a node in the scope is planned as listed (created, adopted, updated); a
// node outside the scope is planned as a pass plans a managed node its listing missed and
// its lookup found (withdrawn, then released); a node outside the scope that the tracker
// does not manage is left alone. Refresh does no Ironic request and never deletes a
// provider (a deleted node is not in nodes; the next pass finds it gone).
//
// Refresh is safe to call concurrently with a pass and with other calls. Every write is
// conditional; a write that loses a race is planned again from a fresh picture, up to 3
// rounds, as in a pass. A pass whose listing began before a Refresh of a node leaves that
// node alone (its observation is older than the one Refresh wrote). The error joins
// every node whose write failed or kept losing races, and any database failure.
func (r *Reconciler) Refresh(ctx context.Context, nodes []ironic.Node) error {
	if len(nodes) == 0 {
		return nil
	}
	r.noteRefreshed(nodes)
	err := safe.Do(func() error { return r.refresh(ctx, nodes) })
	if pe, ok := errors.AsType[*safe.PanicError](err); ok {
		r.log.Error("tracker refresh panicked", "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
	}
	return err
}

func (r *Reconciler) refresh(ctx context.Context, nodes []ironic.Node) error {
	start := time.Now()
	scope := r.cfg.Scope
	view, err := r.db.View(ctx)
	if err != nil {
		return err
	}
	if n, err := r.ensureCatalog(ctx, view, nodes); err != nil {
		return err
	} else if n > 0 {
		if view, err = r.db.View(ctx); err != nil {
			return err
		}
	}
	var fence *store.Fence
	if own := r.cfg.Ownership; own != nil {
		hctx, release, f := own.Hold(ctx)
		defer release()
		if f == nil {
			return nil // no lease: the owner's next pass or refresh writes them
		}
		ctx, fence = store.WithFence(hctx, f), f
		nodes = ownedNodes(nodes, f)
	}
	ids := make([]string, 0, len(nodes))
	in := Input{Scope: scope, View: view, Lookups: map[string]Lookup{}}
	for _, n := range nodes {
		ids = append(ids, n.UUID)
		if scope.Contains(n) {
			in.Nodes = append(in.Nodes, n)
		} else {
			// As a pass's lookup of a node its listing missed.
			in.Lookups[n.UUID] = Lookup{Node: n}
		}
	}
	if in.Records, err = r.db.IronicNodesOf(ctx, ids); err != nil {
		return err
	}
	if fence != nil {
		in.Records = ownedRecords(in.Records, fence)
	}

	st := Stats{Actions: map[Action]int{}}
	var errs []error
	changes := Plan(in)
	for round := 1; len(changes) > 0; round++ {
		if r.beforeApply != nil {
			r.beforeApply()
		}
		res, err := Apply(ctx, r.db, changes, r.cfg.BatchSize)
		r.account(&st, res)
		for _, f := range res.Failed {
			errs = append(errs, fmt.Errorf("node %s: %s: %w", f.Change.Write.NodeUUID, f.Change.Action, f.Err))
		}
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		if len(res.Conflicts) == 0 {
			break
		}
		if round == maxRounds {
			for _, c := range res.Conflicts {
				r.log.Warn("node change failed", "node_uuid", c.Change.Write.NodeUUID, "action", c.Change.Action, "error", c.Err)
				errs = append(errs, fmt.Errorf("node %s: %s: %w", c.Change.Write.NodeUUID, c.Change.Action, c.Err))
			}
			break
		}
		st.Conflicts += len(res.Conflicts)
		if in.View, err = r.db.View(ctx); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if in.Records, err = r.db.IronicNodesOf(ctx, ids); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if fence != nil {
			in.Records = ownedRecords(in.Records, fence)
		}
		changes = Plan(only(in, res.Conflicts))
	}
	r.log.Debug("tracker refresh", "nodes", len(nodes), "changes", st.Changes, "conflicts", st.Conflicts,
		"errors", len(errs), "duration", time.Since(start))
	return errors.Join(errs...)
}

// noteRefreshed remembers when Refresh began for each node, for passes to leave alone.
func (r *Reconciler) noteRefreshed(nodes []ironic.Node) {
	now := time.Now()
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	if r.refreshed == nil {
		r.refreshed = make(map[string]time.Time, len(nodes))
	}
	for _, n := range nodes {
		r.refreshed[n.UUID] = now
	}
}

// withoutRefreshed removes from in the nodes refreshed after since (a pass's listing
// start): their listing, lookup and record. It forgets refreshes from before since,
// which no pass needs any more (passes run one at a time, each listing later).
func (r *Reconciler) withoutRefreshed(in Input, since time.Time) Input {
	r.refreshMu.Lock()
	var skip map[string]struct{}
	for id, at := range r.refreshed {
		if at.Before(since) {
			delete(r.refreshed, id)
			continue
		}
		if skip == nil {
			skip = map[string]struct{}{}
		}
		skip[id] = struct{}{}
	}
	r.refreshMu.Unlock()
	if len(skip) == 0 {
		return in
	}
	out := in
	out.Nodes = make([]ironic.Node, 0, len(in.Nodes))
	for _, n := range in.Nodes {
		if _, ok := skip[n.UUID]; !ok {
			out.Nodes = append(out.Nodes, n)
		}
	}
	out.Records = out.Records[:0:0]
	for _, rec := range in.Records {
		if _, ok := skip[rec.NodeUUID]; !ok {
			out.Records = append(out.Records, rec)
		}
	}
	out.Lookups = make(map[string]Lookup, len(in.Lookups))
	for id, lk := range in.Lookups {
		if _, ok := skip[id]; !ok {
			out.Lookups[id] = lk
		}
	}
	r.log.Debug("pass leaves refreshed nodes alone", "nodes", len(skip))
	return out
}
