package app_test

import (
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"ingot/internal/app"
	"ingot/internal/app/apptest"
)

// TestSlowClientIsCutOff sends a request's headers and then trickles its body, one byte a
// quarter second, to the real server: the connection must be closed once the read timeout
// has passed, not held for as long as the client keeps trickling.
func TestSlowClientIsCutOff(t *testing.T) {
	cfg := app.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DatabaseURL = "sqlite:" + filepath.Join(t.TempDir(), "ingot.db")
	cfg.ReadTimeout = time.Second
	addr := apptest.Serve(t, cfg, slog.New(slog.DiscardHandler))

	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /resource_providers HTTP/1.1\r\nHost: x\r\nX-Auth-Token: admin\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	deadline := start.Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := conn.Write([]byte("{")); err != nil {
			break // the server closed the connection
		}
		// A closed connection also shows as a read that ends.
		conn.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		buf := make([]byte, 512)
		if _, err := conn.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			break
		} else {
			// An answer (the server gave up on the body): read until it closes.
			conn.SetReadDeadline(deadline)
			_, _ = io.Copy(io.Discard, conn)
			break
		}
	}
	held := time.Since(start)
	if held >= 15*time.Second {
		t.Fatalf("a trickling client was held %v with a read timeout of %v", held, cfg.ReadTimeout)
	}
	t.Logf("trickling client cut off after %v", held)
}
