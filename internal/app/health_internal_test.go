package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ingot/internal/reconcile"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// TestHealthDatabaseClosed: the health handler app.Run mounts, over a database that
// closes under it, answers 503 naming the database.
func TestHealthDatabaseClosed(t *testing.T) {
	for _, backend := range storetest.Backends() {
		t.Run(backend, func(t *testing.T) {
			db, err := store.Open(context.Background(), storetest.DSN(t, backend))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(newHealth(DefaultConfig(), db, nil, slog.New(slog.NewTextHandler(t.Output(), nil))))
			defer srv.Close()
			get := func(path string) (int, string) {
				resp, err := http.Get(srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			if code, body := get("/readyz"); code != 200 || body != "ok" {
				t.Fatalf("GET /readyz on an open database = %d %q", code, body)
			}
			db.Close()
			code, body := get("/readyz")
			if code != 503 || !strings.Contains(body, "[-]database failed: ping database: sql: database is closed") ||
				!strings.Contains(body, "[-]migrations failed") {
				t.Errorf("GET /readyz on a closed database = %d %q", code, body)
			}
			if code, body := get("/healthcheck"); code != 503 || !strings.HasPrefix(body, "database: ping database:") {
				t.Errorf("GET /healthcheck on a closed database = %d %q", code, body)
			}
			if code, _ := get("/livez"); code != 200 {
				t.Errorf("GET /livez on a closed database = %d; want 200 (liveness checks no dependency)", code)
			}
		})
	}
}

func TestTrackerReady(t *testing.T) {
	now := time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC)
	down := errors.New("ironic: 503")
	for _, tt := range []struct {
		st        reconcile.Status
		note, err string
	}{
		{reconcile.Status{}, "", "no tracker pass completed yet"},
		{reconcile.Status{Failures: 2, LastError: down}, "", "no tracker pass completed yet (2 failed, the last: ironic: 503)"},
		{reconcile.Status{Passes: 3, LastPass: now.Add(-4 * time.Second)}, "3 passes, the last ended 4s ago", ""},
		{reconcile.Status{Passes: 3, LastPass: now.Add(-time.Minute), Failures: 1, LastError: down},
			"3 passes, the last ended 1m0s ago; 1 failed since, the last: ironic: 503", ""},
	} {
		note, err := trackerReady(tt.st, now)
		if note != tt.note || (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("trackerReady(%+v) = %q, %v; want %q, %q", tt.st, note, err, tt.note, tt.err)
		}
	}
}
