package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"ingot/internal/health"
	"ingot/internal/reconcile"
	"ingot/internal/store"
)

// newHealth returns the health endpoints' handler: readiness is the database answering,
// its schema holding every migration of this binary, and, when tracker is not nil, the
// tracker's first pass done.
func newHealth(cfg Config, db *store.DB, tracker *reconcile.Reconciler, log *slog.Logger) *health.Handler {
	checks := []health.Check{
		{Name: "database", Run: func(ctx context.Context) (string, error) { return "", db.Ping(ctx) }},
		{Name: "migrations", Run: func(ctx context.Context) (string, error) {
			s, err := db.Schema(ctx)
			if err != nil {
				return "", err
			}
			var note string
			if len(s.Unknown) > 0 {
				note = "applied by a newer ingot: " + strings.Join(s.Unknown, ", ")
			}
			if !s.Current() {
				return note, fmt.Errorf("the database lacks this binary's migrations %s (restart ingot to apply them)", strings.Join(s.Missing, ", "))
			}
			return note, nil
		}},
	}
	if tracker != nil {
		checks = append(checks, health.Check{Name: "tracker", Run: func(context.Context) (string, error) {
			return trackerReady(tracker.Status(), time.Now())
		}})
	}
	return health.New(health.Options{
		Checks:      checks,
		DisableFile: cfg.HealthcheckDisableFile,
		Detailed:    cfg.HealthcheckDetailed,
		Logger:      log,
	})
}

// trackerReady is the tracker's readiness: ready once a pass has completed. Later failed
// passes (Ironic down) do not take ingot out of service: the Placement API keeps serving
// what the last pass wrote, and the note says so.
func trackerReady(st reconcile.Status, now time.Time) (string, error) {
	if st.Passes == 0 {
		if st.LastError != nil {
			return "", fmt.Errorf("no tracker pass completed yet (%d failed, the last: %w)", st.Failures, st.LastError)
		}
		return "", errors.New("no tracker pass completed yet")
	}
	note := fmt.Sprintf("%d passes, the last ended %s ago", st.Passes, now.Sub(st.LastPass).Round(time.Second))
	if st.Failures > 0 {
		note += fmt.Sprintf("; %d failed since, the last: %v", st.Failures, st.LastError)
	}
	return note, nil
}
