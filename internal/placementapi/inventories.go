package placementapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"ingot/internal/placement"
	"ingot/internal/store"
)

// inventoryBody is one inventory in a request; absent fields take upstream's defaults.
type inventoryBody struct {
	ResourceProviderGeneration *int64     `json:"resource_provider_generation"`
	ResourceClass              string     `json:"resource_class"`
	Total                      int64      `json:"total"`
	Reserved                   *int64     `json:"reserved"`
	MinUnit                    *int64     `json:"min_unit"`
	MaxUnit                    *int64     `json:"max_unit"`
	StepSize                   *int64     `json:"step_size"`
	AllocationRatio            *bodyRatio `json:"allocation_ratio"`
}

// bodyRatio is an allocation_ratio as a request body writes it. Upstream answers an
// inventory write with the values it was given, and Python decodes a number without a
// fraction or exponent as an int, so "allocation_ratio": 16 is answered with 16, not 16.0.
type bodyRatio struct {
	value   float64
	integer string // the literal, when it is an integer
}

func (r *bodyRatio) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &r.value); err != nil {
		return err
	}
	if lit := string(b); !strings.ContainsAny(lit, ".eE") {
		if lit == "-0" { // the int 0; any other integer literal is Python's repr of its int
			lit = "0"
		}
		r.integer = lit
	}
	return nil
}

// wireRatio is an allocation_ratio in a response: the float Python writes, or the integer a
// write was given.
type wireRatio struct {
	value   float64
	integer string
}

func (r wireRatio) appendJSON(b []byte) ([]byte, error) {
	if r.integer != "" {
		return append(b, r.integer...), nil
	}
	return appendPyFloat(b, r.value), nil
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
		inv.AllocationRatio = b.AllocationRatio.value
	}
	return inv
}

// inventoryJSON is one inventory on the wire, its fields in upstream's order.
type inventoryJSON struct {
	Total           int64
	Reserved        int64
	MinUnit         int64
	MaxUnit         int64
	StepSize        int64
	AllocationRatio wireRatio
	// Generation is included in single-inventory responses, and (as upstream) only when
	// not zero.
	Generation int64
}

func (j inventoryJSON) appendJSON(b []byte) ([]byte, error) {
	o := ordered{{"total", j.Total}, {"reserved", j.Reserved}, {"min_unit", j.MinUnit}, {"max_unit", j.MaxUnit},
		{"step_size", j.StepSize}, {"allocation_ratio", j.AllocationRatio}}
	if j.Generation != 0 {
		o = append(o, member{"resource_provider_generation", j.Generation})
	}
	return o.appendJSON(b)
}

func inventoryWire(inv placement.Inventory, gen int64) inventoryJSON {
	return inventoryJSON{inv.Total, inv.Reserved, inv.MinUnit, inv.MaxUnit, inv.StepSize, wireRatio{value: inv.AllocationRatio}, gen}
}

// echo is the answer to a write of b: the allocation ratio as b wrote it.
func (j inventoryJSON) echo(b inventoryBody) inventoryJSON {
	if b.AllocationRatio != nil {
		j.AllocationRatio.integer = b.AllocationRatio.integer
	}
	return j
}

func (rq *request) capacityRule() store.CapacityRule {
	if rq.v.reservedMayEqualTotal() {
		return store.ReservedUpToTotal
	}
	return store.ReservedBelowTotal
}

// sendInventories writes the inventories in the order given: upstream's GET lists them in
// class id order, its PUT in the request body's order.
// bodies, when not nil, are the inventories a write was given, whose values are echoed.
func (rq *request) sendInventories(invs []store.ClassInventory, gen int64, bodies map[string]inventoryBody) error {
	out := make(ordered, 0, len(invs))
	var modified time.Time
	for _, ci := range invs {
		out = append(out, member{ci.ResourceClass, inventoryWire(ci.Inventory, 0).echo(bodies[ci.ResourceClass])})
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
	return rq.sendInventories(invs, gen, nil)
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
			return rq.sendObject(http.StatusOK, inventoryWire(ci.Inventory, gen), ci.Modified())
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
	// Upstream checks the inventories and answers with them in the body's order.
	order := inOrder(parseKeyTree(raw).child("inventories"), invs)
	out, gen, err := s.db.SetInventoriesInOrder(rq.ctx, uuid, body.ResourceProviderGeneration, order, invs, rq.capacityRule())
	if err != nil {
		return err
	}
	byClass := make(map[string]store.ClassInventory, len(out))
	for _, ci := range out {
		byClass[ci.ResourceClass] = ci
	}
	out = out[:0]
	for _, class := range order {
		out = append(out, byClass[class])
	}
	return rq.sendInventories(out, gen, body.Inventories)
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
	return rq.sendObject(http.StatusCreated, inventoryWire(ci.Inventory, gen).echo(body), ci.Modified())
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
	return rq.sendObject(http.StatusOK, inventoryWire(ci.Inventory, gen).echo(body), ci.Modified())
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
