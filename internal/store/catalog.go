package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"ingot/internal/placement"
	"ingot/internal/standard"
)

// syncStandard inserts the standard resource classes (with their upstream ids) and standard
// traits that the database does not have yet. It never removes anything, and it is safe to
// run from several processes at once.
func (db *DB) syncStandard(ctx context.Context) error {
	var nClasses, nTraits int
	if err := db.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM resource_classes WHERE id < 10000`).Scan(&nClasses); err != nil {
		return fmt.Errorf("sync standard catalogue: %w", err)
	}
	if err := db.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM traits`).Scan(&nTraits); err != nil {
		return fmt.Errorf("sync standard catalogue: %w", err)
	}
	classes := standard.ResourceClasses()
	traits := standard.Traits()
	if nClasses == len(classes) && nTraits >= len(traits) && db.hasAllTraits(ctx, traits) {
		return nil
	}
	err := db.write(ctx, func(t *tx) error {
		for id, name := range classes {
			if _, err := t.exec(`INSERT INTO resource_classes (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, id, name, t.now); err != nil {
				return err
			}
		}
		for _, chunk := range chunks(traits, 200) {
			var b strings.Builder
			b.WriteString(`INSERT INTO traits (name, created_at) VALUES `)
			args := make([]any, 0, 2*len(chunk))
			for i, name := range chunk {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString("(?, ?)")
				args = append(args, name, t.now)
			}
			b.WriteString(" ON CONFLICT DO NOTHING")
			if _, err := t.exec(b.String(), args...); err != nil {
				return err
			}
		}
		t.touchCatalog()
		return nil
	})
	if err != nil {
		return fmt.Errorf("sync standard catalogue: %w", err)
	}
	return nil
}

func (db *DB) hasAllTraits(ctx context.Context, traits []string) bool {
	have := make(map[string]bool, len(traits))
	rows, err := db.r.QueryContext(ctx, `SELECT name FROM traits`)
	if err != nil {
		return false
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if rows.Scan(&n) != nil {
			return false
		}
		have[n] = true
	}
	if rows.Err() != nil {
		return false
	}
	for _, n := range traits {
		if !have[n] {
			return false
		}
	}
	return true
}

// ResourceClass is a resource class as stored.
type ResourceClass struct {
	Name      string
	CreatedAt time.Time // zero for standard classes, which upstream reports as "now"
	UpdatedAt time.Time
}

// Modified is the class's last modification time (zero for standard classes).
func (rc ResourceClass) Modified() time.Time {
	if !rc.UpdatedAt.IsZero() {
		return rc.UpdatedAt
	}
	return rc.CreatedAt
}

// IsCustomResourceClass reports whether name is a custom class name (CUSTOM_ prefix).
func IsCustomResourceClass(name string) bool { return strings.HasPrefix(name, "CUSTOM_") }

func scanResourceClass(id int64, name string, created, updated sql.NullInt64) ResourceClass {
	rc := ResourceClass{Name: name}
	if id >= standard.FirstCustomResourceClassID {
		rc.CreatedAt, rc.UpdatedAt = fromMicros(created), fromMicros(updated)
	}
	return rc
}

// ListResourceClasses returns every resource class, standard ones first in upstream order,
// then custom ones in creation order.
func (db *DB) ListResourceClasses(ctx context.Context) ([]ResourceClass, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, name, created_at, updated_at FROM resource_classes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list resource classes: %w", err)
	}
	defer rows.Close()
	var out []ResourceClass
	for rows.Next() {
		var id int64
		var name string
		var c, u sql.NullInt64
		if err := rows.Scan(&id, &name, &c, &u); err != nil {
			return nil, fmt.Errorf("list resource classes: %w", err)
		}
		out = append(out, scanResourceClass(id, name, c, u))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list resource classes: %w", err)
	}
	return out, nil
}

// GetResourceClass returns the named class or a placement.KindNotFound error.
func (db *DB) GetResourceClass(ctx context.Context, name string) (ResourceClass, error) {
	var id int64
	var c, u sql.NullInt64
	err := db.r.QueryRowContext(ctx, db.q(`SELECT id, created_at, updated_at FROM resource_classes WHERE name = ?`), name).Scan(&id, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return ResourceClass{}, resourceClassNotFound(name)
	}
	if err != nil {
		return ResourceClass{}, fmt.Errorf("get resource class %s: %w", name, err)
	}
	return scanResourceClass(id, name, c, u), nil
}

func resourceClassNotFound(name string) error {
	return placement.NotFoundf("No such resource class %s.", name)
}

// ErrResourceClassExists is returned (wrapped in a placement.KindConflict error) when a class
// being created or renamed to already exists.
var errResourceClassExists = errors.New("resource class exists")

// CreateResourceClass creates a custom class. It returns a KindConflict error if the class
// exists already.
func (db *DB) CreateResourceClass(ctx context.Context, name string) (ResourceClass, error) {
	var rc ResourceClass
	err := db.write(ctx, func(t *tx) error {
		var err error
		rc, err = t.createResourceClass(name)
		return err
	})
	if errors.Is(err, errResourceClassExists) {
		return ResourceClass{}, placement.Conflictf("Conflicting resource class already exists: %s", name)
	}
	if err != nil {
		return ResourceClass{}, fmt.Errorf("create resource class %s: %w", name, err)
	}
	return rc, nil
}

// EnsureResourceClass creates the custom class if it does not exist and reports whether it
// did (PUT /resource_classes/{name} from microversion 1.7).
func (db *DB) EnsureResourceClass(ctx context.Context, name string) (created bool, err error) {
	err = db.write(ctx, func(t *tx) error {
		created = false
		var n int
		if err := t.queryRow(`SELECT COUNT(*) FROM resource_classes WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := t.createResourceClass(name); err != nil {
			return err
		}
		created = true
		return nil
	})
	if errors.Is(err, errResourceClassExists) {
		return false, nil // created concurrently by someone else
	}
	if err != nil {
		return false, fmt.Errorf("ensure resource class %s: %w", name, err)
	}
	return created, nil
}

func (t *tx) createResourceClass(name string) (ResourceClass, error) {
	var exists int
	if err := t.queryRow(`SELECT COUNT(*) FROM resource_classes WHERE name = ?`, name).Scan(&exists); err != nil {
		return ResourceClass{}, err
	}
	if exists > 0 {
		return ResourceClass{}, errResourceClassExists
	}
	var next int64
	if err := t.queryRow(`SELECT COALESCE(MAX(id), ?) + 1 FROM resource_classes WHERE id >= ?`,
		standard.FirstCustomResourceClassID-1, standard.FirstCustomResourceClassID).Scan(&next); err != nil {
		return ResourceClass{}, err
	}
	if _, err := t.exec(`INSERT INTO resource_classes (id, name, created_at) VALUES (?, ?, ?)`, next, name, t.now); err != nil {
		if isUniqueViolation(err) {
			if pe, ok := errors.AsType[*pgconn.PgError](err); ok && strings.HasSuffix(pe.ConstraintName, "_pkey") {
				// Another replica took the next id at the same moment: run the
				// transaction again to pick the one after it.
				return ResourceClass{}, errRetryTx
			}
			return ResourceClass{}, errResourceClassExists
		}
		return ResourceClass{}, err
	}
	t.touchCatalog()
	return ResourceClass{Name: name, CreatedAt: time.UnixMicro(t.now).UTC()}, nil
}

// RenameResourceClass renames a custom class (PUT /resource_classes/{name} before 1.7).
func (db *DB) RenameResourceClass(ctx context.Context, name, newName string) (ResourceClass, error) {
	if !IsCustomResourceClass(name) {
		if _, err := db.GetResourceClass(ctx, name); err != nil {
			return ResourceClass{}, err
		}
		return ResourceClass{}, placement.Invalidf("Cannot update standard resource class %s", name)
	}
	var rc ResourceClass
	err := db.write(ctx, func(t *tx) error {
		var id int64
		var c sql.NullInt64
		if err := t.queryRow(`SELECT id, created_at FROM resource_classes WHERE name = ?`, name).Scan(&id, &c); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return resourceClassNotFound(name)
			}
			return err
		}
		if _, err := t.exec(`UPDATE resource_classes SET name = ?, updated_at = ? WHERE id = ?`, newName, t.now, id); err != nil {
			if isUniqueViolation(err) {
				return placement.Conflictf("Resource class already exists: %s", newName)
			}
			return err
		}
		t.touchCatalog()
		rc = ResourceClass{Name: newName, CreatedAt: fromMicros(c), UpdatedAt: time.UnixMicro(t.now).UTC()}
		return nil
	})
	if err != nil {
		return ResourceClass{}, fmt.Errorf("rename resource class %s: %w", name, err)
	}
	return rc, nil
}

// DeleteResourceClass deletes a custom class that no inventory uses.
func (db *DB) DeleteResourceClass(ctx context.Context, name string) error {
	err := db.write(ctx, func(t *tx) error {
		var id int64
		if err := t.queryRow(`SELECT id FROM resource_classes WHERE name = ?`, name).Scan(&id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return resourceClassNotFound(name)
			}
			return err
		}
		if id < standard.FirstCustomResourceClassID {
			return placement.Invalidf("Error in delete resource class: Cannot delete standard resource class %s.", name)
		}
		var inUse int
		if err := t.queryRow(`SELECT COUNT(*) FROM inventories WHERE resource_class_id = ?`, id).Scan(&inUse); err != nil {
			return err
		}
		if inUse == 0 {
			if err := t.queryRow(`SELECT COUNT(*) FROM allocations WHERE resource_class_id = ?`, id).Scan(&inUse); err != nil {
				return err
			}
		}
		if inUse > 0 {
			return placement.Conflictf("Error in delete resource class: Cannot delete resource class %s. Class is in use in inventory.", name)
		}
		if _, err := t.exec(`DELETE FROM resource_classes WHERE id = ?`, id); err != nil {
			return err
		}
		t.touchCatalog()
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete resource class %s: %w", name, err)
	}
	return nil
}

// classIDs maps resource class names to ids inside t. A name that does not exist is returned
// in missing, in the order given.
func (t *tx) classIDs(names []string) (ids map[string]int64, missing []string, err error) {
	ids = make(map[string]int64, len(names))
	if len(names) == 0 {
		return ids, nil, nil
	}
	rows, err := t.query(`SELECT id, name FROM resource_classes WHERE name IN (`+placeholders(len(names))+`)`, anys(names)...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			return nil, nil, err
		}
		ids[n] = id
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	for _, n := range names {
		if _, ok := ids[n]; !ok {
			missing = append(missing, n)
		}
	}
	return ids, missing, nil
}
