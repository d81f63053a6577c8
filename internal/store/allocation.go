package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"ingot/internal/metrics"
	"ingot/internal/placement"
)

// AllocationWrite says which API call an allocation write serves; it decides the wording
// of errors, which upstream clients and tests match.
type AllocationWrite uint8

// The kinds of allocation write.
const (
	WritePut     AllocationWrite = iota // PUT /allocations/{consumer}: exactly one consumer
	WritePost                           // POST /allocations
	WriteReshape                        // POST /reshaper
)

// ProviderConflictRetries is how often an allocation write that lost a race on a provider
// generation is run again on the server before the client gets a 409, as upstream's
// allocation_conflict_retry_count.
const ProviderConflictRetries = 10

// errProviderConflict marks a provider generation conflict inside an allocation write,
// which is retried.
var errProviderConflict = errors.New("provider generation changed during allocation write")

// ReplaceAllocations gives every consumer in reqs exactly the allocations listed (an empty
// list removes the consumer's allocations and the consumer), atomically: capacity, unit
// rules, consumer generations (where asked for) and provider generations are all checked
// in one transaction, and nothing is written unless everything holds. Provider generation
// races are retried up to ProviderConflictRetries times.
func (db *DB) ReplaceAllocations(ctx context.Context, kind AllocationWrite, reqs []placement.ConsumerAllocations) error {
	var err error
	for i := range ProviderConflictRetries {
		err = db.write(ctx, func(t *tx) error { return t.replaceAllocations(kind, reqs) })
		if !errors.Is(err, errProviderConflict) {
			break
		}
		if i+1 < ProviderConflictRetries {
			db.metrics.Retry(metrics.ConflictGeneration)
		}
	}
	if errors.Is(err, errProviderConflict) {
		err = placement.ConcurrentUpdatef("Inventory and/or allocations changed while attempting to allocate: Another thread concurrently updated the resource provider data. Please retry your update")
	}
	if err != nil {
		return fmt.Errorf("write allocations: %w", err)
	}
	return nil
}

// providerRef is a provider named by an allocation write.
type providerRef struct {
	id  int64
	gen int64
}

// lookupProviders returns the providers with the given UUIDs; a missing one is an error.
func (t *tx) lookupProviders(uuids []string) (map[string]providerRef, error) {
	out := make(map[string]providerRef, len(uuids))
	err := scanIn(t, uuids, func(ph string) string {
		return `SELECT id, uuid, generation FROM resource_providers WHERE uuid IN (` + ph + `)`
	}, func(rows *sql.Rows) error {
		var r providerRef
		var u string
		if err := rows.Scan(&r.id, &u, &r.gen); err != nil {
			return err
		}
		out[u] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, u := range uuids {
		if _, ok := out[u]; !ok {
			return nil, placement.Invalidf("Allocation for resource provider '%s' that does not exist.", u)
		}
	}
	return out, nil
}

type pcKey struct{ provider, class int64 }

func (t *tx) replaceAllocations(kind AllocationWrite, reqs []placement.ConsumerAllocations) error {
	var providerUUIDs, classNames []string
	seenP, seenC := map[string]bool{}, map[string]bool{}
	for _, r := range reqs {
		for _, a := range r.Allocations {
			if !seenP[a.ProviderUUID] {
				seenP[a.ProviderUUID] = true
				providerUUIDs = append(providerUUIDs, a.ProviderUUID)
			}
			if !seenC[a.ResourceClass] {
				seenC[a.ResourceClass] = true
				classNames = append(classNames, a.ResourceClass)
			}
		}
	}
	sort.Strings(providerUUIDs)

	// Upstream checks provider existence before the consumer for PUT, after for POST.
	var providers map[string]providerRef
	var err error
	if kind == WritePut && len(providerUUIDs) > 0 {
		if providers, err = t.lookupProviders(providerUUIDs); err != nil {
			return err
		}
	}
	consumers := make([]consumerState, len(reqs))
	for i, r := range reqs {
		if consumers[i], err = t.ensureConsumer(r); err != nil {
			return err
		}
	}
	if providers == nil {
		if providers, err = t.lookupProviders(providerUUIDs); err != nil {
			return err
		}
	}
	classIDs, missing, err := t.classIDs(classNames)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		if kind == WriteReshape {
			return placement.Invalidf("malformed reshaper data: No such resource class %s.", missing[0])
		}
		if kind == WritePut {
			return placement.Invalidf("Unable to allocate inventory for consumer %s: No such resource class %s.", reqs[0].ConsumerUUID, missing[0])
		}
		return placement.Invalidf("Unable to allocate inventory No such resource class %s.", missing[0])
	}

	consumerIDs := make([]int64, len(consumers))
	for i, c := range consumers {
		consumerIDs[i] = c.id
	}
	// Providers losing allocations change too (their usage drops). Upstream increments the
	// generation only of those named in the write and of those a consumer is removed from
	// entirely (its allocations are rewritten as zero); the others are touched for views.
	oldProviders, err := t.allocationProviders(consumerIDs)
	if err != nil {
		return err
	}
	t.touch(oldProviders...)
	var emptiedIDs []int64
	for i, r := range reqs {
		if len(r.Allocations) == 0 {
			emptiedIDs = append(emptiedIDs, consumers[i].id)
		}
	}
	emptiedProviders, err := t.allocationProviders(emptiedIDs)
	if err != nil {
		return err
	}
	bump, err := t.providerGenerations(emptiedProviders)
	if err != nil {
		return err
	}
	for _, p := range providers {
		bump[p.id] = p.gen
	}

	newProviderIDs := make([]int64, 0, len(providers))
	for _, p := range providers {
		newProviderIDs = append(newProviderIDs, p.id)
	}
	before, err := t.usage(newProviderIDs)
	if err != nil {
		return err
	}
	for _, chunk := range chunks(consumerIDs, 500) {
		if _, err := t.exec(`DELETE FROM allocations WHERE consumer_id IN (`+placeholders(len(chunk))+`)`, anys(chunk)...); err != nil {
			return err
		}
	}
	after, err := t.usage(newProviderIDs)
	if err != nil {
		return err
	}
	invs, err := t.inventoryRows(newProviderIDs)
	if err != nil {
		return err
	}
	if err := checkCapacity(reqs, providers, classIDs, invs, before, after); err != nil {
		return err
	}
	for i, r := range reqs {
		for _, a := range r.Allocations {
			if a.Used == 0 {
				continue
			}
			if _, err := t.exec(`INSERT INTO allocations (resource_provider_id, consumer_id, resource_class_id, used, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				providers[a.ProviderUUID].id, consumers[i].id, classIDs[a.ResourceClass], a.Used, t.now, t.now); err != nil {
				return err
			}
		}
	}
	bumpIDs := make([]int64, 0, len(bump))
	for id := range bump {
		bumpIDs = append(bumpIDs, id)
	}
	sort.Slice(bumpIDs, func(i, j int) bool { return bumpIDs[i] < bumpIDs[j] })
	for _, id := range bumpIDs {
		if _, err := t.bumpGeneration(id, bump[id]); err != nil {
			if errors.Is(err, placement.ErrConcurrentUpdate) {
				return errProviderConflict
			}
			return err
		}
	}
	for _, c := range consumers {
		if err := t.bumpConsumerGeneration(c.id, c.gen); err != nil {
			if errors.Is(err, placement.ErrConcurrentUpdate) {
				return placement.ConcurrentUpdatef("Inventory and/or allocations changed while attempting to allocate: %s", err)
			}
			return err
		}
	}
	return t.deleteConsumersWithoutAllocations(emptiedIDs)
}

// providerGenerations returns the current generation of each provider.
func (t *tx) providerGenerations(ids []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(ids))
	err := scanIn(t, ids, func(ph string) string {
		return `SELECT id, generation FROM resource_providers WHERE id IN (` + ph + `)`
	}, func(rows *sql.Rows) error {
		var id, gen int64
		if err := rows.Scan(&id, &gen); err != nil {
			return err
		}
		out[id] = gen
		return nil
	})
	return out, err
}

// checkCapacity applies Placement's rules to an allocation write: every provider must have
// inventory of every class allocated on it; each allocation must respect min_unit, max_unit
// and step_size; and the usage after the write must fit the capacity, unless the provider
// was over capacity already and the write does not make that worse (bug 2104040).
func checkCapacity(reqs []placement.ConsumerAllocations, providers map[string]providerRef, classIDs map[string]int64,
	invs map[pcKey]placement.Inventory, before, after map[pcKey]int64) error {
	fail := func(format string, args ...any) error {
		return placement.Conflictf("Unable to allocate inventory: "+format, args...)
	}
	requested := map[int64]bool{}
	for _, id := range classIDs {
		requested[id] = true
	}
	hasInventory := map[int64]bool{}
	for k := range invs {
		if requested[k.class] {
			hasInventory[k.provider] = true
		}
	}
	var noInventory []string
	for u, p := range providers {
		if !hasInventory[p.id] {
			noInventory = append(noInventory, u)
		}
	}
	if len(noInventory) > 0 {
		sort.Strings(noInventory)
		var classes []string
		for c := range classIDs {
			classes = append(classes, c)
		}
		sort.Slice(classes, func(i, j int) bool { return classIDs[classes[i]] < classIDs[classes[j]] })
		return fail("Inventory for '%s' on resource provider '%s' invalid.", strings.Join(classes, ", "), strings.Join(noInventory, ", "))
	}
	sum := map[pcKey]int64{}
	for _, r := range reqs {
		for _, a := range r.Allocations {
			k := pcKey{providers[a.ProviderUUID].id, classIDs[a.ResourceClass]}
			sum[k] += a.Used
		}
	}
	for _, r := range reqs {
		for _, a := range r.Allocations {
			if a.Used == 0 {
				continue
			}
			k := pcKey{providers[a.ProviderUUID].id, classIDs[a.ResourceClass]}
			inv, ok := invs[k]
			if !ok {
				return fail("Inventory for '%s' on resource provider '%s' invalid.", a.ResourceClass, a.ProviderUUID)
			}
			if !inv.CheckAmount(a.Used) {
				return fail("Unable to create allocation for '%s' on resource provider '%s'. The requested amount would violate inventory constraints.", a.ResourceClass, a.ProviderUUID)
			}
			capacity := float64(inv.Total-inv.Reserved) * inv.AllocationRatio
			newUsed := after[k] + sum[k]
			if float64(newUsed) > capacity && newUsed > before[k] {
				return fail("Unable to create allocation for '%s' on resource provider '%s'. The requested amount would exceed the capacity.", a.ResourceClass, a.ProviderUUID)
			}
		}
	}
	return nil
}

// allocationProviders returns the providers holding allocations of the consumers.
func (t *tx) allocationProviders(consumerIDs []int64) ([]int64, error) {
	var out []int64
	err := scanIn(t, consumerIDs, func(ph string) string {
		return `SELECT DISTINCT resource_provider_id FROM allocations WHERE consumer_id IN (` + ph + `)`
	}, func(rows *sql.Rows) error {
		var id int64
		err := rows.Scan(&id)
		out = append(out, id)
		return err
	})
	return out, err
}

// usage returns the allocated amount per (provider, class) for the providers.
func (t *tx) usage(providerIDs []int64) (map[pcKey]int64, error) {
	out := map[pcKey]int64{}
	err := scanIn(t, providerIDs, func(ph string) string {
		return `SELECT resource_provider_id, resource_class_id, SUM(used) FROM allocations
			WHERE resource_provider_id IN (` + ph + `) GROUP BY resource_provider_id, resource_class_id`
	}, func(rows *sql.Rows) error {
		var k pcKey
		var used int64
		err := rows.Scan(&k.provider, &k.class, &used)
		out[k] = used
		return err
	})
	return out, err
}

// inventoryRows returns the inventories of the providers by (provider, class).
func (t *tx) inventoryRows(providerIDs []int64) (map[pcKey]placement.Inventory, error) {
	out := map[pcKey]placement.Inventory{}
	err := scanIn(t, providerIDs, func(ph string) string {
		return `SELECT resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio
			FROM inventories WHERE resource_provider_id IN (` + ph + `)`
	}, func(rows *sql.Rows) error {
		var k pcKey
		var inv placement.Inventory
		err := rows.Scan(&k.provider, &k.class, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit, &inv.StepSize, &inv.AllocationRatio)
		out[k] = inv
		return err
	})
	return out, err
}

// ConsumerAllocation is one allocation of a consumer, with its provider's generation.
type ConsumerAllocation struct {
	placement.Allocation
	ProviderGeneration int64
	CreatedAt          time.Time
}

// ConsumerAllocations returns the consumer (ok false when it has no allocations) and its
// allocations in the order they were written (allocation id order).
func (db *DB) ConsumerAllocations(ctx context.Context, consumerUUID string) (placement.Consumer, []ConsumerAllocation, bool, error) {
	var c placement.Consumer
	var out []ConsumerAllocation
	err := db.read(ctx, func(t *tx) error {
		var typ sql.NullString
		err := t.queryRow(`SELECT c.generation, p.external_id, u.external_id, ct.name FROM consumers c
			JOIN projects p ON p.id = c.project_id JOIN users u ON u.id = c.user_id
			LEFT JOIN consumer_types ct ON ct.id = c.consumer_type_id WHERE c.uuid = ?`, consumerUUID).
			Scan(&c.Generation, &c.ProjectID, &c.UserID, &typ)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		c.UUID, c.Type = consumerUUID, typ.String
		rows, err := t.query(`SELECT rp.uuid, rp.generation, rc.name, a.used, a.created_at FROM allocations a
			JOIN consumers c ON c.id = a.consumer_id
			JOIN resource_providers rp ON rp.id = a.resource_provider_id
			JOIN resource_classes rc ON rc.id = a.resource_class_id
			WHERE c.uuid = ? ORDER BY a.id`, consumerUUID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a ConsumerAllocation
			var created sql.NullInt64
			if err := rows.Scan(&a.ProviderUUID, &a.ProviderGeneration, &a.ResourceClass, &a.Used, &created); err != nil {
				return err
			}
			a.CreatedAt = fromMicros(created)
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return c, nil, false, fmt.Errorf("allocations of consumer %s: %w", consumerUUID, err)
	}
	return c, out, len(out) > 0, nil
}

// ProviderAllocation is one allocation on a provider, with its consumer's generation.
type ProviderAllocation struct {
	ConsumerUUID       string
	ConsumerGeneration int64
	ResourceClass      string
	Used               int64
	CreatedAt          time.Time
}

// ProviderAllocations returns the allocations on the provider (in allocation id order) and
// its generation.
func (db *DB) ProviderAllocations(ctx context.Context, uuid string) ([]ProviderAllocation, int64, error) {
	var out []ProviderAllocation
	var gen int64
	err := db.read(ctx, func(t *tx) error {
		id, g, err := t.providerIDGen(uuid)
		if err != nil {
			return err
		}
		gen = g
		rows, err := t.query(`SELECT c.uuid, c.generation, rc.name, a.used, a.created_at FROM allocations a
			JOIN consumers c ON c.id = a.consumer_id JOIN resource_classes rc ON rc.id = a.resource_class_id
			WHERE a.resource_provider_id = ? ORDER BY a.id`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a ProviderAllocation
			var created sql.NullInt64
			if err := rows.Scan(&a.ConsumerUUID, &a.ConsumerGeneration, &a.ResourceClass, &a.Used, &created); err != nil {
				return err
			}
			a.CreatedAt = fromMicros(created)
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("allocations on provider %s: %w", uuid, err)
	}
	return out, gen, nil
}

// DeleteConsumerAllocations removes all of the consumer's allocations and the consumer,
// without a generation check (upstream's "unsafe" delete). It is a KindNotFound error if
// the consumer has no allocations.
func (db *DB) DeleteConsumerAllocations(ctx context.Context, consumerUUID string) error {
	err := db.write(ctx, func(t *tx) error {
		var id int64
		err := t.queryRow(`SELECT id FROM consumers WHERE uuid = ?`, consumerUUID).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var providers []int64
		if err == nil {
			if providers, err = t.allocationProviders([]int64{id}); err != nil {
				return err
			}
		}
		if len(providers) == 0 {
			return placement.NotFoundf("No allocations for consumer '%s'", consumerUUID)
		}
		t.touch(providers...)
		if _, err := t.exec(`DELETE FROM allocations WHERE consumer_id = ?`, id); err != nil {
			return err
		}
		return t.deleteConsumersWithoutAllocations([]int64{id})
	})
	if err != nil {
		return fmt.Errorf("delete allocations of consumer %s: %w", consumerUUID, err)
	}
	return nil
}
