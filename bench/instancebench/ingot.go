package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"ingot/internal/uuid"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"ingot/internal/backoff"
	"ingot/internal/baremetal"
	"ingot/internal/instanceapi"
	"ingot/internal/instanceapi/client"
	"ingot/internal/ironic"
	"ingot/internal/reconcile"
)

// ingotOptions says which ingot to measure: one already running (-ingot-url) or one this
// program starts from a binary (-ingot-bin) on a fresh SQLite database.
type ingotOptions struct {
	url  string
	bin  string
	log  string
	args string
}

func (o *ingotOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.url, "ingot-url", "", "a running ingot tracking the same Ironic, with its instance controller")
	fs.StringVar(&o.bin, "ingot-bin", "", "start this ingot binary against the Ironic (fresh SQLite database)")
	fs.StringVar(&o.log, "ingot-log", "", "with -ingot-bin: keep ingot's log in this file")
	fs.StringVar(&o.args, "ingot-args", "", "with -ingot-bin: extra `ingot serve` flags, space-separated")
}

func (o *ingotOptions) enabled() bool { return o.url != "" || o.bin != "" }

// ingotRunner is the ingot being measured, and a client of its APIs.
type ingotRunner struct {
	base string
	hc   *http.Client
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
}

// start returns the ingot to measure: the running one, or a new process tracking
// ironicURL (nodes of group) with a tracker pass every 10 s (a round waits for the pass
// that sees its nodes free; ingot frees the nodes it tears down itself at once).
func (o *ingotOptions) start(ctx context.Context, ironicURL, group string) (*ingotRunner, error) {
	r := &ingotRunner{base: strings.TrimRight(o.url, "/"),
		hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}, Timeout: 2 * time.Minute}}
	if o.bin == "" {
		return r, nil
	}
	dir, err := os.MkdirTemp("", "instancebench-")
	if err != nil {
		return nil, err
	}
	r.dir = dir
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	r.base = "http://" + addr
	args := []string{"serve", "--listen", addr, "--database", "sqlite:" + filepath.Join(dir, "ingot.db"),
		"--ironic-url", ironicURL, "--sync-interval", "10s", "--log-format", "json"}
	if group != "" {
		args = append(args, "--ironic-conductor-group", group)
	}
	args = append(args, strings.Fields(o.args)...)
	logPath := o.log
	if logPath == "" {
		logPath = filepath.Join(dir, "ingot.log")
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	r.cmd = exec.Command(o.bin, args...)
	r.cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "INGOT_") })
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	progress("starting %s %s", o.bin, strings.Join(args, " "))
	if err := r.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	r.done = make(chan struct{})
	go func() { _ = r.cmd.Wait(); logf.Close(); close(r.done) }()
	for i := 0; ; i++ {
		if resp, err := http.Get(r.base + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r, nil
			}
		}
		select {
		case <-r.done:
			return nil, fmt.Errorf("ingot exited; its log is %s", logPath)
		case <-ctx.Done():
			r.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if i > 1200 {
			r.stop()
			return nil, errors.New("ingot did not answer within a minute")
		}
	}
}

func (r *ingotRunner) stop() {
	if r.cmd != nil {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.done
		}
		r.cmd = nil
	}
	if r.dir != "" {
		os.RemoveAll(r.dir)
	}
}

// create asks for one node of the resource class.
func (r *ingotRunner) create(ctx context.Context, uuid, name, class string) error {
	_, _, err := r.client().Create(ctx, instanceapi.CreateRequest{
		UUID: uuid, Name: name, Request: baremetal.Request{ResourceClass: class},
		Image: baremetal.Image{Source: "http://images.example.invalid/bench.qcow2",
			Checksum: "0b8c5d7f0f1c2a3b4c5d6e7f8a9b0c1d"},
		ConfigDrive: baremetal.ConfigDrive{SSHKeys: map[string]string{"bench": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBENCH bench"}},
	})
	return err
}

// list returns every instance but the deleted ones.
func (r *ingotRunner) list(ctx context.Context) ([]instanceapi.Instance, error) {
	return r.client().List(ctx, client.ListOptions{PageSize: 1000})
}

func (r *ingotRunner) remove(ctx context.Context, uuid string) error {
	_, err := r.client().Delete(ctx, uuid)
	return err
}

// client is the instance API's Go client for r, as an admin of the project "bench".
func (r *ingotRunner) client() *client.Client {
	return &client.Client{URL: r.base, Token: "admin", HTTP: r.hc,
		Header: http.Header{"X-Project-Id": {"bench"}, "X-User-Id": {"bench"}}}
}

// candidates counts the providers ingot offers for one unit of the class.
func (r *ingotRunner) candidates(ctx context.Context, class string) (int, error) {
	var body struct {
		ProviderSummaries map[string]any `json:"provider_summaries"`
	}
	if _, err := r.client().Placement(ctx, http.MethodGet, "/allocation_candidates?resources="+reconcile.ResourceClass(class)+":1", nil, &body); err != nil {
		return 0, err
	}
	return len(body.ProviderSummaries), nil
}

// instanceRound sends c concurrent creates for c free nodes and follows them, listing the
// round's nodes in Ironic (for the lock: instance_uuid set) and ingot's instances (for
// active) once per tick; then deletes them all and waits for the nodes.
func instanceRound(ctx context.Context, r *ingotRunner, fl *fleet, c int, tick, timeout time.Duration) (Round, error) {
	rd := Round{Concurrency: c}
	if err := fl.waitAllFree(ctx, timeout); err != nil {
		return rd, err
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The tracker must offer every node of the round before it starts.
	for {
		n, err := r.candidates(rctx, fl.resourceClass)
		if err == nil && n == c {
			break
		}
		if err := backoff.Sleep(rctx, 200*time.Millisecond); err != nil {
			return rd, fmt.Errorf("ingot does not offer the %d nodes (%d, %v)", c, n, err)
		}
	}

	ids := make([]string, c)
	sentAt := make([]time.Time, c)
	took := make([]time.Duration, c)
	errs := make([]error, c)
	byUUID := map[string]int{}
	for i := range ids {
		ids[i] = uuid.New()
		byUUID[ids[i]] = i
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range c {
		wg.Go(func() {
			<-start
			sentAt[i] = time.Now()
			errs[i] = r.create(rctx, ids[i], fmt.Sprintf("bench-%d-%d", c, i), fl.resourceClass)
			took[i] = time.Since(sentAt[i])
		})
	}
	postsDone := make(chan struct{})
	t0 := time.Now()
	close(start)
	go func() { wg.Wait(); close(postsDone) }()

	lockedAt := map[string]time.Time{}
	type final struct {
		state, node, fault string
		at                 time.Time
	}
	settled := map[string]final{}
	allPosted := false
	for {
		select {
		case <-postsDone:
			allPosted = true
		default:
		}
		lt := time.Now()
		nodes, err := fl.ironic.ListNodes(rctx, ironic.ListOptions{ResourceClass: fl.resourceClass,
			Fields: []string{"uuid", "instance_uuid"}})
		if err != nil {
			return rd, err
		}
		now := time.Now()
		for _, n := range nodes {
			if _, ours := byUUID[n.InstanceUUID]; ours {
				if _, seen := lockedAt[n.InstanceUUID]; !seen {
					lockedAt[n.InstanceUUID] = now
				}
			}
		}
		list, err := r.list(rctx)
		if err != nil {
			return rd, err
		}
		now = time.Now()
		rd.Polls += 2
		for _, in := range list {
			if _, ours := byUUID[in.UUID]; !ours {
				continue
			}
			if _, done := settled[in.UUID]; done {
				continue
			}
			if in.State == "active" || in.State == "error" {
				f := final{state: in.State, node: in.Node, at: now}
				if in.Fault != nil {
					f.fault = in.Fault.Code + ": " + in.Fault.Message
				}
				settled[in.UUID] = f
			}
		}
		if allPosted {
			done := true
			for i, id := range ids {
				if _, ok := settled[id]; errs[i] == nil && !ok {
					done = false
				}
			}
			if done {
				break
			}
		}
		if err := backoff.Sleep(rctx, tick-time.Since(lt)); err != nil {
			return rd, fmt.Errorf("instances not settled (%d of %d): %w", len(settled), c, err)
		}
	}

	var reqs, locked, active []time.Duration
	nodes := map[string]bool{}
	var last, lastLock time.Time
	for i, id := range ids {
		reqs = append(reqs, took[i])
		if errs[i] != nil {
			rd.Errors++
			rd.ErrorText = appendError(rd.ErrorText, errs[i].Error())
			continue
		}
		if at, ok := lockedAt[id]; ok {
			locked = append(locked, at.Sub(sentAt[i]))
			lastLock = laterOf(lastLock, at)
		}
		f := settled[id]
		last = laterOf(last, f.at)
		if f.state == "active" {
			active = append(active, f.at.Sub(sentAt[i]))
			nodes[f.node] = true
		} else {
			rd.Errors++
			rd.ErrorText = appendError(rd.ErrorText, f.state+": "+f.fault)
		}
	}
	lk := summarize(locked)
	rd.Requests, rd.Locked, rd.Active = summarize(reqs), &lk, summarize(active)
	rd.SettledS = last.Sub(t0).Seconds()
	if !lastLock.IsZero() {
		rd.LockedAllS = lastLock.Sub(t0).Seconds()
	}
	rd.DistinctNodes = len(nodes)

	// Delete them all and wait for the nodes.
	for i, id := range ids {
		if errs[i] != nil {
			continue
		}
		wg.Go(func() {
			if err := r.remove(ctx, id); err != nil {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return rd, err
		}
	}
	dctx, dcancel := context.WithTimeout(ctx, timeout)
	defer dcancel()
	for {
		list, err := r.list(dctx)
		if err != nil {
			return rd, err
		}
		left := 0
		for _, in := range list {
			if _, ours := byUUID[in.UUID]; ours && in.State != "deleted" {
				left++
			}
		}
		if left == 0 {
			break
		}
		if err := backoff.Sleep(dctx, 200*time.Millisecond); err != nil {
			return rd, fmt.Errorf("%d instances not deleted: %w", left, err)
		}
	}
	return rd, fl.waitAllFree(ctx, timeout)
}
