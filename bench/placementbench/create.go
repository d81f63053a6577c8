package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// create makes the data set's custom classes and traits, then its providers with
// cfg.Concurrency clients, one tree at a time per client.
func (b *bench) create(ctx context.Context) (*createResult, error) {
	setupStart := time.Now()
	if err := b.setup(ctx); err != nil {
		return nil, err
	}
	setup := time.Since(setupStart)
	b.logf("   setup (classes, traits) %.2fs; creating %d providers in %d trees with %d clients",
		setup.Seconds(), b.ds.providerCount(), len(b.ds.Trees), b.cfg.Concurrency)

	rec := newRecorder()
	start := time.Now()
	err := forEach(ctx, len(b.ds.Trees), b.cfg.Concurrency, func(ctx context.Context, i int) error {
		for _, p := range b.ds.Trees[i] {
			if err := b.createProvider(ctx, p, rec); err != nil {
				return err
			}
		}
		if (i+1)%1000 == 0 {
			b.logf("   %d trees created, %.1fs", i+1, time.Since(start).Seconds())
		}
		return nil
	})
	elapsed := time.Since(start)
	if err != nil {
		return nil, err
	}
	all := rec.all()
	res := &createResult{
		Clients:         b.cfg.Concurrency,
		Trees:           len(b.ds.Trees),
		Providers:       b.ds.providerCount(),
		Requests:        len(all),
		SetupSeconds:    round3(setup.Seconds()),
		Seconds:         round3(elapsed.Seconds()),
		ProvidersPerSec: perSecond(b.ds.providerCount(), elapsed),
		RequestsPerSec:  perSecond(len(all), elapsed),
		Latency:         summarize(all),
		ByRequest:       rec.summary(),
	}
	b.logf("   created %d providers in %.2fs: %.1f providers/s, %.1f requests/s, request p50 %.2f ms p99 %.2f ms",
		res.Providers, res.Seconds, res.ProvidersPerSec, res.RequestsPerSec, res.Latency.P50ms, res.Latency.P99ms)
	return res, nil
}

// setup creates the custom resource classes and traits (idempotent PUTs).
func (b *bench) setup(ctx context.Context) error {
	for _, rc := range b.ds.CustomClasses {
		if _, err := b.c.expect(ctx, "PUT", "/resource_classes/"+rc, "1.7", nil, 201, 204); err != nil {
			return fmt.Errorf("create resource class: %w", err)
		}
	}
	for _, t := range b.ds.CustomTraits {
		if _, err := b.c.expect(ctx, "PUT", "/traits/"+t, "1.6", nil, 201, 204); err != nil {
			return fmt.Errorf("create trait: %w", err)
		}
	}
	return nil
}

// createProvider POSTs p, then PUTs its inventories, traits and aggregates (each only when it
// has some), carrying the provider generation from one answer to the next request.
func (b *bench) createProvider(ctx context.Context, p provider, rec *recorder) error {
	body := map[string]any{"name": p.Name, "uuid": p.UUID}
	if p.ParentUUID != "" {
		body["parent_provider_uuid"] = p.ParentUUID
	}
	r, err := b.c.expect(ctx, "POST", "/resource_providers", "1.20", body, 200)
	if err != nil {
		return fmt.Errorf("create provider: %w", err)
	}
	rec.add("post_resource_provider", r.dur)
	gen := 0
	base := "/resource_providers/" + p.UUID
	steps := []struct {
		op, path, mv, key string
		value             any
		skip              bool
	}{
		{"put_inventories", base + "/inventories", "1.26", "inventories", p.Inventories, len(p.Inventories) == 0},
		{"put_traits", base + "/traits", "1.6", "traits", p.Traits, len(p.Traits) == 0},
		{"put_aggregates", base + "/aggregates", "1.19", "aggregates", p.Aggregates, len(p.Aggregates) == 0},
	}
	for _, s := range steps {
		if s.skip {
			continue
		}
		body := map[string]any{"resource_provider_generation": gen, s.key: s.value}
		r, err := b.c.expect(ctx, "PUT", s.path, s.mv, body, 200)
		if err != nil {
			return fmt.Errorf("set up provider %s: %w", p.Name, err)
		}
		rec.add(s.op, r.dur)
		if gen, err = generation(r.body); err != nil {
			return fmt.Errorf("%s %s: %w", s.op, p.Name, err)
		}
	}
	return nil
}

// generation returns the resource_provider_generation of a PUT answer.
func generation(body []byte) (int, error) {
	var doc struct {
		Gen *int `json:"resource_provider_generation"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Gen == nil {
		return 0, fmt.Errorf("no resource_provider_generation in %s", truncate(body, 200))
	}
	return *doc.Gen, nil
}

// forEach calls fn for the indexes 0..n-1 from workers goroutines and waits for them. The first
// error cancels the rest and is returned.
func forEach(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return err
	}
	return nil
}
