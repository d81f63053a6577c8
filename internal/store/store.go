package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"ingot/internal/metrics"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

type dialect uint8

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

// DB is an open ingot database. It is safe for concurrent use.
type DB struct {
	// r serves reads, w serves writes. On SQLite every write runs on one writer goroutine
	// (group commit, see batch.go) while WAL lets readers proceed; on PostgreSQL both are
	// the same pool and writers run concurrently.
	r, w *sql.DB
	// wConn is the SQLite writer goroutine's own connection from w.
	wConn *sql.Conn
	// writes feeds the SQLite writer goroutine; nil on PostgreSQL.
	writes     chan *writeReq
	quit       chan struct{}
	writerDone chan struct{}
	// checkpoint ends and waits for the SQLite checkpoint goroutine.
	checkpointQuit, checkpointDone chan struct{}
	// walRestartFrames overrides the WAL length that triggers a restart (tests).
	walRestartFrames int
	dialect          dialect
	// Now returns the current time; tests may replace it before first use.
	Now func() time.Time
	// log receives what fails in the background, where no caller can be told (SQLite
	// checkpoints); see WithLogger.
	log *slog.Logger
	cp  checkpointLog

	queries sync.Map // SQL written with '?' -> SQL for this dialect
	view    viewCache
	// wStmts caches prepared statements for SQLite writes, on wConn (see tx.stmt); rStmts
	// for single-statement SQLite reads outside transactions (see readRow).
	wStmts, rStmts *stmtCache
	// metrics receives write transactions, retries and group commits (nil: none).
	metrics *metrics.Store
	// fenced counts writes rejected by a stale fence (see fence.go).
	fenced fenceCounter
}

// Instrument has the database report its writes to m. Call it before the first write
// that should be counted, and not concurrently with writes.
func (db *DB) Instrument(m *metrics.Store) { db.metrics = m }

// Open opens the database named by dsn and applies any pending migrations:
//
//	sqlite:PATH                  an SQLite file (created with its directory if missing)
//	postgres://... postgresql:// a PostgreSQL database (pgx connection string)
//
// On PostgreSQL the migrations run under an advisory lock, so processes starting together
// apply them once.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	db := &DB{Now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(db)
	}
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return nil, errors.New("open database: sqlite: needs a file path")
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("open database: %w", err)
			}
		}
		var err error
		if db.w, err = sql.Open("sqlite", sqliteDSN(path, true)); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		// Writes run one transaction at a time on the writer goroutine, which keeps one
		// connection for itself; the second serves migrations and checkpoints.
		db.w.SetMaxOpenConns(2)
		db.w.SetMaxIdleConns(2)
		db.w.SetConnMaxLifetime(0)
		db.w.SetConnMaxIdleTime(0)
		if db.r, err = sql.Open("sqlite", sqliteDSN(path, false)); err != nil {
			db.w.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
		db.r.SetMaxOpenConns(8)
		db.r.SetMaxIdleConns(8)
		db.r.SetConnMaxIdleTime(0)
		db.r.SetConnMaxLifetime(0)
		db.dialect = dialectSQLite
		if db.wConn, err = db.w.Conn(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
		db.wStmts, db.rStmts = newStmtCache(db.wConn), newStmtCache(db.r)
		db.startWriter()
		db.startCheckpointer()
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		p, err := sql.Open("pgx", withSessionDefaults(dsn))
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		p.SetMaxOpenConns(32)
		p.SetMaxIdleConns(32)
		p.SetConnMaxIdleTime(5 * time.Minute)
		db.r, db.w = p, p
		db.dialect = dialectPostgres
	default:
		return nil, fmt.Errorf("open database: %q is neither sqlite:PATH nor a postgres:// URL", dsn)
	}
	if err := db.w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	for _, step := range []func(context.Context) error{db.migrate, db.syncStandard, db.checkWritable} {
		if err := step(ctx); err != nil {
			db.Close()
			if isReadOnly(err) {
				return nil, fmt.Errorf("open database: %w: %v", ErrReadOnly, err)
			}
			return nil, err
		}
	}
	return db, nil
}

// Option configures Open.
type Option func(*DB)

// WithLogger sends to log the failures of the store's background work, which no caller
// could be told of (SQLite's WAL checkpoints). Without it they are discarded. Everything
// else the store returns as errors and does not log.
func WithLogger(log *slog.Logger) Option {
	return func(db *DB) {
		if log != nil {
			db.log = log
		}
	}
}

// idleInTransactionTimeout ends a session that sits in an open transaction this long (a
// process paused or cut off mid-transaction): its row locks, such as a fenced write's FOR
// SHARE on a node's owner row, would otherwise block a takeover indefinitely.
const idleInTransactionTimeout = 10 * time.Second

// withSessionDefaults adds PostgreSQL session settings to a postgres:// URL that does not
// set them itself (pgx sends unknown URL parameters as run-time parameters).
func withSessionDefaults(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // pgx reports it
	}
	q := u.Query()
	if q.Get("idle_in_transaction_session_timeout") == "" {
		q.Set("idle_in_transaction_session_timeout", strconv.FormatInt(idleInTransactionTimeout.Milliseconds(), 10))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// ErrReadOnly is returned by Open for a database that can be read but not written (a
// read-only file or mount, a PostgreSQL standby or default_transaction_read_only): such a
// database would pass migrations that have nothing left to do, and then fail every write.
var ErrReadOnly = errors.New("the database is read-only")

// checkWritable writes the change_version row back unchanged in a transaction of its own:
// that takes the write lock (SQLite) and the row lock (PostgreSQL) as every write does, and
// fails as every write would on a database that cannot be written.
func (db *DB) checkWritable(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `UPDATE change_version SET seq = seq WHERE id = 1`); err != nil {
		return fmt.Errorf("check that the database is writable: %w", err)
	}
	return nil
}

// sqliteDSN sets, on every pooled connection, what SQLite keeps per connection: WAL (stored
// in the file, but harmless to repeat), foreign keys, a busy timeout for other processes,
// NORMAL sync (durable in WAL mode except for the last commits on power loss), and for the
// write pool BEGIN IMMEDIATE so a writer takes the lock before it reads.
func sqliteDSN(path string, writer bool) string {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "foreign_keys(1)")
	v.Add("_pragma", "synchronous(NORMAL)")
	// A 64 MiB page cache and memory-mapped reads: a 10,000-provider fleet's working set
	// stays in memory and reads cost no system calls.
	v.Add("_pragma", "cache_size(-65536)")
	v.Add("_pragma", "mmap_size(268435456)")
	v.Add("_pragma", "temp_store(MEMORY)")
	if writer {
		v.Set("_txlock", "immediate")
		// Checkpoints (copying the WAL into the database file, with an fsync) run on a
		// background goroutine, not inside a commit (see checkpointer).
		v.Add("_pragma", "wal_autocheckpoint(0)")
		v.Add("_pragma", "journal_size_limit(67108864)")
	} else {
		v.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + v.Encode()
}

// Close closes the database.
func (db *DB) Close() error {
	db.stopWriter()
	db.stopCheckpointer()
	if db.wStmts != nil {
		db.wStmts.close()
		db.rStmts.close()
	}
	var errs []error
	if db.wConn != nil {
		errs = append(errs, db.wConn.Close())
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	if db.r != nil && db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	return errors.Join(errs...)
}

// Postgres reports whether the database is PostgreSQL.
func (db *DB) Postgres() bool { return db.dialect == dialectPostgres }

// q returns query, written with '?' placeholders, in this database's dialect.
func (db *DB) q(query string) string {
	if db.dialect != dialectPostgres {
		return query
	}
	if v, ok := db.queries.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inQuote = !inQuote
		}
		if c == '?' && !inQuote {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	s := b.String()
	db.queries.Store(query, s)
	return s
}

// micros converts t to the stored representation of times.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts a stored time back; NULL (invalid) gives the zero time.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// isUniqueViolation reports whether err is a unique or primary key constraint violation.
func isUniqueViolation(err error) bool {
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "23505"
	}
	return false
}

// isReadOnly reports whether err says the database cannot be written: SQLITE_READONLY (any
// extended code) or PostgreSQL's read_only_sql_transaction (25006).
func isReadOnly(err error) bool {
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code()&0xff == sqlite3.SQLITE_READONLY
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "25006"
	}
	return false
}

// isRetryable reports whether err is a transient transaction failure worth running the whole
// transaction again for: a PostgreSQL serialization failure or deadlock, or SQLite busy.
func isRetryable(err error) bool {
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// readRow runs a single-row query outside any transaction. On SQLite it uses a statement
// prepared once per connection: no transaction holds a read connection while another is
// prepared, so preparing cannot wait on itself.
func (db *DB) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if db.rStmts != nil {
		if st := db.rStmts.get(ctx, query); st != nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return db.r.QueryRowContext(ctx, db.q(query), args...)
}
