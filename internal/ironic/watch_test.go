package ironic_test

import (
	"testing"
	"testing/synctest"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/uuid"
)

// TestWatchManyDeploys deploys 1,000 nodes in ten waves a second apart on a fake Ironic
// whose deploys take 30 s, and watches them with one ChangedNodes call every 2 s: every
// node is seen active within a tick of getting there, and no tick costs more listing
// requests than the page doubling needs for the changes it returns, however many nodes
// are in flight.
func TestWatchManyDeploys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			nodes  = 1000
			waves  = 10
			deploy = 30 * time.Second
			tick   = 2 * time.Second
		)
		s := ironictest.New(ironictest.WithTiming(ironictest.Timing{Deploy: deploy, Release: 100 * time.Millisecond}))
		ids := s.AddNodes(nodes, func(int) ironic.Node { return ironic.Node{ResourceClass: "gold", PowerState: ironic.PowerOff} })
		c := bubbleClient(t, s, ironic.Config{})
		ctx := t.Context()

		start := time.Now()
		activeAt := make(map[string]time.Duration, nodes) // when each node turns active
		go func() {
			for w := range waves {
				for _, id := range ids[w*nodes/waves : (w+1)*nodes/waves] {
					if _, err := c.PatchNode(ctx, id, ironic.ClaimOps(uuid.New())); err != nil {
						t.Errorf("claim: %v", err)
						return
					}
					if err := c.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{}); err != nil {
						t.Errorf("deploy: %v", err)
						return
					}
				}
				time.Sleep(time.Second)
			}
		}()
		synctest.Wait()
		for w := range waves {
			for _, id := range ids[w*nodes/waves : (w+1)*nodes/waves] {
				activeAt[id] = time.Duration(w)*time.Second + deploy
			}
		}

		_, mark, err := c.ChangedNodes(ctx, time.Time{}, ironic.WatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seenActive := map[string]time.Duration{}
		var ticks, maxPages, totalPages int
		for len(seenActive) < nodes && time.Since(start) < 2*time.Minute {
			time.Sleep(tick)
			s.ResetRequests()
			changed, next, err := c.ChangedNodes(ctx, mark, ironic.WatchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			mark = next
			ticks++
			pages := s.Counts()["GET /v1/nodes"]
			// 50, 100, 200, 400, 800, 1000: the pages a tick needs for len(changed) nodes.
			want, held := 1, ironic.DefaultWatchPage
			for limit := ironic.DefaultWatchPage; held <= len(changed); want++ {
				limit = min(2*limit, ironic.MaxLimit)
				held += limit
			}
			if pages > want {
				t.Errorf("tick %d: %d listing requests for %d changed nodes, want at most %d", ticks, pages, len(changed), want)
			}
			maxPages = max(maxPages, pages)
			totalPages += pages
			for _, n := range changed {
				if _, ok := seenActive[n.UUID]; !ok && n.ProvisionState == ironic.ProvisionStateActive {
					seenActive[n.UUID] = time.Since(start)
				}
			}
		}
		if len(seenActive) != nodes {
			t.Fatalf("saw %d of %d nodes active", len(seenActive), nodes)
		}
		for id, at := range seenActive {
			if lag := at - activeAt[id]; lag < 0 || lag > tick {
				t.Errorf("node %s active at %v, seen at %v: lag %v, want within one tick", id, activeAt[id], at, lag)
			}
		}
		// Once nothing moves, a tick is one request that returns nothing: the watermark
		// moved up with Ironic's clock.
		for range 3 {
			time.Sleep(tick)
			if _, mark, err = c.ChangedNodes(ctx, mark, ironic.WatchOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		s.ResetRequests()
		changed, _, err := c.ChangedNodes(ctx, mark, ironic.WatchOptions{})
		if err != nil || len(changed) != 0 || s.Counts()["GET /v1/nodes"] != 1 {
			t.Errorf("quiet tick: %d nodes, %d requests, %v; want none in one request", len(changed), s.Counts()["GET /v1/nodes"], err)
		}
		rate := float64(totalPages) / (time.Duration(ticks) * tick).Seconds()
		if rate > 2 {
			t.Errorf("watching cost %.2f listing requests a second, want at most 2", rate)
		}
		t.Logf("%d deploys watched in %d ticks: %d listing requests (%.2f/s), at most %d in a tick",
			nodes, ticks, totalPages, rate, maxPages)
	})
}
