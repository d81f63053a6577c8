package placementapi

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"ingot/internal/candidates"
	"ingot/internal/fleet"
	js "ingot/internal/jsonschema"
	"ingot/internal/placement"
)

// CandidateOptions tune GET /allocation_candidates.
type CandidateOptions struct {
	// Max stops the search after this many candidates (0: no cap), as upstream's
	// [placement] max_allocation_candidates.
	Max int
	// Randomize returns a random sample (or order), as randomize_allocation_candidates.
	Randomize bool
	// DepthFirst exhausts one tree before the next; the default takes one candidate from
	// each tree in turn (upstream's breadth-first strategy), which spreads a limited answer
	// over many hosts.
	DepthFirst bool
}

// queryItem is one key=value of the query string, in order.
type queryItem struct{ key, value string }

// orderedQuery parses a raw query string keeping order and repeats, as webob's GET
// MultiDict does.
func orderedQuery(raw string) []queryItem {
	var items []queryItem
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue // net/url's Query drops these too
		}
		items = append(items, queryItem{key, val})
	}
	return items
}

var (
	groupKey133 = regexp.MustCompile(`^(resources|required|member_of|in_tree)([a-zA-Z0-9_-]{1,64})?$`)
	groupKey    = regexp.MustCompile(`^(resources|required|member_of|in_tree)([1-9][0-9]*)?$`)
)

// parsedGroup is a request group before names are resolved.
type parsedGroup struct {
	suffix        string
	resources     map[string]int64
	resourceOrder []string
	traits        traitQuery
	aggs          aggregateQuery
	inTree        string
}

func (s *Server) handleAllocationCandidates(rq *request) error {
	view, req, requested, err := s.candidatesQuery(rq)
	if err != nil {
		return err
	}
	if req.Limit == 0 {
		return s.sendAllCandidates(rq, view, req, requested)
	}
	if s.candidates.Randomize {
		req.Random = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	res := candidates.Find(view, req)
	if res.Truncated() {
		s.warnTruncated(rq, len(res.Candidates))
	}
	body := renderCandidates(view, res, requested, rq.v)
	s.candidateMetrics.Observe(time.Since(rq.start), len(res.Candidates))
	return rq.sendRawJSON(http.StatusOK, body, time.Time{})
}

// candidatesQuery validates a GET /allocation_candidates query as upstream does and
// resolves it on the latest view: the search's request (without randomization) and the
// classes requested. The explain call (explain.go) shares it.
func (s *Server) candidatesQuery(rq *request) (*fleet.View, candidates.Request, map[int64]bool, error) {
	fail := func(err error) (*fleet.View, candidates.Request, map[int64]bool, error) {
		return nil, candidates.Request{}, nil, err
	}
	if err := rq.validateQuery(candidatesSchema(rq.v)); err != nil {
		return fail(err)
	}
	items := orderedQuery(rq.r.URL.RawQuery)
	values := func(key string) []string {
		var vs []string
		for _, it := range items {
			if it.key == key {
				vs = append(vs, it.value)
			}
		}
		return vs
	}
	req := candidates.Request{NestedAware: rq.v.at(29)}
	if limit := values("limit"); len(limit) > 0 {
		n, _ := strconv.Atoi(limit[0]) // the schema checked it is a positive integer
		req.Limit = n
	}
	groupPolicy := ""
	if gp := values("group_policy"); len(gp) > 0 {
		groupPolicy = gp[0]
	}
	req.Isolate = groupPolicy == "isolate"
	var rootRequired, rootForbidden []string
	if rr := values("root_required"); len(rr) > 0 {
		if len(rr) > 1 {
			return fail(withCode(badRequest("Query parameter 'root_required' may be specified only once."), placement.CodeQueryDuplicateKey))
		}
		anyOf, forbidden, err := parseTraitValue(rr[0], true, false)
		if err != nil {
			return fail(err)
		}
		for _, set := range anyOf {
			rootRequired = append(rootRequired, set...)
		}
		rootForbidden = forbidden
		var conflicts []string
		for _, f := range forbidden {
			for _, r := range rootRequired {
				if r == f {
					conflicts = append(conflicts, f)
				}
			}
		}
		if len(conflicts) > 0 {
			return fail(withCode(badRequest("Conflicting required and forbidden traits found in root_required: %s", strings.Join(conflicts, ", ")), placement.CodeQueryBadValue))
		}
	}
	var subtreeSuffixes []string
	for _, val := range values("same_subtree") {
		var set []string
		for _, sfx := range strings.Split(val, ",") {
			sfx = strings.TrimSpace(sfx)
			if sfx == "" {
				return fail(withCode(badRequest("Empty string (unsuffixed group) can not be specified in `same_subtree` "), placement.CodeQueryBadValue))
			}
			if !contains(set, sfx) {
				set = append(set, sfx)
			}
		}
		req.SameSubtree = append(req.SameSubtree, set)
		subtreeSuffixes = append(subtreeSuffixes, set...)
	}

	groups, err := parseGroups(items, values, rq.v)
	if err != nil {
		return fail(err)
	}
	if err := checkGroups(groups, subtreeSuffixes, rq.v); err != nil {
		return fail(err)
	}
	if groupPolicy == "" {
		suffixed := 0
		for _, g := range groups {
			if g.suffix != "" {
				suffixed++
			}
		}
		if suffixed > 1 {
			return fail(badRequest(`The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.`))
		}
	}

	view, err := s.db.View(rq.ctx)
	if err != nil {
		return fail(err)
	}
	requested := map[int64]bool{}
	for _, g := range groups {
		cg := candidates.Group{Suffix: g.suffix, MemberOf: g.aggs.anyOf, ForbiddenAggs: g.aggs.forbidden, InTree: g.inTree}
		for _, name := range g.resourceOrder {
			id, ok := view.ClassID(name)
			if !ok {
				return fail(badRequest("Invalid resource class in resources parameter: No such resource class %s.", name))
			}
			cg.Resources = append(cg.Resources, candidates.Amount{Class: id, N: g.resources[name]})
			requested[id] = true
		}
		sort.Slice(cg.Resources, func(i, j int) bool { return cg.Resources[i].Class < cg.Resources[j].Class })
		if cg.Required, cg.Forbidden, err = traitIDs(view, g.traits.anyOf, g.traits.forbidden); err != nil {
			return fail(err)
		}
		req.Groups = append(req.Groups, cg)
	}
	rootSets, rootForbiddenIDs, err := traitIDs(view, singletons(rootRequired), rootForbidden)
	if err != nil {
		return fail(err)
	}
	for _, set := range rootSets {
		req.RootRequired = append(req.RootRequired, set...)
	}
	req.RootForbidden = rootForbiddenIDs
	req.MaxCandidates = s.candidates.Max
	req.BreadthFirst = !s.candidates.DepthFirst
	return view, req, requested, nil
}

// sendAllCandidates answers a request without a limit from the answer cache: the search
// runs once per view and query, and a randomizing server shuffles the cached allocation
// requests for every response (uniformly, as shuffling a fresh search's results does).
func (s *Server) sendAllCandidates(rq *request, view *fleet.View, req candidates.Request, requested map[int64]bool) error {
	key := answerKey{query: rq.r.URL.RawQuery, ver: rq.v}
	ans := s.answers.answer(view, key, func() *encodedAnswer {
		var cm *candidateMemo
		if s.candidates.Randomize {
			// Any order: the responses are shuffled. A generator is still needed, as it
			// marks the search as one whose results are all kept, which lets the search
			// reuse the trees that did not change since the query's last answer.
			req.Random = rand.New(rand.NewPCG(1, 2))
			m := s.answers.memo(key)
			req.Memo, cm = &m.search, &m.cands
		}
		return encodeAnswer(view, candidates.Find(view, req), requested, rq.v, &s.answers.summaries, cm)
	})
	if ans.truncated {
		s.warnTruncated(rq, ans.count())
	}
	s.candidateMetrics.Observe(time.Since(rq.start), ans.count())
	var order []int
	if s.candidates.Randomize {
		order = rand.Perm(ans.count())
	}
	stage := stagePool.Get().(*[]byte)
	defer stagePool.Put(stage)
	rq.startJSON(http.StatusOK, ans.bodyLen(), time.Time{})
	return ans.writeBody(rq.w, order, *stage)
}

func (s *Server) warnTruncated(rq *request, found int) {
	s.log.Warn("allocation candidates search stopped at its step budget; the answer may be incomplete",
		"request_id", rq.id, "query", rq.r.URL.RawQuery, "candidates", found)
}

func singletons(names []string) [][]string {
	out := make([][]string, len(names))
	for i, n := range names {
		out[i] = []string{n}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// traitIDs resolves trait names; unknown names are a 400 naming them all.
func traitIDs(view *fleet.View, anyOf [][]string, forbidden []string) ([][]int64, []int64, error) {
	req, forb, err := view.TraitSets(anyOf, forbidden)
	if err != nil {
		var unknown []string
		for _, set := range anyOf {
			for _, n := range set {
				if _, ok := view.TraitID(n); !ok && !contains(unknown, n) {
					unknown = append(unknown, n)
				}
			}
		}
		for _, n := range forbidden {
			if _, ok := view.TraitID(n); !ok && !contains(unknown, n) {
				unknown = append(unknown, n)
			}
		}
		sort.Strings(unknown)
		return nil, nil, badRequest("No such trait(s): %s.", strings.Join(unknown, ", "))
	}
	return req, forb, nil
}

// parseGroups builds the request groups from the query, in order of first appearance, as
// upstream's RequestGroup.dict_from_request.
func parseGroups(items []queryItem, values func(string) []string, v version) ([]*parsedGroup, error) {
	pattern := groupKey
	if v.at(33) {
		pattern = groupKey133
	}
	var groups []*parsedGroup
	bySuffix := map[string]*parsedGroup{}
	for _, it := range items {
		m := pattern.FindStringSubmatch(it.key)
		if m == nil {
			continue
		}
		prefix, suffix := m[1], m[2]
		g := bySuffix[suffix]
		if g == nil {
			g = &parsedGroup{suffix: suffix}
			bySuffix[suffix] = g
			groups = append(groups, g)
		}
		switch prefix {
		case "resources":
			res, order, err := parseResources(it.value)
			if err != nil {
				return nil, err
			}
			g.resources, g.resourceOrder = res, order
		case "required":
			q, err := parseRequired(values(it.key), v)
			if err != nil {
				return nil, err
			}
			g.traits = q
		case "member_of":
			q, err := parseMemberOf(values(it.key), suffix, v)
			if err != nil {
				return nil, err
			}
			g.aggs = q
		case "in_tree":
			t := strings.TrimSpace(it.value)
			c, ok := canonicalUUID(t)
			if !ok {
				return nil, badRequest("Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: %s", it.value)
			}
			g.inTree = c
		}
	}
	return groups, nil
}

// checkGroups applies upstream's consistency rules to the groups.
func checkGroups(groups []*parsedGroup, subtreeSuffixes []string, v version) error {
	if v.at(36) {
		var resourceless []string
		for _, g := range groups {
			if len(g.resources) == 0 {
				resourceless = append(resourceless, g.suffix)
			}
		}
		if len(resourceless) == len(groups) {
			return withCode(badRequest("There must be at least one resources or resources[$S] parameter."), placement.CodeQueryMissingValue)
		}
		var bad []string
		for _, sfx := range resourceless {
			if !contains(subtreeSuffixes, sfx) {
				bad = append(bad, sfx)
			}
		}
		if len(bad) > 0 {
			return withCode(badRequest("Resourceless suffixed group request should be specified in `same_subtree` query param: bad group(s) - %s.", pyList(bad)), placement.CodeQueryBadValue)
		}
		var missing, all []string
		for _, g := range groups {
			all = append(all, g.suffix)
		}
		for _, sfx := range subtreeSuffixes {
			if !contains(all, sfx) && !contains(missing, sfx) {
				missing = append(missing, sfx)
			}
		}
		if len(missing) > 0 {
			return withCode(badRequest("Real suffixes should be specified in `same_subtree`: %s not found in %s.", pyList(missing), pyList(all)), placement.CodeQueryBadValue)
		}
	} else {
		var orphans []string
		for _, g := range groups {
			if len(g.traits.anyOf)+len(g.traits.forbidden) > 0 && len(g.resources) == 0 {
				orphans = append(orphans, "required"+g.suffix)
			}
		}
		if len(orphans) > 0 {
			return badRequest("All traits parameters must be associated with resources.  Found the following orphaned traits keys: %s", strings.Join(orphans, ", "))
		}
		for _, g := range groups {
			if len(g.resources) == 0 && len(g.aggs.anyOf)+len(g.aggs.forbidden) > 0 {
				orphans = append(orphans, "member_of"+g.suffix)
			}
		}
		if len(orphans) > 0 {
			return badRequest("All member_of parameters must be associated with resources. Found the following orphaned member_of keys: %s", strings.Join(orphans, ", "))
		}
		for _, g := range groups {
			if len(g.resources) == 0 {
				return badRequest("All request groups must specify resources.")
			}
		}
		if len(groups) == 0 {
			return badRequest("At least one request group (`resources` or `resources{$S}`) is required.")
		}
	}
	if v.forbiddenTraits() {
		var conflicts []string
		for _, g := range groups {
			for _, set := range g.traits.anyOf {
				all := true
				for _, t := range set {
					if !contains(g.traits.forbidden, t) {
						all = false
						break
					}
				}
				if all {
					sorted := append([]string(nil), set...)
					sort.Strings(sorted)
					conflicts = append(conflicts, "required"+g.suffix+": ("+strings.Join(sorted, ", ")+")")
				}
			}
		}
		if len(conflicts) > 0 {
			sort.Strings(conflicts)
			return badRequest("Conflicting required and forbidden traits found in the following traits keys: %s", strings.Join(conflicts, ", "))
		}
	}
	return nil
}

// pyList formats strings as Python prints a list of them.
func pyList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'" + x + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// candidatesSchema is the query schema of the microversion.
func candidatesSchema(v version) *js.Validator {
	switch {
	case v.at(36):
		return schemaCandidates136
	case v.at(35):
		return schemaCandidates135
	case v.at(33):
		return schemaCandidates133
	case v.at(31):
		return schemaCandidates131
	case v.at(25):
		return schemaCandidates125
	case v.at(21):
		return schemaCandidates121
	case v.at(17):
		return schemaCandidates117
	case v.at(16):
		return schemaCandidates116
	}
	return schemaCandidates110
}
