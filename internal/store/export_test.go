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
