package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"ingot/internal/fleet"
)

// viewCache holds the latest view and serializes refreshes.
type viewCache struct {
	mu      sync.Mutex
	current atomic.Pointer[cachedView]
	// recorded counts this process's transactions that recorded changes (PostgreSQL, to
	// prune now and then).
	recorded atomic.Int64
	// Tests only (set before use): pruneEvery and retention override pgPruneEvery and
	// pgChangeRetention; afterRecord runs after a PostgreSQL transaction recorded its
	// changes, before it commits.
	pruneEvery, retention int64
	afterRecord           func()
	// Tests only: viewHook runs in a PostgreSQL View call after its freshness check
	// ("checked") and in its refresh once the snapshot is taken ("snapshot").
	viewHook func(stage string)
}

// cachedView is a view and, on PostgreSQL, the snapshot it was loaded in.
type cachedView struct {
	view *fleet.View
	snap pgSnapshot
}

// View returns a fleet view that includes every write committed before the call. It costs one
// small query when nothing changed; otherwise it loads only the providers that changed
// since the previous view (or everything, after a long gap).
func (db *DB) View(ctx context.Context) (*fleet.View, error) {
	if recordChangesDisabled {
		v, err := db.refreshView(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("view: %w", err)
		}
		return v, nil
	}
	if db.dialect == dialectPostgres {
		return db.pgView(ctx)
	}
	seq, err := db.changeSeq(ctx)
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	if c := db.view.current.Load(); c != nil && c.view.Seq >= seq {
		return c.view, nil
	}
	db.view.mu.Lock()
	defer db.view.mu.Unlock()
	var old *fleet.View
	if c := db.view.current.Load(); c != nil {
		if c.view.Seq >= seq {
			return c.view, nil
		}
		old = c.view
	}
	v, err := db.refreshView(ctx, old)
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	db.view.current.Store(&cachedView{view: v})
	return v, nil
}

// pgView is View on PostgreSQL: the cached view is fresh when no transaction its snapshot
// did not see has committed changes since (changes_postgres.go). Callers that find it stale
// queue for one refresh; a refresh made while they waited serves them unless it lacks a
// change committed before they checked (as the sequence number of SQLite's views tells).
func (db *DB) pgView(ctx context.Context) (*fleet.View, error) {
	cur := db.view.current.Load()
	fresh, checked, err := db.pgViewFresh(ctx, cur)
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	if db.view.viewHook != nil {
		db.view.viewHook("checked")
	}
	if fresh {
		return cur.view, nil
	}
	db.view.mu.Lock()
	defer db.view.mu.Unlock()
	now := db.view.current.Load()
	if now != cur {
		lacks, err := db.pgLacks(ctx, now, checked)
		if err != nil {
			return nil, fmt.Errorf("view: %w", err)
		}
		if !lacks {
			return now.view, nil
		}
	}
	next, err := db.pgRefreshView(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	db.view.current.Store(next)
	return next.view, nil
}

func (db *DB) changeSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := db.readRow(ctx, `SELECT seq FROM change_version WHERE id = 1`).Scan(&seq)
	return seq, err
}

// refreshView builds the successor of old (nil: build from scratch) in one read snapshot
// (SQLite; on PostgreSQL only for the ingot_norecord build).
func (db *DB) refreshView(ctx context.Context, old *fleet.View) (*fleet.View, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.dialect == dialectPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	sqlTx, err := db.r.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer sqlTx.Rollback()
	t := &tx{querier: sqlTx, ctx: ctx, db: db}
	var seq, pruned int64
	if err := t.queryRow(`SELECT seq, pruned_through FROM change_version WHERE id = 1`).Scan(&seq, &pruned); err != nil {
		return nil, err
	}
	if old == nil || old.Seq < pruned {
		return t.loadView(seq, nil, nil)
	}
	return t.loadChanged(old, seq, `SELECT DISTINCT provider_id FROM changes WHERE seq > ? AND seq <= ?`, old.Seq, seq)
}

// loadChanged returns old's successor at seq: old with the providers that query (with args)
// names reloaded, or a view built from scratch when they are many.
func (t *tx) loadChanged(old *fleet.View, seq int64, query string, args ...any) (*fleet.View, error) {
	var ids []int64
	catalog := false
	err := t.scanRows(query, args, func(rows *sql.Rows) error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		if id == 0 {
			catalog = true
		} else {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t.applyChanges(old, seq, ids, catalog)
}

// applyChanges returns old's successor at seq: old with providers ids (and the catalogue,
// if it changed) reloaded, or a view built from scratch when they are many.
func (t *tx) applyChanges(old *fleet.View, seq int64, ids []int64, catalog bool) (*fleet.View, error) {
	if len(ids) > old.Len()/4+64 {
		return t.loadView(seq, nil, nil)
	}
	return t.loadView(seq, old, &viewDelta{ids: ids, catalog: catalog})
}

type viewDelta struct {
	ids     []int64
	catalog bool
}

// loadView loads a view at seq: everything when old is nil, otherwise old with the
// providers in delta reloaded.
func (t *tx) loadView(seq int64, old *fleet.View, delta *viewDelta) (*fleet.View, error) {
	var catalog *fleet.Catalog
	if old == nil || delta.catalog {
		var err error
		if catalog, err = t.loadCatalog(); err != nil {
			return nil, err
		}
	}
	if old == nil {
		loaded, err := t.loadProviders(nil)
		if err != nil {
			return nil, err
		}
		ps := make([]*fleet.Provider, 0, len(loaded))
		for _, p := range loaded {
			ps = append(ps, p)
		}
		return fleet.New(seq, catalog, ps), nil
	}
	loaded, err := t.loadProviders(delta.ids)
	if err != nil {
		return nil, err
	}
	changed := make([]*fleet.Provider, 0, len(loaded))
	var deleted []int64
	for _, id := range delta.ids {
		if p, ok := loaded[id]; ok {
			changed = append(changed, p)
		} else {
			deleted = append(deleted, id)
		}
	}
	return old.With(seq, catalog, changed, deleted), nil
}

func (t *tx) loadCatalog() (*fleet.Catalog, error) {
	c := &fleet.Catalog{ClassIDs: map[string]int64{}, ClassNames: map[int64]string{},
		TraitIDs: map[string]int64{}, TraitNames: map[int64]string{}}
	for _, q := range []struct {
		query string
		ids   map[string]int64
		names map[int64]string
	}{
		{`SELECT id, name FROM resource_classes`, c.ClassIDs, c.ClassNames},
		{`SELECT id, name FROM traits`, c.TraitIDs, c.TraitNames},
	} {
		rows, err := t.query(q.query)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			q.ids[name], q.names[id] = id, name
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// loadProviders loads the providers with the ids (all providers when ids is nil).
func (t *tx) loadProviders(ids []int64) (map[int64]*fleet.Provider, error) {
	out := map[int64]*fleet.Provider{}
	if ids != nil && len(ids) == 0 {
		return out, nil
	}
	used := map[pcKey]int64{}
	batches := [][]int64{nil}
	if ids != nil {
		batches = chunks(ids, 500)
	}
	for _, batch := range batches {
		where, args := "", []any(nil)
		if batch != nil {
			where = ` WHERE %s IN (` + placeholders(len(batch)) + `)`
			args = anys(batch)
		}
		cond := func(col string) string {
			if where == "" {
				return ""
			}
			return fmt.Sprintf(where, col)
		}
		if err := t.scanRows(`SELECT id, uuid, name, generation, parent_provider_id, root_provider_id, created_at, updated_at FROM resource_providers`+cond("id"), args, func(r *sql.Rows) error {
			p := &fleet.Provider{}
			var parent, root, c, u sql.NullInt64
			if err := r.Scan(&p.ID, &p.UUID, &p.Name, &p.Generation, &parent, &root, &c, &u); err != nil {
				return err
			}
			p.ParentID, p.RootID, p.CreatedAt, p.UpdatedAt = parent.Int64, root.Int64, c.Int64, u.Int64
			if p.RootID == 0 {
				p.RootID = p.ID
			}
			out[p.ID] = p
			return nil
		}); err != nil {
			return nil, err
		}
		if err := t.scanRows(`SELECT resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio FROM inventories`+cond("resource_provider_id"), args, func(r *sql.Rows) error {
			var pid int64
			var inv fleet.Inventory
			if err := r.Scan(&pid, &inv.ClassID, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit, &inv.StepSize, &inv.AllocationRatio); err != nil {
				return err
			}
			if p := out[pid]; p != nil {
				p.Inventories = append(p.Inventories, inv)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if err := t.scanRows(`SELECT resource_provider_id, resource_class_id, SUM(used) FROM allocations`+cond("resource_provider_id")+` GROUP BY resource_provider_id, resource_class_id`, args, func(r *sql.Rows) error {
			var k pcKey
			var n int64
			if err := r.Scan(&k.provider, &k.class, &n); err != nil {
				return err
			}
			used[k] = n
			return nil
		}); err != nil {
			return nil, err
		}
		if err := t.scanRows(`SELECT resource_provider_id, trait_id FROM resource_provider_traits`+cond("resource_provider_id"), args, func(r *sql.Rows) error {
			var pid, tid int64
			if err := r.Scan(&pid, &tid); err != nil {
				return err
			}
			if p := out[pid]; p != nil {
				p.Traits = append(p.Traits, tid)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if err := t.scanRows(`SELECT rpa.resource_provider_id, a.uuid FROM resource_provider_aggregates rpa JOIN aggregates a ON a.id = rpa.aggregate_id`+cond("rpa.resource_provider_id"), args, func(r *sql.Rows) error {
			var pid int64
			var a string
			if err := r.Scan(&pid, &a); err != nil {
				return err
			}
			if p := out[pid]; p != nil {
				p.Aggregates = append(p.Aggregates, a)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	for _, p := range out {
		sort.Slice(p.Inventories, func(i, j int) bool { return p.Inventories[i].ClassID < p.Inventories[j].ClassID })
		for i := range p.Inventories {
			p.Inventories[i].Used = used[pcKey{p.ID, p.Inventories[i].ClassID}]
		}
		sort.Slice(p.Traits, func(i, j int) bool { return p.Traits[i] < p.Traits[j] })
		sort.Strings(p.Aggregates)
	}
	return out, nil
}
