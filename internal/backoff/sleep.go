package backoff

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx ends, and returns ctx.Err() in that case (also when d <= 0
// and ctx has already ended). It waits on a timer, so inside a synctest bubble the wait
// is virtual.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
