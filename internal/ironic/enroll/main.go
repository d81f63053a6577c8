// Command enroll enrolls fake-hardware nodes into an Ironic through ingot's client and
// brings them to available, then optionally times full node listings. It is run by
// scripts/ironic/enroll against the Ironic that scripts/ironic/start.sh starts.
//
//	go run ./internal/ironic/enroll -n 1000 -measure 5
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
