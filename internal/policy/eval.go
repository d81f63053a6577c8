package policy

import "strings"

// env is what one evaluation reads: the caller's credentials and the target.
type env struct {
	c *Credentials
	t Target
}

// get returns the target value for key, as `%(key)s` sees it. A nil target
// is upstream's default target, {"project_id": ..., "user_id": ...} taken
// from the credentials (Python None, printed "None", when unset).
func (e env) get(key string) (string, bool) {
	if e.t != nil {
		v, ok := e.t[key]
		return v, ok
	}
	switch key {
	case "project_id":
		return orNone(e.c.ProjectID), true
	case "user_id":
		return orNone(e.c.UserID), true
	}
	return "", false
}

// orNone is str() of an optional credential value: unset is Python's None.
func orNone(s string) string {
	if s == "" {
		return "None"
	}
	return s
}

// eval reports whether n allows the request. It does not allocate for the
// checks Placement's rules use.
func (e env) eval(n *node) bool {
	switch n.kind {
	case nodeTrue:
		return true
	case nodeFalse:
		return false
	case nodeNot:
		return !e.eval(n.kids[0])
	case nodeAnd:
		for _, k := range n.kids {
			if !e.eval(k) {
				return false
			}
		}
		return true
	case nodeOr:
		for _, k := range n.kids {
			if e.eval(k) {
				return true
			}
		}
		return false
	case nodeRule:
		return n.target != nil && e.eval(n.target.root)
	case nodeRole:
		return e.role(n)
	case nodeGeneric:
		return e.generic(n)
	}
	return false
}

// role is oslo's RoleCheck: the expanded match equals one of the caller's
// roles, ignoring case.
func (e env) role(n *node) bool {
	want, ok, multi := n.match.single(e)
	if multi {
		want, ok = n.match.expand(e)
	}
	if !ok {
		return false
	}
	for _, r := range e.c.Roles {
		if strings.EqualFold(r, want) {
			return true
		}
	}
	return false
}

// generic is oslo's GenericCheck: the expanded match equals str() of the
// literal or of the credential value; for a list (roles) any element may.
func (e env) generic(n *node) bool {
	c := e.c
	switch n.attr {
	case attrLiteral:
		return n.match.equal(e, n.literal)
	case attrNone:
		return n.match.equal(e, "None")
	case attrUserID:
		return n.match.equal(e, orNone(c.UserID))
	case attrProjectID:
		return n.match.equal(e, orNone(c.ProjectID))
	case attrSystemScope:
		return n.match.equal(e, orNone(c.SystemScope))
	case attrSystem:
		return c.SystemScope != "" && n.match.equal(e, c.SystemScope)
	case attrIsAdminProject:
		if c.NotAdminProject {
			return n.match.equal(e, "False")
		}
		return n.match.equal(e, "True")
	case attrUserDomainID:
		return n.match.equal(e, orNone(c.UserDomainID))
	case attrProjectDomainID:
		return n.match.equal(e, orNone(c.ProjectDomainID))
	case attrDomainID:
		return n.match.equal(e, orNone(c.DomainID))
	case attrServiceUserID:
		return n.match.equal(e, orNone(c.ServiceUserID))
	case attrServiceUserDomainID:
		return n.match.equal(e, orNone(c.ServiceUserDomainID))
	case attrServiceProjectID:
		return n.match.equal(e, orNone(c.ServiceProjectID))
	case attrServiceProjectDomainID:
		return n.match.equal(e, orNone(c.ServiceProjectDomainID))
	case attrRoles:
		for _, r := range c.Roles {
			if n.match.equal(e, r) {
				return true
			}
		}
	case attrServiceRoles:
		for _, r := range c.ServiceRoles {
			if n.match.equal(e, r) {
				return true
			}
		}
	}
	return false
}
