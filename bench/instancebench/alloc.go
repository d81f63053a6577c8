package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// ironicAPI is the few raw calls the benchmark makes to Ironic beyond ingot's client: the
// allocation API, which ingot does not use, and the node fields that show an allocation.
type ironicAPI struct {
	url     string
	version string
	hc      http.RoundTripper
}

func (a *ironicAPI) do(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.url+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-OpenStack-Ironic-API-Version", a.version)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

type allocation struct {
	UUID      string `json:"uuid"`
	State     string `json:"state"`
	NodeUUID  string `json:"node_uuid"`
	LastError string `json:"last_error"`
}

type nodeRow struct {
	UUID           string `json:"uuid"`
	ProvisionState string `json:"provision_state"`
	InstanceUUID   string `json:"instance_uuid"`
	Maintenance    bool   `json:"maintenance"`
	Reservation    string `json:"reservation"`
	LastError      string `json:"last_error"`
}

func (a *ironicAPI) listNodes(ctx context.Context) ([]nodeRow, error) {
	var page struct {
		Nodes []nodeRow `json:"nodes"`
	}
	_, err := a.do(ctx, http.MethodGet, "/v1/nodes?limit=1000&fields=uuid,provision_state,instance_uuid,maintenance,reservation,last_error", nil, &page)
	return page.Nodes, err
}

// fleet is the benchmark's nodes.
type fleet struct {
	api           *ironicAPI
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
		nodes, err := f.api.listNodes(ctx)
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
func allocationRound(ctx context.Context, ir *ironicAPI, fl *fleet, c int, tick, timeout time.Duration) (Round, error) {
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
			var a allocation
			_, err := ir.do(rctx, http.MethodPost, "/v1/allocations", map[string]any{"resource_class": fl.resourceClass}, &a)
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
		var page struct {
			Allocations []allocation `json:"allocations"`
		}
		if _, err := ir.do(rctx, http.MethodGet, "/v1/allocations?limit=1000&fields=uuid,state,node_uuid,last_error", nil, &page); err != nil {
			return rd, err
		}
		now := time.Now()
		rd.Polls++
		for _, a := range page.Allocations {
			if _, done := final[a.UUID]; done || a.State == "allocating" {
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
		if err := sleepCtx(rctx, tick-time.Since(lt)); err != nil {
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
		case "active":
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
		if code, err := ir.do(ctx, http.MethodDelete, "/v1/allocations/"+p.uuid, nil, nil); err != nil && code != http.StatusNotFound {
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

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
