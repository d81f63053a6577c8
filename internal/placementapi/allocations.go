package placementapi

import (
	"net/http"
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
// microversion. The allocations are in the body's order (order is the key order of the
// consumer's object), as upstream writes them, so that they are listed in that order.
func (rq *request) toDomain(consumer string, b consumerAllocationsBody, order *keyTree) placement.ConsumerAllocations {
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
	providers := order.child("allocations")
	for _, rp := range inOrder(providers, b.Allocations) {
		res := b.Allocations[rp]
		for _, class := range inOrder(providers.child(rp).child("resources"), res.Resources) {
			ca.Allocations = append(ca.Allocations, placement.Allocation{ProviderUUID: rp, ResourceClass: class, Used: res.Resources[class]})
		}
	}
	return ca
}

func (s *Server) handleGetAllocations(rq *request) error {
	consumer := rq.param("consumer_uuid")
	c, allocs, ok, err := s.db.ConsumerAllocations(rq.ctx, consumer)
	if err != nil {
		return err
	}
	// Providers and classes in allocation order, each provider's resources before its
	// generation, as upstream builds the dict.
	var byProvider ordered
	at := map[string]int{}
	var modified time.Time
	for _, a := range allocs {
		i, seen := at[a.ProviderUUID]
		if !seen {
			i = len(byProvider)
			at[a.ProviderUUID] = i
			byProvider = append(byProvider, member{a.ProviderUUID, ordered{{"resources", ordered{}}, {"generation", a.ProviderGeneration}}})
		}
		e := byProvider[i].value.(ordered)
		e[0].value = append(e[0].value.(ordered), member{a.ResourceClass, a.Used})
		if a.CreatedAt.After(modified) {
			modified = a.CreatedAt
		}
	}
	if byProvider == nil {
		byProvider = ordered{}
	}
	body := ordered{{"allocations", byProvider}}
	if ok && rq.v.allocationsDict() {
		body = append(body, member{"project_id", c.ProjectID}, member{"user_id", c.UserID})
		if rq.v.consumerGenerations() {
			body = append(body, member{"consumer_generation", c.Generation})
		}
		if rq.v.consumerTypes() {
			t := c.Type
			if t == "" {
				t = store.DefaultConsumerType
			}
			body = append(body, member{"consumer_type", t})
		}
	}
	return rq.sendObject(http.StatusOK, body, modified)
}

func (s *Server) handleProviderAllocations(rq *request) error {
	uuid := rq.param("uuid")
	allocs, gen, err := s.db.ProviderAllocations(rq.ctx, uuid)
	if err != nil {
		return notFoundWithCause(err, "Resource provider '%s' not found: ", uuid)
	}
	// Consumers in allocation order; a consumer's classes in allocation order too.
	var byConsumer ordered
	at := map[string]int{}
	var modified time.Time
	for _, a := range allocs {
		i, seen := at[a.ConsumerUUID]
		if !seen {
			i = len(byConsumer)
			at[a.ConsumerUUID] = i
			e := ordered{{"resources", ordered{}}}
			if rq.v.consumerGenerations() {
				e = append(e, member{"consumer_generation", a.ConsumerGeneration})
			}
			byConsumer = append(byConsumer, member{a.ConsumerUUID, e})
		}
		e := byConsumer[i].value.(ordered)
		e[0].value = append(e[0].value.(ordered), member{a.ResourceClass, a.Used})
		if a.CreatedAt.After(modified) {
			modified = a.CreatedAt
		}
	}
	if byConsumer == nil {
		byConsumer = ordered{}
	}
	return rq.sendObject(http.StatusOK, ordered{{"allocations", byConsumer}, {"resource_provider_generation", gen}}, modified)
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
	var order *keyTree
	if rq.v.allocationsDict() {
		if err := decodeJSON(raw, rq.putAllocationsSchema(), &body); err != nil {
			return err
		}
		if !body.inOneOrder() {
			order = parseKeyTree(raw)
		}
	} else {
		order = parseKeyTree(raw)
		var legacy legacyAllocationsBody
		if err := decodeJSON(raw, rq.putAllocationsSchema(), &legacy); err != nil {
			return err
		}
		// Upstream turns the list into a dict keyed by provider, in list order.
		list := order.child("allocations")
		providers := &keyTree{sub: map[string]*keyTree{}}
		body.Allocations = map[string]allocationResources{}
		for i, a := range legacy.Allocations {
			rp := a.ResourceProvider.UUID
			if _, seen := providers.sub[rp]; !seen {
				providers.keys = append(providers.keys, rp)
			}
			providers.sub[rp] = &keyTree{sub: map[string]*keyTree{"resources": list.elem(i).child("resources")}}
			body.Allocations[rp] = allocationResources{Resources: a.Resources}
		}
		body.ProjectID, body.UserID = legacy.ProjectID, legacy.UserID
		order = &keyTree{sub: map[string]*keyTree{"allocations": providers}}
	}
	req := rq.toDomain(consumer, body, order)
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
	raw, err := rq.readBody()
	if err != nil {
		return err
	}
	var body map[string]consumerAllocationsBody
	if err := decodeJSON(raw, rq.postAllocationsSchema(), &body); err != nil {
		return err
	}
	needOrder := len(body) > 1
	for _, c := range body {
		needOrder = needOrder || !c.inOneOrder()
	}
	var order *keyTree
	if needOrder {
		order = parseKeyTree(raw)
	}
	reqs := rq.consumersToDomain(body, order)
	if err := s.db.ReplaceAllocations(rq.ctx, store.WritePost, reqs); err != nil {
		return err
	}
	return rq.sendEmpty(http.StatusNoContent)
}

// inOneOrder reports whether b's allocations can be listed in one order only (one provider
// with one class, the common claim), so that the body's key order need not be read.
func (b consumerAllocationsBody) inOneOrder() bool {
	for _, a := range b.Allocations {
		return len(b.Allocations) == 1 && len(a.Resources) <= 1
	}
	return true
}

// consumersToDomain converts a POST /allocations (or reshaper) body, consumers in the body's
// order (order is the key order of the object of consumers).
func (rq *request) consumersToDomain(body map[string]consumerAllocationsBody, order *keyTree) []placement.ConsumerAllocations {
	reqs := make([]placement.ConsumerAllocations, 0, len(body))
	for _, consumer := range inOrder(order, body) {
		reqs = append(reqs, rq.toDomain(consumer, body[consumer], order.child(consumer)))
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
	raw, err := rq.readBody()
	if err != nil {
		return err
	}
	var body reshaperBody
	if err := decodeJSON(raw, schema, &body); err != nil {
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
	if err := s.db.Reshape(rq.ctx, invs, rq.consumersToDomain(body.Allocations, parseKeyTree(raw).child("allocations"))); err != nil {
		return err
	}
	return rq.sendEmpty(http.StatusNoContent)
}
