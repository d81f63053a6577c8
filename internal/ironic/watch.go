package ironic

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Watching provision changes.
//
// Ironic has no changes-since query and no watch, but it stamps provision_updated_at
// (with microseconds, in UTC, from the conductor's clock) in the same database write that
// changes provision_state, and it sorts node listings by that column. So a listing sorted
// by provision_updated_at descending returns the most recently changed nodes first, and
// a watcher can stop reading at the first node older than what it already saw: one
// request per tick returns every node whose provision state changed since the last tick,
// however many nodes are in flight. Checked against Ironic 21.4 (scripts/ironic and the
// contract suite):
//
//   - sort_key=provision_updated_at is accepted, with marker paging (the marker compares
//     the (provision_updated_at, id) pair), and the "next" link keeps the sort;
//   - a node that never changed provision state (created, still enroll) has null; on
//     SQLite and MySQL nulls sort last in a descending listing, so they end the scan.
//     PostgreSQL sorts them first: the watch skips them, paying one page per MaxLimit
//     such nodes on every tick;
//   - the stamp moves on every provision_state write, not on target, reservation,
//     last_error, power or instance_uuid changes alone. A node that reaches a stable
//     state shows it a moment before its conductor releases the lock: a caller that
//     must write next retries its 409 (ErrNodeLocked) rather than waiting for a change;
//   - a write is stamped before its transaction commits, and conductors' clocks differ,
//     so the scan reaches back Overlap before the watermark. Nodes in that window are
//     returned again; callers treat the result as "look at these". So that a quiet fleet
//     does not return its last changes on every tick, the watermark also moves up to the
//     answer's Date (Ironic's clock, to the second) less Overlap and a second: anything
//     stamped before that has committed and was in this scan.

// DefaultWatchOverlap is how far before the watermark ChangedNodes looks again.
const DefaultWatchOverlap = 2 * time.Second

// DefaultWatchPage is the size of the first page of a ChangedNodes scan; later pages of
// the same scan double it up to MaxLimit. Ironic's cost is per node returned, and most
// ticks need a few nodes, so the first page is small.
const DefaultWatchPage = 50

// WatchOptions select what ChangedNodes returns.
type WatchOptions struct {
	// ListOptions are the filters (conductor group, shards, ...) and fields; Limit is the
	// first page's size (zero: DefaultWatchPage). provision_updated_at is always asked for.
	// Every call returns a full first page from Ironic, which costs per node, so a small
	// first page keeps quiet ticks cheap; a burst of N changes costs about
	// log2(N/Limit)+1 requests (1,000 changes: 5 with the default).
	ListOptions
	// Overlap reaches back before since (zero: DefaultWatchOverlap).
	Overlap time.Duration
}

// ChangedNodes returns the nodes matching opts whose provision state changed at or after
// since-Overlap, newest first, and the watermark to pass as since next time: the newest
// provision_updated_at seen, or Ironic's clock less Overlap and a second when that is
// later, and never less than since. With a zero since it
// lists every matching node (nodes with a null provision_updated_at included), which is
// how a watcher starts. It reads pages until a node older than the window appears, so it
// costs one request per call unless more nodes changed than fit the first page. Any
// failure fails the call with no partial result; call again with the same since.
// Idempotent.
func (c *Client) ChangedNodes(ctx context.Context, since time.Time, opts WatchOptions) ([]Node, time.Time, error) {
	v, err := c.negotiated(ctx)
	if err != nil {
		return nil, since, fmt.Errorf("changed nodes: %w", err)
	}
	lo := opts.ListOptions
	if lo.Fields == nil {
		lo.Fields = slices.Clone(DefaultFields)
	}
	if !slices.Contains(lo.Fields, "provision_updated_at") {
		lo.Fields = append(slices.Clone(lo.Fields), "provision_updated_at")
	}
	limit := lo.Limit
	if limit <= 0 {
		limit = DefaultWatchPage
	}
	q, err := listQuery(v, lo)
	if err != nil {
		return nil, since, fmt.Errorf("changed nodes: %w", err)
	}
	q.Set("sort_key", "provision_updated_at")
	q.Set("sort_dir", "desc")
	overlap := opts.Overlap
	if overlap <= 0 {
		overlap = DefaultWatchOverlap
	}
	lo.Limit = 0 // for full listings: MaxLimit
	if since.IsZero() {
		// Start: everything, in id order (a null-stamped marker would confuse the
		// sorted paging, see below).
		nodes, err := c.ListNodes(ctx, lo)
		if err != nil {
			return nil, since, fmt.Errorf("changed nodes: %w", err)
		}
		newest := since
		for _, n := range nodes {
			if n.ProvisionUpdatedAt.After(newest) {
				newest = n.ProvisionUpdatedAt
			}
		}
		return nodes, newest, nil // no Date: the listing spans pages and time
	}
	cutoff := since.Add(-overlap)

	var (
		out    []Node
		seen   = map[string]bool{}
		newest = since
		marker string
	)
	for page := 1; ; page++ {
		q.Set("limit", strconv.Itoa(limit))
		if marker != "" {
			q.Set("marker", marker)
		}
		nodes, next, date, err := c.listPageAt(ctx, v, q, limit)
		if err != nil {
			return nil, since, fmt.Errorf("changed nodes: page %d: %w", page, err)
		}
		if page == 1 && !date.IsZero() {
			// Everything stamped before this committed and was in the first page's
			// window, or the window was full and the scan reads on.
			if settledAt := date.Add(-overlap - time.Second); settledAt.After(newest) {
				newest = settledAt
			}
		}
		done := len(nodes) == 0 || len(nodes) < limit && next == ""
		for _, n := range nodes {
			at := n.ProvisionUpdatedAt
			if at.IsZero() {
				// Never changed: skip (nulls come last on SQLite and MySQL, first on
				// PostgreSQL, so keep reading).
				continue
			}
			if at.Before(cutoff) {
				done = true
				break
			}
			if at.After(newest) {
				newest = at
			}
			if !seen[n.UUID] {
				// A node that changed while the scan paged may come again.
				seen[n.UUID] = true
				out = append(out, n)
			}
		}
		if done {
			return out, newest, nil
		}
		lastNode := nodes[len(nodes)-1]
		if lastNode.ProvisionUpdatedAt.IsZero() {
			// A null-stamped marker (PostgreSQL sorts nulls first) makes oslo.db page by
			// id alone, which would skip stamped nodes: read everything instead, which
			// costs what a tracker pass costs.
			return c.changedByFullScan(ctx, lo, since, cutoff)
		}
		last := lastNode.UUID
		if last == "" || last == marker {
			return nil, since, fmt.Errorf("changed nodes: page %d: marker did not advance", page)
		}
		marker = last
		limit = min(2*limit, MaxLimit)
	}
}

// changedByFullScan is ChangedNodes by reading every node in id order.
func (c *Client) changedByFullScan(ctx context.Context, lo ListOptions, since, cutoff time.Time) ([]Node, time.Time, error) {
	lo.Limit = 0
	nodes, err := c.ListNodes(ctx, lo)
	if err != nil {
		return nil, since, fmt.Errorf("changed nodes: %w", err)
	}
	newest := since
	out := nodes[:0]
	for _, n := range nodes {
		if at := n.ProvisionUpdatedAt; !at.IsZero() && !at.Before(cutoff) {
			out = append(out, n)
			if at.After(newest) {
				newest = at
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Node) int { return b.ProvisionUpdatedAt.Compare(a.ProvisionUpdatedAt) })
	return out, newest, nil
}
