package ironic

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Errors that a *Error matches with errors.Is.
var (
	// ErrNotFound: the node (or the trait on it, or the paging marker) does not exist (404).
	ErrNotFound = errors.New("ironic: not found")
	// ErrConflict: the node is locked by a conductor, busy, already associated with an
	// instance, or the name is taken (409). Callers treat it as "wait and retry", not as
	// a failure.
	ErrConflict = errors.New("ironic: conflict (node locked, busy or associated)")
	// ErrUnavailable: Ironic answered 503, or did not answer at all (refused, reset,
	// timed out), after the retries the policy allows.
	ErrUnavailable = errors.New("ironic: unavailable")
	// ErrInvalid: Ironic refused the request as invalid (400), for example a provision
	// transition the node's state does not allow.
	ErrInvalid = errors.New("ironic: invalid request")
	// ErrUnauthorized: Ironic refused the credentials (401) or the action (403).
	ErrUnauthorized = errors.New("ironic: unauthorized")
	// ErrUnsupported: the negotiated microversion cannot do what was asked (406 from
	// Ironic, or refused by the client before sending).
	ErrUnsupported = errors.New("ironic: not supported by the negotiated microversion")

	// ErrNodeLocked is the 409 of a node that is busy: a conductor holds its lock
	// (NodeLocked, "Node X is locked by host H, please retry after the current operation is
	// completed.") or a PATCH came while a state transition runs ("Node X can not be
	// updated while a state transition is in progress."). Wait and try again. It also
	// matches ErrConflict.
	ErrNodeLocked = errors.New("ironic: node locked by a conductor")
	// ErrAssociated is the 409 of an instance_uuid claim that lost: the node holds another
	// instance (NodeAssociated, "Node X is associated with instance I.") or the instance is
	// already on another node (ErrInstanceAssociated). Retrying will not help. It also
	// matches ErrConflict.
	ErrAssociated = errors.New("ironic: node or instance already associated")
	// ErrInstanceAssociated is the InstanceAssociated kind of ErrAssociated: "Instance I is
	// already associated with a node, it cannot be associated with this other node X".
	// It also matches ErrAssociated and ErrConflict.
	ErrInstanceAssociated = errors.New("ironic: instance already associated with another node")
)

// conflictKind classifies a 409 by Ironic's message: its error body carries no exception
// name or code besides the status (faultcode is only "Client"), so the message, stable
// across releases since Ironic's first API, is all there is.
type conflictKind uint8

const (
	conflictOther conflictKind = iota
	conflictLocked
	conflictNodeAssociated
	conflictInstanceAssociated
)

func classifyConflict(msg string) conflictKind {
	switch {
	case strings.Contains(msg, " is locked by host "),
		strings.Contains(msg, " can not be updated while a state transition is in progress"):
		return conflictLocked
	case strings.HasPrefix(msg, "Node ") && strings.Contains(msg, " is associated with instance "):
		return conflictNodeAssociated
	case strings.HasPrefix(msg, "Instance ") && strings.Contains(msg, " is already associated with a node"):
		return conflictInstanceAssociated
	}
	return conflictOther
}

// Error is a failed Ironic call: an HTTP error answer, or no answer at all (StatusCode 0,
// with the transport's error in Err).
type Error struct {
	StatusCode int    // HTTP status; 0 when no response arrived
	Method     string // HTTP method
	Path       string // URL path, without the query
	Message    string // Ironic's own message (faultstring or description), if any
	RequestID  string // Openstack-Request-Id of the answer, if any
	Err        error  // the transport error when StatusCode is 0

	notSent bool // the request surely did not reach the server
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ironic: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	if e.StatusCode == 0 {
		if e.Err != nil {
			b.WriteString(e.Err.Error())
		} else {
			b.WriteString("no response")
		}
		return b.String()
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	b.WriteByte(' ')
	b.WriteString(http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	return b.String()
}

// Unwrap returns the transport error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is maps the status onto the package's sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrUnavailable:
		// No answer counts, unless the caller itself gave up.
		return e.StatusCode == http.StatusServiceUnavailable ||
			e.StatusCode == 0 && !errors.Is(e.Err, context.Canceled)
	case ErrInvalid:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrUnsupported:
		return e.StatusCode == http.StatusNotAcceptable
	case ErrNodeLocked:
		return e.conflict() == conflictLocked
	case ErrAssociated:
		k := e.conflict()
		return k == conflictNodeAssociated || k == conflictInstanceAssociated
	case ErrInstanceAssociated:
		return e.conflict() == conflictInstanceAssociated
	}
	return false
}

func (e *Error) conflict() conflictKind {
	if e.StatusCode != http.StatusConflict {
		return conflictOther
	}
	return classifyConflict(e.Message)
}

// errorMessage extracts Ironic's message from an error body. Ironic nests a JSON document
// inside a string: {"error_message": "{\"faultcode\": ..., \"faultstring\": \"...\"}"}; 406
// answers from the version check carry {"code", "title", "description"} inside instead.
// The http_basic middleware answers 401 with {"error": {"message": ..., "code": 401}}.
// Anything else is returned trimmed, so no message is lost.
func errorMessage(body []byte) string {
	var outer struct {
		ErrorMessage json.RawMessage `json:"error_message"`
		Error        struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		return strings.TrimSpace(string(body))
	}
	if len(outer.ErrorMessage) == 0 {
		if outer.Error.Message != "" {
			return outer.Error.Message
		}
		return strings.TrimSpace(string(body))
	}
	var inner string
	if err := json.Unmarshal(outer.ErrorMessage, &inner); err != nil {
		// Not a string: maybe the object itself.
		inner = string(outer.ErrorMessage)
	}
	var doc struct {
		FaultString string `json:"faultstring"`
		Description string `json:"description"`
		Title       string `json:"title"`
	}
	if err := json.Unmarshal([]byte(inner), &doc); err != nil {
		return strings.TrimSpace(inner)
	}
	switch {
	case doc.FaultString != "":
		return doc.FaultString
	case doc.Description != "":
		return doc.Description
	case doc.Title != "":
		return doc.Title
	}
	return strings.TrimSpace(inner)
}
