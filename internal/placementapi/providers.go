package placementapi

import (
	"encoding/json"
	"net/http"
	"time"

	"ingot/internal/fleet"
	"ingot/internal/placement"
	"ingot/internal/store"
)

type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// providerJSON is a resource provider on the wire; the tree fields exist from 1.14.
type providerJSON struct {
	UUID       string  `json:"uuid"`
	Name       string  `json:"name"`
	Generation int64   `json:"generation"`
	Links      []link  `json:"links"`
	Parent     *string `json:"parent_provider_uuid,omitempty"`
	Root       *string `json:"root_provider_uuid,omitempty"`
	nested     bool
}

func (p providerJSON) MarshalJSON() ([]byte, error) {
	type base struct {
		UUID       string `json:"uuid"`
		Name       string `json:"name"`
		Generation int64  `json:"generation"`
		Links      []link `json:"links"`
	}
	b := base{p.UUID, p.Name, p.Generation, p.Links}
	if !p.nested {
		return json.Marshal(b)
	}
	return json.Marshal(struct {
		base
		Parent *string `json:"parent_provider_uuid"`
		Root   *string `json:"root_provider_uuid"`
	}{b, p.Parent, p.Root})
}

func providerLinks(v version, uuid string) []link {
	self := "/resource_providers/" + uuid
	links := []link{{"self", self}, {"inventories", self + "/inventories"}, {"usages", self + "/usages"}}
	if v.aggregates() {
		links = append(links, link{"aggregates", self + "/aggregates"})
	}
	if v.traits() {
		links = append(links, link{"traits", self + "/traits"})
	}
	if v.allocationsLink() {
		links = append(links, link{"allocations", self + "/allocations"})
	}
	return links
}

func toProviderJSON(v version, uuid, name string, gen int64, parent, root string) providerJSON {
	p := providerJSON{UUID: uuid, Name: name, Generation: gen, Links: providerLinks(v, uuid), nested: v.nested()}
	if p.nested {
		r := root
		p.Root = &r
		if parent != "" {
			pp := parent
			p.Parent = &pp
		}
	}
	return p
}

func providerWire(v version, p placement.Provider) providerJSON {
	return toProviderJSON(v, p.UUID, p.Name, p.Generation, p.ParentUUID, p.RootUUID)
}

func (s *Server) handleListProviders(rq *request) error {
	schema := schemaListProviders10
	switch {
	case rq.v.requiredFilter():
		schema = schemaListProviders118
	case rq.v.nested():
		schema = schemaListProviders114
	case rq.v.resourcesFilter():
		schema = schemaListProviders14
	case rq.v.memberOf():
		schema = schemaListProviders13
	}
	if err := rq.validateQuery(schema); err != nil {
		return err
	}
	var f fleet.ProviderFilter
	if vals, ok := rq.query["member_of"]; ok {
		q, err := parseMemberOf(vals, "", rq.v)
		if err != nil {
			return err
		}
		f.MemberOf, f.ForbiddenAggregates = q.anyOf, q.forbidden
	}
	if vals, ok := rq.query["required"]; ok {
		q, err := parseRequired(vals, rq.v)
		if err != nil {
			return err
		}
		f.Required, f.Forbidden = q.anyOf, q.forbidden
	}
	f.UUID, _ = rq.queryLast("uuid")
	f.Name, _ = rq.queryLast("name")
	f.InTree, _ = rq.queryLast("in_tree")
	if res, ok := rq.queryLast("resources"); ok {
		amounts, _, err := parseResources(res)
		if err != nil {
			return err
		}
		f.Resources = amounts
	}
	ps, view, err := s.db.ListProviders(rq.ctx, f)
	if err != nil {
		return err
	}
	out := make([]providerJSON, 0, len(ps))
	var modified time.Time
	for _, p := range ps {
		parent := ""
		if p.ParentID != 0 {
			parent = view.ProviderUUID(p.ParentID)
		}
		out = append(out, toProviderJSON(rq.v, p.UUID, p.Name, p.Generation, parent, view.ProviderUUID(p.RootID)))
		if m := p.Modified(); m.After(modified) {
			modified = m
		}
	}
	return rq.sendJSON(http.StatusOK, map[string]any{"resource_providers": out}, modified)
}

func (s *Server) handleGetProvider(rq *request) error {
	p, err := s.db.GetProvider(rq.ctx, rq.param("uuid"))
	if err != nil {
		return err
	}
	return rq.sendJSON(http.StatusOK, providerWire(rq.v, p), p.Modified())
}

type providerBody struct {
	Name       string  `json:"name"`
	UUID       string  `json:"uuid"`
	ParentUUID *string `json:"parent_provider_uuid"`
}

func (s *Server) handleCreateProvider(rq *request) error {
	schema := schemaPostProvider
	if rq.v.nested() {
		schema = schemaPostProvider114
	}
	var body providerBody
	if err := rq.decodeBody(schema, &body); err != nil {
		return err
	}
	np := store.NewProvider{Name: body.Name}
	if body.UUID != "" {
		np.UUID, _ = canonicalUUID(body.UUID)
	} else {
		np.UUID = newUUID()
	}
	if body.ParentUUID != nil {
		np.ParentUUID = *body.ParentUUID
		if c, ok := canonicalUUID(np.ParentUUID); ok {
			np.ParentUUID = c
		}
	}
	p, err := s.db.CreateProvider(rq.ctx, np)
	if err != nil {
		return err
	}
	rq.setLocation("/resource_providers/" + p.UUID)
	if rq.v.createReturnsBody() {
		return rq.sendJSON(http.StatusOK, providerWire(rq.v, p), p.Modified())
	}
	return rq.sendEmpty(http.StatusCreated)
}

func (s *Server) handleUpdateProvider(rq *request) error {
	uuid := rq.param("uuid")
	schema := schemaPutProvider
	if rq.v.nested() {
		schema = schemaPutProvider114
	}
	raw, err := rq.readBody()
	if err != nil {
		return s.providerFirst(rq, uuid, err)
	}
	var body providerBody
	if err := decodeJSON(raw, schema, &body); err != nil {
		return s.providerFirst(rq, uuid, err)
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(raw, &keys)
	u := store.ProviderUpdate{Name: body.Name, AllowReparent: rq.v.reparent()}
	if _, ok := keys["parent_provider_uuid"]; ok {
		u.SetParent = true
		if body.ParentUUID != nil {
			u.ParentUUID = *body.ParentUUID
			if c, ok := canonicalUUID(u.ParentUUID); ok {
				u.ParentUUID = c
			}
		}
	}
	p, err := s.db.UpdateProvider(rq.ctx, uuid, u)
	if err != nil {
		return err
	}
	return rq.sendJSON(http.StatusOK, providerWire(rq.v, p), p.UpdatedAt)
}

func (s *Server) handleDeleteProvider(rq *request) error {
	if err := s.db.DeleteProvider(rq.ctx, rq.param("uuid")); err != nil {
		return err
	}
	return rq.sendEmpty(http.StatusNoContent)
}
