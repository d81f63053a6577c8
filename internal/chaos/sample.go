package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/instanceapi"
	"ingot/internal/instanceapi/client"
	"ingot/internal/uuid"
)

// sampler polls the ownership rows and records, per node, how long each stretch without a
// live owner lasted.
type sampler struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	runs   []time.Duration
	since  map[string]time.Time
	errs   int
}

// Sample starts recording unowned stretches every period; UnownedRuns returns them.
func (c *Cluster) Sample(period time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sampler{cancel: cancel, done: make(chan struct{}), since: map[string]time.Time{}}
	c.sampler = s
	go func() {
		defer close(s.done)
		blind := false
		for {
			owners, err := c.Owners(ctx)
			now := time.Now()
			s.mu.Lock()
			if err != nil {
				s.errs++
				blind = true
			} else {
				if blind {
					// The database was out of reach: nobody could act, and the stretches in
					// progress count from this first reading after it.
					for n := range s.since {
						s.since[n] = now
					}
					blind = false
				}
				for _, n := range c.Nodes {
					o, ok := owners[n]
					owned := ok && o.Replica != "" && o.Live && o.HandoffTo == ""
					t0, was := s.since[n]
					switch {
					case !owned && !was:
						s.since[n] = now
					case owned && was:
						s.runs = append(s.runs, now.Sub(t0))
						delete(s.since, n)
					}
				}
			}
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(period):
			}
		}
	}()
}

func (s *sampler) stop() {
	s.cancel()
	<-s.done
}

// UnownedRuns returns the finished stretches without a live owner (or with a hand-off
// pending) seen so far, and how many nodes are in one now. While the database is out of
// reach nothing is measured: a stretch in progress then counts from the first reading
// after the outage.
func (c *Cluster) UnownedRuns() ([]time.Duration, int) {
	s := c.sampler
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.runs...), len(s.since)
}

// Traffic creates and deletes instances through the replicas' instance APIs until
// stopped, so that the controllers make fenced Ironic calls during the faults. Errors are
// counted, not fatal: a replica may be down.
type Traffic struct {
	cancel           context.CancelFunc
	done             chan struct{}
	mu               sync.Mutex
	Created, Deleted int
	Errors           int
}

// StartTraffic keeps about inflight instances alive, each for a moment, created and
// deleted through a random running replica.
func (c *Cluster) StartTraffic(seed uint64, inflight int) *Traffic {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &Traffic{cancel: cancel, done: make(chan struct{})}
	rnd := rand.New(rand.NewPCG(seed, 14))
	var rmu sync.Mutex
	pick := func() *client.Client {
		ids := c.Running()
		if len(ids) == 0 {
			return nil
		}
		rmu.Lock()
		id := ids[rnd.IntN(len(ids))]
		rmu.Unlock()
		r := c.Replica(id)
		return &client.Client{URL: r.Base, Token: "admin", HTTP: &http.Client{Timeout: 5 * time.Second},
			Header: http.Header{"X-Roles": {"admin,member,reader"}, "X-Project-Id": {"chaos"}, "X-User-Id": {"chaos"}}}
	}
	var wg sync.WaitGroup
	for w := range inflight {
		wg.Go(func() {
			for ctx.Err() == nil {
				id := uuid.New()
				cl := pick()
				if cl == nil {
					sleep(ctx, time.Second)
					continue
				}
				_, _, err := cl.Create(ctx, instanceapi.CreateRequest{UUID: id, Name: fmt.Sprintf("chaos-%d", w),
					Request: baremetal.Request{ResourceClass: "gold"},
					Image: baremetal.Image{Source: "http://images.example.invalid/chaos.qcow2",
						Checksum: "0b8c5d7f0f1c2a3b4c5d6e7f8a9b0c1d"}})
				tr.count(err, &tr.Created)
				if err != nil {
					sleep(ctx, time.Second)
					continue
				}
				sleep(ctx, 3*time.Second)
				for range 10 { // retried on other replicas: a delete must not be lost
					cl = pick()
					if cl == nil {
						sleep(context.Background(), time.Second)
						continue
					}
					_, err = cl.Delete(context.Background(), id)
					tr.count(err, &tr.Deleted)
					if err == nil {
						break
					}
					sleep(context.Background(), time.Second)
				}
			}
		})
	}
	go func() { wg.Wait(); close(tr.done) }()
	return tr
}

func (tr *Traffic) count(err error, ok *int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if err != nil {
		tr.Errors++
	} else {
		*ok++
	}
}

// Stop stops the traffic and waits for its last deletes.
func (tr *Traffic) Stop() string {
	tr.cancel()
	<-tr.done
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return fmt.Sprintf("%d instances created, %d deleted, %d API errors", tr.Created, tr.Deleted, tr.Errors)
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
