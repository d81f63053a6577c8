package ironic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Allocation states.
const (
	AllocationAllocating = "allocating"
	AllocationActive     = "active"
	AllocationError      = "error"
)

// Allocation is a request to Ironic's own scheduler (1.52): Ironic picks an available node
// of the resource class with the traits, sets its instance_uuid to the allocation's UUID,
// and moves the allocation from allocating to active (with NodeUUID) or to error (with
// LastError). ingot does not schedule this way; the end-to-end benchmark compares with it.
type Allocation struct {
	UUID           string
	Name           string
	State          string // AllocationAllocating, AllocationActive or AllocationError
	NodeUUID       string
	LastError      string
	ResourceClass  string
	Traits         []string
	CandidateNodes []string // UUIDs, as Ironic resolved them
	Owner          string
	Extra          map[string]any
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// AllocationCreate is the body of CreateAllocation.
type AllocationCreate struct {
	UUID          string `json:"uuid,omitempty"`
	Name          string `json:"name,omitempty"`
	ResourceClass string `json:"resource_class,omitempty"` // required unless Node is set
	// Traits must all be on the chosen node.
	Traits []string `json:"traits,omitempty"`
	// CandidateNodes restricts the choice to these node UUIDs or names.
	CandidateNodes []string       `json:"candidate_nodes,omitempty"`
	Owner          string         `json:"owner,omitempty"` // 1.60: only nodes owned by or leased to it
	Extra          map[string]any `json:"extra,omitempty"`
	Node           string         `json:"node,omitempty"` // 1.58: backfill an active node
}

type allocationJSON struct {
	UUID           string         `json:"uuid"`
	Name           string         `json:"name"`
	State          string         `json:"state"`
	NodeUUID       string         `json:"node_uuid"`
	LastError      string         `json:"last_error"`
	ResourceClass  string         `json:"resource_class"`
	Traits         []string       `json:"traits"`
	CandidateNodes []string       `json:"candidate_nodes"`
	Owner          string         `json:"owner"`
	Extra          map[string]any `json:"extra"`
	CreatedAt      ironicTime     `json:"created_at"`
	UpdatedAt      ironicTime     `json:"updated_at"`
}

func (w *allocationJSON) allocation() Allocation {
	return Allocation{
		UUID: w.UUID, Name: w.Name, State: w.State, NodeUUID: w.NodeUUID, LastError: w.LastError,
		ResourceClass: w.ResourceClass, Traits: w.Traits, CandidateNodes: w.CandidateNodes,
		Owner: w.Owner, Extra: w.Extra,
		CreatedAt: time.Time(w.CreatedAt), UpdatedAt: time.Time(w.UpdatedAt),
	}
}

func allocationPath(id string) string { return "/v1/allocations/" + url.PathEscape(id) }

// allocationVersion returns the negotiated version if it has the allocation API.
func (c *Client) allocationVersion(ctx context.Context) (Version, error) {
	v, err := c.negotiated(ctx)
	if err != nil {
		return Version{}, err
	}
	if !v.HasAllocations() {
		return Version{}, fmt.Errorf("the allocation API needs microversion %s, negotiated %s: %w",
			versionAllocations, v, ErrUnsupported)
	}
	return v, nil
}

// CreateAllocation asks Ironic to allocate a node (201, state allocating); poll
// GetAllocation until it is active or error. Errors: ErrInvalid (no resource class, bad
// trait); ErrConflict (name or UUID taken); ErrUnsupported (owner before 1.60, node
// before 1.58). Not idempotent unless a UUID is given.
func (c *Client) CreateAllocation(ctx context.Context, a AllocationCreate) (Allocation, error) {
	v, err := c.allocationVersion(ctx)
	if err == nil && a.Owner != "" && !v.AtLeast(versionAllocationOwner) {
		err = fmt.Errorf("allocation owner needs microversion %s, negotiated %s: %w", versionAllocationOwner, v, ErrUnsupported)
	}
	if err == nil && a.Node != "" && !v.AtLeast(versionAllocationNode) {
		err = fmt.Errorf("allocation backfill needs microversion %s, negotiated %s: %w", versionAllocationNode, v, ErrUnsupported)
	}
	if err != nil {
		return Allocation{}, fmt.Errorf("create allocation %s: %w", a.Name, err)
	}
	var w allocationJSON
	err = c.do(ctx, request{method: http.MethodPost, path: "/v1/allocations", body: a, version: v,
		idempotent: a.UUID != ""}, decodeInto(&w))
	if err != nil {
		return Allocation{}, fmt.Errorf("create allocation %s: %w", a.Name, err)
	}
	return w.allocation(), nil
}

// GetAllocation returns the allocation with this UUID or name. Errors: ErrNotFound.
// Idempotent.
func (c *Client) GetAllocation(ctx context.Context, id string) (Allocation, error) {
	v, err := c.allocationVersion(ctx)
	if err != nil {
		return Allocation{}, fmt.Errorf("get allocation %s: %w", id, err)
	}
	var w allocationJSON
	err = c.do(ctx, request{method: http.MethodGet, path: allocationPath(id), idempotent: true, version: v}, decodeInto(&w))
	if err != nil {
		return Allocation{}, fmt.Errorf("get allocation %s: %w", id, err)
	}
	return w.allocation(), nil
}

// DeleteAllocation deletes the allocation and, if it holds a node that is not deployed,
// clears the node's instance_uuid. Errors: ErrNotFound; ErrConflict (the node is active
// and not in maintenance, or locked). A repeat gets ErrNotFound.
func (c *Client) DeleteAllocation(ctx context.Context, id string) error {
	v, err := c.allocationVersion(ctx)
	if err != nil {
		return fmt.Errorf("delete allocation %s: %w", id, err)
	}
	if err := c.do(ctx, request{method: http.MethodDelete, path: allocationPath(id), version: v}, nil); err != nil {
		return fmt.Errorf("delete allocation %s: %w", id, err)
	}
	return nil
}

// AllocationListOptions filters ListAllocations.
type AllocationListOptions struct {
	Node          string // node UUID or name
	ResourceClass string
	State         string
	Owner         string // 1.60
	Limit         int    // page size; zero means MaxLimit
}

// ListAllocations returns every allocation that matches opts, paging by marker with the
// filters re-sent on every page. Any failure fails the whole listing. Idempotent.
func (c *Client) ListAllocations(ctx context.Context, opts AllocationListOptions) ([]Allocation, error) {
	v, err := c.allocationVersion(ctx)
	if err == nil && opts.Owner != "" && !v.AtLeast(versionAllocationOwner) {
		err = fmt.Errorf("owner filter needs microversion %s, negotiated %s: %w", versionAllocationOwner, v, ErrUnsupported)
	}
	if err != nil {
		return nil, fmt.Errorf("list allocations: %w", err)
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = MaxLimit
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}, "sort_key": {"id"}, "sort_dir": {"asc"}}
	for k, val := range map[string]string{"node": opts.Node, "resource_class": opts.ResourceClass,
		"state": opts.State, "owner": opts.Owner} {
		if val != "" {
			q.Set(k, val)
		}
	}
	var out []Allocation
	for page := 1; ; page++ {
		var body struct {
			Allocations []allocationJSON `json:"allocations"`
			Next        string           `json:"next"`
		}
		err := c.do(ctx, request{method: http.MethodGet, path: "/v1/allocations", query: q, idempotent: true, version: v},
			decodeInto(&body))
		if err != nil {
			return nil, fmt.Errorf("list allocations: page %d: %w", page, err)
		}
		for i := range body.Allocations {
			out = append(out, body.Allocations[i].allocation())
		}
		if len(body.Allocations) < limit && body.Next == "" || len(body.Allocations) == 0 {
			return out, nil
		}
		last := body.Allocations[len(body.Allocations)-1].UUID
		if last == "" || last == q.Get("marker") {
			return nil, errors.New("list allocations: marker did not advance")
		}
		q.Set("marker", last)
	}
}
