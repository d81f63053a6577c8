package keystone_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"ingot/internal/keystone"
	"ingot/internal/keystone/keystonetest"
)

// BenchmarkPlacementAuth measures GET /resource_providers on a fleet of 20 providers
// through the real Placement handler, with noauth2 and with keystone authentication on a
// cached token. The handler is called in-process (httptest.ResponseRecorder), so the
// difference between the two is the middleware's own cost.
//
//	go test -run '^$' -bench PlacementAuth -benchtime 3s ./internal/keystone/
func BenchmarkPlacementAuth(b *testing.B) {
	ks := keystonetest.New()
	defer ks.Close()
	admin := ks.Issue(keystonetest.Token{UserID: "a1", ProjectID: "admin", Roles: []string{"admin", "member", "reader"}})
	for _, mode := range []string{"noauth2", "keystone"} {
		var srv *httptest.Server
		token := "admin"
		if mode == "keystone" {
			srv, token = realStack(b, ks, true), admin
		} else {
			srv = realStack(b, nil, true)
		}
		h := srv.Config.Handler
		for i := range 20 {
			body := fmt.Sprintf(`{"name": "node-%d"}`, i)
			req := httptest.NewRequest("POST", "/resource_providers", bytes.NewBufferString(body))
			req.Header.Set("X-Auth-Token", token)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Fatalf("%s: create provider: %d %s", mode, rec.Code, rec.Body)
			}
		}
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", "/resource_providers", nil)
				req.Header.Set("X-Auth-Token", token)
				req.Header.Set("OpenStack-API-Version", "placement 1.39")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
				_, _ = io.Copy(io.Discard, rec.Body)
			}
		})
	}
	if n := ks.Validations.Load(); n != 1 {
		b.Errorf("validations = %d, want 1 (the token cached)", n)
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
