package health

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// serveLive answers /livez and /healthz: the process serves.
func (h *Handler) serveLive(w http.ResponseWriter, r *http.Request) {
	body := "ok"
	if r.URL.Query().Has("verbose") {
		body = "[+]ping ok\n" + strings.TrimPrefix(r.URL.Path, "/") + " check passed\n"
	}
	writeText(w, r, http.StatusOK, body)
}

// serveReady answers /readyz as Kubernetes' API server does: 200 "ok" when every check
// passes; otherwise 503 and a line per check ("[+]name ok", "[-]name failed: reason"),
// which ?verbose also gives on success. ?exclude=NAME (repeatable, or comma-separated)
// leaves a check out. Accept: application/json gets the same as JSON.
func (h *Handler) serveReady(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	exclude := map[string]bool{}
	for _, v := range q["exclude"] {
		for n := range strings.SplitSeq(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				exclude[n] = true
			}
		}
	}
	results := h.run(r.Context(), exclude)
	var unknown []string
	for n := range exclude {
		if !slices.ContainsFunc(results, func(res result) bool { return res.name == n }) {
			unknown = append(unknown, n)
		}
	}
	slices.Sort(unknown)
	ready := !slices.ContainsFunc(results, func(res result) bool { return !res.ok() })
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	if negotiate(r.Header.Get("Accept"), []string{"text/plain", "application/json"}) == "application/json" {
		writeReadyJSON(w, r, status, results, unknown)
		return
	}
	if ready && !q.Has("verbose") {
		writeText(w, r, status, "ok")
		return
	}
	var b strings.Builder
	for _, res := range results {
		switch {
		case res.excluded:
			fmt.Fprintf(&b, "[+]%s excluded: ok\n", res.name)
		case res.ok() && res.note != "":
			fmt.Fprintf(&b, "[+]%s ok: %s\n", res.name, res.note)
		case res.ok():
			fmt.Fprintf(&b, "[+]%s ok\n", res.name)
		default:
			fmt.Fprintf(&b, "[-]%s failed: %s\n", res.name, oneLine(res.err.Error()))
		}
	}
	if len(unknown) > 0 {
		fmt.Fprintf(&b, "warn: some health checks cannot be excluded: no matches for %s\n", strings.Join(quoteAll(unknown), ", "))
	}
	if ready {
		b.WriteString("readyz check passed\n")
	} else {
		b.WriteString("readyz check failed\n")
	}
	writeText(w, r, status, b.String())
}

// readyJSON is /readyz's JSON form.
type readyJSON struct {
	Status string      `json:"status"` // "ok" or "failed"
	Checks []checkJSON `json:"checks"`
	// UnknownExcludes are ?exclude= names that match no check.
	UnknownExcludes []string `json:"unknown_excludes,omitempty"`
}

type checkJSON struct {
	Name       string  `json:"name"`
	Status     string  `json:"status"` // "ok", "failed" or "excluded"
	Error      string  `json:"error,omitempty"`
	Note       string  `json:"note,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

func writeReadyJSON(w http.ResponseWriter, r *http.Request, status int, results []result, unknown []string) {
	out := readyJSON{Status: "ok", UnknownExcludes: unknown, Checks: make([]checkJSON, 0, len(results))}
	if status != http.StatusOK {
		out.Status = "failed"
	}
	for _, res := range results {
		c := checkJSON{Name: res.name, Status: "ok", Note: res.note, DurationMS: float64(res.took.Microseconds()) / 1000}
		switch {
		case res.excluded:
			c.Status = "excluded"
		case !res.ok():
			c.Status, c.Error = "failed", res.err.Error()
		}
		out.Checks = append(out.Checks, c)
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err) // plain strings and numbers
	}
	writeBody(w, r, status, "application/json", string(b))
}

func writeText(w http.ResponseWriter, r *http.Request, status int, body string) {
	writeBody(w, r, status, "text/plain; charset=utf-8", body)
}

// writeBody writes the answer; HEAD gets the status and headers alone.
func writeBody(w http.ResponseWriter, r *http.Request, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body)) // the client went away: nothing to do
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
