package fleet

import "sort"

// ShareTrait is the standard trait that makes a provider share its inventory with every
// tree that has a member in one of its aggregates.
const ShareTrait = "MISC_SHARES_VIA_AGGREGATE"

// index holds what the view derives from tree positions, traits and aggregates. It is
// built on first use and shared by successor views while those do not change.
type index struct {
	roots     []int32   // slots of root providers, in slot order
	rootOf    []int32   // slot -> slot of its root
	parentOf  []int32   // slot -> slot of its parent, -1 for a root
	tree      [][]int32 // root slot -> slots of every provider in the tree, in slot order
	hasTrees  bool      // some provider has a parent
	sharing   []int32   // slots of sharing providers
	isSharing map[int32]bool
	// sharedWith: anchor (root) slot -> sharing provider slots usable by that tree;
	// anchorsOf: sharing provider slot -> anchor slots (its own root included).
	sharedWith [][]int32 // by anchor slot
	anchorsOf  map[int32][]int32
}

// index returns the view's indexes, building them on first use (two goroutines may both
// build them; either result is correct).
func (v *View) index() *index {
	if x := v.idx.Load(); x != nil {
		return x
	}
	x := v.buildIndex()
	v.idx.Store(x)
	return x
}

func (v *View) buildIndex() *index {
	x := &index{tree: make([][]int32, len(v.providers)), isSharing: map[int32]bool{},
		rootOf: make([]int32, len(v.providers)), parentOf: make([]int32, len(v.providers)),
		sharedWith: make([][]int32, len(v.providers)), anchorsOf: map[int32][]int32{}}
	shareTrait, haveShareTrait := v.TraitID(ShareTrait)
	aggMembers := map[string][]int32{}
	for s, p := range v.providers {
		if p == nil {
			continue
		}
		slot := int32(s)
		if p.ParentID == 0 {
			x.roots = append(x.roots, slot)
		} else {
			x.hasTrees = true
		}
		root := v.slotOf[p.RootID]
		x.tree[root] = append(x.tree[root], slot)
		x.rootOf[slot], x.parentOf[slot] = root, -1
		if p.ParentID != 0 {
			x.parentOf[slot] = v.slotOf[p.ParentID]
		}
		if haveShareTrait && p.HasTrait(shareTrait) {
			x.sharing = append(x.sharing, slot)
			x.isSharing[slot] = true
		}
		for _, a := range p.Aggregates {
			aggMembers[a] = append(aggMembers[a], slot)
		}
	}
	for _, sp := range x.sharing {
		p := v.providers[sp]
		anchors := map[int32]bool{v.slotOf[p.RootID]: true}
		for _, a := range p.Aggregates {
			for _, m := range aggMembers[a] {
				anchors[v.slotOf[v.providers[m].RootID]] = true
			}
		}
		list := make([]int32, 0, len(anchors))
		for a := range anchors {
			list = append(list, a)
		}
		sort.Slice(list, func(i, j int) bool { return list[i] < list[j] })
		x.anchorsOf[sp] = list
		for _, a := range list {
			x.sharedWith[a] = append(x.sharedWith[a], sp)
		}
	}
	return x
}

// Roots returns the slots of root providers in slot order.
func (v *View) Roots() []int32 { return v.index().roots }

// Tree returns the slots of every provider in the tree rooted at root, in slot order.
func (v *View) Tree(root int32) []int32 { return v.index().tree[root] }

// HasTrees reports whether any provider has a parent.
func (v *View) HasTrees() bool { return v.index().hasTrees }

// Sharing returns the slots of sharing providers (those with MISC_SHARES_VIA_AGGREGATE).
func (v *View) Sharing() []int32 { return v.index().sharing }

// IsSharing reports whether the provider in slot s is a sharing provider.
func (v *View) IsSharing(s int32) bool { return v.index().isSharing[s] }

// SharedWith returns the sharing providers whose inventory the tree rooted at anchor may
// use: those with an aggregate in common with any provider of the tree, and any sharing
// provider in the tree itself.
func (v *View) SharedWith(anchor int32) []int32 { return v.index().sharedWith[anchor] }

// AnchorsOf returns the roots of the trees the sharing provider in slot s serves (its own
// root included), in slot order.
func (v *View) AnchorsOf(s int32) []int32 { return v.index().anchorsOf[s] }

// RootSlot returns the slot of the root of the provider in slot s.
func (v *View) RootSlot(s int32) int32 { return v.index().rootOf[s] }

// ParentSlot returns the slot of the parent of the provider in slot s, or -1 for a root.
func (v *View) ParentSlot(s int32) int32 { return v.index().parentOf[s] }
