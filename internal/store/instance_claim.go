package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/placement"
)

// The instance controller (package deploy) takes and gives back a node with one
// transaction each, so that an instance's allocation and the node its record holds never
// disagree: no allocation without a live instance holding that node, and no instance
// holding a node without its allocation.

// InstanceConsumerType is the consumer type of an instance's allocation.
const InstanceConsumerType = "INSTANCE"

// ClaimInstance gives the instance one unit of resourceClass on the provider of node and
// writes the instance's record, in one transaction. inst is the record as it should be
// after the claim (inst.Node = node; its task, attempts, exclusions) with inst.Generation
// the generation it was read at. The allocation is written as PUT /allocations writes it
// (consumer inst.UUID of type INSTANCE, inst's project and user; provider generations
// checked and raced writes retried), replacing any the consumer had. Errors: a
// KindConflict error when the provider lacks the capacity or its generation kept
// changing, or another live instance holds the node; placement.ErrConcurrentUpdate when
// the record changed since it was read (ErrInstanceChanged); KindInvalid when the
// provider or class does not exist. Nothing is written on error.
func (db *DB) ClaimInstance(ctx context.Context, inst baremetal.Instance, resourceClass string) (baremetal.Instance, error) {
	if inst.Node == "" {
		return inst, fmt.Errorf("claim for instance %s: no node", inst.UUID)
	}
	alloc := placement.ConsumerAllocations{
		ConsumerUUID: inst.UUID,
		ProjectID:    inst.ProjectID,
		UserID:       inst.UserID,
		ConsumerType: InstanceConsumerType,
		Allocations:  []placement.Allocation{{ProviderUUID: inst.Node, ResourceClass: resourceClass, Used: 1}},
	}
	out, err := db.instanceTx(ctx, inst, func(t *tx) error {
		return t.replaceAllocations(WritePut, []placement.ConsumerAllocations{alloc})
	})
	if err != nil {
		return inst, fmt.Errorf("claim node %s for instance %s: %w", inst.Node, inst.UUID, err)
	}
	return out, nil
}

// ReleaseInstance removes every allocation of the instance (and its consumer) and writes
// the instance's record, in one transaction. inst is the record as it should be after
// the release (normally inst.Node = ""), with inst.Generation the generation it was read
// at. Releasing an instance that has no allocation only writes the record. Errors:
// placement.ErrConcurrentUpdate (ErrInstanceChanged) when the record changed since it
// was read. Nothing is written on error.
func (db *DB) ReleaseInstance(ctx context.Context, inst baremetal.Instance) (baremetal.Instance, error) {
	out, err := db.instanceTx(ctx, inst, func(t *tx) error {
		return t.removeConsumerAllocations(inst.UUID)
	})
	if err != nil {
		return inst, fmt.Errorf("release instance %s: %w", inst.UUID, err)
	}
	return out, nil
}

// ErrInstanceChanged is the error of a claim or release whose instance record was
// written by someone else since it was read; it matches placement.ErrConcurrentUpdate.
var ErrInstanceChanged = placement.Errorf(placement.KindConflict, placement.CodeConcurrentUpdate,
	"the instance was changed by another request; read it again")

// instanceTx runs alloc and then the compare-and-swap write of inst's record in one
// transaction, and returns the record as written. A provider generation race inside alloc
// runs the transaction again, as ReplaceAllocations does.
func (db *DB) instanceTx(ctx context.Context, inst baremetal.Instance, alloc func(t *tx) error) (baremetal.Instance, error) {
	var out baremetal.Instance
	var err error
	for range ProviderConflictRetries {
		err = db.write(ctx, func(t *tx) error {
			// The record first: a lost race on it is final, and on PostgreSQL its row
			// lock orders concurrent claims of one instance.
			w, err := t.casInstance(inst)
			if err != nil {
				return err
			}
			if err := alloc(t); err != nil {
				return err
			}
			out = w
			return nil
		})
		if !errors.Is(err, errProviderConflict) {
			break
		}
	}
	if errors.Is(err, errProviderConflict) {
		err = placement.ConcurrentUpdatef("Inventory and/or allocations changed while attempting to allocate: Another thread concurrently updated the resource provider data. Please retry your update")
	}
	return out, err
}

// casInstance writes the mutable columns of inst's record if its generation is still
// inst.Generation, incrementing it, and returns the record as written.
func (t *tx) casInstance(inst baremetal.Instance) (baremetal.Instance, error) {
	if !inst.Live() && inst.Node != "" {
		return inst, fmt.Errorf("instance %s: a deleted instance cannot hold node %s", inst.UUID, inst.Node)
	}
	var code, msg string
	var at int64
	if inst.Fault != nil {
		code, msg, at = inst.Fault.Code, inst.Fault.Message, t.now
		if !inst.Fault.Time.IsZero() {
			at = micros(inst.Fault.Time)
		}
	}
	// As UpdateInstance: the stored state must be one that may move to inst.State.
	args := []any{string(inst.State), string(inst.Task), inst.Node, inst.Locked, code, msg, at, inst.Attempts,
		joinLines(inst.Excluded), inst.Generation + 1, t.now, inst.UUID, inst.Generation}
	var marks []string
	for _, st := range baremetal.States {
		if baremetal.CanMove(st, inst.State) {
			args = append(args, string(st))
			marks = append(marks, "?")
		}
	}
	if len(marks) == 0 {
		return inst, ErrInstanceChanged
	}
	res, err := t.exec(`UPDATE instances SET state = ?, task = ?, node = ?, locked = ?, fault_code = ?,
		fault_message = ?, fault_at = ?, attempts = ?, excluded = ?, generation = ?, updated_at = ?
		WHERE uuid = ? AND generation = ? AND state IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		if isUniqueViolation(err) {
			return inst, placement.Conflictf("Node %s is held by another instance.", inst.Node)
		}
		return inst, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return inst, err
	}
	if n != 1 {
		return inst, ErrInstanceChanged
	}
	inst.Generation++
	inst.UpdatedAt = time.UnixMicro(t.now).UTC()
	if inst.Fault != nil && inst.Fault.Time.IsZero() {
		f := *inst.Fault
		f.Time = inst.UpdatedAt
		inst.Fault = &f
	}
	inst.Excluded = splitLines(joinLines(inst.Excluded))
	return inst, nil
}

// removeConsumerAllocations deletes the consumer's allocations and the consumer, if any.
func (t *tx) removeConsumerAllocations(consumerUUID string) error {
	set, err := t.idSet(`SELECT id FROM consumers WHERE uuid = ?`, consumerUUID)
	if err != nil || len(set) == 0 {
		return err
	}
	ids := slices.Collect(maps.Keys(set))
	providers, err := t.allocationProviders(ids)
	if err != nil {
		return err
	}
	t.touch(providers...)
	if _, err := t.exec(`DELETE FROM allocations WHERE consumer_id = ?`, ids[0]); err != nil {
		return err
	}
	return t.deleteConsumersWithoutAllocations(ids)
}

// ClaimProblem is a break of the claim invariants found by ClaimProblems.
type ClaimProblem struct {
	Instance string // the consumer or instance UUID
	Node     string // the provider the allocation is on, or the node the record holds
	// What is wrong: "allocation without instance" (an INSTANCE allocation whose consumer
	// is no live instance holding that provider) or "instance without allocation" (a live
	// instance holding a node without an allocation there).
	What string
}

// ClaimProblems checks that every allocation of consumer type INSTANCE belongs to a live
// instance holding that provider, and every live instance holding a node has an
// allocation on it. ClaimInstance and ReleaseInstance keep both true; this is the check
// that they did. One read.
func (db *DB) ClaimProblems(ctx context.Context) ([]ClaimProblem, error) {
	var out []ClaimProblem
	err := db.read(ctx, func(t *tx) error {
		err := t.scanRows(`SELECT c.uuid, rp.uuid FROM allocations a
			JOIN consumers c ON c.id = a.consumer_id
			JOIN consumer_types ct ON ct.id = c.consumer_type_id
			JOIN resource_providers rp ON rp.id = a.resource_provider_id
			WHERE ct.name = ? AND NOT EXISTS (SELECT 1 FROM instances i
				WHERE i.uuid = c.uuid AND i.node = rp.uuid AND i.state <> ?)`,
			[]any{InstanceConsumerType, string(baremetal.StateDeleted)}, func(rows *sql.Rows) error {
				p := ClaimProblem{What: "allocation without instance"}
				err := rows.Scan(&p.Instance, &p.Node)
				out = append(out, p)
				return err
			})
		if err != nil {
			return err
		}
		return t.scanRows(`SELECT i.uuid, i.node FROM instances i WHERE i.node <> '' AND NOT EXISTS (
				SELECT 1 FROM allocations a JOIN consumers c ON c.id = a.consumer_id
				JOIN resource_providers rp ON rp.id = a.resource_provider_id
				WHERE c.uuid = i.uuid AND rp.uuid = i.node)`, nil, func(rows *sql.Rows) error {
			p := ClaimProblem{What: "instance without allocation"}
			err := rows.Scan(&p.Instance, &p.Node)
			out = append(out, p)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("check claims: %w", err)
	}
	return out, nil
}
