package store

import (
	"context"
	"errors"
	"fmt"
)

// BeginCreateProvider is for tests of commit order (PostgreSQL): it creates the provider
// in a write transaction of its own that stays open, and returns the provider's id and a
// function that ends the transaction as every write does (records the change and commits).
func (db *DB) BeginCreateProvider(ctx context.Context, np NewProvider) (int64, func() error, error) {
	if db.writes != nil {
		return 0, nil, errors.New("BeginCreateProvider needs concurrent writers (PostgreSQL)")
	}
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	t := &tx{querier: sqlTx, ctx: ctx, db: db, now: micros(db.Now())}
	var id int64
	if _, err := t.createProvider(np); err != nil {
		sqlTx.Rollback()
		return 0, nil, err
	}
	if err := t.queryRow(`SELECT id FROM resource_providers WHERE uuid = ?`, np.UUID).Scan(&id); err != nil {
		sqlTx.Rollback()
		return 0, nil, fmt.Errorf("new provider's id: %w", err)
	}
	return id, func() error {
		if err := t.recordChanges(); err != nil {
			sqlTx.Rollback()
			return err
		}
		return sqlTx.Commit()
	}, nil
}

// ExecRaw runs one statement on the write pool, for tests that damage a database on
// purpose (a migration record removed, ...).
func (db *DB) ExecRaw(ctx context.Context, query string) error {
	_, err := db.w.ExecContext(ctx, query)
	return err
}

// ExpireReplica ends the replica's lease now by the database's clock (tests of takeovers
// without waiting a TTL).
func (db *DB) ExpireReplica(ctx context.Context, id string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE ingot_replicas SET lease_expires_at = now() - interval '1 second'
		WHERE replica_id = $1`, id)
	return err
}

// BeginFencedCreate is for tests of fencing (PostgreSQL): it runs a fenced write
// transaction that creates the provider and stays open; the returned function commits it
// as every write does.
func (db *DB) BeginFencedCreate(ctx context.Context, f *Fence, np NewProvider) (func() error, error) {
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	t := &tx{querier: sqlTx, ctx: ctx, db: db, now: micros(db.Now())}
	if err := t.fenceAll(f); err != nil {
		sqlTx.Rollback()
		return nil, err
	}
	if _, err := t.createProvider(np); err != nil {
		sqlTx.Rollback()
		return nil, err
	}
	return func() error {
		if err := t.recordChanges(); err != nil {
			sqlTx.Rollback()
			return err
		}
		return sqlTx.Commit()
	}, nil
}

// Setting returns a PostgreSQL run-time setting of a pooled session.
func (db *DB) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := db.r.QueryRowContext(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}

// SetChangeHooks is for tests of views on PostgreSQL: after each write transaction of db
// records its changes, and before it commits, afterRecord runs (nil: nothing); every
// pruneEvery-th such transaction prunes the changes table down to its newest retention rows
// (0: the defaults). Call it before db is used.
func (db *DB) SetChangeHooks(afterRecord func(), pruneEvery, retention int64) {
	db.view.afterRecord, db.view.pruneEvery, db.view.retention = afterRecord, pruneEvery, retention
}

// BeginCreateProviderRecorded is BeginCreateProvider whose transaction has already recorded
// its change when it returns (PostgreSQL): commit only commits.
func (db *DB) BeginCreateProviderRecorded(ctx context.Context, np NewProvider) (func() error, error) {
	if db.writes != nil {
		return nil, errors.New("BeginCreateProviderRecorded needs concurrent writers (PostgreSQL)")
	}
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	t := &tx{querier: sqlTx, ctx: ctx, db: db, now: micros(db.Now())}
	if _, err := t.createProvider(np); err != nil {
		sqlTx.Rollback()
		return nil, err
	}
	if err := t.recordChanges(); err != nil {
		sqlTx.Rollback()
		return nil, err
	}
	return sqlTx.Commit, nil
}

// SetViewHook is for tests of views on PostgreSQL: hook runs in every View call after its
// freshness check ("checked") and in every refresh once its snapshot is taken ("snapshot").
// Call it before db is used.
func (db *DB) SetViewHook(hook func(stage string)) { db.view.viewHook = hook }
