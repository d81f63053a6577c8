package keystone

import (
	"fmt"
	"io"
	"net/http"
)

// Transport is an http.RoundTripper for the service's calls to other OpenStack services
// (Ironic): it sends the Session's token in X-Auth-Token, the one token the Validator
// uses too, renewed before it expires. When the service answers 401 (the token was
// revoked, or Keystone's keys rotated) it drops the token, obtains a new one and sends
// the request once more; a second 401 is the answer. A request whose body cannot be
// sent again (no GetBody) is not retried.
type Transport struct {
	Session *Session
	// Next sends the requests (nil: http.DefaultTransport).
	Next http.RoundTripper
}

func (t *Transport) next() http.RoundTripper {
	if t.Next != nil {
		return t.Next
	}
	return http.DefaultTransport
}

// RoundTrip implements http.RoundTripper. It does not modify req. When no token can be
// obtained, the request is not sent and the error wraps ErrUnavailable.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	token, err := t.Session.Token(ctx)
	if err != nil {
		closeBody(req)
		return nil, fmt.Errorf("keystone: no service token for %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	// Keep a body to send again before the first attempt consumes it.
	retry := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	resp, err := t.next().RoundTrip(withToken(req, token, req.Body))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !retry {
		return resp, err
	}
	t.Session.Invalidate(token)
	fresh, err := t.Session.Token(ctx)
	if err != nil {
		drain(resp)
		return nil, fmt.Errorf("keystone: %s %s was refused with HTTP 401 and no new service token came: %w",
			req.Method, req.URL.Redacted(), err)
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return resp, nil // the 401 stands
		}
	}
	drain(resp)
	return t.next().RoundTrip(withToken(req, fresh, body))
}

// CloseIdleConnections closes the idle connections of the next transport, if it can.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.next().(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// withToken returns a copy of req with body and the token.
func withToken(req *http.Request, token string, body io.ReadCloser) *http.Request {
	r := req.Clone(req.Context())
	r.Body = body
	r.Header.Set("X-Auth-Token", token)
	return r
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// drain reads what is left of a small answer and closes it, so the connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}
