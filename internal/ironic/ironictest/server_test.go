package ironictest

import (
	"encoding/json"
	"errors"
	"fmt"
	"ingot/internal/uuid"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"ingot/internal/ironic"
)

// get sends a GET with an optional microversion and returns status, headers and body.
func get(t *testing.T, c *http.Client, base, path, version string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if version != "" {
		req.Header.Set("X-OpenStack-Ironic-API-Version", version)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestVersionHeaders(t *testing.T) {
	s := NewServer(t)
	c := http.DefaultClient
	tests := []struct {
		path, version string
		status        int
		gotVersion    string
		body          string // substring
	}{
		{"/", "", 200, "", `"min_version":"1.1"`},
		{"/v1", "", 200, "1.1", `"version":"1.82"`},
		{"/v1/nodes", "", 200, "1.1", `"nodes": []`},
		{"/v1/nodes", "latest", 200, "1.82", `"nodes": []`},
		{"/v1/nodes", "1.83", 406, "",
			`Version 1.83 was requested but the minor version is not supported by this service. The supported version range is: [1.1, 1.82].`},
		{"/v1/nodes?conductor_group=x", "1.45", 406, "1.45", `The minimal required API version should be 1.46`},
		{"/v1/nodes?fields=shard", "1.81", 406, "1.81", `Request not acceptable.`},
		{"/v1/nodes?fields=updated_at", "1.82", 400, "1.82", `Field updated_at is not a valid field.`},
		{"/v1/nodes?limit=0", "1.82", 400, "1.82", `Limit must be positive`},
		{"/v1/nodes?bogus=1", "1.82", 400, "1.82", `Unexpected arguments: bogus`},
		{"/v1/nodes?maintenance=maybe", "1.82", 400, "1.82", `Invalid maintenance: Unrecognized value 'maybe'`},
		{"/v1/nodes?provision_state=bogus", "1.82", 400, "1.82", `Provision state \\\"bogus\\\" is not valid`},
		{"/v1/nodes?marker=" + "0b1b2b9e-6a8b-4d5b-9d2e-7c7d6f1a2b3c", "1.82", 404, "1.82", `could not be found`},
		{"/v1/nodes/nope/traits", "1.36", 404, "1.36", `The resource could not be found.`},
	}
	for _, tt := range tests {
		t.Run(tt.path+"@"+tt.version, func(t *testing.T) {
			status, h, body := get(t, c, s.URL, tt.path, tt.version)
			if status != tt.status || h.Get("X-OpenStack-Ironic-API-Version") != tt.gotVersion || !strings.Contains(body, tt.body) {
				t.Errorf("GET %s = %d, version %q, body %s; want %d, %q, containing %s",
					tt.path, status, h.Get("X-OpenStack-Ironic-API-Version"), body, tt.status, tt.gotVersion, tt.body)
			}
			if tt.path != "/" && h.Get("X-OpenStack-Ironic-API-Maximum-Version") != "1.82" {
				t.Errorf("GET %s: no maximum version header", tt.path)
			}
		})
	}
}

func TestNextLinkKeepsOnlyWhatIronicKeeps(t *testing.T) {
	s := NewServer(t)
	s.AddNodes(5, func(i int) ironic.Node { return ironic.Node{Maintenance: true, ResourceClass: "gold"} })
	q := "?resource_class=gold&maintenance=true&associated=false&conductor_group=&limit=2&fields=uuid,name"
	status, _, body := get(t, http.DefaultClient, s.URL, "/v1/nodes"+q, "1.82")
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var page struct {
		Nodes []struct{ UUID string } `json:"nodes"`
		Next  string                  `json:"next"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	want := s.URL + "/v1/nodes?sort_key=id&sort_dir=asc&maintenance=True&fields=uuid,name&limit=2&marker=" + page.Nodes[1].UUID
	if page.Next != want {
		t.Errorf("next = %s\nwant   %s", page.Next, want)
	}
	// Three full pages (2, 2, and 1 short): only full pages have next.
	u, _ := url.Parse(page.Next)
	_, _, body = get(t, http.DefaultClient, s.URL, "/v1/nodes?"+u.RawQuery, "1.82")
	_, _, body = get(t, http.DefaultClient, s.URL, "/v1/nodes?limit=2&marker="+lastUUID(t, body), "1.82")
	if strings.Contains(body, `"next"`) {
		t.Errorf("short last page has a next link: %s", body)
	}
}

func lastUUID(t *testing.T, body string) string {
	t.Helper()
	var page struct {
		Nodes []struct{ UUID string } `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil || len(page.Nodes) == 0 {
		t.Fatalf("page %s: %v", body, err)
	}
	return page.Nodes[len(page.Nodes)-1].UUID
}

func TestFaultAfterAndTimes(t *testing.T) {
	s := NewServer(t)
	s.Inject(Fault{Path: "/v1/nodes", After: 1, Times: 2, Status: 503})
	var got []int
	for range 5 {
		status, _, _ := get(t, http.DefaultClient, s.URL, "/v1/nodes", "1.82")
		got = append(got, status)
	}
	if diff := cmp.Diff([]int{200, 503, 503, 200, 200}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestCostPerNodeSharesOneCPU(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New()
		s.AddNodes(100, nil)
		s.SetCostPerNode(time.Millisecond)
		c := &http.Client{Transport: s.PipeTransport(t)}
		start := time.Now()
		var wg sync.WaitGroup
		done := make([]time.Duration, 2)
		for i := range 2 {
			wg.Go(func() {
				status, _, _ := get(t, c, PipeURL, "/v1/nodes?limit=100", "1.82")
				if status != 200 {
					t.Errorf("status %d", status)
				}
				done[i] = time.Since(start)
			})
		}
		wg.Wait()
		if first, second := min(done[0], done[1]), max(done[0], done[1]); first != 100*time.Millisecond || second != 200*time.Millisecond {
			t.Errorf("two concurrent pages of 100 nodes at 1ms each took %v and %v, want 100ms and 200ms", first, second)
		}
	})
}

// fakeClient returns an ironic client for s over in-memory pipes (for synctest bubbles).
func fakeClient(t *testing.T, s *Server) *ironic.Client {
	t.Helper()
	c, err := ironic.New(ironic.Config{URL: PipeURL, Transport: s.PipeTransport(t)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type seen struct {
	at                            time.Duration
	state, target, instance, lock string
}

func TestTimedDeployAndTearDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(WithTiming(Timing{Deploy: 10 * time.Second, Teardown: 4 * time.Second, Clean: 3 * time.Second, Release: time.Second}))
		ids := s.AddNodes(2, func(int) ironic.Node { return ironic.Node{PowerState: ironic.PowerOff} })
		c := fakeClient(t, s)
		ctx := t.Context()
		inst := "11111111-1111-4111-8111-111111111111"
		if _, err := c.PatchNode(ctx, ids[0], ironic.ClaimOps(inst)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var got []seen
		record := func() {
			n, ok := s.Node(ids[0])
			if !ok {
				t.Fatal("node gone")
			}
			got = append(got, seen{time.Since(start), n.ProvisionState, n.TargetProvisionState, n.InstanceUUID, n.Reservation})
		}
		if err := c.SetProvisionState(ctx, ids[0], ironic.TargetActive, ironic.ProvisionOptions{}); err != nil {
			t.Fatal(err)
		}
		record()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		record() // active, still locked
		time.Sleep(time.Second)
		synctest.Wait()
		record() // released
		if err := c.SetProvisionState(ctx, ids[0], ironic.TargetUndeploy, ironic.ProvisionOptions{}); err != nil {
			t.Fatal(err)
		}
		record()
		for _, d := range []time.Duration{4, 3, 1} {
			time.Sleep(d * time.Second)
			synctest.Wait()
			record()
		}
		want := []seen{
			{0, "deploying", "active", inst, "fake-conductor"},
			{10 * time.Second, "active", "", inst, "fake-conductor"},
			{11 * time.Second, "active", "", inst, ""},
			{11 * time.Second, "deleting", "available", inst, "fake-conductor"},
			{15 * time.Second, "cleaning", "available", "", "fake-conductor"}, // cleared before cleaning
			{18 * time.Second, "available", "", "", "fake-conductor"},
			{19 * time.Second, "available", "", "", ""},
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(seen{})); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}

		// A failed deploy: deploy failed, target still active, with last_error.
		s.FailDeploy(ids[1], "boom")
		if err := c.SetProvisionState(ctx, ids[1], ironic.TargetActive, ironic.ProvisionOptions{}); err != nil {
			t.Fatal(err)
		}
		// Advance moves it on before its time.
		if !s.Advance(ids[1]) {
			t.Fatal("Advance found nothing to do")
		}
		n, _ := s.Node(ids[1])
		if n.ProvisionState != "deploy failed" || n.TargetProvisionState != "active" || n.LastError != "boom" || n.Reservation == "" {
			t.Errorf("after a failed deploy: %s -> %s, %q, lock %q", n.ProvisionState, n.TargetProvisionState, n.LastError, n.Reservation)
		}
		time.Sleep(10 * time.Second) // the deploy's own timer is stale now: nothing more happens
		synctest.Wait()
		if n, _ := s.Node(ids[1]); n.ProvisionState != "deploy failed" || n.Reservation != "" {
			t.Errorf("later: %s, lock %q; want deploy failed, released", n.ProvisionState, n.Reservation)
		}
		// The next deploy works, and clears last_error.
		if err := c.SetProvisionState(ctx, ids[1], ironic.TargetActive, ironic.ProvisionOptions{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(11 * time.Second)
		synctest.Wait()
		if n, _ := s.Node(ids[1]); n.ProvisionState != "active" || n.LastError != "" {
			t.Errorf("redeploy: %s, %q", n.ProvisionState, n.LastError)
		}
	})
}

func TestFailValidation(t *testing.T) {
	s := NewServer(t)
	id := s.AddNode(ironic.Node{PowerState: ironic.PowerOff})
	c, err := ironic.New(ironic.Config{URL: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	s.FailValidation(id, "power", "no BMC address")
	res, err := c.ValidateNode(ctx, id)
	if err != nil || res["power"].Result || res["power"].Reason != "no BMC address" || !res["deploy"].Result || len(res) != 11 {
		t.Fatalf("ValidateNode = %+v, %v", res, err)
	}
	err = c.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{})
	if !errors.Is(err, ironic.ErrInvalid) || !strings.Contains(err.Error(), "Failed to validate deploy or power info for node "+id+": no BMC address") {
		t.Errorf("deploy with a failing power validation: %v", err)
	}
	s.FailValidation(id, "power", "")
	if err := c.SetProvisionState(ctx, id, ironic.TargetActive, ironic.ProvisionOptions{}); err != nil {
		t.Errorf("deploy after the failure was lifted: %v", err)
	}
}

func TestCountsAndLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(WithLatency("", time.Millisecond), WithLatency("GET /v1/nodes", 20*time.Millisecond))
		ids := s.AddNodes(2, nil)
		c := fakeClient(t, s)
		ctx := t.Context()
		if _, err := c.Negotiate(ctx); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := c.GetNode(ctx, ids[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PatchNode(ctx, ids[1], []ironic.PatchOp{ironic.AddOp("/extra/a", "b")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListNodes(ctx, ironic.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetNode(ctx, "nope"); !errors.Is(err, ironic.ErrNotFound) {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 23*time.Millisecond {
			t.Errorf("four requests took %v, want 1+1+20+1 ms", got)
		}
		want := map[string]int{"GET /": 1, "GET /v1/nodes/{id}": 2, "PATCH /v1/nodes/{id}": 1, "GET /v1/nodes": 1}
		if diff := cmp.Diff(want, s.Counts()); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
		s.ResetRequests()
		if len(s.Counts()) != 0 {
			t.Errorf("counts after ResetRequests = %v", s.Counts())
		}
	})
}

func TestSortedListing(t *testing.T) {
	s := NewServer(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Stamps: n0 +1s, n1 +3s, n2 null, n3 +3s, n4 +2s.
	ids := s.AddNodes(5, func(i int) ironic.Node {
		n := ironic.Node{Name: fmt.Sprintf("n%d", i), ProvisionState: "enroll"}
		if d := []int{1, 3, 0, 3, 2}[i]; d > 0 {
			n.ProvisionState, n.ProvisionUpdatedAt = "available", base.Add(time.Duration(d)*time.Second)
		}
		return n
	})
	names := func(q string) []string {
		t.Helper()
		status, _, body := get(t, http.DefaultClient, s.URL, "/v1/nodes?fields=name&"+q, "1.82")
		if status != 200 {
			t.Fatalf("%s: %d %s", q, status, body)
		}
		var page struct {
			Nodes []struct{ Name string } `json:"nodes"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range page.Nodes {
			out = append(out, n.Name)
		}
		return out
	}
	tests := []struct {
		q    string
		want []string
	}{
		// Ties go by id in the same direction; NULL is smallest (SQLite, MySQL).
		{"sort_key=provision_updated_at&sort_dir=desc", []string{"n3", "n1", "n4", "n0", "n2"}},
		{"sort_key=provision_updated_at&sort_dir=asc", []string{"n2", "n0", "n4", "n1", "n3"}},
		// After a marker: (key, id) beyond the marker's; a NULL key never passes.
		{"sort_key=provision_updated_at&sort_dir=desc&marker=" + ids[3], []string{"n1", "n4", "n0"}},
		{"sort_key=provision_updated_at&sort_dir=desc&limit=2&marker=" + ids[1], []string{"n4", "n0"}},
		// A NULL marker compares by id alone, as oslo.db does.
		{"sort_key=provision_updated_at&sort_dir=desc&marker=" + ids[2], []string{"n1", "n0"}},
		{"sort_key=name&sort_dir=desc&limit=2", []string{"n4", "n3"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, names(tt.q)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.q, diff)
		}
	}
	status, _, body := get(t, http.DefaultClient, s.URL, "/v1/nodes?sort_key=provision_updated_at&sort_dir=desc&limit=2&fields=name", "1.82")
	if status != 200 || !strings.Contains(body, `"next": "`+s.URL+`/v1/nodes?sort_key=provision_updated_at&sort_dir=desc&fields=name&limit=2&marker=`+ids[1]+`"`) {
		t.Errorf("next link keeps the sort: %s", body)
	}
}

func TestSerialLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(WithLatency("GET /v1/nodes/{id}", 10*time.Millisecond), WithSerialLatency())
		id := s.AddNode(ironic.Node{})
		c := &http.Client{Transport: s.PipeTransport(t)}
		start := time.Now()
		var wg sync.WaitGroup
		done := make([]time.Duration, 3)
		for i := range done {
			wg.Go(func() {
				if status, _, body := get(t, c, PipeURL, "/v1/nodes/"+id, "1.82"); status != 200 {
					t.Errorf("status %d: %s", status, body)
				}
				done[i] = time.Since(start)
			})
		}
		wg.Wait()
		slices.Sort(done)
		if diff := cmp.Diff([]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}, done); diff != "" {
			t.Errorf("three concurrent GETs on one CPU finished at (-want +got):\n%s", diff)
		}
	})
}

func TestRealLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(WithRealLatency())
		ids := s.AddNodes(1000, nil)
		c := fakeClient(t, s)
		ctx := t.Context()
		if _, err := c.Negotiate(ctx); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := c.ListNodes(ctx, ironic.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		// One full page and an empty one, each with the listing's fixed cost.
		if got, want := time.Since(start), 2*RealLatency["GET /v1/nodes"]+1000*RealCostPerNode; got != want {
			t.Errorf("listing 1,000 nodes took %v, want %v", got, want)
		}
		start = time.Now()
		var wg sync.WaitGroup
		for _, id := range ids[:10] {
			wg.Go(func() {
				if _, err := c.PatchNode(ctx, id, ironic.ClaimOps(uuid.New())); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got, want := time.Since(start), 10*RealLatency["PATCH /v1/nodes/{id}"]; got != want {
			t.Errorf("10 concurrent claims took %v, want %v (one at a time)", got, want)
		}
	})
}

// TestMutationsAudit: mutating calls are audited with their fence header, node and
// status; reads are not.
func TestMutationsAudit(t *testing.T) {
	s := NewServer(t)
	id := s.AddNode(ironic.Node{Name: "n1", ResourceClass: "gold", ProvisionState: ironic.ProvisionStateAvailable})
	do := func(method, path, fence string) {
		req, err := http.NewRequest(method, s.URL+path, strings.NewReader(`{"target": "power on"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-OpenStack-Ironic-API-Version", "1.82")
		if fence != "" {
			req.Header.Set(ironic.FenceHeader, fence)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	do(http.MethodGet, "/v1/nodes/"+id, "r1/3")
	do(http.MethodPut, "/v1/nodes/"+id+"/states/power", "r1/3")
	do(http.MethodPut, "/v1/nodes/no-such-node/states/power", "")
	m := s.Mutations()
	if len(m) != 2 {
		t.Fatalf("%d mutations audited, want 2: %+v", len(m), m)
	}
	if m[0].Node != id || m[0].Fence != "r1/3" || m[0].Status != http.StatusAccepted || m[0].Method != http.MethodPut ||
		m[0].Received.After(m[0].Answered) {
		t.Errorf("first mutation %+v, want the power PUT on %s fenced r1/3 answered 202", m[0], id)
	}
	if m[1].Node != "no-such-node" || m[1].Fence != "" || m[1].Status != http.StatusNotFound {
		t.Errorf("second mutation %+v, want an unfenced 404", m[1])
	}
}
