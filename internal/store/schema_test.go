package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// columns migrates a fresh database of the backend and returns "table.column" for every
// column of every table.
func columns(t *testing.T, backend string) []string {
	dsn := storetest.DSN(t, backend)
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	var raw *sql.DB
	var query string
	switch backend {
	case storetest.SQLite:
		raw, err = sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite:"))
		query = `SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	default:
		raw, err = sql.Open("pgx", dsn)
		query = `SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public'`
	}
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// TestSchemasMatch checks that the SQLite and PostgreSQL migrations build the same tables
// and columns.
func TestSchemasMatch(t *testing.T) {
	lite := columns(t, storetest.SQLite)
	pg := columns(t, storetest.Postgres)
	if !slices.Equal(lite, pg) {
		for _, c := range lite {
			if !slices.Contains(pg, c) {
				t.Errorf("only in SQLite: %s", c)
			}
		}
		for _, c := range pg {
			if !slices.Contains(lite, c) {
				t.Errorf("only in PostgreSQL: %s", c)
			}
		}
	}
	if len(lite) < 50 {
		t.Fatalf("only %d columns found", len(lite))
	}
}
