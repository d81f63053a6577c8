package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"ingot/internal/placement"
)

// ProviderAggregates returns the UUIDs of the aggregates the provider is in (in the order
// the aggregates became known), its generation and its last modification time.
func (db *DB) ProviderAggregates(ctx context.Context, uuid string) ([]string, int64, time.Time, error) {
	var aggs []string
	var gen int64
	var modified time.Time
	err := db.read(ctx, func(t *tx) error {
		var id int64
		var c, u sql.NullInt64
		err := t.queryRow(`SELECT id, generation, created_at, updated_at FROM resource_providers WHERE uuid = ?`, uuid).Scan(&id, &gen, &c, &u)
		if errors.Is(err, sql.ErrNoRows) {
			return placement.ProviderNotFound(uuid)
		}
		if err != nil {
			return err
		}
		modified = fromMicros(u)
		if modified.IsZero() {
			modified = fromMicros(c)
		}
		aggs, err = t.providerAggregates(id)
		return err
	})
	if err != nil {
		return nil, 0, time.Time{}, fmt.Errorf("aggregates of %s: %w", uuid, err)
	}
	return aggs, gen, modified, nil
}

func (t *tx) providerAggregates(id int64) ([]string, error) {
	rows, err := t.query(`SELECT a.uuid FROM resource_provider_aggregates rpa JOIN aggregates a ON a.id = rpa.aggregate_id
		WHERE rpa.resource_provider_id = ? ORDER BY a.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	aggs := []string{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		aggs = append(aggs, a)
	}
	return aggs, rows.Err()
}

// SetProviderAggregates replaces the provider's aggregates. With gen non-nil the write is
// conditional on the provider's generation (microversion 1.19) and increments it; with gen
// nil (earlier microversions) the generation is left alone, as upstream does. It returns the
// provider's generation after the write.
func (db *DB) SetProviderAggregates(ctx context.Context, uuid string, gen *int64, aggs []string) (int64, error) {
	var newGen int64
	err := db.write(ctx, func(t *tx) error {
		if gen != nil {
			id, err := t.claimGeneration(uuid, *gen, "Resource provider's generation already changed. Please update the generation and try again.")
			if err != nil {
				return err
			}
			newGen = *gen + 1
			return t.replaceProviderAggregates(id, aggs)
		}
		id, cur, err := t.providerIDGen(uuid)
		if err != nil {
			return err
		}
		if err := t.replaceProviderAggregates(id, aggs); err != nil {
			return err
		}
		// Before 1.19 the generation is left alone; only the update time moves.
		newGen = cur
		_, err = t.exec(`UPDATE resource_providers SET updated_at = ? WHERE id = ?`, t.now, id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("set aggregates of %s: %w", uuid, err)
	}
	return newGen, nil
}

func (t *tx) aggregateID(uuid string) (int64, error) {
	var id int64
	err := t.queryRow(`SELECT id FROM aggregates WHERE uuid = ?`, uuid).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if _, err := t.exec(`INSERT INTO aggregates (uuid, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING`, uuid, t.now); err != nil {
		return 0, err
	}
	err = t.queryRow(`SELECT id FROM aggregates WHERE uuid = ?`, uuid).Scan(&id)
	return id, err
}

func (t *tx) replaceProviderAggregates(id int64, aggs []string) error {
	want := map[int64]bool{}
	for _, a := range aggs {
		aid, err := t.aggregateID(a)
		if err != nil {
			return err
		}
		want[aid] = true
	}
	have, err := t.idSet(`SELECT aggregate_id FROM resource_provider_aggregates WHERE resource_provider_id = ?`, id)
	if err != nil {
		return err
	}
	for aid := range want {
		if !have[aid] {
			if _, err := t.exec(`INSERT INTO resource_provider_aggregates (resource_provider_id, aggregate_id, created_at) VALUES (?, ?, ?)`, id, aid, t.now); err != nil {
				return err
			}
		}
	}
	for aid := range have {
		if !want[aid] {
			if _, err := t.exec(`DELETE FROM resource_provider_aggregates WHERE resource_provider_id = ? AND aggregate_id = ?`, id, aid); err != nil {
				return err
			}
		}
	}
	t.touch(id)
	return nil
}
