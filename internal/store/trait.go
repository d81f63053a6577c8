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
	"ingot/internal/standard"
)

// Trait is a trait as stored.
type Trait struct {
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Modified is the trait's last modification time.
func (tr Trait) Modified() time.Time {
	if !tr.UpdatedAt.IsZero() {
		return tr.UpdatedAt
	}
	return tr.CreatedAt
}

// TraitFilter selects traits for ListTraits. Zero values select everything.
type TraitFilter struct {
	NameIn     []string // only these names (nil: no restriction; empty non-nil: nothing)
	Prefix     string   // only names starting with this
	Associated *bool    // only traits that are (or are not) on some provider
}

// ListTraits returns the traits matching f: in name order when filtered by name only, else
// in id order.
func (db *DB) ListTraits(ctx context.Context, f TraitFilter) ([]Trait, error) {
	var where []string
	var args []any
	if f.NameIn != nil {
		if len(f.NameIn) == 0 {
			return nil, nil
		}
		where = append(where, `name IN (`+placeholders(len(f.NameIn))+`)`)
		args = append(args, anys(f.NameIn)...)
	}
	if f.Prefix != "" {
		where = append(where, `substr(name, 1, ?) = ?`)
		args = append(args, len(f.Prefix), f.Prefix)
	}
	if f.Associated != nil {
		cond := `EXISTS (SELECT 1 FROM resource_provider_traits rpt WHERE rpt.trait_id = traits.id)`
		if !*f.Associated {
			cond = "NOT " + cond
		}
		where = append(where, cond)
	}
	query := `SELECT name, created_at, updated_at FROM traits`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	// Upstream's query has no ORDER BY; on MariaDB a name filter alone is answered from the
	// unique index on name (name order), anything else from the table (id order: standard
	// traits first, then custom ones as created).
	if (f.NameIn != nil || f.Prefix != "") && f.Associated == nil {
		query += ` ORDER BY name`
	} else {
		query += ` ORDER BY id`
	}
	rows, err := db.r.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list traits: %w", err)
	}
	defer rows.Close()
	var out []Trait
	for rows.Next() {
		var tr Trait
		var c, u sql.NullInt64
		if err := rows.Scan(&tr.Name, &c, &u); err != nil {
			return nil, fmt.Errorf("list traits: %w", err)
		}
		tr.CreatedAt, tr.UpdatedAt = fromMicros(c), fromMicros(u)
		out = append(out, tr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list traits: %w", err)
	}
	return out, nil
}

// GetTrait returns the named trait or a KindNotFound error.
func (db *DB) GetTrait(ctx context.Context, name string) (Trait, error) {
	tr := Trait{Name: name}
	var c, u sql.NullInt64
	err := db.r.QueryRowContext(ctx, db.q(`SELECT created_at, updated_at FROM traits WHERE name = ?`), name).Scan(&c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return Trait{}, placement.NotFoundf("No such trait(s): %s.", name)
	}
	if err != nil {
		return Trait{}, fmt.Errorf("get trait %s: %w", name, err)
	}
	tr.CreatedAt, tr.UpdatedAt = fromMicros(c), fromMicros(u)
	return tr, nil
}

// EnsureTrait creates the custom trait if it does not exist, and returns it and whether it
// was created.
func (db *DB) EnsureTrait(ctx context.Context, name string) (Trait, bool, error) {
	var tr Trait
	var created bool
	err := db.write(ctx, func(t *tx) error {
		created = false
		var c, u sql.NullInt64
		err := t.queryRow(`SELECT created_at, updated_at FROM traits WHERE name = ?`, name).Scan(&c, &u)
		if err == nil {
			tr = Trait{Name: name, CreatedAt: fromMicros(c), UpdatedAt: fromMicros(u)}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := t.exec(`INSERT INTO traits (name, created_at) VALUES (?, ?)`, name, t.now); err != nil {
			return err
		}
		t.touchCatalog()
		created = true
		tr = Trait{Name: name, CreatedAt: time.UnixMicro(t.now).UTC()}
		return nil
	})
	if err != nil {
		if isUniqueViolation(err) {
			tr, err := db.GetTrait(ctx, name)
			return tr, false, err
		}
		return Trait{}, false, fmt.Errorf("ensure trait %s: %w", name, err)
	}
	return tr, created, nil
}

// DeleteTrait deletes a custom trait that no provider has.
func (db *DB) DeleteTrait(ctx context.Context, name string) error {
	err := db.write(ctx, func(t *tx) error {
		var id int64
		if err := t.queryRow(`SELECT id FROM traits WHERE name = ?`, name).Scan(&id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return placement.NotFoundf("No such trait(s): %s.", name)
			}
			return err
		}
		if standard.IsTrait(name) {
			return placement.Invalidf("Cannot delete standard trait %s.", name)
		}
		var n int
		if err := t.queryRow(`SELECT COUNT(*) FROM resource_provider_traits WHERE trait_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return placement.Conflictf("The trait %s is in use by a resource provider.", name)
		}
		if _, err := t.exec(`DELETE FROM traits WHERE id = ?`, id); err != nil {
			return err
		}
		t.touchCatalog()
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete trait %s: %w", name, err)
	}
	return nil
}

// traitIDs maps trait names to ids inside t; names that do not exist are returned in missing
// (sorted).
func (t *tx) traitIDs(names []string) (ids map[string]int64, missing []string, err error) {
	ids = make(map[string]int64, len(names))
	err = scanIn(t, names, func(ph string) string {
		return `SELECT id, name FROM traits WHERE name IN (` + ph + `)`
	}, func(rows *sql.Rows) error {
		var id int64
		var n string
		err := rows.Scan(&id, &n)
		ids[n] = id
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	for _, n := range names {
		if _, ok := ids[n]; !ok {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	return ids, missing, nil
}

// ProviderTraits returns the provider's traits in id order and its generation.
func (db *DB) ProviderTraits(ctx context.Context, uuid string) ([]Trait, int64, error) {
	var traits []Trait
	var gen int64
	err := db.read(ctx, func(t *tx) error {
		var id int64
		var err error
		id, gen, err = t.providerIDGen(uuid)
		if err != nil {
			return err
		}
		traits, err = t.providerTraits(id)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("provider traits of %s: %w", uuid, err)
	}
	return traits, gen, nil
}

func (t *tx) providerTraits(id int64) ([]Trait, error) {
	rows, err := t.query(`SELECT t.name, t.created_at, t.updated_at FROM resource_provider_traits rpt
		JOIN traits t ON t.id = rpt.trait_id WHERE rpt.resource_provider_id = ? ORDER BY rpt.trait_id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Trait
	for rows.Next() {
		var tr Trait
		var c, u sql.NullInt64
		if err := rows.Scan(&tr.Name, &c, &u); err != nil {
			return nil, err
		}
		tr.CreatedAt, tr.UpdatedAt = fromMicros(c), fromMicros(u)
		out = append(out, tr)
	}
	return out, rows.Err()
}

// SetProviderTraits replaces the provider's traits, provided its generation is still gen,
// and returns the new traits and generation. Unknown traits are a KindInvalid error ("No such
// trait ..."); a stale generation is placement.ErrConcurrentUpdate.
func (db *DB) SetProviderTraits(ctx context.Context, uuid string, gen int64, names []string) ([]Trait, int64, error) {
	var traits []Trait
	var newGen int64
	err := db.write(ctx, func(t *tx) error {
		id, err := t.claimGeneration(uuid, gen, "Resource provider's generation already changed. Please update the generation and try again.")
		if err != nil {
			return err
		}
		newGen = gen + 1
		ids, missing, err := t.traitIDs(names)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return placement.Invalidf("No such trait %s", strings.Join(missing, ", "))
		}
		if err := t.replaceProviderTraits(id, ids); err != nil {
			return err
		}
		// In name order, as upstream answers with the traits it looked up by name.
		traits = make([]Trait, 0, len(ids))
		for _, name := range sortedKeys(ids) {
			traits = append(traits, Trait{Name: name, UpdatedAt: time.UnixMicro(t.now).UTC()})
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("set traits of %s: %w", uuid, err)
	}
	return traits, newGen, nil
}

// DeleteProviderTraits removes every trait from the provider.
func (db *DB) DeleteProviderTraits(ctx context.Context, uuid string) error {
	err := db.write(ctx, func(t *tx) error {
		id, cur, err := t.providerIDGen(uuid)
		if err != nil {
			return err
		}
		if err := t.replaceProviderTraits(id, nil); err != nil {
			return err
		}
		_, err = t.bumpGeneration(id, cur)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete traits of %s: %w", uuid, err)
	}
	return nil
}

// replaceProviderTraits makes the provider's trait set exactly ids (by diff, so unchanged
// links keep their rows).
func (t *tx) replaceProviderTraits(id int64, want map[string]int64) error {
	have, err := t.idSet(`SELECT trait_id FROM resource_provider_traits WHERE resource_provider_id = ?`, id)
	if err != nil {
		return err
	}
	wantIDs := map[int64]bool{}
	for _, tid := range want {
		wantIDs[tid] = true
		if !have[tid] {
			if _, err := t.exec(`INSERT INTO resource_provider_traits (resource_provider_id, trait_id, created_at) VALUES (?, ?, ?)`, id, tid, t.now); err != nil {
				return err
			}
		}
	}
	for tid := range have {
		if !wantIDs[tid] {
			if _, err := t.exec(`DELETE FROM resource_provider_traits WHERE resource_provider_id = ? AND trait_id = ?`, id, tid); err != nil {
				return err
			}
		}
	}
	t.touch(id)
	return nil
}
