package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"ingot/internal/placement"
)

// ClassInventory is one resource class's inventory on a provider, with its timestamps.
type ClassInventory struct {
	ResourceClass string
	placement.Inventory
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Modified is the inventory's last modification time.
func (ci ClassInventory) Modified() time.Time {
	if !ci.UpdatedAt.IsZero() {
		return ci.UpdatedAt
	}
	return ci.CreatedAt
}

// CapacityRule says how small an inventory's capacity may be: before microversion 1.26
// reserved must be below total; from 1.26 it may equal total.
type CapacityRule bool

// Capacity rules.
const (
	ReservedBelowTotal   CapacityRule = false
	ReservedUpToTotal    CapacityRule = true
	reservedTooBigSuffix              = "The reserved value is greater than or equal to total."
)

// check returns a description of why inv's capacity is not allowed, or "".
func (r CapacityRule) check(class, uuid string, inv placement.Inventory) string {
	c := inv.Capacity()
	if r == ReservedUpToTotal {
		if c < 0 {
			return fmt.Sprintf("Invalid inventory for '%s' on resource provider '%s'. The reserved value is greater than total.", class, uuid)
		}
		return ""
	}
	if c <= 0 {
		return fmt.Sprintf("Invalid inventory for '%s' on resource provider '%s'. %s", class, uuid, reservedTooBigSuffix)
	}
	return ""
}

// Inventories returns the provider's inventories sorted by class id, and its generation.
func (db *DB) Inventories(ctx context.Context, uuid string) ([]ClassInventory, int64, error) {
	var out []ClassInventory
	var gen int64
	err := db.read(ctx, func(t *tx) error {
		id, g, err := t.providerIDGen(uuid)
		if err != nil {
			return err
		}
		gen = g
		out, err = t.inventories(id)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("inventories of %s: %w", uuid, err)
	}
	return out, gen, nil
}

func (t *tx) inventories(id int64) ([]ClassInventory, error) {
	rows, err := t.query(`SELECT rc.name, i.total, i.reserved, i.min_unit, i.max_unit, i.step_size, i.allocation_ratio, i.created_at, i.updated_at
		FROM inventories i JOIN resource_classes rc ON rc.id = i.resource_class_id
		WHERE i.resource_provider_id = ? ORDER BY i.resource_class_id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ClassInventory
	for rows.Next() {
		var ci ClassInventory
		var c, u sql.NullInt64
		if err := rows.Scan(&ci.ResourceClass, &ci.Total, &ci.Reserved, &ci.MinUnit, &ci.MaxUnit, &ci.StepSize, &ci.AllocationRatio, &c, &u); err != nil {
			return nil, err
		}
		ci.CreatedAt, ci.UpdatedAt = fromMicros(c), fromMicros(u)
		out = append(out, ci)
	}
	return out, rows.Err()
}

// SetInventories replaces all of the provider's inventories, provided its generation is
// still gen, and returns the new inventories and generation. Removing a class that has
// allocations is a conflict with code placement.inventory.inuse; shrinking a class below its
// usage is allowed (the provider is then over capacity).
func (db *DB) SetInventories(ctx context.Context, uuid string, gen int64, invs map[string]placement.Inventory, rule CapacityRule) ([]ClassInventory, int64, error) {
	return db.SetInventoriesInOrder(ctx, uuid, gen, sortedKeys(invs), invs, rule)
}

// SetInventoriesInOrder is SetInventories with invs' classes in the request's order, which
// upstream checks them in: the first bad capacity or unknown class in that order is the one
// reported.
func (db *DB) SetInventoriesInOrder(ctx context.Context, uuid string, gen int64, order []string, invs map[string]placement.Inventory, rule CapacityRule) ([]ClassInventory, int64, error) {
	var out []ClassInventory
	var newGen int64
	err := db.write(ctx, func(t *tx) error {
		id, err := t.claimGeneration(uuid, gen, "resource provider generation conflict")
		if err != nil {
			return err
		}
		newGen = gen + 1
		for _, class := range order {
			if msg := rule.check(class, uuid, invs[class]); msg != "" {
				return placement.Invalidf("Unable to update inventory for resource provider %s: %s", uuid, msg)
			}
		}
		ids, err := t.writeInventories(id, uuid, order, invs, func(missing string) error {
			return placement.Invalidf("Unknown resource class in inventory for resource provider %s: No such resource class %s.", uuid, missing)
		}, func(inUse string) error {
			return placement.Errorf(placement.KindConflict, placement.CodeInventoryInUse, "update conflict: %s", inUse)
		})
		if err != nil {
			return err
		}
		// Every inventory was just written: the answer is the request, in class id order.
		now := time.UnixMicro(t.now).UTC()
		out = make([]ClassInventory, 0, len(invs))
		for class, inv := range invs {
			out = append(out, ClassInventory{ResourceClass: class, Inventory: inv, CreatedAt: now, UpdatedAt: now})
		}
		sort.Slice(out, func(i, j int) bool { return ids[out[i].ResourceClass] < ids[out[j].ResourceClass] })
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("set inventories of %s: %w", uuid, err)
	}
	return out, newGen, nil
}

// DeleteInventories removes all of the provider's inventories (none may have allocations).
func (db *DB) DeleteInventories(ctx context.Context, uuid string) error {
	err := db.write(ctx, func(t *tx) error {
		id, cur, err := t.providerIDGen(uuid)
		if err != nil {
			return err
		}
		_, err = t.replaceInventories(id, uuid, cur, nil, nil, func(inUse string) error {
			return placement.Errorf(placement.KindConflict, placement.CodeInventoryInUse, "%s", inUse)
		})
		if errors.Is(err, placement.ErrConcurrentUpdate) {
			return placement.ConcurrentUpdatef("Unable to delete inventory for resource provider %s because the inventory was updated by another process. Please retry your request.", uuid)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete inventories of %s: %w", uuid, err)
	}
	return nil
}

// replaceInventories makes the provider's inventories exactly invs and increments its
// generation from cur. unknownClass and inUse build the errors for a class that does not
// exist and for classes that cannot be removed because they have allocations.
func (t *tx) replaceInventories(id int64, uuid string, cur int64, invs map[string]placement.Inventory,
	unknownClass func(string) error, inUse func(string) error) (int64, error) {
	if _, err := t.writeInventories(id, uuid, sortedKeys(invs), invs, unknownClass, inUse); err != nil {
		return 0, err
	}
	return t.bumpGeneration(id, cur)
}

// writeInventories makes the provider's inventories exactly invs, without touching its
// generation, and returns the ids of invs' classes. names are invs' classes in the order an
// unknown one is looked for.
func (t *tx) writeInventories(id int64, uuid string, names []string, invs map[string]placement.Inventory,
	unknownClass func(string) error, inUse func(string) error) (map[string]int64, error) {
	ids, missing, err := t.classIDs(names)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, unknownClass(missing[0])
	}
	have := map[int64]string{}
	rows, err := t.query(`SELECT i.resource_class_id, rc.name FROM inventories i JOIN resource_classes rc ON rc.id = i.resource_class_id WHERE i.resource_provider_id = ?`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var cid int64
		var n string
		if err := rows.Scan(&cid, &n); err != nil {
			rows.Close()
			return nil, err
		}
		have[cid] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var remove []int64
	for cid := range have {
		if _, keep := invs[have[cid]]; !keep {
			remove = append(remove, cid)
		}
	}
	if len(remove) > 0 {
		if err := t.checkNotInUse(id, uuid, remove, inUse); err != nil {
			return nil, err
		}
		args := append([]any{id}, anys(remove)...)
		if _, err := t.exec(`DELETE FROM inventories WHERE resource_provider_id = ? AND resource_class_id IN (`+placeholders(len(remove))+`)`, args...); err != nil {
			return nil, err
		}
	}
	for _, name := range names {
		if err := t.putInventory(id, ids[name], invs[name], have[ids[name]] != ""); err != nil {
			return nil, err
		}
	}
	t.touch(id)
	return ids, nil
}

// checkNotInUse returns inUse(message) if any of the classes has allocations on the provider.
func (t *tx) checkNotInUse(id int64, uuid string, classIDs []int64, inUse func(string) error) error {
	args := append([]any{id}, anys(classIDs)...)
	rows, err := t.query(`SELECT DISTINCT a.resource_class_id, rc.name FROM allocations a JOIN resource_classes rc ON rc.id = a.resource_class_id
		WHERE a.resource_provider_id = ? AND a.resource_class_id IN (`+placeholders(len(classIDs))+`) ORDER BY a.resource_class_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var used []string
	for rows.Next() {
		var cid int64
		var n string
		if err := rows.Scan(&cid, &n); err != nil {
			return err
		}
		used = append(used, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(used) > 0 {
		return inUse(fmt.Sprintf("Inventory for '%s' on resource provider '%s' in use.", strings.Join(used, ", "), uuid))
	}
	return nil
}

func (t *tx) putInventory(id, classID int64, inv placement.Inventory, exists bool) error {
	if exists {
		_, err := t.exec(`UPDATE inventories SET total = ?, reserved = ?, min_unit = ?, max_unit = ?, step_size = ?, allocation_ratio = ?, updated_at = ?
			WHERE resource_provider_id = ? AND resource_class_id = ?`,
			inv.Total, inv.Reserved, inv.MinUnit, inv.MaxUnit, inv.StepSize, inv.AllocationRatio, t.now, id, classID)
		return err
	}
	_, err := t.exec(`INSERT INTO inventories (resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, classID, inv.Total, inv.Reserved, inv.MinUnit, inv.MaxUnit, inv.StepSize, inv.AllocationRatio, t.now, t.now)
	return err
}

// AddInventory adds one class's inventory (POST); the class must not have inventory on the
// provider yet.
func (db *DB) AddInventory(ctx context.Context, uuid, class string, inv placement.Inventory, rule CapacityRule) (ClassInventory, int64, error) {
	var newGen int64
	var ci ClassInventory
	err := db.write(ctx, func(t *tx) error {
		id, cur, err := t.providerIDGen(uuid)
		if err != nil {
			return err
		}
		if msg := rule.check(class, uuid, inv); msg != "" {
			return placement.Invalidf("Unable to create inventory for resource provider %s: %s", uuid, msg)
		}
		ids, missing, err := t.classIDs([]string{class})
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return placement.Invalidf("Unable to create inventory for resource provider %s: No such resource class %s.", uuid, class)
		}
		var n int
		if err := t.queryRow(`SELECT COUNT(*) FROM inventories WHERE resource_provider_id = ? AND resource_class_id = ?`, id, ids[class]).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return placement.ConcurrentUpdatef("Update conflict: Inventory for '%s' on resource provider '%s' already exists.", class, uuid)
		}
		if err := t.putInventory(id, ids[class], inv, false); err != nil {
			return err
		}
		if newGen, err = t.bumpGeneration(id, cur); err != nil {
			return placement.ConcurrentUpdatef("Update conflict: %s", err)
		}
		now := time.UnixMicro(t.now).UTC()
		ci = ClassInventory{ResourceClass: class, Inventory: inv, CreatedAt: now, UpdatedAt: now}
		return nil
	})
	if err != nil {
		return ClassInventory{}, 0, fmt.Errorf("add %s inventory to %s: %w", class, uuid, err)
	}
	return ci, newGen, nil
}

// UpdateInventory replaces one class's inventory (PUT), provided the provider's generation
// is still gen.
func (db *DB) UpdateInventory(ctx context.Context, uuid string, gen int64, class string, inv placement.Inventory, rule CapacityRule) (ClassInventory, int64, error) {
	var newGen int64
	var ci ClassInventory
	err := db.write(ctx, func(t *tx) error {
		id, err := t.claimGeneration(uuid, gen, "resource provider generation conflict")
		if err != nil {
			return err
		}
		newGen = gen + 1
		if msg := rule.check(class, uuid, inv); msg != "" {
			return placement.Invalidf("Unable to update inventory for resource provider %s: %s", uuid, msg)
		}
		ids, missing, err := t.classIDs([]string{class})
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return resourceClassNotFound(class)
		}
		var c sql.NullInt64
		err = t.queryRow(`SELECT created_at FROM inventories WHERE resource_provider_id = ? AND resource_class_id = ?`, id, ids[class]).Scan(&c)
		if errors.Is(err, sql.ErrNoRows) {
			return placement.Invalidf("No inventory record with resource class for resource provider %s: No inventory of class %s found.", uuid, class)
		}
		if err != nil {
			return err
		}
		if err := t.putInventory(id, ids[class], inv, true); err != nil {
			return err
		}
		ci = ClassInventory{ResourceClass: class, Inventory: inv, CreatedAt: fromMicros(c), UpdatedAt: time.UnixMicro(t.now).UTC()}
		return nil
	})
	if err != nil {
		return ClassInventory{}, 0, fmt.Errorf("update %s inventory of %s: %w", class, uuid, err)
	}
	return ci, newGen, nil
}

// DeleteInventory removes one class's inventory, which must have no allocations.
func (db *DB) DeleteInventory(ctx context.Context, uuid, class string) error {
	err := db.write(ctx, func(t *tx) error {
		id, cur, err := t.providerIDGen(uuid)
		if err != nil {
			return err
		}
		ids, missing, err := t.classIDs([]string{class})
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return placement.NotFoundf("No inventory of class %s found for delete: No such resource class %s.", class, class)
		}
		inUse := func(msg string) error {
			return placement.ConcurrentUpdatef("Unable to delete inventory of class %s: %s", class, msg)
		}
		if err := t.checkNotInUse(id, uuid, []int64{ids[class]}, inUse); err != nil {
			return err
		}
		res, err := t.exec(`DELETE FROM inventories WHERE resource_provider_id = ? AND resource_class_id = ?`, id, ids[class])
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return placement.NotFoundf("No inventory of class %s found for delete: No inventory of class %s found for delete", class, class)
		}
		if _, err := t.bumpGeneration(id, cur); err != nil {
			return inUse(err.Error())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %s inventory of %s: %w", class, uuid, err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
