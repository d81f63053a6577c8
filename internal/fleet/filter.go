package fleet

import (
	"sort"
	"strings"

	"ingot/internal/placement"
)

// ProviderFilter selects providers for GET /resource_providers. Zero fields do not restrict.
type ProviderFilter struct {
	Name string
	UUID string
	// MemberOf is an AND of any-of sets of aggregate UUIDs; ForbiddenAggregates excludes
	// providers in any of those aggregates.
	MemberOf            [][]string
	ForbiddenAggregates []string
	// InTree restricts to providers in the same tree as this provider UUID.
	InTree string
	// Resources requires capacity for each amount on the provider itself.
	Resources map[string]int64
	// Required is an AND of any-of sets of trait names; Forbidden excludes providers with
	// any of these traits.
	Required  [][]string
	Forbidden []string
}

// Filter returns the providers of the view matching f.
func (v *View) Filter(f ProviderFilter) ([]*Provider, error) {
	classNames := make([]string, 0, len(f.Resources))
	for c := range f.Resources {
		classNames = append(classNames, c)
	}
	sort.Strings(classNames)
	type need struct {
		class  int64
		amount int64
	}
	var needs []need
	for _, c := range classNames {
		id, ok := v.ClassID(c)
		if !ok {
			return nil, placement.Invalidf("Invalid resource class in resources parameter: No such resource class %s.", c)
		}
		needs = append(needs, need{id, f.Resources[c]})
	}
	required, forbidden, err := v.TraitSets(f.Required, f.Forbidden)
	if err != nil {
		return nil, err
	}
	var root int64 = -1
	if f.InTree != "" {
		p, ok := v.Provider(f.InTree)
		if !ok {
			return nil, nil
		}
		root = p.RootID
	}
	var out []*Provider
	v.Providers(func(p *Provider) bool {
		if f.Name != "" && p.Name != f.Name || f.UUID != "" && p.UUID != f.UUID || root >= 0 && p.RootID != root {
			return true
		}
		for _, n := range needs {
			inv, ok := p.Inventory(n.class)
			if !ok || !inv.Fits(inv.Used, n.amount) {
				return true
			}
		}
		if !MatchTraits(p, required, forbidden) || !MatchAggregates(p, f.MemberOf, f.ForbiddenAggregates) {
			return true
		}
		out = append(out, p)
		return true
	})
	return out, nil
}

// TraitSets maps required any-of sets and forbidden traits to ids. An unknown trait is an
// error.
func (v *View) TraitSets(required [][]string, forbidden []string) ([][]int64, []int64, error) {
	var unknown []string
	lookup := func(name string) int64 {
		id, ok := v.TraitID(name)
		if !ok {
			unknown = append(unknown, name)
		}
		return id
	}
	req := make([][]int64, len(required))
	for i, set := range required {
		for _, n := range set {
			req[i] = append(req[i], lookup(n))
		}
	}
	var forb []int64
	for _, n := range forbidden {
		forb = append(forb, lookup(n))
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, nil, placement.Invalidf("Invalid trait(s) in \"required\" parameter: No such trait(s): %s.", strings.Join(unknown, ", "))
	}
	return req, forb, nil
}

// MatchTraits reports whether the provider has a trait of every any-of set and none of
// the forbidden ones.
func MatchTraits(p *Provider, required [][]int64, forbidden []int64) bool {
	for _, id := range forbidden {
		if p.HasTrait(id) {
			return false
		}
	}
	for _, set := range required {
		hit := false
		for _, id := range set {
			if p.HasTrait(id) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// MatchAggregates reports whether the provider is directly in an aggregate of every any-of
// set and in none of the forbidden ones.
func MatchAggregates(p *Provider, memberOf [][]string, forbidden []string) bool {
	for _, a := range forbidden {
		if p.InAggregate(a) {
			return false
		}
	}
	for _, set := range memberOf {
		hit := false
		for _, a := range set {
			if p.InAggregate(a) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}
