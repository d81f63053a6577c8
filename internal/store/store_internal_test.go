package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ingot/internal/safe"
)

// TestSQLitePragmasOnEveryConnection checks that every pooled connection, not only the
// first, has foreign keys on, WAL and a busy timeout (SQLite keeps them per connection).
func TestSQLitePragmasOnEveryConnection(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, pool := range []struct {
		name string
		db   *sql.DB
		n    int
	}{{"read", db.r, 4}, {"write", db.w, 1}} {
		var conns []*sql.Conn
		for range pool.n {
			c, err := pool.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for i, c := range conns {
			var fk, timeout int
			var mode string
			if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
				t.Fatal(err)
			}
			if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
				t.Fatal(err)
			}
			if fk != 1 || mode != "wal" || timeout < 1000 {
				t.Errorf("%s connection %d: foreign_keys=%d journal_mode=%s busy_timeout=%d", pool.name, i, fk, mode, timeout)
			}
		}
		for _, c := range conns {
			c.Close()
		}
	}
}

// TestMigrationFilesMatch checks that both dialects have the same migrations.
func TestMigrationFilesMatch(t *testing.T) {
	lite, err := migrationNames("migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := migrationNames("migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || !slices.Equal(lite, pg) {
		t.Fatalf("sqlite migrations %v, postgres migrations %v", lite, pg)
	}
}

func TestRebind(t *testing.T) {
	db := &DB{dialect: dialectPostgres}
	got := db.q(`SELECT '?' FROM t WHERE a = ? AND b IN (?, ?)`)
	want := `SELECT '?' FROM t WHERE a = $1 AND b IN ($2, $3)`
	if got != want {
		t.Fatalf("q = %q; want %q", got, want)
	}
}

// TestWriterSurvivesPanic: a write whose function panics fails alone; the writer goroutine
// and the writes around it carry on.
func TestWriterSurvivesPanic(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.write(ctx, func(t *tx) error {
		if _, err := t.exec(`INSERT INTO projects (external_id, created_at) VALUES ('doomed', 0)`); err != nil {
			return err
		}
		panic("boom")
	})
	if pe, ok := errors.AsType[*safe.PanicError](err); !ok || pe.Value != "boom" {
		t.Fatalf("panicking write = %v, want its panic as an error", err)
	}
	if err := db.write(ctx, func(t *tx) error {
		_, err := t.exec(`INSERT INTO projects (external_id, created_at) VALUES ('kept', 0)`)
		return err
	}); err != nil {
		t.Fatalf("write after a panic: %v", err)
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM projects WHERE external_id = 'doomed'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the panicking write left %d rows (err %v)", n, err)
	}
}

// TestWALStaysBounded writes steadily while reading and checks that the checkpointer keeps
// the WAL from growing without end.
func TestWALStaysBounded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, "sqlite:"+filepath.Join(dir, "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.walRestartFrames = 1000
	payload := strings.Repeat("x", 3000) // close to one page per row
	// Readers that always overlap: with one of them always holding a snapshot, a WAL that
	// is only checkpointed PASSIVEly is never rewound.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = db.read(ctx, func(t *tx) error {
					var n int
					if err := t.queryRow(`SELECT COUNT(*) FROM projects`).Scan(&n); err != nil {
						return err
					}
					time.Sleep(time.Millisecond)
					return nil
				})
			}
		})
	}
	defer func() { close(stop); readers.Wait() }()
	for i := range 6000 {
		if err := db.write(ctx, func(t *tx) error {
			_, err := t.exec(`INSERT INTO projects (external_id, created_at) VALUES (?, 0)`, fmt.Sprintf("%d-%s", i, payload))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if i%200 == 0 {
			db.checkpoint() // what the ticker does every second
			if _, err := db.View(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	db.checkpoint()
	st, err := os.Stat(filepath.Join(dir, "w.db-wal"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 3*1000*4096 {
		t.Fatalf("WAL is %d MiB after 6000 one-page writes", st.Size()>>20)
	}
}
