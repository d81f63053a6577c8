package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
)

// put writes cfg.Puts allocations, each for a new consumer on a distinct provider that has
// capacity for the data set's PutResources, with cfg.Concurrency clients.
func (b *bench) put(ctx context.Context) (*putResult, error) {
	free, err := b.freeProviders(ctx, b.cfg.Puts)
	if err != nil {
		return nil, err
	}
	b.logf("   %d allocations to distinct free providers with %d clients", len(free), b.cfg.Concurrency)
	ctx, cancel := context.WithTimeout(ctx, b.cfg.MaxPhase)
	defer cancel()
	consumers := b.consumerIDs(len(free))
	byStatus := newRecorder() // latencies by response status
	start := time.Now()
	err = forEach(ctx, len(free), b.cfg.Concurrency, func(ctx context.Context, i int) error {
		allocs := map[string]any{free[i]: map[string]any{"resources": b.ds.PutResources}}
		r, err := b.c.do(ctx, "PUT", "/allocations/"+consumers[i], b.cfg.MV, b.allocationBody(allocs))
		if err != nil {
			return err
		}
		byStatus.add(strconv.Itoa(r.status), r.dur)
		return nil
	})
	elapsed := time.Since(start)
	if err != nil && !isPhaseEnd(ctx, err) {
		return nil, err
	}
	res := newPutResult(b.cfg.Concurrency, len(free), elapsed, byStatus)
	b.logf("   %d allocations in %.2fs: %.1f allocations/s; %d x 409, %d other; PUT p50 %.2f ms p99 %.2f ms",
		res.Allocated, res.Seconds, res.AllocsPerSec, res.Conflicts, res.OtherErrors, res.Latency.P50ms, res.Latency.P99ms)
	if res.Allocated == 0 {
		return res, fmt.Errorf("no allocation succeeded: statuses %v", res.Statuses)
	}
	return res, nil
}

// newPutResult summarizes the put phase from its latencies by response status.
func newPutResult(clients, target int, elapsed time.Duration, byStatus *recorder) *putResult {
	statuses := map[string]int{}
	for status, s := range byStatus.summary() {
		statuses[status] = s.N
	}
	res := &putResult{
		Clients: clients, Target: target, Seconds: round3(elapsed.Seconds()),
		Allocated: statuses["204"], Conflicts: statuses["409"], Statuses: statuses,
		Latency: summarize(byStatus.all()),
	}
	res.OtherErrors = byStatus.count() - res.Allocated - res.Conflicts
	res.AllocsPerSec = perSecond(res.Allocated, elapsed)
	return res
}

// consumerIDs returns n new consumer UUIDs, different for every run id.
func (b *bench) consumerIDs(n int) []string {
	rng := rand.New(rand.NewPCG(b.cfg.Seed, seedOf(b.cfg.RunID+"/put")))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = randomUUID(rng)
	}
	return ids
}

// freeProviders returns up to n providers that have capacity for the data set's PutResources,
// in UUID order.
func (b *bench) freeProviders(ctx context.Context, n int) ([]string, error) {
	var parts []string
	for rc, amount := range b.ds.PutResources {
		parts = append(parts, rc+":"+strconv.Itoa(amount))
	}
	sort.Strings(parts)
	r, err := b.c.expect(ctx, "GET", "/resource_providers?resources="+strings.Join(parts, ","), b.cfg.MV, nil, 200)
	if err != nil {
		return nil, fmt.Errorf("find free providers: %w", err)
	}
	var doc struct {
		RPs []struct {
			UUID string `json:"uuid"`
		} `json:"resource_providers"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		return nil, fmt.Errorf("find free providers: %w", err)
	}
	uuids := make([]string, 0, len(doc.RPs))
	for _, p := range doc.RPs {
		uuids = append(uuids, p.UUID)
	}
	sort.Strings(uuids)
	if len(uuids) == 0 {
		return nil, fmt.Errorf("find free providers: none has capacity for %s", strings.Join(parts, ","))
	}
	return uuids[:min(n, len(uuids))], nil
}
