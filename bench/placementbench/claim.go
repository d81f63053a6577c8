package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// claimTally is the claim loop's shared counters.
type claimTally struct {
	tickets                                               atomic.Int64 // consumers left to place
	claimed, attempts, conflicts, gaveUp, noCands, others atomic.Int64

	mu    sync.Mutex
	codes map[string]int
	get   []time.Duration
	put   []time.Duration
}

func (t *claimTally) addGet(d time.Duration) { t.mu.Lock(); t.get = append(t.get, d); t.mu.Unlock() }
func (t *claimTally) addPut(d time.Duration) { t.mu.Lock(); t.put = append(t.put, d); t.mu.Unlock() }
func (t *claimTally) addCode(c string)       { t.mu.Lock(); t.codes[c]++; t.mu.Unlock() }

// claim runs the scheduler-like loop: cfg.Concurrency clients each repeatedly get candidates,
// pick one at random and PUT it for a new consumer, retrying on 409, until cfg.Claims consumers
// are placed, the candidates run out or cfg.MaxPhase has passed.
func (b *bench) claim(ctx context.Context) (*claimResult, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.MaxPhase)
	defer cancel()
	t := &claimTally{codes: map[string]int{}}
	t.tickets.Store(int64(b.cfg.Claims))
	path := "/allocation_candidates?" + b.ds.ClaimQuery + "&limit=" + strconv.Itoa(b.cfg.ClaimLimit)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range b.cfg.Concurrency {
		rng := rand.New(rand.NewPCG(b.cfg.Seed, seedOf(b.cfg.RunID+"/claim/"+strconv.Itoa(w))))
		wg.Go(func() { b.claimWorker(ctx, path, rng, t) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := &claimResult{
		Clients: b.cfg.Concurrency, Target: b.cfg.Claims, Seconds: round3(elapsed.Seconds()),
		Claimed: int(t.claimed.Load()), PutAttempts: int(t.attempts.Load()),
		Conflicts: int(t.conflicts.Load()), ConflictCodes: t.codes, GaveUp: int(t.gaveUp.Load()),
		NoCandidates: int(t.noCands.Load()), OtherErrors: int(t.others.Load()),
		GetLatency: summarize(t.get), PutLatency: summarize(t.put),
	}
	res.ClaimsPerSec = perSecond(res.Claimed, elapsed)
	b.logf("   %d claims in %.2fs: %.1f claims/s; %d PUTs, %d x 409, %d gave up, %d other errors; GET p50 %.2f ms, PUT p50 %.2f ms",
		res.Claimed, res.Seconds, res.ClaimsPerSec, res.PutAttempts, res.Conflicts, res.GaveUp,
		res.OtherErrors, res.GetLatency.P50ms, res.PutLatency.P50ms)
	if res.Claimed == 0 {
		return res, fmt.Errorf("no claim succeeded (%d other errors)", res.OtherErrors)
	}
	return res, nil
}

// claimWorker places consumers until every consumer has been tried, the phase ends or there are
// no candidates left.
func (b *bench) claimWorker(ctx context.Context, path string, rng *rand.Rand, t *claimTally) {
	for ctx.Err() == nil && t.tickets.Add(-1) >= 0 {
		if !b.claimOne(ctx, path, rng, t) {
			return
		}
	}
}

// claimOne places one new consumer, with up to cfg.Retries retries after a 409. It reports
// whether the worker should go on.
func (b *bench) claimOne(ctx context.Context, path string, rng *rand.Rand, t *claimTally) bool {
	consumer := randomUUID(rng)
	for range b.cfg.Retries + 1 {
		r, err := b.c.do(ctx, "GET", path, b.cfg.MV, nil)
		if err != nil || r.status != 200 {
			return b.claimFailed(ctx, t, "claim_get", r, err)
		}
		t.addGet(r.dur)
		allocs, ok := pickCandidate(r.body, rng)
		if !ok {
			t.noCands.Add(1)
			return false
		}
		t.attempts.Add(1)
		r, err = b.c.do(ctx, "PUT", "/allocations/"+consumer, b.cfg.MV, b.allocationBody(allocs))
		if err != nil {
			return b.claimFailed(ctx, t, "claim_put", r, err)
		}
		t.addPut(r.dur)
		switch r.status {
		case 204:
			t.claimed.Add(1)
			return true
		case 409:
			t.conflicts.Add(1)
			t.addCode(errorCode(r.body))
		default:
			return b.claimFailed(ctx, t, "claim_put", r, nil)
		}
	}
	t.gaveUp.Add(1)
	return true
}

// claimFailed counts a failed request of the claim loop and reports whether to go on: not
// when the phase has ended.
func (b *bench) claimFailed(ctx context.Context, t *claimTally, op string, r response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	t.others.Add(1)
	if err != nil {
		b.countError(op + "_transport")
	} else {
		b.countError(op + "_" + strconv.Itoa(r.status))
	}
	return true
}

// pickCandidate returns the allocations of a random allocation request of an answer.
func pickCandidate(body []byte, rng *rand.Rand) (json.RawMessage, bool) {
	var doc struct {
		ARs []struct {
			Allocations json.RawMessage `json:"allocations"`
		} `json:"allocation_requests"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.ARs) == 0 {
		return nil, false
	}
	return doc.ARs[rng.IntN(len(doc.ARs))].Allocations, true
}

// allocationBody is a PUT /allocations/{consumer} body for a new consumer.
func (b *bench) allocationBody(allocs any) map[string]any {
	body := map[string]any{
		"allocations":         allocs,
		"project_id":          "bench-project",
		"user_id":             "bench-user",
		"consumer_generation": nil,
	}
	if minorVersion(b.cfg.MV) >= 38 {
		body["consumer_type"] = "INSTANCE"
	}
	return body
}

// minorVersion returns the minor part of a "1.NN" microversion, or 0.
func minorVersion(mv string) int {
	_, minor, _ := strings.Cut(mv, ".")
	n, err := strconv.Atoi(minor)
	if err != nil {
		return 0
	}
	return n
}

// randomUUID returns a version-4 UUID from rng.
func randomUUID(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// seedOf hashes s into a random-number seed, so that runs with different run ids use
// different consumer UUIDs.
func seedOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// isPhaseEnd reports whether err only says that the phase's time is up.
func isPhaseEnd(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled))
}
