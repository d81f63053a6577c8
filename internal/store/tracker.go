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

// The Ironic resource tracker (internal/reconcile) keeps one record per Ironic node in the
// ironic_nodes table and writes the node's provider and its record together, many nodes
// per transaction, with WriteNodes. The tracker is the only writer of these records.

const ironicNodeColumns = `node_uuid, provider_uuid, scope, state, generation, resource_class, provision_state,
	power_state, maintenance, instance_uuid, conductor_group, shard, owner, traits, aggregates, created_at, updated_at`

func scanIronicNode(s interface{ Scan(...any) error }) (baremetal.NodeRecord, error) {
	var n baremetal.NodeRecord
	var state, traits, aggs string
	var c, u sql.NullInt64
	err := s.Scan(&n.NodeUUID, &n.ProviderUUID, &n.Scope, &state, &n.Generation, &n.ResourceClass,
		&n.ProvisionState, &n.PowerState, &n.Maintenance, &n.InstanceUUID, &n.ConductorGroup, &n.Shard,
		&n.Owner, &traits, &aggs, &c, &u)
	if err != nil {
		return n, err
	}
	n.State = baremetal.NodeState(state)
	n.Traits, n.Aggregates = splitLines(traits), splitLines(aggs)
	n.CreatedAt, n.UpdatedAt = fromMicros(c), fromMicros(u)
	return n, nil
}

// splitLines decodes a stored list (one item per line; "" is the empty list).
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// joinLines encodes a list for storage, sorted so that equal sets are stored alike.
func joinLines(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return strings.Join(slices.Compact(s), "\n")
}

// IronicNodes returns every tracker record, sorted by node UUID. It is one read, cheap
// enough to run every pass (a few milliseconds per thousand records).
func (db *DB) IronicNodes(ctx context.Context) ([]baremetal.NodeRecord, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+ironicNodeColumns+` FROM ironic_nodes ORDER BY node_uuid`)
	if err != nil {
		return nil, fmt.Errorf("ironic nodes: %w", err)
	}
	defer rows.Close()
	var out []baremetal.NodeRecord
	for rows.Next() {
		n, err := scanIronicNode(rows)
		if err != nil {
			return nil, fmt.Errorf("ironic nodes: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ironic nodes: %w", err)
	}
	return out, nil
}

// IronicNodesOf returns the tracker records of the given nodes that exist, sorted by node
// UUID: what IronicNodes returns for them, without reading the others.
func (db *DB) IronicNodesOf(ctx context.Context, nodeUUIDs []string) ([]baremetal.NodeRecord, error) {
	var out []baremetal.NodeRecord
	for _, chunk := range chunks(nodeUUIDs, 500) {
		err := func() error {
			rows, err := db.r.QueryContext(ctx, db.q(`SELECT `+ironicNodeColumns+` FROM ironic_nodes WHERE node_uuid IN (`+
				placeholders(len(chunk))+`)`), anys(chunk)...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				n, err := scanIronicNode(rows)
				if err != nil {
					return err
				}
				out = append(out, n)
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("ironic nodes: %w", err)
		}
	}
	slices.SortFunc(out, func(a, b baremetal.NodeRecord) int { return strings.Compare(a.NodeUUID, b.NodeUUID) })
	return out, nil
}

// IronicNodesVersion summarizes the tracker records: a reader that kept the records of an
// earlier read can tell from an unchanged version that nothing was inserted, updated or
// deleted since (every write increments a generation or changes the count, and inserts
// and updates stamp updated_at).
type IronicNodesVersion struct {
	Count, GenerationSum, LastUpdate int64
}

// IronicNodesVersion returns the records' current version: one aggregate query, much
// cheaper than reading every record.
func (db *DB) IronicNodesVersion(ctx context.Context) (IronicNodesVersion, error) {
	var v IronicNodesVersion
	err := db.readRow(ctx, `SELECT COUNT(*), COALESCE(SUM(generation), 0), COALESCE(MAX(updated_at), 0) FROM ironic_nodes`).
		Scan(&v.Count, &v.GenerationSum, &v.LastUpdate)
	if err != nil {
		return v, fmt.Errorf("ironic nodes version: %w", err)
	}
	return v, nil
}

// IronicNode returns the tracker's record of the node, or a KindNotFound error.
func (db *DB) IronicNode(ctx context.Context, nodeUUID string) (baremetal.NodeRecord, error) {
	n, err := scanIronicNode(db.r.QueryRowContext(ctx,
		db.q(`SELECT `+ironicNodeColumns+` FROM ironic_nodes WHERE node_uuid = ?`), nodeUUID))
	if errors.Is(err, sql.ErrNoRows) {
		return n, placement.NotFoundf("No record of Ironic node %s.", nodeUUID)
	}
	if err != nil {
		return n, fmt.Errorf("ironic node %s: %w", nodeUUID, err)
	}
	return n, nil
}

// DeleteIronicNode removes the tracker's record of the node unconditionally and leaves
// its provider alone: the tracker then treats the node as new on its next pass. It is an
// operator's tool (and the tests'); the tracker itself deletes records with WriteNodes.
// It is a KindNotFound error if there is no record.
func (db *DB) DeleteIronicNode(ctx context.Context, nodeUUID string) error {
	err := db.write(ctx, func(t *tx) error {
		res, err := t.exec(`DELETE FROM ironic_nodes WHERE node_uuid = ?`, nodeUUID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return placement.NotFoundf("No record of Ironic node %s.", nodeUUID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete ironic node %s: %w", nodeUUID, err)
	}
	return nil
}

// ProviderOp is what a NodeWrite does to the node's provider.
type ProviderOp uint8

// Provider operations.
const (
	ProviderKeep   ProviderOp = iota // leave the provider alone
	ProviderCreate                   // create it (UUID and name), then set what the write sets
	ProviderModify                   // change what the write sets, if the generation still matches
	ProviderDelete                   // delete it, if the generation still matches and nothing is allocated
)

// RecordOp is what a NodeWrite does to the node's tracker record.
type RecordOp uint8

// Record operations.
const (
	RecordKeep   RecordOp = iota // leave the record alone
	RecordPut                    // insert or replace it, if its generation still matches
	RecordDelete                 // delete it, if its generation still matches
)

// NodeWrite is one node's change: its provider and its tracker record, written together
// or not at all.
type NodeWrite struct {
	NodeUUID     string
	ProviderUUID string

	Provider ProviderOp
	// Name is the provider's name for ProviderCreate.
	Name string
	// Generation is the provider generation ProviderModify and ProviderDelete expect.
	Generation int64
	// The collections to replace (ProviderCreate and ProviderModify): with Set... false
	// the collection is left alone. Inventories replace the whole inventory; Traits and
	// Aggregates the whole set. A change to any of them increments the generation once.
	SetInventories bool
	Inventories    map[string]placement.Inventory
	SetTraits      bool
	Traits         []string
	SetAggregates  bool
	Aggregates     []string

	Record RecordOp
	// RecordGeneration is the record generation RecordPut and RecordDelete expect; 0 means
	// the record must not exist yet (RecordPut inserts it).
	RecordGeneration int64
	// Node is the record RecordPut writes; its Generation and times are set by the store.
	Node baremetal.NodeRecord
}

// MaxNodeWrites bounds the writes of one WriteNodes call, which is one transaction: on
// SQLite every other write waits for it, so callers keep batches to a few hundred.
const MaxNodeWrites = 1000

// WriteNodes applies the writes in one transaction, each all-or-nothing on its own
// (a savepoint each): errs[i] is nil when ws[i] was applied, or why it was not. A stale
// provider or record generation is placement.ErrConcurrentUpdate; deleting a provider
// that has allocations is a KindConflict error with code placement.resource_provider.inuse
// (as is removing an inventory class that has allocations, code
// placement.inventory.inuse); updating a provider that no longer exists is KindNotFound;
// creating one whose UUID or name exists is a KindConflict error. Deleting a provider that
// no longer exists succeeds. Unknown resource classes and traits are KindInvalid: the
// caller creates custom ones first (EnsureResourceClass, EnsureTrait). The returned error
// is for the transaction as a whole (nothing was applied).
func (db *DB) WriteNodes(ctx context.Context, ws []NodeWrite) (errs []error, err error) {
	if len(ws) > MaxNodeWrites {
		return nil, fmt.Errorf("write nodes: %d writes, at most %d per call", len(ws), MaxNodeWrites)
	}
	if len(ws) == 0 {
		return nil, nil
	}
	var traitNames []string
	for i := range ws {
		if ws[i].SetTraits {
			traitNames = append(traitNames, ws[i].Traits...)
		}
	}
	slices.Sort(traitNames)
	traitNames = slices.Compact(traitNames)
	errs = make([]error, len(ws))
	// A fence is checked node by node: a stale node fails alone, and nothing is written
	// for it.
	fence, wctx := fenceOf(ctx), ctx
	if fence != nil {
		wctx = WithFence(ctx, nil) // checked here, node by node, not for the whole transaction
	}
	var checked time.Time // when the fence held (see FenceAudit.Checked)
	err = db.write(wctx, func(t *tx) error {
		clear(errs)
		batch, pos := ws, []int(nil) // the writes to apply and their places in ws
		if fence != nil {
			var err error
			if batch, pos, err = t.fenceNodes(fence, ws, errs); err != nil {
				return err
			}
			checked = time.Now()
		}
		return t.writeNodes(batch, pos, errs, traitNames, fence)
	})
	if err != nil {
		return nil, fmt.Errorf("write nodes: %w", err)
	}
	if fence != nil && db.fenced.audit.Load() != nil {
		for i, e := range errs {
			switch {
			case e == nil:
				db.auditFence(fence, ws[i].NodeUUID, true, checked)
			case errors.Is(e, ErrFenced):
				db.auditFence(fence, ws[i].NodeUUID, false, time.Time{})
			}
		}
	}
	for i, e := range errs {
		if e != nil {
			errs[i] = fmt.Errorf("write node %s: %w", ws[i].NodeUUID, e)
		}
	}
	return errs, nil
}

// fenceNodes checks the fence for every write's node and returns the writes whose node
// is owned at the fence's epoch, with their places in ws; the others get a FencedError in
// errs and are counted.
func (t *tx) fenceNodes(f *Fence, ws []NodeWrite, errs []error) ([]NodeWrite, []int, error) {
	nodes := make([]string, len(ws))
	for i := range ws {
		nodes[i] = ws[i].NodeUUID
	}
	stale, err := t.checkFence(f, nodes)
	if err != nil {
		return nil, nil, err
	}
	batch := make([]NodeWrite, 0, len(ws))
	pos := make([]int, 0, len(ws))
	for i := range ws {
		if stale[ws[i].NodeUUID] {
			t.db.fenced.n.Add(1)
			errs[i] = &FencedError{Node: ws[i].NodeUUID, Replica: f.Replica, Epoch: f.Epochs[ws[i].NodeUUID]}
			continue
		}
		batch = append(batch, ws[i])
		pos = append(pos, i)
	}
	return batch, pos, nil
}

// writeNodes applies ws inside t, each in a savepoint; the error of ws[i] goes to
// errs[pos[i]] (errs[i] when pos is nil). Under a fence, deleting a node's record also
// deletes its ownership row (the node is gone from Ironic).
func (t *tx) writeNodes(ws []NodeWrite, pos []int, errs []error, traitNames []string, fence *Fence) error {
	at := func(i int) int {
		if pos == nil {
			return i
		}
		return pos[i]
	}
	ids, err := t.nodeCatalog(ws, traitNames)
	if err != nil {
		return err
	}
	outer := t.touched
	defer func() { t.touched = outer }()
	keep := func() {
		if len(t.touched) > 0 {
			if outer == nil {
				outer = make(map[int64]struct{}, len(ws))
			}
			maps.Copy(outer, t.touched)
		}
	}
	// Plain creations first, set-based; a failure there leaves them to the per-node path.
	var done []bool
	if len(ws) > 1 {
		if _, err := t.exec(`SAVEPOINT bulk`); err != nil {
			return err
		}
		t.touched = nil
		var berr error
		if done, berr = t.createNodesBulk(ws, ids); berr != nil {
			if _, err := t.exec(`ROLLBACK TO bulk`); err != nil {
				return fmt.Errorf("rollback to savepoint: %w", err)
			}
			done = nil
		} else {
			keep()
		}
		if _, err := t.exec(`RELEASE bulk`); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
	}
	for i := range ws {
		if done != nil && done[i] {
			continue
		}
		if _, err := t.exec(`SAVEPOINT node`); err != nil {
			return err
		}
		// The providers this write touches are collected apart and kept only if it
		// succeeds (cheaper than copying the transaction's set for every node).
		t.touched = nil
		werr := t.writeNode(&ws[i], ids)
		if werr == nil && fence != nil && ws[i].Record == RecordDelete {
			_, werr = t.exec(`DELETE FROM ingot_node_owner WHERE node_uuid = ? AND replica_id = ? AND epoch = ?`,
				ws[i].NodeUUID, fence.Replica, fence.Epochs[ws[i].NodeUUID])
		}
		if werr != nil {
			if _, err := t.exec(`ROLLBACK TO node`); err != nil {
				return fmt.Errorf("rollback to savepoint: %w", err)
			}
			errs[at(i)] = werr
		} else {
			keep()
		}
		if _, err := t.exec(`RELEASE node`); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
	}
	return nil
}

// nodeIDs are the ids of the traits, classes and aggregates a batch of node writes
// names, looked up once per batch.
type nodeIDs struct {
	traits, classes, aggregates map[string]int64
}

// nodeCatalog looks up the ids of the traits the writes set and of the classes and
// aggregates their provider creations need (creating aggregates that do not exist, as
// Placement does).
func (t *tx) nodeCatalog(ws []NodeWrite, traitNames []string) (nodeIDs, error) {
	ids := nodeIDs{aggregates: map[string]int64{}}
	var err error
	if ids.traits, _, err = t.traitIDs(traitNames); err != nil {
		return ids, err
	}
	var classes []string
	for i := range ws {
		if ws[i].Provider != ProviderCreate {
			continue
		}
		for class := range ws[i].Inventories {
			classes = append(classes, class)
		}
		for _, a := range ws[i].Aggregates {
			if _, ok := ids.aggregates[a]; !ok {
				if ids.aggregates[a], err = t.aggregateID(a); err != nil {
					return ids, err
				}
			}
		}
	}
	slices.Sort(classes)
	ids.classes, _, err = t.classIDs(slices.Compact(classes))
	return ids, err
}

// writeNode applies one NodeWrite inside t.
func (t *tx) writeNode(w *NodeWrite, ids nodeIDs) error {
	switch w.Record {
	case RecordPut:
		if err := t.putIronicNode(w); err != nil {
			return err
		}
	case RecordDelete:
		res, err := t.exec(`DELETE FROM ironic_nodes WHERE node_uuid = ? AND generation = ?`, w.NodeUUID, w.RecordGeneration)
		if err != nil {
			return err
		}
		if err := oneRow(res, w.NodeUUID); err != nil {
			return err
		}
	}

	switch w.Provider {
	case ProviderKeep:
		return nil
	case ProviderDelete:
		id, cur, err := t.providerIDGen(w.ProviderUUID)
		if errors.Is(err, placement.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur != w.Generation {
			return staleProvider(w.ProviderUUID)
		}
		return t.deleteProvider(id, w.ProviderUUID)
	case ProviderCreate:
		return t.createNodeProvider(w, ids)
	case ProviderModify:
	default:
		return fmt.Errorf("unknown provider operation %d", w.Provider)
	}

	id, cur, err := t.providerIDGen(w.ProviderUUID)
	if err != nil {
		return err
	}
	if cur != w.Generation {
		return staleProvider(w.ProviderUUID)
	}
	bumped := false
	if w.SetInventories {
		_, err := t.replaceInventories(id, w.ProviderUUID, cur, w.Inventories, func(missing string) error {
			return placement.Invalidf("No such resource class %s.", missing)
		}, func(inUse string) error {
			return placement.Errorf(placement.KindConflict, placement.CodeInventoryInUse, "%s", inUse)
		})
		if err != nil {
			return err
		}
		bumped = true
	}
	if w.SetTraits {
		want, err := traitIDsOf(w.Traits, ids.traits)
		if err != nil {
			return err
		}
		if err := t.replaceProviderTraits(id, want); err != nil {
			return err
		}
	}
	if w.SetAggregates {
		if err := t.replaceProviderAggregates(id, w.Aggregates); err != nil {
			return err
		}
	}
	if !bumped && (w.SetTraits || w.SetAggregates) {
		if _, err := t.bumpGeneration(id, cur); err != nil {
			return err
		}
	}
	return nil
}

// createNodeProvider creates the provider of a ProviderCreate write with its
// inventories, traits and aggregates. A new provider has none yet, so they are inserted
// directly (a statement per collection) rather than diffed, which matters for a first pass
// over thousands of nodes.
func (t *tx) createNodeProvider(w *NodeWrite, ids nodeIDs) error {
	if _, err := t.createProvider(NewProvider{UUID: w.ProviderUUID, Name: w.Name}); err != nil {
		return err
	}
	id, _, err := t.providerIDGen(w.ProviderUUID)
	if err != nil {
		return err
	}
	changed := false
	if w.SetInventories {
		for _, class := range sortedKeys(w.Inventories) {
			cid, ok := ids.classes[class]
			if !ok {
				return placement.Invalidf("No such resource class %s.", class)
			}
			if err := t.putInventory(id, cid, w.Inventories[class], false); err != nil {
				return err
			}
			changed = true
		}
	}
	if w.SetTraits && len(w.Traits) > 0 {
		want, err := traitIDsOf(w.Traits, ids.traits)
		if err != nil {
			return err
		}
		if err := t.insertLinks(`resource_provider_traits`, `trait_id`, id, slices.Collect(maps.Values(want))); err != nil {
			return err
		}
		changed = true
	}
	if w.SetAggregates && len(w.Aggregates) > 0 {
		aggs := make([]int64, 0, len(w.Aggregates))
		for _, a := range w.Aggregates {
			aggs = append(aggs, ids.aggregates[a])
		}
		slices.Sort(aggs)
		if err := t.insertLinks(`resource_provider_aggregates`, `aggregate_id`, id, slices.Compact(aggs)); err != nil {
			return err
		}
		changed = true
	}
	if changed {
		if _, err := t.bumpGeneration(id, 0); err != nil {
			return err
		}
	}
	return nil
}

// insertLinks inserts the rows (provider, other) of a link table for a new provider.
func (t *tx) insertLinks(table, column string, provider int64, others []int64) error {
	var b strings.Builder
	args := make([]any, 0, 3*len(others))
	b.WriteString(`INSERT INTO ` + table + ` (resource_provider_id, ` + column + `, created_at) VALUES `)
	for i, o := range others {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
		args = append(args, provider, o, t.now)
	}
	_, err := t.exec(b.String(), args...)
	return err
}

// traitIDsOf maps trait names to ids, or fails with KindInvalid naming the unknown ones.
func traitIDsOf(names []string, ids map[string]int64) (map[string]int64, error) {
	want := make(map[string]int64, len(names))
	var missing []string
	for _, name := range names {
		id, ok := ids[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		want[name] = id
	}
	if len(missing) > 0 {
		return nil, placement.Invalidf("No such trait %s", strings.Join(missing, ", "))
	}
	return want, nil
}

// putIronicNode inserts or replaces the record of w, comparing its generation.
func (t *tx) putIronicNode(w *NodeWrite) error {
	n := &w.Node
	if w.RecordGeneration == 0 {
		res, err := t.exec(`INSERT INTO ironic_nodes (`+ironicNodeColumns+`)
			VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (node_uuid) DO NOTHING`,
			w.NodeUUID, n.ProviderUUID, n.Scope, string(n.State), n.ResourceClass, n.ProvisionState, n.PowerState,
			n.Maintenance, n.InstanceUUID, n.ConductorGroup, n.Shard, n.Owner, joinLines(n.Traits),
			joinLines(n.Aggregates), t.now, t.now)
		if err != nil {
			return err
		}
		return oneRow(res, w.NodeUUID)
	}
	res, err := t.exec(`UPDATE ironic_nodes SET provider_uuid = ?, scope = ?, state = ?, generation = generation + 1,
		resource_class = ?, provision_state = ?, power_state = ?, maintenance = ?, instance_uuid = ?,
		conductor_group = ?, shard = ?, owner = ?, traits = ?, aggregates = ?, updated_at = ?
		WHERE node_uuid = ? AND generation = ?`,
		n.ProviderUUID, n.Scope, string(n.State), n.ResourceClass, n.ProvisionState, n.PowerState, n.Maintenance,
		n.InstanceUUID, n.ConductorGroup, n.Shard, n.Owner, joinLines(n.Traits), joinLines(n.Aggregates),
		t.now, w.NodeUUID, w.RecordGeneration)
	if err != nil {
		return err
	}
	return oneRow(res, w.NodeUUID)
}

// oneRow returns ErrConcurrentUpdate unless res affected exactly one record.
func oneRow(res sql.Result, nodeUUID string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return placement.ConcurrentUpdatef("The record of Ironic node %s was changed concurrently.", nodeUUID)
	}
	return nil
}

func staleProvider(uuid string) error {
	return placement.ConcurrentUpdatef("resource provider %s generation conflict", uuid)
}
