package candidates

import (
	"cmp"
	"encoding/binary"
	"iter"
	"math/rand/v2"
	"slices"
	"sort"

	"ingot/internal/fleet"
)

// Amount is an amount of one resource class.
type Amount struct {
	Class int64
	N     int64
}

// Group is one request group. The unsuffixed group (Suffix "") may be split over a tree and
// its sharing providers; a suffixed group is met by one provider and may have no resources
// (then it only names a provider for same_subtree).
type Group struct {
	Suffix    string
	Resources []Amount
	// Required is an AND of any-of sets of trait ids; Forbidden excludes traits.
	Required  [][]int64
	Forbidden []int64
	// MemberOf is an AND of any-of sets of aggregate UUIDs; ForbiddenAggs excludes them.
	MemberOf      [][]string
	ForbiddenAggs []string
	// InTree restricts the group to the tree of this provider UUID ("" for none).
	InTree string
}

// Request is a whole GET /allocation_candidates request.
type Request struct {
	Groups []Group
	// Isolate is group_policy=isolate: suffixed groups use distinct providers.
	Isolate bool
	// RootRequired and RootForbidden are root_required: traits the anchor (tree root) must
	// have and must not have.
	RootRequired  []int64
	RootForbidden []int64
	// SameSubtree lists sets of suffixes whose providers must share a subtree.
	SameSubtree [][]string
	// NestedAware is microversion 1.29 or later; before it a result may not use two
	// providers of one tree.
	NestedAware bool
	// Limit is the number of results wanted (0: all).
	Limit int
	// MaxCandidates stops the search after this many results (0: no cap).
	MaxCandidates int
	// MaxSteps bounds the search itself, counted in partial choices tried, so that a
	// request whose partial choices mostly fail late (same_subtree, duplicates) still ends
	// (0: DefaultMaxSteps). A search stopped this way returns what it found.
	MaxSteps int
	// Random, when set, makes the result a uniform random sample of Limit results (or a
	// random order of all), as randomize_allocation_candidates does.
	Random *rand.Rand
	// BreadthFirst takes results from the anchors in turn (one each per round) instead of
	// exhausting one anchor before the next.
	BreadthFirst bool
	// Memo, when set, lets this search reuse the results of an earlier search of the same
	// request for the trees that did not change (see Memo).
	Memo *Memo
}

// Alloc is an amount of one class on the provider in Slot.
type Alloc struct {
	Slot  int32
	Class int64
	N     int64
}

// Mapping names the providers that satisfied one group.
type Mapping struct {
	Suffix string
	Slots  []int32
}

// Candidate is one way to satisfy the request. Allocs are sorted by slot and class;
// Mappings follow the request's group order.
type Candidate struct {
	Allocs   []Alloc
	Mappings []Mapping
}

// Result is the answer: the candidates and the slots of the providers to summarize.
type Result struct {
	Candidates []Candidate
	Summaries  []int32
	truncated  bool
}

// DefaultMaxSteps is the search budget when Request.MaxSteps is 0: tens of milliseconds.
const DefaultMaxSteps = 2_000_000

// Find searches v for the candidates of req.
func Find(v *fleet.View, req Request) Result {
	s := newSearch(v, req, nil)
	if s == nil {
		return Result{}
	}
	s.run()
	return s.result()
}

type groupState struct {
	Group
	unsuffixed bool
	treeRoot   int32 // slot of the in_tree root, noTree for none (unknownTree: no such provider)
}

const (
	noTree      int32 = -1
	unknownTree int32 = -2 // explaining only: in_tree names no provider, so no tree matches
)

// dim is one choice the search makes: a provider for one class of the unsuffixed group, or
// a provider for a whole suffixed group.
type dim struct {
	group   int
	amounts []Amount // what the chosen provider gives
	choices []int32
	// lastOfUnsuffixed marks the unsuffixed group's last dimension, after which its trait
	// requirement is checked on the union of its providers.
	lastOfUnsuffixed bool
}

type search struct {
	v      *fleet.View
	req    Request
	groups []groupState
	// nestedUnaware: before 1.29 in a fleet with trees, a result may not use two providers
	// of one tree.
	nestedUnaware bool

	dims  []dim   // the current anchor's dimensions (buildDims)
	arena []int32 // backing store of their choices

	walk walker // reused by the depth-first search
	// Arenas for the results' slices.
	allocArena []Alloc
	slotArena  []int32
	mapArena   []Mapping
	seen       map[string]struct{}
	key        []byte
	emitted    int
	steps      int
	done       bool
	out        []Candidate
	// rec, when set, records why providers were kept or left out (Explain); nil on the
	// ordinary path.
	rec *recorder
}

// walker is the state of the search of one anchor.
type walker struct {
	s      *search
	dims   []dim
	chosen []int32
	acc    []Alloc // amounts chosen so far, summed per (slot, class)
	// yield, when set, is called after each result; false stops the walk.
	yield func() bool
}

func newSearch(v *fleet.View, req Request, rec *recorder) *search {
	s := &search{v: v, req: req, seen: map[string]struct{}{}, rec: rec}
	s.nestedUnaware = !req.NestedAware && v.HasTrees()
	for _, g := range req.Groups {
		gs := groupState{Group: g, unsuffixed: g.Suffix == "", treeRoot: noTree}
		if g.InTree != "" {
			p, ok := v.Provider(g.InTree)
			if !ok && rec != nil {
				gs.treeRoot = unknownTree
				s.groups = append(s.groups, gs)
				continue
			}
			if !ok {
				return nil // an unknown provider matches nothing
			}
			slot, _ := v.SlotOf(p.ID)
			gs.treeRoot = v.RootSlot(slot)
		}
		s.groups = append(s.groups, gs)
	}
	// The unsuffixed group's dimensions come first, so its trait check happens early.
	sort.SliceStable(s.groups, func(i, j int) bool { return s.groups[i].unsuffixed && !s.groups[j].unsuffixed })
	return s
}

func (s *search) run() {
	if s.memoUsable() && s.runMemo() {
		return
	}
	if s.req.BreadthFirst && s.req.Random != nil && s.req.Limit == 0 {
		// Every result is kept and then shuffled, so the order of the search does not
		// matter unless it stops early (at MaxCandidates or the step budget): search depth
		// first, which needs no resumable search per anchor, and only when it stopped early
		// search again breadth first, which decides which results are kept.
		s.runDepthFirst()
		if !s.done {
			return
		}
		s.reset()
	}
	if s.req.BreadthFirst {
		s.runBreadthFirst()
		return
	}
	s.runDepthFirst()
}

// reset forgets every result and the steps taken, for a fresh search.
func (s *search) reset() {
	s.out, s.emitted, s.steps, s.done = nil, 0, 0, false
	clear(s.seen)
}

// runDepthFirst exhausts each anchor before the next.
func (s *search) runDepthFirst() {
	for _, a := range s.v.Roots() {
		if s.done {
			return
		}
		if !s.rootOK(a) || !s.buildDims(a) {
			continue
		}
		s.walk = walker{s: s, dims: s.dims, chosen: s.walk.chosen[:0], acc: s.walk.acc[:0]}
		s.walk.dfs(0)
	}
}

// runBreadthFirst takes one result from each anchor in turn. Anchors that can yield at
// most one result (the common flat case) are searched directly; the others through a
// resumable search.
func (s *search) runBreadthFirst() {
	type pending struct {
		next func() bool
		stop func()
	}
	var resumable []pending
	for _, a := range s.v.Roots() {
		if s.done {
			break
		}
		if !s.rootOK(a) || !s.buildDims(a) {
			continue
		}
		if s.product() <= 1 {
			s.walk = walker{s: s, dims: s.dims, chosen: s.walk.chosen[:0], acc: s.walk.acc[:0]}
			s.walk.dfs(0)
			continue
		}
		// Snapshot this anchor's dimensions: the search resumes later, after other anchors
		// have reused the shared buffers.
		dims := make([]dim, len(s.dims))
		for i, d := range s.dims {
			dims[i] = d
			dims[i].choices = slices.Clone(d.choices)
		}
		next, stop := iter.Pull(s.anchorResults(dims))
		if _, ok := next(); !ok {
			stop()
			continue
		}
		resumable = append(resumable, pending{func() bool { _, ok := next(); return ok }, stop})
	}
	defer func() {
		for _, p := range resumable {
			p.stop()
		}
	}()
	for len(resumable) > 0 && !s.done {
		live := resumable[:0]
		for _, p := range resumable {
			if s.done {
				break
			}
			if p.next() {
				live = append(live, p)
			} else {
				p.stop()
			}
		}
		resumable = live
	}
}

// anchorResults searches one anchor's dimensions, pausing after each result.
func (s *search) anchorResults(dims []dim) iter.Seq[struct{}] {
	return func(yield func(struct{}) bool) {
		w := &walker{s: s, dims: dims, yield: func() bool { return yield(struct{}{}) }}
		w.dfs(0)
	}
}

func (s *search) maxSteps() int {
	if s.req.MaxSteps > 0 {
		return s.req.MaxSteps
	}
	return DefaultMaxSteps
}

// Truncated reports whether the search stopped on its step budget.
func (r Result) Truncated() bool { return r.truncated }

func (s *search) product() int {
	n := 1
	for _, d := range s.dims {
		n *= len(d.choices)
		if n > 1 {
			return n
		}
	}
	return n
}

func (s *search) rootOK(a int32) bool { return s.rootCheck(a) < 0 }

// rootCheck returns -1 when anchor a passes root_required, else the index of the trait it
// fails: in RootRequired, or len(RootRequired) plus the index in RootForbidden.
func (s *search) rootCheck(a int32) int {
	p := s.v.Slot(a)
	for i, t := range s.req.RootRequired {
		if !p.HasTrait(t) {
			return i
		}
	}
	for i, t := range s.req.RootForbidden {
		if p.HasTrait(t) {
			return len(s.req.RootRequired) + i
		}
	}
	return -1
}

// buildDims prepares the dimensions of anchor a; false when some dimension has no choice.
// When explaining it builds every dimension, empty ones included, so that every group's
// filters see every provider.
func (s *search) buildDims(a int32) bool {
	s.dims = s.dims[:0]
	s.arena = s.arena[:0]
	ok := true
	for gi := range s.groups {
		g := &s.groups[gi]
		if g.unsuffixed {
			for i, amt := range g.Resources {
				start := len(s.arena)
				s.unsuffixedChoices(gi, a, i, amt)
				if len(s.arena) == start {
					if s.rec == nil {
						return false
					}
					ok = false
				}
				s.dims = append(s.dims, dim{group: gi, amounts: g.Resources[i : i+1],
					choices: s.arena[start:len(s.arena):len(s.arena)], lastOfUnsuffixed: i == len(g.Resources)-1})
			}
			continue
		}
		start := len(s.arena)
		s.suffixedChoices(gi, a)
		if len(s.arena) == start {
			if s.rec == nil {
				return false
			}
			ok = false
		}
		s.dims = append(s.dims, dim{group: gi, amounts: g.Resources, choices: s.arena[start:len(s.arena):len(s.arena)]})
	}
	return ok
}

// unsuffixedChoices appends the providers that can give amt (the group's resource i) to
// the unsuffixed group gi at anchor a: providers of a's tree, and sharing providers serving
// a (not with in_tree).
func (s *search) unsuffixedChoices(gi int, a int32, i int, amt Amount) {
	g := &s.groups[gi]
	if g.treeRoot != noTree && g.treeRoot != a {
		if s.rec != nil {
			s.rec.noteAll(gi, s.v.Tree(a), ReasonInTree)
			s.rec.noteAll(gi, s.v.SharedWith(a), ReasonInTree)
		}
		return
	}
	for _, p := range s.v.Tree(a) {
		r, d := s.unsuffixedCheck(g, p, a, i, amt, false)
		if s.rec != nil && r != Kept { // Explain decides on the kept ones per tree
			s.rec.note(gi, p, r, d)
		}
		if r == Kept {
			s.arena = append(s.arena, p)
		}
	}
	if g.treeRoot != noTree {
		if s.rec != nil {
			s.rec.noteAll(gi, s.v.SharedWith(a), ReasonInTree)
		}
		return
	}
	for _, sp := range s.v.SharedWith(a) {
		if s.v.RootSlot(sp) == a {
			continue // already considered as a member of the tree
		}
		r, d := s.unsuffixedCheck(g, sp, a, i, amt, true)
		if s.rec != nil && r != Kept {
			s.rec.note(gi, sp, r, d)
		}
		if r == Kept {
			s.arena = append(s.arena, sp)
		}
	}
}

// unsuffixedCheck returns Kept when the provider in slot can give amt (the group's resource
// i) to the unsuffixed group at anchor, else the first filter it fails and a detail (the
// index of the resource, trait or aggregate set at fault). A sharing provider must itself
// be in the member_of aggregates; another provider may instead have its anchor in them.
func (s *search) unsuffixedCheck(g *groupState, slot, anchor int32, i int, amt Amount, sharing bool) (Reason, int) {
	p := s.v.Slot(slot)
	if r := fits(p, amt); r != Kept {
		return r, i
	}
	for j, t := range g.Forbidden {
		if p.HasTrait(t) {
			return ReasonForbiddenTraits, j
		}
	}
	anchorP := s.v.Slot(anchor)
	if len(g.MemberOf) > 0 {
		if j := unmetAggregates(p, g.MemberOf); j >= 0 && (sharing || unmetAggregates(anchorP, g.MemberOf) >= 0) {
			return ReasonMemberOf, j
		}
	}
	for j, agg := range g.ForbiddenAggs {
		if p.InAggregate(agg) || anchorP.InAggregate(agg) {
			return ReasonForbiddenAggregates, j
		}
	}
	return Kept, 0
}

// fits returns Kept when amt fits on the provider, else why not: no inventory of the
// class, the unit rules (min_unit, max_unit, step_size), or the free capacity (existing
// usage, reserved and allocation_ratio included).
func fits(p *fleet.Provider, amt Amount) Reason {
	inv, ok := p.Inventory(amt.Class)
	switch {
	case !ok:
		return ReasonClassAbsent
	case !inv.CheckAmount(amt.N):
		return ReasonUnits
	case !inv.HasRoom(inv.Used, amt.N):
		return ReasonCapacity
	}
	return Kept
}

// suffixedChoices appends the providers that alone satisfy suffixed group gi at anchor a:
// members of a's tree, and sharing providers serving a.
func (s *search) suffixedChoices(gi int, a int32) {
	g := &s.groups[gi]
	for _, p := range s.v.Tree(a) {
		r, d := s.suffixedCheck(g, p)
		if s.rec != nil {
			s.rec.note(gi, p, r, d)
		}
		if r == Kept {
			s.arena = append(s.arena, p)
		}
	}
	for _, sp := range s.v.SharedWith(a) {
		if s.v.RootSlot(sp) == a {
			continue
		}
		r, d := s.suffixedCheck(g, sp)
		if s.rec != nil {
			s.rec.note(gi, sp, r, d)
		}
		if r == Kept {
			s.arena = append(s.arena, sp)
		}
	}
}

// suffixedCheck returns Kept when the provider in slot alone satisfies suffixed group g,
// else the first filter it fails (the filters in Reason order: a class absent on any
// resource comes before a unit rule or capacity on another) and the index of the resource,
// trait or aggregate set at fault.
func (s *search) suffixedCheck(g *groupState, slot int32) (Reason, int) {
	if g.treeRoot != noTree && s.v.RootSlot(slot) != g.treeRoot {
		return ReasonInTree, 0
	}
	p := s.v.Slot(slot)
	worst, at := Kept, 0
	for i, amt := range g.Resources {
		r := fits(p, amt)
		if r == ReasonClassAbsent {
			return r, i
		}
		if r < worst {
			worst, at = r, i
		}
	}
	if worst != Kept {
		return worst, at
	}
	for i, set := range g.Required {
		if !hasAny(p, set) {
			return ReasonRequiredTraits, i
		}
	}
	for i, t := range g.Forbidden {
		if p.HasTrait(t) {
			return ReasonForbiddenTraits, i
		}
	}
	if j := unmetAggregates(p, g.MemberOf); j >= 0 {
		return ReasonMemberOf, j
	}
	for i, agg := range g.ForbiddenAggs {
		if p.InAggregate(agg) {
			return ReasonForbiddenAggregates, i
		}
	}
	return Kept, 0
}

// hasAny reports whether the provider has a trait of the set.
func hasAny(p *fleet.Provider, set []int64) bool {
	for _, t := range set {
		if p.HasTrait(t) {
			return true
		}
	}
	return false
}

// unmetAggregates returns the index of the first any-of set of aggregates the provider is
// directly in none of, or -1.
func unmetAggregates(p *fleet.Provider, sets [][]string) int {
	for i, set := range sets {
		hit := false
		for _, a := range set {
			if p.InAggregate(a) {
				hit = true
				break
			}
		}
		if !hit {
			return i
		}
	}
	return -1
}

// dfs chooses a provider for dimension d and the ones after it; false stops the search.
func (w *walker) dfs(d int) bool {
	if d == len(w.dims) {
		return w.leaf()
	}
	s := w.s
	dm := &w.dims[d]
	g := &s.groups[dm.group]
	for _, c := range dm.choices {
		if s.steps++; s.steps > s.maxSteps() {
			s.done = true
			return false
		}
		if s.req.Isolate && !g.unsuffixed && w.usedBySuffixed(d, c) {
			if s.rec != nil {
				s.rec.reject(RejectIsolate, c)
			}
			continue
		}
		if s.nestedUnaware && w.sharesTree(d, c) {
			if s.rec != nil {
				s.rec.reject(RejectOneProviderPerTree, c)
			}
			continue
		}
		mark := len(w.acc)
		var added [4]int
		adds := added[:0]
		fits := true
		for _, amt := range dm.amounts {
			i, ok := w.add(c, amt)
			adds = append(adds, i)
			if !ok {
				fits = false
			}
		}
		w.chosen = append(w.chosen, c)
		if fits && (!dm.lastOfUnsuffixed || w.unsuffixedTraitsOK(d, g)) {
			if !w.dfs(d + 1) {
				return false
			}
		} else if s.rec != nil {
			w.rejected(fits, c)
		}
		w.chosen = w.chosen[:len(w.chosen)-1]
		w.undo(dm.amounts, adds, mark)
	}
	return true
}

// add adds amt on slot to the running sums and reports whether the provider still fits:
// summed amounts must stay within max_unit and the free capacity (existing usage
// included). It returns the index of the sum it changed.
func (w *walker) add(slot int32, amt Amount) (int, bool) {
	for i := range w.acc {
		a := &w.acc[i]
		if a.Slot == slot && a.Class == amt.Class {
			a.N += amt.N
			inv, _ := w.s.v.Slot(slot).Inventory(amt.Class)
			return i, a.N <= inv.MaxUnit && inv.Used+a.N <= inv.Capacity()
		}
	}
	// A first amount on (slot, class) passed Fits when the choice was made.
	w.acc = append(w.acc, Alloc{Slot: slot, Class: amt.Class, N: amt.N})
	return len(w.acc) - 1, true
}

// undo reverses add for amounts whose sums are at adds; sums created since mark go away.
func (w *walker) undo(amounts []Amount, adds []int, mark int) {
	for i, idx := range adds {
		if idx < mark {
			w.acc[idx].N -= amounts[i].N
		}
	}
	w.acc = w.acc[:mark]
}

// usedBySuffixed reports whether another suffixed group already chose slot.
func (w *walker) usedBySuffixed(d int, slot int32) bool {
	for i := 0; i < d; i++ {
		if !w.s.groups[w.dims[i].group].unsuffixed && w.chosen[i] == slot {
			return true
		}
	}
	return false
}

// sharesTree reports whether a provider other than slot, from slot's tree, was chosen.
func (w *walker) sharesTree(d int, slot int32) bool {
	if len(w.dims[d].amounts) == 0 {
		return false
	}
	root := w.s.v.RootSlot(slot)
	for i := 0; i < d; i++ {
		c := w.chosen[i]
		if c != slot && len(w.dims[i].amounts) > 0 && w.s.v.RootSlot(c) == root {
			return true
		}
	}
	return false
}

// unsuffixedTraitsOK checks the unsuffixed group's required traits against the union of
// the traits of the providers chosen for it (dimensions up to d).
func (w *walker) unsuffixedTraitsOK(d int, g *groupState) bool {
	for _, set := range g.Required {
		hit := false
		for i := 0; i <= d && !hit; i++ {
			if w.s.groups[w.dims[i].group].unsuffixed {
				p := w.s.v.Slot(w.chosen[i])
				for _, t := range set {
					if p.HasTrait(t) {
						hit = true
						break
					}
				}
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// leaf checks same_subtree on a complete choice and emits it; false stops the search.
func (w *walker) leaf() bool {
	s := w.s
	for _, suffixes := range s.req.SameSubtree {
		if !w.sameSubtree(suffixes) {
			if s.rec != nil {
				s.rec.reject(RejectSameSubtree, w.chosen[0])
			}
			return true
		}
	}
	c := w.candidate()
	// Candidates of different anchors coincide only through a sharing provider outside
	// the anchor's tree; only those need the duplicate check.
	if w.usesSharedProvider() {
		key := s.candidateKey(c)
		if _, dup := s.seen[key]; dup {
			if s.rec != nil {
				s.rec.reject(RejectDuplicate, w.chosen[0])
			}
			return true
		}
		s.seen[key] = struct{}{}
	}
	s.emit(c)
	if s.done {
		return false
	}
	if w.yield != nil {
		return w.yield()
	}
	return true
}

// usesSharedProvider reports whether the current choice takes from a provider outside the
// anchor's tree (a sharing provider).
func (w *walker) usesSharedProvider() bool {
	if len(w.chosen) == 0 {
		return false
	}
	root := w.s.v.RootSlot(w.chosen[0])
	for _, c := range w.chosen[1:] {
		if w.s.v.RootSlot(c) != root {
			return true
		}
	}
	return w.s.v.IsSharing(w.chosen[0])
}

// sameSubtree reports whether the providers of the groups with these suffixes all lie under
// one of them.
func (w *walker) sameSubtree(suffixes []string) bool {
	found := false
	for i, dm := range w.dims {
		g := &w.s.groups[dm.group]
		if g.unsuffixed || !slices.Contains(suffixes, g.Suffix) {
			continue
		}
		found = true
		top := w.chosen[i]
		all := true
		for j, dn := range w.dims {
			h := &w.s.groups[dn.group]
			if !h.unsuffixed && slices.Contains(suffixes, h.Suffix) && !w.s.isAncestorOrSelf(top, w.chosen[j]) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return !found
}

func (s *search) isAncestorOrSelf(top, slot int32) bool {
	for slot >= 0 {
		if slot == top {
			return true
		}
		slot = s.v.ParentSlot(slot)
	}
	return false
}

// candidate builds the current choice's result, in memory carved from the search's arenas
// (a few allocations per thousand candidates rather than several per candidate).
func (w *walker) candidate() Candidate {
	s := w.s
	c := Candidate{Allocs: s.allocs(len(w.acc))}
	for _, a := range w.acc {
		if a.N > 0 {
			c.Allocs = append(c.Allocs, a)
		}
	}
	slices.SortFunc(c.Allocs, func(a, b Alloc) int {
		if a.Slot != b.Slot {
			return int(a.Slot - b.Slot)
		}
		return cmp.Compare(a.Class, b.Class)
	})
	c.Mappings = s.mappings(len(s.groups))
	for gi := range s.groups {
		n := 0
		for _, dm := range w.dims {
			if dm.group == gi {
				n++
			}
		}
		slots := s.slots(n)
		for i, dm := range w.dims {
			if dm.group == gi && !slices.Contains(slots, w.chosen[i]) {
				slots = append(slots, w.chosen[i])
			}
		}
		slices.Sort(slots)
		c.Mappings = append(c.Mappings, Mapping{Suffix: s.groups[gi].Suffix, Slots: slots})
	}
	return c
}

// arenaSize returns the next arena size: small at first (a limit of 10 needs little),
// doubling up to 4096 elements.
func arenaSize(prev, n int) int { return max(min(max(64, 2*prev), 4096), n) }

// allocs returns an empty slice with room for n Allocs, carved from an arena.
func (s *search) allocs(n int) []Alloc {
	if len(s.allocArena)+n > cap(s.allocArena) {
		s.allocArena = make([]Alloc, 0, arenaSize(cap(s.allocArena), n))
	}
	start := len(s.allocArena)
	s.allocArena = s.allocArena[:start+n]
	return s.allocArena[start : start : start+n]
}

func (s *search) slots(n int) []int32 {
	if len(s.slotArena)+n > cap(s.slotArena) {
		s.slotArena = make([]int32, 0, arenaSize(cap(s.slotArena), n))
	}
	start := len(s.slotArena)
	s.slotArena = s.slotArena[:start+n]
	return s.slotArena[start : start : start+n]
}

func (s *search) mappings(n int) []Mapping {
	if len(s.mapArena)+n > cap(s.mapArena) {
		s.mapArena = make([]Mapping, 0, arenaSize(cap(s.mapArena), n))
	}
	start := len(s.mapArena)
	s.mapArena = s.mapArena[:start+n]
	return s.mapArena[start : start : start+n]
}

// candidateKey identifies a candidate by its allocations and mappings.
func (s *search) candidateKey(c Candidate) string {
	b := s.key[:0]
	for _, a := range c.Allocs {
		b = binary.AppendVarint(b, int64(a.Slot))
		b = binary.AppendVarint(b, a.Class)
		b = binary.AppendVarint(b, a.N)
	}
	for _, m := range c.Mappings {
		b = append(b, 0xff)
		b = append(b, m.Suffix...)
		b = append(b, 0)
		for _, sl := range m.Slots {
			b = binary.AppendVarint(b, int64(sl))
		}
	}
	s.key = b
	return string(b)
}

// emit records a result: in order, or into the random sample.
func (s *search) emit(c Candidate) {
	s.emitted++
	r, limit := s.req.Random, s.req.Limit
	switch {
	case r != nil && limit > 0 && len(s.out) >= limit:
		if j := r.IntN(s.emitted); j < limit {
			s.out[j] = c
		}
	default:
		s.out = append(s.out, c)
	}
	if s.req.MaxCandidates > 0 && s.emitted >= s.req.MaxCandidates {
		s.done = true
	}
	if r == nil && limit > 0 && len(s.out) >= limit {
		s.done = true
	}
}

// result orders the output and lists the providers to summarize: from 1.29 every provider
// of every tree a result uses, before it only the providers the results use.
func (s *search) result() Result {
	if s.req.Random != nil {
		s.req.Random.Shuffle(len(s.out), func(i, j int) { s.out[i], s.out[j] = s.out[j], s.out[i] })
	}
	// The providers the results use (or their trees' roots, from 1.29), in slot order.
	var used []int32
	for _, c := range s.out {
		for _, a := range c.Allocs {
			if s.req.NestedAware {
				used = append(used, s.v.RootSlot(a.Slot))
			} else {
				used = append(used, a.Slot)
			}
		}
	}
	used = sortedSet(used, s.v.Slots())
	summaries := used
	if s.req.NestedAware {
		summaries = nil
		for _, root := range used {
			summaries = append(summaries, s.v.Tree(root)...)
		}
		summaries = sortedSet(summaries, s.v.Slots())
	}
	return Result{Candidates: s.out, Summaries: summaries, truncated: s.steps > s.maxSteps()}
}

// sortedSet sorts the slots (all below n) and removes repeats, in place: by sorting when
// they are few, by marking them in a table of n when they are many.
func sortedSet(slots []int32, n int) []int32 {
	if len(slots)*16 < n {
		slices.Sort(slots)
		return slices.Compact(slots)
	}
	marked := make([]bool, n)
	for _, s := range slots {
		marked[s] = true
	}
	out := slots[:0]
	for s, ok := range marked {
		if ok {
			out = append(out, int32(s))
		}
	}
	return out
}
