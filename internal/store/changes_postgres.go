package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Change recording on PostgreSQL (see ARCHITECTURE.md, "Views across processes"). A write
// transaction takes no shared lock to record its changes: it inserts one changes row per
// provider it touched, keyed by its own transaction id (pg_current_xact_id), so the rows
// become visible exactly when, and to exactly the snapshots that, see the rest of its
// writes. A view remembers the snapshot it was loaded in; the changes it lacks are the rows
// of the transactions that snapshot did not see, which are the ones in progress when it was
// taken (its xip list) and the ones that started later (ids from its xmax on). Nothing is
// ordered, so concurrent writers of every process commit side by side (and share WAL
// flushes), and a view is exactly the database as of its snapshot, like one built from
// scratch in it. On PostgreSQL changes.seq therefore holds a transaction id, and
// change_version.pruned_through is the id below which changes rows may have been deleted;
// change_version.seq is not used.

// pgSnapshot is what a view needs of the PostgreSQL snapshot it was loaded in: the
// transactions it did not see are those in xip and those with ids from xmax on; xmin is the
// oldest transaction then in progress (every id below it had ended).
type pgSnapshot struct {
	xmin, xmax int64
	xip        []int64
}

// parsePGSnapshot parses pg_snapshot's text form, "xmin:xmax:xip,xip,...".
func parsePGSnapshot(s string) (pgSnapshot, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return pgSnapshot{}, fmt.Errorf("snapshot %q: want xmin:xmax:xip", s)
	}
	var snap pgSnapshot
	var err error
	if snap.xmin, err = strconv.ParseInt(parts[0], 10, 64); err != nil {
		return pgSnapshot{}, fmt.Errorf("snapshot %q: %w", s, err)
	}
	if snap.xmax, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return pgSnapshot{}, fmt.Errorf("snapshot %q: %w", s, err)
	}
	snap.xip = []int64{}
	if parts[2] != "" {
		for f := range strings.SplitSeq(parts[2], ",") {
			x, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return pgSnapshot{}, fmt.Errorf("snapshot %q: %w", s, err)
			}
			snap.xip = append(snap.xip, x)
		}
	}
	return snap, nil
}

// pgPruneEvery is how many of a process's change-recording transactions pass between its
// attempts to delete old changes rows; pgChangeRetention is how many rows a prune keeps.
const (
	pgPruneEvery      = 1000
	pgChangeRetention = changeRetention
)

// recordChangesPostgres records the providers ids (0: the catalogue) as changed by this
// transaction, under its transaction id.
func (t *tx) recordChangesPostgres(ids []int64) error {
	if _, err := t.exec(`INSERT INTO changes (seq, provider_id) SELECT pg_current_xact_id()::text::bigint, unnest(?::bigint[])`, ids); err != nil {
		return fmt.Errorf("record changes: %w", err)
	}
	every := int64(pgPruneEvery)
	if t.db.view.pruneEvery > 0 {
		every = t.db.view.pruneEvery
	}
	if t.db.view.recorded.Add(1)%every == 0 {
		if err := t.pruneChangesPostgres(); err != nil {
			return fmt.Errorf("prune changes: %w", err)
		}
	}
	if t.db.view.afterRecord != nil {
		t.db.view.afterRecord()
	}
	return nil
}

// pruneChangesPostgres deletes the changes rows of transactions older than both the newest
// pgChangeRetention rows and every transaction still in progress, and raises
// pruned_through to that bound. Pruning processes queue on the change_version row; writers
// that do not prune never touch it. A view loaded in a snapshot whose xmin is below the bound
// may lack rows it needs and is rebuilt from scratch (pgViewFresh).
func (t *tx) pruneChangesPostgres() error {
	var pruned int64
	if err := t.queryRow(`SELECT pruned_through FROM change_version WHERE id = 1 FOR UPDATE`).Scan(&pruned); err != nil {
		return err
	}
	retention := int64(pgChangeRetention)
	if t.db.view.retention > 0 {
		retention = t.db.view.retention
	}
	var bound int64
	if err := t.queryRow(`SELECT LEAST(pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
		COALESCE((SELECT seq FROM changes ORDER BY seq DESC OFFSET ? LIMIT 1), 0))`, retention).Scan(&bound); err != nil {
		return err
	}
	if bound <= pruned {
		return nil
	}
	if _, err := t.exec(`DELETE FROM changes WHERE seq < ?`, bound); err != nil {
		return err
	}
	_, err := t.exec(`UPDATE change_version SET pruned_through = ? WHERE id = 1`, bound)
	return err
}

// pgViewFresh reports whether cur still includes every change committed before the call:
// no changes row of a transaction its snapshot did not see is visible now, and no row it
// may need has been pruned. It also returns the snapshot it checked in, which a view must
// cover to include every change committed before the call.
func (db *DB) pgViewFresh(ctx context.Context, cur *cachedView) (bool, pgSnapshot, error) {
	var text string
	var changed bool
	var err error
	if cur == nil {
		err = db.readRow(ctx, `SELECT pg_current_snapshot()::text, true`).Scan(&text, &changed)
	} else {
		// max(seq), not EXISTS (... seq >= ?): PostgreSQL soon plans this prepared query
		// generically, and then scans the whole table for the EXISTS form.
		err = db.readRow(ctx, `SELECT pg_current_snapshot()::text,
			COALESCE((SELECT max(seq) FROM changes), 0) >= ?
			OR EXISTS (SELECT 1 FROM changes WHERE seq = ANY(?))
			OR (SELECT pruned_through FROM change_version WHERE id = 1) > ?`,
			cur.snap.xmax, cur.snap.xip, cur.snap.xmin).Scan(&text, &changed)
	}
	if err != nil {
		return false, pgSnapshot{}, err
	}
	snap, err := parsePGSnapshot(text)
	return !changed, snap, err
}

// pgLacks reports whether v lacks a change committed before snapshot e was taken: a visible
// changes row of a transaction that e sees as ended (so committed, since its row is visible)
// but v's snapshot does not (it was in v's xip, or not yet started when v's was taken). The
// transactions in question are known from the two snapshots alone, so when v's snapshot
// covers e no query is needed.
func (db *DB) pgLacks(ctx context.Context, v *cachedView, e pgSnapshot) (bool, error) {
	ended, covered := v.snap.unseen(e)
	if covered {
		return false, nil
	}
	var lacks bool
	err := db.readRow(ctx, `SELECT EXISTS (SELECT 1 FROM changes WHERE seq >= ? AND seq < ? AND seq <> ALL(?))
		OR EXISTS (SELECT 1 FROM changes WHERE seq = ANY(?))
		OR (SELECT pruned_through FROM change_version WHERE id = 1) > ?`,
		v.snap.xmax, e.xmax, e.xip, ended, v.snap.xmin).Scan(&lacks)
	return lacks, err
}

// unseen returns the transactions that e sees as ended and s sees in progress (ended), and
// whether s sees every transaction that e sees as ended (covered): then there are none of
// those, nor any with ids from s.xmax up to e.xmax outside e's xip. A snapshot taken after
// e covers it.
func (s pgSnapshot) unseen(e pgSnapshot) (ended []int64, covered bool) {
	ended = []int64{}
	for _, x := range s.xip {
		if x < e.xmax && !slices.Contains(e.xip, x) {
			ended = append(ended, x)
		}
	}
	return ended, s.xmax >= e.xmax && len(ended) == 0
}

// pgRefreshView builds the successor of old (nil: build from scratch) in one REPEATABLE READ
// snapshot, and remembers that snapshot. The view's Seq grows by the number of transactions
// whose changes it took in (as on SQLite, where it is the number of the last one), by one
// after a prune made it reload everything; the first view of a process is at 0. Seqs of
// different processes are not comparable.
func (db *DB) pgRefreshView(ctx context.Context, old *cachedView) (*cachedView, error) {
	sqlTx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, err
	}
	defer sqlTx.Rollback()
	t := &tx{querier: sqlTx, ctx: ctx, db: db}
	// The first statement takes the transaction's snapshot, which pg_current_snapshot
	// then returns.
	var text string
	var pruned int64
	if err := t.queryRow(`SELECT pg_current_snapshot()::text, pruned_through FROM change_version WHERE id = 1`).Scan(&text, &pruned); err != nil {
		return nil, err
	}
	snap, err := parsePGSnapshot(text)
	if err != nil {
		return nil, err
	}
	if db.view.viewHook != nil {
		db.view.viewHook("snapshot")
	}
	next := &cachedView{snap: snap}
	if old == nil || pruned > old.snap.xmin {
		seq := int64(0)
		if old != nil {
			seq = old.view.Seq + 1
		}
		next.view, err = t.loadView(seq, nil, nil)
		return next, err
	}
	// The two halves are disjoint: every id in xip is below xmax.
	txns, providers := map[int64]struct{}{}, map[int64]struct{}{}
	err = t.scanRows(`SELECT seq, provider_id FROM changes WHERE seq >= ? UNION ALL SELECT seq, provider_id FROM changes WHERE seq = ANY(?)`,
		[]any{old.snap.xmax, old.snap.xip}, func(rows *sql.Rows) error {
			var xid, id int64
			if err := rows.Scan(&xid, &id); err != nil {
				return err
			}
			txns[xid], providers[id] = struct{}{}, struct{}{}
			return nil
		})
	if err != nil {
		return nil, err
	}
	_, catalog := providers[0]
	delete(providers, 0)
	ids := make([]int64, 0, len(providers))
	for id := range providers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	next.view, err = t.applyChanges(old.view, old.view.Seq+int64(len(txns)), ids, catalog)
	return next, err
}
