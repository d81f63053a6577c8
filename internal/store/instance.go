package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"ingot/internal/baremetal"
	"ingot/internal/placement"
)

// Instances (table instances, migration 0004) are the records of workloads on bare-metal
// nodes: the API creates them and asks for their deletion, the instance controller moves
// them through their states. Every write after the create is one conditional UPDATE on the
// record's generation.

const instanceColumns = `uuid, name, project_id, user_id, spec, spec_hash, state, task, node, locked,
	fault_code, fault_message, fault_at, attempts, excluded, generation, created_at, updated_at`

func scanInstance(s interface{ Scan(...any) error }) (baremetal.Instance, error) {
	var in baremetal.Instance
	var spec, excluded, faultCode, faultMsg string
	var faultAt, c, u sql.NullInt64
	var state, task string
	err := s.Scan(&in.UUID, &in.Name, &in.ProjectID, &in.UserID, &spec, &in.SpecHash, &state, &task,
		&in.Node, &in.Locked, &faultCode, &faultMsg, &faultAt, &in.Attempts, &excluded,
		&in.Generation, &c, &u)
	if err != nil {
		return in, err
	}
	if err := json.Unmarshal([]byte(spec), &in.Spec); err != nil {
		return in, fmt.Errorf("instance %s: stored spec: %w", in.UUID, err)
	}
	in.State, in.Task = baremetal.State(state), baremetal.Task(task)
	if faultCode != "" || faultMsg != "" {
		in.Fault = &baremetal.Fault{Code: faultCode, Message: faultMsg, Time: fromMicros(faultAt)}
	}
	in.Excluded = splitLines(excluded)
	in.CreatedAt, in.UpdatedAt = fromMicros(c), fromMicros(u)
	return in, nil
}

// SpecHash returns the hash CreateInstance stores when the caller gives none: SHA-256 of
// the instance's name and spec as JSON. Two creates with the same UUID are the same request
// when their hashes (and projects) are equal.
func SpecHash(name string, spec baremetal.Spec) string {
	b, err := json.Marshal(struct {
		Name string         `json:"name"`
		Spec baremetal.Spec `json:"spec"`
	}{name, spec})
	if err != nil {
		// A Spec holds only strings, maps of strings and raw JSON; only invalid raw JSON
		// fails, and then the raw bytes stand in for it.
		b = []byte(name + "\x00" + fmt.Sprint(spec))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// CreateInstance inserts the instance in state building, task scheduling, generation 1,
// created and updated now, and returns the stored record and true. The caller sets UUID,
// Name, ProjectID, UserID, Spec and SpecHash (computed with SpecHash when empty); the
// other fields are ignored. If an instance with that UUID exists, the same SpecHash and
// project return the existing record and false; a different request is a KindConflict
// error.
func (db *DB) CreateInstance(ctx context.Context, in baremetal.Instance) (baremetal.Instance, bool, error) {
	if in.UUID == "" {
		return in, false, placement.Invalidf("An instance needs a UUID.")
	}
	if in.SpecHash == "" {
		in.SpecHash = SpecHash(in.Name, in.Spec)
	}
	spec, err := json.Marshal(in.Spec)
	if err != nil {
		return in, false, placement.Invalidf("Instance %s: the request cannot be stored: %v", in.UUID, err)
	}
	var out baremetal.Instance
	created := false
	err = db.write(ctx, func(t *tx) error {
		res, err := t.exec(`INSERT INTO instances (uuid, name, project_id, user_id, spec, spec_hash, state, task,
			node, locked, fault_code, fault_message, fault_at, attempts, excluded, generation, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', FALSE, '', '', 0, 0, '', 1, ?, ?)
			ON CONFLICT (uuid) DO NOTHING`,
			in.UUID, in.Name, in.ProjectID, in.UserID, string(spec), in.SpecHash,
			string(baremetal.StateBuilding), string(baremetal.TaskScheduling), t.now, t.now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		created = n == 1
		out, err = scanInstance(t.queryRow(`SELECT `+instanceColumns+` FROM instances WHERE uuid = ?`, in.UUID))
		if err != nil {
			return err
		}
		if !created && (out.SpecHash != in.SpecHash || out.ProjectID != in.ProjectID) {
			return placement.Conflictf("Instance %s already exists with a different request; "+
				"a create with an existing UUID must repeat the same request.", in.UUID)
		}
		return nil
	})
	if err != nil {
		return baremetal.Instance{}, false, fmt.Errorf("create instance %s: %w", in.UUID, err)
	}
	return out, created, nil
}

// Instance returns the instance with the UUID (deleted ones too), or a KindNotFound error.
func (db *DB) Instance(ctx context.Context, uuid string) (baremetal.Instance, error) {
	in, err := scanInstance(db.readRow(ctx, `SELECT `+instanceColumns+` FROM instances WHERE uuid = ?`, uuid))
	if errors.Is(err, sql.ErrNoRows) {
		return in, placement.NotFoundf("No instance with UUID %s.", uuid)
	}
	if err != nil {
		return in, fmt.Errorf("instance %s: %w", uuid, err)
	}
	return in, nil
}

// InstanceFilter selects instances for ListInstances. Empty fields do not filter.
type InstanceFilter struct {
	// States keeps instances in one of these states. Without States, deleted instances
	// are left out unless IncludeDeleted is set.
	States    []baremetal.State
	ProjectID string
	Node      string
	Name      string
	// Marker is the UUID of the last instance of the previous page: the list continues
	// after it in (created_at, uuid) order. An unknown marker is a KindInvalid error.
	Marker string
	// Limit bounds the number returned; 0 means no limit.
	Limit          int
	IncludeDeleted bool
}

// ListInstances returns the instances the filter selects, ordered by creation time and
// then UUID, so that pages (Marker, Limit) neither repeat nor skip a record.
func (db *DB) ListInstances(ctx context.Context, f InstanceFilter) ([]baremetal.Instance, error) {
	var where []string
	var args []any
	if len(f.States) > 0 {
		marks := make([]string, len(f.States))
		for i, s := range f.States {
			marks[i] = "?"
			args = append(args, string(s))
		}
		where = append(where, "state IN ("+strings.Join(marks, ", ")+")")
	} else if !f.IncludeDeleted {
		where = append(where, "state <> ?")
		args = append(args, string(baremetal.StateDeleted))
	}
	for _, c := range []struct{ col, v string }{{"project_id", f.ProjectID}, {"node", f.Node}, {"name", f.Name}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	var out []baremetal.Instance
	err := db.read(ctx, func(t *tx) error {
		if f.Marker != "" {
			var at int64
			err := t.queryRow(`SELECT created_at FROM instances WHERE uuid = ?`, f.Marker).Scan(&at)
			if errors.Is(err, sql.ErrNoRows) {
				return placement.Invalidf("Marker %s is not an instance.", f.Marker)
			}
			if err != nil {
				return err
			}
			where = append(where, "(created_at > ? OR (created_at = ? AND uuid > ?))")
			args = append(args, at, at, f.Marker)
		}
		q := `SELECT ` + instanceColumns + ` FROM instances`
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		q += " ORDER BY created_at, uuid"
		if f.Limit > 0 {
			q += fmt.Sprintf(" LIMIT %d", f.Limit)
		}
		rows, err := t.query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			in, err := scanInstance(rows)
			if err != nil {
				return err
			}
			out = append(out, in)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	return out, nil
}

// CountInstances returns how many instances are in each state (states without any are
// absent), with one query over the state index.
func (db *DB) CountInstances(ctx context.Context) (map[baremetal.State]int, error) {
	out := map[baremetal.State]int{}
	rows, err := db.r.QueryContext(ctx, `SELECT state, COUNT(*) FROM instances GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count instances: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count instances: %w", err)
		}
		out[baremetal.State(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count instances: %w", err)
	}
	return out, nil
}

// UpdateInstance writes the instance's state, task, node, locked flag, fault, attempts
// and excluded nodes, if its stored generation is still in.Generation and the stored
// state may move to in.State (baremetal.CanMove); it returns the record as stored, with
// the generation incremented and updated_at now. A stale generation is
// placement.ErrConcurrentUpdate; a move CanMove forbids is a KindConflict error and
// writes nothing; a node another instance holds is a KindConflict error; a missing
// instance is KindNotFound. Name, project, user and spec never change.
func (db *DB) UpdateInstance(ctx context.Context, in baremetal.Instance) (baremetal.Instance, error) {
	if !in.State.Valid() {
		return in, placement.Invalidf("Instance %s: unknown state %q.", in.UUID, in.State)
	}
	// The states the record may be in for this write: those that may move to in.State.
	var from []any
	var marks []string
	for _, s := range baremetal.States {
		if baremetal.CanMove(s, in.State) {
			from = append(from, string(s))
			marks = append(marks, "?")
		}
	}
	var fCode, fMsg string
	var fAt int64
	if in.Fault != nil {
		fCode, fMsg = in.Fault.Code, in.Fault.Message
		if !in.Fault.Time.IsZero() {
			fAt = micros(in.Fault.Time)
		}
	}
	var out baremetal.Instance
	err := db.write(ctx, func(t *tx) error {
		at := fAt
		if in.Fault != nil && at == 0 {
			at = t.now
		}
		var n int64
		if len(from) > 0 {
			args := []any{string(in.State), string(in.Task), in.Node, in.Locked, fCode, fMsg, at,
				in.Attempts, joinLines(in.Excluded), t.now, in.UUID, in.Generation}
			res, err := t.exec(`UPDATE instances SET state = ?, task = ?, node = ?, locked = ?,
				fault_code = ?, fault_message = ?, fault_at = ?, attempts = ?, excluded = ?,
				generation = generation + 1, updated_at = ?
				WHERE uuid = ? AND generation = ? AND state IN (`+strings.Join(marks, ", ")+`)`,
				append(args, from...)...)
			if err != nil {
				if isUniqueViolation(err) {
					return placement.Conflictf("Instance %s cannot hold node %s: another instance holds it.", in.UUID, in.Node)
				}
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
		}
		var err error
		out, err = scanInstance(t.queryRow(`SELECT `+instanceColumns+` FROM instances WHERE uuid = ?`, in.UUID))
		if errors.Is(err, sql.ErrNoRows) {
			return placement.NotFoundf("No instance with UUID %s.", in.UUID)
		}
		if err != nil {
			return err
		}
		if n == 1 {
			return nil
		}
		if out.Generation != in.Generation {
			return placement.ConcurrentUpdatef("Instance %s was changed by another writer (generation %d, expected %d).",
				in.UUID, out.Generation, in.Generation)
		}
		return placement.Conflictf("Instance %s cannot move from %s to %s.", in.UUID, out.State, in.State)
	})
	if err != nil {
		return baremetal.Instance{}, fmt.Errorf("update instance %s: %w", in.UUID, err)
	}
	return out, nil
}

// DeleteInstance moves the instance to deleting in one write, whatever its generation:
// a user's delete must not lose to the controller's writes of the same record, which
// fail their own compare-and-swap on the incremented generation and read the record
// again. Its task, node and the rest are kept; the controller's tear-down takes it from
// there. An instance already deleting is returned as stored without a write; a deleted or
// missing one is KindNotFound.
func (db *DB) DeleteInstance(ctx context.Context, uuid string) (baremetal.Instance, error) {
	var from []any
	var marks []string
	for _, s := range baremetal.States {
		if s != baremetal.StateDeleting && baremetal.CanMove(s, baremetal.StateDeleting) {
			from = append(from, string(s))
			marks = append(marks, "?")
		}
	}
	var out baremetal.Instance
	err := db.write(ctx, func(t *tx) error {
		if _, err := t.exec(`UPDATE instances SET state = ?, generation = generation + 1, updated_at = ?
			WHERE uuid = ? AND state IN (`+strings.Join(marks, ", ")+`)`,
			append([]any{string(baremetal.StateDeleting), t.now, uuid}, from...)...); err != nil {
			return err
		}
		var err error
		out, err = scanInstance(t.queryRow(`SELECT `+instanceColumns+` FROM instances WHERE uuid = ?`, uuid))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return placement.NotFoundf("No instance with UUID %s.", uuid)
		case err != nil:
			return err
		case out.State == baremetal.StateDeleted:
			return placement.NotFoundf("Instance %s is deleted.", uuid)
		case out.State != baremetal.StateDeleting:
			return placement.Conflictf("Instance %s cannot move from %s to %s.", uuid, out.State, baremetal.StateDeleting)
		}
		return nil
	})
	if err != nil {
		return baremetal.Instance{}, fmt.Errorf("delete instance %s: %w", uuid, err)
	}
	return out, nil
}

// InstancesVersion is a summary of the instance records that changes whenever one is
// created or written (generations only grow; a record is never deleted).
type InstancesVersion struct {
	Count, GenerationSum int64
}

// InstancesVersion returns the instance records' current version: one aggregate query.
func (db *DB) InstancesVersion(ctx context.Context) (InstancesVersion, error) {
	var v InstancesVersion
	err := db.readRow(ctx, `SELECT COUNT(*), COALESCE(SUM(generation), 0) FROM instances`).Scan(&v.Count, &v.GenerationSum)
	if err != nil {
		return v, fmt.Errorf("instances version: %w", err)
	}
	return v, nil
}
