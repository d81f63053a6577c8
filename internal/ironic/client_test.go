package ironic_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/uuid"
)

// zeroSource is a rand.Source whose Float64 is always 0, so every backoff is exactly half
// of its nominal delay.
type zeroSource struct{}

func (zeroSource) Uint64() uint64 { return 0 }

// bubbleClient returns a client that reaches s over in-memory pipes, for use inside a
// synctest bubble, with retry delays of 100ms, 200ms, 400ms... halved by zeroSource.
func bubbleClient(t *testing.T, s *ironictest.Server, cfg ironic.Config) *ironic.Client {
	t.Helper()
	cfg.URL = ironictest.PipeURL
	if cfg.Transport == nil {
		cfg.Transport = s.PipeTransport(t)
	}
	if cfg.Retry.BaseDelay == 0 {
		cfg.Retry.BaseDelay = 100 * time.Millisecond
	}
	cfg.Rand = zeroSource{}
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	c, err := ironic.New(cfg)
	if err != nil {
		t.Fatalf("ironic.New: %v", err)
	}
	return c
}

func seed(s *ironictest.Server, n int) []string {
	return s.AddNodes(n, func(i int) ironic.Node {
		rc := "silver"
		if i%3 == 0 {
			rc = "gold"
		}
		return ironic.Node{Name: fmt.Sprintf("node-%05d", i), ResourceClass: rc, ConductorGroup: "rack-a",
			PowerState: ironic.PowerOff, Traits: []string{"CUSTOM_" + strings.ToUpper(rc)},
			Properties: map[string]any{"cpus": 32, "memory_mb": 262144}}
	})
}

func listRequests(s *ironictest.Server) []ironictest.Request {
	var out []ironictest.Request
	for _, r := range s.Requests() {
		if r.Path == "/v1/nodes" && r.Method == http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

func TestNew(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "http://x?a=b", "::"} {
		if _, err := ironic.New(ironic.Config{URL: u}); err == nil {
			t.Errorf("New(URL %q) succeeded, want an error", u)
		}
	}
	if _, err := ironic.New(ironic.Config{URL: "http://x", MaxVersion: ironic.Version{Major: 1, Minor: 36}}); err == nil {
		t.Errorf("New(MaxVersion 1.36) succeeded, want an error: below the baseline")
	}
	// A trailing /v1 and a proxy prefix are both accepted.
	for _, suffix := range []string{"", "/", "/v1", "/v1/"} {
		s := ironictest.NewServer(t)
		c := newClient(t, target{url: s.URL + suffix}, ironic.Config{})
		if _, err := c.Negotiate(t.Context()); err != nil {
			t.Errorf("URL %q: Negotiate: %v", s.URL+suffix, err)
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name       string
		serverMax  string
		clientMax  ironic.Version
		want       ironic.Version
		wantErr    error
		shard, cgr bool
	}{
		{name: "ironic 21.4", serverMax: "1.82", want: ironic.Version{Major: 1, Minor: 82}, shard: true, cgr: true},
		{name: "newer server", serverMax: "1.99", want: ironic.MaxVersion, shard: true, cgr: true},
		{name: "older server", serverMax: "1.60", want: ironic.Version{Major: 1, Minor: 60}, cgr: true},
		{name: "capped client", serverMax: "1.82", clientMax: ironic.Version{Major: 1, Minor: 45}, want: ironic.Version{Major: 1, Minor: 45}},
		{name: "at baseline", serverMax: "1.37", want: ironic.Baseline},
		{name: "below baseline", serverMax: "1.36", wantErr: ironic.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ironictest.NewServer(t, ironictest.WithVersions("1.1", tt.serverMax))
			c := newClient(t, target{url: s.URL}, ironic.Config{MaxVersion: tt.clientMax})
			got, err := c.Negotiate(t.Context())
			wantErr(t, "Negotiate", err, tt.wantErr)
			if got != tt.want || c.Version() != tt.want {
				t.Errorf("Negotiate = %s, Version() = %s, want %s", got, c.Version(), tt.want)
			}
			if c.HasShard() != tt.shard || c.HasConductorGroup() != tt.cgr {
				t.Errorf("HasShard, HasConductorGroup = %v, %v; want %v, %v", c.HasShard(), c.HasConductorGroup(), tt.shard, tt.cgr)
			}
		})
	}
}

func TestCallsNegotiateLazily(t *testing.T) {
	s := ironictest.NewServer(t, ironictest.WithVersions("1.1", "1.70"))
	ids := seed(s, 1)
	c := newClient(t, target{url: s.URL}, ironic.Config{})
	if _, err := c.GetNode(t.Context(), ids[0]); err != nil {
		t.Fatalf("GetNode: %v", err)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/" || reqs[1].Version != "1.70" {
		t.Errorf("requests = %+v, want the root document, then the call at 1.70", reqs)
	}
}

func TestListNodesPagesByMarker(t *testing.T) {
	s := ironictest.NewServer(t)
	ids := seed(s, 25)
	c := newClient(t, target{url: s.URL}, ironic.Config{})
	nodes, err := c.ListNodes(t.Context(), ironic.ListOptions{ResourceClass: "silver", ConductorGroup: "Rack-A",
		Maintenance: ptr(false), Associated: ptr(false), ProvisionState: "available", Limit: 4})
	if err != nil {
		t.Fatalf("ListNodes: %v", err)
	}
	var want []string
	for i, id := range ids {
		if i%3 != 0 {
			want = append(want, id)
		}
	}
	var got []string
	for _, n := range nodes {
		got = append(got, n.UUID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("ListNodes (-want +got):\n%s", diff)
	}
	reqs := listRequests(s)
	if len(reqs) != 5 { // 16 silver nodes: 4 full pages and an empty one
		t.Errorf("pages = %d, want 5", len(reqs))
	}
	marker := ""
	for i, r := range reqs {
		q := r.Query
		gotQ := []string{q.Get("resource_class"), q.Get("conductor_group"), q.Get("maintenance"), q.Get("associated"),
			q.Get("provision_state"), q.Get("limit"), q.Get("sort_key"), q.Get("marker"), r.Version}
		wantQ := []string{"silver", "rack-a", "false", "false", "available", "4", "id", marker, "1.82"}
		if diff := cmp.Diff(wantQ, gotQ); diff != "" {
			t.Errorf("page %d query (-want +got):\n%s", i+1, diff)
		}
		if !strings.HasPrefix(q.Get("fields"), "uuid,") {
			t.Errorf("page %d fields = %q, want uuid first", i+1, q.Get("fields"))
		}
		if i < len(reqs)-1 {
			marker = want[4*i+3]
		}
	}
}

func TestListNodesFollowsAServerCappedLimit(t *testing.T) {
	// An Ironic whose max_limit is below the client's page size still announces more
	// pages with next; a short page with next is not the end.
	s := ironictest.NewServer(t, ironictest.WithMaxLimit(5))
	seed(s, 12)
	c := newClient(t, target{url: s.URL}, ironic.Config{})
	nodes, err := c.ListNodes(t.Context(), ironic.ListOptions{})
	if err != nil || len(nodes) != 12 {
		t.Fatalf("ListNodes = %d nodes, %v; want 12", len(nodes), err)
	}
}

func TestListNodesFailsOnAnyPage(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadRequest, http.StatusConflict} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			s := ironictest.NewServer(t)
			seed(s, 10)
			c := newClient(t, target{url: s.URL}, ironic.Config{})
			s.FailPage(3, status)
			nodes, err := c.ListNodes(t.Context(), ironic.ListOptions{Limit: 3})
			if err == nil || nodes != nil {
				t.Fatalf("ListNodes = %d nodes, %v; want no nodes and an error", len(nodes), err)
			}
			if e, ok := errors.AsType[*ironic.Error](err); !ok || e.StatusCode != status || e.RequestID == "" {
				t.Errorf("error = %v, want *ironic.Error with status %d and a request id", err, status)
			}
			if got := len(listRequests(s)); got != 3 {
				t.Errorf("list requests = %d, want 3 (4xx and 500 are not retried)", got)
			}
		})
	}
}

func TestNodesStopsWhenTheConsumerDoes(t *testing.T) {
	s := ironictest.NewServer(t)
	seed(s, 10)
	c := newClient(t, target{url: s.URL}, ironic.Config{})
	n := 0
	for _, err := range c.Nodes(t.Context(), ironic.ListOptions{Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 2 {
			break
		}
	}
	if got := len(listRequests(s)); got != 1 {
		t.Errorf("list requests = %d, want 1", got)
	}
}

func TestNodesResumesAfterDeletedMarkers(t *testing.T) {
	s := ironictest.NewServer(t)
	ids := seed(s, 10)
	c := newClient(t, target{url: s.URL}, ironic.Config{})
	var got []string
	for n, err := range c.Nodes(t.Context(), ironic.ListOptions{Limit: 3, Fields: []string{"name"}}) {
		if err != nil {
			t.Fatalf("Nodes: %v", err)
		}
		got = append(got, n.UUID)
		if len(got) == 3 {
			// Both the marker and the node before it vanish; the first node of the
			// page is the one to resume from.
			s.RemoveNode(ids[2])
			s.RemoveNode(ids[1])
		}
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("Nodes (-want +got):\n%s", diff)
	}

	// With every node of the previous page gone, there is nowhere to resume from.
	got = nil
	var err error
	for n, e := range c.Nodes(t.Context(), ironic.ListOptions{Limit: 3}) {
		if e != nil {
			err = e
			break
		}
		got = append(got, n.UUID)
		if len(got) == 3 {
			for _, id := range got {
				s.RemoveNode(id)
			}
		}
	}
	wantErr(t, "Nodes after the whole page vanished", err, ironic.ErrNotFound)
}

func TestListNodesRefusesFieldsTheVersionLacks(t *testing.T) {
	s := ironictest.NewServer(t, ironictest.WithVersions("1.1", "1.60"))
	seed(s, 3)
	c := newClient(t, target{url: s.URL}, ironic.Config{})
	_, err := c.ListNodes(t.Context(), ironic.ListOptions{Fields: []string{"lessee"}})
	wantErr(t, "ListNodes(fields=lessee) at 1.60", err, ironic.ErrUnsupported)
	_, err = c.ListNodes(t.Context(), ironic.ListOptions{Lessee: "p"})
	wantErr(t, "ListNodes(lessee) at 1.60", err, ironic.ErrUnsupported)
	if got := len(listRequests(s)); got != 0 {
		t.Errorf("list requests = %d, want none: refused before sending", got)
	}
	nodes, err := c.ListNodes(t.Context(), ironic.ListOptions{Owner: "nobody"})
	if err != nil || len(nodes) != 0 {
		t.Errorf("ListNodes(owner) at 1.60 = %d, %v; want 0 nodes", len(nodes), err)
	}
}

func TestRetries503WithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ironictest.New()
		seed(s, 10)
		c := bubbleClient(t, s, ironic.Config{})
		if _, err := c.Negotiate(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.Inject(ironictest.Fault{Method: "GET", Path: "/v1/nodes", After: 1, Times: 2, Status: 503})
		start := time.Now()
		nodes, err := c.ListNodes(t.Context(), ironic.ListOptions{Limit: 4})
		if err != nil || len(nodes) != 10 {
			t.Fatalf("ListNodes = %d nodes, %v; want 10", len(nodes), err)
		}
		// Page 2 failed twice: waits of 50ms and 100ms (half of 100ms and 200ms).
		if got := time.Since(start); got != 150*time.Millisecond {
			t.Errorf("elapsed = %v, want 150ms", got)
		}
		if got := len(listRequests(s)); got != 5 {
			t.Errorf("list requests = %d, want 5 (3 pages, 2 retries)", got)
		}
	})
}

func TestRetryGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ironictest.New()
		ids := seed(s, 1)
		c := bubbleClient(t, s, ironic.Config{Retry: ironic.RetryPolicy{MaxAttempts: 5, MaxDelay: 300 * time.Millisecond}})
		if _, err := c.Negotiate(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.Inject(ironictest.Fault{Times: -1, Status: 503})
		start := time.Now()
		err := c.SetProvisionState(t.Context(), ids[0], ironic.TargetManage, ironic.ProvisionOptions{})
		wantErr(t, "SetProvisionState", err, ironic.ErrUnavailable)
		// 50 + 100 + 150 + 150 ms: doubling, capped at 300ms, halved by the jitter source.
		if got := time.Since(start); got != 450*time.Millisecond {
			t.Errorf("elapsed = %v, want 450ms", got)
		}
		if got := len(s.Requests()); got != 6 {
			t.Errorf("requests = %d, want 6 (negotiation + 5 attempts)", got)
		}
	})
}

func TestRetryStopsWhenTheContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ironictest.New()
		seed(s, 1)
		c := bubbleClient(t, s, ironic.Config{Retry: ironic.RetryPolicy{MaxAttempts: 10, BaseDelay: time.Second}})
		if _, err := c.Negotiate(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.Inject(ironictest.Fault{Times: -1, Status: 503})
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.ListNodes(ctx, ironic.ListOptions{})
		wantErr(t, "ListNodes", err, ironic.ErrUnavailable)
		wantErr(t, "ListNodes", err, context.DeadlineExceeded)
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("elapsed = %v, want 2s", got)
		}
	})
}

func TestTimeoutPerAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ironictest.New()
		seed(s, 5)
		c := bubbleClient(t, s, ironic.Config{Timeout: 10 * time.Second})
		if _, err := c.Negotiate(t.Context()); err != nil {
			t.Fatal(err)
		}
		// The first attempt hangs for a minute; the second is answered at once.
		s.Inject(ironictest.Fault{Method: "GET", Path: "/v1/nodes", Delay: time.Minute})
		start := time.Now()
		nodes, err := c.ListNodes(t.Context(), ironic.ListOptions{})
		if err != nil || len(nodes) != 5 {
			t.Fatalf("ListNodes = %d nodes, %v; want 5", len(nodes), err)
		}
		if got := time.Since(start); got != 10*time.Second+50*time.Millisecond {
			t.Errorf("elapsed = %v, want the 10s timeout and one 50ms backoff", got)
		}

		// Slow pages: every page waits 20s, longer than the timeout; all attempts fail.
		s.SetPageLatency(20 * time.Second)
		_, err = c.ListNodes(t.Context(), ironic.ListOptions{})
		wantErr(t, "ListNodes with slow pages", err, context.DeadlineExceeded)
		wantErr(t, "ListNodes with slow pages", err, ironic.ErrUnavailable)
	})
}

func TestSlowPagesWithinTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ironictest.New()
		seed(s, 2500)
		c := bubbleClient(t, s, ironic.Config{})
		if _, err := c.Negotiate(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.SetPageLatency(time.Second)
		s.SetCostPerNode(270 * time.Microsecond)
		start := time.Now()
		nodes, err := c.ListNodes(t.Context(), ironic.ListOptions{})
		if err != nil || len(nodes) != 2500 {
			t.Fatalf("ListNodes = %d nodes, %v", len(nodes), err)
		}
		// 3 pages of latency plus 0.27ms for each of 2500 nodes.
		if got, want := time.Since(start), 3*time.Second+2500*270*time.Microsecond; got != want {
			t.Errorf("elapsed = %v, want %v", got, want)
		}
	})
}

func TestDroppedConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ironictest.New()
		ids := seed(s, 7)
		c := bubbleClient(t, s, ironic.Config{})
		if _, err := c.Negotiate(t.Context()); err != nil {
			t.Fatal(err)
		}

		// A listing page is idempotent: retried.
		s.DropPage(2)
		nodes, err := c.ListNodes(t.Context(), ironic.ListOptions{Limit: 3})
		if err != nil || len(nodes) != 7 {
			t.Fatalf("ListNodes with a dropped page = %d nodes, %v; want 7", len(nodes), err)
		}

		// A PATCH is not: the request may have been applied.
		s.ResetRequests()
		s.Inject(ironictest.Fault{Method: "PATCH", Drop: true})
		_, err = c.PatchNode(t.Context(), ids[0], []ironic.PatchOp{ironic.AddOp("/extra/a", "b")})
		wantErr(t, "PatchNode with a dropped connection", err, ironic.ErrUnavailable)
		if got := len(s.Requests()); got != 1 {
			t.Errorf("requests = %d, want 1: a PATCH is not resent", got)
		}
	})
}

func TestConnectionRefusedRetriesEvenPost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := ironictest.New()
		pipe := s.PipeTransport(t)
		var dials atomic.Int32
		tr := pipe.Clone()
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) <= 3 {
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
			}
			return pipe.DialContext(ctx, network, addr)
		}
		t.Cleanup(tr.CloseIdleConnections)
		c := bubbleClient(t, s, ironic.Config{Transport: tr, Retry: ironic.RetryPolicy{MaxAttempts: 6}})
		start := time.Now()
		n, err := c.CreateNode(t.Context(), ironic.NodeCreate{Name: "n1", Driver: "fake-hardware"})
		if err != nil || n.ProvisionState != "enroll" {
			t.Fatalf("CreateNode = %+v, %v", n, err)
		}
		// Negotiation (a GET) met all three refusals: 50 + 100 + 200 ms.
		if got := time.Since(start); got != 350*time.Millisecond {
			t.Errorf("elapsed = %v, want 350ms", got)
		}
		if got := s.NodeCount(); got != 1 {
			t.Errorf("nodes = %d, want 1", got)
		}
	})
}

func TestConflictIsNotRetried(t *testing.T) {
	s := ironictest.NewServer(t)
	ids := seed(s, 1)
	c := newClient(t, target{url: s.URL}, ironic.Config{})
	s.LockNode(ids[0], "conductor-2")
	_, err := c.PatchNode(t.Context(), ids[0], ironic.ClaimOps(uuid.New()))
	wantErr(t, "PatchNode on a locked node", err, ironic.ErrNodeLocked)
	wantErr(t, "PatchNode on a locked node", err, ironic.ErrConflict)
	if errors.Is(err, ironic.ErrAssociated) {
		t.Errorf("a locked node's 409 matches ErrAssociated: %v", err)
	}
	e, _ := errors.AsType[*ironic.Error](err)
	if e == nil || !strings.Contains(e.Message, "locked by host conductor-2") {
		t.Errorf("error = %v, want Ironic's NodeLocked message", err)
	}
	wantErr(t, "SetTraits on a locked node", c.SetTraits(t.Context(), ids[0], []string{"CUSTOM_A"}), ironic.ErrConflict)
	wantErr(t, "SetPowerState on a locked node", c.SetPowerState(t.Context(), ids[0], ironic.PowerOn, 0), ironic.ErrConflict)
	var writes int
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet {
			writes++
		}
	}
	if writes != 3 {
		t.Errorf("writes = %d, want 3: 409 is never retried", writes)
	}
	s.UnlockNode(ids[0])
	wantErr(t, "SetTraits after UnlockNode", c.SetTraits(t.Context(), ids[0], []string{"CUSTOM_A"}), nil)
}

func TestKeepAlive(t *testing.T) {
	s := ironictest.NewServer(t)
	seed(s, 300)
	c := newClient(t, target{url: s.URL}, ironic.Config{})
	for range 3 {
		if _, err := c.ListNodes(t.Context(), ironic.ListOptions{Limit: 25}); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Connections(); got != 1 {
		t.Errorf("connections = %d, want 1 for 40 sequential requests", got)
	}
}

func TestAsyncTransitions(t *testing.T) {
	s := ironictest.NewServer(t, ironictest.WithAsync())
	ids := s.AddNodes(1, func(int) ironic.Node { return ironic.Node{ProvisionState: "active", InstanceUUID: uuid.New()} })
	c := newClient(t, target{url: s.URL}, ironic.Config{})
	ctx := t.Context()
	if err := c.SetProvisionState(ctx, ids[0], ironic.TargetDeleted, ironic.ProvisionOptions{}); err != nil {
		t.Fatal(err)
	}
	var seen [][3]string
	for {
		n, err := c.GetNode(ctx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, [3]string{n.ProvisionState, n.TargetProvisionState, n.Reservation})
		if n.Reservation != "" {
			_, err := c.PatchNode(ctx, ids[0], []ironic.PatchOp{ironic.AddOp("/extra/a", "b")})
			wantErr(t, "PatchNode during "+n.ProvisionState, err, ironic.ErrConflict)
		}
		if !s.Advance(ids[0]) {
			break
		}
	}
	want := [][3]string{
		{"deleting", "available", "fake-conductor"},
		{"cleaning", "available", "fake-conductor"},
		{"available", "", "fake-conductor"}, // shown before the lock is released
		{"available", "", ""},
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
}

func TestDeployWithConfigDrive(t *testing.T) {
	s := ironictest.NewServer(t)
	ids := seed(s, 1)
	c := newClient(t, target{url: s.URL}, ironic.Config{})
	ctx := t.Context()
	inst := uuid.New()
	if _, err := c.PatchNode(ctx, ids[0], ironic.ClaimOps(inst)); err != nil {
		t.Fatal(err)
	}
	cd := &ironic.ConfigDrive{
		MetaData:    ironic.MetaData{UUID: inst, Name: "vm1", Hostname: "vm1", PublicKeys: map[string]string{"k": "ssh-ed25519 AAA"}},
		UserData:    "#!/bin/sh\n",
		NetworkData: json.RawMessage(`{"links": []}`),
	}
	// "deploy" is sent as "active": Ironic 21.4 refuses a config drive with its alias.
	if err := c.SetProvisionState(ctx, ids[0], ironic.TargetDeploy, ironic.ProvisionOptions{ConfigDrive: cd}); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	n, _ := s.Node(ids[0])
	want := map[string]any{
		"meta_data":    map[string]any{"uuid": inst, "name": "vm1", "hostname": "vm1", "public_keys": map[string]any{"k": "ssh-ed25519 AAA"}},
		"user_data":    "#!/bin/sh\n",
		"network_data": map[string]any{"links": []any{}},
	}
	if diff := cmp.Diff(want, n.InstanceInfo["configdrive"]); diff != "" {
		t.Errorf("config drive as Ironic got it (-want +got):\n%s", diff)
	}
	if n.ProvisionState != ironic.ProvisionStateActive {
		t.Errorf("state %s, want active", n.ProvisionState)
	}
	// vendor_data needs 1.59.
	old := newClient(t, target{url: s.URL}, ironic.Config{MaxVersion: ironic.Version{Major: 1, Minor: 58}})
	err := old.SetProvisionState(ctx, ids[0], ironic.TargetRebuild, ironic.ProvisionOptions{
		ConfigDrive: ironic.ConfigDrive{VendorData: json.RawMessage(`{}`)}})
	wantErr(t, "vendor_data at 1.58", err, ironic.ErrUnsupported)
}

func TestInstanceInfoOps(t *testing.T) {
	ops := ironic.InstanceInfoOps(ironic.InstanceInfo{ImageSource: "http://i/x.img", ImageOSHashAlgo: "sha256",
		ImageOSHashValue: "ab", Traits: []string{"CUSTOM_A"}, Capabilities: map[string]string{"boot_mode": "uefi"},
		RootGB: 10, Extra: map[string]any{"a/b~c": 1}})
	got, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"op":"add","path":"/instance_info/a~1b~0c","value":1},` +
		`{"op":"add","path":"/instance_info/capabilities","value":{"boot_mode":"uefi"}},` +
		`{"op":"add","path":"/instance_info/image_os_hash_algo","value":"sha256"},` +
		`{"op":"add","path":"/instance_info/image_os_hash_value","value":"ab"},` +
		`{"op":"add","path":"/instance_info/image_source","value":"http://i/x.img"},` +
		`{"op":"add","path":"/instance_info/root_gb","value":10},` +
		`{"op":"add","path":"/instance_info/traits","value":["CUSTOM_A"]}]`
	if string(got) != want {
		t.Errorf("InstanceInfoOps =\n%s\nwant\n%s", got, want)
	}
	if got, _ := json.Marshal(ironic.ReleaseOps()); string(got) != `[{"op":"remove","path":"/instance_uuid"},{"op":"remove","path":"/instance_info"}]` {
		t.Errorf("ReleaseOps = %s", got)
	}
}
