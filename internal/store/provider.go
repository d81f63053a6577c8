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
)

// providerIDGen returns the provider's internal id and generation, or a not-found error.
func (t *tx) providerIDGen(uuid string) (id, gen int64, err error) {
	err = t.queryRow(`SELECT id, generation FROM resource_providers WHERE uuid = ?`, uuid).Scan(&id, &gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, placement.ProviderNotFound(uuid)
	}
	return id, gen, err
}

// bumpGeneration increments the provider's generation if it is still cur
// (compare-and-swap) and returns the new value; otherwise it returns
// placement.ErrConcurrentUpdate.
func (t *tx) bumpGeneration(id, cur int64) (int64, error) {
	res, err := t.exec(`UPDATE resource_providers SET generation = ?, updated_at = ? WHERE id = ? AND generation = ?`, cur+1, t.now, id, cur)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if n != 1 {
		return 0, placement.ConcurrentUpdatef("Another thread concurrently updated the resource provider data. Please retry your update")
	}
	t.touch(id)
	return cur + 1, nil
}

// claimGeneration is the compare-and-swap a generation-guarded write starts with: it
// increments the generation of provider uuid if that is still gen, in one statement, and
// returns the provider's id. A stale generation is placement.ErrConcurrentUpdate with
// message conflict; an unknown provider is placement.KindNotFound. Writes that claim first
// and then fail are rolled back with the rest of their changes.
func (t *tx) claimGeneration(uuid string, gen int64, conflict string) (int64, error) {
	var id int64
	err := t.queryRow(`UPDATE resource_providers SET generation = generation + 1, updated_at = ? WHERE uuid = ? AND generation = ? RETURNING id`,
		t.now, uuid, gen).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		if _, _, err := t.providerIDGen(uuid); err != nil {
			return 0, err
		}
		return 0, placement.ConcurrentUpdatef("%s", conflict)
	}
	if err != nil {
		return 0, err
	}
	t.touch(id)
	return id, nil
}

const providerColumns = `p.id, p.uuid, p.name, p.generation, pp.uuid, rp.uuid, p.created_at, p.updated_at`

const providerFrom = ` FROM resource_providers p
	LEFT JOIN resource_providers pp ON pp.id = p.parent_provider_id
	LEFT JOIN resource_providers rp ON rp.id = p.root_provider_id`

func scanProvider(s interface{ Scan(...any) error }) (int64, placement.Provider, error) {
	var id int64
	var p placement.Provider
	var parent, root sql.NullString
	var c, u sql.NullInt64
	if err := s.Scan(&id, &p.UUID, &p.Name, &p.Generation, &parent, &root, &c, &u); err != nil {
		return 0, p, err
	}
	p.ParentUUID, p.RootUUID = parent.String, root.String
	if p.RootUUID == "" {
		p.RootUUID = p.UUID
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(c), fromMicros(u)
	return id, p, nil
}

func (t *tx) getProvider(uuid string) (int64, placement.Provider, error) {
	id, p, err := scanProvider(t.queryRow(`SELECT `+providerColumns+providerFrom+` WHERE p.uuid = ?`, uuid))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, p, placement.ProviderNotFound(uuid)
	}
	return id, p, err
}

// GetProvider returns the provider or a placement.KindNotFound error.
func (db *DB) GetProvider(ctx context.Context, uuid string) (placement.Provider, error) {
	_, p, err := scanProvider(db.readRow(ctx, `SELECT `+providerColumns+providerFrom+` WHERE p.uuid = ?`, uuid))
	if errors.Is(err, sql.ErrNoRows) {
		err = placement.ProviderNotFound(uuid)
	}
	if err != nil {
		return p, fmt.Errorf("get provider %s: %w", uuid, err)
	}
	return p, nil
}

// NewProvider describes a provider to create. ParentUUID is optional.
type NewProvider struct {
	UUID       string
	Name       string
	ParentUUID string
}

// CreateProvider creates a provider with generation 0. A duplicate UUID or name is a
// KindConflict error with code placement.duplicate_name; a missing or invalid parent is
// KindInvalid.
func (db *DB) CreateProvider(ctx context.Context, np NewProvider) (placement.Provider, error) {
	var p placement.Provider
	err := db.write(ctx, func(t *tx) error {
		var err error
		p, err = t.createProvider(np)
		return err
	})
	if err != nil {
		return p, fmt.Errorf("create provider %s: %w", np.UUID, err)
	}
	return p, nil
}

func (t *tx) createProvider(np NewProvider) (placement.Provider, error) {
	fail := func(reason string) error {
		return placement.Invalidf("Unable to create resource provider \"%s\", %s: Object action create failed because: %s", np.Name, np.UUID, reason)
	}
	var parentID, rootID sql.NullInt64
	rootUUID := np.UUID
	if np.ParentUUID != "" {
		if np.ParentUUID == np.UUID {
			return placement.Provider{}, fail("parent provider UUID cannot be same as UUID. Please set parent provider UUID to None if there is no parent.")
		}
		var pid, prid int64
		err := t.queryRow(`SELECT p.id, COALESCE(p.root_provider_id, p.id) FROM resource_providers p WHERE p.uuid = ?`, np.ParentUUID).Scan(&pid, &prid)
		if errors.Is(err, sql.ErrNoRows) {
			return placement.Provider{}, fail("parent provider UUID does not exist.")
		}
		if err != nil {
			return placement.Provider{}, err
		}
		parentID = sql.NullInt64{Int64: pid, Valid: true}
		rootID = sql.NullInt64{Int64: prid, Valid: true}
		if err := t.queryRow(`SELECT uuid FROM resource_providers WHERE id = ?`, prid).Scan(&rootUUID); err != nil {
			return placement.Provider{}, err
		}
	}
	if t.db.dialect == dialectPostgres {
		// A failed statement aborts a PostgreSQL transaction, so duplicates are looked for
		// before the INSERT (SQLite diagnoses them after a failed INSERT instead), and
		// after the parent, as upstream reports a bad parent before a duplicate.
		if err := t.checkProviderUnique(np.UUID, np.Name); err != nil {
			return placement.Provider{}, err
		}
	}
	var id int64
	insert := `INSERT INTO resource_providers (uuid, name, generation, root_provider_id, parent_provider_id, created_at, updated_at)
		VALUES (?, ?, 0, ?, ?, ?, ?) RETURNING id`
	args := []any{np.UUID, np.Name, rootID, parentID, t.now, t.now}
	selfRooted := !rootID.Valid && t.db.dialect == dialectSQLite
	if selfRooted {
		// A root is its own root. SQLite gives a new row the largest rowid plus one, and
		// all SQLite writes run on one goroutine, so the id can be chosen in the INSERT
		// and the root set with it, saving an UPDATE per provider.
		insert = `INSERT INTO resource_providers (id, uuid, name, generation, root_provider_id, parent_provider_id, created_at, updated_at)
			VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM resource_providers), ?, ?, 0,
			        (SELECT COALESCE(MAX(id), 0) + 1 FROM resource_providers), NULL, ?, ?) RETURNING id`
		args = []any{np.UUID, np.Name, t.now, t.now}
	}
	err := t.queryRow(insert, args...).Scan(&id)
	if err != nil {
		if isUniqueViolation(err) {
			if t.db.dialect == dialectPostgres {
				// Lost a race with a concurrent create; the transaction is aborted, so the
				// constraint's name says which value was taken.
				return placement.Provider{}, duplicateProvider(err, np)
			}
			if uerr := t.checkProviderUnique(np.UUID, np.Name); uerr != nil {
				return placement.Provider{}, uerr
			}
		}
		return placement.Provider{}, err
	}
	if !rootID.Valid && !selfRooted {
		if _, err := t.exec(`UPDATE resource_providers SET root_provider_id = id WHERE id = ?`, id); err != nil {
			return placement.Provider{}, err
		}
	}
	t.touch(id)
	now := time.UnixMicro(t.now).UTC()
	return placement.Provider{UUID: np.UUID, Name: np.Name, ParentUUID: np.ParentUUID, RootUUID: rootUUID,
		CreatedAt: now, UpdatedAt: now}, nil
}

// checkProviderUnique returns a duplicate_name conflict if a provider with the UUID or the
// name exists.
func (t *tx) checkProviderUnique(uuid, name string) error {
	var n int
	if err := t.queryRow(`SELECT COUNT(*) FROM resource_providers WHERE uuid = ?`, uuid).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return placement.Errorf(placement.KindConflict, placement.CodeDuplicateName,
			"Conflicting resource provider uuid: %s already exists.", uuid)
	}
	if err := t.queryRow(`SELECT COUNT(*) FROM resource_providers WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return placement.Errorf(placement.KindConflict, placement.CodeDuplicateName,
			"Conflicting resource provider name: %s already exists.", name)
	}
	return nil
}

// ProviderUpdate changes a provider's name and, when SetParent is true, its parent
// (ParentUUID "" makes it a root).
type ProviderUpdate struct {
	Name       string
	SetParent  bool
	ParentUUID string
	// AllowReparent permits moving a provider that has a parent to another parent or to no
	// parent (microversion 1.37); without it only a root may be given a parent.
	AllowReparent bool
}

// UpdateProvider renames and possibly re-parents a provider. Re-parenting moves the whole
// subtree: every descendant's root becomes the new parent's root.
func (db *DB) UpdateProvider(ctx context.Context, uuid string, u ProviderUpdate) (placement.Provider, error) {
	var p placement.Provider
	err := db.write(ctx, func(t *tx) error {
		id, cur, err := t.getProvider(uuid)
		if err != nil {
			return err
		}
		fail := func(action, reason string) error {
			return placement.Invalidf("Unable to save resource provider %s: Object action %s failed because: %s", uuid, action, reason)
		}
		// Upstream's order: the parent's checks (ResourceProvider._update_in_db), then the
		// name's uniqueness (at flush).
		if u.SetParent && u.ParentUUID != cur.ParentUUID {
			if u.ParentUUID == "" && !u.AllowReparent {
				return fail("update", "un-parenting a provider is not currently allowed.")
			}
			if err := t.reparent(id, u.ParentUUID, cur.ParentUUID != "" && !u.AllowReparent, fail); err != nil {
				return err
			}
		}
		if u.Name != cur.Name {
			var n int
			if err := t.queryRow(`SELECT COUNT(*) FROM resource_providers WHERE name = ? AND id <> ?`, u.Name, id).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return placement.Errorf(placement.KindConflict, placement.CodeDuplicateName,
					"Conflicting resource provider %s already exists.", u.Name)
			}
			if _, err := t.exec(`UPDATE resource_providers SET name = ?, updated_at = ? WHERE id = ?`, u.Name, t.now, id); err != nil {
				return err
			}
			t.touch(id)
		}
		if _, err := t.exec(`UPDATE resource_providers SET updated_at = ? WHERE id = ?`, t.now, id); err != nil {
			return err
		}
		_, p, err = t.getProvider(uuid)
		return err
	})
	if err != nil {
		return p, fmt.Errorf("update provider %s: %w", uuid, err)
	}
	return p, nil
}

// reparent makes parentUUID ("" for none) the parent of provider id and gives the provider's
// whole subtree the new root. refuse says that moving to another parent is not allowed; as
// upstream, a parent that does not exist is reported first (and, as upstream words it, as a
// failed "create").
func (t *tx) reparent(id int64, parentUUID string, refuse bool, fail func(action, reason string) error) error {
	newRoot := id
	var parent sql.NullInt64
	if parentUUID != "" {
		var pid, proot int64
		err := t.queryRow(`SELECT id, COALESCE(root_provider_id, id) FROM resource_providers WHERE uuid = ?`, parentUUID).Scan(&pid, &proot)
		if errors.Is(err, sql.ErrNoRows) {
			return fail("create", "parent provider UUID does not exist.")
		}
		if err != nil {
			return err
		}
		if refuse {
			return fail("update", "re-parenting a provider is not currently allowed.")
		}
		subtree, err := t.subtree(id)
		if err != nil {
			return err
		}
		for _, d := range subtree {
			if d == pid {
				return fail("update", "creating loop in the provider tree is not allowed.")
			}
		}
		parent = sql.NullInt64{Int64: pid, Valid: true}
		newRoot = proot
	}
	if _, err := t.exec(`UPDATE resource_providers SET parent_provider_id = ?, updated_at = ? WHERE id = ?`, parent, t.now, id); err != nil {
		return err
	}
	subtree, err := t.subtree(id)
	if err != nil {
		return err
	}
	for _, chunk := range chunks(subtree, 500) {
		args := append([]any{newRoot}, anys(chunk)...)
		if _, err := t.exec(`UPDATE resource_providers SET root_provider_id = ? WHERE id IN (`+placeholders(len(chunk))+`)`, args...); err != nil {
			return err
		}
	}
	t.touch(subtree...)
	return nil
}

// subtree returns id and the ids of all its descendants.
func (t *tx) subtree(id int64) ([]int64, error) {
	out := []int64{id}
	frontier := []int64{id}
	for len(frontier) > 0 {
		var next []int64
		err := scanIn(t, frontier, func(ph string) string {
			return `SELECT id FROM resource_providers WHERE parent_provider_id IN (` + ph + `)`
		}, func(rows *sql.Rows) error {
			var c int64
			err := rows.Scan(&c)
			next = append(next, c)
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, next...)
		frontier = next
	}
	return out, nil
}

// DeleteProvider deletes a provider with no allocations and no children, with its
// inventories, traits and aggregate links.
func (db *DB) DeleteProvider(ctx context.Context, uuid string) error {
	err := db.write(ctx, func(t *tx) error {
		var id int64
		if err := t.queryRow(`SELECT id FROM resource_providers WHERE uuid = ?`, uuid).Scan(&id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return placement.NotFoundf("No resource provider with uuid %s found for delete", uuid)
			}
			return err
		}
		return t.deleteProvider(id, uuid)
	})
	if err != nil {
		return fmt.Errorf("delete provider %s: %w", uuid, err)
	}
	return nil
}

// deleteProvider deletes the provider. As upstream (ResourceProvider._delete), a provider
// with children is refused before one with allocations.
func (t *tx) deleteProvider(id int64, uuid string) error {
	var n int
	if err := t.queryRow(`SELECT COUNT(*) FROM resource_providers WHERE parent_provider_id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return placement.Errorf(placement.KindConflict, placement.CodeCannotDeleteParent,
			"Unable to delete parent resource provider %s: It has child resource providers.", uuid)
	}
	if err := t.queryRow(`SELECT COUNT(*) FROM allocations WHERE resource_provider_id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return placement.Errorf(placement.KindConflict, placement.CodeProviderInUse,
			"Unable to delete resource provider %s: Resource provider has allocations.", uuid)
	}
	for _, q := range []string{
		`DELETE FROM inventories WHERE resource_provider_id = ?`,
		`DELETE FROM resource_provider_traits WHERE resource_provider_id = ?`,
		`DELETE FROM resource_provider_aggregates WHERE resource_provider_id = ?`,
		`UPDATE resource_providers SET root_provider_id = NULL WHERE id = ?`,
		`DELETE FROM resource_providers WHERE id = ?`,
	} {
		if _, err := t.exec(q, id); err != nil {
			return err
		}
	}
	t.touch(id)
	return nil
}

// duplicateProvider words a PostgreSQL unique violation on resource_providers by the
// violated constraint.
func duplicateProvider(err error, np NewProvider) error {
	field, value := "uuid", np.UUID
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok && strings.Contains(pe.ConstraintName, "name") {
		field, value = "name", np.Name
	}
	return placement.Errorf(placement.KindConflict, placement.CodeDuplicateName,
		"Conflicting resource provider %s: %s already exists.", field, value)
}
