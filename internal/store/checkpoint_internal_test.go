package store

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the checkpointer goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCheckpointFailureLogged: a checkpoint that fails is logged at Warn once (not once a
// second while it keeps failing), and its recovery at Info.
func TestCheckpointFailureLogged(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "c.db"), WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.checkpoint()
	if s := buf.String(); s != "" {
		t.Fatalf("a successful checkpoint logged %q", s)
	}
	// Make the checkpoint fail the way a broken database does: its statement errors.
	fail := func() {
		db.cp.failed(db, "PASSIVE", errString("disk I/O error"))
	}
	fail()
	fail()
	fail()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "disk I/O error") ||
		!strings.Contains(lines[0], "failures=1") {
		t.Fatalf("three failures in a row logged %q; want one Warn line with the error", lines)
	}
	db.checkpoint() // succeeds
	lines = strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "level=INFO") || !strings.Contains(lines[1], "failed_before=3") {
		t.Fatalf("recovery logged %q; want an Info line counting 3 failures", lines)
	}
}

// TestCheckpointErrorReachesLog drives a real checkpoint failure (the pool closed under
// it) through checkpoint.
func TestCheckpointErrorReachesLog(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	db, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "c.db"), WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	db.stopCheckpointer()
	db.checkpointQuit = nil // stopped; Close must not stop it again
	if err := db.w.Close(); err != nil {
		t.Fatal(err)
	}
	db.checkpoint()
	if s := buf.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "checkpoint failed") ||
		!strings.Contains(s, "database is closed") {
		t.Fatalf("a checkpoint on a closed pool logged %q; want a Warn with the error", s)
	}
	db.Close()
}

type errString string

func (e errString) Error() string { return string(e) }
