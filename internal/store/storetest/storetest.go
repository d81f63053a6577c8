// Package storetest gives tests a fresh, migrated ingot database: an SQLite file in the
// test's temporary directory, or a new PostgreSQL database when INGOT_TEST_POSTGRES names a
// server (a postgres:// URL whose role may create databases). Each database is removed when
// the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create test databases

	"ingot/internal/store"
)

// Backend names.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// PostgresURL is the server tests create PostgreSQL databases on ("" when unset).
func PostgresURL() string { return os.Getenv("INGOT_TEST_POSTGRES") }

// Open returns a fresh database of the backend for t.
func Open(t testing.TB, backend string) *store.DB {
	t.Helper()
	dsn := DSN(t, backend)
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s: %v", backend, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// DSN returns the connection string of a fresh, empty database of the backend for t; the
// database is dropped when t ends. For PostgreSQL without INGOT_TEST_POSTGRES the test is
// skipped, unless INGOT_REQUIRE_POSTGRES is set (as CI does), when it fails.
func DSN(t testing.TB, backend string) string {
	t.Helper()
	switch backend {
	case SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "ingot.db")
	case Postgres:
		admin := PostgresURL()
		if admin == "" {
			if os.Getenv("INGOT_REQUIRE_POSTGRES") != "" {
				t.Fatal("INGOT_REQUIRE_POSTGRES is set but INGOT_TEST_POSTGRES is not")
			}
			t.Skip("PostgreSQL tier: set INGOT_TEST_POSTGRES=postgres://... to run it")
		}
		return createPostgres(t, admin)
	}
	t.Fatalf("unknown backend %q", backend)
	return ""
}

func createPostgres(t testing.TB, admin string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "ingot_test_" + hex.EncodeToString(b[:])
	conn, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer conn.Close()
	if _, err := conn.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("postgres: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := c.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Logf("postgres: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Each runs fn as a subtest once per backend: SQLite always, PostgreSQL when configured.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, backend := range []string{SQLite, Postgres} {
		t.Run(backend, func(t *testing.T) {
			fn(t, Open(t, backend))
		})
	}
}

// Backends lists the backend names, for tests that open databases themselves.
func Backends() []string { return []string{SQLite, Postgres} }
