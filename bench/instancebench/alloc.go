package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"ingot/internal/backoff"
	"ingot/internal/ironic"
)

func listNodes(ctx context.Context, c *ironic.Client) ([]ironic.Node, error) {
	return c.ListNodes(ctx, ironic.ListOptions{
		Fields: []string{"uuid", "provision_state", "instance_uuid", "maintenance", "reservation", "last_error"}})
}

// fleet is the benchmark's nodes.
type fleet struct {
	ironic        *ironic.Client
	uuids         []string
	resourceClass string
}

// waitAllFree waits until every node of the fleet is available with no instance, no
// allocation, no maintenance and no conductor lock.
func (f *fleet) waitAllFree(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ours := map[string]bool{}
	for _, id := range f.uuids {
		ours[id] = true
	}
	var last string
	for {
		nodes, err := listNodes(ctx, f.ironic)
		if err != nil {
			return err
		}
		free := 0
		last = ""
		for _, n := range nodes {
			if !ours[n.UUID] {
				continue
			}
			if n.ProvisionState == "available" && n.InstanceUUID == "" && !n.Maintenance && n.Reservation == "" {
				free++
			} else if last == "" {
				last = fmt.Sprintf("%s: %s instance %q maintenance %v reservation %q %s",
					n.UUID, n.ProvisionState, n.InstanceUUID, n.Maintenance, n.Reservation, n.LastError)
			}
		}
		if free == len(f.uuids) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nodes not free after %v (%d of %d; e.g. %s)", timeout, free, len(f.uuids), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// allocationRound sends c concurrent POST /v1/allocations and follows them to active or
// error with one allocation listing per tick, then deletes them and waits for the nodes.
func allocationRound(ctx context.Context, ir *ironic.Client, fl *fleet, c int, tick, timeout time.Duration) (Round, error) {
	rd := Round{Concurrency: c}
	if err := fl.waitAllFree(ctx, timeout); err != nil {
		return rd, err
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	type sent struct {
		uuid string
		at   time.Time
		took time.Duration
		err  error
	}
	posts := make([]sent, c)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range c {
		wg.Go(func() {
			<-start
			t := time.Now()
			a, err := ir.CreateAllocation(rctx, ironic.AllocationCreate{ResourceClass: fl.resourceClass})
			posts[i] = sent{uuid: a.UUID, at: t, took: time.Since(t), err: err}
		})
	}
	postsDone := make(chan struct{})
	t0 := time.Now()
	close(start)
	go func() { wg.Wait(); close(postsDone) }()

	// Follow every allocation by listing them all once per tick.
	type seen struct {
		state, node, lastError string
		at                     time.Time
	}
	final := map[string]seen{}
	var allPosted bool
	for {
		select {
		case <-postsDone:
			allPosted = true
		default:
		}
		lt := time.Now()
		list, err := ir.ListAllocations(rctx, ironic.AllocationListOptions{ResourceClass: fl.resourceClass})
		if err != nil {
			return rd, err
		}
		now := time.Now()
		rd.Polls++
		for _, a := range list {
			if _, done := final[a.UUID]; done || a.State == ironic.AllocationAllocating {
				continue
			}
			final[a.UUID] = seen{state: a.State, node: a.NodeUUID, lastError: a.LastError, at: now}
		}
		if allPosted {
			done := true
			for _, p := range posts {
				if _, ok := final[p.uuid]; p.err == nil && !ok {
					done = false
				}
			}
			if done {
				break
			}
		}
		if err := backoff.Sleep(rctx, tick-time.Since(lt)); err != nil {
			return rd, fmt.Errorf("allocations not settled: %w", err)
		}
	}

	var reqs, active []time.Duration
	nodes := map[string]bool{}
	var last time.Time
	for _, p := range posts {
		reqs = append(reqs, p.took)
		if p.err != nil {
			rd.Errors++
			rd.ErrorText = appendError(rd.ErrorText, p.err.Error())
			last = laterOf(last, p.at.Add(p.took))
			continue
		}
		s := final[p.uuid]
		last = laterOf(last, s.at)
		switch s.state {
		case ironic.AllocationActive:
			active = append(active, s.at.Sub(p.at))
			nodes[s.node] = true
		default:
			rd.Errors++
			rd.ErrorText = appendError(rd.ErrorText, s.state+": "+s.lastError)
		}
	}
	rd.Requests, rd.Active = summarize(reqs), summarize(active)
	rd.SettledS = last.Sub(t0).Seconds()
	rd.DistinctNodes = len(nodes)

	// Free the nodes for the next round.
	for _, p := range posts {
		if p.err != nil {
			continue
		}
		if err := ir.DeleteAllocation(ctx, p.uuid); err != nil && !errors.Is(err, ironic.ErrNotFound) {
			return rd, err
		}
	}
	return rd, fl.waitAllFree(ctx, timeout)
}

// appendError keeps up to five distinct error texts.
func appendError(list []string, e string) []string {
	for _, x := range list {
		if x == e {
			return list
		}
	}
	if len(list) >= 5 {
		return list
	}
	return append(list, e)
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
