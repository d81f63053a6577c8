package ironic

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestErrorMessage(t *testing.T) {
	tests := []struct{ body, want string }{
		// Bodies as Ironic 21.4 sends them.
		{`{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"Node nope could not be found.\", \"debuginfo\": null}"}`,
			"Node nope could not be found."},
		{`{"error_message": "{\"code\": 406, \"title\": \"Not Acceptable\", \"description\": \"Version 1.99 was requested but the minor version is not supported by this service. The supported version range is: [1.1, 1.82].\"}"}`,
			"Version 1.99 was requested but the minor version is not supported by this service. The supported version range is: [1.1, 1.82]."},
		{`{"error":{"message":"Authorization required","code":401}}`, "Authorization required"},
		{`{"error_message": {"faultstring": "an object, not a string"}}`, "an object, not a string"},
		{`{"error_message": "plain words"}`, "plain words"},
		{"<html>Bad Gateway</html>\n", "<html>Bad Gateway</html>"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := errorMessage([]byte(tt.body)); got != tt.want {
			t.Errorf("errorMessage(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestErrorIs(t *testing.T) {
	sentinels := []error{ErrNotFound, ErrConflict, ErrUnavailable, ErrInvalid, ErrUnauthorized, ErrUnsupported}
	tests := []struct {
		err  *Error
		want error // the one sentinel it matches, or nil
	}{
		{&Error{StatusCode: 404}, ErrNotFound},
		{&Error{StatusCode: 409}, ErrConflict},
		{&Error{StatusCode: 503}, ErrUnavailable},
		{&Error{StatusCode: 400}, ErrInvalid},
		{&Error{StatusCode: 401}, ErrUnauthorized},
		{&Error{StatusCode: 403}, ErrUnauthorized},
		{&Error{StatusCode: 406}, ErrUnsupported},
		{&Error{StatusCode: 500}, nil},
		{&Error{Err: errors.New("connection reset")}, ErrUnavailable},
		{&Error{Err: context.DeadlineExceeded}, ErrUnavailable},
		{&Error{Err: context.Canceled}, nil},
	}
	for _, tt := range tests {
		wrapped := fmt.Errorf("get node x: %w", tt.err)
		for _, s := range sentinels {
			if got := errors.Is(wrapped, s); got != (s == tt.want) {
				t.Errorf("errors.Is(%v, %v) = %v", tt.err, s, got)
			}
		}
	}
	e := &Error{StatusCode: 409, Method: "PATCH", Path: "/v1/nodes/n1", Message: "Node n1 is locked by host c1.", RequestID: "req-1"}
	if got, want := e.Error(), "ironic: PATCH /v1/nodes/n1: 409 Conflict: Node n1 is locked by host c1. (request req-1)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestBackoff(t *testing.T) {
	c, err := New(Config{URL: "http://x", Retry: RetryPolicy{BaseDelay: 100, MaxDelay: 350}})
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int][2]int64{1: {50, 100}, 2: {100, 200}, 3: {175, 350}, 9: {175, 350}} {
		for range 50 {
			if d := int64(c.backoff.Delay(n)); d < want[0] || d >= want[1] {
				t.Errorf("backoff(%d) = %d, want in [%d, %d)", n, d, want[0], want[1])
			}
		}
	}
}

func TestConflictKinds(t *testing.T) {
	// Messages as Ironic 21.4 words them (checked by the contract suite).
	tests := []struct {
		msg                                string
		locked, associated, instanceOnNode bool
	}{
		{"Node 9214 is locked by host ingot-ironic, please retry after the current operation is completed.", true, false, false},
		{"Node 9214 can not be updated while a state transition is in progress.", true, false, false},
		{"Node 9214 is associated with instance 1111.", false, true, false},
		{"Instance 1111 is already associated with a node, it cannot be associated with this other node f164", false, true, true},
		{"A node with name n1 already exists.", false, false, false},
	}
	for _, tt := range tests {
		err := fmt.Errorf("patch: %w", &Error{StatusCode: 409, Message: tt.msg})
		got := []bool{errors.Is(err, ErrConflict), errors.Is(err, ErrNodeLocked), errors.Is(err, ErrAssociated), errors.Is(err, ErrInstanceAssociated)}
		want := []bool{true, tt.locked, tt.associated, tt.instanceOnNode}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q: Is(Conflict, NodeLocked, Associated, InstanceAssociated) = %v, want %v", tt.msg, got, want)
		}
		// The same words with another status are not a conflict of any kind.
		if e := (&Error{StatusCode: 400, Message: tt.msg}); errors.Is(e, ErrNodeLocked) || errors.Is(e, ErrAssociated) {
			t.Errorf("400 %q matches a conflict kind", tt.msg)
		}
	}
}
