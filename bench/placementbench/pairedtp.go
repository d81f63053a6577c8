package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// tpSide is one server's share of a pairedtp measurement.
type tpSide struct {
	Done    int     `json:"done"` // requests answered 200 (writes: 204)
	Errors  int     `json:"errors,omitempty"`
	Seconds float64 `json:"seconds"`
	PerSec  float64 `json:"per_s"`
}

// pairedTPResult is one request kind sent with many clients to the server (-url) and to the
// pair server (-pair-url) in alternating time slices: each side's rate over its slices, and
// pair/server both over the whole and as the median of the slice pairs' ratios.
type pairedTPResult struct {
	Name    string `json:"name"`
	Path    string `json:"path,omitempty"`
	Clients int    `json:"clients"`
	Slices  int    `json:"slices"` // per side
	Server  tpSide `json:"server"`
	Pair    tpSide `json:"pair"`
	// Ratio is the pair's rate over the server's; RatioMedian the median over the slice
	// pairs of the same ratio.
	Ratio       float64 `json:"ratio"`
	RatioMedian float64 `json:"ratio_median"`
}

// pairedTP measures throughput on the two servers in alternating slices of cfg.Slice, the
// sides taking turns at going first, for cfg.TPDuration per side and query (cfg.TPClients
// clients sending the data set's candidate queries, with cfg.TPLimit) and cfg.WritesDuration
// per side of allocation writes (cfg.Concurrency clients, each on its own free providers,
// PUT for a new consumer then DELETE, as the writes phase). A slice ends when its last
// request in flight has been answered. Load that comes and goes on the machine hits both
// sides alike.
func (b *bench) pairedTP(ctx context.Context) ([]pairedTPResult, error) {
	if b.cfg.PairURL == "" {
		return nil, fmt.Errorf("pairedtp: no -pair-url")
	}
	conns := max(b.cfg.TPClients, b.cfg.Concurrency)
	clients := [2]*client{newClient(b.cfg.URL, b.cfg.Token, conns, b.cfg.Timeout),
		newClient(b.cfg.PairURL, b.cfg.PairToken, conns, b.cfg.Timeout)}
	var out []pairedTPResult
	for _, q := range b.ds.Queries {
		name, path := q.Name, "/allocation_candidates?"+q.QS
		if b.cfg.TPLimit > 0 {
			name += ".limit" + strconv.Itoa(b.cfg.TPLimit)
			path += "&limit=" + strconv.Itoa(b.cfg.TPLimit)
		}
		slice := func(ctx context.Context, side int, until time.Time) (done, errs int, err error) {
			return b.getSlice(ctx, clients[side], path, b.cfg.TPClients, until)
		}
		res, err := b.alternateSlices(ctx, name, b.cfg.TPClients, b.cfg.TPDuration, slice)
		res.Path = path
		out = append(out, res)
		if err != nil {
			return out, err
		}
	}
	res, err := b.pairedWritesTP(ctx, clients)
	return append(out, res), err
}

// getSlice runs n clients sending GET path on c until the deadline and waits for the
// requests in flight. It returns the 200s and the other answers. Its connections are closed
// at the end: a server's keep-alive connections are never left idle between slices (the
// real Placement's gunicorn gthread worker was seen leaving a request on such a connection
// unanswered), and every slice starts alike.
func (b *bench) getSlice(ctx context.Context, c *client, path string, n int, until time.Time) (done, errs int, err error) {
	defer c.hc.CloseIdleConnections()
	var ok, bad atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			buf := make([]byte, 256<<10)
			for ctx.Err() == nil && time.Now().Before(until) {
				status, _, _, e := c.getDiscard(ctx, path, b.cfg.MV, buf)
				switch {
				case e != nil:
					once.Do(func() { err = e })
					return
				case status == 200:
					ok.Add(1)
				default:
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(ok.Load()), int(bad.Load()), err
}

// pairedWritesTP is the write part of pairedTP.
func (b *bench) pairedWritesTP(ctx context.Context, clients [2]*client) (pairedTPResult, error) {
	n := b.cfg.Concurrency
	var mine [2][][]string // by side, by writer: its providers
	for side, c := range clients {
		saved := b.c
		b.c = c
		free, err := b.freeProviders(ctx, b.ds.providerCount())
		b.c = saved
		if err != nil {
			return pairedTPResult{Name: "writes"}, fmt.Errorf("pairedtp writes, %s: %w", strings.Join(c.bases, ","), err)
		}
		if len(free) < n {
			return pairedTPResult{Name: "writes"}, fmt.Errorf("pairedtp writes: %d free providers for %d clients (each needs its own)", len(free), n)
		}
		mine[side] = make([][]string, n)
		for i, p := range free {
			mine[side][i%n] = append(mine[side][i%n], p)
		}
	}
	var next [2][]int // by side, by writer: its next provider
	next[0], next[1] = make([]int, n), make([]int, n)
	nonce := seedOf(randomHex(8))
	slice := func(ctx context.Context, side int, until time.Time) (done, errs int, err error) {
		defer clients[side].hc.CloseIdleConnections() // as getSlice
		var ok, bad atomic.Int64
		var once sync.Once
		var wg sync.WaitGroup
		for w := range n {
			rng := rand.New(rand.NewPCG(nonce, seedOf(b.cfg.RunID+"/pairedtp/"+strconv.Itoa(side)+"/"+strconv.Itoa(w)+"/"+strconv.Itoa(next[side][w]))))
			wg.Go(func() {
				for ctx.Err() == nil && time.Now().Before(until) {
					ps := mine[side][w]
					put, del, e := b.writeAndDelete(ctx, clients[side], ps[next[side][w]%len(ps)], randomUUID(rng))
					next[side][w]++
					for _, r := range []response{put, del} {
						switch r.status {
						case 0:
						case 204:
							ok.Add(1)
						default:
							bad.Add(1)
						}
					}
					if e != nil {
						once.Do(func() { err = e })
						return
					}
				}
			})
		}
		wg.Wait()
		return int(ok.Load()), int(bad.Load()), err
	}
	return b.alternateSlices(ctx, "writes", n, b.cfg.WritesDuration, slice)
}

// alternateSlices runs slice on the two sides in turn, each time until cfg.Slice from the
// slice's start, the sides taking turns at going first, until each side has had
// ceil(total/cfg.Slice) slices.
func (b *bench) alternateSlices(ctx context.Context, name string, clients int, total time.Duration,
	slice func(ctx context.Context, side int, until time.Time) (done, errs int, err error)) (pairedTPResult, error) {
	n := max(1, int((total+b.cfg.Slice-1)/b.cfg.Slice))
	res := pairedTPResult{Name: name, Clients: clients, Slices: n}
	var done, errs [2]int
	var secs [2]float64
	var ratios []float64 // pair/server per slice pair
	for i := range n {
		var rate [2]float64
		for k := range 2 {
			side := (i + k) % 2
			start := time.Now()
			d, e, err := slice(ctx, side, start.Add(b.cfg.Slice))
			el := time.Since(start).Seconds()
			done[side] += d
			errs[side] += e
			secs[side] += el
			rate[side] = float64(d) / el
			if err != nil {
				return res, err
			}
		}
		if rate[0] > 0 {
			ratios = append(ratios, rate[1]/rate[0])
		}
	}
	sides := [2]*tpSide{&res.Server, &res.Pair}
	for side, s := range sides {
		*s = tpSide{Done: done[side], Errors: errs[side], Seconds: round3(secs[side]), PerSec: round3(float64(done[side]) / secs[side])}
		if errs[side] > 0 {
			b.countError("pairedtp_" + name + "_side" + strconv.Itoa(side))
		}
	}
	if res.Server.PerSec > 0 {
		res.Ratio = round3(res.Pair.PerSec / res.Server.PerSec)
	}
	res.RatioMedian = round3(medianFloat(ratios))
	b.logf("   %-32s %d clients, %d x %s per side: %8.1f/s vs %8.1f/s: ratio %.3f (median over slice pairs %.3f); errors %d, %d",
		name, clients, n, b.cfg.Slice, res.Server.PerSec, res.Pair.PerSec, res.Ratio, res.RatioMedian, errs[0], errs[1])
	return res, nil
}
