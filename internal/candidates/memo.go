package candidates

import (
	"fmt"
	"slices"
	"sync"

	"ingot/internal/fleet"
)

// Memo carries the results of one request from one search to the next, so that a search of
// a successor view (after an allocation, say) redoes only the anchors whose trees changed.
// An anchor's results depend only on the providers of its tree when no provider shares its
// inventory (no MISC_SHARES_VIA_AGGREGATE anywhere), and a view never changes a provider
// object (a changed provider is a new one), so a remembered anchor is reused when its tree
// holds the same provider objects in the same order. The memo applies only where the order
// of the search does not matter: with Random set and no Limit (every result is kept, then
// shuffled), and only when the whole search ends within MaxCandidates and the step budget
// (otherwise Find searches afresh). Use one Memo per distinct request; a Memo is safe for
// concurrent use (searches that share it take turns).
type Memo struct {
	mu      sync.Mutex
	sig     string
	anchors map[int32]*anchorMemo
}

// anchorMemo is what the search found at one anchor.
type anchorMemo struct {
	tree    []*fleet.Provider
	results []Candidate
	steps   int
}

// signature describes everything besides the anchor's tree that the search of an anchor
// depends on: the request and what the view derives for it.
func (s *search) signature() string {
	r := s.req
	r.Random, r.Memo = nil, nil
	roots := make([]int32, len(s.groups))
	for i, g := range s.groups {
		roots[i] = g.treeRoot
	}
	return fmt.Sprintf("%+v|%v|%v", r, s.nestedUnaware, roots)
}

// memoUsable reports whether the search may use req.Memo.
func (s *search) memoUsable() bool {
	return s.req.Memo != nil && s.req.Random != nil && s.req.Limit == 0 && len(s.v.Sharing()) == 0
}

// runMemo searches depth first, reusing the memo's results for unchanged trees. It reports
// false, having reset the search, when the search would have stopped early: the caller then
// searches without the memo.
func (s *search) runMemo() bool {
	m := s.req.Memo
	m.mu.Lock()
	defer m.mu.Unlock()
	if sig := s.signature(); sig != m.sig || m.anchors == nil {
		m.sig, m.anchors = sig, map[int32]*anchorMemo{}
	}
	fresh := map[int32]*anchorMemo{}
	for _, a := range s.v.Roots() {
		if !s.rootOK(a) {
			continue
		}
		tree := s.v.Tree(a)
		if am := m.anchors[a]; am != nil && sameProviders(s.v, tree, am.tree) {
			s.out = append(s.out, am.results...)
			s.emitted += len(am.results)
			s.steps += am.steps
			fresh[a] = am
			continue
		}
		start, steps := len(s.out), s.steps
		if s.buildDims(a) {
			s.walk = walker{s: s, dims: s.dims, chosen: s.walk.chosen[:0], acc: s.walk.acc[:0]}
			s.walk.dfs(0)
		}
		if s.done {
			break
		}
		// A copy: the result is shuffled in place.
		am := &anchorMemo{tree: make([]*fleet.Provider, len(tree)), results: slices.Clone(s.out[start:]), steps: s.steps - steps}
		for i, slot := range tree {
			am.tree[i] = s.v.Slot(slot)
		}
		fresh[a] = am
	}
	if s.done || s.steps > s.maxSteps() || s.req.MaxCandidates > 0 && s.emitted >= s.req.MaxCandidates {
		s.reset()
		return false
	}
	m.anchors = fresh
	return true
}

// sameProviders reports whether the slots hold exactly the providers of prev, in order.
func sameProviders(v *fleet.View, slots []int32, prev []*fleet.Provider) bool {
	if len(slots) != len(prev) {
		return false
	}
	for i, slot := range slots {
		if v.Slot(slot) != prev[i] {
			return false
		}
	}
	return true
}
