package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx", for the harness's own queries

	"ingot/internal/ingottest"
	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/replica"
	"ingot/internal/store"
)

// Timings are a cluster's replica settings; ratios to the TTL are what the tests check.
type Timings struct {
	TTL, Renew, Scan, Residence, Drain, Sync, Watch time.Duration
	MaxMoves                                        int
}

// Short are the tests' timings: a 3 s TTL, renewals every 0.5 s, scans every 0.5 s.
var Short = Timings{TTL: 3 * time.Second, Renew: 500 * time.Millisecond, Scan: 500 * time.Millisecond,
	Residence: 2 * time.Second, Drain: 10 * time.Second, Sync: 2 * time.Second, Watch: 300 * time.Millisecond,
	MaxMoves: 50}

// Production are the defaults an operator gets: TTL 15 s, renew 3 s, scan 2 s.
var Production = Timings{TTL: 15 * time.Second, Renew: 3 * time.Second, Scan: 2 * time.Second,
	Residence: 60 * time.Second, Drain: 30 * time.Second, Sync: 10 * time.Second, Watch: time.Second,
	MaxMoves: 50}

// Warmup is how long a new replica waits before nodes move to it: the TTL.
func (tm Timings) Warmup() time.Duration { return tm.TTL }

// Bound is how long a node may stay without an owner after a crash: TTL plus two scans.
func (tm Timings) Bound() time.Duration { return tm.TTL + 2*tm.Scan }

// Limit is what the tests assert against Bound's figures: two scans more, for the
// scheduling delays of a loaded 2-core machine (the shared CI and development hosts; at
// the short timings a scan is half a second). The figures are reported exactly.
func (tm Timings) Limit() time.Duration { return tm.Bound() + 2*tm.Scan }

// Cluster is a fake Ironic, a PostgreSQL database and the ingot replicas on it.
type Cluster struct {
	t      testing.TB
	T      Timings
	DSN    string // the database as replicas reach it directly
	Ironic *ironictest.Server
	// IronicURL is the fake's base URL.
	IronicURL string
	Nodes     []string
	dir       string
	bin       string
	db        *sql.DB

	mu   sync.Mutex
	reps map[string]*Replica
	// Sampler results: see Sample.
	sampler *sampler
}

// Replica is one `ingot serve` process (the latest incarnation of an id).
type Replica struct {
	ID      string
	Base    string // the API's base URL
	LogPath string
	Proxy   *Proxy // the database proxy, when started with one
	Started time.Time
	cmd     *exec.Cmd
	exited  chan struct{}
}

// Gold is the fake's node i: class gold, available and off.
func Gold(i int) ironic.Node {
	return ironic.Node{UUID: fmt.Sprintf("%08d-0000-4000-8000-%012d", i, i), Name: fmt.Sprintf("node-%05d", i),
		ResourceClass: "gold", ProvisionState: ironic.ProvisionStateAvailable, PowerState: ironic.PowerOff,
		Properties: map[string]any{"cpus": 8, "memory_mb": 16384, "local_gb": 100}}
}

// New starts a fake Ironic of n nodes on a free loopback port and returns a cluster on
// the database dsn (fresh, reached directly by replicas and by the harness), with no
// replica yet. Everything stops when t ends.
func New(t testing.TB, dsn string, n int, tm Timings) *Cluster {
	t.Helper()
	dir := t.TempDir()
	if keep := os.Getenv("INGOT_CHAOS_LOGS"); keep != "" {
		// Keep the replicas' logs for reading after the run.
		dir = filepath.Join(keep, strings.ReplaceAll(t.Name(), "/", "_")+"-"+time.Now().Format("150405"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := &Cluster{t: t, T: tm, DSN: dsn, dir: dir, bin: ingottest.Binary(t), reps: map[string]*Replica{}}
	c.Ironic = ironictest.New()
	c.Nodes = c.Ironic.AddNodes(n, Gold)
	ln, err := net.Listen("tcp", addr(t))
	if err != nil {
		t.Fatal(err)
	}
	go c.Ironic.Serve(ln)
	t.Cleanup(func() { ln.Close() })
	c.IronicURL = "http://" + ln.Addr().String()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(2)
	c.db = db
	t.Cleanup(func() {
		c.mu.Lock()
		reps := slices.Collect(mapsValues(c.reps))
		c.mu.Unlock()
		for _, r := range reps {
			r.signal(syscall.SIGCONT)
			r.signal(syscall.SIGKILL)
			r.wait(10 * time.Second)
			if r.Proxy != nil {
				r.Proxy.Close()
			}
		}
		if c.sampler != nil {
			c.sampler.stop()
		}
		db.Close()
		if t.Failed() {
			for _, r := range reps {
				b, _ := os.ReadFile(r.LogPath)
				t.Logf("replica %s's log (tail):\n%s", r.ID, ingottest.Tail(dropNoise(b), 20000))
			}
		}
	})
	return c
}

func mapsValues[K comparable, V any](m map[K]V) func(func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// dropNoise removes the debug lines that say little when a failure is read.
func dropNoise(b []byte) []byte {
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, `"msg":"fenced write"`) && !strings.Contains(l, `"msg":"tracker pass"`) {
			keep = append(keep, l)
		}
	}
	return []byte(strings.Join(keep, "\n"))
}

// nextPort hands out ports from INGOT_CHAOS_PORT_BASE upwards (for a machine where each
// user has a port range), or free ones.
var (
	portMu   sync.Mutex
	portNext int
)

func addr(t testing.TB) string {
	portMu.Lock()
	defer portMu.Unlock()
	base, _ := strconv.Atoi(os.Getenv("INGOT_CHAOS_PORT_BASE"))
	if base == 0 {
		return "127.0.0.1:" + strconv.Itoa(ingottest.FreePort(t))
	}
	for range 200 {
		p := base + portNext%128
		portNext++
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			ln.Close()
			return ln.Addr().String()
		}
	}
	t.Fatal("no free port in INGOT_CHAOS_PORT_BASE's range")
	return ""
}

// Start starts replica id (a new incarnation when it ran before) with extra flags and
// waits for its API. viaProxy routes its database connections through a Proxy.
func (c *Cluster) Start(id string, viaProxy bool, extra ...string) *Replica {
	r := c.Spawn(id, viaProxy, extra...)
	c.WaitAPI(r)
	return r
}

// Spawn starts replica id without waiting for its API.
func (c *Cluster) Spawn(id string, viaProxy bool, extra ...string) *Replica {
	t := c.t
	t.Helper()
	a := addr(t)
	r := &Replica{ID: id, Base: "http://" + a, LogPath: filepath.Join(c.dir, id+".log")}
	dsn := c.DSN
	if viaProxy {
		u, err := url.Parse(c.DSN)
		if err != nil {
			t.Fatal(err)
		}
		r.Proxy, err = NewProxy(addr(t), u.Host)
		if err != nil {
			t.Fatal(err)
		}
		u.Host = r.Proxy.Addr()
		dsn = u.String()
	}
	tm := c.T
	args := append([]string{"serve", "--listen", a, "--database", dsn, "--ironic-url", c.IronicURL,
		"--replica-id", id, "--replica-ttl", tm.TTL.String(), "--replica-renew-interval", tm.Renew.String(),
		"--replica-scan-interval", tm.Scan.String(), "--replica-residence", tm.Residence.String(),
		"--replica-max-moves", strconv.Itoa(tm.MaxMoves), "--replica-drain-timeout", tm.Drain.String(),
		"--sync-interval", tm.Sync.String(), "--deploy-watch-interval", tm.Watch.String(),
		"--log-format", "json", "--log-level", "debug"}, extra...)
	f, err := os.OpenFile(r.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "INGOT_") })
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r.cmd, r.exited, r.Started = cmd, make(chan struct{}), time.Now()
	go func() { cmd.Wait(); close(r.exited) }()
	c.mu.Lock()
	if old := c.reps[id]; old != nil && old.Proxy != nil && old.Proxy != r.Proxy {
		old.Proxy.Close()
	}
	c.reps[id] = r
	c.mu.Unlock()
	return r
}

// WaitAPI waits until r answers HTTP.
func (c *Cluster) WaitAPI(r *Replica) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(r.Base + "/"); err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-r.exited:
			b, _ := os.ReadFile(r.LogPath)
			c.t.Fatalf("replica %s exited at start: %s", r.ID, ingottest.Tail(b, 4000))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("replica %s did not answer", r.ID)
		}
	}
}

// Replica returns the latest incarnation of id.
func (c *Cluster) Replica(id string) *Replica {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reps[id]
}

// Running returns the ids of the replicas whose process runs (paused or not), sorted.
func (c *Cluster) Running() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for id, r := range c.reps {
		select {
		case <-r.exited:
		default:
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (r *Replica) signal(sig syscall.Signal) {
	select {
	case <-r.exited:
	default:
		_ = r.cmd.Process.Signal(sig)
	}
}

func (r *Replica) wait(d time.Duration) bool {
	select {
	case <-r.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// Kill sends SIGKILL to replica id and waits for it to die.
func (c *Cluster) Kill(id string) {
	r := c.Replica(id)
	r.signal(syscall.SIGKILL)
	if !r.wait(10 * time.Second) {
		c.t.Fatalf("replica %s survived SIGKILL", id)
	}
}

// Pause sends SIGSTOP; Resume SIGCONT.
func (c *Cluster) Pause(id string)  { c.Replica(id).signal(syscall.SIGSTOP) }
func (c *Cluster) Resume(id string) { c.Replica(id).signal(syscall.SIGCONT) }

// Term sends SIGTERM (a drain) and waits up to the drain timeout and a margin for the
// process to exit; it reports the exit status.
func (c *Cluster) Term(id string) error {
	r := c.Replica(id)
	r.signal(syscall.SIGTERM)
	if !r.wait(c.T.Drain + 30*time.Second) {
		return fmt.Errorf("replica %s did not exit after SIGTERM", id)
	}
	if r.cmd.ProcessState != nil && !r.cmd.ProcessState.Success() {
		return fmt.Errorf("replica %s exited after SIGTERM: %v", id, r.cmd.ProcessState)
	}
	return nil
}

// Owner is a node's ownership row as the harness reads it.
type Owner struct {
	Replica, HandoffTo string
	Epoch              int64
	Live               bool // the owner's lease holds by the database's clock
}

// Owners reads every ownership row.
func (c *Cluster) Owners(ctx context.Context) (map[string]Owner, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT o.node_uuid, o.replica_id, o.epoch, o.handoff_to,
		COALESCE(r.lease_expires_at > now(), FALSE)
		FROM ingot_node_owner o LEFT JOIN ingot_replicas r ON r.replica_id = o.replica_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Owner{}
	for rows.Next() {
		var n string
		var o Owner
		if err := rows.Scan(&n, &o.Replica, &o.Epoch, &o.HandoffTo, &o.Live); err != nil {
			return nil, err
		}
		out[n] = o
	}
	return out, rows.Err()
}

// Unowned counts the fake's nodes without a live owner (no row, unowned, an owner whose
// lease ended, or one of the excluded replicas), and how many each live owner has.
func (c *Cluster) Unowned(ctx context.Context, exclude ...string) (int, map[string]int, error) {
	owners, err := c.Owners(ctx)
	if err != nil {
		return 0, nil, err
	}
	per := map[string]int{}
	bad := 0
	for _, n := range c.Nodes {
		o, ok := owners[n]
		if !ok || o.Replica == "" || !o.Live || slices.Contains(exclude, o.Replica) {
			bad++
			continue
		}
		per[o.Replica]++
	}
	return bad, per, nil
}

// WaitOwned waits until every node has a live owner not in exclude, and returns how long
// that took from since; it fails t after limit.
func (c *Cluster) WaitOwned(since time.Time, limit time.Duration, exclude ...string) time.Duration {
	c.t.Helper()
	for {
		bad, _, err := c.Unowned(context.Background(), exclude...)
		if err == nil && bad == 0 {
			return time.Since(since)
		}
		if time.Since(since) > limit {
			c.t.Fatalf("%d nodes still without a live owner %v after %v (err %v)", bad, exclude, time.Since(since), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitBalanced waits until every node is owned and each of the ids owns within tol of
// an equal share; it returns the counts, failing t after limit.
func (c *Cluster) WaitBalanced(ids []string, tol float64, limit time.Duration) map[string]int {
	c.t.Helper()
	start := time.Now()
	var per map[string]int
	for {
		bad, p, err := c.Unowned(context.Background())
		per = p
		if err == nil && bad == 0 && Balanced(per, ids, len(c.Nodes), tol) {
			return per
		}
		if time.Since(start) > limit {
			c.t.Fatalf("not balanced over %v within %v after %v: %d unowned, %v (err %v)", ids, tol, limit, bad, per, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// WaitDesired waits until every node is owned by its assigned owner among ids
// (replica.Assign, the design's converged state), with no hand-off pending; it returns
// the counts, failing t after limit.
func (c *Cluster) WaitDesired(ids []string, limit time.Duration) map[string]int {
	c.t.Helper()
	start := time.Now()
	nodes := make([]store.NodeScope, len(c.Nodes))
	for i, n := range c.Nodes {
		nodes[i] = store.NodeScope{Node: n}
	}
	members := make([]replica.Member, len(ids))
	for i, id := range ids {
		members[i].ID, members[i].Live = id, true
	}
	assigned := replica.Assign(nodes, members, 0, "")
	for {
		owners, err := c.Owners(context.Background())
		per, off := map[string]int{}, 0
		for _, n := range c.Nodes {
			o := owners[n]
			if want := assigned[n]; o.Replica != want || !o.Live || o.HandoffTo != "" {
				off++
			}
			per[o.Replica]++
		}
		if err == nil && off == 0 {
			return per
		}
		if time.Since(start) > limit {
			c.t.Fatalf("%d nodes not with their assigned owner among %v after %v: %v (err %v)", off, ids, limit, per, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Spread is the largest deviation of a count in per from an equal share of n over ids,
// as a fraction of the share.
func Spread(per map[string]int, ids []string, n int) float64 {
	share := float64(n) / float64(len(ids))
	worst := 0.0
	for _, id := range ids {
		worst = max(worst, math.Abs(float64(per[id])-share)/share)
	}
	return worst
}

// Balanced reports whether each of ids owns within tol (a fraction) of n/len(ids) and no
// one else owns any.
func Balanced(per map[string]int, ids []string, n int, tol float64) bool {
	share := float64(n) / float64(len(ids))
	total := 0
	for _, id := range ids {
		k := float64(per[id])
		if k < share*(1-tol) || k > share*(1+tol) {
			return false
		}
		total += per[id]
	}
	return total == n
}

// Providers returns the resource provider UUIDs replica r's Placement API lists.
func (c *Cluster) Providers(r *Replica) ([]string, error) {
	req, err := http.NewRequest(http.MethodGet, r.Base+"/resource_providers", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("OpenStack-API-Version", "placement 1.14")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Providers []struct {
			UUID string `json:"uuid"`
		} `json:"resource_providers"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /resource_providers: %s", resp.Status)
	}
	if err := jsonDecode(resp.Body, &body); err != nil {
		return nil, err
	}
	out := make([]string, len(body.Providers))
	for i, p := range body.Providers {
		out[i] = p.UUID
	}
	slices.Sort(out)
	return out, nil
}

// WaitProviders waits until r's Placement lists exactly one provider per fake node.
func (c *Cluster) WaitProviders(r *Replica, limit time.Duration) {
	c.t.Helper()
	want := slices.Sorted(slices.Values(c.Nodes))
	start := time.Now()
	for {
		got, err := c.Providers(r)
		if err == nil && slices.Equal(got, want) {
			return
		}
		if time.Since(start) > limit {
			c.t.Fatalf("providers do not match Ironic after %v: %d providers for %d nodes (err %v)", limit, len(got), len(want), err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Logs returns the paths of every replica's log.
func (c *Cluster) Logs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.reps {
		out = append(out, r.LogPath)
	}
	slices.Sort(out)
	return out
}

// Audit reads every replica's log and the fake's mutations and checks the invariants.
func (c *Cluster) Audit() Report { return Check(c.Events(), c.Ironic.Mutations()) }
