package store_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// TestOpenRefusesReadOnlyPostgres migrates a database, makes it read-only
// (default_transaction_read_only, as a standby behaves) and checks that Open refuses it
// instead of serving a database whose every write would fail.
func TestOpenRefusesReadOnlyPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t, storetest.Postgres)
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	name := strings.TrimPrefix(u.Path, "/")
	if _, err := conn.ExecContext(ctx, `ALTER DATABASE "`+name+`" SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Let storetest drop it.
		c, err := sql.Open("pgx", storetest.PostgresURL())
		if err == nil {
			c.Exec(`ALTER DATABASE "` + name + `" SET default_transaction_read_only = off`)
			c.Close()
		}
	})
	db, err = store.Open(ctx, dsn)
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a read-only database")
	}
	if !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("Open: %v, want ErrReadOnly", err)
	}
	t.Logf("Open: %v", err)
}

// TestOpenRefusesReadOnlySQLite opens a migrated SQLite file as SQLite's read-only mode
// does (root ignores file permissions, so the test cannot chmod it): the write probe must
// report ErrReadOnly, which is what a read-only file or mount gives.
func TestOpenRefusesReadOnlySQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ro.db")
	db, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	err = store.CheckWritableSQLite(ctx, "file:"+path+"?mode=ro")
	if !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("write probe on a read-only SQLite file: %v, want ErrReadOnly", err)
	}
	if err := store.CheckWritableSQLite(ctx, "file:"+path); err != nil {
		t.Fatalf("write probe on a writable file: %v", err)
	}
}
