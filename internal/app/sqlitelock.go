package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockSQLite makes sure one ingot process at a time serves an SQLite database: it takes
// an exclusive flock on PATH.lock and writes its pid there. The kernel drops the lock
// when the process dies, kill -9 included, so a stale file never refuses a restart.
// It returns the function that releases the lock.
func lockSQLite(dbPath string) (func(), error) {
	if dir := filepath.Dir(dbPath); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("lock database: %w", err)
		}
	}
	path := dbPath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock database: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := "another process"
			if b, rerr := os.ReadFile(path); rerr == nil {
				if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
					holder = fmt.Sprintf("ingot process %d", pid)
				}
			}
			return nil, fmt.Errorf("database %s is in use by %s (lock %s): an SQLite database serves exactly one ingot; "+
				"run several replicas on PostgreSQL", dbPath, holder, path)
		}
		return nil, fmt.Errorf("lock database %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
