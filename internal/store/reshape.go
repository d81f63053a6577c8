package store

import (
	"context"
	"errors"
	"fmt"

	"ingot/internal/placement"
)

// ReshapeInventory is the complete inventory a reshape gives one provider, conditional on
// the provider's generation.
type ReshapeInventory struct {
	Generation  int64
	Inventories map[string]placement.Inventory
}

// Reshape atomically replaces the inventories of the providers in invs and the allocations
// of the consumers in allocs, as POST /reshaper does: inventories move between providers
// together with the allocations against them. Inventories are first widened to the union of
// old and new (so allocations can move), then the allocations are replaced, then the
// inventories are set to their final form.
func (db *DB) Reshape(ctx context.Context, invs map[string]ReshapeInventory, allocs []placement.ConsumerAllocations) error {
	err := db.write(ctx, func(t *tx) error { return t.reshape(invs, allocs) })
	if errors.Is(err, errProviderConflict) {
		err = placement.ConcurrentUpdatef("update conflict: Another thread concurrently updated the resource provider data. Please retry your update")
	}
	if err != nil {
		return fmt.Errorf("reshape: %w", err)
	}
	return nil
}

func (t *tx) reshape(invs map[string]ReshapeInventory, allocs []placement.ConsumerAllocations) error {
	uuids := sortedKeys(invs)
	for _, u := range uuids {
		_, gen, err := t.providerIDGen(u)
		if err != nil {
			if errors.Is(err, placement.ErrNotFound) {
				return placement.Errorf(placement.KindInvalid, placement.CodeProviderNotFound,
					"Resource provider %s in inventories not found: %s", u, err)
			}
			return err
		}
		if want := invs[u].Generation; want != gen {
			return placement.ConcurrentUpdatef("resource provider generation conflict for provider %s: actual: %d, given: %d", u, gen, want)
		}
	}
	unknownClass := func(name string) error {
		return placement.Invalidf("malformed reshaper data: No such resource class %s.", name)
	}
	inUse := func(msg string) error {
		return placement.Errorf(placement.KindConflict, placement.CodeInventoryInUse, "update conflict: %s", msg)
	}
	// Interim: the union of the current and the new inventories.
	for _, u := range uuids {
		want := invs[u].Inventories
		if len(want) == 0 {
			continue
		}
		id, gen, err := t.providerIDGen(u)
		if err != nil {
			return err
		}
		cur, err := t.inventories(id)
		if err != nil {
			return err
		}
		union := make(map[string]placement.Inventory, len(cur)+len(want))
		for _, ci := range cur {
			union[ci.ResourceClass] = ci.Inventory
		}
		for c, inv := range want {
			union[c] = inv
		}
		if _, err := t.replaceInventories(id, u, gen, union, unknownClass, inUse); err != nil {
			return err
		}
	}
	if err := t.replaceAllocations(WriteReshape, allocs); err != nil {
		return err
	}
	for _, u := range uuids {
		id, gen, err := t.providerIDGen(u)
		if err != nil {
			return err
		}
		if _, err := t.replaceInventories(id, u, gen, invs[u].Inventories, unknownClass, inUse); err != nil {
			return err
		}
	}
	return nil
}
