package store

import (
	"context"
	"fmt"
	"strings"
)

// ClassUsage is the amount of one resource class allocated.
type ClassUsage struct {
	Class string
	Used  int64
}

// Usages are amounts by class, in class id order.
type Usages []ClassUsage

// Of returns the amount of the class (0 when absent).
func (u Usages) Of(class string) int64 {
	for _, cu := range u {
		if cu.Class == class {
			return cu.Used
		}
	}
	return 0
}

// add adds used to the class's amount, appending the class when it is new.
func (u Usages) add(class string, used int64) Usages {
	for i := range u {
		if u[i].Class == class {
			u[i].Used += used
			return u
		}
	}
	return append(u, ClassUsage{class, used})
}

// ProviderUsages returns, for every class the provider has inventory of (in class id
// order), the amount allocated (0 when nothing is), and the provider's generation.
func (db *DB) ProviderUsages(ctx context.Context, uuid string) (Usages, int64, error) {
	out := Usages{}
	var gen int64
	err := db.read(ctx, func(t *tx) error {
		id, g, err := t.providerIDGen(uuid)
		if err != nil {
			return err
		}
		gen = g
		rows, err := t.query(`SELECT rc.name, COALESCE((SELECT SUM(a.used) FROM allocations a
				WHERE a.resource_provider_id = i.resource_provider_id AND a.resource_class_id = i.resource_class_id), 0)
			FROM inventories i JOIN resource_classes rc ON rc.id = i.resource_class_id WHERE i.resource_provider_id = ?
			ORDER BY i.resource_class_id`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var cu ClassUsage
			if err := rows.Scan(&cu.Class, &cu.Used); err != nil {
				return err
			}
			out = append(out, cu)
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
	Type          string
	ConsumerCount int64
	Usage         Usages
}

// TotalUsages sums the allocations of the project's (and user's) consumers per class, and
// also per consumer type (consumers without a type are grouped as "unknown"). Both are in
// upstream's order: its queries group by class id (and consumer type id), which MariaDB and
// SQLite return sorted, with no type first; types are in the order they first appear.
func (db *DB) TotalUsages(ctx context.Context, f UsageFilter) (Usages, []*TypeUsage, error) {
	total := Usages{}
	var byType []*TypeUsage
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
	query := `SELECT COALESCE(ct.name, ''), rc.name, SUM(a.used)
		FROM allocations a
		JOIN consumers c ON c.id = a.consumer_id
		JOIN projects p ON p.id = c.project_id
		JOIN users u ON u.id = c.user_id
		LEFT JOIN consumer_types ct ON ct.id = c.consumer_type_id
		JOIN resource_classes rc ON rc.id = a.resource_class_id
		WHERE ` + strings.Join(where, " AND ") + `
		GROUP BY a.resource_class_id, rc.name, c.consumer_type_id, ct.name
		ORDER BY a.resource_class_id, COALESCE(c.consumer_type_id, -1)`
	countQuery := `SELECT COALESCE(ct.name, ''), COUNT(DISTINCT c.id)
		FROM consumers c
		JOIN projects p ON p.id = c.project_id
		JOIN users u ON u.id = c.user_id
		LEFT JOIN consumer_types ct ON ct.id = c.consumer_type_id
		WHERE ` + strings.Join(where, " AND ") + ` AND EXISTS (SELECT 1 FROM allocations a WHERE a.consumer_id = c.id)
		GROUP BY ct.name`
	err := db.read(ctx, func(t *tx) error {
		group := func(typ string) *TypeUsage {
			switch {
			case f.ConsumerType == "all":
				typ = "all"
			case typ == "":
				typ = DefaultConsumerType
			}
			for _, tu := range byType {
				if tu.Type == typ {
					return tu
				}
			}
			tu := &TypeUsage{Type: typ}
			byType = append(byType, tu)
			return tu
		}
		rows, err := t.query(query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var typ, class string
			var used int64
			if err := rows.Scan(&typ, &class, &used); err != nil {
				rows.Close()
				return err
			}
			total = total.add(class, used)
			tu := group(typ)
			tu.Usage = tu.Usage.add(class, used)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(byType) == 0 {
			return nil
		}
		rows, err = t.query(countQuery, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var typ string
			var n int64
			if err := rows.Scan(&typ, &n); err != nil {
				return err
			}
			group(typ).ConsumerCount += n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, fmt.Errorf("total usages of project %s: %w", f.ProjectID, err)
	}
	return total, byType, nil
}
