package store

import (
	"context"
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
// failed checkpoint is retried on the next tick; the WAL just grows meanwhile.
func (db *DB) checkpoint() {
	ctx := context.Background()
	var busy, frames, done int
	if err := db.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done); err != nil {
		return
	}
	limit := walRestartFrames
	if db.walRestartFrames > 0 {
		limit = db.walRestartFrames
	}
	if frames > limit {
		_, _ = db.w.ExecContext(ctx, "PRAGMA wal_checkpoint(RESTART)")
	}
}

func (db *DB) stopCheckpointer() {
	if db.checkpointQuit == nil {
		return
	}
	close(db.checkpointQuit)
	<-db.checkpointDone
	// Leave a small WAL behind.
	_, _ = db.w.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
}
