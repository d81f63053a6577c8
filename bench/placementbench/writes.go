package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// writesResult is the allocation-write loop: -c clients, each on its own share of the free
// providers, writing an allocation for a new consumer and deleting it again, for
// -writes-duration. Every write of the loop is undone, so the data set is the same after the
// phase as before it, and a later run with the same run id sends the same requests.
type writesResult struct {
	Clients   int     `json:"clients"`
	Providers int     `json:"providers"`
	Seconds   float64 `json:"seconds"`
	// Writes counts the successful PUTs and DELETEs.
	Writes       int            `json:"writes"`
	WritesPerSec float64        `json:"writes_per_s"`
	Puts         int            `json:"puts"`
	Deletes      int            `json:"deletes"`
	OtherErrors  int            `json:"other_errors"`
	Statuses     map[string]int `json:"statuses"` // "PUT 204": n
	PutLatency   Stats          `json:"put_latency"`
	DelLatency   Stats          `json:"delete_latency"`
}

// writes runs the allocation-write loop (see writesResult).
func (b *bench) writes(ctx context.Context) (*writesResult, error) {
	free, err := b.freeProviders(ctx, b.ds.providerCount())
	if err != nil {
		return nil, err
	}
	clients := b.cfg.Concurrency
	if len(free) < clients {
		return nil, fmt.Errorf("writes: %d free providers for %d clients (each needs its own)", len(free), clients)
	}
	b.logf("   allocation writes (PUT a new consumer, DELETE it) on %d free providers with %d clients for %s",
		len(free), clients, b.cfg.WritesDuration)
	rec := newRecorder() // latencies by "METHOD status"
	nonce := seedOf(randomHex(8))
	start := time.Now()
	deadline := start.Add(b.cfg.WritesDuration)
	var wg sync.WaitGroup
	for w := range clients {
		var mine []string // providers w, w+clients, ...: no two clients write to one provider
		for i := w; i < len(free); i += clients {
			mine = append(mine, free[i])
		}
		rng := rand.New(rand.NewPCG(nonce, seedOf(b.cfg.RunID+"/writes/"+strconv.Itoa(w))))
		wg.Go(func() {
			for i := 0; ctx.Err() == nil && time.Now().Before(deadline); i++ {
				if !b.writeOne(ctx, mine[i%len(mine)], randomUUID(rng), rec) {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := newWritesResult(clients, len(free), elapsed, rec)
	b.logf("   %d writes in %.2fs: %.1f writes/s (%d PUT, %d DELETE, %d other); PUT p50 %.2f ms, DELETE p50 %.2f ms",
		res.Writes, res.Seconds, res.WritesPerSec, res.Puts, res.Deletes, res.OtherErrors,
		res.PutLatency.P50ms, res.DelLatency.P50ms)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if res.OtherErrors > 0 {
		return res, fmt.Errorf("writes: unexpected statuses %v", res.Statuses)
	}
	if res.Writes == 0 {
		return res, fmt.Errorf("writes: no write succeeded")
	}
	return res, nil
}

// writeOne writes an allocation on provider for consumer and deletes it again. It records
// each answer's status and latency and reports whether the client should go on: not after
// a transport error, nor when the allocation could not be removed (the provider would stay
// full).
func (b *bench) writeOne(ctx context.Context, provider, consumer string, rec *recorder) bool {
	put, del, err := b.writeAndDelete(ctx, b.c, provider, consumer)
	if put.status != 0 {
		rec.add("PUT "+strconv.Itoa(put.status), put.dur)
	}
	if del.status != 0 {
		rec.add("DELETE "+strconv.Itoa(del.status), del.dur)
	}
	return err == nil
}

// writeAndDelete sends, on c, PUT /allocations/{consumer} with the data set's PutResources
// on provider and, when that answered 204, DELETE /allocations/{consumer}. It returns both
// answers (the DELETE's zero when it was not sent) and an error after a transport error or
// a failed DELETE, which leave the provider in an unknown state or full; each failure is
// counted.
func (b *bench) writeAndDelete(ctx context.Context, c *client, provider, consumer string) (put, del response, err error) {
	allocs := map[string]any{provider: map[string]any{"resources": b.ds.PutResources}}
	put, err = c.do(ctx, "PUT", "/allocations/"+consumer, b.cfg.MV, b.allocationBody(allocs))
	if err != nil {
		b.countError("writes_put_transport")
		return put, del, err
	}
	if put.status != 204 {
		b.countError("writes_put_" + strconv.Itoa(put.status))
		return put, del, nil
	}
	// The deletion of what was just written is never cut short by the deadline.
	del, err = c.do(context.WithoutCancel(ctx), "DELETE", "/allocations/"+consumer, b.cfg.MV, nil)
	if err != nil {
		b.countError("writes_delete_transport")
		return put, del, err
	}
	if del.status != 204 {
		b.countError("writes_delete_" + strconv.Itoa(del.status))
		return put, del, fmt.Errorf("DELETE /allocations/%s: status %d", consumer, del.status)
	}
	return put, del, nil
}

// newWritesResult summarizes the write loop from its latencies by "METHOD status".
func newWritesResult(clients, providers int, elapsed time.Duration, rec *recorder) *writesResult {
	res := &writesResult{Clients: clients, Providers: providers, Seconds: round3(elapsed.Seconds()),
		Statuses: map[string]int{}}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for op, ds := range rec.byOp {
		res.Statuses[op] = len(ds)
		switch op {
		case "PUT 204":
			res.Puts = len(ds)
			res.PutLatency = summarize(ds)
		case "DELETE 204":
			res.Deletes = len(ds)
			res.DelLatency = summarize(ds)
		default:
			res.OtherErrors += len(ds)
		}
	}
	res.Writes = res.Puts + res.Deletes
	res.WritesPerSec = perSecond(res.Writes, elapsed)
	return res
}
