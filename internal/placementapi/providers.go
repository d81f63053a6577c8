package placementapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"ingot/internal/fleet"
	"ingot/internal/jsonstring"
	"ingot/internal/placement"
	"ingot/internal/store"
	"ingot/internal/uuid"
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
	// Written by hand: a fleet-wide listing is thousands of providers.
	b := make([]byte, 0, 64+len(ps)*512)
	b = append(b, `{"resource_providers": [`...)
	var modified time.Time
	for i, p := range ps {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendProvider(b, rq.v, view, p)
		if m := p.Modified(); m.After(modified) {
			modified = m
		}
	}
	b = append(b, "]}"...)
	return rq.sendRawJSON(http.StatusOK, b, modified)
}

// appendProvider appends p as the JSON of a provider at microversion v.
func appendProvider(b []byte, v version, view *fleet.View, p *fleet.Provider) []byte {
	b = append(b, `{"uuid": `...)
	b = jsonstring.Append(b, p.UUID)
	b = append(b, `, "name": `...)
	b = jsonstring.Append(b, p.Name)
	b = append(b, `, "generation": `...)
	b = strconv.AppendInt(b, p.Generation, 10)
	b = append(b, `, "links": [`...)
	for i, l := range providerLinks(v, p.UUID) {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"rel": `...)
		b = jsonstring.Append(b, l.Rel)
		b = append(b, `, "href": `...)
		b = jsonstring.Append(b, l.Href)
		b = append(b, '}')
	}
	b = append(b, ']')
	if v.nested() {
		b = append(b, `, "parent_provider_uuid": `...)
		if p.ParentID == 0 {
			b = append(b, "null"...)
		} else {
			b = jsonstring.Append(b, view.ProviderUUID(p.ParentID))
		}
		b = append(b, `, "root_provider_uuid": `...)
		b = jsonstring.Append(b, view.ProviderUUID(p.RootID))
	}
	return append(b, '}')
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
		np.UUID = uuid.New()
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
