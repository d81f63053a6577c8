// Package client is a Go client of ingot's instance API (package instanceapi): create,
// show, list (following next links), delete, and waiting for an instance to settle. The
// CLI (ingot instance), the end-to-end tests and the benchmarks use it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ingot/internal/instanceapi"
)

// Client calls one ingot server. Set URL and Token; the zero value of the rest is ready.
type Client struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:8778.
	URL string
	// Token is sent as X-Auth-Token (noauth2: "admin", or "user:project").
	Token string
	// Header holds extra request headers (X-Roles, X-Project-Id, ...).
	Header http.Header
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
}

// Error is an error answer of the API.
type Error struct {
	Status    int
	Title     string
	Detail    string // the detail as sent, with the generic explanation of its status
	Code      string
	RequestID string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Title, e.Message())
}

// Message is the specific part of the detail (the API puts its status's generic
// explanation first).
func (e *Error) Message() string {
	d := e.Detail
	if _, rest, ok := strings.Cut(d, "\n\n"); ok {
		d = rest
	}
	return strings.TrimSpace(d)
}

// IsStatus reports whether err is an API error with the status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// Create creates an instance. created is false when an instance with the request's UUID
// and the same body existed already (the API answers 200 instead of 202).
func (c *Client) Create(ctx context.Context, req instanceapi.CreateRequest) (in instanceapi.Instance, created bool, err error) {
	body, err := json.Marshal(req)
	if err != nil {
		return in, false, fmt.Errorf("create instance: %w", err)
	}
	status, err := c.do(ctx, http.MethodPost, c.URL+instanceapi.Prefix, body, &in)
	if err != nil {
		return in, false, fmt.Errorf("create instance: %w", err)
	}
	return in, status == http.StatusAccepted, nil
}

// Get returns the instance.
func (c *Client) Get(ctx context.Context, uuid string) (instanceapi.Instance, error) {
	var in instanceapi.Instance
	if _, err := c.do(ctx, http.MethodGet, c.URL+instanceapi.Prefix+"/"+url.PathEscape(uuid), nil, &in); err != nil {
		return in, fmt.Errorf("show instance %s: %w", uuid, err)
	}
	return in, nil
}

// Delete asks for the instance's deletion and returns it (in state deleting).
func (c *Client) Delete(ctx context.Context, uuid string) (instanceapi.Instance, error) {
	var in instanceapi.Instance
	if _, err := c.do(ctx, http.MethodDelete, c.URL+instanceapi.Prefix+"/"+url.PathEscape(uuid), nil, &in); err != nil {
		return in, fmt.Errorf("delete instance %s: %w", uuid, err)
	}
	return in, nil
}

// ListOptions filter a list. Empty fields do not filter.
type ListOptions struct {
	States    []string
	ProjectID string
	Node      string
	Name      string
	// PageSize is the limit of each request (0: the server's default).
	PageSize int
	// Max stops the listing after this many instances (0: all).
	Max int
}

// List returns the instances the options select, following the next links page by page.
func (c *Client) List(ctx context.Context, o ListOptions) ([]instanceapi.Instance, error) {
	q := url.Values{}
	if len(o.States) > 0 {
		q.Set("state", strings.Join(o.States, ","))
	}
	for k, v := range map[string]string{"project_id": o.ProjectID, "node": o.Node, "name": o.Name} {
		if v != "" {
			q.Set(k, v)
		}
	}
	pageSize := o.PageSize
	if o.Max > 0 && (pageSize == 0 || o.Max < pageSize) {
		pageSize = o.Max
	}
	if pageSize > 0 {
		q.Set("limit", strconv.Itoa(pageSize))
	}
	next := c.URL + instanceapi.Prefix
	if len(q) > 0 {
		next += "?" + q.Encode()
	}
	var out []instanceapi.Instance
	for next != "" {
		var page instanceapi.List
		if _, err := c.do(ctx, http.MethodGet, next, nil, &page); err != nil {
			return out, fmt.Errorf("list instances: %w", err)
		}
		out = append(out, page.Instances...)
		if o.Max > 0 && len(out) >= o.Max {
			return out[:o.Max], nil
		}
		next = ""
		for _, l := range page.Links {
			if l.Rel == "next" {
				next = l.Href
			}
		}
	}
	return out, nil
}

// Settled reports whether a build is over: the instance is active, in error or deleted.
func Settled(in instanceapi.Instance) bool {
	return in.State == "active" || in.State == "error" || in.State == "deleted"
}

// Deleted reports whether the instance is deleted.
func Deleted(in instanceapi.Instance) bool { return in.State == "deleted" }

// Wait polls the instance every interval until done says so, and returns it then.
// progress, when not nil, is called with the first state seen and with every change of
// state, task or node after it. An instance that disappears (404) while waiting for its
// deletion counts as deleted.
func (c *Client) Wait(ctx context.Context, uuid string, interval time.Duration, done func(instanceapi.Instance) bool,
	progress func(instanceapi.Instance)) (instanceapi.Instance, error) {
	var last instanceapi.Instance
	first := true
	for {
		in, err := c.Get(ctx, uuid)
		if err != nil {
			if IsStatus(err, http.StatusNotFound) && !first && done(instanceapi.Instance{UUID: uuid, State: "deleted"}) {
				return instanceapi.Instance{UUID: uuid, State: "deleted"}, nil
			}
			return last, err
		}
		if progress != nil && (first || in.State != last.State || in.Task != last.Task || in.Node != last.Node) {
			progress(in)
		}
		first, last = false, in
		if done(in) {
			return in, nil
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("waiting for instance %s (state %s, task %q): %w", uuid, last.State, last.Task, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// PlacementVersion is the microversion Placement calls send.
const PlacementVersion = "placement 1.39"

// Placement calls the Placement API of the same server (at PlacementVersion): in, when
// not nil, is sent as the JSON body, and a successful answer's body is decoded into out
// (when not nil and not empty). It returns the status; an error answer is an *Error.
func (c *Client) Placement(ctx context.Context, method, path string, in, out any) (int, error) {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = b
	}
	h := c.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("OpenStack-API-Version", PlacementVersion)
	cc := *c
	cc.Header = h
	return cc.do(ctx, method, c.URL+path, body, out)
}

// do sends a request and decodes a successful answer's JSON body into out.
func (c *Client) do(ctx context.Context, method, u string, body []byte, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, err
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	req.Header.Set("X-Auth-Token", c.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var eb struct {
			Errors []struct {
				Status    int    `json:"status"`
				Title     string `json:"title"`
				Detail    string `json:"detail"`
				Code      string `json:"code"`
				RequestID string `json:"request_id"`
			} `json:"errors"`
		}
		e := &Error{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Detail: strings.TrimSpace(string(b))}
		if json.Unmarshal(b, &eb) == nil && len(eb.Errors) > 0 {
			x := eb.Errors[0]
			e.Title, e.Detail, e.Code, e.RequestID = x.Title, x.Detail, x.Code, x.RequestID
		}
		return resp.StatusCode, e
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decoding the answer: %w", err)
		}
	}
	return resp.StatusCode, nil
}

// ExplainPath is where ingot explains an allocation-candidates query
// (placementapi.ExplainPath).
const ExplainPath = "/v1/allocation_candidates/explain"

// ExplainCandidates asks why the allocation-candidates query (a GET
// /allocation_candidates query string) gets the candidates it gets, at the Placement
// microversion given ("1.39", "latest"; empty: PlacementVersion's), and decodes the answer
// into out. An error answer is an *Error.
func (c *Client) ExplainCandidates(ctx context.Context, query, microversion string, out any) error {
	h := c.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if microversion == "" {
		h.Set("OpenStack-API-Version", PlacementVersion)
	} else {
		h.Set("OpenStack-API-Version", "placement "+microversion)
	}
	cc := *c
	cc.Header = h
	_, err := cc.do(ctx, http.MethodGet, c.URL+ExplainPath+"?"+query, nil, out)
	return err
}
