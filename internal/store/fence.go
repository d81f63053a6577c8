package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Fencing. A replica writes for an Ironic node only while it owns the node's row in
// ingot_node_owner at the epoch it believes in. The check runs in the write's own
// transaction: the owner rows are locked FOR SHARE (one statement for a whole batch), so a
// takeover, whose UPDATE needs the row, waits until the write commits, and a write that
// comes after a takeover finds the epoch changed and is rejected before it changes
// anything. (FOR KEY SHARE would not conflict with the takeover's UPDATE of non-key
// columns; FOR SHARE does.)

// Fence is the ownership a write is made under: the replica and the epoch at which it
// owns each node. A nil *Fence means an unfenced write (SQLite's single replica, the
// Placement API, tests).
type Fence struct {
	Replica string
	Epochs  map[string]int64
}

// ErrFenced matches every FencedError.
var ErrFenced = errors.New("stale node ownership")

// FencedError is a write rejected because its replica no longer owns the node at the
// epoch it wrote with. Nothing of the write was applied.
type FencedError struct {
	Node, Replica string
	Epoch         int64 // the epoch the write carried (0: the replica does not own it at all)
}

func (e *FencedError) Error() string {
	return fmt.Sprintf("replica %s does not own node %s at epoch %d: write rejected", e.Replica, e.Node, e.Epoch)
}

// Is makes errors.Is(err, ErrFenced) true.
func (e *FencedError) Is(target error) bool { return target == ErrFenced }

type fenceKey struct{}

// WithFence returns ctx carrying the fence: every write made with the context (node
// writes, instance records, claims and releases) is checked against it in its own
// transaction. The instance controller's steps use it; a nil f removes any fence.
func WithFence(ctx context.Context, f *Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceFrom returns the fence ctx carries (nil: none).
func FenceFrom(ctx context.Context) *Fence { return fenceOf(ctx) }

func fenceOf(ctx context.Context) *Fence {
	f, _ := ctx.Value(fenceKey{}).(*Fence)
	return f
}

// fenceCounter counts the writes rejected by fences, per database handle, and holds the
// audit hook.
type fenceCounter struct {
	n     atomic.Uint64
	audit atomic.Pointer[func(FenceAudit)]
}

// FenceAudit is one fenced write's outcome for one node, for auditors: Accepted (it
// committed) or rejected as stale.
type FenceAudit struct {
	Node, Replica string
	Epoch         int64
	Accepted      bool
	// Checked is when an accepted write's fence was found to hold. The owner rows stay
	// locked FOR SHARE from then until the commit, so no takeover of the node falls
	// between the two: an auditor orders accepted writes by it, not by when the outcome
	// is reported (a writer paused between its commit and its report would otherwise
	// seem to write after a takeover).
	Checked time.Time
}

// SetFenceAudit makes the handle call fn with every fenced write's outcome per node, after
// the commit (or the rejection); nil stops it. fn must be quick and safe for concurrent
// use. The chaos tests' auditor reads it (through the log, see app).
func (db *DB) SetFenceAudit(fn func(FenceAudit)) {
	if fn == nil {
		db.fenced.audit.Store(nil)
		return
	}
	db.fenced.audit.Store(&fn)
}

// auditFence reports outcomes to the audit hook, if any.
func (db *DB) auditFence(f *Fence, node string, accepted bool, checked time.Time) {
	if p := db.fenced.audit.Load(); p != nil {
		(*p)(FenceAudit{Node: node, Replica: f.Replica, Epoch: f.Epochs[node], Accepted: accepted, Checked: checked})
	}
}

// FencedRejections returns how many writes (nodes of a batch count one each) this handle
// rejected because their fence was stale. The metrics exporter reads it as a counter.
func (db *DB) FencedRejections() uint64 { return db.fenced.n.Load() }

// checkFence locks the owner rows of nodes FOR SHARE at the fence's epochs and returns the
// nodes it could not lock as owned (not in f.Epochs, another owner, another epoch, or
// being handed over: the owner stopped working on it when it offered it).
func (t *tx) checkFence(f *Fence, nodes []string) (stale map[string]bool, err error) {
	want := make([]string, 0, len(nodes))
	epochs := make([]int64, 0, len(nodes))
	stale = map[string]bool{}
	for _, n := range nodes {
		e, ok := f.Epochs[n]
		if !ok {
			stale[n] = true
			continue
		}
		want = append(want, n)
		epochs = append(epochs, e)
	}
	if len(want) == 0 {
		return stale, nil
	}
	locked := make(map[string]bool, len(want))
	if t.db.dialect == dialectPostgres {
		err = t.scanRows(`SELECT o.node_uuid FROM ingot_node_owner o
			JOIN unnest(?::text[], ?::bigint[]) AS w(node, epoch) ON o.node_uuid = w.node AND o.epoch = w.epoch
			WHERE o.replica_id = ? AND o.handoff_to = '' ORDER BY o.node_uuid FOR SHARE OF o`, []any{want, epochs, f.Replica},
			func(rows *sql.Rows) error {
				var n string
				err := rows.Scan(&n)
				locked[n] = true
				return err
			})
	} else {
		// SQLite: one writer at a time, so reading is locking.
		for _, chunk := range chunks(want, 500) {
			err = t.scanRows(`SELECT node_uuid, epoch FROM ingot_node_owner WHERE replica_id = ? AND handoff_to = '' AND node_uuid IN (`+
				placeholders(len(chunk))+`)`, append([]any{f.Replica}, anys(chunk)...), func(rows *sql.Rows) error {
				var n string
				var e int64
				if err := rows.Scan(&n, &e); err != nil {
					return err
				}
				locked[n] = f.Epochs[n] == e
				return nil
			})
			if err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("check ownership: %w", err)
	}
	for _, n := range want {
		if !locked[n] {
			stale[n] = true
		}
	}
	return stale, nil
}

// fenceAll checks f for every node it names and fails the whole transaction when one is
// stale.
func (t *tx) fenceAll(f *Fence) error {
	nodes := make([]string, 0, len(f.Epochs))
	for n := range f.Epochs {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	stale, err := t.checkFence(f, nodes)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if stale[n] {
			t.db.fenced.n.Add(1)
			return &FencedError{Node: n, Replica: f.Replica, Epoch: f.Epochs[n]}
		}
	}
	return nil
}

// isLockTimeout reports whether err is PostgreSQL's lock_not_available (55P03), what a
// statement gets when lock_timeout ends its wait.
func isLockTimeout(err error) bool {
	pe, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pe.Code == "55P03"
}
