package placementapi

import (
	"log/slog"
	"net/http"
	"time"

	"ingot/internal/policy"
)

// What the other APIs served on the same listener (package instanceapi) share with the
// Placement API, so that every API authenticates, identifies requests, checks client
// text and reports errors alike. Credentials is in auth.go.

// NewRequestID returns a new request id in OpenStack's form ("req-" and a UUID), as sent
// in X-Openstack-Request-Id and in error bodies.
func NewRequestID() string { return newRequestID() }

// StatusError returns an error that WriteError renders with the given HTTP status and a
// detail formatted like fmt.Sprintf.
func StatusError(status int, format string, args ...any) error {
	return errorf(status, format, args...)
}

// WriteError writes err as Placement writes errors: {"errors": [{"status", "title",
// "detail", "code", "request_id"}]} (or HTML or text, as the request's Accept asks).
// Errors from StatusError keep their status; placement.Error kinds map to 400, 404 and
// 409, policy denials to 403; anything else is a 500 whose detail hides the cause, and
// internal reports it so that the caller logs err. It returns the status written.
func WriteError(w http.ResponseWriter, r *http.Request, err error, requestID string) (status int, internal bool) {
	ae, internal := toAPIError(err)
	renderError(w, r, ae, requestID, version{maxVersion}, true)
	return ae.status, internal
}

// TextProblem says what makes s unfit for the database ("invalid UTF-8", "a NUL
// character"), or "" when nothing does. Every client string must pass it.
func TextProblem(s string) string { return textProblem(s) }

// JSONTextProblem is TextProblem for every key and string of a JSON document decoded by
// encoding/json into any.
func JSONTextProblem(doc any) string { return bodyTextProblem(doc) }

// CanonicalUUID returns s in canonical form (lower case, dashed) if it is UUID-like as
// oslo's is_uuid_like has it (dashes optional, braces and "urn:uuid:" allowed).
func CanonicalUUID(s string) (string, bool) { return canonicalUUID(s) }

// TruncateText cuts s to at most n bytes on a rune boundary, marking the cut with "...",
// for error details that quote a client's value.
func TruncateText(s string, n int) string { return truncateText(s, n) }

// RequestLog is what the access line of a served request says besides the request itself.
type RequestLog struct {
	Route     string // the template of the route that served it, or "other"
	Status    int    // 0: nothing written explicitly (net/http sends 200)
	Duration  time.Duration
	RequestID string             // ours, as sent in X-Openstack-Request-Id
	Caller    policy.Credentials // zero when the request was not authenticated
}

// LogRequest writes the access line of r at Info, with the same attributes from every API
// on the listener: request_id, global_request_id (the caller's own request id, oslo's
// global request id, when it sent a well-formed one), method, route (the template, for
// grouping), path, status, duration_ms, and user_id and project_id when the caller is known.
func LogRequest(log *slog.Logger, r *http.Request, e RequestLog) {
	ctx := r.Context()
	if !log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	status := e.Status
	if status == 0 {
		status = http.StatusOK
	}
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs, slog.String("request_id", e.RequestID))
	if g := r.Header.Get("X-Openstack-Request-Id"); requestIDPattern.MatchString(g) {
		attrs = append(attrs, slog.String("global_request_id", g))
	}
	attrs = append(attrs, slog.String("method", r.Method), slog.String("route", e.Route), slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.Float64("duration_ms", float64(e.Duration.Microseconds())/1000))
	if e.Caller.UserID != "" {
		attrs = append(attrs, slog.String("user_id", e.Caller.UserID))
	}
	if e.Caller.ProjectID != "" {
		attrs = append(attrs, slog.String("project_id", e.Caller.ProjectID))
	}
	log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}
