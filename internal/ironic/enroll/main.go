// Command enroll enrolls fake-hardware nodes into an Ironic through ingot's client and
// brings them to available, then optionally times full node listings. It is run by
// scripts/ironic/enroll against the Ironic that scripts/ironic/start.sh starts.
//
//	go run ./internal/ironic/enroll -n 1000 -measure 5
//
// With -latency N it times N sequential requests of each kind the instance controller
// sends and prints their 50th and 90th percentiles, the figures ironictest.RealLatency
// records.
//
// Nodes are named PREFIX-NNNNN from -start on; running it again skips the nodes that
// exist. Every third node is baremetal-gold (CUSTOM_GOLD), the others baremetal-silver
// (CUSTOM_SILVER); each has CUSTOM_RACK_Rnn, and every tenth has an owner.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "enroll:", err)
		os.Exit(1)
	}
}

func run() error {
	defURL := os.Getenv("INGOT_IRONIC_URL")
	if defURL == "" {
		defURL = "http://127.0.0.1:16385"
	}
	var (
		url      = flag.String("url", defURL, "Ironic endpoint (default $INGOT_IRONIC_URL)")
		n        = flag.Int("n", 100, "number of nodes to enroll")
		start    = flag.Int("start", 0, "number of the first node")
		prefix   = flag.String("prefix", "node", "node name prefix")
		group    = flag.String("group", "ingot", "conductor group (lowercase, served by the conductor)")
		workers  = flag.Int("workers", 8, "concurrent calls")
		user     = flag.String("user", os.Getenv("INGOT_IRONIC_USER"), "HTTP basic user (default $INGOT_IRONIC_USER)")
		password = flag.String("password", os.Getenv("INGOT_IRONIC_PASSWORD"), "HTTP basic password (default $INGOT_IRONIC_PASSWORD)")
		measure  = flag.Int("measure", 0, "after enrolling, time this many full listings")
		limit    = flag.Int("limit", ironic.MaxLimit, "page size for the timed listings")
		fields   = flag.String("fields", "", "comma-separated fields for the timed listings (default: ironic.DefaultFields)")
		latency  = flag.Int("latency", 0, "time this many sequential requests of each kind a deploy uses (GET node, PATCH node, PUT provision, validate, watch and full list pages) and print p50 and p90")
	)
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := ironic.Config{URL: *url, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	if *user != "" {
		cfg.Transport = &ironic.BasicAuth{Username: *user, Password: *password}
	}
	c, err := ironic.New(cfg)
	if err != nil {
		return err
	}
	v, err := c.Negotiate(ctx)
	if err != nil {
		return err
	}

	if *n > 0 {
		specs := make([]ironictest.NodeSpec, *n)
		for i := range specs {
			specs[i] = spec(*start+i, *prefix, *group)
		}
		t0 := time.Now()
		if _, err := ironictest.Enroll(ctx, c, specs, *workers); err != nil {
			return err
		}
		el := time.Since(t0)
		fmt.Printf("enrolled %d nodes (%s-%05d..%05d) in %v (%.1f nodes/s)\n",
			*n, *prefix, *start, *start+*n-1, el.Round(time.Millisecond), float64(*n)/el.Seconds())
	}

	if *latency > 0 {
		if err := measureLatency(ctx, c, *prefix, *latency, *limit); err != nil {
			return err
		}
	}

	if *measure > 0 {
		opts := ironic.ListOptions{Limit: *limit}
		nfields := len(ironic.DefaultFields)
		if *fields != "" {
			opts.Fields = strings.Split(*fields, ",")
			nfields = len(opts.Fields)
		}
		var times []time.Duration
		var count int
		for range *measure {
			t0 := time.Now()
			nodes, err := c.ListNodes(ctx, opts)
			if err != nil {
				return err
			}
			times = append(times, time.Since(t0))
			count = len(nodes)
		}
		if count == 0 {
			return errors.New("no nodes to list")
		}
		slices.Sort(times)
		med := times[len(times)/2]
		fmt.Printf("list %d nodes, %d default fields, limit %d, microversion %s: min %v median %v max %v (%.3f ms/node median)\n",
			count, nfields, *limit, v, times[0].Round(time.Millisecond), med.Round(time.Millisecond),
			times[len(times)-1].Round(time.Millisecond), float64(med.Microseconds())/1000/float64(count))
	}
	return nil
}

func spec(i int, prefix, group string) ironictest.NodeSpec {
	kind := "silver"
	cpus, mem, disk := 32, 262144, 900
	if i%3 == 0 {
		kind, cpus, mem, disk = "gold", 64, 524288, 1800
	}
	s := ironictest.NodeSpec{
		NodeCreate: ironic.NodeCreate{
			Name:           fmt.Sprintf("%s-%05d", prefix, i),
			Driver:         "fake-hardware",
			ResourceClass:  "baremetal-" + kind,
			ConductorGroup: group,
			Properties: map[string]any{"cpus": cpus, "cpu_arch": "x86_64", "memory_mb": mem, "local_gb": disk,
				"capabilities": "boot_mode:uefi,profile:" + kind},
			Extra: map[string]any{"rack": fmt.Sprintf("r%02d", i%20)},
		},
		Traits: []string{"CUSTOM_" + map[string]string{"gold": "GOLD", "silver": "SILVER"}[kind],
			fmt.Sprintf("CUSTOM_RACK_R%02d", i%20)},
	}
	if i%10 == 0 {
		s.Owner = fmt.Sprintf("project-%d", i%4)
	}
	return s
}

// measureLatency times n sequential requests of each kind on the nodes named prefix-*.
func measureLatency(ctx context.Context, c *ironic.Client, prefix string, n, limit int) error {
	nodes, err := c.ListNodes(ctx, ironic.ListOptions{Fields: []string{"name", "provision_state", "instance_uuid"}})
	if err != nil {
		return err
	}
	var ids []string
	for _, nd := range nodes {
		if strings.HasPrefix(nd.Name, prefix+"-") && nd.ProvisionState == ironic.ProvisionStateAvailable && nd.InstanceUUID == "" {
			ids = append(ids, nd.UUID)
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("no available %s-* nodes to measure on", prefix)
	}
	id := ids[0]
	times := map[string][]time.Duration{}
	timeIt := func(kind string, fn func() error) error {
		t0 := time.Now()
		if err := fn(); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		times[kind] = append(times[kind], time.Since(t0))
		return nil
	}
	settle := func(state string) error {
		for {
			nd, err := c.GetNode(ctx, id, "provision_state", "target_provision_state", "reservation", "last_error")
			if err != nil {
				return err
			}
			if nd.ProvisionState == state && nd.TargetProvisionState == "" && nd.Reservation == "" {
				return nil
			}
			if strings.HasSuffix(nd.ProvisionState, "failed") {
				return fmt.Errorf("node %s: %s: %s", id, nd.ProvisionState, nd.LastError)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for i := range n {
		steps := []struct {
			kind string
			fn   func() error
		}{
			{"GET node", func() error { _, err := c.GetNode(ctx, id); return err }},
			{"GET node (fields)", func() error {
				_, err := c.GetNode(ctx, id, "provision_state", "target_provision_state", "instance_uuid", "last_error", "reservation")
				return err
			}},
			{"PATCH node", func() error {
				_, err := c.PatchNode(ctx, id, []ironic.PatchOp{ironic.AddOp("/extra/latency", i)})
				return err
			}},
			{"GET validate", func() error { _, err := c.ValidateNode(ctx, id); return err }},
			{"GET watch page (50 nodes)", func() error {
				// Ironic returns a full first page of 50; nothing in it is new, so the
				// watch stops there: one request.
				_, _, err := c.ChangedNodes(ctx, time.Now(), ironic.WatchOptions{})
				return err
			}},
			{fmt.Sprintf("GET list page (%d nodes)", min(limit, len(nodes))), func() error {
				_, err := c.ListNodes(ctx, ironic.ListOptions{Limit: limit})
				return err
			}},
			{"PUT provision", func() error { return c.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{}) }},
		}
		for _, s := range steps {
			if err := timeIt(s.kind, s.fn); err != nil {
				return err
			}
		}
		if err := settle(ironic.ProvisionStateActive); err != nil {
			return err
		}
		if err := timeIt("PUT provision", func() error {
			return c.SetProvisionState(ctx, id, ironic.TargetUndeploy, ironic.ProvisionOptions{})
		}); err != nil {
			return err
		}
		if err := settle(ironic.ProvisionStateAvailable); err != nil {
			return err
		}
	}
	kinds := make([]string, 0, len(times))
	for k := range times {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		ts := times[k]
		slices.Sort(ts)
		fmt.Printf("%-28s n=%-3d p50 %6.1f ms  p90 %6.1f ms\n", k, len(ts),
			float64(ts[len(ts)/2].Microseconds())/1000, float64(ts[len(ts)*9/10].Microseconds())/1000)
	}
	return nil
}
