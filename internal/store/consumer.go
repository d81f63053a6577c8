package store

import (
	"database/sql"
	"errors"
	"fmt"

	"ingot/internal/placement"
)

// IncompleteConsumerID is the project and user recorded for a consumer whose allocations
// were written without them (before microversion 1.8), as upstream's default
// incomplete_consumer_project_id and incomplete_consumer_user_id.
const IncompleteConsumerID = "00000000-0000-0000-0000-000000000000"

// DefaultConsumerType is how a consumer without a type is shown.
const DefaultConsumerType = "unknown"

// externalID returns the internal id of the project or user (table "projects" or "users")
// with the external id, creating the row if needed.
func (t *tx) externalID(table, external string) (int64, error) {
	var id int64
	err := t.queryRow(`SELECT id FROM `+table+` WHERE external_id = ?`, external).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if _, err := t.exec(`INSERT INTO `+table+` (external_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING`, external, t.now); err != nil {
		return 0, err
	}
	err = t.queryRow(`SELECT id FROM `+table+` WHERE external_id = ?`, external).Scan(&id)
	return id, err
}

// consumerTypeID returns the id of the consumer type, creating it if needed.
func (t *tx) consumerTypeID(name string) (int64, error) {
	var id int64
	err := t.queryRow(`SELECT id FROM consumer_types WHERE name = ?`, name).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if _, err := t.exec(`INSERT INTO consumer_types (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING`, name, t.now); err != nil {
		return 0, err
	}
	err = t.queryRow(`SELECT id FROM consumer_types WHERE name = ?`, name).Scan(&id)
	return id, err
}

// consumerState is a consumer as the allocation write found or created it.
type consumerState struct {
	id      int64
	gen     int64
	created bool
}

// ensureConsumer finds or creates the consumer of ca, checks its generation when ca asks
// for that, and brings its project, user and type up to date (without touching the
// generation, which the allocation write increments).
func (t *tx) ensureConsumer(ca placement.ConsumerAllocations) (consumerState, error) {
	projectID, err := t.externalID("projects", ca.ProjectID)
	if err != nil {
		return consumerState{}, err
	}
	userID, err := t.externalID("users", ca.UserID)
	if err != nil {
		return consumerState{}, err
	}
	var typeID sql.NullInt64
	if ca.ConsumerType != "" {
		id, err := t.consumerTypeID(ca.ConsumerType)
		if err != nil {
			return consumerState{}, err
		}
		typeID = sql.NullInt64{Int64: id, Valid: true}
	}
	var cs consumerState
	var curProject, curUser int64
	var curType sql.NullInt64
	err = t.queryRow(`SELECT id, generation, project_id, user_id, consumer_type_id FROM consumers WHERE uuid = ?`, ca.ConsumerUUID).
		Scan(&cs.id, &cs.gen, &curProject, &curUser, &curType)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if ca.CheckGeneration && ca.Generation != nil {
			return consumerState{}, placement.ConcurrentUpdatef("consumer generation conflict - expected null but got %d", *ca.Generation)
		}
		if err := t.queryRow(`INSERT INTO consumers (uuid, project_id, user_id, consumer_type_id, generation, created_at, updated_at)
			VALUES (?, ?, ?, ?, 0, ?, ?) RETURNING id`, ca.ConsumerUUID, projectID, userID, typeID, t.now, t.now).Scan(&cs.id); err != nil {
			return consumerState{}, err
		}
		cs.created = true
		return cs, nil
	case err != nil:
		return consumerState{}, err
	}
	if ca.CheckGeneration && (ca.Generation == nil || *ca.Generation != cs.gen) {
		got := "None"
		if ca.Generation != nil {
			got = fmt.Sprint(*ca.Generation)
		}
		return consumerState{}, placement.ConcurrentUpdatef("consumer generation conflict - expected %d but got %s", cs.gen, got)
	}
	if curProject != projectID || curUser != userID {
		if _, err := t.exec(`UPDATE consumers SET project_id = ?, user_id = ?, updated_at = ? WHERE id = ?`, projectID, userID, t.now, cs.id); err != nil {
			return consumerState{}, err
		}
	}
	if typeID.Valid && typeID != curType {
		if _, err := t.exec(`UPDATE consumers SET consumer_type_id = ?, updated_at = ? WHERE id = ?`, typeID, t.now, cs.id); err != nil {
			return consumerState{}, err
		}
	}
	return cs, nil
}

// bumpConsumerGeneration increments the consumer's generation if it is still cur.
func (t *tx) bumpConsumerGeneration(id, cur int64) error {
	res, err := t.exec(`UPDATE consumers SET generation = ?, updated_at = ? WHERE id = ? AND generation = ?`, cur+1, t.now, id, cur)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return placement.ConcurrentUpdatef("Another thread concurrently updated the data. Please retry your update")
	}
	return nil
}

// deleteConsumersWithoutAllocations removes the consumers among ids that hold no
// allocations.
func (t *tx) deleteConsumersWithoutAllocations(ids []int64) error {
	for _, chunk := range chunks(ids, 500) {
		if _, err := t.exec(`DELETE FROM consumers WHERE id IN (`+placeholders(len(chunk))+`)
			AND NOT EXISTS (SELECT 1 FROM allocations a WHERE a.consumer_id = consumers.id)`, anys(chunk)...); err != nil {
			return err
		}
	}
	return nil
}
