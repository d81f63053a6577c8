package instanceapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"ingot/internal/baremetal"
	"ingot/internal/placement"
	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store"
)

// Paging of GET /v1/instances.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// listParams are the query parameters of GET /v1/instances.
var listParams = []string{"state", "project_id", "node", "name", "limit", "marker"}

// list serves GET /v1/instances. Callers allowed ingot:instance:list:all_projects see
// every project (or the one project_id names); the others see their own project's
// instances, and asking for another project is refused.
func (rq *request) list() error {
	q := rq.r.URL.Query()
	for k := range q {
		if !slices.Contains(listParams, k) {
			return badRequest("Invalid query string: unknown parameter %q; known: %s.",
				placementapi.TruncateText(k, maxEcho), strings.Join(listParams, ", "))
		}
	}
	f := store.InstanceFilter{ProjectID: q.Get("project_id"), Node: q.Get("node"), Name: q.Get("name"), Limit: DefaultLimit}
	own := rq.creds.ProjectID
	if err := rq.authorize(policy.InstanceListAllProjects, f.ProjectID); err != nil {
		if err := rq.authorize(policy.InstanceList, own); err != nil {
			return err
		}
		if f.ProjectID != "" && f.ProjectID != own {
			return err403(policy.InstanceListAllProjects)
		}
		f.ProjectID = own
	}
	for _, v := range q["state"] {
		for _, s := range strings.Split(v, ",") {
			st := baremetal.State(strings.TrimSpace(s))
			if !st.Valid() {
				return badRequest("Invalid state %q: one of building, active, deleting, error, deleted.",
					placementapi.TruncateText(s, maxEcho))
			}
			f.States = append(f.States, st)
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return badRequest("Invalid limit %q: an integer from 1 to %d.", placementapi.TruncateText(v, maxEcho), MaxLimit)
		}
		f.Limit = n
	}
	if m := q.Get("marker"); m != "" {
		u, ok := placementapi.CanonicalUUID(m)
		if !ok {
			return badRequest("Invalid marker %q: not an instance UUID.", placementapi.TruncateText(m, maxEcho))
		}
		f.Marker = u
	}
	limit := f.Limit
	f.Limit++ // one more tells whether a next page exists
	ins, err := rq.h.db.ListInstances(rq.ctx, f)
	if err != nil {
		return err
	}
	out := List{Instances: make([]Instance, 0, min(len(ins), limit)), Links: []Link{}}
	for i, in := range ins {
		if i == limit {
			next := url.Values{}
			for k, vs := range q {
				if k != "marker" && k != "limit" {
					next[k] = vs
				}
			}
			next.Set("limit", strconv.Itoa(limit))
			next.Set("marker", ins[limit-1].UUID)
			out.Links = append(out.Links, Link{Rel: "next", Href: rq.url(Prefix + "?" + next.Encode())})
			break
		}
		out.Instances = append(out.Instances, Wire(in, rq.url(Prefix+"/"+in.UUID), false))
	}
	return rq.send(http.StatusOK, out)
}

// err403 is the policy's refusal of rule.
func err403(rule string) error { return &policy.Denied{Rule: rule} }

// load reads the instance that id names, after checking id is a UUID.
func (rq *request) load(id string) (baremetal.Instance, error) {
	u, ok := placementapi.CanonicalUUID(id)
	if !ok {
		return baremetal.Instance{}, badRequest("Invalid instance UUID %q.", placementapi.TruncateText(id, maxEcho))
	}
	return rq.h.db.Instance(rq.ctx, u)
}

// show serves GET /v1/instances/{uuid}. Deleted instances are shown too, until their
// records are purged.
func (rq *request) show(id string) error {
	in, err := rq.load(id)
	if err != nil {
		return err
	}
	if err := rq.authorizeInstance(policy.InstanceShow, in); err != nil {
		return err
	}
	return rq.send(http.StatusOK, Wire(in, rq.url(Prefix+"/"+in.UUID), true))
}

// authorizeInstance checks rule for in. A caller refused an instance of another project
// is told it does not exist (404), as Nova answers, so instance UUIDs cannot be probed
// across projects; a caller refused within its own project gets the 403.
func (rq *request) authorizeInstance(rule string, in baremetal.Instance) error {
	err := rq.authorize(rule, in.ProjectID)
	if err != nil && rq.creds.ProjectID != in.ProjectID {
		return placement.NotFoundf("Instance %s could not be found.", in.UUID)
	}
	return err
}

// delete serves DELETE /v1/instances/{uuid}: the instance moves to deleting (202 with the
// instance). An instance already deleting is answered the same way without a write; a
// deleted one is a 404.
func (rq *request) delete(id string) error {
	in, err := rq.load(id)
	if err != nil {
		return err
	}
	if err := rq.authorizeInstance(policy.InstanceDelete, in); err != nil {
		return err
	}
	switch in.State {
	case baremetal.StateDeleted:
		return placement.NotFoundf("Instance %s is deleted.", in.UUID)
	case baremetal.StateDeleting:
		return rq.send(http.StatusAccepted, Wire(in, rq.url(Prefix+"/"+in.UUID), true))
	}
	// One write, whatever the controller writes meanwhile (no compare-and-swap to lose).
	out, err := rq.h.db.DeleteInstance(rq.ctx, in.UUID)
	if err != nil {
		return err
	}
	rq.h.notify()
	return rq.send(http.StatusAccepted, Wire(out, rq.url(Prefix+"/"+out.UUID), true))
}
