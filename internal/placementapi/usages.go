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
	return rq.sendObject(http.StatusOK, ordered{{"resource_provider_generation", gen}, {"usages", usagesObject(usages)}}, time.Now())
}

// usagesObject is the usages in the store's (class id) order.
func usagesObject(u store.Usages) ordered {
	o := make(ordered, len(u))
	for i, cu := range u {
		o[i] = member{cu.Class, cu.Used}
	}
	return o
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
		return rq.sendObject(http.StatusOK, ordered{{"usages", usagesObject(total)}}, time.Now())
	}
	out := make(ordered, 0, len(byType))
	for _, tu := range byType {
		// Upstream sets a type's consumer_count right after its first class, and later
		// classes follow it.
		m := make(ordered, 0, len(tu.Usage)+1)
		for i, cu := range tu.Usage {
			m = append(m, member{cu.Class, cu.Used})
			if i == 0 {
				m = append(m, member{"consumer_count", tu.ConsumerCount})
			}
		}
		out = append(out, member{tu.Type, m})
	}
	return rq.sendObject(http.StatusOK, ordered{{"usages", out}}, time.Now())
}
