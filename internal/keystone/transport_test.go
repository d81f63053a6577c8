package keystone_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"ingot/internal/keystone"
	"ingot/internal/keystone/keystonetest"
)

// service is an OpenStack service behind Keystone: it accepts the tokens the stub
// Keystone says are valid (401 otherwise, or always when refuse is set) and records the
// token and body of every request.
type service struct {
	ks *keystonetest.Server

	mu     sync.Mutex
	tokens []string
	bodies []string
	refuse bool
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	tok := r.Header.Get("X-Auth-Token")
	s.mu.Lock()
	s.tokens = append(s.tokens, tok)
	s.bodies = append(s.bodies, string(b))
	refuse := s.refuse
	s.mu.Unlock()
	if refuse || !s.ks.Valid(tok) {
		http.Error(w, `{"error": {"code": 401, "title": "Unauthorized"}}`, http.StatusUnauthorized)
		return
	}
	_, _ = io.WriteString(w, "ok")
}

func (s *service) seen() ([]string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...), append([]string(nil), s.bodies...)
}

func newTransportTest(t *testing.T) (*keystonetest.Server, *service, string, *http.Client) {
	t.Helper()
	ks := keystonetest.New()
	t.Cleanup(ks.Close)
	svc := &service{ks: ks}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: &keystone.Transport{Session: newSession(t, ks)}}
	return ks, svc, srv.URL, hc
}

func call(t *testing.T, hc *http.Client, method, url, body string) (int, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// TestTransportSendsServiceToken: every call carries the one service token, obtained once.
func TestTransportSendsServiceToken(t *testing.T) {
	ks, svc, url, hc := newTransportTest(t)
	for range 3 {
		if code, err := call(t, hc, "GET", url+"/v1/nodes", ""); err != nil || code != 200 {
			t.Fatalf("GET: %d, %v", code, err)
		}
	}
	tokens, _ := svc.seen()
	if len(tokens) != 3 || tokens[0] == "" || tokens[1] != tokens[0] || tokens[2] != tokens[0] {
		t.Errorf("tokens sent = %q, want one token three times", tokens)
	}
	if n := ks.Auths.Load(); n != 1 {
		t.Errorf("authentications = %d, want 1", n)
	}
}

// TestTransportRetriesOnce401: a revoked token is answered 401; the transport gets a new
// token and sends the request again, body included, once.
func TestTransportRetriesOnce401(t *testing.T) {
	ks, svc, url, hc := newTransportTest(t)
	if code, err := call(t, hc, "GET", url, ""); err != nil || code != 200 {
		t.Fatalf("first GET: %d, %v", code, err)
	}
	ks.RevokeAll()
	const patch = `[{"op": "add", "path": "/instance_uuid", "value": "x"}]`
	if code, err := call(t, hc, "PATCH", url+"/v1/nodes/n1", patch); err != nil || code != 200 {
		t.Fatalf("PATCH after revocation: %d, %v; want 200 after one retry", code, err)
	}
	tokens, bodies := svc.seen()
	if len(tokens) != 3 || tokens[1] != tokens[0] || tokens[2] == tokens[1] {
		t.Errorf("tokens sent = %q; want the old one twice, then a new one", tokens)
	}
	if bodies[1] != patch || bodies[2] != patch {
		t.Errorf("bodies = %q; want the PATCH body on both attempts", bodies[1:])
	}
	if n := ks.Auths.Load(); n != 2 {
		t.Errorf("authentications = %d, want 2", n)
	}

	// A service that refuses every token: one retry, then its 401 is the answer.
	svc.mu.Lock()
	svc.refuse = true
	svc.mu.Unlock()
	if code, err := call(t, hc, "GET", url, ""); err != nil || code != 401 {
		t.Errorf("GET to a refusing service: %d, %v; want its 401", code, err)
	}
	if tokens, _ := svc.seen(); len(tokens) != 5 {
		t.Errorf("requests = %d, want 5 (one retry)", len(tokens))
	}
	if n := ks.Auths.Load(); n != 3 {
		t.Errorf("authentications = %d, want 3", n)
	}
}

// TestTransportRenewsBeforeExpiry: a short-lived service token is replaced before it
// expires, without a 401 first.
func TestTransportRenewsBeforeExpiry(t *testing.T) {
	ks, svc, url, hc := newTransportTest(t)
	ks.SetServiceTokenTTL(2 * time.Second) // renewed after half its life
	if code, err := call(t, hc, "GET", url, ""); err != nil || code != 200 {
		t.Fatalf("GET: %d, %v", code, err)
	}
	time.Sleep(1100 * time.Millisecond)
	if code, err := call(t, hc, "GET", url, ""); err != nil || code != 200 {
		t.Fatalf("GET: %d, %v", code, err)
	}
	tokens, _ := svc.seen()
	if len(tokens) != 2 || tokens[0] == tokens[1] {
		t.Errorf("tokens sent = %q; want a new token on the second call, and no 401 retry", tokens)
	}
}

// TestTransportKeystoneDown: without a token nothing is sent, and the error says why.
func TestTransportKeystoneDown(t *testing.T) {
	ks, svc, url, hc := newTransportTest(t)
	if code, err := call(t, hc, "GET", url, ""); err != nil || code != 200 {
		t.Fatalf("GET: %d, %v", code, err)
	}
	ks.RevokeAll()
	ks.Close()
	_, err := call(t, hc, "POST", url, "{}")
	if !errors.Is(err, keystone.ErrUnavailable) || !strings.Contains(err.Error(), "401") {
		t.Errorf("POST with Keystone down after a 401: %v; want ErrUnavailable naming the 401", err)
	}
	if tokens, _ := svc.seen(); len(tokens) != 2 {
		t.Errorf("requests = %d, want 2 (no retry without a new token)", len(tokens))
	}
}

// TestTransportKeystoneDownAtStart: no token at all: the request is not sent.
func TestTransportKeystoneDownAtStart(t *testing.T) {
	ks, svc, url, hc := newTransportTest(t)
	ks.Close()
	if _, err := call(t, hc, "GET", url, ""); !errors.Is(err, keystone.ErrUnavailable) {
		t.Errorf("GET: %v, want ErrUnavailable", err)
	}
	if tokens, _ := svc.seen(); len(tokens) != 0 {
		t.Errorf("requests = %d, want none", len(tokens))
	}
}
