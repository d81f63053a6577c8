package store

import (
	"context"
	"sync"
	"time"
)

// checkpointEvery is how often the SQLite WAL is copied back into the database file. Writers
// do not checkpoint (wal_autocheckpoint is off on their connections), so a commit never
// waits for the fsync a checkpoint needs; PASSIVE checkpoints never block writers either.
const checkpointEvery = time.Second

// walRestartFrames is the WAL length (in pages) past which the checkpointer restarts the
// WAL: under a steady stream of reads and writes a PASSIVE checkpoint copies every frame but
// the WAL file is never rewound, so it would grow without end. A RESTART waits (within the
// busy timeout) for readers of old frames, holds writers for that moment, and lets the next
// writer start the WAL from the beginning; journal_size_limit then truncates the file.
const walRestartFrames = 16384 // 64 MiB of 4 KiB pages

func (db *DB) startCheckpointer() {
	db.checkpointQuit = make(chan struct{})
	db.checkpointDone = make(chan struct{})
	go func() {
		defer close(db.checkpointDone)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-db.checkpointQuit:
				return
			case <-t.C:
				db.checkpoint()
			}
		}
	}()
}

// checkpoint runs a PASSIVE checkpoint, and a RESTART one when the WAL has grown long. A
// failed checkpoint is retried on the next tick; the WAL just grows meanwhile, so failures
// are logged (see checkpointLog).
func (db *DB) checkpoint() {
	ctx := context.Background()
	var busy, frames, done int
	if err := db.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done); err != nil {
		db.cp.failed(db, "PASSIVE", err)
		return
	}
	limit := walRestartFrames
	if db.walRestartFrames > 0 {
		limit = db.walRestartFrames
	}
	if frames > limit {
		if _, err := db.w.ExecContext(ctx, "PRAGMA wal_checkpoint(RESTART)"); err != nil {
			db.cp.failed(db, "RESTART", err)
			return
		}
	}
	db.cp.succeeded(db, frames)
}

// checkpointLogEvery is how often a checkpoint that keeps failing is logged again.
const checkpointLogEvery = time.Minute

// checkpointLog turns checkpoint outcomes into log lines an operator can use: the first
// failure at Warn, then one line a minute while they go on (with their count), and one
// at Info when a checkpoint succeeds again.
type checkpointLog struct {
	mu       sync.Mutex
	failures int       // consecutive failures
	logged   time.Time // when a failure was last logged
}

func (c *checkpointLog) failed(db *DB, mode string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures++
	now := time.Now()
	if c.failures == 1 || now.Sub(c.logged) >= checkpointLogEvery {
		c.logged = now
		db.log.Warn("SQLite WAL checkpoint failed; the WAL file grows until one succeeds",
			"mode", mode, "failures", c.failures, "error", err)
	}
}

func (c *checkpointLog) succeeded(db *DB, frames int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failures > 0 {
		db.log.Info("SQLite WAL checkpoint succeeded again", "failed_before", c.failures, "wal_frames", frames)
	}
	c.failures = 0
}

func (db *DB) stopCheckpointer() {
	if db.checkpointQuit == nil {
		return
	}
	close(db.checkpointQuit)
	<-db.checkpointDone
	// Leave a small WAL behind (the next Open replays a larger one: nothing is lost).
	if _, err := db.w.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		db.log.Warn("SQLite WAL checkpoint at close failed; the WAL is replayed at the next start", "error", err)
	}
}
