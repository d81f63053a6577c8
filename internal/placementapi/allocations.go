package placementapi

import (
	"net/http"
	"sort"
	"time"

	js "ingot/internal/jsonschema"
	"ingot/internal/placement"
	"ingot/internal/store"
)

type allocationResources struct {
	Resources map[string]int64 `json:"resources"`
}

// consumerAllocationsBody is one consumer's allocations in a PUT (1.12+), POST or reshaper
// body.
type consumerAllocationsBody struct {
	Allocations        map[string]allocationResources `json:"allocations"`
	ProjectID          string                         `json:"project_id"`
	UserID             string                         `json:"user_id"`
	ConsumerGeneration *int64                         `json:"consumer_generation"`
	ConsumerType       string                         `json:"consumer_type"`
}

// legacyAllocationsBody is the list form of PUT /allocations before 1.12.
type legacyAllocationsBody struct {
	Allocations []struct {
		ResourceProvider struct {
			UUID string `json:"uuid"`
		} `json:"resource_provider"`
		Resources map[string]int64 `json:"resources"`
	} `json:"allocations"`
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
}

// toDomain converts a consumer's body into the store's write request at this request's
// microversion.
func (rq *request) toDomain(consumer string, b consumerAllocationsBody) placement.ConsumerAllocations {
	ca := placement.ConsumerAllocations{
		ConsumerUUID: consumer,
		ProjectID:    b.ProjectID,
		UserID:       b.UserID,
	}
	if ca.ProjectID == "" {
		ca.ProjectID, ca.UserID = store.IncompleteConsumerID, store.IncompleteConsumerID
	}
	if rq.v.consumerGenerations() {
		ca.CheckGeneration = true
		ca.Generation = b.ConsumerGeneration
	}
	if rq.v.consumerTypes() {
		ca.ConsumerType = b.ConsumerType
	}
	for _, rp := range sortedKeys(b.Allocations) {
		res := b.Allocations[rp]
		for _, class := range sortedKeys(res.Resources) {
			ca.Allocations = append(ca.Allocations, placement.Allocation{ProviderUUID: rp, ResourceClass: class, Used: res.Resources[class]})
		}
	}
	return ca
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *Server) handleGetAllocations(rq *request) error {
	consumer := rq.param("consumer_uuid")
	c, allocs, ok, err := s.db.ConsumerAllocations(rq.ctx, consumer)
	if err != nil {
		return err
	}
	byProvider := map[string]map[string]any{}
	var modified time.Time
	for _, a := range allocs {
		e := byProvider[a.ProviderUUID]
		if e == nil {
			e = map[string]any{"resources": map[string]int64{}}
			byProvider[a.ProviderUUID] = e
		}
		e["resources"].(map[string]int64)[a.ResourceClass] = a.Used
		e["generation"] = a.ProviderGeneration
		if a.CreatedAt.After(modified) {
			modified = a.CreatedAt
		}
	}
	body := map[string]any{"allocations": byProvider}
	if ok && rq.v.allocationsDict() {
		body["project_id"] = c.ProjectID
		body["user_id"] = c.UserID
		if rq.v.consumerGenerations() {
			body["consumer_generation"] = c.Generation
		}
		if rq.v.consumerTypes() {
			t := c.Type
			if t == "" {
				t = store.DefaultConsumerType
			}
			body["consumer_type"] = t
		}
	}
	return rq.sendJSON(http.StatusOK, body, modified)
}

func (s *Server) handleProviderAllocations(rq *request) error {
	uuid := rq.param("uuid")
	allocs, gen, err := s.db.ProviderAllocations(rq.ctx, uuid)
	if err != nil {
		return notFoundWithCause(err, "Resource provider '%s' not found: ", uuid)
	}
	byConsumer := map[string]map[string]any{}
	var modified time.Time
	for _, a := range allocs {
		e := byConsumer[a.ConsumerUUID]
		if e == nil {
			e = map[string]any{"resources": map[string]int64{}}
			byConsumer[a.ConsumerUUID] = e
		}
		e["resources"].(map[string]int64)[a.ResourceClass] = a.Used
		if rq.v.consumerGenerations() {
			e["consumer_generation"] = a.ConsumerGeneration
		}
		if a.CreatedAt.After(modified) {
			modified = a.CreatedAt
		}
	}
	return rq.sendJSON(http.StatusOK, map[string]any{"allocations": byConsumer, "resource_provider_generation": gen}, modified)
}

func (rq *request) putAllocationsSchema() *js.Validator {
	switch {
	case rq.v.consumerTypes():
		return schemaPutAllocations138
	case rq.v.mappings():
		return schemaPutAllocations134
	case rq.v.consumerGenerations():
		return schemaPutAllocations128
	case rq.v.allocationsDict():
		return schemaPutAllocations112
	case rq.v.allocationOwners():
		return schemaPutAllocations18
	}
	return schemaPutAllocations10
}

func (s *Server) handlePutAllocations(rq *request) error {
	consumer, ok := canonicalUUID(rq.param("consumer_uuid"))
	if !ok {
		return badRequest("Malformed consumer_uuid: %s", rq.param("consumer_uuid"))
	}
	raw, err := rq.readBody()
	if err != nil {
		return err
	}
	var body consumerAllocationsBody
	if rq.v.allocationsDict() {
		if err := decodeJSON(raw, rq.putAllocationsSchema(), &body); err != nil {
			return err
		}
	} else {
		var legacy legacyAllocationsBody
		if err := decodeJSON(raw, rq.putAllocationsSchema(), &legacy); err != nil {
			return err
		}
		body.Allocations = map[string]allocationResources{}
		for _, a := range legacy.Allocations {
			body.Allocations[a.ResourceProvider.UUID] = allocationResources{Resources: a.Resources}
		}
		body.ProjectID, body.UserID = legacy.ProjectID, legacy.UserID
	}
	req := rq.toDomain(consumer, body)
	if err := s.db.ReplaceAllocations(rq.ctx, store.WritePut, []placement.ConsumerAllocations{req}); err != nil {
		return err
	}
	return rq.sendEmpty(http.StatusNoContent)
}

func (rq *request) postAllocationsSchema() *js.Validator {
	switch {
	case rq.v.consumerTypes():
		return schemaPostAllocations138
	case rq.v.mappings():
		return schemaPostAllocations134
	case rq.v.consumerGenerations():
		return schemaPostAllocations128
	}
	return schemaPostAllocations113
}

func (s *Server) handlePostAllocations(rq *request) error {
	var body map[string]consumerAllocationsBody
	if err := rq.decodeBody(rq.postAllocationsSchema(), &body); err != nil {
		return err
	}
	reqs := rq.consumersToDomain(body)
	if err := s.db.ReplaceAllocations(rq.ctx, store.WritePost, reqs); err != nil {
		return err
	}
	return rq.sendEmpty(http.StatusNoContent)
}

// consumersToDomain converts a POST /allocations (or reshaper) body, consumers in UUID
// order.
func (rq *request) consumersToDomain(body map[string]consumerAllocationsBody) []placement.ConsumerAllocations {
	reqs := make([]placement.ConsumerAllocations, 0, len(body))
	for _, consumer := range sortedKeys(body) {
		reqs = append(reqs, rq.toDomain(consumer, body[consumer]))
	}
	return reqs
}

func (s *Server) handleDeleteAllocations(rq *request) error {
	if err := s.db.DeleteConsumerAllocations(rq.ctx, rq.param("consumer_uuid")); err != nil {
		return err
	}
	return rq.sendEmpty(http.StatusNoContent)
}

// reshaperBody is the body of POST /reshaper.
type reshaperBody struct {
	Inventories map[string]inventoriesBody         `json:"inventories"`
	Allocations map[string]consumerAllocationsBody `json:"allocations"`
}

func (s *Server) handleReshape(rq *request) error {
	schema := schemaReshaper
	switch {
	case rq.v.consumerTypes():
		schema = schemaReshaper138
	case rq.v.mappings():
		schema = schemaReshaper134
	}
	var body reshaperBody
	if err := rq.decodeBody(schema, &body); err != nil {
		return err
	}
	invs := make(map[string]store.ReshapeInventory, len(body.Inventories))
	for rp, ib := range body.Inventories {
		ri := store.ReshapeInventory{Generation: ib.ResourceProviderGeneration, Inventories: map[string]placement.Inventory{}}
		for class, b := range ib.Inventories {
			ri.Inventories[class] = b.inventory()
		}
		invs[rp] = ri
	}
	if err := s.db.Reshape(rq.ctx, invs, rq.consumersToDomain(body.Allocations)); err != nil {
		return err
	}
	return rq.sendEmpty(http.StatusNoContent)
}
