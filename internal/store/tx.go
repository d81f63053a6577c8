package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"ingot/internal/metrics"
	"ingot/internal/placement"
)

// tx is one transaction. It captures one timestamp at BEGIN, so every row written in the
// transaction agrees on "now", and it remembers which providers the transaction touched so
// the commit can record them for in-memory views.
type tx struct {
	querier // the *sql.Tx, or the SQLite writer's *sql.Conn inside BEGIN ... COMMIT
	ctx     context.Context
	db      *DB
	pool    *stmtCache // statements prepared on the connection querier runs on; nil: none
	now     int64
	touched map[int64]struct{}
	catalog bool
}

// querier runs statements: a *sql.Tx, or a *sql.Conn whose transaction is managed with
// explicit BEGIN and COMMIT statements.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	if st := t.stmt(query); st != nil {
		return st.ExecContext(t.ctx, args...)
	}
	return t.ExecContext(t.ctx, t.db.q(query), args...)
}

func (t *tx) query(query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(query); st != nil {
		return st.QueryContext(t.ctx, args...)
	}
	return t.QueryContext(t.ctx, t.db.q(query), args...)
}

func (t *tx) queryRow(query string, args ...any) *sql.Row {
	if st := t.stmt(query); st != nil {
		return st.QueryRowContext(t.ctx, args...)
	}
	return t.QueryRowContext(t.ctx, t.db.q(query), args...)
}

// stmt returns a prepared statement for query, or nil when statements are not cached
// (reads, and PostgreSQL, where pgx caches them itself) or the cache is full. SQLite spends
// most of a small statement's time parsing it; the SQLite writer's statements are prepared
// once on its own connection and used there directly, without database/sql wrapping them
// for a transaction on every use.
func (t *tx) stmt(query string) *sql.Stmt {
	if t.pool == nil {
		return nil
	}
	return t.pool.get(t.ctx, query)
}

// touch records that the transaction changed provider id (its row, inventories, traits,
// aggregates or allocations).
func (t *tx) touch(ids ...int64) {
	if t.touched == nil {
		t.touched = make(map[int64]struct{})
	}
	for _, id := range ids {
		t.touched[id] = struct{}{}
	}
}

// touchCatalog records that the transaction changed the resource class or trait catalogue.
func (t *tx) touchCatalog() { t.catalog = true }

// errRetryTx makes write run the transaction again (a race another replica won, which the
// next attempt sees).
var errRetryTx = errors.New("transaction lost a race; retrying")

// maxTxAttempts bounds how often a transaction that failed with a transient database error
// (deadlock, serialization failure, SQLite busy from another process) is run again.
const maxTxAttempts = 5

// write runs fn in a read-write transaction and commits it when fn returns nil. A transient
// database failure runs fn again (fn must therefore only touch the database through t).
func (db *DB) write(ctx context.Context, fn func(t *tx) error) error {
	f := fenceOf(ctx)
	var checked time.Time // when the fence held (its rows stay locked until the commit)
	if f != nil {
		inner := fn
		fn = func(t *tx) error {
			if err := t.fenceAll(f); err != nil {
				return err
			}
			checked = time.Now()
			return inner(t)
		}
	}
	var err error
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		start := time.Now()
		err = db.writeOnce(ctx, fn)
		retry := isRetryable(err) || errors.Is(err, errRetryTx)
		db.metrics.Transaction(txOutcome(err, retry), time.Since(start))
		if err == nil || !retry || ctx.Err() != nil {
			break
		}
		if attempt+1 < maxTxAttempts {
			db.metrics.Retry(metrics.ConflictTransient)
		}
	}
	if f != nil && db.fenced.audit.Load() != nil {
		var fe *FencedError
		if errors.As(err, &fe) {
			db.auditFence(f, fe.Node, false, time.Time{})
		} else if err == nil {
			for node := range f.Epochs {
				db.auditFence(f, node, true, checked)
			}
		}
	}
	return err
}

// txOutcome classifies a write transaction's result for the metrics.
func txOutcome(err error, retryable bool) string {
	switch {
	case err == nil:
		return metrics.OutcomeCommitted
	case retryable:
		return metrics.OutcomeTransient
	case errors.Is(err, errProviderConflict), errors.Is(err, placement.ErrConcurrentUpdate):
		return metrics.OutcomeConflict
	}
	if _, ok := placement.AsError(err); ok {
		return metrics.OutcomeRejected
	}
	return metrics.OutcomeFailed
}

func (db *DB) writeOnce(ctx context.Context, fn func(t *tx) error) error {
	if db.writes != nil {
		return db.submit(ctx, fn)
	}
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &tx{querier: sqlTx, ctx: ctx, db: db, now: micros(db.Now())}
	defer sqlTx.Rollback()
	if err := fn(t); err != nil {
		return err
	}
	if err := t.recordChanges(); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// read runs fn in a read-only transaction, so that every query in fn sees one snapshot.
func (db *DB) read(ctx context.Context, fn func(t *tx) error) error {
	sqlTx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: db.dialect == dialectPostgres})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer sqlTx.Rollback()
	t := &tx{querier: sqlTx, ctx: ctx, db: db, now: micros(db.Now())}
	if err := fn(t); err != nil {
		return err
	}
	return sqlTx.Commit()
}

// changeRetention is how many change sequence numbers the changes table keeps (SQLite; on
// PostgreSQL, how many rows); a view further behind than that reloads everything.
const changeRetention = 20000

// recordChanges records the providers the transaction touched, for the views of every
// process (view.go). It is the last statement before COMMIT. On SQLite it increments the
// change sequence (writes are serialized anyway, one process) and files the providers
// under the new number, so a reader that sees sequence N sees every change numbered N or
// lower. On PostgreSQL it files them under the transaction's id and takes no shared lock
// (changes_postgres.go).
func (t *tx) recordChanges() error {
	if recordChangesDisabled || (len(t.touched) == 0 && !t.catalog) {
		return nil
	}
	ids := make([]int64, 0, len(t.touched)+1)
	for id := range t.touched {
		ids = append(ids, id)
	}
	if t.catalog {
		ids = append(ids, 0)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if t.db.dialect == dialectPostgres {
		return t.recordChangesPostgres(ids)
	}
	var seq int64
	if err := t.queryRow(`UPDATE change_version SET seq = seq + 1 WHERE id = 1 RETURNING seq`).Scan(&seq); err != nil {
		return fmt.Errorf("record changes: %w", err)
	}
	for _, chunk := range chunks(ids, 400) {
		var b strings.Builder
		args := make([]any, 0, 2*len(chunk))
		b.WriteString(`INSERT INTO changes (seq, provider_id) VALUES `)
		for i, id := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?, ?)")
			args = append(args, seq, id)
		}
		if _, err := t.exec(b.String(), args...); err != nil {
			return fmt.Errorf("record changes: %w", err)
		}
	}
	if seq%1000 == 0 && seq > changeRetention {
		cut := seq - changeRetention
		if _, err := t.exec(`DELETE FROM changes WHERE seq <= ?`, cut); err != nil {
			return fmt.Errorf("prune changes: %w", err)
		}
		if _, err := t.exec(`UPDATE change_version SET pruned_through = ? WHERE id = 1`, cut); err != nil {
			return fmt.Errorf("prune changes: %w", err)
		}
	}
	return nil
}

// chunks splits ids into slices of at most n.
func chunks[T any](ids []T, n int) [][]T {
	var out [][]T
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// placeholders returns "?, ?, ..." with n placeholders.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// anys converts a slice to []any for query arguments.
func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// stmtCache holds statements prepared on one pool or connection, by query text.
type stmtCache struct {
	db preparer
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// preparer is a *sql.DB or a *sql.Conn.
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// maxCachedStatements bounds the cache; queries built with variable IN lists have many
// shapes, and past the bound they are simply not cached.
const maxCachedStatements = 512

func newStmtCache(db preparer) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if len(c.m) >= maxCachedStatements {
		return nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil // the caller runs the query unprepared and reports its error
	}
	c.m[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// scanRows runs query and calls fn for every row.
func (t *tx) scanRows(query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := t.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanIn runs the query build makes from a placeholder list for each chunk of values (IN
// lists stay under the drivers' parameter limits) and calls fn for every row.
func scanIn[T any](t *tx, values []T, build func(placeholders string) string, fn func(*sql.Rows) error) error {
	for _, chunk := range chunks(values, 500) {
		if err := t.scanRows(build(placeholders(len(chunk))), anys(chunk), fn); err != nil {
			return err
		}
	}
	return nil
}

// idSet runs a query returning one id per row and returns the set of ids.
func (t *tx) idSet(query string, args ...any) (map[int64]bool, error) {
	set := map[int64]bool{}
	err := t.scanRows(query, args, func(rows *sql.Rows) error {
		var id int64
		err := rows.Scan(&id)
		set[id] = true
		return err
	})
	return set, err
}
