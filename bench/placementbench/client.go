package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// client talks to a Placement-API endpoint with a fixed token. An endpoint may be several
// servers of one deployment (ingot replicas on one database): requests then go to them in
// turn, as through a round-robin load balancer.
type client struct {
	bases []string
	next  atomic.Uint64
	token string
	hc    *http.Client
}

// newClient returns a client of the comma-separated base URLs whose connection pool keeps
// conns idle connections per server, so that concurrent workers reuse keep-alive connections
// instead of opening new ones.
func newClient(base, token string, conns int, timeout time.Duration) *client {
	var bases []string
	for b := range strings.SplitSeq(base, ",") {
		if b = strings.TrimRight(strings.TrimSpace(b), "/"); b != "" {
			bases = append(bases, b)
		}
	}
	if len(bases) == 0 {
		bases = []string{""}
	}
	tr := &http.Transport{
		MaxIdleConns:        conns * 2 * len(bases),
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     90 * time.Second,
	}
	return &client{
		bases: bases,
		token: token,
		hc:    &http.Client{Transport: tr, Timeout: timeout},
	}
}

// base returns the server the next request goes to.
func (c *client) base() string {
	if len(c.bases) == 1 {
		return c.bases[0]
	}
	return c.bases[(c.next.Add(1)-1)%uint64(len(c.bases))]
}

// response is a fully read HTTP response and the time from sending the request to reading the
// last byte of the body.
type response struct {
	status int
	body   []byte
	dur    time.Duration
}

// newRequest builds a request at microversion mv with the client's token, asking for JSON.
func (c *client) newRequest(ctx context.Context, method, path, mv string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base()+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("X-Auth-Token", c.token)
	req.Header.Set("OpenStack-API-Version", "placement "+mv)
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// do sends one request at microversion mv with body (nil for none) encoded as JSON.
func (c *client) do(ctx context.Context, method, path, mv string, body any) (response, error) {
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return response{}, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rdr = bytes.NewReader(b)
	}
	req, err := c.newRequest(ctx, method, path, mv, rdr)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := readBody(resp)
	if err != nil {
		return response{}, fmt.Errorf("read %s %s: %w", method, path, err)
	}
	return response{status: resp.StatusCode, body: b, dur: time.Since(start)}, nil
}

// readBody reads a whole body, into a buffer of the announced length when there is one: a
// growing buffer would add copies of megabytes to the measured time of large answers.
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n < 1<<30 {
		b := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return nil, err
		}
		// the rest, if the length was wrong
		rest, err := io.ReadAll(resp.Body)
		return append(b, rest...), err
	}
	return io.ReadAll(resp.Body)
}

// expect sends a request that must answer with one of the statuses in ok.
func (c *client) expect(ctx context.Context, method, path, mv string, body any, ok ...int) (response, error) {
	r, err := c.do(ctx, method, path, mv, body)
	if err != nil {
		return r, err
	}
	if !slices.Contains(ok, r.status) {
		return r, fmt.Errorf("%s %s: status %d: %s", method, path, r.status, truncate(r.body, 300))
	}
	return r, nil
}

// truncate returns b as a string of at most n bytes.
func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// errorCode returns the Placement error code of a JSON error body, or "none".
func errorCode(body []byte) string {
	var e struct {
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 && e.Errors[0].Code != "" {
		return e.Errors[0].Code
	}
	return "none"
}
