package placementapi

import (
	"net/http"
	"time"

	"ingot/internal/store"
)

func (s *Server) handleProviderUsages(rq *request) error {
	uuid := rq.param("uuid")
	usages, gen, err := s.db.ProviderUsages(rq.ctx, uuid)
	if err != nil {
		return notFoundWithCause(err, "No resource provider with uuid %s found: ", uuid)
	}
	return rq.sendJSON(http.StatusOK, map[string]any{"resource_provider_generation": gen, "usages": usages}, time.Now())
}

func (s *Server) handleTotalUsages(rq *request) error {
	schema := schemaUsages
	if rq.v.consumerTypes() {
		schema = schemaUsages138
	}
	if err := rq.validateQuery(schema); err != nil {
		return err
	}
	f := store.UsageFilter{}
	f.ProjectID, _ = rq.queryLast("project_id")
	f.UserID, _ = rq.queryLast("user_id")
	f.ConsumerType, _ = rq.queryLast("consumer_type")
	total, byType, err := s.db.TotalUsages(rq.ctx, f)
	if err != nil {
		return err
	}
	if !rq.v.consumerTypes() {
		return rq.sendJSON(http.StatusOK, map[string]any{"usages": total}, time.Now())
	}
	out := make(map[string]map[string]int64, len(byType))
	for typ, tu := range byType {
		m := make(map[string]int64, len(tu.Usage)+1)
		for c, used := range tu.Usage {
			m[c] = used
		}
		m["consumer_count"] = tu.ConsumerCount
		out[typ] = m
	}
	return rq.sendJSON(http.StatusOK, map[string]any{"usages": out}, time.Now())
}
