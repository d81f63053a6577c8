package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// ProviderUsages returns, for every class the provider has inventory of, the amount
// allocated (0 when nothing is), and the provider's generation.
func (db *DB) ProviderUsages(ctx context.Context, uuid string) (map[string]int64, int64, error) {
	out := map[string]int64{}
	var gen int64
	err := db.read(ctx, func(t *tx) error {
		id, g, err := t.providerIDGen(uuid)
		if err != nil {
			return err
		}
		gen = g
		rows, err := t.query(`SELECT rc.name, COALESCE((SELECT SUM(a.used) FROM allocations a
				WHERE a.resource_provider_id = i.resource_provider_id AND a.resource_class_id = i.resource_class_id), 0)
			FROM inventories i JOIN resource_classes rc ON rc.id = i.resource_class_id WHERE i.resource_provider_id = ?`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var used int64
			if err := rows.Scan(&name, &used); err != nil {
				return err
			}
			out[name] = used
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("usages of %s: %w", uuid, err)
	}
	return out, gen, nil
}

// UsageFilter selects the consumers whose allocations TotalUsages sums.
type UsageFilter struct {
	ProjectID string // required
	UserID    string // optional
	// ConsumerType restricts to one type: a type name, "unknown" (consumers without a type)
	// or "all" (every consumer, reported as one group named "all"). "" means no restriction.
	ConsumerType string
}

// TypeUsage is the usage of one consumer type (microversion 1.38).
type TypeUsage struct {
	ConsumerCount int64
	Usage         map[string]int64
}

// TotalUsages sums the allocations of the project's (and user's) consumers per class, and
// also per consumer type (consumers without a type are grouped as "unknown").
func (db *DB) TotalUsages(ctx context.Context, f UsageFilter) (map[string]int64, map[string]*TypeUsage, error) {
	total := map[string]int64{}
	byType := map[string]*TypeUsage{}
	where := []string{`p.external_id = ?`}
	args := []any{f.ProjectID}
	if f.UserID != "" {
		where = append(where, `u.external_id = ?`)
		args = append(args, f.UserID)
	}
	switch f.ConsumerType {
	case "", "all":
	case DefaultConsumerType:
		where = append(where, `c.consumer_type_id IS NULL`)
	default:
		where = append(where, `ct.name = ?`)
		args = append(args, f.ConsumerType)
	}
	query := `SELECT COALESCE(ct.name, ''), rc.name, SUM(a.used), COUNT(DISTINCT c.id)
		FROM allocations a
		JOIN consumers c ON c.id = a.consumer_id
		JOIN projects p ON p.id = c.project_id
		JOIN users u ON u.id = c.user_id
		LEFT JOIN consumer_types ct ON ct.id = c.consumer_type_id
		JOIN resource_classes rc ON rc.id = a.resource_class_id
		WHERE ` + strings.Join(where, " AND ") + `
		GROUP BY ct.name, rc.name`
	countQuery := `SELECT COALESCE(ct.name, ''), COUNT(DISTINCT c.id)
		FROM consumers c
		JOIN projects p ON p.id = c.project_id
		JOIN users u ON u.id = c.user_id
		LEFT JOIN consumer_types ct ON ct.id = c.consumer_type_id
		WHERE ` + strings.Join(where, " AND ") + ` AND EXISTS (SELECT 1 FROM allocations a WHERE a.consumer_id = c.id)
		GROUP BY ct.name`
	err := db.read(ctx, func(t *tx) error {
		group := func(typ string) string {
			if f.ConsumerType == "all" {
				return "all"
			}
			if typ == "" {
				return DefaultConsumerType
			}
			return typ
		}
		rows, err := t.query(query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var typ sql.NullString
			var class string
			var used, n int64
			if err := rows.Scan(&typ, &class, &used, &n); err != nil {
				rows.Close()
				return err
			}
			total[class] += used
			g := group(typ.String)
			if byType[g] == nil {
				byType[g] = &TypeUsage{Usage: map[string]int64{}}
			}
			byType[g].Usage[class] += used
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = t.query(countQuery, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var typ sql.NullString
			var n int64
			if err := rows.Scan(&typ, &n); err != nil {
				return err
			}
			if tu := byType[group(typ.String)]; tu != nil {
				tu.ConsumerCount += n
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("total usages of project %s: %w", f.ProjectID, err)
	}
	return total, byType, nil
}
