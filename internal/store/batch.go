package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"ingot/internal/safe"
)

// Group commit (SQLite). SQLite runs one write transaction at a time and each commit costs
// a WAL append, so a single writer goroutine takes every write that is waiting, runs each in
// its own SAVEPOINT inside one transaction, and commits them together. Each write sees the
// ones before it, exactly as if they had run one after another; a write that fails is rolled
// back to its savepoint and fails alone. Callers learn their outcome only after the COMMIT.

// maxBatch bounds how many writes share one commit.
const maxBatch = 64

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store: database closed")

type writeReq struct {
	ctx  context.Context
	fn   func(*tx) error
	done chan error
}

// startWriter starts the writer goroutine; Close stops it.
func (db *DB) startWriter() {
	db.writes = make(chan *writeReq)
	db.quit = make(chan struct{})
	db.writerDone = make(chan struct{})
	go db.writer()
}

func (db *DB) stopWriter() {
	if db.quit == nil {
		return
	}
	close(db.quit)
	<-db.writerDone
}

// submit hands fn to the writer and waits for its outcome.
func (db *DB) submit(ctx context.Context, fn func(*tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-db.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over, the write is waited for even if ctx ends, so the caller never
	// returns while its write may still commit.
	return <-req.done
}

// Lingering: when several clients write at once, the writer waits up to lingerFor after the
// first write of a batch so that the others share its commit. It lingers only while there is
// evidence of concurrent writers, a batch of more than one write within the last
// concurrentFor, so a lone client, writing one request after another, never waits.
const (
	lingerFor     = 150 * time.Microsecond
	concurrentFor = 50 * time.Millisecond
)

func (db *DB) writer() {
	defer close(db.writerDone)
	var lastConcurrent time.Time
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		var req *writeReq
		select {
		case req = <-db.writes:
		case <-db.quit:
			return
		}
		now := time.Now()
		busy := now.Sub(lastConcurrent) < concurrentFor
		batch := []*writeReq{req}
		batch = drain(db.writes, batch)
		if busy && len(batch) < maxBatch {
			linger.Reset(lingerFor)
		wait:
			for len(batch) < maxBatch {
				select {
				case r := <-db.writes:
					batch = drain(db.writes, append(batch, r))
				case <-linger.C:
					break wait
				}
			}
			linger.Stop()
		}
		if len(batch) > 1 {
			lastConcurrent = now
		}
		db.commitBatch(batch)
	}
}

// drain appends the writes that are already waiting, up to maxBatch.
func drain(writes chan *writeReq, batch []*writeReq) []*writeReq {
	for len(batch) < maxBatch {
		select {
		case r := <-writes:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// commitBatch runs the writes in one transaction and reports each one's outcome. The
// transaction runs on the writer's own connection with explicit BEGIN IMMEDIATE and COMMIT,
// so its prepared statements are used as they are. Statements run without the callers'
// contexts: cancelling a statement in SQLite can roll back the whole transaction, which
// would undo the other writes in the batch.
func (db *DB) commitBatch(batch []*writeReq) {
	ctx := context.Background()
	// Read before any write's outcome is sent: a caller may call Instrument next.
	m, start := db.metrics, time.Now()
	defer func() { m.Batch(len(batch), time.Since(start)) }()
	t := &tx{querier: db.wConn, ctx: ctx, db: db, pool: db.wStmts, now: micros(db.Now())}
	if _, err := t.exec("BEGIN IMMEDIATE"); err != nil {
		for _, r := range batch {
			r.done <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	var committed []*writeReq
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		touched, catalog := maps.Clone(t.touched), t.catalog
		if _, err := t.exec("SAVEPOINT write"); err != nil {
			r.done <- fmt.Errorf("savepoint: %w", err)
			continue
		}
		if err := runWrite(r.fn, t); err != nil {
			_, rbErr := t.exec("ROLLBACK TO write")
			if _, relErr := t.exec("RELEASE write"); rbErr == nil {
				rbErr = relErr
			}
			t.touched, t.catalog = touched, catalog
			if rbErr != nil {
				// The transaction is unusable: fail this write and everything still pending.
				r.done <- err
				db.failBatch(t, committed, fmt.Errorf("rollback to savepoint: %w", rbErr))
				db.failRest(batch, r, rbErr)
				return
			}
			r.done <- err
			continue
		}
		if _, err := t.exec("RELEASE write"); err != nil {
			r.done <- fmt.Errorf("release savepoint: %w", err)
			continue
		}
		committed = append(committed, r)
	}
	err := t.recordChanges()
	if err == nil {
		if _, err = t.exec("COMMIT"); err != nil {
			err = fmt.Errorf("commit: %w", err)
		}
	}
	if err != nil {
		// A failed COMMIT can leave the transaction open; the connection must not carry it
		// into the next batch. (If SQLite already rolled back, this ROLLBACK just fails.)
		t.exec("ROLLBACK")
	}
	for _, r := range committed {
		r.done <- err
	}
}

func (db *DB) failBatch(t *tx, committed []*writeReq, err error) {
	t.exec("ROLLBACK")
	for _, r := range committed {
		r.done <- err
	}
}

// failRest fails the writes of batch after r, which never ran.
func (db *DB) failRest(batch []*writeReq, r *writeReq, err error) {
	for i, b := range batch {
		if b == r {
			for _, later := range batch[i+1:] {
				later.done <- fmt.Errorf("batch aborted: %w", err)
			}
			return
		}
	}
}

// runWrite runs one write's function, turning a panic into an error (a *safe.PanicError,
// with the stack): the writer goroutine serves every caller and must not die with one of
// them.
func runWrite(fn func(*tx) error, t *tx) error {
	return safe.Do(func() error { return fn(t) })
}
