// Command trackerbench measures ingot's Ironic resource tracker at scale: the node listing
// alone, the first pass, steady passes, the writes of an unchanged pass, a pass with some
// changed nodes, the latency of Placement claims during the first pass, and ingot's
// resident memory. It runs the real ingot binary as a child process on a fresh SQLite
// database, against a fake Ironic in this process (which charges a cost per listed node,
// as the real Ironic 21.4 does) or against a real Ironic, and reads ingot's JSON log.
//
//	go run ./bench/trackerbench -n 10000                           # fake Ironic, 0.27 ms per node
//	go run ./bench/trackerbench -ironic-url http://127.0.0.1:16385  # the nodes of a real Ironic
//
// The report (markdown) goes to stdout, progress to stderr; -json also writes the figures.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/reconcile"
)

type options struct {
	n         int
	cost      time.Duration
	ironicURL string
	group     string
	listings  int
	passes    int
	churn     int
	interval  time.Duration
	ingot     string
	jsonOut   string
	logFile   string
	database  string
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 10000, "nodes in the fake Ironic (ignored with -ironic-url)")
	flag.DurationVar(&o.cost, "cost", 270*time.Microsecond, "listing cost per node charged by the fake Ironic, on one simulated CPU")
	flag.StringVar(&o.ironicURL, "ironic-url", "", "a real Ironic to track instead of the fake (noauth)")
	flag.StringVar(&o.group, "group", "", "conductor group ingot tracks (default: every node)")
	flag.IntVar(&o.listings, "listings", 3, "timed listings alone")
	flag.IntVar(&o.passes, "passes", 3, "steady passes after the first")
	flag.IntVar(&o.churn, "churn", 100, "nodes put into maintenance for one more pass (fake only; 0: skip)")
	flag.DurationVar(&o.interval, "interval", 2*time.Second, "ingot's --sync-interval")
	flag.StringVar(&o.ingot, "ingot", "", "the ingot binary (default: build ./cmd/ingot)")
	flag.StringVar(&o.jsonOut, "json", "", "also write the figures to this file as JSON")
	flag.StringVar(&o.logFile, "log", "", "keep ingot's log in this file")
	flag.StringVar(&o.database, "database", "", "ingot's --database (default: a new SQLite file); a PostgreSQL database must be empty")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "trackerbench:", err)
		os.Exit(1)
	}
}

// Result holds the figures of one run. Durations are in seconds.
type Result struct {
	Ironic          string    `json:"ironic"`
	Database        string    `json:"database"`
	Nodes           int       `json:"nodes"`
	CostPerNodeMS   float64   `json:"cost_per_node_ms,omitempty"`
	Listings        []float64 `json:"listings_s"`
	ListingS        float64   `json:"listing_s"`
	FirstPass       pass      `json:"first_pass"`
	SteadyPasses    []pass    `json:"steady_passes"`
	SteadyS         float64   `json:"steady_pass_s"`
	SteadyOverList  float64   `json:"steady_over_listing"`
	WritesUnchanged int       `json:"writes_per_unchanged_pass"`
	SeqUnchanged    int64     `json:"seq_steps_per_unchanged_pass"`
	Churn           *pass     `json:"churn_pass,omitempty"`
	ClaimsDuring    latencies `json:"claims_during_first_pass"`
	RSSMB           float64   `json:"rss_mb"`
	PeakRSSMB       float64   `json:"peak_rss_mb"`
	RSSAnonMB       float64   `json:"rss_anon_mb"`
	RSSFileMB       float64   `json:"rss_file_mb"`
	DatabaseMB      float64   `json:"database_mb"`
	WALMB           float64   `json:"wal_mb"`
}

type pass struct {
	Seconds     float64 `json:"s"`
	ListSeconds float64 `json:"list_s"`
	Nodes       int     `json:"nodes"`
	Changes     int     `json:"changes"`
	Errors      int     `json:"errors"`
	Seq         int64   `json:"seq"`
}

type latencies struct {
	Count int     `json:"count"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
}

func run(o options) error {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "trackerbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	res := Result{Ironic: o.ironicURL}

	var fake *ironictest.Server
	url := o.ironicURL
	if url == "" {
		fake = ironictest.New()
		progress("seeding the fake Ironic with %d nodes", o.n)
		fake.AddNodes(o.n, node)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: fake.Handler()}
		go srv.Serve(ln)
		defer srv.Close()
		url = "http://" + ln.Addr().String()
		fake.SetCostPerNode(o.cost)
		res.Ironic = fmt.Sprintf("fake, %v per listed node on one simulated CPU", o.cost)
		res.CostPerNodeMS = float64(o.cost) / float64(time.Millisecond)
	}

	// The listing alone, as a pass makes it.
	client, err := ironic.New(ironic.Config{URL: url})
	if err != nil {
		return err
	}
	v, err := client.Negotiate(ctx)
	if err != nil {
		return err
	}
	for i := range o.listings {
		start := time.Now()
		nodes, err := client.ListNodes(ctx, ironic.ListOptions{Fields: reconcile.Fields(v), ConductorGroup: o.group})
		if err != nil {
			return err
		}
		d := time.Since(start)
		res.Nodes = len(nodes)
		res.Listings = append(res.Listings, d.Seconds())
		progress("listing %d: %d nodes in %v", i+1, len(nodes), d.Round(time.Millisecond))
	}
	res.ListingS = median(res.Listings)
	if fake == nil && res.Nodes > 0 {
		res.CostPerNodeMS = res.ListingS * 1000 / float64(res.Nodes)
	}

	bin := o.ingot
	if bin == "" {
		bin = filepath.Join(work, "ingot")
		progress("building ingot")
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/ingot").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	api := "http://127.0.0.1:" + strconv.Itoa(port)
	database := o.database
	if database == "" {
		database = "sqlite:" + filepath.Join(work, "ingot.db")
	}
	res.Database = strings.SplitN(database, ":", 2)[0]
	args := []string{"serve", "--listen", "127.0.0.1:" + strconv.Itoa(port),
		"--database", database, "--ironic-url", url,
		"--sync-interval", o.interval.String(), "--log-format", "json"}
	if o.group != "" {
		args = append(args, "--ironic-conductor-group", o.group)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "INGOT_") })
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	logPath := o.logFile
	if logPath == "" {
		logPath = filepath.Join(work, "ingot.log")
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	progress("starting %s", strings.Join(append([]string{bin}, args...), " "))
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	passes := make(chan pass, 16)
	up := make(chan struct{})
	go readLog(io.TeeReader(stderr, logFile), passes, up)

	select {
	case <-up:
	case <-time.After(2 * time.Minute):
		return errors.New("ingot did not start")
	}
	// Claims against a provider of our own while the first pass runs.
	probeCtx, stopProbe := context.WithCancel(ctx)
	defer stopProbe()
	claims := make(chan []time.Duration, 1)
	go func() { claims <- probe(probeCtx, api) }()

	next := func(what string) (pass, error) {
		select {
		case p := <-passes:
			progress("%s: %.3fs (listing %.3fs), %d nodes, %d changes, %d errors, seq %d",
				what, p.Seconds, p.ListSeconds, p.Nodes, p.Changes, p.Errors, p.Seq)
			return p, nil
		case <-time.After(30 * time.Minute):
			return pass{}, fmt.Errorf("no %s", what)
		}
	}
	if res.FirstPass, err = next("first pass"); err != nil {
		return err
	}
	stopProbe()
	res.ClaimsDuring = summarize(<-claims)
	prevSeq := res.FirstPass.Seq
	for i := range o.passes {
		p, err := next(fmt.Sprintf("steady pass %d", i+1))
		if err != nil {
			return err
		}
		res.SteadyPasses = append(res.SteadyPasses, p)
		res.WritesUnchanged = max(res.WritesUnchanged, p.Changes)
		// The first steady pass follows the probe's writes; later ones measure the tracker.
		if i > 0 {
			res.SeqUnchanged = max(res.SeqUnchanged, p.Seq-prevSeq)
		}
		prevSeq = p.Seq
	}
	var steady []float64
	for _, p := range res.SteadyPasses {
		steady = append(steady, p.Seconds)
	}
	res.SteadyS = median(steady)
	if res.ListingS > 0 {
		res.SteadyOverList = res.SteadyS / res.ListingS
	}
	if fake != nil && o.churn > 0 {
		step := max(o.n/o.churn, 1)
		for i := range min(o.churn, o.n) {
			fake.UpdateNode(node(i*step).UUID, func(n *ironic.Node) { n.Maintenance = true })
		}
		// The next pass that sees the change (one running now may have listed before it).
		for range 3 {
			p, err := next("pass after the change")
			if err != nil {
				return err
			}
			if p.Changes > 0 {
				res.Churn = &p
				break
			}
		}
	}
	mem, err := rss(cmd.Process.Pid)
	if err != nil {
		return err
	}
	res.RSSMB, res.PeakRSSMB, res.RSSAnonMB, res.RSSFileMB = mem["VmRSS"], mem["VmHWM"], mem["RssAnon"], mem["RssFile"]
	if fi, err := os.Stat(filepath.Join(work, "ingot.db")); err == nil {
		res.DatabaseMB = float64(fi.Size()) / (1 << 20)
	}
	if fi, err := os.Stat(filepath.Join(work, "ingot.db-wal")); err == nil {
		res.WALMB = float64(fi.Size()) / (1 << 20)
	}
	report(os.Stdout, res)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// node is node i of the benchmark fleet: available, powered off, gold or silver, in one of
// 20 racks, every other one with AVX2, every tenth with an owner.
func node(i int) ironic.Node {
	n := ironic.Node{
		UUID:           fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i),
		Name:           fmt.Sprintf("node-%05d", i),
		ResourceClass:  "baremetal-" + []string{"gold", "silver", "silver"}[i%3],
		ProvisionState: ironic.ProvisionStateAvailable,
		PowerState:     ironic.PowerOff,
		ConductorGroup: "ingot",
		Traits:         []string{fmt.Sprintf("CUSTOM_RACK_R%02d", i%20)},
	}
	if i%2 == 0 {
		n.Traits = append(n.Traits, "HW_CPU_X86_AVX2")
	}
	if i%10 == 0 {
		n.Owner = fmt.Sprintf("project-%d", i%4)
	}
	return n
}

// readLog reads ingot's JSON log: it closes up once the API serves and sends every
// finished tracker pass.
func readLog(r io.Reader, passes chan<- pass, up chan<- struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	started := false
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		switch rec["msg"] {
		case "serving Placement API":
			if !started {
				started = true
				close(up)
			}
		case "tracker pass":
			passes <- pass{
				Seconds: num(rec["duration"]) / 1e9, ListSeconds: num(rec["list_duration"]) / 1e9,
				Nodes: int(num(rec["nodes"])), Changes: int(num(rec["changes"])),
				Errors: int(num(rec["errors"])), Seq: int64(num(rec["seq"])),
			}
		}
		if lvl, _ := rec["level"].(string); lvl == "WARN" || lvl == "ERROR" {
			progress("ingot: %s", sc.Text())
		}
	}
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// probe makes Placement claims (PUT then DELETE /allocations of one consumer, against a
// provider of its own) until ctx ends, and returns each request's latency.
func probe(ctx context.Context, api string) []time.Duration {
	do := func(method, path, body string) (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, method, api+path, strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("X-Auth-Token", "admin")
		req.Header.Set("OpenStack-API-Version", "placement 1.39")
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return 0, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
		}
		return time.Since(start), nil
	}
	rp := "99999999-9999-4999-8999-999999999999"
	consumer := "88888888-8888-4888-8888-888888888888"
	if _, err := do(http.MethodPost, "/resource_providers", `{"uuid":"`+rp+`","name":"trackerbench-probe"}`); err != nil {
		progress("probe: %v", err)
		return nil
	}
	if _, err := do(http.MethodPut, "/resource_providers/"+rp+"/inventories",
		`{"resource_provider_generation":0,"inventories":{"VCPU":{"total":1000}}}`); err != nil {
		progress("probe: %v", err)
		return nil
	}
	var out []time.Duration
	claim := `{"allocations":{"` + rp + `":{"resources":{"VCPU":1}}},"project_id":"p","user_id":"u","consumer_generation":null,"consumer_type":"INSTANCE"}`
	for ctx.Err() == nil {
		d, err := do(http.MethodPut, "/allocations/"+consumer, claim)
		if err == nil {
			out = append(out, d)
			d, err = do(http.MethodDelete, "/allocations/"+consumer, "")
		}
		if err != nil {
			if ctx.Err() == nil {
				progress("probe: %v", err)
			}
			break
		}
		out = append(out, d)
	}
	return out
}

func summarize(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return latencies{Count: len(ds), P50MS: ms(ds[len(ds)/2]), P99MS: ms(ds[len(ds)*99/100]), MaxMS: ms(ds[len(ds)-1])}
}

// rss reads the process's memory figures (VmRSS, VmHWM, RssAnon, RssFile...) from /proc,
// in MB.
func rss(pid int) (map[string]float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range bytes.Split(b, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) == 3 && f[2] == "kB" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			out[strings.TrimSuffix(f[0], ":")] = kb / 1024
		}
	}
	return out, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func progress(format string, args ...any) {
	slog.New(slog.NewTextHandler(os.Stderr, nil)).Info(fmt.Sprintf(format, args...))
}

func report(w io.Writer, r Result) {
	first := r.FirstPass
	fmt.Fprintf(w, "| tracker at %d nodes | |\n|---|---|\n", r.Nodes)
	fmt.Fprintf(w, "| Ironic | %s |\n", r.Ironic)
	fmt.Fprintf(w, "| ingot's database | %s |\n", r.Database)
	if r.CostPerNodeMS > 0 {
		fmt.Fprintf(w, "| listing cost per node | %.3f ms |\n", r.CostPerNodeMS)
	}
	fmt.Fprintf(w, "| listing alone (tracker's fields), median of %d | %.2f s |\n", len(r.Listings), r.ListingS)
	fmt.Fprintf(w, "| first pass | %.2f s (its listing %.2f s; %.2f s beyond it), %d changes, %d errors |\n",
		first.Seconds, first.ListSeconds, first.Seconds-first.ListSeconds, first.Changes, first.Errors)
	fmt.Fprintf(w, "| steady pass, median of %d | %.2f s = %.2f x the listing alone |\n", len(r.SteadyPasses), r.SteadyS, r.SteadyOverList)
	fmt.Fprintf(w, "| writes per unchanged pass | %d node writes, %d change-sequence steps |\n", r.WritesUnchanged, r.SeqUnchanged)
	if r.Churn != nil {
		fmt.Fprintf(w, "| pass with %d nodes changed (maintenance on) | %.2f s, %d changes |\n", r.Churn.Changes, r.Churn.Seconds, r.Churn.Changes)
	}
	c := r.ClaimsDuring
	fmt.Fprintf(w, "| Placement claims during the first pass (PUT/DELETE /allocations) | %d requests: p50 %.1f ms, p99 %.1f ms, max %.1f ms |\n",
		c.Count, c.P50MS, c.P99MS, c.MaxMS)
	fmt.Fprintf(w, "| ingot resident memory after the passes (peak) | %.0f MB (%.0f MB): %.0f MB anonymous, %.0f MB file-backed (the binary's code and SQLite's mmap) |\n",
		r.RSSMB, r.PeakRSSMB, r.RSSAnonMB, r.RSSFileMB)
	if r.DatabaseMB > 0 {
		fmt.Fprintf(w, "| SQLite database, its WAL | %.0f MB, %.0f MB |\n", r.DatabaseMB, r.WALMB)
	}
}
