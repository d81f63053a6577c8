package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/placement"
)

// Replicas (PostgreSQL only; issue 14, ARCHITECTURE.md "Replicas"). Every ingot process
// on one PostgreSQL database is a replica with a row in ingot_replicas and a lease that
// only the database's clock judges. Each Ironic node some replica tracks has one row in
// ingot_node_owner naming its owner and an epoch, the fencing token: every change of owner
// is a compare-and-swap that increments it, and every write the owner makes for the node
// locks the row FOR SHARE with the epoch it believes in (see Fence). The statements here
// are the only ones that read or write those tables.

// ReplicaInfo is what a replica registers: its stable id, this process's incarnation, and
// what it shows to operators and peers (address, version, scope).
type ReplicaInfo struct {
	ID, Incarnation, Version, Addr string
	// ConductorGroup and Shards are the replica's scope ("" and nil: any).
	ConductorGroup string
	Shards         []string
}

// Replica is a row of ingot_replicas as read with the database's clock.
type Replica struct {
	ReplicaInfo
	Draining bool
	// Live: the lease has not expired by the database's clock.
	Live bool
	// Age is how long ago the row was registered; LeaseAge how long ago the lease was
	// last renewed; LeaseRemaining how long the lease has left (negative: expired).
	Age, LeaseAge, LeaseRemaining time.Duration
	// Owned is how many nodes the replica owns.
	Owned int
}

// NodeOwner is a row of ingot_node_owner.
type NodeOwner struct {
	Node    string
	Replica string // "" when unowned
	Epoch   int64
	// HandoffTo is the replica the owner is handing the node to ("" when none).
	HandoffTo string
	// OwnedFor is how long the current owner has held the node (database clock).
	OwnedFor       time.Duration
	ConductorGroup string
	Shard          string
}

// NodeScope is a node as listed: its UUID and what decides which replicas may own it.
type NodeScope struct {
	Node, ConductorGroup, Shard string
}

// Claimed is one node a claim took, with the owner it took it from and why.
type Claimed struct {
	Node  string
	From  string
	Epoch int64
	// Reason: "claim" (unowned), "handoff" (the owner handed it over), "expired" (the
	// owner's lease ended), "self" (this replica's previous incarnation owned it).
	Reason string
}

// ErrReplicaReplaced is the error of a renewal whose row now belongs to another
// incarnation (a process started with the same replica id) or was deleted.
var ErrReplicaReplaced = errors.New("the replica's row belongs to another incarnation or was deleted")

// errNeedsPostgres is returned by the replica statements on SQLite.
var errNeedsPostgres = errors.New("replicas need PostgreSQL")

func (db *DB) needPostgres() error {
	if db.dialect != dialectPostgres {
		return errNeedsPostgres
	}
	return nil
}

// RegisterReplica inserts or takes over the replica's row with a fresh lease of ttl and
// this incarnation (a previous incarnation's renewals then fail with
// ErrReplicaReplaced), not draining. Then, in the same transaction, it reclaims the nodes
// its id still owns: their epochs are incremented, so that writes by any zombie of an
// earlier process are rejected, and their hand-offs are cleared. It returns those nodes.
func (db *DB) RegisterReplica(ctx context.Context, r ReplicaInfo, ttl time.Duration) ([]Claimed, error) {
	if err := db.needPostgres(); err != nil {
		return nil, err
	}
	var out []Claimed
	err := db.pgTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		_, err := tx.ExecContext(ctx, `INSERT INTO ingot_replicas (replica_id, incarnation, lease_expires_at,
				started_at, renewed_at, draining, version, addr, conductor_group, shards)
			VALUES ($1, $2, now() + $3 * interval '1 millisecond', now(), now(), FALSE, $4, $5, $6, $7)
			ON CONFLICT (replica_id) DO UPDATE SET incarnation = EXCLUDED.incarnation,
				lease_expires_at = EXCLUDED.lease_expires_at, started_at = now(), renewed_at = now(),
				draining = FALSE, version = EXCLUDED.version, addr = EXCLUDED.addr,
				conductor_group = EXCLUDED.conductor_group, shards = EXCLUDED.shards`,
			r.ID, r.Incarnation, ttl.Milliseconds(), r.Version, r.Addr, strings.ToLower(r.ConductorGroup),
			joinLines(r.Shards))
		if err != nil {
			return err
		}
		// Nodes the tracker has records of get rows too, so that a node deleted from
		// Ironic while no replica listed it still gets an owner, which deletes it.
		if _, err := tx.ExecContext(ctx, `INSERT INTO ingot_node_owner (node_uuid, conductor_group, shard)
			SELECT node_uuid, lower(conductor_group), shard FROM ironic_nodes ON CONFLICT (node_uuid) DO NOTHING`); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `UPDATE ingot_node_owner SET epoch = epoch + 1, owned_since = now(),
			handoff_to = '' WHERE replica_id = $1 RETURNING node_uuid, epoch`, r.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c := Claimed{From: r.ID, Reason: "self"}
			if err := rows.Scan(&c.Node, &c.Epoch); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("register replica %s: %w", r.ID, err)
	}
	return out, nil
}

// RenewReplica extends the lease of this incarnation's row to ttl from the database's now
// and returns the time left as the database sees it. A row that is not this
// incarnation's (or is gone) is ErrReplicaReplaced; nothing is written then.
func (db *DB) RenewReplica(ctx context.Context, id, incarnation string, ttl time.Duration) (time.Duration, error) {
	if err := db.needPostgres(); err != nil {
		return 0, err
	}
	var ms float64
	err := db.w.QueryRowContext(ctx, `UPDATE ingot_replicas SET lease_expires_at = now() + $3 * interval '1 millisecond',
			renewed_at = now()
		WHERE replica_id = $1 AND incarnation = $2
		RETURNING EXTRACT(EPOCH FROM lease_expires_at - now()) * 1000`, id, incarnation, ttl.Milliseconds()).Scan(&ms)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("renew replica %s: %w", id, ErrReplicaReplaced)
	}
	if err != nil {
		return 0, fmt.Errorf("renew replica %s: %w", id, err)
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}

// SetReplicaDraining marks this incarnation's row as draining: peers stop choosing it as
// an owner, and it hands its nodes over. ErrReplicaReplaced when the row is not its own.
func (db *DB) SetReplicaDraining(ctx context.Context, id, incarnation string) error {
	if err := db.needPostgres(); err != nil {
		return err
	}
	res, err := db.w.ExecContext(ctx, `UPDATE ingot_replicas SET draining = TRUE WHERE replica_id = $1 AND incarnation = $2`,
		id, incarnation)
	if err == nil {
		err = affected(res, ErrReplicaReplaced)
	}
	if err != nil {
		return fmt.Errorf("drain replica %s: %w", id, err)
	}
	return nil
}

// DeleteReplica removes this incarnation's row: the nodes it still owns are then owned by
// no live replica and can be claimed at once. Deleting a row that is not its own does
// nothing.
func (db *DB) DeleteReplica(ctx context.Context, id, incarnation string) error {
	if err := db.needPostgres(); err != nil {
		return err
	}
	if _, err := db.w.ExecContext(ctx, `DELETE FROM ingot_replicas WHERE replica_id = $1 AND incarnation = $2`,
		id, incarnation); err != nil {
		return fmt.Errorf("delete replica %s: %w", id, err)
	}
	return nil
}

// Replicas returns every replica row (expired ones too, Live false), sorted by id, with
// the number of nodes each owns. Times are the database's.
func (db *DB) Replicas(ctx context.Context) ([]Replica, error) {
	return db.replicas(ctx, `(SELECT COUNT(*) FROM ingot_node_owner o WHERE o.replica_id = r.replica_id)`)
}

// ReplicaMembers is Replicas without the nodes each owns (Owned is 0): an ownership scan
// needs only the membership, and counting reads every ownership row.
func (db *DB) ReplicaMembers(ctx context.Context) ([]Replica, error) {
	return db.replicas(ctx, `0`)
}

func (db *DB) replicas(ctx context.Context, owned string) ([]Replica, error) {
	if err := db.needPostgres(); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT r.replica_id, r.incarnation, r.version, r.addr, r.conductor_group,
			r.shards, r.draining, r.lease_expires_at > now(),
			EXTRACT(EPOCH FROM now() - r.started_at) * 1000, EXTRACT(EPOCH FROM now() - r.renewed_at) * 1000,
			EXTRACT(EPOCH FROM r.lease_expires_at - now()) * 1000, `+owned+`
		FROM ingot_replicas r ORDER BY r.replica_id`)
	if err != nil {
		return nil, fmt.Errorf("replicas: %w", err)
	}
	defer rows.Close()
	var out []Replica
	for rows.Next() {
		var r Replica
		var shards string
		var age, leaseAge, left float64
		if err := rows.Scan(&r.ID, &r.Incarnation, &r.Version, &r.Addr, &r.ConductorGroup, &shards, &r.Draining,
			&r.Live, &age, &leaseAge, &left, &r.Owned); err != nil {
			return nil, fmt.Errorf("replicas: %w", err)
		}
		r.Shards = splitLines(shards)
		r.Age, r.LeaseAge, r.LeaseRemaining = ms(age), ms(leaseAge), ms(left)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("replicas: %w", err)
	}
	return out, nil
}

// staleOwners is a WITH clause naming stale(id): the owner values of ingot_node_owner
// that are no live replica (” for unowned, expired or deleted replicas). The distinct
// owners are found by skipping through the replica_id index (one probe per distinct value,
// a handful) rather than by reading every row.
const staleOwners = `WITH RECURSIVE owners(id) AS (
		(SELECT replica_id FROM ingot_node_owner ORDER BY replica_id LIMIT 1)
		UNION ALL
		SELECT (SELECT o.replica_id FROM ingot_node_owner o WHERE o.replica_id > owners.id ORDER BY o.replica_id LIMIT 1)
		FROM owners WHERE owners.id IS NOT NULL),
	stale(id) AS (SELECT id FROM owners WHERE id IS NOT NULL AND (id = '' OR NOT EXISTS (
		SELECT 1 FROM ingot_replicas r WHERE r.replica_id = owners.id AND r.lease_expires_at > now())))`

// ReplicaCounts returns how many replicas hold a live lease by the database's clock and how
// many nodes no live replica owns (no owner, or an owner whose lease ended), for metrics.
func (db *DB) ReplicaCounts(ctx context.Context) (live, unowned int, err error) {
	if err := db.needPostgres(); err != nil {
		return 0, 0, err
	}
	err = db.r.QueryRowContext(ctx, staleOwners+` SELECT (SELECT COUNT(*) FROM ingot_replicas WHERE lease_expires_at > now()),
		(SELECT COUNT(*) FROM ingot_node_owner WHERE replica_id = ANY (ARRAY(SELECT id FROM stale)))`).Scan(&live, &unowned)
	if err != nil {
		return 0, 0, fmt.Errorf("replica counts: %w", err)
	}
	return live, unowned, nil
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

const nodeOwnerColumns = `node_uuid, replica_id, epoch, handoff_to, conductor_group, shard,
	COALESCE(EXTRACT(EPOCH FROM now() - owned_since) * 1000, 0)`

func scanNodeOwner(s interface{ Scan(...any) error }) (NodeOwner, error) {
	var o NodeOwner
	var owned float64
	err := s.Scan(&o.Node, &o.Replica, &o.Epoch, &o.HandoffTo, &o.ConductorGroup, &o.Shard, &owned)
	o.OwnedFor = ms(owned)
	return o, err
}

// NodeOwners returns every node's ownership row, sorted by node UUID.
func (db *DB) NodeOwners(ctx context.Context) ([]NodeOwner, error) {
	if err := db.needPostgres(); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+nodeOwnerColumns+` FROM ingot_node_owner ORDER BY node_uuid`)
	if err != nil {
		return nil, fmt.Errorf("node owners: %w", err)
	}
	defer rows.Close()
	var out []NodeOwner
	for rows.Next() {
		o, err := scanNodeOwner(rows)
		if err != nil {
			return nil, fmt.Errorf("node owners: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("node owners: %w", err)
	}
	return out, nil
}

// NodeScopes returns every node with an ownership row and its scope (conductor group and
// shard), sorted by node UUID: the set the replicas' assignment spreads.
func (db *DB) NodeScopes(ctx context.Context) ([]NodeScope, error) {
	if err := db.needPostgres(); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT node_uuid, conductor_group, shard FROM ingot_node_owner ORDER BY node_uuid`)
	if err != nil {
		return nil, fmt.Errorf("node scopes: %w", err)
	}
	defer rows.Close()
	var out []NodeScope
	for rows.Next() {
		var n NodeScope
		if err := rows.Scan(&n.Node, &n.ConductorGroup, &n.Shard); err != nil {
			return nil, fmt.Errorf("node scopes: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("node scopes: %w", err)
	}
	return out, nil
}

// NodeOwnersFor returns the ownership rows a scan of replica me needs, sorted by node
// UUID: the nodes it owns, those being handed to it, and those no live replica owns
// (unowned, or their owner's lease ended by the database's clock). Rows of other live
// replicas are left out: a scan does nothing with them, and reading every row at every
// scan of every replica was the replicas' largest cost at 100,000 nodes (bench/replicasim).
// Each part is read through an index.
func (db *DB) NodeOwnersFor(ctx context.Context, me string) ([]NodeOwner, error) {
	if err := db.needPostgres(); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, staleOwners+`
		SELECT `+nodeOwnerColumns+` FROM ingot_node_owner
			WHERE replica_id = ANY (ARRAY(SELECT id FROM stale) || $1::text)
		UNION
		SELECT `+nodeOwnerColumns+` FROM ingot_node_owner WHERE handoff_to = $1 AND handoff_to <> ''
		ORDER BY 1`, me)
	if err != nil {
		return nil, fmt.Errorf("node owners for %s: %w", me, err)
	}
	defer rows.Close()
	var out []NodeOwner
	for rows.Next() {
		o, err := scanNodeOwner(rows)
		if err != nil {
			return nil, fmt.Errorf("node owners for %s: %w", me, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("node owners for %s: %w", me, err)
	}
	return out, nil
}

// NodeOwnerOf returns the node's ownership row, or a KindNotFound error when no replica
// has listed the node.
func (db *DB) NodeOwnerOf(ctx context.Context, node string) (NodeOwner, error) {
	if err := db.needPostgres(); err != nil {
		return NodeOwner{}, err
	}
	o, err := scanNodeOwner(db.r.QueryRowContext(ctx, `SELECT `+nodeOwnerColumns+` FROM ingot_node_owner WHERE node_uuid = $1`, node))
	if errors.Is(err, sql.ErrNoRows) {
		return o, placement.NotFoundf("No replica tracks node %s.", node)
	}
	if err != nil {
		return o, fmt.Errorf("node owner %s: %w", node, err)
	}
	return o, nil
}

// EnsureNodeOwners inserts an unowned row for each listed node that has none and updates
// the conductor group and shard of those whose row says otherwise (the node moved). It
// changes no owner or epoch. It returns how many rows it inserted or updated.
func (db *DB) EnsureNodeOwners(ctx context.Context, nodes []NodeScope) (int, error) {
	if err := db.needPostgres(); err != nil {
		return 0, err
	}
	total := 0
	for _, chunk := range chunks(nodes, 5000) {
		ids := make([]string, len(chunk))
		groups := make([]string, len(chunk))
		shards := make([]string, len(chunk))
		for i, n := range chunk {
			ids[i], groups[i], shards[i] = n.Node, strings.ToLower(n.ConductorGroup), n.Shard
		}
		res, err := db.w.ExecContext(ctx, `INSERT INTO ingot_node_owner (node_uuid, conductor_group, shard)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
			ON CONFLICT (node_uuid) DO UPDATE SET conductor_group = EXCLUDED.conductor_group, shard = EXCLUDED.shard
			WHERE ingot_node_owner.conductor_group <> EXCLUDED.conductor_group
			   OR ingot_node_owner.shard <> EXCLUDED.shard`, ids, groups, shards)
		if err != nil {
			return total, fmt.Errorf("ensure node owners: %w", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	return total, nil
}

// claimLockTimeout bounds how long a claim waits for a row another replica's fenced write
// holds FOR SHARE; the claim is then retried on the next scan.
const claimLockTimeout = 2 * time.Second

// ClaimNodes takes each of the nodes for replica me where the compare-and-swap allows it:
// the node is unowned, or its owner is handing it to me, or its owner has no live lease
// by the database's clock (no row, or expired). Each taken node's epoch is incremented
// and its hand-off cleared. recordScope, when not "", is written into the node's tracker
// record in the same transaction if the record belongs to another scope, so that a node
// that moved between scopes moves with its record (its provider stays). It returns the
// nodes taken; the others were not (a live owner, or a row locked longer than 2 s by a
// fenced write).
func (db *DB) ClaimNodes(ctx context.Context, me, recordScope string, nodes []string) ([]Claimed, error) {
	if err := db.needPostgres(); err != nil {
		return nil, err
	}
	var out []Claimed
	err := db.pgTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, claimLockTimeout.Milliseconds())); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `WITH old AS (
				SELECT node_uuid, replica_id, handoff_to FROM ingot_node_owner
				WHERE node_uuid = ANY($2::text[]) AND replica_id <> $1 ORDER BY node_uuid FOR UPDATE)
			UPDATE ingot_node_owner o SET replica_id = $1, epoch = o.epoch + 1, owned_since = now(), handoff_to = ''
			FROM old WHERE o.node_uuid = old.node_uuid
			  AND (old.replica_id = '' OR old.handoff_to = $1 OR NOT EXISTS (SELECT 1 FROM ingot_replicas r
				WHERE r.replica_id = old.replica_id AND r.lease_expires_at > now()))
			RETURNING o.node_uuid, old.replica_id, o.epoch,
			  CASE WHEN old.replica_id = '' THEN 'claim' WHEN old.handoff_to = $1 THEN 'handoff' ELSE 'expired' END`,
			me, nodes)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c Claimed
			if err := rows.Scan(&c.Node, &c.From, &c.Epoch, &c.Reason); err != nil {
				rows.Close()
				return err
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if recordScope == "" || len(out) == 0 {
			return nil
		}
		taken := make([]string, len(out))
		for i, c := range out {
			taken[i] = c.Node
		}
		_, err = tx.ExecContext(ctx, `UPDATE ironic_nodes SET scope = $1, generation = generation + 1, updated_at = $2
			WHERE node_uuid = ANY($3::text[]) AND scope <> $1 AND scope <> ''`, recordScope, micros(db.Now()), taken)
		return err
	})
	if err != nil {
		if isLockTimeout(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("claim nodes for %s: %w", me, err)
	}
	return out, nil
}

// HandOff asks the node's next owner to take it: allowed only to its current owner at the
// current epoch, and only when no hand-off is pending. The target takes it with
// ClaimNodes; until then the owner still owns it (and must not write for it: its writes
// would still be accepted, which is why the caller stops its work on the node first).
// It reports whether the hand-off was recorded.
func (db *DB) HandOff(ctx context.Context, node, me string, epoch int64, to string) (bool, error) {
	if err := db.needPostgres(); err != nil {
		return false, err
	}
	res, err := db.w.ExecContext(ctx, `UPDATE ingot_node_owner SET handoff_to = $4
		WHERE node_uuid = $1 AND replica_id = $2 AND epoch = $3 AND handoff_to = '' AND $4 <> $2`, node, me, epoch, to)
	if err != nil {
		return false, fmt.Errorf("hand node %s off to %s: %w", node, to, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// HandOffs is HandOff for many nodes in one statement: moves[i] hands nodes[i], owned at
// epochs[i], to targets[i]. It returns the nodes whose hand-off was recorded.
func (db *DB) HandOffs(ctx context.Context, me string, nodes []string, epochs []int64, targets []string) ([]string, error) {
	if err := db.needPostgres(); err != nil {
		return nil, err
	}
	rows, err := db.w.QueryContext(ctx, `UPDATE ingot_node_owner o SET handoff_to = m.target
		FROM unnest($2::text[], $3::bigint[], $4::text[]) AS m(node, epoch, target)
		WHERE o.node_uuid = m.node AND o.replica_id = $1 AND o.epoch = m.epoch AND o.handoff_to = ''
		  AND m.target <> $1 AND m.target <> ''
		RETURNING o.node_uuid`, me, nodes, epochs, targets)
	if err != nil {
		return nil, fmt.Errorf("hand nodes off: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("hand nodes off: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hand nodes off: %w", err)
	}
	return out, nil
}

// HandedTo returns the nodes being handed to replica me (a small partial index makes it
// cheap enough to ask several times a second).
func (db *DB) HandedTo(ctx context.Context, me string) ([]string, error) {
	if err := db.needPostgres(); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT node_uuid FROM ingot_node_owner WHERE handoff_to = $1 AND handoff_to <> ''`, me)
	if err != nil {
		return nil, fmt.Errorf("nodes handed to %s: %w", me, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("nodes handed to %s: %w", me, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// CancelHandOff withdraws a pending hand-off of the owner's node (the target did not take
// it in time); it reports whether the owner still owns the node at that epoch.
func (db *DB) CancelHandOff(ctx context.Context, node, me string, epoch int64) (bool, error) {
	if err := db.needPostgres(); err != nil {
		return false, err
	}
	res, err := db.w.ExecContext(ctx, `UPDATE ingot_node_owner SET handoff_to = ''
		WHERE node_uuid = $1 AND replica_id = $2 AND epoch = $3`, node, me, epoch)
	if err != nil {
		return false, fmt.Errorf("cancel hand-off of node %s: %w", node, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// BusyNodes returns the nodes held by an instance the controller is building or deleting:
// a provision action is in flight on them.
func (db *DB) BusyNodes(ctx context.Context) (map[string]bool, error) {
	rows, err := db.r.QueryContext(ctx, db.q(`SELECT node FROM instances WHERE node <> '' AND state IN (?, ?)`),
		string(baremetal.StateBuilding), string(baremetal.StateDeleting))
	if err != nil {
		return nil, fmt.Errorf("busy nodes: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("busy nodes: %w", err)
		}
		out[n] = true
	}
	return out, rows.Err()
}

// pgTx runs fn in a PostgreSQL transaction of its own (not counted as a change: the
// replica tables are not part of the views).
func (db *DB) pgTx(ctx context.Context, fn func(*sql.Tx) error) error {
	var err error
	for attempt := 0; attempt < maxTxAttempts; attempt++ {
		err = func() error {
			tx, err := db.w.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if err := fn(tx); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err == nil || !isRetryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// affected returns notOne unless res affected exactly one row.
func affected(res sql.Result, notOne error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return notOne
	}
	return nil
}
