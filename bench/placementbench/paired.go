package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// pairedResult is one request kind sent by one client alternately to the server (-url) and
// to the pair server (-pair-url), which hold the same data set: the two servers' latencies,
// and the difference pair - server of each pair of requests sent back to back. The servers
// take turns at going first. Load that comes and goes on the machine hits both alike, so
// the difference of the two medians (or the median of the differences) isolates what the
// servers do differently, e.g. authentication.
type pairedResult struct {
	Name   string `json:"name"`
	Path   string `json:"path,omitempty"`
	Errors int    `json:"errors,omitempty"` // pairs left out because one side failed
	Server Stats  `json:"server"`
	Pair   Stats  `json:"pair"`
	// Diff summarizes pair - server per pair (negative when the pair server was faster).
	Diff Stats `json:"diff"`

	lat   [2][]time.Duration // the samples, for pooling
	diffs []time.Duration
}

// pairedAll is the name of the paired phase's last result: every request kind's pairs
// pooled.
const pairedAll = "all"

// paired measures, alternating between the two servers, every candidate query of the data
// set at every -limits value and the allocation writes (a PUT for a new consumer, then its
// DELETE, as in the writes phase), -samples pairs each. A last result, "all", pools the
// pairs of every kind: a difference the servers add to every request (authentication)
// shows in its median difference with the most samples.
func (b *bench) paired(ctx context.Context) ([]pairedResult, error) {
	if b.cfg.PairURL == "" {
		return nil, fmt.Errorf("paired: no -pair-url")
	}
	clients := [2]*client{b.c, newClient(b.cfg.PairURL, b.cfg.PairToken, 1, b.cfg.Timeout)}
	var out []pairedResult
	for _, limit := range b.cfg.Limits {
		for _, q := range b.ds.Queries {
			name := q.Name + ".limit" + strconv.Itoa(limit)
			path := "/allocation_candidates?" + q.QS + "&limit=" + strconv.Itoa(limit)
			get := func(ctx context.Context, side int) ([]time.Duration, error) {
				r, err := clients[side].do(ctx, "GET", path, b.cfg.MV, nil)
				if err != nil {
					return nil, err
				}
				if r.status != 200 {
					b.countError("paired_get_" + strconv.Itoa(r.status) + "_" + name)
					return nil, nil
				}
				return []time.Duration{r.dur}, nil
			}
			res, err := b.alternate(ctx, []string{name}, get)
			if err != nil {
				return out, err
			}
			res[0].Path = path
			out = append(out, res...)
		}
	}
	writes, err := b.pairedWrites(ctx, clients)
	out = append(out, writes...)
	if err != nil {
		return out, err
	}
	all := pairedResult{Name: pairedAll}
	for _, r := range out {
		all.lat[0] = append(all.lat[0], r.lat[0]...)
		all.lat[1] = append(all.lat[1], r.lat[1]...)
		all.diffs = append(all.diffs, r.diffs...)
		all.Errors += r.Errors
	}
	all.Server, all.Pair, all.Diff = summarize(all.lat[0]), summarize(all.lat[1]), summarize(all.diffs)
	b.logPaired(all)
	return append(out, all), nil
}

// pairedWrites measures PUT and DELETE of allocations alternately on the two servers, each
// on its own free providers in turn.
func (b *bench) pairedWrites(ctx context.Context, clients [2]*client) ([]pairedResult, error) {
	var free [2][]string
	for side, c := range clients {
		saved := b.c
		b.c = c
		f, err := b.freeProviders(ctx, b.ds.providerCount())
		b.c = saved
		if err != nil {
			return nil, fmt.Errorf("paired writes, %s: %w", strings.Join(c.bases, ","), err)
		}
		free[side] = f
	}
	rng := rand.New(rand.NewPCG(seedOf(randomHex(8)), seedOf(b.cfg.RunID+"/paired")))
	var n [2]int
	write := func(ctx context.Context, side int) ([]time.Duration, error) {
		f := free[side]
		put, del, err := b.writeAndDelete(ctx, clients[side], f[n[side]%len(f)], randomUUID(rng))
		n[side]++
		if err != nil || put.status != 204 {
			return nil, err
		}
		return []time.Duration{put.dur, del.dur}, nil
	}
	return b.alternate(ctx, []string{"writes.put", "writes.delete"}, write)
}

// alternate takes cfg.Warmup unmeasured turns per side, then cfg.Samples pairs of turns
// (fewer when the query budget is spent, but at least minSamples), the sides taking turns
// at going first. A turn sends one or more requests; send returns their latencies, one per
// name, or none for a turn that does not count (its pair is left out).
func (b *bench) alternate(ctx context.Context, names []string, send func(ctx context.Context, side int) ([]time.Duration, error)) ([]pairedResult, error) {
	out := make([]pairedResult, len(names))
	for k, name := range names {
		out[k].Name = name
	}
	for range b.cfg.Warmup {
		for side := range 2 {
			if _, err := send(ctx, side); err != nil {
				return out, err
			}
		}
	}
	lat := make([][2][]time.Duration, len(names))
	diffs := make([][]time.Duration, len(names))
	start := time.Now()
	for i := 0; i < b.cfg.Samples && (i < minSamples || time.Since(start) <= b.cfg.QueryBudget); i++ {
		var d [2][]time.Duration
		for k := range 2 {
			side := (i + k) % 2
			var err error
			if d[side], err = send(ctx, side); err != nil {
				return out, err
			}
		}
		if len(d[0]) != len(names) || len(d[1]) != len(names) {
			for k := range out {
				out[k].Errors++
			}
			continue
		}
		for k := range names {
			lat[k][0] = append(lat[k][0], d[0][k])
			lat[k][1] = append(lat[k][1], d[1][k])
			diffs[k] = append(diffs[k], d[1][k]-d[0][k])
		}
	}
	for k := range out {
		out[k].lat, out[k].diffs = lat[k], diffs[k]
		out[k].Server, out[k].Pair, out[k].Diff = summarize(lat[k][0]), summarize(lat[k][1]), summarize(diffs[k])
		b.logPaired(out[k])
	}
	return out, nil
}

func (b *bench) logPaired(r pairedResult) {
	b.logf("   %-40s p50 %8.3f ms vs %8.3f ms: %+8.3f ms; median difference %+8.3f ms (%d pairs, %d left out)",
		r.Name, r.Server.P50ms, r.Pair.P50ms, r.Pair.P50ms-r.Server.P50ms, r.Diff.P50ms, r.Diff.N, r.Errors)
}
