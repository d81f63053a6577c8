package candidates

import (
	"fmt"
	"slices"
	"strings"

	"ingot/internal/fleet"
)

// Reason is why a request group's filters leave a provider out. The filters run in this
// order; a provider is counted at the first filter it fails, at the anchor (tree) where it
// got furthest, and Kept when it passed every filter at some anchor.
type Reason uint8

// The reasons, in filter order.
const (
	notConsidered             Reason = iota
	ReasonRoot                       // root_required/root_forbidden: its tree's root fails them
	ReasonInTree                     // outside the in_tree provider's tree
	ReasonClassAbsent                // no inventory of a requested class
	ReasonUnits                      // the amount breaks min_unit, max_unit or step_size
	ReasonCapacity                   // not enough free capacity (usage, reserved, allocation_ratio)
	ReasonRequiredTraits             // lacks a required trait (or every trait of an any-of set)
	ReasonForbiddenTraits            // has a forbidden trait
	ReasonMemberOf                   // in none of the aggregates of a member_of set
	ReasonForbiddenAggregates        // in a forbidden aggregate
	ReasonTreeIncomplete             // unsuffixed group: its tree has no provider for another class
	Kept                             // passed every filter
)

var reasonNames = [...]string{"", "root_required", "in_tree", "resource_class", "units", "capacity",
	"required_traits", "forbidden_traits", "member_of", "forbidden_aggregates", "tree_incomplete", "kept"}

// String names the reason as the explanation does.
func (r Reason) String() string { return reasonNames[r] }

// The names of the steps that are not a group's filters: the last step of every group
// (its providers that pass every filter but are in no returned candidate) and the steps
// of the combination, counted in trees.
const (
	StepCombination   = "combination"    // a group's kept providers left out of the answer
	StepGroupEmpty    = "group_empty"    // a tree where some group has no provider
	StepNoCombination = "no_combination" // a tree whose choices never combine into a candidate
	StepNotSearched   = "not_searched"   // trees after the search stopped (cap or step budget)
)

// Rejection kinds: why the search rejected a choice of a provider while combining the
// groups' choices at one tree.
const (
	RejectIsolate            = "group_policy_isolate"  // another suffixed group already took the provider
	RejectOneProviderPerTree = "one_provider_per_tree" // before 1.29: two providers of one tree
	RejectCapacity           = "capacity_summed"       // amounts summed on one provider exceed its capacity or max_unit
	RejectRequiredTraits     = "required_traits"       // the unsuffixed group's providers lack a required trait together
	RejectSameSubtree        = "same_subtree"          // the listed groups' providers share no subtree
	RejectDuplicate          = "duplicate"             // the same candidate was found at another tree
)

var rejectKinds = []string{RejectIsolate, RejectOneProviderPerTree, RejectCapacity, RejectRequiredTraits, RejectSameSubtree, RejectDuplicate}

// Explanation says why a request got the candidates it got: per request group a funnel of
// its filters over every provider, then how the groups combined, tree by tree.
type Explanation struct {
	// Providers is the number of providers in the view; each group considers them all.
	Providers int
	// Groups follow the request's group order.
	Groups      []GroupExplanation
	Combination Combination
}

// GroupExplanation is one request group's funnel. Considered equals the sum of the steps'
// Removed plus Eligible, and each step considers what the one before kept.
type GroupExplanation struct {
	Suffix     string
	Considered int
	Steps      []Step
	// Eligible providers are those this group uses in the returned candidates (its
	// mappings), in slot order.
	Eligible []int32
	Examples []Example
}

// Step is one filter: how many providers (or trees) it considered and removed, the removed
// ones counted by what failed (a class, a trait, an aggregate set), a few examples, and
// every removed slot.
type Step struct {
	Name       string
	Considered int
	Removed    int
	By         []Count
	Examples   []Example
	Slots      []int32
}

// Count is how many were removed for one cause.
type Count struct {
	What string
	N    int
}

// Example names a provider.
type Example struct {
	UUID, Name string
}

// Combination explains how the groups' choices combined. Trees equals the sum of the
// steps' Removed plus TreesWithCandidates. Rejected counts choices the search rejected
// (a choice is one provider for one group, or for one class of the unsuffixed group, on
// top of the choices before it), so one tree can count many. Found counts the candidates
// of the whole search (without limit); Returned those of the answer.
type Combination struct {
	Trees               int
	Steps               []Step
	TreesWithCandidates int
	Rejected            []Rejection
	Found, Returned     int
	Limit               int
	// Stopped says why the search ended early: "max_candidates", "step_budget" or "".
	Stopped string
}

// Rejection counts the choices rejected for one reason, with example providers (the
// provider chosen, or the first chosen at that tree).
type Rejection struct {
	Kind     string
	N        int
	Examples []Example
}

// maxExamples is the number of example providers per step.
const maxExamples = 3

// outcome is where one provider got in one group's filters.
type outcome struct {
	reason Reason
	detail int32
}

// recorder collects what the filters and the search decide while explaining.
type recorder struct {
	v        *fleet.View
	outcomes [][]outcome // per search group, per slot
	// rootFail is the anchor being built's root_required failure (rootCheck), -1 if none:
	// every provider considered there is removed by root_required.
	rootFail int
	rejects  map[string]*rejection
}

type rejection struct {
	n     int
	slots []int32
}

func newRecorder(v *fleet.View, groups int) *recorder {
	rec := &recorder{v: v, rootFail: -1, rejects: map[string]*rejection{}}
	for range groups {
		rec.outcomes = append(rec.outcomes, make([]outcome, v.Slots()))
	}
	return rec
}

// note records that slot got to reason r (detail d) in group gi; a provider keeps the
// furthest it got. The recorder's methods are not inlined, so that the search's loops
// stay as small as without them.
//
//go:noinline
func (rec *recorder) note(gi int, slot int32, r Reason, d int) {
	if rec.rootFail >= 0 {
		r, d = ReasonRoot, rec.rootFail
	}
	if o := &rec.outcomes[gi][slot]; r > o.reason {
		o.reason, o.detail = r, int32(d)
	}
}

//go:noinline
func (rec *recorder) noteAll(gi int, slots []int32, r Reason) {
	for _, s := range slots {
		rec.note(gi, s, r, 0)
	}
}

//go:noinline
func (rec *recorder) reject(kind string, slot int32) {
	r := rec.rejects[kind]
	if r == nil {
		r = &rejection{}
		rec.rejects[kind] = r
	}
	r.n++
	if len(r.slots) < maxExamples && !containsSlot(r.slots, slot) {
		r.slots = append(r.slots, slot)
	}
}

func containsSlot(slots []int32, s int32) bool {
	for _, x := range slots {
		if x == s {
			return true
		}
	}
	return false
}

// rejected records why the choice of c was rejected after its amounts were added: they
// did not fit, or the unsuffixed group's traits are not met.
//
//go:noinline
func (w *walker) rejected(fit bool, c int32) {
	if !fit {
		w.s.rec.reject(RejectCapacity, c)
		return
	}
	w.s.rec.reject(RejectRequiredTraits, c)
}

// Explain answers req on v as Find does and explains the answer. The filters and the
// search are Find's own, run with a recorder: first over every tree without Limit or
// randomization, so that every provider meets every group's filters and every tree is
// searched (up to MaxCandidates and the step budget), then the request itself, whose
// candidates make the groups' eligible providers. It costs about two searches.
func Explain(v *fleet.View, req Request) Explanation {
	req.Memo = nil
	answer := Find(v, req)

	full := req
	full.Limit, full.Random = 0, nil
	rec := newRecorder(v, len(req.Groups))
	s := newSearch(v, full, rec)

	unsuffixed := -1
	for gi, g := range s.groups {
		if g.unsuffixed {
			unsuffixed = gi
		}
	}
	var rootRemoved, groupEmpty, noCombination, notSearched []int32
	rootBy, emptyBy := map[string]int{}, map[string]int{}
	withCandidates := 0
	for _, a := range v.Roots() {
		rec.rootFail = s.rootCheck(a)
		complete := s.buildDims(a)
		// The unsuffixed group's providers that passed its filters here are kept only
		// when every class of the group has a provider at this tree.
		if unsuffixed >= 0 {
			missing := -1
			for _, d := range s.dims {
				if d.group == unsuffixed && len(d.choices) == 0 && missing < 0 {
					missing = classIndex(s.groups[unsuffixed].Resources, d.amounts[0].Class)
				}
			}
			for _, d := range s.dims {
				if d.group != unsuffixed {
					continue
				}
				for _, c := range d.choices {
					if missing >= 0 {
						rec.note(unsuffixed, c, ReasonTreeIncomplete, missing)
					} else {
						rec.note(unsuffixed, c, Kept, 0)
					}
				}
			}
		}
		switch {
		case rec.rootFail >= 0:
			rootRemoved = append(rootRemoved, a)
			rootBy[s.rootTraitName(rec.rootFail)]++
		case !complete:
			groupEmpty = append(groupEmpty, a)
			for _, d := range s.dims {
				if len(d.choices) == 0 {
					emptyBy[groupLabel(s.groups[d.group].Suffix)]++
					break
				}
			}
		case s.done:
			notSearched = append(notSearched, a)
		default:
			before := s.emitted
			s.walk = walker{s: s, dims: s.dims, chosen: s.walk.chosen[:0], acc: s.walk.acc[:0]}
			s.walk.dfs(0)
			if s.emitted > before {
				withCandidates++
			} else {
				noCombination = append(noCombination, a)
			}
		}
	}
	rec.rootFail = -1

	e := Explanation{Providers: v.Len()}
	for _, g := range req.Groups {
		gi := 0
		for i := range s.groups {
			if s.groups[i].Suffix == g.Suffix {
				gi = i
			}
		}
		e.Groups = append(e.Groups, s.explainGroup(gi, answer))
	}
	c := &e.Combination
	c.Trees = len(v.Roots())
	in := c.Trees
	for _, st := range []struct {
		name  string
		slots []int32
		by    map[string]int
	}{
		{ReasonRoot.String(), rootRemoved, rootBy},
		{StepGroupEmpty, groupEmpty, emptyBy},
		{StepNoCombination, noCombination, nil},
		{StepNotSearched, notSearched, nil},
	} {
		step := Step{Name: st.name, Considered: in, Removed: len(st.slots), Slots: st.slots, Examples: examples(v, st.slots)}
		step.By = sortedCounts(st.by)
		in -= step.Removed
		c.Steps = append(c.Steps, step)
	}
	c.TreesWithCandidates = withCandidates
	for _, kind := range rejectKinds {
		if r := rec.rejects[kind]; r != nil {
			c.Rejected = append(c.Rejected, Rejection{Kind: kind, N: r.n, Examples: examples(v, r.slots)})
		}
	}
	c.Found, c.Returned, c.Limit = s.emitted, len(answer.Candidates), req.Limit
	switch {
	case s.steps > s.maxSteps():
		c.Stopped = "step_budget"
	case s.done:
		c.Stopped = "max_candidates"
	}
	return e
}

// explainGroup builds search group gi's funnel from the recorded outcomes and the answer.
func (s *search) explainGroup(gi int, answer Result) GroupExplanation {
	g := &s.groups[gi]
	out := s.rec.outcomes[gi]
	ge := GroupExplanation{Suffix: g.Suffix}
	byReason := map[Reason][]int32{}
	kept := map[int32]bool{}
	for slot, o := range out {
		if o.reason == notConsidered {
			continue
		}
		ge.Considered++
		if o.reason == Kept {
			kept[int32(slot)] = true
			continue
		}
		byReason[o.reason] = append(byReason[o.reason], int32(slot))
	}
	eligible := map[int32]bool{}
	for _, c := range answer.Candidates {
		for _, m := range c.Mappings {
			if m.Suffix == g.Suffix {
				for _, sl := range m.Slots {
					eligible[sl] = true
				}
			}
		}
	}
	in := ge.Considered
	for r := ReasonRoot; r < Kept; r++ {
		if g.unsuffixed && r == ReasonRequiredTraits || !g.unsuffixed && r == ReasonTreeIncomplete {
			continue // checked on the union of providers / does not apply
		}
		slots := byReason[r]
		by := map[string]int{}
		for _, sl := range slots {
			if name := s.detailName(g, r, sl, out[sl].detail); name != "" {
				by[name]++
			}
		}
		ge.Steps = append(ge.Steps, Step{Name: r.String(), Considered: in, Removed: len(slots),
			By: sortedCounts(by), Examples: examples(s.v, slots), Slots: slots})
		in -= len(slots)
	}
	var left []int32
	for slot := range out {
		if kept[int32(slot)] && !eligible[int32(slot)] {
			left = append(left, int32(slot))
		}
		if eligible[int32(slot)] {
			ge.Eligible = append(ge.Eligible, int32(slot))
		}
	}
	ge.Steps = append(ge.Steps, Step{Name: StepCombination, Considered: in, Removed: len(left),
		Examples: examples(s.v, left), Slots: left})
	ge.Examples = examples(s.v, ge.Eligible)
	return ge
}

// detailName names what made slot fail r in group g.
func (s *search) detailName(g *groupState, r Reason, slot int32, d int32) string {
	switch r {
	case ReasonRoot:
		return s.rootTraitName(int(d))
	case ReasonClassAbsent, ReasonUnits, ReasonTreeIncomplete:
		return s.v.ClassName(g.Resources[d].Class)
	case ReasonCapacity:
		amt := g.Resources[d]
		inv, _ := s.v.Slot(slot).Inventory(amt.Class)
		if inv.Fits(0, amt.N) {
			return s.v.ClassName(amt.Class) + " (in use)"
		}
		return s.v.ClassName(amt.Class) + " (reserved)"
	case ReasonRequiredTraits:
		names := make([]string, len(g.Required[d]))
		for i, t := range g.Required[d] {
			names[i] = s.v.TraitName(t)
		}
		if len(names) == 1 {
			return names[0]
		}
		return "in:" + strings.Join(names, ",")
	case ReasonForbiddenTraits:
		return "!" + s.v.TraitName(g.Forbidden[d])
	case ReasonMemberOf:
		if set := g.MemberOf[d]; len(set) > 1 {
			return "in:" + strings.Join(set, ",")
		}
		return g.MemberOf[d][0]
	case ReasonForbiddenAggregates:
		return "!" + g.ForbiddenAggs[d]
	}
	return ""
}

// rootTraitName names the root_required trait of rootCheck's index i.
func (s *search) rootTraitName(i int) string {
	if i < len(s.req.RootRequired) {
		return s.v.TraitName(s.req.RootRequired[i])
	}
	return "!" + s.v.TraitName(s.req.RootForbidden[i-len(s.req.RootRequired)])
}

func classIndex(amounts []Amount, class int64) int {
	for i, a := range amounts {
		if a.Class == class {
			return i
		}
	}
	return 0
}

// groupLabel names a group as the query string does: "resources" or "resources<suffix>".
func groupLabel(suffix string) string { return "resources" + suffix }

func examples(v *fleet.View, slots []int32) []Example {
	var out []Example
	for _, sl := range slots[:min(len(slots), maxExamples)] {
		p := v.Slot(sl)
		out = append(out, Example{UUID: p.UUID, Name: p.Name})
	}
	return out
}

// sortedCounts lists the counts, most first, then by name.
func sortedCounts(m map[string]int) []Count {
	var out []Count
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return strings.Compare(a.What, b.What)
	})
	return out
}

// Summary is the group's funnel on one line, as an operator reads it: "2 of 15 providers
// eligible; 2 resource_class [CUSTOM_GOLD: 2], 3 required_traits [HW_CPU_X86_AVX2: 3]"
// (steps that removed nothing are left out).
func (g GroupExplanation) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d providers eligible", len(g.Eligible), g.Considered)
	writeSteps(&b, g.Steps)
	return b.String()
}

// Summary is the combination on one line: trees with candidates, the steps that removed
// trees, the rejected choices and the candidates found and returned.
func (c Combination) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d trees with candidates", c.TreesWithCandidates, c.Trees)
	writeSteps(&b, c.Steps)
	for i, r := range c.Rejected {
		if i == 0 {
			b.WriteString("; choices rejected:")
		} else {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %d %s", r.N, r.Kind)
	}
	fmt.Fprintf(&b, "; %d candidates found, %d returned", c.Found, c.Returned)
	if c.Limit > 0 {
		fmt.Fprintf(&b, " (limit %d)", c.Limit)
	}
	if c.Stopped != "" {
		fmt.Fprintf(&b, "; search stopped early (%s)", c.Stopped)
	}
	return b.String()
}

func writeSteps(b *strings.Builder, steps []Step) {
	sep := "; "
	for _, s := range steps {
		if s.Removed == 0 {
			continue
		}
		fmt.Fprintf(b, "%s%d %s", sep, s.Removed, s.Name)
		sep = ", "
		for i, c := range s.By {
			if i == 0 {
				b.WriteString(" [")
			} else {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "%s: %d", c.What, c.N)
			if i == len(s.By)-1 {
				b.WriteString("]")
			}
		}
	}
}
