package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"ingot/internal/safe"
)

// Component is one long-running part of ingot (the API server, the Ironic resource tracker,
// the database). Run works until ctx ends and then returns nil; an error, or a return
// before ctx ends, is a failure that stops the whole group.
type Component interface {
	Name() string
	Run(ctx context.Context) error
}

// Stage orders a group's shutdown: every component of a stage has returned before the
// next stage is asked to stop.
type Stage int

const (
	// StageWork holds what takes work on its own (the tracker, controllers): stopped
	// first, so nothing new starts while the API drains.
	StageWork Stage = iota
	// StageLeave holds the replica's membership: once the work stopped, it hands its nodes
	// over to the other replicas and leaves, while the API still serves.
	StageLeave
	// StageServe holds what serves clients (the HTTP server): it stops accepting and
	// drains its requests.
	StageServe
	// StageClose holds what others use to the end (the database): closed last.
	StageClose

	numStages
)

// String names the stage for logs.
func (s Stage) String() string {
	switch s {
	case StageWork:
		return "work"
	case StageLeave:
		return "leave"
	case StageServe:
		return "serve"
	case StageClose:
		return "close"
	}
	return fmt.Sprintf("stage(%d)", int(s))
}

// Func is a Component made of a name and a run function.
func Func(name string, run func(ctx context.Context) error) Component {
	return funcComponent{name, run}
}

type funcComponent struct {
	name string
	run  func(ctx context.Context) error
}

func (c funcComponent) Name() string                  { return c.name }
func (c funcComponent) Run(ctx context.Context) error { return c.run(ctx) }

// Closer is a Component that holds a resource until it is asked to stop and then closes
// it (the database, in StageClose).
func Closer(name string, close func() error) Component {
	return Func(name, func(ctx context.Context) error {
		<-ctx.Done()
		return close()
	})
}

// Group runs components together and stops them stage by stage. The zero Group is ready;
// Add every component before Run.
type Group struct {
	// Logger receives a line for each component's failure that is not the one Run
	// returns. Nil discards.
	Logger *slog.Logger

	stages [numStages][]Component
}

// Add adds c to stage s.
func (g *Group) Add(s Stage, c Component) {
	if s < 0 || s >= numStages {
		panic(fmt.Sprintf("app: no stage %d", int(s)))
	}
	g.stages[s] = append(g.stages[s], c)
}

// Run starts every component at once and waits until ctx ends or a component fails
// (returns an error, or returns at all before it was asked to stop). It then stops the
// stages in order (StageWork, StageServe, StageClose): it cancels the context of every
// component of a stage and waits for all of them to return before it goes on. It returns
// the first failure, wrapped with the component's name, or nil when ctx ended and every
// component stopped cleanly. A component's error from after it was asked to stop counts
// as a failure too, unless it is context.Canceled.
// A panic in a component's Run (not in goroutines it starts) is logged with its stack and
// is that component's failure (a *safe.PanicError), so the others still stop in order.
func (g *Group) Run(ctx context.Context) error {
	log := g.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	type result struct {
		id  int // the component's place in the group (components need not be comparable)
		c   Component
		err error
	}
	var (
		cancels [numStages]context.CancelFunc
		done    [numStages]chan result
		wg      sync.WaitGroup
	)
	failed := make(chan result, 1)
	// Each stage's context is independent of ctx, so a stage runs until its turn.
	base := context.WithoutCancel(ctx)
	id := 0
	for s := range numStages {
		sctx, cancel := context.WithCancel(base)
		cancels[s] = cancel
		done[s] = make(chan result, len(g.stages[s]))
		for _, c := range g.stages[s] {
			id++
			me := id
			wg.Go(func() {
				err := safe.Do(func() error { return c.Run(sctx) })
				if pe, ok := errors.AsType[*safe.PanicError](err); ok {
					log.Error("component panicked", "component", c.Name(), "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
				}
				if sctx.Err() == nil { // returned on its own: a failure
					if err == nil {
						err = errors.New("stopped unexpectedly")
					}
					select {
					case failed <- result{me, c, err}:
					default:
					}
				}
				done[s] <- result{me, c, err}
			})
		}
	}
	defer func() {
		for _, cancel := range cancels {
			cancel()
		}
		wg.Wait()
	}()

	var first *result
	select {
	case <-ctx.Done():
	case r := <-failed:
		first = &r
	}
	var failure error
	if first != nil {
		failure = fmt.Errorf("%s: %w", first.c.Name(), first.err)
	}
	for s := range numStages {
		cancels[s]()
		for range g.stages[s] {
			r := <-done[s]
			if r.err == nil || (first != nil && r.id == first.id) || errors.Is(r.err, context.Canceled) {
				continue
			}
			err := fmt.Errorf("%s: %w", r.c.Name(), r.err)
			if failure == nil {
				failure = err
			} else {
				log.Error("component failed during shutdown", "component", r.c.Name(), "stage", s.String(), "error", r.err)
			}
		}
	}
	return failure
}
