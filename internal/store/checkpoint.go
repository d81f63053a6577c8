package store

import (
	"context"
	"time"
)

// checkpointEvery is how often the SQLite WAL is copied back into the database file. Writers
// do not checkpoint (wal_autocheckpoint is off on their connections), so a commit never
// waits for the fsync a checkpoint needs; PASSIVE checkpoints never block writers either.
const checkpointEvery = time.Second

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
				// A failed checkpoint is retried on the next tick; the WAL just grows meanwhile.
				_, _ = db.w.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
			}
		}
	}()
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
