package keystone_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"ingot/internal/keystone"
	"ingot/internal/keystone/keystonetest"
	"ingot/internal/store/storetest"
)

// BenchmarkPlacementAuth measures GET /resource_providers on a fleet of 20 providers
// through the real Placement handler, with noauth2 and with keystone authentication on a
// cached token, on one database (two databases built alike differ by more than what is
// measured here), alternating the two request by request so that the machine's noise hits
// both alike. The handlers are called in-process (httptest.ResponseRecorder); it reports
// each one's time per request and their ratio (keystone/noauth2).
//
//	go test -run '^$' -bench PlacementAuth -benchtime 20000x -count 5 ./internal/keystone/
func BenchmarkPlacementAuth(b *testing.B) {
	ks := keystonetest.New()
	defer ks.Close()
	admin := ks.Issue(keystonetest.Token{UserID: "a1", ProjectID: "admin", Roles: []string{"admin", "member", "reader"}})
	type stack struct {
		h     http.Handler
		token string
		total time.Duration
	}
	db := storetest.Open(b, storetest.SQLite)
	stacks := []*stack{{h: realHandler(b, db, nil, true), token: "admin"}, {h: realHandler(b, db, ks, true), token: admin}}
	for _, st := range stacks[:1] {
		for i := range 20 {
			req := httptest.NewRequest("POST", "/resource_providers", bytes.NewBufferString(fmt.Sprintf(`{"name": "node-%d"}`, i)))
			req.Header.Set("X-Auth-Token", st.token)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			st.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Fatalf("create provider: %d %s", rec.Code, rec.Body)
			}
		}
	}
	n := 0
	for b.Loop() {
		for _, st := range stacks {
			req := httptest.NewRequest("GET", "/resource_providers", nil)
			req.Header.Set("X-Auth-Token", st.token)
			req.Header.Set("OpenStack-API-Version", "placement 1.39")
			rec := httptest.NewRecorder()
			start := time.Now()
			st.h.ServeHTTP(rec, req)
			st.total += time.Since(start)
			if rec.Code != http.StatusOK {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
		n++
	}
	b.ReportMetric(float64(stacks[0].total.Nanoseconds())/float64(n), "noauth2-ns/req")
	b.ReportMetric(float64(stacks[1].total.Nanoseconds())/float64(n), "keystone-ns/req")
	b.ReportMetric(float64(stacks[1].total)/float64(stacks[0].total), "keystone/noauth2")
	if v := ks.Validations.Load(); v != 1 {
		b.Errorf("validations = %d, want 1 (the token cached)", v)
	}
}

// BenchmarkMiddlewareCached is the middleware's own cost per request with a cached token
// (header stripping, hash, cache look-up, context), in front of a handler that does
// nothing.
//
//	go test -run '^$' -bench MiddlewareCached ./internal/keystone/
func BenchmarkMiddlewareCached(b *testing.B) {
	ks := keystonetest.New()
	defer ks.Close()
	token := ks.Issue(member("p1"))
	h := keystone.Middleware(newValidator(b, ks, keystone.ValidatorOptions{}), keystone.MiddlewareOptions{},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := keystone.FromContext(r.Context()); !ok {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}))
	req := httptest.NewRequest("GET", "/resource_providers", nil)
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("X-Roles", "admin")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.Clone(req.Context()))
		if rec.Code != http.StatusOK {
			b.Fatalf("%d", rec.Code)
		}
	}
}
