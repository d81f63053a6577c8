package ironic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxLimit is the page size the client asks for by default: Ironic's default [api]
// max_limit, above which it silently caps the page.
const MaxLimit = 1000

// DefaultFields are the node fields a listing asks for when ListOptions.Fields is nil:
// what the Placement sync needs (Nova's _NODE_FIELDS plus partitioning and tenancy),
// without the large instance_info and driver_internal_info. Fields the negotiated version
// does not have are left out of a default listing.
var DefaultFields = []string{
	"uuid", "name", "resource_class", "traits",
	"maintenance", "maintenance_reason", "fault",
	"power_state", "target_power_state",
	"provision_state", "target_provision_state", "provision_updated_at", "last_error",
	"instance_uuid", "reservation", "conductor_group", "owner", "lessee", "shard",
	"protected", "retired", "properties",
}

// ListOptions selects nodes and fields for ListNodes and Nodes. Every filter is sent on
// every page.
type ListOptions struct {
	// Fields to return; "uuid" is always added. Nil means DefaultFields. A field the
	// negotiated version lacks fails the listing with ErrUnsupported.
	Fields []string
	// Limit is the page size; zero means MaxLimit. Ironic caps it at its max_limit.
	Limit int

	// ConductorGroup keeps nodes of this conductor group (1.46). It is lowercased, as
	// Ironic stores groups lowercase and compares case-sensitively.
	ConductorGroup string
	// Shards keeps nodes in any of these shards (1.82).
	Shards []string
	// Owner and Lessee keep nodes with this owner (1.50) or lessee (1.65).
	Owner, Lessee string

	ResourceClass  string
	ProvisionState string // one state; Ironic accepts no list here
	Maintenance    *bool
	Associated     *bool // true: nodes with an instance_uuid; false: without
}

// ListNodes returns every node that matches opts, reading all pages. Any failure on any
// page fails the whole listing with no partial result, so an unreachable Ironic is never
// mistaken for an empty one. A filter the negotiated version cannot apply fails with
// ErrUnsupported before any request. Idempotent; each page is retried on its own.
func (c *Client) ListNodes(ctx context.Context, opts ListOptions) ([]Node, error) {
	var nodes []Node
	for n, err := range c.Nodes(ctx, opts) {
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// Nodes iterates over the nodes that match opts, page by page, asking for the next page
// only when the previous one has been consumed. A failure is yielded once, as the last
// pair, with a zero Node; the nodes yielded before it are then not the full set. See
// ListNodes for the rules.
//
// Paging is by marker: each page asks for the nodes after the last UUID of the previous
// one, sorted by Ironic's internal id, with every filter re-sent. If the marker node was
// deleted between two pages (Ironic answers 404), the listing resumes from an earlier node
// of the previous page and skips what it has already yielded.
func (c *Client) Nodes(ctx context.Context, opts ListOptions) iter.Seq2[Node, error] {
	return func(yield func(Node, error) bool) {
		if err := c.listNodes(ctx, opts, yield); err != nil {
			yield(Node{}, err)
		}
	}
}

// listNodes runs the paging loop. It returns the error to yield, or nil after the last
// page or when the consumer stopped.
func (c *Client) listNodes(ctx context.Context, opts ListOptions, yield func(Node, error) bool) error {
	v, err := c.negotiated(ctx)
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	q, err := listQuery(v, opts)
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	if c.requireListAll && v.HasLessee() {
		if err := c.checkListAll(ctx, v); err != nil {
			return fmt.Errorf("list nodes: %w", err)
		}
	}
	limit, _ := strconv.Atoi(q.Get("limit"))

	var (
		marker   string
		prev     []string            // UUIDs of the previous page, in order
		seen     map[string]struct{} // UUIDs of the previous page, when resuming
		resumeAt = -1                // index in prev of the fallback marker in use
	)
	for page := 1; ; page++ {
		if marker != "" {
			q.Set("marker", marker)
		} else {
			q.Del("marker")
		}
		nodes, next, err := c.listPage(ctx, v, q, limit)
		if err != nil {
			if errors.Is(err, ErrNotFound) && marker != "" {
				// The marker node is gone. Resume from the node before it.
				if resumeAt == -1 {
					resumeAt = len(prev) - 1
				}
				resumeAt--
				if resumeAt >= 0 {
					marker = prev[resumeAt]
					if seen == nil {
						seen = make(map[string]struct{}, len(prev))
						for _, u := range prev {
							seen[u] = struct{}{}
						}
					}
					page--
					continue
				}
			}
			return fmt.Errorf("list nodes: page %d: %w", page, err)
		}
		fetched := nodes
		if seen != nil {
			nodes = slices.DeleteFunc(slices.Clone(nodes), func(n Node) bool { _, ok := seen[n.UUID]; return ok })
			seen, resumeAt = nil, -1
		}
		for _, n := range nodes {
			if !yield(n, nil) {
				return nil
			}
		}
		// Ironic emits "next" exactly when the page is full (its own limit may be lower
		// than ours); an empty page ends the listing either way.
		if len(fetched) == 0 || (len(fetched) < limit && next == "") {
			return nil
		}
		last := fetched[len(fetched)-1].UUID
		if last == "" || last == marker {
			return fmt.Errorf("list nodes: page %d: marker did not advance", page)
		}
		prev = prev[:0]
		for _, n := range fetched {
			prev = append(prev, n.UUID)
		}
		marker = last
	}
}

// listQuery builds the query sent with every page.
func listQuery(v Version, o ListOptions) (url.Values, error) {
	var fields []string
	if o.Fields == nil {
		for _, f := range DefaultFields {
			if v.allowsField(f) {
				fields = append(fields, f)
			}
		}
	} else {
		f, err := checkFields(v, o.Fields)
		if err != nil {
			return nil, err
		}
		fields = f
	}
	limit := o.Limit
	if limit <= 0 {
		limit = MaxLimit
	}
	q := url.Values{
		"fields":   {strings.Join(fields, ",")},
		"limit":    {strconv.Itoa(limit)},
		"sort_key": {"id"},
		"sort_dir": {"asc"},
	}
	need := func(ok bool, what string, min Version) error {
		if ok {
			return nil
		}
		return fmt.Errorf("%s filter needs microversion %s, negotiated %s: %w", what, min, v, ErrUnsupported)
	}
	var errs []error
	if o.ConductorGroup != "" {
		errs = append(errs, need(v.HasConductorGroup(), "conductor_group", versionConductorGroup))
		q.Set("conductor_group", strings.ToLower(o.ConductorGroup))
	}
	if len(o.Shards) > 0 {
		errs = append(errs, need(v.HasShard(), "shard", versionShard))
		q.Set("shard", strings.Join(o.Shards, ","))
	}
	if o.Owner != "" {
		errs = append(errs, need(v.HasOwner(), "owner", versionOwner))
		q.Set("owner", o.Owner)
	}
	if o.Lessee != "" {
		errs = append(errs, need(v.HasLessee(), "lessee", versionLessee))
		q.Set("lessee", o.Lessee)
	}
	if o.ResourceClass != "" {
		q.Set("resource_class", o.ResourceClass)
	}
	if o.ProvisionState != "" {
		errs = append(errs, need(v.AtLeast(versionProvisionFilter), "provision_state", versionProvisionFilter))
		q.Set("provision_state", o.ProvisionState)
	}
	if o.Maintenance != nil {
		q.Set("maintenance", strconv.FormatBool(*o.Maintenance))
	}
	if o.Associated != nil {
		q.Set("associated", strconv.FormatBool(*o.Associated))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return q, nil
}

// checkFields returns fields with "uuid" first and no duplicates, or ErrUnsupported when
// the negotiated version lacks one of them.
func checkFields(v Version, fields []string) ([]string, error) {
	out := make([]string, 0, len(fields)+1)
	out = append(out, "uuid")
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" || slices.Contains(out, f) {
			continue
		}
		if !v.allowsField(f) {
			return nil, fmt.Errorf("field %s needs microversion %s, negotiated %s: %w",
				f, fieldVersions[f], v, ErrUnsupported)
		}
		out = append(out, f)
	}
	return out, nil
}

// listAllProbe is the project a list_all check filters on: one that owns no node.
const listAllProbe = "ingot-list-all-check"

// checkListAll asks Ironic whether the caller may list every project's nodes: a listing
// filtered on a project not the caller's is refused 403 without Ironic's
// baremetal:node:list_all (api/controllers/v1/utils.py check_list_policy), and answered
// (with no nodes) with it. An unfiltered listing without list_all is not refused but
// silently cut down to the caller's own project's nodes. Needs the project filter (1.65).
func (c *Client) checkListAll(ctx context.Context, v Version) error {
	q := url.Values{"project": {listAllProbe}, "fields": {"uuid"}, "limit": {"1"}}
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/nodes", query: q, idempotent: true, version: v}, nil)
	if e, ok := errors.AsType[*Error](err); ok && e.StatusCode == http.StatusForbidden {
		return fmt.Errorf("the caller may see only its own project's nodes, not every node (Ironic's "+
			"baremetal:node:list_all; give ingot's Keystone user the admin role, or the service role with "+
			"Ironic's rbac_service_role_elevated_access): %w", err)
	}
	if err != nil {
		return fmt.Errorf("checking that every node is visible: %w", err)
	}
	return nil
}

// listPage fetches one page of at most limit nodes, decoding the nodes as they stream in.
func (c *Client) listPage(ctx context.Context, v Version, q url.Values, limit int) ([]Node, string, error) {
	nodes, next, _, err := c.listPageAt(ctx, v, q, limit)
	return nodes, next, err
}

// listPageAt is listPage that also returns the answer's Date header (the server's clock,
// to the second; zero when absent or malformed).
func (c *Client) listPageAt(ctx context.Context, v Version, q url.Values, limit int) ([]Node, string, time.Time, error) {
	var (
		nodes = make([]Node, 0, min(limit, MaxLimit))
		next  string
		date  time.Time
	)
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/nodes", query: q, idempotent: true, version: v},
		func(resp *http.Response) error {
			nodes, next = nodes[:0], ""
			date, _ = http.ParseTime(resp.Header.Get("Date"))
			return decodeNodePage(json.NewDecoder(resp.Body), &nodes, &next)
		})
	if err != nil {
		return nil, "", time.Time{}, err
	}
	return nodes, next, date, nil
}

// decodeNodePage reads {"nodes": [...], "next": "..."} one node at a time, so a page of
// 1000 nodes is never held as raw JSON or as a generic tree.
func decodeNodePage(dec *json.Decoder, nodes *[]Node, next *string) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch key {
		case "nodes":
			if err := expectDelim(dec, '['); err != nil {
				return err
			}
			for dec.More() {
				var w nodeJSON
				if err := dec.Decode(&w); err != nil {
					return err
				}
				*nodes = append(*nodes, w.node())
			}
			if err := expectDelim(dec, ']'); err != nil {
				return err
			}
		case "next":
			var s *string
			if err := dec.Decode(&s); err != nil {
				return err
			}
			if s != nil {
				*next = *s
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
		}
	}
	return expectDelim(dec, '}')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}
