package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// checkResult is the canonical form of one query's full answer, to compare servers: the
// candidates as order-insensitive sets of (provider, class, amount) with each group's
// providers, and the provider summaries, with providers named by their place in the data set
// (UUIDs differ between runs).
type checkResult struct {
	Name       string `json:"name"`
	Path       string `json:"path"`
	Candidates int    `json:"candidates"`
	Summaries  int    `json:"summaries"`
	// CandidatesSHA256 and SummariesSHA256 hash the sorted canonical lines.
	CandidatesSHA256 string `json:"candidates_sha256"`
	SummariesSHA256  string `json:"summaries_sha256"`
	// File holds the canonical lines when -check-dir is set.
	File string `json:"file,omitempty"`
}

// gateResult is upstream's nested-perfload timing loop for one query: timed requests, then
// for each of -gate-allocs allocations one allocation written and more timed requests.
type gateResult struct {
	Name        string `json:"name"`
	Path        string `json:"path"`
	Allocations int    `json:"allocations_written"`
	// FirstItems and LastItems are the candidates of the first and the last timed answer.
	FirstItems int   `json:"first_candidates"`
	LastItems  int   `json:"last_candidates"`
	Summaries  int   `json:"summaries"`
	Bytes      int   `json:"bytes"`
	Errors     int   `json:"errors,omitempty"`
	Latency    Stats `json:"latency"`
	// AfterWrite holds only the first request after each change (and the very first one): a
	// server cannot have answered that view before.
	AfterWrite Stats `json:"after_write_latency"`
}

// throughputResult is -tp-clients clients sending one query in a loop for -tp-duration.
type throughputResult struct {
	Name       string  `json:"name"`
	Path       string  `json:"path"`
	Clients    int     `json:"clients"`
	Seconds    float64 `json:"seconds"`
	Requests   int     `json:"requests"` // answered 200
	Errors     int     `json:"errors,omitempty"`
	PerSec     float64 `json:"requests_per_s"`
	MBPerSec   float64 `json:"mb_per_s"`
	Latency    Stats   `json:"latency"`
	BodyBytes  int64   `json:"body_bytes"`
	MinBytes   int64   `json:"min_body_bytes"`
	MaxBytesOK int64   `json:"max_body_bytes"`
}

// check fetches every query's full answer once and records its canonical form.
func (b *bench) check(ctx context.Context) ([]checkResult, error) {
	names := b.ds.providerNames()
	var out []checkResult
	for _, q := range b.ds.Queries {
		path := "/allocation_candidates?" + q.QS
		r, err := b.c.expect(ctx, "GET", path, b.cfg.MV, nil, 200)
		if err != nil {
			return out, err
		}
		cands, sums, err := canonicalAnswer(r.body, names)
		if err != nil {
			return out, fmt.Errorf("check %s: %w", q.Name, err)
		}
		res := checkResult{Name: q.Name, Path: path, Candidates: len(cands), Summaries: len(sums),
			CandidatesSHA256: digest(cands), SummariesSHA256: digest(sums)}
		if b.cfg.CheckDir != "" {
			res.File = fmt.Sprintf("%s/%s-%s-%d-%s.check.txt", b.cfg.CheckDir, b.cfg.Server, b.cfg.Dataset, b.cfg.N, q.Name)
			text := "# candidates\n" + strings.Join(cands, "\n") + "\n# summaries\n" + strings.Join(sums, "\n") + "\n"
			if err := os.WriteFile(res.File, []byte(text), 0o644); err != nil {
				return out, fmt.Errorf("check %s: %w", q.Name, err)
			}
		}
		b.logf("   check %-20s %5d candidates %5d summaries  candidates sha256 %.16s  summaries sha256 %.16s",
			q.Name, res.Candidates, res.Summaries, res.CandidatesSHA256, res.SummariesSHA256)
		out = append(out, res)
	}
	return out, nil
}

// providerNames maps each provider UUID of the data set to its name without the run id.
func (d *dataset) providerNames() map[string]string {
	m := map[string]string{}
	for _, t := range d.Trees {
		for _, p := range t {
			name := p.Name
			if _, rest, ok := strings.Cut(name, "-"); ok { // "bench-<run id>-rest"
				if _, rest2, ok := strings.Cut(rest, "-"); ok {
					name = rest2
				}
			}
			m[p.UUID] = name
		}
	}
	return m
}

// canonicalAnswer returns one sorted line per candidate and per provider summary of a GET
// /allocation_candidates answer (1.34 or later), with UUIDs replaced by names where known.
func canonicalAnswer(body []byte, names map[string]string) (cands, sums []string, err error) {
	var doc struct {
		ARs []struct {
			Allocations map[string]struct {
				Resources map[string]int64 `json:"resources"`
			} `json:"allocations"`
			Mappings map[string][]string `json:"mappings"`
		} `json:"allocation_requests"`
		Summaries map[string]struct {
			Resources map[string]struct {
				Capacity int64 `json:"capacity"`
				Used     int64 `json:"used"`
			} `json:"resources"`
			Traits []string `json:"traits"`
			Parent *string  `json:"parent_provider_uuid"`
			Root   string   `json:"root_provider_uuid"`
		} `json:"provider_summaries"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("not an allocation-candidates answer: %w", err)
	}
	name := func(uuid string) string {
		if n, ok := names[uuid]; ok {
			return n
		}
		return uuid
	}
	for _, ar := range doc.ARs {
		var parts []string
		for rp, a := range ar.Allocations {
			for class, n := range a.Resources {
				parts = append(parts, name(rp)+"/"+class+":"+strconv.FormatInt(n, 10))
			}
		}
		slices.Sort(parts)
		var groups []string
		for _, sfx := range slices.Sorted(maps.Keys(ar.Mappings)) {
			rps := make([]string, len(ar.Mappings[sfx]))
			for i, u := range ar.Mappings[sfx] {
				rps[i] = name(u)
			}
			slices.Sort(rps)
			groups = append(groups, fmt.Sprintf("%q=[%s]", sfx, strings.Join(rps, ",")))
		}
		cands = append(cands, strings.Join(parts, " ")+" | "+strings.Join(groups, " "))
	}
	for uuid, s := range doc.Summaries {
		var res []string
		for class, r := range s.Resources {
			res = append(res, fmt.Sprintf("%s=%d/%d", class, r.Used, r.Capacity))
		}
		slices.Sort(res)
		traits := slices.Sorted(slices.Values(s.Traits))
		parent := "null"
		if s.Parent != nil {
			parent = name(*s.Parent)
		}
		sums = append(sums, fmt.Sprintf("%s: %s traits=[%s] parent=%s root=%s",
			name(uuid), strings.Join(res, " "), strings.Join(traits, ","), parent, name(s.Root)))
	}
	slices.Sort(cands)
	slices.Sort(sums)
	return cands, sums, nil
}

// digest returns the SHA-256 of the lines, in hex.
func digest(lines []string) string {
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l)
		h.Write([]byte{'\n'})
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// digestValue is the first 48 bits of a hex digest as a number, which a float64 holds
// exactly: the report compares results by number.
func digestValue(hexDigest string) float64 {
	var b [8]byte
	for i := 0; i < 6 && 2*i+1 < len(hexDigest); i++ {
		v, _ := strconv.ParseUint(hexDigest[2*i:2*i+2], 16, 8)
		b[2+i] = byte(v)
	}
	return float64(binary.BigEndian.Uint64(b[:]))
}

// gate runs upstream's nested-perfload timing loop for every query: cfg.Warmup untimed
// requests, cfg.GateTimings timed ones, then cfg.GateAllocs times: write one allocation (the
// first of a limit=5 answer, as upstream's runner does) and time cfg.GateTimings requests.
func (b *bench) gate(ctx context.Context) ([]gateResult, error) {
	var out []gateResult
	for _, q := range b.ds.Queries {
		path := "/allocation_candidates?" + q.QS
		res := gateResult{Name: q.Name, Path: path}
		var all, first []time.Duration
		// Like upstream's curl > /dev/null, the timed reads reuse one buffer: allocating
		// megabytes per answer would add the client's own cost to every sample.
		var buf []byte
		timed := func() error {
			for k := range b.cfg.GateTimings {
				var r response
				var err error
				r.status, buf, r.dur, err = b.c.getInto(ctx, path, b.cfg.MV, buf[:0])
				r.body = buf
				if err != nil {
					return err
				}
				if r.status != 200 {
					res.Errors++
					b.countError("gate_get_" + q.Name)
					continue
				}
				items, sums := countCandidates(r.body)
				if len(all) == 0 {
					res.FirstItems, res.Summaries, res.Bytes = items, sums, len(r.body)
				}
				res.LastItems = items
				all = append(all, r.dur)
				if k == 0 {
					first = append(first, r.dur)
				}
			}
			return nil
		}
		for range b.cfg.Warmup {
			if _, err := b.get(ctx, path); err != nil {
				return out, err
			}
		}
		if err := timed(); err != nil {
			return out, err
		}
		// Consumers are new in every run, also in runs that reuse a run id's data set.
		rng := rand.New(rand.NewPCG(b.cfg.Seed, seedOf(b.cfg.RunID+q.Name+randomHex(8))))
		for range b.cfg.GateAllocs {
			if err := b.writeFirstCandidate(ctx, path, rng); err != nil {
				return out, fmt.Errorf("gate %s: %w", q.Name, err)
			}
			res.Allocations++
			if err := timed(); err != nil {
				return out, err
			}
		}
		res.Latency, res.AfterWrite = summarize(all), summarize(first)
		b.logf("   gate %-20s %5d -> %5d candidates %5d summaries %8d bytes  p50 %8.2f ms  p95 %8.2f ms  after-write p50 %8.2f ms (%d samples, %d allocations)",
			q.Name, res.FirstItems, res.LastItems, res.Summaries, res.Bytes, res.Latency.P50ms, res.Latency.P95ms,
			res.AfterWrite.P50ms, res.Latency.N, res.Allocations)
		out = append(out, res)
	}
	return out, nil
}

// writeFirstCandidate allocates the first candidate of a limit=5 answer to a new consumer,
// as upstream's perfload runner does between timings (retrying on a 409).
func (b *bench) writeFirstCandidate(ctx context.Context, path string, rng *rand.Rand) error {
	consumer := randomUUID(rng)
	for range b.cfg.Retries + 1 {
		r, err := b.c.expect(ctx, "GET", path+"&limit=5", b.cfg.MV, nil, 200)
		if err != nil {
			return err
		}
		var doc struct {
			ARs []struct {
				Allocations json.RawMessage `json:"allocations"`
			} `json:"allocation_requests"`
		}
		if err := json.Unmarshal(r.body, &doc); err != nil || len(doc.ARs) == 0 {
			return fmt.Errorf("no candidate to allocate: %s", truncate(r.body, 200))
		}
		r, err = b.c.expect(ctx, "PUT", "/allocations/"+consumer, b.cfg.MV, b.allocationBody(doc.ARs[0].Allocations), 204, 409)
		if err != nil {
			return err
		}
		if r.status == 204 {
			return nil
		}
	}
	return fmt.Errorf("allocation kept conflicting after %d retries", b.cfg.Retries)
}

// throughput runs cfg.TPClients clients that send each query in a loop for cfg.TPDuration
// (requests in flight at the end are waited for and counted).
func (b *bench) throughput(ctx context.Context) ([]throughputResult, error) {
	var out []throughputResult
	for _, q := range b.ds.Queries {
		name, path := q.Name, "/allocation_candidates?"+q.QS
		if b.cfg.TPLimit > 0 {
			name += ".limit" + strconv.Itoa(b.cfg.TPLimit)
			path += "&limit=" + strconv.Itoa(b.cfg.TPLimit)
		}
		res := throughputResult{Name: name, Path: path, Clients: b.cfg.TPClients, MinBytes: -1}
		var mu sync.Mutex
		var ds []time.Duration
		var firstErr error
		start := time.Now()
		deadline := start.Add(b.cfg.TPDuration)
		var wg sync.WaitGroup
		for range b.cfg.TPClients {
			wg.Go(func() {
				buf := make([]byte, 256<<10)
				for ctx.Err() == nil && time.Now().Before(deadline) {
					status, n, d, err := b.c.getDiscard(ctx, path, b.cfg.MV, buf)
					mu.Lock()
					switch {
					case err != nil:
						if firstErr == nil {
							firstErr = err
						}
					case status != 200:
						res.Errors++
					default:
						ds = append(ds, d)
						res.BodyBytes += n
						res.MaxBytesOK = max(res.MaxBytesOK, n)
						if res.MinBytes < 0 || n < res.MinBytes {
							res.MinBytes = n
						}
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		if firstErr != nil {
			return out, firstErr
		}
		if res.Errors > 0 {
			b.countError("throughput_get_" + name)
		}
		res.Requests = len(ds)
		res.Seconds = round3(elapsed.Seconds())
		res.PerSec = perSecond(res.Requests, elapsed)
		res.MBPerSec = round3(float64(res.BodyBytes) / 1e6 / elapsed.Seconds())
		res.Latency = summarize(ds)
		b.logf("   throughput %-20s %d clients: %d requests in %.1fs = %.2f requests/s (%.1f MB/s), p50 %.2f ms p95 %.2f ms",
			name, res.Clients, res.Requests, res.Seconds, res.PerSec, res.MBPerSec, res.Latency.P50ms, res.Latency.P95ms)
		out = append(out, res)
	}
	return out, nil
}

// getInto sends a GET and appends the body to buf (reusing its room). It returns the
// status, the body and the time until its last byte.
func (c *client) getInto(ctx context.Context, path, mv string, buf []byte) (int, []byte, time.Duration, error) {
	req, err := c.newRequest(ctx, "GET", path, mv, nil)
	if err != nil {
		return 0, buf, 0, err
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, buf, 0, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if n := resp.ContentLength; n > 0 && n < 1<<30 {
		buf = slices.Grow(buf, int(n))
	}
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 64<<10)
		}
		k, err := resp.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, buf, 0, fmt.Errorf("read GET %s: %w", path, err)
		}
	}
	return resp.StatusCode, buf, time.Since(start), nil
}

// getDiscard sends a GET and reads the body into buf, discarding it: the throughput phase's
// client should cost the shared machine as little as possible. It returns the status, the
// body's length and the time until its last byte.
func (c *client) getDiscard(ctx context.Context, path, mv string, buf []byte) (int, int64, time.Duration, error) {
	req, err := c.newRequest(ctx, "GET", path, mv, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	var n int64
	for {
		k, err := resp.Body.Read(buf)
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, n, 0, fmt.Errorf("read GET %s: %w", path, err)
		}
	}
	return resp.StatusCode, n, time.Since(start), nil
}
