package placementapi

import (
	"net/http"
	"time"
)

func (s *Server) handleGetAggregates(rq *request) error {
	aggs, gen, modified, err := s.db.ProviderAggregates(rq.ctx, rq.param("uuid"))
	if err != nil {
		return err
	}
	return rq.sendAggregates(aggs, gen, modified)
}

func (rq *request) sendAggregates(aggs []string, gen int64, modified time.Time) error {
	body := ordered{{"aggregates", aggs}}
	if rq.v.aggregateGeneration() {
		body = append(body, member{"resource_provider_generation", gen})
	}
	return rq.sendObject(http.StatusOK, body, modified)
}

type aggregatesBody struct {
	Aggregates []string `json:"aggregates"`
	Generation int64    `json:"resource_provider_generation"`
}

func (s *Server) handleSetAggregates(rq *request) error {
	uuid := rq.param("uuid")
	var aggs []string
	var gen *int64
	if rq.v.aggregateGeneration() {
		var body aggregatesBody
		if err := rq.decodeBody(schemaPutAggregates119, &body); err != nil {
			return s.providerFirst(rq, uuid, err)
		}
		aggs, gen = body.Aggregates, &body.Generation
	} else if err := rq.decodeBody(schemaPutAggregates, &aggs); err != nil {
		return s.providerFirst(rq, uuid, err)
	}
	if aggs == nil {
		aggs = []string{}
	}
	newGen, err := s.db.SetProviderAggregates(rq.ctx, uuid, gen, aggs)
	if err != nil {
		return err
	}
	return rq.sendAggregates(aggs, newGen, time.Now())
}
