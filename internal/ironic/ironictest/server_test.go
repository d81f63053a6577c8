package ironictest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
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
