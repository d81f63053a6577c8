package placementapi

import (
	"net/http"
	"time"

	"ingot/internal/placement"
	"ingot/internal/store"
)

// inventoryBody is one inventory in a request; absent fields take upstream's defaults.
type inventoryBody struct {
	ResourceProviderGeneration *int64   `json:"resource_provider_generation"`
	ResourceClass              string   `json:"resource_class"`
	Total                      int64    `json:"total"`
	Reserved                   *int64   `json:"reserved"`
	MinUnit                    *int64   `json:"min_unit"`
	MaxUnit                    *int64   `json:"max_unit"`
	StepSize                   *int64   `json:"step_size"`
	AllocationRatio            *float64 `json:"allocation_ratio"`
}

func (b inventoryBody) inventory() placement.Inventory {
	inv := placement.Inventory{Total: b.Total, Reserved: placement.DefaultReserved, MinUnit: placement.DefaultMinUnit,
		MaxUnit: placement.MaxInt, StepSize: placement.DefaultStepSize, AllocationRatio: placement.DefaultAllocationRatio}
	if b.Reserved != nil {
		inv.Reserved = *b.Reserved
	}
	if b.MinUnit != nil {
		inv.MinUnit = *b.MinUnit
	}
	if b.MaxUnit != nil {
		inv.MaxUnit = *b.MaxUnit
	}
	if b.StepSize != nil {
		inv.StepSize = *b.StepSize
	}
	if b.AllocationRatio != nil {
		inv.AllocationRatio = *b.AllocationRatio
	}
	return inv
}

// inventoryJSON is one inventory on the wire.
type inventoryJSON struct {
	Total           int64   `json:"total"`
	Reserved        int64   `json:"reserved"`
	MinUnit         int64   `json:"min_unit"`
	MaxUnit         int64   `json:"max_unit"`
	StepSize        int64   `json:"step_size"`
	AllocationRatio pyFloat `json:"allocation_ratio"`
	// Generation is included in single-inventory responses, and (as upstream) only when
	// not zero.
	Generation int64 `json:"resource_provider_generation,omitempty"`
}

func inventoryWire(inv placement.Inventory, gen int64) inventoryJSON {
	return inventoryJSON{inv.Total, inv.Reserved, inv.MinUnit, inv.MaxUnit, inv.StepSize, pyFloat(inv.AllocationRatio), gen}
}

func (rq *request) capacityRule() store.CapacityRule {
	if rq.v.reservedMayEqualTotal() {
		return store.ReservedUpToTotal
	}
	return store.ReservedBelowTotal
}

// sendInventories writes the inventories in the order given: upstream's GET lists them in
// class id order, its PUT in the request body's order.
func (rq *request) sendInventories(invs []store.ClassInventory, gen int64) error {
	out := make(ordered, 0, len(invs))
	var modified time.Time
	for _, ci := range invs {
		out = append(out, member{ci.ResourceClass, inventoryWire(ci.Inventory, 0)})
		if m := ci.Modified(); m.After(modified) {
			modified = m
		}
	}
	return rq.sendObject(http.StatusOK, ordered{{"resource_provider_generation", gen}, {"inventories", out}}, modified)
}

func (s *Server) handleGetInventories(rq *request) error {
	uuid := rq.param("uuid")
	invs, gen, err := s.db.Inventories(rq.ctx, uuid)
	if err != nil {
		if pe, ok := placement.AsError(err); ok && pe.Kind == placement.KindNotFound {
			return errorf(http.StatusNotFound, "No resource provider with uuid %s found : %s", uuid, pe.Detail)
		}
		return err
	}
	return rq.sendInventories(invs, gen)
}

func (s *Server) handleGetInventory(rq *request) error {
	uuid, class := rq.param("uuid"), rq.param("resource_class")
	invs, gen, err := s.db.Inventories(rq.ctx, uuid)
	if err != nil {
		if pe, ok := placement.AsError(err); ok && pe.Kind == placement.KindNotFound {
			return errorf(http.StatusNotFound, "No resource provider with uuid %s found : %s", uuid, pe.Detail)
		}
		return err
	}
	for _, ci := range invs {
		if ci.ResourceClass == class {
			return rq.sendJSON(http.StatusOK, inventoryWire(ci.Inventory, gen), ci.Modified())
		}
	}
	return errorf(http.StatusNotFound, "No inventory of class %s for %s", class, uuid)
}

type inventoriesBody struct {
	ResourceProviderGeneration int64                    `json:"resource_provider_generation"`
	Inventories                map[string]inventoryBody `json:"inventories"`
}

func (s *Server) handleSetInventories(rq *request) error {
	uuid := rq.param("uuid")
	raw, err := rq.readBody()
	if err != nil {
		return s.providerFirst(rq, uuid, err)
	}
	var body inventoriesBody
	if err := decodeJSON(raw, schemaPutInventories, &body); err != nil {
		return s.providerFirst(rq, uuid, err)
	}
	invs := make(map[string]placement.Inventory, len(body.Inventories))
	for class, b := range body.Inventories {
		invs[class] = b.inventory()
	}
	out, gen, err := s.db.SetInventories(rq.ctx, uuid, body.ResourceProviderGeneration, invs, rq.capacityRule())
	if err != nil {
		return err
	}
	// Upstream answers with the inventories it was given, in the body's order.
	byClass := make(map[string]store.ClassInventory, len(out))
	for _, ci := range out {
		byClass[ci.ResourceClass] = ci
	}
	out = out[:0]
	for _, class := range inOrder(parseKeyTree(raw).child("inventories"), byClass) {
		out = append(out, byClass[class])
	}
	return rq.sendInventories(out, gen)
}

func (s *Server) handleCreateInventory(rq *request) error {
	uuid := rq.param("uuid")
	var body inventoryBody
	if err := rq.decodeBody(schemaPostInventory, &body); err != nil {
		return s.providerFirst(rq, uuid, err)
	}
	ci, gen, err := s.db.AddInventory(rq.ctx, uuid, body.ResourceClass, body.inventory(), rq.capacityRule())
	if err != nil {
		return err
	}
	rq.setLocation("/resource_providers/" + uuid + "/inventories/" + body.ResourceClass)
	return rq.sendJSON(http.StatusCreated, inventoryWire(ci.Inventory, gen), ci.Modified())
}

func (s *Server) handleUpdateInventory(rq *request) error {
	uuid, class := rq.param("uuid"), rq.param("resource_class")
	var body inventoryBody
	if err := rq.decodeBody(schemaPutInventory, &body); err != nil {
		return s.providerFirst(rq, uuid, err)
	}
	ci, gen, err := s.db.UpdateInventory(rq.ctx, uuid, *body.ResourceProviderGeneration, class, body.inventory(), rq.capacityRule())
	if err != nil {
		return err
	}
	return rq.sendJSON(http.StatusOK, inventoryWire(ci.Inventory, gen), ci.Modified())
}

func (s *Server) handleDeleteInventory(rq *request) error {
	uuid := rq.param("uuid")
	if err := s.db.DeleteInventory(rq.ctx, uuid, rq.param("resource_class")); err != nil {
		return err
	}
	return rq.sendEmpty(http.StatusNoContent)
}

func (s *Server) handleDeleteInventories(rq *request) error {
	uuid := rq.param("uuid")
	if err := s.db.DeleteInventories(rq.ctx, uuid); err != nil {
		return err
	}
	return rq.sendEmpty(http.StatusNoContent)
}
