package store

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Set-based creation for WriteNodes. A tracker's first pass creates thousands of providers;
// one at a time that is about ten statements per node, which on PostgreSQL means ten
// network round trips per node (tens of seconds for 10,000 nodes). createNodesBulk inserts
// a batch's plain creations with a handful of multi-row statements instead. It only takes
// writes it can prove will succeed (no provider with the UUID or name, no record yet, known
// classes and traits), runs inside its own savepoint, and leaves everything else, and
// everything when a statement fails, to the per-node path, which reports errors node by
// node.

// bulkRows bounds the rows of one multi-row statement (17 parameters per record row keeps
// it far below SQLite's and PostgreSQL's parameter limits).
const bulkRows = 200

// createNodesBulk applies the plain creations among ws and returns which it applied.
func (t *tx) createNodesBulk(ws []NodeWrite, ids nodeIDs) ([]bool, error) {
	done := make([]bool, len(ws))
	var cand []int
	seen := map[string]bool{}
	for i := range ws {
		w := &ws[i]
		if w.Provider != ProviderCreate || w.Name == "" || seen[w.ProviderUUID] || seen["name:"+w.Name] ||
			!(w.Record == RecordKeep || (w.Record == RecordPut && w.RecordGeneration == 0)) || !ids.known(w) {
			continue
		}
		seen[w.ProviderUUID], seen["name:"+w.Name] = true, true
		cand = append(cand, i)
	}
	if len(cand) < 2 {
		return done, nil
	}

	// Leave to the per-node path whatever would collide with an existing row.
	uuids := make([]string, 0, len(cand))
	names := make([]string, 0, len(cand))
	var records []string
	for _, i := range cand {
		uuids = append(uuids, ws[i].ProviderUUID)
		names = append(names, ws[i].Name)
		if ws[i].Record == RecordPut {
			records = append(records, ws[i].NodeUUID)
		}
	}
	taken := map[string]bool{}
	collect := func(prefix string) func(*sql.Rows) error {
		return func(rows *sql.Rows) error {
			var s string
			err := rows.Scan(&s)
			taken[prefix+s] = true
			return err
		}
	}
	if err := scanIn(t, uuids, func(ph string) string {
		return `SELECT uuid FROM resource_providers WHERE uuid IN (` + ph + `)`
	}, collect("uuid:")); err != nil {
		return done, err
	}
	if err := scanIn(t, names, func(ph string) string {
		return `SELECT name FROM resource_providers WHERE name IN (` + ph + `)`
	}, collect("name:")); err != nil {
		return done, err
	}
	if err := scanIn(t, records, func(ph string) string {
		return `SELECT node_uuid FROM ironic_nodes WHERE node_uuid IN (` + ph + `)`
	}, collect("record:")); err != nil {
		return done, err
	}
	cand = deleteIf(cand, func(i int) bool {
		return taken["uuid:"+ws[i].ProviderUUID] || taken["name:"+ws[i].Name] ||
			(ws[i].Record == RecordPut && taken["record:"+ws[i].NodeUUID])
	})
	if len(cand) < 2 {
		return done, nil
	}

	// The providers, at generation 1 when the write gives them anything (as a creation
	// followed by one write would), their roots, inventories, traits, aggregates, records.
	idOf := make(map[string]int64, len(cand))
	for _, chunk := range chunks(cand, bulkRows) {
		var b strings.Builder
		args := make([]any, 0, 5*len(chunk))
		b.WriteString(`INSERT INTO resource_providers (uuid, name, generation, created_at, updated_at) VALUES `)
		for j, i := range chunk {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			gen := 0
			if ws[i].givesAnything() {
				gen = 1
			}
			args = append(args, ws[i].ProviderUUID, ws[i].Name, gen, t.now, t.now)
		}
		b.WriteString(` RETURNING id, uuid`)
		if err := t.scanRows(b.String(), args, func(rows *sql.Rows) error {
			var id int64
			var uuid string
			err := rows.Scan(&id, &uuid)
			idOf[uuid] = id
			return err
		}); err != nil {
			return done, err
		}
	}
	if len(idOf) != len(cand) {
		return done, fmt.Errorf("bulk create: %d providers inserted, %d expected", len(idOf), len(cand))
	}
	provIDs := make([]int64, 0, len(cand))
	for _, i := range cand {
		provIDs = append(provIDs, idOf[ws[i].ProviderUUID])
	}
	for _, chunk := range chunks(provIDs, 500) {
		if _, err := t.exec(`UPDATE resource_providers SET root_provider_id = id WHERE id IN (`+placeholders(len(chunk))+`)`, anys(chunk)...); err != nil {
			return done, err
		}
	}

	var invRows, traitRows, aggRows [][]any
	for _, i := range cand {
		w, id := &ws[i], idOf[ws[i].ProviderUUID]
		if w.SetInventories {
			for _, class := range sortedKeys(w.Inventories) {
				inv := w.Inventories[class]
				invRows = append(invRows, []any{id, ids.classes[class], inv.Total, inv.Reserved, inv.MinUnit,
					inv.MaxUnit, inv.StepSize, inv.AllocationRatio, t.now, t.now})
			}
		}
		if w.SetTraits {
			for _, name := range uniqueSorted(w.Traits) {
				traitRows = append(traitRows, []any{id, ids.traits[name], t.now})
			}
		}
		if w.SetAggregates {
			for _, a := range uniqueSorted(w.Aggregates) {
				aggRows = append(aggRows, []any{id, ids.aggregates[a], t.now})
			}
		}
	}
	for _, ins := range []struct {
		head string
		rows [][]any
	}{
		{`INSERT INTO inventories (resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio, created_at, updated_at) VALUES `, invRows},
		{`INSERT INTO resource_provider_traits (resource_provider_id, trait_id, created_at) VALUES `, traitRows},
		{`INSERT INTO resource_provider_aggregates (resource_provider_id, aggregate_id, created_at) VALUES `, aggRows},
	} {
		if err := t.insertRows(ins.head, ins.rows); err != nil {
			return done, err
		}
	}

	var recRows [][]any
	for _, i := range cand {
		if ws[i].Record != RecordPut {
			continue
		}
		n := &ws[i].Node
		recRows = append(recRows, []any{ws[i].NodeUUID, n.ProviderUUID, n.Scope, string(n.State), 1, n.ResourceClass,
			n.ProvisionState, n.PowerState, n.Maintenance, n.InstanceUUID, n.ConductorGroup, n.Shard, n.Owner,
			joinLines(n.Traits), joinLines(n.Aggregates), t.now, t.now})
	}
	if err := t.insertRows(`INSERT INTO ironic_nodes (`+ironicNodeColumns+`) VALUES `, recRows); err != nil {
		return done, err
	}
	t.touch(provIDs...)
	for _, i := range cand {
		done[i] = true
	}
	return done, nil
}

// known reports whether every class, trait and aggregate w's creation needs has an id.
func (ids nodeIDs) known(w *NodeWrite) bool {
	if w.SetInventories {
		for class := range w.Inventories {
			if _, ok := ids.classes[class]; !ok {
				return false
			}
		}
	}
	if w.SetTraits {
		for _, name := range w.Traits {
			if _, ok := ids.traits[name]; !ok {
				return false
			}
		}
	}
	if w.SetAggregates {
		for _, a := range w.Aggregates {
			if _, ok := ids.aggregates[a]; !ok {
				return false
			}
		}
	}
	return true
}

// givesAnything reports whether a creation sets a non-empty collection, which increments
// the new provider's generation.
func (w *NodeWrite) givesAnything() bool {
	return (w.SetInventories && len(w.Inventories) > 0) || (w.SetTraits && len(w.Traits) > 0) ||
		(w.SetAggregates && len(w.Aggregates) > 0)
}

// insertRows inserts rows (all of one width) with multi-row INSERT statements.
func (t *tx) insertRows(head string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	row := "(" + placeholders(len(rows[0])) + ")"
	for _, chunk := range chunks(rows, bulkRows) {
		var b strings.Builder
		args := make([]any, 0, len(chunk)*len(rows[0]))
		b.WriteString(head)
		for j, r := range chunk {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
			args = append(args, r...)
		}
		if _, err := t.exec(b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

func uniqueSorted(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

func deleteIf(xs []int, drop func(int) bool) []int { return slices.DeleteFunc(xs, drop) }
