package placementapi_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"ingot/internal/placementapi"
	"ingot/internal/policy"
)

// BenchmarkLogRequest is the cost of one access line, in the text and JSON formats
// (written to io.Discard: the formatting, not the disk):
//
//	go test -run '^$' -bench LogRequest ./internal/placementapi/
func BenchmarkLogRequest(b *testing.B) {
	r := httptest.NewRequest("PUT", "/resource_providers/6f1e0b1c-5a5e-4d7e-9c51-1f7f0e7c2a11/inventories", nil)
	r.Header.Set("X-Openstack-Request-Id", "req-2f1c9a2e-8b7d-4c3e-9f1a-0123456789ab")
	e := placementapi.RequestLog{Route: "/resource_providers/{uuid}/inventories", Status: 200, Duration: 1420 * time.Microsecond,
		RequestID: "req-0c3e9a2e-8b7d-4c3e-9f1a-0123456789ab", Caller: policy.Credentials{UserID: "nova", ProjectID: "service"}}
	for _, f := range []struct {
		name string
		h    slog.Handler
	}{{"text", slog.NewTextHandler(io.Discard, nil)}, {"json", slog.NewJSONHandler(io.Discard, nil)}} {
		b.Run(f.name, func(b *testing.B) {
			log := slog.New(f.h).With("component", "placementapi")
			b.ReportAllocs()
			for b.Loop() {
				placementapi.LogRequest(log, r, e)
			}
		})
	}
}
