// Command replicasim simulates ingot's replicas at scale (issue 14): -replicas ingot
// processes (the real binary, `ingot serve`) on one fresh PostgreSQL database, all
// tracking one fake Ironic of -n nodes served by this process, started at once. It
// reports the time until every node is owned by a live replica and has its provider, then,
// over a steady window, each replica's tracker pass time, CPU and memory, and the
// database's load (transactions and rows per second from pg_stat_database), and last the
// cost of one ownership scan's reads and plan at this size, timed alone.
//
//	go run ./bench/replicasim -n 100000 -replicas 5 -ingot bin/ingot -out DIR
//
// scripts/sim-replicas.sh builds the binary and runs it. The report (markdown) goes to
// DIR/report.md and stdout, the figures to DIR/results.json, each replica's log to -logs
// (tens of MB at 100,000 nodes: a line per ownership change).
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/replica"
	"ingot/internal/store"
)

type options struct {
	n, replicas  int
	ingot        string
	postgres     string
	out, logs    string
	portBase     int
	syncInterval time.Duration
	steady       time.Duration
	timeout      time.Duration
	keep         bool
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 100000, "nodes in the fake Ironic")
	flag.IntVar(&o.replicas, "replicas", 5, "ingot processes on the one database")
	flag.StringVar(&o.ingot, "ingot", "bin/ingot", "ingot's binary")
	flag.StringVar(&o.postgres, "postgres", envOr("INGOT_TEST_POSTGRES", "postgres://ingot:ingot@127.0.0.1:5432/postgres"),
		"a PostgreSQL URL whose user may create databases (a fresh one is made and dropped)")
	flag.StringVar(&o.out, "out", "", "directory for the report and the figures (required)")
	flag.StringVar(&o.logs, "logs", "", "directory for the replicas' logs (default: a new one under the system's temporary directory)")
	flag.IntVar(&o.portBase, "port-base", 20220, "the fake Ironic listens on this port, replica i on port-base+1+i")
	flag.DurationVar(&o.syncInterval, "sync-interval", 10*time.Second, "the replicas' --sync-interval")
	flag.DurationVar(&o.steady, "steady", 60*time.Second, "length of the steady window")
	flag.DurationVar(&o.timeout, "timeout", 8*time.Minute, "give up after this long")
	flag.BoolVar(&o.keep, "keep", false, "keep the database")
	flag.Parse()
	if o.out == "" {
		fmt.Fprintln(os.Stderr, "replicasim: -out is required")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "replicasim:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// pass is one finished tracker pass of a replica.
type pass struct {
	At                  time.Time // when its line was read
	Seconds, ListSecond float64
	Nodes, Changes      int
	Errors              int
}

// proc is one replica process.
type proc struct {
	id, base string
	cmd      *exec.Cmd
	exited   chan struct{}

	mu       sync.Mutex
	passes   []pass
	warnings int
}

func (p *proc) passesSince(t time.Time) []pass {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []pass
	for _, x := range p.passes {
		if !x.At.Before(t) {
			out = append(out, x)
		}
	}
	return out
}

// sample is what a replica's /metrics says at one time.
type sample struct {
	Owned, RSS, Heap, CPU float64
}

// dbStats are pg_stat_database's counters of the simulation's database.
type dbStats struct {
	At                                  time.Time
	Commits, Rollbacks                  float64
	Returned, Fetched                   float64
	Inserted, Updated, Deleted          float64
	BlocksRead, BlocksHit, DeadlocksEtc float64
}

// Replica is one replica's figures in the report.
type Replica struct {
	ID               string  `json:"id"`
	NodesOwned       int     `json:"nodes_owned"`
	Passes           int     `json:"steady_passes"`
	PassMedian       float64 `json:"steady_pass_median_s"`
	PassMax          float64 `json:"steady_pass_max_s"`
	ListMedian       float64 `json:"steady_listing_median_s"`
	CPUShare         float64 `json:"cpu_cores"`
	RSSMB            float64 `json:"rss_mb"`
	HeapMB           float64 `json:"go_heap_inuse_mb"`
	FirstPassSeconds float64 `json:"first_pass_s"`
	Warnings         int     `json:"warnings"`
}

// Results are the simulation's figures.
type Results struct {
	Nodes                int       `json:"nodes"`
	Replicas             int       `json:"replicas"`
	SyncInterval         string    `json:"sync_interval"`
	Cores                int       `json:"cores"`
	Start                time.Time `json:"start"`
	FullOwnershipSeconds float64   `json:"full_ownership_s"`
	AllProvidersSeconds  float64   `json:"all_providers_s"`
	OwnedSpread          [2]int    `json:"owned_min_max"`
	SteadySeconds        float64   `json:"steady_window_s"`
	PerReplica           []Replica `json:"per_replica"`
	TPS                  float64   `json:"db_commits_per_s"`
	RowsReturnedPerS     float64   `json:"db_rows_returned_per_s"`
	RowsFetchedPerS      float64   `json:"db_rows_fetched_per_s"`
	RowsWrittenPerS      float64   `json:"db_rows_written_per_s"`
	DBSizeMB             float64   `json:"db_size_mb"`
	FakeIronicCPU        float64   `json:"fake_ironic_cpu_cores"`
	Scan                 scanCost  `json:"scan_alone"`
}

// scanCost is one ownership scan's reads and plan at this size, timed alone (medians).
type scanCost struct {
	MembersMS float64 `json:"members_ms"`
	OwnersMS  float64 `json:"owner_rows_ms"`
	BusyMS    float64 `json:"busy_ms"`
	PlanMS    float64 `json:"plan_ms"`
	TotalMS   float64 `json:"total_ms"`
	// FullReadMS is the first design's reads: members with counts and every row.
	FullReadMS float64 `json:"full_read_ms"`
	// CountsMS is the metrics' count of live replicas and unowned nodes.
	CountsMS float64 `json:"replica_counts_ms"`
	Rows     int     `json:"rows"`
	AllRows  int     `json:"all_rows"`
}

func run(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if o.logs == "" {
		var err error
		if o.logs, err = os.MkdirTemp("", "ingot-replicasim-"); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(o.logs, 0o755); err != nil {
		return err
	}
	progress("replicas' logs in %s", o.logs)
	res := Results{Nodes: o.n, Replicas: o.replicas, SyncInterval: o.syncInterval.String(), Cores: runtime.NumCPU()}

	// A fresh database.
	admin, err := sql.Open("pgx", o.postgres)
	if err != nil {
		return err
	}
	defer admin.Close()
	name := fmt.Sprintf("ingot_sim_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	if !o.keep {
		defer func() {
			// The replicas' sessions are gone by now; an autovacuum worker may still be in
			// it for a moment (and FORCE may not end it without superuser rights).
			var err error
			for range 20 {
				if _, err = admin.Exec("DROP DATABASE IF EXISTS " + name); err == nil {
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
			progress("drop database %s: %v", name, err)
		}()
	}
	u, err := url.Parse(o.postgres)
	if err != nil {
		return err
	}
	u.Path = "/" + name
	dsn := u.String()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()

	// The fake Ironic, in this process.
	fake := ironictest.New()
	fake.AddNodes(o.n, func(i int) ironic.Node {
		return ironic.Node{Name: fmt.Sprintf("sim-%06d", i), ResourceClass: "baremetal-sim", PowerState: ironic.PowerOff,
			ProvisionState: ironic.ProvisionStateAvailable, Properties: map[string]any{"cpus": 32, "memory_mb": 262144}}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(o.portBase))
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: fake.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	ironicURL := "http://" + ln.Addr().String()
	progress("fake Ironic with %d nodes at %s; database %s", o.n, ironicURL, name)

	// The replicas, all at once.
	res.Start = time.Now()
	var procs []*proc
	defer func() {
		for _, p := range procs {
			stop(p)
		}
	}()
	for i := range o.replicas {
		p, err := start(o, i, dsn, ironicURL)
		if err != nil {
			return err
		}
		procs = append(procs, p)
	}

	// Until every node is owned by a live replica and has its provider.
	for res.FullOwnershipSeconds == 0 || res.AllProvidersSeconds == 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("no full ownership and providers in time: %w", err)
		}
		for _, p := range procs {
			select {
			case <-p.exited:
				return fmt.Errorf("replica %s exited (see its log)", p.id)
			default:
			}
		}
		var rows, owned, providers int
		err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM ingot_node_owner),
			(SELECT count(*) FROM ingot_node_owner o JOIN ingot_replicas r ON r.replica_id = o.replica_id AND r.lease_expires_at > now()),
			(SELECT count(*) FROM resource_providers)`).Scan(&rows, &owned, &providers)
		if err == nil {
			el := time.Since(res.Start).Seconds()
			if res.FullOwnershipSeconds == 0 && rows == o.n && owned == o.n {
				res.FullOwnershipSeconds = el
				progress("every node owned after %.1f s", el)
			}
			if res.AllProvidersSeconds == 0 && providers >= o.n {
				res.AllProvidersSeconds = el
				progress("every node has its provider after %.1f s", el)
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Steady: every replica finishes two more passes; then the window.
	settle := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("replicas did not settle: %w", err)
		}
		done := true
		for _, p := range procs {
			if len(p.passesSince(settle)) < 2 {
				done = false
			}
		}
		if done {
			break
		}
		time.Sleep(time.Second)
	}
	progress("steady window of %v", o.steady)
	w0 := time.Now()
	s0 := scrapeAll(procs)
	d0, err := readDBStats(ctx, db, name)
	if err != nil {
		return err
	}
	c0 := selfCPU()
	time.Sleep(o.steady)
	s1 := scrapeAll(procs)
	d1, err := readDBStats(ctx, db, name)
	if err != nil {
		return err
	}
	c1 := selfCPU()
	win := time.Since(w0).Seconds()
	res.SteadySeconds = win
	res.FakeIronicCPU = (c1 - c0) / win
	dt := d1.At.Sub(d0.At).Seconds()
	res.TPS = (d1.Commits - d0.Commits) / dt
	res.RowsReturnedPerS = (d1.Returned - d0.Returned) / dt
	res.RowsFetchedPerS = (d1.Fetched - d0.Fetched) / dt
	res.RowsWrittenPerS = (d1.Inserted + d1.Updated + d1.Deleted - d0.Inserted - d0.Updated - d0.Deleted) / dt
	var size float64
	if err := db.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&size); err == nil {
		res.DBSizeMB = size / 1e6
	}
	res.OwnedSpread = [2]int{o.n, 0}
	for i, p := range procs {
		ps := p.passesSince(w0)
		var durs, lists []float64
		for _, x := range ps {
			if x.At.After(w0.Add(time.Duration(win * float64(time.Second)))) {
				continue
			}
			durs = append(durs, x.Seconds)
			lists = append(lists, x.ListSecond)
		}
		all := p.passesSince(res.Start)
		r := Replica{ID: p.id, NodesOwned: int(s1[i].Owned), Passes: len(durs), PassMedian: median(durs),
			PassMax: maxOf(durs), ListMedian: median(lists), CPUShare: (s1[i].CPU - s0[i].CPU) / win,
			RSSMB: s1[i].RSS / 1e6, HeapMB: s1[i].Heap / 1e6}
		for _, x := range all {
			if x.Changes > 0 { // the pass that wrote its nodes' providers
				r.FirstPassSeconds = x.Seconds
				break
			}
		}
		p.mu.Lock()
		r.Warnings = p.warnings
		p.mu.Unlock()
		res.OwnedSpread[0] = min(res.OwnedSpread[0], r.NodesOwned)
		res.OwnedSpread[1] = max(res.OwnedSpread[1], r.NodesOwned)
		res.PerReplica = append(res.PerReplica, r)
	}

	// One scan's reads and plan, timed alone from this process (the replicas still run).
	res.Scan, err = timeScan(ctx, dsn, procs[0].id)
	if err != nil {
		progress("timing a scan: %v", err)
	}

	report := render(res)
	fmt.Print(report)
	if err := os.WriteFile(filepath.Join(o.out, "report.md"), []byte(report), 0o644); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	return os.WriteFile(filepath.Join(o.out, "results.json"), append(b, '\n'), 0o644)
}

// start starts replica i and reads its log.
func start(o options, i int, dsn, ironicURL string) (*proc, error) {
	port := o.portBase + 1 + i
	p := &proc{id: fmt.Sprintf("sim-%d", i), base: "http://127.0.0.1:" + strconv.Itoa(port), exited: make(chan struct{})}
	logf, err := os.Create(filepath.Join(o.logs, p.id+".log"))
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(o.ingot, "serve", "--listen", "127.0.0.1:"+strconv.Itoa(port), "--database", dsn,
		"--ironic-url", ironicURL, "--replica-id", p.id, "--sync-interval", o.syncInterval.String(),
		"--log-format", "json")
	p.cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "INGOT_") })
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		readLog(io.TeeReader(out, logf), p)
		_ = p.cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

// readLog records the replica's tracker passes and counts its warnings.
func readLog(r io.Reader, p *proc) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		p.mu.Lock()
		switch rec["msg"] {
		case "tracker pass":
			p.passes = append(p.passes, pass{At: time.Now(), Seconds: num(rec["duration"]) / 1e9,
				ListSecond: num(rec["list_duration"]) / 1e9, Nodes: int(num(rec["nodes"])),
				Changes: int(num(rec["changes"])), Errors: int(num(rec["errors"]))})
		}
		if lvl, _ := rec["level"].(string); lvl == "WARN" || lvl == "ERROR" {
			p.warnings++
			if p.warnings <= 5 {
				progress("%s: %s", p.id, sc.Text())
			}
		}
		p.mu.Unlock()
	}
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// stop sends SIGTERM (the replica drains) and SIGKILL after 40 s.
func stop(p *proc) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// scrapeAll reads every replica's nodes owned, RSS, Go heap in use and CPU seconds.
func scrapeAll(procs []*proc) []sample {
	out := make([]sample, len(procs))
	for i, p := range procs {
		resp, err := http.Get(p.base + "/metrics")
		if err != nil {
			progress("scrape %s: %v", p.id, err)
			continue
		}
		parser := expfmt.NewTextParser(model.LegacyValidation)
		fams, err := parser.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			progress("scrape %s: %v", p.id, err)
			continue
		}
		get := func(name string) float64 {
			f := fams[name]
			if f == nil || len(f.GetMetric()) == 0 {
				return 0
			}
			m := f.GetMetric()[0]
			switch {
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Counter != nil:
				return m.Counter.GetValue()
			}
			return 0
		}
		out[i] = sample{Owned: get("ingot_nodes_owned"), RSS: get("process_resident_memory_bytes"),
			Heap: get("go_memstats_heap_inuse_bytes"), CPU: get("process_cpu_seconds_total")}
	}
	return out
}

func readDBStats(ctx context.Context, db *sql.DB, name string) (dbStats, error) {
	var s dbStats
	// pg_stat_database is updated when sessions report (at most every second or so);
	// clear this session's snapshot so that the read is current.
	_, _ = db.ExecContext(ctx, `SELECT pg_stat_clear_snapshot()`)
	err := db.QueryRowContext(ctx, `SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted,
		tup_updated, tup_deleted, blks_read, blks_hit FROM pg_stat_database WHERE datname = $1`, name).Scan(
		&s.Commits, &s.Rollbacks, &s.Returned, &s.Fetched, &s.Inserted, &s.Updated, &s.Deleted, &s.BlocksRead, &s.BlocksHit)
	s.At = time.Now()
	return s, err
}

// timeScan times, five times, what one replica's scan reads (members, its ownership rows,
// busy nodes) and its plan, through the store as the replica does; and, for comparison,
// the reads of the first design (members with their counts, every ownership row).
func timeScan(ctx context.Context, dsn, me string) (scanCost, error) {
	st, err := store.Open(ctx, dsn, store.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return scanCost{}, err
	}
	defer st.Close()
	var members, owners, busy, plan, total, full, counts []float64
	var c scanCost
	ms := func(a, b time.Time) float64 { return float64(b.Sub(a).Microseconds()) / 1000 }
	for range 5 {
		t0 := time.Now()
		m, err := st.ReplicaMembers(ctx)
		if err != nil {
			return c, err
		}
		t1 := time.Now()
		o, err := st.NodeOwnersFor(ctx, me)
		if err != nil {
			return c, err
		}
		t2 := time.Now()
		b, err := st.BusyNodes(ctx)
		if err != nil {
			return c, err
		}
		t3 := time.Now()
		replica.Plan(replica.Input{Me: me, Members: m, Owners: o, Busy: b, Warmup: replica.DefaultTTL,
			Residence: replica.DefaultResidence, MaxMoves: replica.DefaultMaxMoves, Waiting: map[string]int{},
			Offered: map[string]int{}})
		t4 := time.Now()
		if _, err := st.Replicas(ctx); err != nil {
			return c, err
		}
		all, err := st.NodeOwners(ctx)
		if err != nil {
			return c, err
		}
		t5 := time.Now()
		if _, _, err := st.ReplicaCounts(ctx); err != nil {
			return c, err
		}
		counts = append(counts, ms(t5, time.Now()))
		members, owners, busy, plan = append(members, ms(t0, t1)), append(owners, ms(t1, t2)), append(busy, ms(t2, t3)),
			append(plan, ms(t3, t4))
		total, full = append(total, ms(t0, t4)), append(full, ms(t4, t5))
		c.Rows, c.AllRows = len(o), len(all)
	}
	c.MembersMS, c.OwnersMS, c.BusyMS, c.PlanMS, c.TotalMS, c.FullReadMS = median(members), median(owners), median(busy),
		median(plan), median(total), median(full)
	c.CountsMS = median(counts)
	return c, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// selfCPU is this process's CPU time (user and system) in seconds: the fake Ironic's.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func render(r Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %d replicas, %d fake Ironic nodes, one PostgreSQL (%d cores)\n\n", r.Replicas, r.Nodes, r.Cores)
	fmt.Fprintf(&b, "Started %s; every replica `ingot serve` (a process of its own) with `--sync-interval %s`, default replica timings (TTL 15 s, renew 3 s, scan 2 s).\n\n",
		r.Start.UTC().Format(time.RFC3339), r.SyncInterval)
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| every node owned by a live replica | %.1f s after the start |\n", r.FullOwnershipSeconds)
	fmt.Fprintf(&b, "| every node has its provider | %.1f s after the start |\n", r.AllProvidersSeconds)
	fmt.Fprintf(&b, "| nodes owned per replica, min / max | %d / %d (even: %d) |\n", r.OwnedSpread[0], r.OwnedSpread[1], r.Nodes/max(1, r.Replicas))
	fmt.Fprintf(&b, "| steady window | %.0f s |\n", r.SteadySeconds)
	fmt.Fprintf(&b, "| database: commits/s | %.1f |\n", r.TPS)
	fmt.Fprintf(&b, "| database: rows returned/s (scans), fetched/s (index) | %.0f, %.0f |\n", r.RowsReturnedPerS, r.RowsFetchedPerS)
	fmt.Fprintf(&b, "| database: rows written/s | %.1f |\n", r.RowsWrittenPerS)
	fmt.Fprintf(&b, "| database size | %.0f MB |\n", r.DBSizeMB)
	fmt.Fprintf(&b, "| fake Ironic (this process) CPU | %.2f cores |\n", r.FakeIronicCPU)
	fmt.Fprintf(&b, "| one scan alone (median of 5): members, its %d ownership rows, busy nodes, plan | %.1f, %.1f, %.1f, %.1f ms: %.1f ms |\n",
		r.Scan.Rows, r.Scan.MembersMS, r.Scan.OwnersMS, r.Scan.BusyMS, r.Scan.PlanMS, r.Scan.TotalMS)
	fmt.Fprintf(&b, "| the first design's scan reads: members with counts, all %d rows | %.1f ms |\n", r.Scan.AllRows, r.Scan.FullReadMS)
	fmt.Fprintf(&b, "| a scrape's count of live replicas and unowned nodes (ReplicaCounts) | %.1f ms |\n\n", r.Scan.CountsMS)
	fmt.Fprintf(&b, "| replica | nodes owned | first writing pass | steady passes | steady pass, median (max) | its listing, median | CPU | RSS | Go heap in use | warnings |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range r.PerReplica {
		fmt.Fprintf(&b, "| %s | %d | %.1f s | %d | %.2f s (%.2f s) | %.2f s | %.2f cores | %.0f MB | %.0f MB | %d |\n",
			x.ID, x.NodesOwned, x.FirstPassSeconds, x.Passes, x.PassMedian, x.PassMax, x.ListMedian, x.CPUShare, x.RSSMB, x.HeapMB, x.Warnings)
	}
	return b.String()
}
