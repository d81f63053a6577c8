package health

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// oslo.middleware's healthcheck (5.0.0), as ingot serves it at /healthcheck. The Handler's
// checks are its backends: healthy is one "OK" reason; otherwise each failing check gives
// one reason (the disable file oslo's own "DISABLED BY FILE"). The bodies are byte for
// byte what oslo writes for the same reasons (see the tests, taken from the real one).

// osloOffers are the types oslo offers, in its order (the first is the default).
var osloOffers = []string{"text/plain", "text/html", "application/json"}

// osloReason is one reason of an oslo answer.
type osloReason struct {
	class, reason, details string
}

func (h *Handler) serveHealthcheck(w http.ResponseWriter, r *http.Request) {
	results := h.run(r.Context(), nil)
	healthy := true
	for _, res := range results {
		healthy = healthy && res.ok()
	}
	var reasons []osloReason
	for _, res := range results {
		switch {
		case res.ok() && h.opts.Detailed:
			reasons = append(reasons, osloReason{class: res.name, reason: "OK", details: res.note})
		case res.ok():
		case errors.Is(res.err, errDisabledByFile):
			reasons = append(reasons, osloReason{class: res.name, reason: errDisabledByFile.Error(), details: res.note})
		default:
			reasons = append(reasons, osloReason{class: res.name, reason: res.name + ": " + oneLine(res.err.Error()), details: res.note})
		}
	}
	if healthy && !h.opts.Detailed {
		reasons = []osloReason{{reason: "OK"}}
	}
	status := http.StatusOK
	if !healthy {
		status = http.StatusServiceUnavailable
	}
	if r.Method == http.MethodHead {
		// oslo: 204 with no Content-Type when healthy, 503 text/plain when not.
		if healthy {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(status)
		return
	}
	var body, ctype string
	switch negotiate(r.Header.Get("Accept"), osloOffers) {
	case "application/json":
		body, ctype = h.osloJSON(reasons), "application/json"
	case "text/html":
		body, ctype = h.osloHTML(reasons), "text/html; charset=UTF-8"
	default:
		parts := make([]string, len(reasons))
		for i, rs := range reasons {
			parts[i] = rs.reason
		}
		body, ctype = strings.Join(parts, "\n"), "text/plain; charset=UTF-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body)) // the client went away: nothing to do
}

// osloJSON is json.dumps(body, indent=4, sort_keys=True) of oslo's body: reasons as
// strings, or (detailed) as objects with the process's facts beside them.
func (h *Handler) osloJSON(reasons []osloReason) string {
	body := map[string]any{"detailed": h.opts.Detailed}
	if h.opts.Detailed {
		rs := make([]map[string]string, len(reasons))
		for i, r := range reasons {
			rs[i] = map[string]string{"class": r.class, "reason": r.reason, "details": r.details}
		}
		body["reasons"] = rs
		body["now"] = time.Now().UTC().Format("2006-01-02 15:04:05.000000")
		body["platform"] = runtime.GOOS + "-" + runtime.GOARCH
		body["go_version"] = runtime.Version()
		body["goroutines"] = runtime.NumGoroutine()
	} else {
		rs := make([]string, len(reasons))
		for i, r := range reasons {
			rs[i] = r.reason
		}
		body["reasons"] = rs
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(body); err != nil {
		panic(err) // strings, numbers and booleans
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// osloHTML is oslo's HTML template, filled as jinja2 fills it.
func (h *Handler) osloHTML(reasons []osloReason) string {
	var b strings.Builder
	b.WriteString("<HTML>\n<HEAD><TITLE>Healthcheck Status</TITLE></HEAD>\n<BODY>\n")
	if h.opts.Detailed {
		fmt.Fprintf(&b, "<H1>Server status</H1>\n<B>Current time:</B><PRE>%s</PRE>\n<B>Go version:</B><PRE>%s</PRE>\n<B>Platform:</B><PRE>%s</PRE>\n<HR></HR>",
			time.Now().UTC().Format("2006-01-02 15:04:05.000000"), html.EscapeString(runtime.Version()), runtime.GOOS+"-"+runtime.GOARCH)
	}
	fmt.Fprintf(&b, "\n<H2>Result of %d checks:</H2>\n<TABLE bgcolor=\"#ffffff\" border=\"1\">\n<TBODY>\n<TR>\n", len(reasons))
	if h.opts.Detailed {
		b.WriteString("<TH>\nKind\n</TH>\n<TH>\nReason\n</TH>\n<TH>\nDetails\n</TH>\n")
	} else {
		b.WriteString("\n<TH>\nReason\n</TH>")
	}
	b.WriteString("\n</TR>\n")
	for _, r := range reasons {
		b.WriteString("<TR>\n")
		if h.opts.Detailed {
			fmt.Fprintf(&b, "    <TD>%s</TD>", html.EscapeString(r.class))
		}
		fmt.Fprintf(&b, "\n    <TD>%s</TD>\n", html.EscapeString(r.reason))
		if h.opts.Detailed {
			fmt.Fprintf(&b, "    <TD>%s</TD>", html.EscapeString(r.details))
		}
		b.WriteString("\n</TR>")
	}
	b.WriteString("\n</TBODY>\n</TABLE>\n<HR></HR>\n\n</BODY>\n</HTML>")
	return b.String()
}
