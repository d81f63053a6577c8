package store_test

import (
	"context"
	"slices"
	"testing"

	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

func TestSchemaAndPing(t *testing.T) {
	for _, backend := range storetest.Backends() {
		t.Run(backend, func(t *testing.T) { testSchemaAndPing(t, backend) })
	}
}

func testSchemaAndPing(t *testing.T, backend string) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.DSN(t, backend))
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			db.Close()
		}
	}()
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping on an open database: %v", err)
	}
	s, err := db.Schema(ctx)
	if err != nil || !s.Current() || len(s.Unknown) != 0 {
		t.Fatalf("Schema of a freshly migrated database = %+v, %v; want current, nothing unknown", s, err)
	}
	// A newer binary's migration is reported, and the schema is still current.
	if err := db.ExecRaw(ctx, `INSERT INTO schema_migrations (name) VALUES ('9999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	if s, err = db.Schema(ctx); err != nil || !s.Current() || !slices.Equal(s.Unknown, []string{"9999_future.sql"}) {
		t.Fatalf("Schema with a newer migration = %+v, %v; want current, 9999_future.sql unknown", s, err)
	}
	// One of this binary's migrations missing: not current.
	if err := db.ExecRaw(ctx, `DELETE FROM schema_migrations WHERE name = '0004_instances.sql'`); err != nil {
		t.Fatal(err)
	}
	if s, err = db.Schema(ctx); err != nil || s.Current() || !slices.Equal(s.Missing, []string{"0004_instances.sql"}) {
		t.Fatalf("Schema with a migration missing = %+v, %v; want 0004_instances.sql missing", s, err)
	}
	db.Close()
	closed = true
	if err := db.Ping(ctx); err == nil {
		t.Fatal("Ping on a closed database: no error")
	}
	if _, err := db.Schema(ctx); err == nil {
		t.Fatal("Schema on a closed database: no error")
	}
}
