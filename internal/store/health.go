package store

import (
	"context"
	"fmt"
	"slices"
)

// Ping checks that the database answers a query (on the pool that serves reads), within
// ctx: the readiness probe's "database reachable".
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Schema compares the migrations applied to the database with this binary's.
type Schema struct {
	// Missing are this binary's migrations the database lacks (a database restored from
	// an older backup, or migrated by hand): this binary must not serve it.
	Missing []string
	// Unknown are applied migrations this binary does not have: a newer ingot migrated
	// the shared database. Migrations only add, so an older binary still works during a
	// rolling upgrade.
	Unknown []string
}

// Current reports whether every migration of this binary is applied.
func (s Schema) Current() bool { return len(s.Missing) == 0 }

// Schema reads the applied migrations and compares them with the embedded ones.
func (db *DB) Schema(ctx context.Context) (Schema, error) {
	want, err := migrationNames(db.migrationDir())
	if err != nil {
		return Schema{}, fmt.Errorf("read schema: %w", err)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return Schema{}, fmt.Errorf("read schema: %w", err)
	}
	defer rows.Close()
	var applied []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return Schema{}, fmt.Errorf("read schema: %w", err)
		}
		applied = append(applied, name)
	}
	if err := rows.Err(); err != nil {
		return Schema{}, fmt.Errorf("read schema: %w", err)
	}
	var s Schema
	for _, name := range want {
		if !slices.Contains(applied, name) {
			s.Missing = append(s.Missing, name)
		}
	}
	for _, name := range applied {
		if !slices.Contains(want, name) {
			s.Unknown = append(s.Unknown, name)
		}
	}
	slices.Sort(s.Unknown)
	return s, nil
}
