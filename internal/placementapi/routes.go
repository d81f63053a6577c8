package placementapi

import (
	"net/http"
	"strings"

	"ingot/internal/microversion"
	"ingot/internal/policy"
)

// endpoint is one method on one route, with the checks upstream's decorators apply before
// the handler runs.
type endpoint struct {
	method string
	h      handlerFunc
	// min and max bound the microversions the endpoint exists at (zero: unbounded); outside
	// them the request gets belowMin (404 unless set).
	min, max microversion.Version
	belowMin int
	// body requires Content-Type application/json (else 415).
	body bool
	// accept requires an Accept header that allows application/json (else 406).
	accept bool
	// rule is the policy rule that must allow the caller; target builds its target.
	rule   string
	target func(*request) policy.Target
	route  *route
}

type route struct {
	path      string   // the template, e.g. "/resource_providers/{uuid}" (metrics, logs)
	segments  []string // "{name}" segments capture a parameter
	endpoints []*endpoint
}

func v(minor int) microversion.Version { return microversion.V(1, minor) }

// routeTable lists every route of the Placement API.
func (s *Server) routeTable() []*route {
	type ep = endpoint
	table := []struct {
		path string
		eps  []*endpoint
	}{
		{"/", []*ep{
			{method: "GET", h: s.handleGetRoot},
		}},
		{"/resource_providers", []*ep{
			{method: "GET", h: s.handleListProviders, accept: true, rule: policy.ResourceProvidersList},
			{method: "POST", h: s.handleCreateProvider, body: true, rule: policy.ResourceProvidersCreate},
		}},
		{"/resource_providers/{uuid}", []*ep{
			{method: "GET", h: s.handleGetProvider, accept: true, rule: policy.ResourceProvidersShow},
			{method: "DELETE", h: s.handleDeleteProvider, rule: policy.ResourceProvidersDelete},
			{method: "PUT", h: s.handleUpdateProvider, body: true, rule: policy.ResourceProvidersUpdate},
		}},
		{"/resource_providers/{uuid}/inventories", []*ep{
			{method: "GET", h: s.handleGetInventories, accept: true, rule: policy.InventoriesList},
			{method: "POST", h: s.handleCreateInventory, body: true, rule: policy.InventoriesCreate},
			{method: "PUT", h: s.handleSetInventories, body: true, rule: policy.InventoriesUpdate},
			{method: "DELETE", h: s.handleDeleteInventories, min: v(5), belowMin: http.StatusMethodNotAllowed, rule: policy.InventoriesDelete},
		}},
		{"/resource_providers/{uuid}/inventories/{resource_class}", []*ep{
			{method: "GET", h: s.handleGetInventory, accept: true, rule: policy.InventoriesShow},
			{method: "PUT", h: s.handleUpdateInventory, body: true, rule: policy.InventoriesUpdate},
			{method: "DELETE", h: s.handleDeleteInventory, rule: policy.InventoriesDelete},
		}},
		{"/resource_providers/{uuid}/usages", []*ep{
			{method: "GET", h: s.handleProviderUsages, accept: true, rule: policy.ResourceProviderUsages},
		}},
		{"/resource_providers/{uuid}/aggregates", []*ep{
			{method: "GET", h: s.handleGetAggregates, min: v(1), accept: true, rule: policy.AggregatesList},
			{method: "PUT", h: s.handleSetAggregates, min: v(1), body: true, rule: policy.AggregatesUpdate},
		}},
		{"/resource_providers/{uuid}/allocations", []*ep{
			{method: "GET", h: s.handleProviderAllocations, accept: true, rule: policy.ResourceProviderAllocationsList},
		}},
		{"/allocations", []*ep{
			{method: "POST", h: s.handlePostAllocations, min: v(13), body: true, rule: policy.AllocationsManage},
		}},
		{"/allocations/{consumer_uuid}", []*ep{
			{method: "GET", h: s.handleGetAllocations, accept: true, rule: policy.AllocationsList},
			{method: "PUT", h: s.handlePutAllocations, body: true, rule: policy.AllocationsUpdate},
			{method: "DELETE", h: s.handleDeleteAllocations, rule: policy.AllocationsDelete},
		}},
		{"/allocation_candidates", []*ep{
			{method: "GET", h: s.handleAllocationCandidates, min: v(10), accept: true, rule: policy.AllocationCandidatesList},
		}},
		{"/traits", []*ep{
			{method: "GET", h: s.handleListTraits, min: v(6), accept: true, rule: policy.TraitsList},
		}},
		{"/traits/{name}", []*ep{
			{method: "GET", h: s.handleGetTrait, min: v(6), rule: policy.TraitsShow},
			{method: "PUT", h: s.handlePutTrait, min: v(6), rule: policy.TraitsUpdate},
			{method: "DELETE", h: s.handleDeleteTrait, min: v(6), rule: policy.TraitsDelete},
		}},
		{"/resource_providers/{uuid}/traits", []*ep{
			{method: "GET", h: s.handleGetProviderTraits, min: v(6), accept: true, rule: policy.ResourceProviderTraitsList},
			{method: "PUT", h: s.handleSetProviderTraits, min: v(6), body: true, rule: policy.ResourceProviderTraitsUpdate},
			{method: "DELETE", h: s.handleDeleteProviderTraits, min: v(6), rule: policy.ResourceProviderTraitsDelete},
		}},
		{"/resource_classes", []*ep{
			{method: "GET", h: s.handleListClasses, min: v(2), accept: true, rule: policy.ResourceClassesList},
			{method: "POST", h: s.handleCreateClass, min: v(2), body: true, rule: policy.ResourceClassesCreate},
		}},
		{"/resource_classes/{name}", []*ep{
			{method: "GET", h: s.handleGetClass, min: v(2), accept: true, rule: policy.ResourceClassesShow},
			{method: "PUT", h: s.handlePutClass, min: v(2), rule: policy.ResourceClassesUpdate},
			{method: "DELETE", h: s.handleDeleteClass, min: v(2), rule: policy.ResourceClassesDelete},
		}},
		{"/usages", []*ep{
			{method: "GET", h: s.handleTotalUsages, min: v(9), accept: true, rule: policy.TotalUsages, target: usagesTarget},
		}},
		{"/reshaper", []*ep{
			{method: "POST", h: s.handleReshape, min: v(30), body: true, rule: policy.Reshape},
		}},
	}
	routes := make([]*route, 0, len(table))
	for _, t := range table {
		rt := &route{path: t.path, segments: splitPath(t.path), endpoints: t.eps}
		for _, ep := range t.eps {
			ep.route = rt
		}
		routes = append(routes, rt)
	}
	return routes
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match finds the endpoint for method and path: an unknown path is 404, a known path with
// another method 405 with an Allow header.
func (s *Server) match(method, path string) (*endpoint, map[string]string, error) {
	segs := splitPath(path)
	if strings.HasSuffix(path, "/") && len(segs) > 0 {
		return nil, nil, errorf(http.StatusNotFound, "The resource could not be found.")
	}
	for _, rt := range s.routes {
		params, ok := rt.match(segs)
		if !ok {
			continue
		}
		for _, ep := range rt.endpoints {
			if ep.method == method {
				return ep, params, nil
			}
		}
		return nil, nil, s.methodNotAllowedErr(method, rt)
	}
	return nil, nil, errorf(http.StatusNotFound, "The resource could not be found.")
}

// routeTemplate returns the template of the route path belongs to, whatever the method,
// or "other" when no route has it: a bounded label for requests that were not routed (a
// 401, a 404, a CORS preflight).
func (s *Server) routeTemplate(path string) string {
	segs := splitPath(path)
	if !(strings.HasSuffix(path, "/") && len(segs) > 0) {
		for _, rt := range s.routes {
			if rt.matches(segs) {
				return rt.path
			}
		}
	}
	return "other"
}

// matches is match without collecting parameters.
func (rt *route) matches(segs []string) bool {
	if len(segs) != len(rt.segments) {
		return false
	}
	for i, s := range rt.segments {
		if strings.HasPrefix(s, "{") {
			if segs[i] == "" {
				return false
			}
		} else if s != segs[i] {
			return false
		}
	}
	return true
}

func (rt *route) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.segments) {
		return nil, false
	}
	var params map[string]string
	for i, s := range rt.segments {
		if strings.HasPrefix(s, "{") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s[1:len(s)-1]] = segs[i]
			continue
		}
		if s != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// allowError is a 405 that also sets the Allow header.
type allowError struct {
	*apiError
	allow string
}

func (e *allowError) Unwrap() error { return e.apiError }

func (s *Server) methodNotAllowedErr(method string, rt *route) error {
	methods := make([]string, len(rt.endpoints))
	for i, ep := range rt.endpoints {
		methods[i] = ep.method
	}
	return &allowError{
		apiError: &apiError{status: http.StatusMethodNotAllowed,
			explanation: "The method " + method + " is not allowed for this resource. ",
			detail:      "The method specified is not allowed for this resource."},
		allow: strings.Join(methods, ", "),
	}
}

func (s *Server) methodNotAllowed(rq *request, rt *route) error {
	return s.methodNotAllowedErr(rq.r.Method, rt)
}

func usagesTarget(rq *request) policy.Target {
	t := policy.Target{}
	if vs := rq.r.URL.Query()["project_id"]; len(vs) > 0 {
		t["project_id"] = vs[len(vs)-1]
	}
	return t
}
