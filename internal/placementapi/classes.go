package placementapi

import (
	"net/http"
	"time"
)

type classJSON struct {
	Name  string `json:"name"`
	Links []link `json:"links"`
}

func classWire(name string) classJSON {
	return classJSON{Name: name, Links: []link{{"self", "/resource_classes/" + name}}}
}

func (s *Server) handleListClasses(rq *request) error {
	rcs, err := s.db.ListResourceClasses(rq.ctx)
	if err != nil {
		return err
	}
	out := make([]classJSON, len(rcs))
	var modified time.Time
	for i, rc := range rcs {
		out[i] = classWire(rc.Name)
		m := rc.Modified()
		if m.IsZero() {
			m = time.Now()
		}
		if m.After(modified) {
			modified = m
		}
	}
	return rq.sendObject(http.StatusOK, ordered{{"resource_classes", out}}, modified)
}

func (s *Server) handleGetClass(rq *request) error {
	rc, err := s.db.GetResourceClass(rq.ctx, rq.param("name"))
	if err != nil {
		return err
	}
	return rq.sendJSON(http.StatusOK, classWire(rc.Name), rc.Modified())
}

type classBody struct {
	Name string `json:"name"`
}

func (s *Server) handleCreateClass(rq *request) error {
	var body classBody
	if err := rq.decodeBody(schemaResourceClass, &body); err != nil {
		return err
	}
	if _, err := s.db.CreateResourceClass(rq.ctx, body.Name); err != nil {
		return err
	}
	rq.setLocation("/resource_classes/" + body.Name)
	return rq.sendEmpty(http.StatusCreated)
}

// handlePutClass renames a custom class before 1.7 and creates-or-verifies it from 1.7.
func (s *Server) handlePutClass(rq *request) error {
	name := rq.param("name")
	if !rq.v.putClassIdempotent() {
		if err := requireJSONContent(rq); err != nil {
			return err
		}
		var body classBody
		if err := rq.decodeBody(schemaResourceClass, &body); err != nil {
			return err
		}
		rc, err := s.db.RenameResourceClass(rq.ctx, name, body.Name)
		if err != nil {
			return err
		}
		return rq.sendJSON(http.StatusOK, classWire(rc.Name), time.Time{})
	}
	if err := schemaResourceClass.Validate(map[string]any{"name": name}); err != nil {
		return badRequest("JSON does not validate: %s", err)
	}
	created, err := s.db.EnsureResourceClass(rq.ctx, name)
	if err != nil {
		return err
	}
	rq.setLocation("/resource_classes/" + name)
	if created {
		return rq.sendEmpty(http.StatusCreated)
	}
	return rq.sendEmpty(http.StatusNoContent)
}

func (s *Server) handleDeleteClass(rq *request) error {
	if err := s.db.DeleteResourceClass(rq.ctx, rq.param("name")); err != nil {
		return err
	}
	return rq.sendEmpty(http.StatusNoContent)
}

// requireJSONContent is the content-type check for handlers that need a body only at some
// microversions.
func requireJSONContent(rq *request) error {
	return rq.checkContentType()
}
