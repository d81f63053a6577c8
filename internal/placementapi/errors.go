package placementapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"

	"ingot/internal/placement"
	"ingot/internal/policy"
)

// apiError is an error with an HTTP status, a Placement error code and a detail that is
// safe to show.
type apiError struct {
	status int
	code   string
	detail string
	// template replaces the status's generic explanation (webob's body template), with the
	// detail appended; 405, 406 and 415 word it this way.
	explanation string
}

func (e *apiError) Error() string { return e.detail }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, detail: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, format, args...)
}

func withCode(e *apiError, code string) *apiError { e.code = code; return e }

// explanations are webob's generic explanations, which Placement's error details start
// with.
var explanations = map[int]string{
	400: "The server could not comply with the request since it is either malformed or otherwise incorrect.",
	401: "This server could not verify that you are authorized to access the document you requested.  Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.",
	403: "Access was denied to this resource.",
	404: "The resource could not be found.",
	409: "There was a conflict when trying to complete your request.",
	413: "The body of your request was too large for this server.",
	500: "The server has either erred or is incapable of performing the requested operation.",
}

// toAPIError translates any error into an apiError: domain errors by kind, policy denials
// to 403, everything else to a 500 whose detail hides the cause (internal reports whether
// it was such an unexpected error).
func toAPIError(err error) (e *apiError, internal bool) {
	if ae, ok := errors.AsType[*apiError](err); ok {
		return ae, false
	}
	if pe, ok := placement.AsError(err); ok {
		status := http.StatusInternalServerError
		switch pe.Kind {
		case placement.KindInvalid:
			status = http.StatusBadRequest
		case placement.KindNotFound:
			status = http.StatusNotFound
		case placement.KindConflict:
			status = http.StatusConflict
		}
		if status != http.StatusInternalServerError {
			return &apiError{status: status, code: pe.Code, detail: pe.Detail}, false
		}
	}
	if d, ok := errors.AsType[*policy.Denied](err); ok {
		return &apiError{status: http.StatusForbidden, detail: d.Error()}, false
	}
	return &apiError{status: http.StatusInternalServerError, detail: "An unexpected error occurred; the request id identifies it in the server log."}, true
}

// maxErrorDetail bounds an error's detail: details quote the client's input, which must not
// make an error response large.
const maxErrorDetail = 16 << 10

// errorBody is Placement's error document.
type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Status     int    `json:"status"`
	Title      string `json:"title"`
	Detail     string `json:"detail"`
	Code       string `json:"code,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	MaxVersion string `json:"max_version,omitempty"`
	MinVersion string `json:"min_version,omitempty"`
}

// renderError writes e in the representation the client accepts: JSON when Accept is
// missing, "*/*" or prefers JSON; HTML when it prefers HTML; otherwise plain text (webob's
// rules, which Placement inherits).
func renderError(w http.ResponseWriter, r *http.Request, e *apiError, requestID string, v version, versionKnown bool) {
	title := http.StatusText(e.status)
	explanation := e.explanation
	if explanation == "" {
		explanation = explanations[e.status]
	}
	// webob: "${explanation}<br /><br />\n${detail}\n${html_comment}\n" with tags stripped
	// and newlines folded to spaces (Placement's json_error_formatter calls strip_tags).
	// Every detail is bounded, whatever input it quotes.
	detail := explanation + "\n\n " + stripTags(truncateText(e.detail, maxErrorDetail)) + "  "
	w.Header().Del("Content-Length")
	switch errorMediaType(r.Header.Get("Accept")) {
	case "application/json":
		entry := errorEntry{Status: e.status, Title: title, Detail: detail, RequestID: requestID}
		if versionKnown && v.errorCodes() {
			entry.Code = e.code
			if entry.Code == "" {
				entry.Code = placement.CodeUndefined
			}
		}
		if e.status == http.StatusNotAcceptable && !versionKnown {
			entry.MaxVersion, entry.MinVersion = maxVersion.String(), minVersion.String()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.status)
		writeJSONBody(w, errorBody{Errors: []errorEntry{entry}})
	case "text/html":
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(e.status)
		fmt.Fprintf(w, "<html>\n <head>\n  <title>%d %s</title>\n </head>\n <body>\n  <h1>%d %s</h1>\n  %s<br /><br />\n%s\n\n\n </body>\n</html>",
			e.status, title, e.status, title, html.EscapeString(explanation), html.EscapeString(e.detail))
	default:
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(e.status)
		fmt.Fprintf(w, "%d %s\n\n%s\n\n%s\n\n", e.status, title, explanation, e.detail)
	}
}

// errorMediaType picks the error representation for an Accept header as webob does: among
// text/html and application/json the acceptable one with the highest quality wins (HTML on
// a tie); neither acceptable gives text/plain. A missing header or "*/*" alone means JSON.
func errorMediaType(accept string) string {
	accept = strings.TrimSpace(accept)
	if accept == "" || accept == "*/*" {
		return "application/json"
	}
	qHTML, qJSON := acceptQuality(accept, "text/html"), acceptQuality(accept, "application/json")
	switch {
	case qHTML <= 0 && qJSON <= 0:
		return "text/plain"
	case qJSON > qHTML:
		return "application/json"
	default:
		return "text/html"
	}
}

// acceptQuality returns the quality the Accept header gives the media type (0 when not
// acceptable), taking the most specific matching range.
func acceptQuality(accept, mediaType string) float64 {
	typ, _, _ := strings.Cut(mediaType, "/")
	best, bestSpecificity := 0.0, -1
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		rng := strings.ToLower(strings.TrimSpace(fields[0]))
		q := 1.0
		for _, p := range fields[1:] {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.TrimSpace(k) == "q" {
				if _, err := fmt.Sscanf(strings.TrimSpace(val), "%g", &q); err != nil {
					q = 0
				}
			}
		}
		specificity := -1
		switch {
		case rng == mediaType:
			specificity = 2
		case rng == typ+"/*":
			specificity = 1
		case rng == "*/*":
			specificity = 0
		}
		if specificity > bestSpecificity {
			best, bestSpecificity = q, specificity
		}
	}
	return best
}

// acceptsJSON reports whether the Accept header (if any) allows application/json, as
// Placement's check_accept decorator requires of GET handlers.
func acceptsJSON(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	return acceptQuality(accept, "application/json") > 0
}

// writeJSONBody writes v as JSON without the newline json.Encoder ends with: Placement's
// bodies (json.dumps) have none, and clients that log or compare a body see the difference.
func writeJSONBody(w http.ResponseWriter, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

var (
	brTag      = regexp.MustCompile(`(?is)<br.*?>`)
	htmlTag    = regexp.MustCompile(`(?s)<.*?>`)
	htmlMarker = regexp.MustCompile(`<!--|-->`)
)

// stripTags is webob's strip_tags: newlines become spaces, <br> tags newlines, and other
// tags and comment markers go.
func stripTags(s string) string {
	if !strings.ContainsAny(s, "\n\r<>") {
		return s
	}
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "\r", "")
	s = brTag.ReplaceAllString(s, "\n")
	s = htmlMarker.ReplaceAllString(s, "")
	return htmlTag.ReplaceAllString(s, "")
}
