package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"ingot/internal/placement"
)

// View is an immutable in-memory picture of every resource provider (with inventories,
// usage, traits and aggregates) as of one committed change sequence number. Views are
// shared between goroutines and must not be modified.
type View struct {
	// Seq is the change sequence number the view reflects: it contains every write
	// committed with a number up to Seq.
	Seq int64

	providers []*ViewProvider // by slot; nil for deleted providers
	bySlot    map[int64]int32 // provider id -> slot
	byUUID    map[string]int32

	classIDs   map[string]int64
	classNames map[int64]string
	traitIDs   map[string]int64
	traitNames map[int64]string
}

// ViewProvider is one provider in a View.
type ViewProvider struct {
	ID         int64
	UUID       string
	Name       string
	Generation int64
	ParentID   int64 // 0 for a root
	RootID     int64
	CreatedAt  int64 // microseconds
	UpdatedAt  int64
	// Inventories are sorted by class id.
	Inventories []ViewInventory
	// Traits are trait ids, sorted.
	Traits []int64
	// Aggregates are aggregate UUIDs, sorted.
	Aggregates []string
}

// ViewInventory is one class's inventory on a provider and the amount allocated.
type ViewInventory struct {
	ClassID int64
	placement.Inventory
	Used int64
}

// Inventory returns the provider's inventory of the class, if any.
func (p *ViewProvider) Inventory(classID int64) (ViewInventory, bool) {
	i := sort.Search(len(p.Inventories), func(i int) bool { return p.Inventories[i].ClassID >= classID })
	if i < len(p.Inventories) && p.Inventories[i].ClassID == classID {
		return p.Inventories[i], true
	}
	return ViewInventory{}, false
}

// HasTrait reports whether the provider has the trait.
func (p *ViewProvider) HasTrait(id int64) bool {
	i := sort.Search(len(p.Traits), func(i int) bool { return p.Traits[i] >= id })
	return i < len(p.Traits) && p.Traits[i] == id
}

// InAggregate reports whether the provider is directly in the aggregate.
func (p *ViewProvider) InAggregate(uuid string) bool {
	i := sort.SearchStrings(p.Aggregates, uuid)
	return i < len(p.Aggregates) && p.Aggregates[i] == uuid
}

// Modified is the provider's last modification time.
func (p *ViewProvider) Modified() time.Time {
	if p.UpdatedAt != 0 {
		return time.UnixMicro(p.UpdatedAt).UTC()
	}
	return time.UnixMicro(p.CreatedAt).UTC()
}

// Provider returns the provider with the UUID.
func (v *View) Provider(uuid string) (*ViewProvider, bool) {
	s, ok := v.byUUID[uuid]
	if !ok {
		return nil, false
	}
	return v.providers[s], true
}

// ProviderByID returns the provider with the internal id.
func (v *View) ProviderByID(id int64) (*ViewProvider, bool) {
	s, ok := v.bySlot[id]
	if !ok {
		return nil, false
	}
	return v.providers[s], true
}

// Providers calls fn for every provider in id order until fn returns false.
func (v *View) Providers(fn func(*ViewProvider) bool) {
	for _, p := range v.providers {
		if p != nil && !fn(p) {
			return
		}
	}
}

// Len is the number of providers.
func (v *View) Len() int { return len(v.byUUID) }

// ClassID returns the id of the resource class.
func (v *View) ClassID(name string) (int64, bool) { id, ok := v.classIDs[name]; return id, ok }

// ClassName returns the name of the resource class id.
func (v *View) ClassName(id int64) string { return v.classNames[id] }

// TraitID returns the id of the trait.
func (v *View) TraitID(name string) (int64, bool) { id, ok := v.traitIDs[name]; return id, ok }

// TraitName returns the name of the trait id.
func (v *View) TraitName(id int64) string { return v.traitNames[id] }

// ProviderUUID returns the UUID of the provider id ("" if unknown).
func (v *View) ProviderUUID(id int64) string {
	if p, ok := v.ProviderByID(id); ok {
		return p.UUID
	}
	return ""
}

// viewCache holds the latest view and serializes refreshes.
type viewCache struct {
	mu      sync.Mutex
	current atomic.Pointer[View]
}

// View returns a view that includes every write committed before the call. It costs one
// small query when nothing changed; otherwise it loads only the providers that changed
// since the previous view (or everything, after a long gap).
func (db *DB) View(ctx context.Context) (*View, error) {
	seq, err := db.changeSeq(ctx)
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	if v := db.view.current.Load(); v != nil && v.Seq >= seq {
		return v, nil
	}
	db.view.mu.Lock()
	defer db.view.mu.Unlock()
	if v := db.view.current.Load(); v != nil && v.Seq >= seq {
		return v, nil
	}
	v, err := db.refreshView(ctx, db.view.current.Load())
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	db.view.current.Store(v)
	return v, nil
}

func (db *DB) changeSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := db.readRow(ctx, `SELECT seq FROM change_version WHERE id = 1`).Scan(&seq)
	return seq, err
}

// refreshView builds the successor of old (nil: build from scratch) in one read snapshot.
func (db *DB) refreshView(ctx context.Context, old *View) (*View, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.dialect == dialectPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	sqlTx, err := db.r.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer sqlTx.Rollback()
	t := &tx{Tx: sqlTx, ctx: ctx, db: db}
	var seq, pruned int64
	if err := t.queryRow(`SELECT seq, pruned_through FROM change_version WHERE id = 1`).Scan(&seq, &pruned); err != nil {
		return nil, err
	}
	if old == nil || old.Seq < pruned {
		return t.loadView(seq, nil, nil)
	}
	rows, err := t.query(`SELECT DISTINCT provider_id FROM changes WHERE seq > ? AND seq <= ?`, old.Seq, seq)
	if err != nil {
		return nil, err
	}
	var ids []int64
	catalog := false
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		if id == 0 {
			catalog = true
		} else {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) > old.Len()/4+64 {
		return t.loadView(seq, nil, nil)
	}
	return t.loadView(seq, old, &viewDelta{ids: ids, catalog: catalog})
}

type viewDelta struct {
	ids     []int64
	catalog bool
}

// loadView loads a view at seq: everything when old is nil, otherwise old with the
// providers in delta reloaded.
func (t *tx) loadView(seq int64, old *View, delta *viewDelta) (*View, error) {
	v := &View{Seq: seq}
	if old == nil || delta.catalog {
		if err := t.loadCatalog(v); err != nil {
			return nil, err
		}
	} else {
		v.classIDs, v.classNames, v.traitIDs, v.traitNames = old.classIDs, old.classNames, old.traitIDs, old.traitNames
	}
	var loaded map[int64]*ViewProvider
	var err error
	if old == nil {
		loaded, err = t.loadProviders(nil)
	} else {
		loaded, err = t.loadProviders(delta.ids)
	}
	if err != nil {
		return nil, err
	}
	if old == nil {
		ids := make([]int64, 0, len(loaded))
		for id := range loaded {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		v.providers = make([]*ViewProvider, len(ids))
		v.bySlot = make(map[int64]int32, len(ids))
		v.byUUID = make(map[string]int32, len(ids))
		for i, id := range ids {
			p := loaded[id]
			v.providers[i] = p
			v.bySlot[id] = int32(i)
			v.byUUID[p.UUID] = int32(i)
		}
		return v, nil
	}
	// Copy on write: unchanged providers are shared with the old view.
	v.providers = append([]*ViewProvider(nil), old.providers...)
	v.bySlot, v.byUUID = old.bySlot, old.byUUID
	copied := false
	copyMaps := func() {
		if copied {
			return
		}
		copied = true
		v.bySlot = make(map[int64]int32, len(old.bySlot)+len(delta.ids))
		for k, s := range old.bySlot {
			v.bySlot[k] = s
		}
		v.byUUID = make(map[string]int32, len(old.byUUID)+len(delta.ids))
		for k, s := range old.byUUID {
			v.byUUID[k] = s
		}
	}
	sort.Slice(delta.ids, func(i, j int) bool { return delta.ids[i] < delta.ids[j] })
	for _, id := range delta.ids {
		p, exists := loaded[id]
		s, had := v.bySlot[id]
		switch {
		case exists && had:
			if v.providers[s].UUID != p.UUID {
				copyMaps()
				delete(v.byUUID, v.providers[s].UUID)
				v.byUUID[p.UUID] = s
			}
			v.providers[s] = p
		case exists:
			copyMaps()
			s = int32(len(v.providers))
			v.providers = append(v.providers, p)
			v.bySlot[id] = s
			v.byUUID[p.UUID] = s
		case had:
			copyMaps()
			delete(v.byUUID, v.providers[s].UUID)
			delete(v.bySlot, id)
			v.providers[s] = nil
		}
	}
	return v, nil
}

func (t *tx) loadCatalog(v *View) error {
	v.classIDs, v.classNames = map[string]int64{}, map[int64]string{}
	v.traitIDs, v.traitNames = map[string]int64{}, map[int64]string{}
	for _, c := range []struct {
		query string
		ids   map[string]int64
		names map[int64]string
	}{
		{`SELECT id, name FROM resource_classes`, v.classIDs, v.classNames},
		{`SELECT id, name FROM traits`, v.traitIDs, v.traitNames},
	} {
		rows, err := t.query(c.query)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return err
			}
			c.ids[name], c.names[id] = id, name
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// loadProviders loads the providers with the ids (all providers when ids is nil).
func (t *tx) loadProviders(ids []int64) (map[int64]*ViewProvider, error) {
	out := map[int64]*ViewProvider{}
	if ids != nil && len(ids) == 0 {
		return out, nil
	}
	used := map[pcKey]int64{}
	batches := [][]int64{nil}
	if ids != nil {
		batches = chunks(ids, 500)
	}
	for _, batch := range batches {
		where, args := "", []any(nil)
		if batch != nil {
			where = ` WHERE %s IN (` + placeholders(len(batch)) + `)`
			args = anys(batch)
		}
		cond := func(col string) string {
			if where == "" {
				return ""
			}
			return fmt.Sprintf(where, col)
		}
		if err := t.scanRows(`SELECT id, uuid, name, generation, parent_provider_id, root_provider_id, created_at, updated_at FROM resource_providers`+cond("id"), args, func(r *sql.Rows) error {
			p := &ViewProvider{}
			var parent, root, c, u sql.NullInt64
			if err := r.Scan(&p.ID, &p.UUID, &p.Name, &p.Generation, &parent, &root, &c, &u); err != nil {
				return err
			}
			p.ParentID, p.RootID, p.CreatedAt, p.UpdatedAt = parent.Int64, root.Int64, c.Int64, u.Int64
			if p.RootID == 0 {
				p.RootID = p.ID
			}
			out[p.ID] = p
			return nil
		}); err != nil {
			return nil, err
		}
		if err := t.scanRows(`SELECT resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio FROM inventories`+cond("resource_provider_id"), args, func(r *sql.Rows) error {
			var pid int64
			var inv ViewInventory
			if err := r.Scan(&pid, &inv.ClassID, &inv.Total, &inv.Reserved, &inv.MinUnit, &inv.MaxUnit, &inv.StepSize, &inv.AllocationRatio); err != nil {
				return err
			}
			if p := out[pid]; p != nil {
				p.Inventories = append(p.Inventories, inv)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if err := t.scanRows(`SELECT resource_provider_id, resource_class_id, SUM(used) FROM allocations`+cond("resource_provider_id")+` GROUP BY resource_provider_id, resource_class_id`, args, func(r *sql.Rows) error {
			var k pcKey
			var n int64
			if err := r.Scan(&k.provider, &k.class, &n); err != nil {
				return err
			}
			used[k] = n
			return nil
		}); err != nil {
			return nil, err
		}
		if err := t.scanRows(`SELECT resource_provider_id, trait_id FROM resource_provider_traits`+cond("resource_provider_id"), args, func(r *sql.Rows) error {
			var pid, tid int64
			if err := r.Scan(&pid, &tid); err != nil {
				return err
			}
			if p := out[pid]; p != nil {
				p.Traits = append(p.Traits, tid)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if err := t.scanRows(`SELECT rpa.resource_provider_id, a.uuid FROM resource_provider_aggregates rpa JOIN aggregates a ON a.id = rpa.aggregate_id`+cond("rpa.resource_provider_id"), args, func(r *sql.Rows) error {
			var pid int64
			var a string
			if err := r.Scan(&pid, &a); err != nil {
				return err
			}
			if p := out[pid]; p != nil {
				p.Aggregates = append(p.Aggregates, a)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	for _, p := range out {
		sort.Slice(p.Inventories, func(i, j int) bool { return p.Inventories[i].ClassID < p.Inventories[j].ClassID })
		for i := range p.Inventories {
			p.Inventories[i].Used = used[pcKey{p.ID, p.Inventories[i].ClassID}]
		}
		sort.Slice(p.Traits, func(i, j int) bool { return p.Traits[i] < p.Traits[j] })
		sort.Strings(p.Aggregates)
	}
	return out, nil
}

func (t *tx) scanRows(query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := t.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
