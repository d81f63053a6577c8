// Package apptest runs app.Run in tests: Serve starts a whole ingot server for the length
// of a test.
package apptest

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"ingot/internal/app"
)

// Serve runs app.Run with cfg and log until the test ends (then stops it and requires a
// clean stop), and returns the address it listens on; a failed start fails the test.
func Serve(t testing.TB, cfg app.Config, log *slog.Logger) net.Addr {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, cfg, log, ready) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("app.Run: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return addr
	case err := <-done:
		done <- nil // Run has returned: the cleanup must not wait for it again
		t.Fatalf("app.Run: %v", err)
		return nil
	}
}
