package main

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// minSamples is the fewest measured requests per query, whatever the time budget.
const minSamples = 5

// candidates measures every allocation-candidates query of the data set at every limit.
func (b *bench) candidates(ctx context.Context) ([]queryResult, error) {
	var out []queryResult
	for _, limit := range b.cfg.Limits {
		for _, q := range b.ds.Queries {
			name := q.Name + ".limit" + strconv.Itoa(limit)
			path := "/allocation_candidates?" + q.QS + "&limit=" + strconv.Itoa(limit)
			res, err := b.measure(ctx, name, path, b.cfg.Samples, countCandidates)
			if err != nil {
				return out, err
			}
			res.Limit = limit
			b.logf("   %-40s %5d ARs %5d summaries %8d bytes  p50 %8.2f ms  p99 %8.2f ms  (%d samples)",
				name, res.Items, res.Summaries, res.Bytes, res.Latency.P50ms, res.Latency.P99ms, res.Latency.N)
			out = append(out, res)
		}
	}
	return out, nil
}

// list measures the data set's GET /resource_providers queries.
func (b *bench) list(ctx context.Context) ([]queryResult, error) {
	var out []queryResult
	for _, q := range b.ds.ListQueries {
		path := "/resource_providers"
		if q.QS != "" {
			path += "?" + q.QS
		}
		res, err := b.measure(ctx, q.Name, path, b.cfg.ListSamples, countProviders)
		if err != nil {
			return out, err
		}
		b.logf("   list %-35s %5d providers %8d bytes  p50 %8.2f ms  p99 %8.2f ms",
			q.Name, res.Items, res.Bytes, res.Latency.P50ms, res.Latency.P99ms)
		out = append(out, res)
	}
	return out, nil
}

// measure sends cfg.Warmup unmeasured GETs of path, then measured ones until samples are taken
// or the query budget is spent (but at least minSamples). count reads the item counts of the
// first successful answer. Non-200 answers are counted as errors and not measured. A request
// that runs past cfg.QueryTimeout ends the query: it is reported as timed out, with the
// timeout as its latency (a lower bound), and the run goes on with the next query.
func (b *bench) measure(ctx context.Context, name, path string, samples int,
	count func([]byte) (items, summaries int)) (queryResult, error) {
	res := queryResult{Name: name, Path: path}
	start := time.Now()
	timedOut := func() (queryResult, error) {
		res.TimedOut = true
		b.countError("timeout_" + name)
		ms := round3(float64(b.cfg.QueryTimeout) / float64(time.Millisecond))
		res.Latency = Stats{N: 1, P50ms: ms, P90ms: ms, P95ms: ms, P99ms: ms, MeanMs: ms, MinMs: ms, MaxMs: ms}
		res.Seconds = round3(time.Since(start).Seconds())
		b.logf("   %-40s timed out after %s", name, b.cfg.QueryTimeout)
		return res, nil
	}
	var ds []time.Duration
	for i := 0; i < b.cfg.Warmup+samples; i++ {
		measured := i - b.cfg.Warmup // negative while warming up
		if measured == 0 {
			start = time.Now()
		}
		if measured >= minSamples && time.Since(start) > b.cfg.QueryBudget {
			break
		}
		r, err := b.get(ctx, path)
		if err != nil {
			if isTimeout(ctx, err) {
				return timedOut()
			}
			return res, err
		}
		if measured < 0 {
			continue
		}
		if r.status != 200 {
			res.Errors++
			b.countError("get_" + name)
			continue
		}
		if len(ds) == 0 {
			res.Items, res.Summaries = count(r.body)
			res.Bytes = len(r.body)
		}
		ds = append(ds, r.dur)
	}
	res.Seconds = round3(time.Since(start).Seconds())
	res.Latency = summarize(ds)
	return res, nil
}

// get sends one measured read, bounded by cfg.QueryTimeout when it is set.
func (b *bench) get(ctx context.Context, path string) (response, error) {
	if b.cfg.QueryTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.cfg.QueryTimeout)
		defer cancel()
	}
	return b.c.do(ctx, "GET", path, b.cfg.MV, nil)
}

// isTimeout reports whether err is a read's own deadline passing while the run goes on.
func isTimeout(run context.Context, err error) bool {
	return run.Err() == nil && errors.Is(err, context.DeadlineExceeded)
}

// countCandidates returns the allocation requests and provider summaries of an answer.
func countCandidates(body []byte) (items, summaries int) {
	var doc struct {
		ARs       []json.RawMessage          `json:"allocation_requests"`
		Summaries map[string]json.RawMessage `json:"provider_summaries"`
	}
	_ = json.Unmarshal(body, &doc) // a malformed answer counts as empty
	return len(doc.ARs), len(doc.Summaries)
}

// countProviders returns the providers of a GET /resource_providers answer.
func countProviders(body []byte) (items, summaries int) {
	var doc struct {
		RPs []json.RawMessage `json:"resource_providers"`
	}
	_ = json.Unmarshal(body, &doc) // a malformed answer counts as empty
	return len(doc.RPs), 0
}
