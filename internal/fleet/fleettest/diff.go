// Package fleettest compares fleet views for tests: two views of the same data must agree
// on every provider and on everything derived from them, whatever slots they use.
package fleettest

import (
	"fmt"
	"reflect"

	"ingot/internal/fleet"
)

// Diff returns "" when got and want hold the same providers (field for field) and agree
// on the names of the classes and traits those use and on every derived index: roots,
// trees, sharing providers and the trees they serve, parents and
// roots. Index lists are compared as provider ids in order, so a view whose slots differ
// (one updated in place, with holes where providers were deleted) still matches one built
// from scratch. Otherwise it describes the first difference found.
func Diff(got, want *fleet.View) string {
	if got.Len() != want.Len() {
		return fmt.Sprintf("%d providers; want %d", got.Len(), want.Len())
	}
	gotPs, wantPs := providers(got), providers(want)
	for i, w := range wantPs {
		g := gotPs[i]
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("provider %d is\n  %+v\nwant\n  %+v", i, *g, *w)
		}
		if p, ok := got.Provider(w.UUID); !ok || p.ID != w.ID {
			return fmt.Sprintf("Provider(%s) does not find provider %d", w.UUID, w.ID)
		}
		if p, ok := got.ProviderByID(w.ID); !ok || p.UUID != w.UUID {
			return fmt.Sprintf("ProviderByID(%d) does not find %s", w.ID, w.UUID)
		}
		for _, inv := range w.Inventories {
			if g, w := got.ClassName(inv.ClassID), want.ClassName(inv.ClassID); g != w {
				return fmt.Sprintf("class %d is named %q; want %q", inv.ClassID, g, w)
			}
		}
		for _, tr := range w.Traits {
			if g, w := got.TraitName(tr), want.TraitName(tr); g != w {
				return fmt.Sprintf("trait %d is named %q; want %q", tr, g, w)
			}
		}
		gs, _ := got.SlotOf(w.ID)
		ws, _ := want.SlotOf(w.ID)
		if g, w := idOf(got, got.RootSlot(gs)), idOf(want, want.RootSlot(ws)); g != w {
			return fmt.Sprintf("provider %d: root %d; want %d", i, g, w)
		}
		if g, w := idOf(got, got.ParentSlot(gs)), idOf(want, want.ParentSlot(ws)); g != w {
			return fmt.Sprintf("provider %d: parent %d; want %d", i, g, w)
		}
		if g, w := got.IsSharing(gs), want.IsSharing(ws); g != w {
			return fmt.Sprintf("provider %d: sharing %v; want %v", i, g, w)
		}
		if g, w := ids(got, got.AnchorsOf(gs)), ids(want, want.AnchorsOf(ws)); !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("provider %d: anchors %v; want %v", i, g, w)
		}
	}
	if g, w := got.HasTrees(), want.HasTrees(); g != w {
		return fmt.Sprintf("HasTrees %v; want %v", g, w)
	}
	if g, w := ids(got, got.Roots()), ids(want, want.Roots()); !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("roots %v; want %v", g, w)
	}
	if g, w := ids(got, got.Sharing()), ids(want, want.Sharing()); !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("sharing providers %v; want %v", g, w)
	}
	for _, root := range want.Roots() {
		id := idOf(want, root)
		gs, _ := got.SlotOf(id)
		if g, w := ids(got, got.Tree(gs)), ids(want, want.Tree(root)); !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("tree of %d: %v; want %v", id, g, w)
		}
		if g, w := ids(got, got.SharedWith(gs)), ids(want, want.SharedWith(root)); !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("shared with tree %d: %v; want %v", id, g, w)
		}
	}
	return ""
}

// providers lists v's providers in id order.
func providers(v *fleet.View) []*fleet.Provider {
	var ps []*fleet.Provider
	v.Providers(func(p *fleet.Provider) bool {
		ps = append(ps, p)
		return true
	})
	return ps
}

// idOf returns the id of the provider in slot s, or -1 for slot -1.
func idOf(v *fleet.View, s int32) int64 {
	if s < 0 {
		return -1
	}
	return v.Slot(s).ID
}

// ids maps slots to provider ids, keeping their order.
func ids(v *fleet.View, slots []int32) []int64 {
	out := make([]int64, len(slots))
	for i, s := range slots {
		out[i] = idOf(v, s)
	}
	return out
}
