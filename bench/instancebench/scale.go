package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"ingot/internal/backoff"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/uuid"
)

// The scale run (-fake N): N concurrent creates on N nodes of the fake Ironic, which charges
// the real Ironic's measured time per request kind (ironictest.RealLatency, and
// RealCostPerNode per listed node) and takes fake-hardware's time to deploy and tear down.
// Every Ironic request is classified by what it is for, from its method, path, query and
// body, so the report can say what each instance cost.

// ScaleResult holds the figures of a scale run. Durations are in seconds.
type ScaleResult struct {
	Nodes          int     `json:"nodes"`
	DeployS        float64 `json:"fake_deploy_s"`
	TeardownS      float64 `json:"fake_teardown_s"`
	LatencyModel   string  `json:"latency_model"`
	Serial         bool    `json:"serial"`
	AllActiveS     float64 `json:"all_active_s"`
	Active         int     `json:"active"`
	Errors         int     `json:"errors"`
	NodesHeld      int     `json:"nodes_held"`
	DoubleBooked   int     `json:"double_booked"`
	AllDeletedS    float64 `json:"all_deleted_s"`
	NodesFreeAfter int     `json:"nodes_free_after"`
	// Build and Delete count Ironic requests by purpose during each phase.
	Build  map[string]int `json:"build_requests"`
	Delete map[string]int `json:"delete_requests"`
	// WatchPerS is the watching requests per second while instances were in flight:
	// the watch listings, and the watch listings plus single-node reads.
	WatchPerS        float64 `json:"watch_per_s"`
	WatchAndGetsPerS float64 `json:"watch_and_gets_per_s"`
}

// classifier counts requests by purpose.
type classifier struct {
	next http.Handler
	mu   sync.Mutex
	n    map[string]int
}

func (c *classifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := "other"
	path := r.URL.Path
	var body []byte
	if r.Body != nil && (r.Method == http.MethodPatch || r.Method == http.MethodPut) {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && path == "/v1/nodes":
		if r.URL.Query().Get("sort_key") == "provision_updated_at" {
			kind = "watch"
		} else {
			kind = "tracker listing"
		}
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "nodes":
		kind = "get"
	case r.Method == http.MethodGet && len(parts) == 4 && parts[3] == "validate":
		kind = "validate"
	case r.Method == http.MethodPatch && len(parts) == 3:
		var ops []struct {
			Op   string `json:"op"`
			Path string `json:"path"`
		}
		_ = json.Unmarshal(body, &ops)
		kind = "patch"
		for _, op := range ops {
			switch {
			case op.Path == "/instance_uuid" && op.Op == "remove":
				kind = "unlock"
			case op.Path == "/instance_uuid":
				kind = "lock"
			case strings.HasPrefix(op.Path, "/instance_info"):
				kind = "info"
			}
		}
	case r.Method == http.MethodPut && len(parts) == 5 && parts[4] == "provision":
		var b struct {
			Target string `json:"target"`
		}
		_ = json.Unmarshal(body, &b)
		kind = "provision " + b.Target
	case path == "/" || path == "/v1" || path == "/v1/":
		kind = "version"
	}
	c.mu.Lock()
	c.n[kind]++
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}

func (c *classifier) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.n
	c.n = map[string]int{}
	return out
}

// scaleRun runs the scale run with n nodes and concurrent creates.
func scaleRun(ctx context.Context, n int, deploy, teardown time.Duration, serial bool, ing ingotOptions, timeout time.Duration) (ScaleResult, error) {
	res := ScaleResult{Nodes: n, DeployS: deploy.Seconds(), TeardownS: teardown.Seconds(), Serial: serial,
		LatencyModel: fmt.Sprintf("ironictest.RealLatency %v, %v per listed node", ironictest.RealLatency, ironictest.RealCostPerNode)}
	opts := []ironictest.Option{ironictest.WithConductorGroups("ingot"),
		ironictest.WithTiming(ironictest.Timing{Deploy: deploy, Teardown: teardown, Release: 50 * time.Millisecond})}
	for kind, d := range ironictest.RealLatency {
		opts = append(opts, ironictest.WithLatency(kind, d))
	}
	if serial {
		// One request at a time, as the one-process Ironic serves them.
		opts = append(opts, ironictest.WithSerialLatency())
		res.LatencyModel += ", one request at a time"
	} else {
		res.LatencyModel += ", requests side by side"
	}
	fake := ironictest.New(opts...)
	fake.SetCostPerNode(ironictest.RealCostPerNode)
	ids := fake.AddNodes(n, func(i int) ironic.Node {
		return ironic.Node{Name: fmt.Sprintf("scale-%05d", i), Driver: "fake-hardware", ResourceClass: "baremetal",
			ProvisionState: ironic.ProvisionStateAvailable, PowerState: "power off", ConductorGroup: "ingot",
			Properties: map[string]any{"cpus": 64, "memory_mb": 524288, "local_gb": 1800}}
	})
	cl := &classifier{next: fake.Handler(), n: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	srv := &http.Server{Handler: cl}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String()

	r, err := ing.start(ctx, url, "ingot")
	if err != nil {
		return res, err
	}
	defer r.stop()
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	progress("scale: waiting for ingot to offer %d nodes", n)
	for {
		c, err := r.candidates(rctx, "baremetal")
		if err == nil && c == n {
			break
		}
		if err := backoff.Sleep(rctx, 500*time.Millisecond); err != nil {
			return res, fmt.Errorf("ingot offers %d of %d nodes: %w", c, n, err)
		}
	}

	uuids := make([]string, n)
	for i := range uuids {
		uuids[i] = uuid.New()
	}
	cl.take()
	progress("scale: %d concurrent creates", n)
	t0 := time.Now()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = r.create(rctx, uuids[i], fmt.Sprintf("scale-%d", i), "baremetal") })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return res, err
		}
	}
	byNode := map[string]int{}
	for {
		list, err := r.list(rctx)
		if err != nil {
			return res, err
		}
		active, failed := 0, 0
		clear(byNode)
		for _, in := range list {
			switch in.State {
			case "active":
				active++
				byNode[in.Node]++
			case "error":
				failed++
			}
		}
		if active+failed == n {
			res.AllActiveS = time.Since(t0).Seconds()
			res.Active, res.Errors = active, failed
			break
		}
		if err := backoff.Sleep(rctx, 500*time.Millisecond); err != nil {
			return res, fmt.Errorf("%d of %d active, %d in error: %w", active, n, failed, err)
		}
	}
	res.Build = cl.take()
	res.WatchPerS = float64(res.Build["watch"]) / res.AllActiveS
	res.WatchAndGetsPerS = float64(res.Build["watch"]+res.Build["get"]) / res.AllActiveS
	// Ironic's view: every node holds at most one instance, and each active instance's node
	// names it.
	holders := map[string]string{}
	for _, id := range ids {
		node, _ := fake.Node(id)
		if node.InstanceUUID == "" {
			continue
		}
		if _, dup := holders[node.InstanceUUID]; dup {
			res.DoubleBooked++
		}
		holders[node.InstanceUUID] = id
	}
	res.NodesHeld = len(holders)
	for _, c := range byNode {
		if c > 1 {
			res.DoubleBooked++
		}
	}
	progress("scale: %d active, %d errors in %.1fs; deleting", res.Active, res.Errors, res.AllActiveS)

	t1 := time.Now()
	for _, id := range uuids {
		wg.Go(func() { _ = r.remove(rctx, id) })
	}
	wg.Wait()
	for {
		list, err := r.list(rctx)
		if err != nil {
			return res, err
		}
		if len(list) == 0 { // the list leaves deleted instances out
			res.AllDeletedS = time.Since(t1).Seconds()
			break
		}
		if err := backoff.Sleep(rctx, 500*time.Millisecond); err != nil {
			return res, fmt.Errorf("%d instances not deleted: %w", len(list), err)
		}
	}
	res.Delete = cl.take()
	for _, id := range ids {
		if node, _ := fake.Node(id); node.InstanceUUID == "" && node.ProvisionState == ironic.ProvisionStateAvailable {
			res.NodesFreeAfter++
		}
	}
	return res, nil
}

func scaleReport(w io.Writer, r ScaleResult) {
	fmt.Fprintf(w, "Scale run: %d concurrent creates on %d fake-Ironic nodes (deploy %.0f s, tear-down %.0f s; the real Ironic's per-request cost: %s)\n\n",
		r.Nodes, r.Nodes, r.DeployS, r.TeardownS, r.LatencyModel)
	fmt.Fprintf(w, "| figure | value |\n|---|---|\n")
	fmt.Fprintf(w, "| all %d active (or in error) after | %.1f s |\n", r.Nodes, r.AllActiveS)
	fmt.Fprintf(w, "| active, in error | %d, %d |\n", r.Active, r.Errors)
	fmt.Fprintf(w, "| nodes holding an instance in Ironic; nodes holding two | %d; %d |\n", r.NodesHeld, r.DoubleBooked)
	fmt.Fprintf(w, "| watching while building: watch listings/s; with single-node GETs | %.2f/s; %.2f/s |\n", r.WatchPerS, r.WatchAndGetsPerS)
	fmt.Fprintf(w, "| all deleted after | %.1f s; %d nodes free after |\n", r.AllDeletedS, r.NodesFreeAfter)
	kinds := map[string]bool{}
	for k := range r.Build {
		kinds[k] = true
	}
	for k := range r.Delete {
		kinds[k] = true
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range kinds {
			if !yield(k) {
				return
			}
		}
	})
	fmt.Fprintf(w, "\nIronic requests by purpose (per instance):\n\n| request | build | delete |\n|---|---:|---:|\n")
	per := func(c int) string { return fmt.Sprintf("%d (%.2f)", c, float64(c)/float64(r.Nodes)) }
	for _, k := range names {
		fmt.Fprintf(w, "| %s | %s | %s |\n", k, per(r.Build[k]), per(r.Delete[k]))
	}
}
