package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ingot/internal/health"
)

// fakeCheck is a check whose answer the test sets.
type fakeCheck struct {
	note string
	err  error
}

func (f *fakeCheck) check(name string) health.Check {
	return health.Check{Name: name, Run: func(context.Context) (string, error) { return f.note, f.err }}
}

type answer struct {
	status int
	ctype  string
	body   string
}

func get(t *testing.T, h http.Handler, method, target, accept string) answer {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}

func want(t *testing.T, got answer, status int, body string) {
	t.Helper()
	if got.status != status || got.body != body {
		t.Errorf("answer %d %q; want %d %q", got.status, got.body, status, body)
	}
}

func TestLiveAndReady(t *testing.T) {
	db, tracker := &fakeCheck{}, &fakeCheck{note: "1 pass"}
	h := health.New(health.Options{Checks: []health.Check{db.check("database"), tracker.check("tracker")}})

	for _, p := range []string{"/livez", "/healthz"} {
		want(t, get(t, h, "GET", p, ""), 200, "ok")
	}
	want(t, get(t, h, "GET", "/livez?verbose", ""), 200, "[+]ping ok\nlivez check passed\n")
	want(t, get(t, h, "GET", "/readyz", ""), 200, "ok")
	want(t, get(t, h, "GET", "/readyz?verbose", ""), 200,
		"[+]shutdown ok\n[+]database ok\n[+]tracker ok: 1 pass\nreadyz check passed\n")
	want(t, get(t, h, "HEAD", "/readyz", ""), 200, "")

	// A failing check: 503 with every check listed, verbose or not; the process stays live.
	tracker.note, tracker.err = "", errors.New("no tracker pass completed yet")
	failed := "[+]shutdown ok\n[+]database ok\n[-]tracker failed: no tracker pass completed yet\nreadyz check failed\n"
	want(t, get(t, h, "GET", "/readyz", ""), 503, failed)
	want(t, get(t, h, "GET", "/readyz?verbose=1", ""), 503, failed)
	want(t, get(t, h, "HEAD", "/readyz", ""), 503, "")
	want(t, get(t, h, "GET", "/livez", ""), 200, "ok")
	// Excluding it makes the rest decide; an unknown name is said.
	want(t, get(t, h, "GET", "/readyz?exclude=tracker", ""), 200, "ok")
	want(t, get(t, h, "GET", "/readyz?exclude=tracker&exclude=nosuch&verbose", ""), 200,
		"[+]shutdown ok\n[+]database ok\n[+]tracker excluded: ok\nwarn: some health checks cannot be excluded: no matches for \"nosuch\"\nreadyz check passed\n")

	// JSON on Accept.
	got := get(t, h, "GET", "/readyz", "application/json")
	var doc struct {
		Status string
		Checks []struct{ Name, Status, Error, Note string }
	}
	if err := json.Unmarshal([]byte(got.body), &doc); err != nil || got.status != 503 || got.ctype != "application/json" {
		t.Fatalf("JSON readyz %d %s %q: %v", got.status, got.ctype, got.body, err)
	}
	if doc.Status != "failed" || len(doc.Checks) != 3 || doc.Checks[2].Name != "tracker" || doc.Checks[2].Status != "failed" ||
		doc.Checks[2].Error != "no tracker pass completed yet" || doc.Checks[1].Status != "ok" {
		t.Errorf("JSON readyz = %+v", doc)
	}

	// Draining: not ready, still live; the shutdown check says why.
	tracker.err = nil
	h.Drain()
	want(t, get(t, h, "GET", "/readyz", ""), 503, "[-]shutdown failed: shutting down\n[+]database ok\n[+]tracker ok\nreadyz check failed\n")
	want(t, get(t, h, "GET", "/healthz", ""), 200, "ok")
	want(t, get(t, h, "GET", "/healthcheck", ""), 503, "shutdown: shutting down")

	want(t, get(t, h, "POST", "/readyz", ""), 405, "method not allowed\n")
	if got := get(t, h, "GET", "/readyz/database", ""); got.status != 404 {
		t.Errorf("GET /readyz/database = %d; want 404", got.status)
	}
}

// TestReadyTimeout: a check that does not answer within the probe's timeout fails the
// probe in that time, with a reason that says so.
func TestReadyTimeout(t *testing.T) {
	slow := health.Check{Name: "database", Run: func(ctx context.Context) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}}
	h := health.New(health.Options{Checks: []health.Check{slow}, Timeout: 50 * time.Millisecond})
	start := time.Now()
	got := get(t, h, "GET", "/readyz", "")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("probe took %s with a 50ms timeout", took)
	}
	want(t, got, 503, "[+]shutdown ok\n[-]database failed: no answer within 50ms: context deadline exceeded\nreadyz check failed\n")
}

// The oslo.middleware answers below were written by the real oslo.middleware 5.0.0
// (Debian's python3-oslo.middleware) for the same reasons: Healthcheck.app_factory with
// backends = disable_by_file, called through webob.
const (
	osloHTMLOK       = "<HTML>\n<HEAD><TITLE>Healthcheck Status</TITLE></HEAD>\n<BODY>\n\n<H2>Result of 1 checks:</H2>\n<TABLE bgcolor=\"#ffffff\" border=\"1\">\n<TBODY>\n<TR>\n\n<TH>\nReason\n</TH>\n</TR>\n<TR>\n\n    <TD>OK</TD>\n\n</TR>\n</TBODY>\n</TABLE>\n<HR></HR>\n\n</BODY>\n</HTML>"
	osloJSONOK       = "{\n    \"detailed\": false,\n    \"reasons\": [\n        \"OK\"\n    ]\n}"
	osloJSONDisabled = "{\n    \"detailed\": false,\n    \"reasons\": [\n        \"DISABLED BY FILE\"\n    ]\n}"
	osloHTMLTwo      = "<HTML>\n<HEAD><TITLE>Healthcheck Status</TITLE></HEAD>\n<BODY>\n\n<H2>Result of 2 checks:</H2>\n<TABLE bgcolor=\"#ffffff\" border=\"1\">\n<TBODY>\n<TR>\n\n<TH>\nReason\n</TH>\n</TR>\n<TR>\n\n    <TD>DISABLED BY FILE</TD>\n\n</TR><TR>\n\n    <TD>database: ping &lt;failed&gt; &amp; co</TD>\n\n</TR>\n</TBODY>\n</TABLE>\n<HR></HR>\n\n</BODY>\n</HTML>"
	osloJSONTwo      = "{\n    \"detailed\": false,\n    \"reasons\": [\n        \"DISABLED BY FILE\",\n        \"database: ping <failed> & co\"\n    ]\n}"
)

func TestOsloHealthcheck(t *testing.T) {
	file := filepath.Join(t.TempDir(), "healthcheck_disable")
	db := &fakeCheck{}
	h := health.New(health.Options{Checks: []health.Check{db.check("database")}, DisableFile: file})

	for _, tt := range []struct {
		method, accept string
		status         int
		ctype, body    string
	}{
		{"GET", "", 200, "text/plain; charset=UTF-8", "OK"},
		{"HEAD", "", 204, "", ""},
		{"GET", "application/json", 200, "application/json", osloJSONOK},
		{"GET", "text/html", 200, "text/html; charset=UTF-8", osloHTMLOK},
		{"GET", "application/xml", 200, "text/plain; charset=UTF-8", "OK"},
		{"GET", "*/*", 200, "text/plain; charset=UTF-8", "OK"},
		{"GET", "application/json;q=0.5, text/plain", 200, "text/plain; charset=UTF-8", "OK"},
		{"GET", "text/*;q=0.1, application/*", 200, "application/json", osloJSONOK},
	} {
		got := get(t, h, tt.method, "/healthcheck", tt.accept)
		if got != (answer{tt.status, tt.ctype, tt.body}) {
			t.Errorf("%s Accept %q: %+v; want %d %q %q", tt.method, tt.accept, got, tt.status, tt.ctype, tt.body)
		}
	}

	// The disable file: oslo's 503 and reason, on /readyz too, until it is removed.
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		method, accept string
		status         int
		ctype, body    string
	}{
		{"GET", "", 503, "text/plain; charset=UTF-8", "DISABLED BY FILE"},
		{"HEAD", "", 503, "text/plain; charset=UTF-8", ""},
		{"GET", "application/json", 503, "application/json", osloJSONDisabled},
	} {
		got := get(t, h, tt.method, "/healthcheck", tt.accept)
		if got != (answer{tt.status, tt.ctype, tt.body}) {
			t.Errorf("disabled: %s Accept %q: %+v; want %d %q %q", tt.method, tt.accept, got, tt.status, tt.ctype, tt.body)
		}
	}
	want(t, get(t, h, "GET", "/readyz", ""), 503,
		"[+]shutdown ok\n[-]disable-file failed: DISABLED BY FILE\n[+]database ok\nreadyz check failed\n")

	// Two reasons, one needing escapes.
	db.err = errors.New("ping <failed> & co")
	if got := get(t, h, "GET", "/healthcheck", "text/html"); got.body != osloHTMLTwo || got.status != 503 {
		t.Errorf("HTML with two reasons: %d %q\nwant %q", got.status, got.body, osloHTMLTwo)
	}
	if got := get(t, h, "GET", "/healthcheck", "application/json"); got.body != osloJSONTwo {
		t.Errorf("JSON with two reasons: %q\nwant %q", got.body, osloJSONTwo)
	}
	want(t, get(t, h, "GET", "/healthcheck", ""), 503, "DISABLED BY FILE\ndatabase: ping <failed> & co")

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	db.err = nil
	want(t, get(t, h, "GET", "/healthcheck", ""), 200, "OK")
	want(t, get(t, h, "GET", "/readyz", ""), 200, "ok")
}

func TestOsloDetailed(t *testing.T) {
	db := &fakeCheck{note: "sqlite"}
	h := health.New(health.Options{Checks: []health.Check{db.check("database")}, Detailed: true})
	got := get(t, h, "GET", "/healthcheck", "application/json")
	var doc struct {
		Detailed bool
		Now      string
		Reasons  []struct{ Class, Reason, Details string }
	}
	if err := json.Unmarshal([]byte(got.body), &doc); err != nil || got.status != 200 {
		t.Fatalf("detailed JSON %d %q: %v", got.status, got.body, err)
	}
	if !doc.Detailed || doc.Now == "" || len(doc.Reasons) != 2 || doc.Reasons[1] != (struct{ Class, Reason, Details string }{"database", "OK", "sqlite"}) {
		t.Errorf("detailed JSON = %+v", doc)
	}
	if got := get(t, h, "GET", "/healthcheck", "text/html"); !strings.Contains(got.body, "<TD>database</TD>") {
		t.Errorf("detailed HTML lacks the check's kind: %q", got.body)
	}
}
