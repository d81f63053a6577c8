package placementapi

import (
	"net/http"
	"time"

	"ingot/internal/candidates"
	"ingot/internal/fleet"
	"ingot/internal/policy"
)

// ExplainPath is where ingot explains an allocation-candidates query: GET with the query
// string of GET /allocation_candidates. It is ingot's own call, not Placement's.
const ExplainPath = "/v1/allocation_candidates/explain"

// Explain returns the handler of ExplainPath. It serves exactly as the Placement API does
// (authentication, microversion header, policy rule, query validation and error bodies
// of GET /allocation_candidates) and answers with candidates.Explain of the same request
// (see docs/explain.md). The search is not randomized, so the answer is the one a server
// without --randomize-allocation-candidates gives.
func (s *Server) Explain() http.Handler {
	e := &Server{db: s.db, policy: s.policy, log: s.log, cors: s.cors, maxBody: s.maxBody,
		bodies: s.bodies, candidates: s.candidates, auth: s.auth}
	e.routes = []*route{{segments: splitPath(ExplainPath)}}
	e.routes[0].endpoints = []*endpoint{{method: "GET", h: e.handleExplain, min: v(10), accept: true,
		rule: policy.AllocationCandidatesList, route: e.routes[0]}}
	return e
}

func (s *Server) handleExplain(rq *request) error {
	view, req, _, err := s.candidatesQuery(rq)
	if err != nil {
		return err
	}
	e := candidates.Explain(view, req)
	return rq.sendJSON(http.StatusOK, explainWire(view, req, e), time.Time{})
}

// The explain answer's JSON (documented in docs/explain.md).
type (
	explainBody struct {
		Providers   int                `json:"providers"`
		Groups      []explainGroup     `json:"groups"`
		Combination explainCombination `json:"combination"`
	}
	explainGroup struct {
		Group            string            `json:"group"`
		Suffix           string            `json:"suffix"`
		Considered       int               `json:"considered"`
		Steps            []explainStep     `json:"steps"`
		Eligible         int               `json:"eligible"`
		EligibleExamples []explainProvider `json:"eligible_examples"`
		Summary          string            `json:"summary"`
	}
	explainStep struct {
		Step       string            `json:"step"`
		Considered int               `json:"considered"`
		Removed    int               `json:"removed"`
		Kept       int               `json:"kept"`
		Causes     []explainCause    `json:"causes"`
		Examples   []explainProvider `json:"examples"`
	}
	explainCause struct {
		Cause   string `json:"cause"`
		Removed int    `json:"removed"`
	}
	explainProvider struct {
		UUID string `json:"uuid"`
		Name string `json:"name"`
	}
	explainCombination struct {
		GroupPolicy         string             `json:"group_policy"`
		Trees               int                `json:"trees"`
		Steps               []explainStep      `json:"steps"`
		TreesWithCandidates int                `json:"trees_with_candidates"`
		RejectedChoices     []explainRejection `json:"rejected_choices"`
		CandidatesFound     int                `json:"candidates_found"`
		CandidatesReturned  int                `json:"candidates_returned"`
		Limit               *int               `json:"limit"`
		Stopped             *string            `json:"stopped"`
		Summary             string             `json:"summary"`
	}
	explainRejection struct {
		Reason   string            `json:"reason"`
		Choices  int               `json:"choices"`
		Examples []explainProvider `json:"examples"`
	}
)

func explainWire(view *fleet.View, req candidates.Request, e candidates.Explanation) explainBody {
	out := explainBody{Providers: e.Providers, Groups: []explainGroup{}}
	for _, g := range e.Groups {
		out.Groups = append(out.Groups, explainGroup{Group: "resources" + g.Suffix, Suffix: g.Suffix,
			Considered: g.Considered, Steps: explainSteps(g.Steps), Eligible: len(g.Eligible),
			EligibleExamples: explainProviders(g.Examples), Summary: g.Summary()})
	}
	c := e.Combination
	oc := explainCombination{GroupPolicy: "none", Trees: c.Trees, Steps: explainSteps(c.Steps),
		TreesWithCandidates: c.TreesWithCandidates, RejectedChoices: []explainRejection{},
		CandidatesFound: c.Found, CandidatesReturned: c.Returned, Summary: c.Summary()}
	if req.Isolate {
		oc.GroupPolicy = "isolate"
	}
	for _, r := range c.Rejected {
		oc.RejectedChoices = append(oc.RejectedChoices, explainRejection{Reason: r.Kind, Choices: r.N, Examples: explainProviders(r.Examples)})
	}
	if c.Limit > 0 {
		oc.Limit = &c.Limit
	}
	if c.Stopped != "" {
		oc.Stopped = &c.Stopped
	}
	out.Combination = oc
	return out
}

func explainSteps(steps []candidates.Step) []explainStep {
	out := []explainStep{}
	for _, s := range steps {
		ws := explainStep{Step: s.Name, Considered: s.Considered, Removed: s.Removed, Kept: s.Considered - s.Removed,
			Causes: []explainCause{}, Examples: explainProviders(s.Examples)}
		for _, c := range s.By {
			ws.Causes = append(ws.Causes, explainCause{Cause: c.What, Removed: c.N})
		}
		out = append(out, ws)
	}
	return out
}

func explainProviders(ex []candidates.Example) []explainProvider {
	out := []explainProvider{}
	for _, e := range ex {
		out = append(out, explainProvider{UUID: e.UUID, Name: e.Name})
	}
	return out
}
