package ironictest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Mutation is one mutating request (any method but GET and HEAD) the fake answered, for
// auditors: who sent it under which fence, when, and how it was answered.
type Mutation struct {
	// Received and Answered are when the fake got the request and when its handler
	// returned, by the fake's clock (one clock for every caller).
	Received, Answered time.Time
	Method, Path       string
	// Node is the node's UUID or name as the path gave it; empty for other paths.
	Node string
	// Fence is the X-Ingot-Fence header as sent ("replica/epoch"); empty when absent.
	Fence string
	// Status is the answer's HTTP status; 0 when the connection was dropped unanswered.
	Status int
}

// audit appends m to the mutation log.
func (s *Server) audit(m Mutation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mutations = append(s.mutations, m)
}

// Mutations returns every mutating request answered so far, in the order their handlers
// returned.
func (s *Server) Mutations() []Mutation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mutations)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush forwards to the underlying writer when it can flush.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// pathNode returns the node of a /v1/nodes/{id}... path, or "".
func pathNode(p string) string {
	rest, ok := strings.CutPrefix(p, "/v1/nodes/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}
