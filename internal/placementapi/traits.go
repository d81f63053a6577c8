package placementapi

import (
	"net/http"
	"strings"
	"time"

	"ingot/internal/store"
)

func (s *Server) handleListTraits(rq *request) error {
	if err := rq.validateQuery(schemaListTraits); err != nil {
		return err
	}
	var f store.TraitFilter
	if name, ok := rq.queryLast("name"); ok {
		op, value, found := strings.Cut(name, ":")
		if !found {
			return badRequest("Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: \"%s\"", name)
		}
		switch op {
		case "in":
			f.NameIn = strings.Split(value, ",")
		case "startswith":
			f.Prefix = value
		}
	}
	if assoc, ok := rq.queryLast("associated"); ok {
		switch strings.ToLower(assoc) {
		case "true":
			t := true
			f.Associated = &t
		case "false":
			t := false
			f.Associated = &t
		default:
			return badRequest("The query parameter \"associated\" only accepts \"true\" or \"false\"")
		}
	}
	traits, err := s.db.ListTraits(rq.ctx, f)
	if err != nil {
		return err
	}
	names, modified := traitNames(traits)
	return rq.sendObject(http.StatusOK, ordered{{"traits", names}}, modified)
}

func traitNames(traits []store.Trait) ([]string, time.Time) {
	names := make([]string, len(traits))
	var modified time.Time
	for i, t := range traits {
		names[i] = t.Name
		if m := t.Modified(); m.After(modified) {
			modified = m
		}
	}
	return names, modified
}

func (s *Server) handleGetTrait(rq *request) error {
	t, err := s.db.GetTrait(rq.ctx, rq.param("name"))
	if err != nil {
		return err
	}
	rq.cacheHeaders(t.CreatedAt)
	return rq.sendEmpty(http.StatusNoContent)
}

func (s *Server) handlePutTrait(rq *request) error {
	name := rq.param("name")
	if err := schemaCustomTrait.Validate(name); err != nil {
		return badRequest(`The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"`)
	}
	t, created, err := s.db.EnsureTrait(rq.ctx, name)
	if err != nil {
		return err
	}
	rq.setLocation("/traits/" + name)
	rq.cacheHeaders(t.CreatedAt)
	if created {
		return rq.sendEmpty(http.StatusCreated)
	}
	return rq.sendEmpty(http.StatusNoContent)
}

func (s *Server) handleDeleteTrait(rq *request) error {
	if err := s.db.DeleteTrait(rq.ctx, rq.param("name")); err != nil {
		return err
	}
	return rq.sendEmpty(http.StatusNoContent)
}

func (s *Server) handleGetProviderTraits(rq *request) error {
	uuid := rq.param("uuid")
	traits, gen, err := s.db.ProviderTraits(rq.ctx, uuid)
	if err != nil {
		return notFoundWithCause(err, "No resource provider with uuid %s found: ", uuid)
	}
	names, modified := traitNames(traits)
	return rq.sendObject(http.StatusOK, ordered{{"traits", names}, {"resource_provider_generation", gen}}, modified)
}

type providerTraitsBody struct {
	Traits     []string `json:"traits"`
	Generation int64    `json:"resource_provider_generation"`
}

func (s *Server) handleSetProviderTraits(rq *request) error {
	uuid := rq.param("uuid")
	var body providerTraitsBody
	if err := rq.decodeBody(schemaSetProviderTraits, &body); err != nil {
		return err
	}
	traits, gen, err := s.db.SetProviderTraits(rq.ctx, uuid, body.Generation, body.Traits)
	if err != nil {
		return err
	}
	names, modified := traitNames(traits)
	return rq.sendObject(http.StatusOK, ordered{{"traits", names}, {"resource_provider_generation", gen}}, modified)
}

func (s *Server) handleDeleteProviderTraits(rq *request) error {
	if err := s.db.DeleteProviderTraits(rq.ctx, rq.param("uuid")); err != nil {
		return err
	}
	return rq.sendEmpty(http.StatusNoContent)
}
