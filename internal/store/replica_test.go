package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"ingot/internal/baremetal"
	"ingot/internal/placement"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

const (
	nodeA = "aaaaaaaa-0000-0000-0000-000000000001"
	nodeB = "aaaaaaaa-0000-0000-0000-000000000002"
)

func register(t *testing.T, db *store.DB, id, inc string, ttl time.Duration) []store.Claimed {
	t.Helper()
	got, err := db.RegisterReplica(t.Context(), store.ReplicaInfo{ID: id, Incarnation: inc, Addr: id + ":8778"}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func claim(t *testing.T, db *store.DB, me string, nodes ...string) []store.Claimed {
	t.Helper()
	got, err := db.ClaimNodes(t.Context(), me, "", nodes)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func owner(t *testing.T, db *store.DB, node string) store.NodeOwner {
	t.Helper()
	o, err := db.NodeOwnerOf(t.Context(), node)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func pgOwners(t *testing.T) *store.DB {
	db := storetest.Open(t, storetest.Postgres)
	if _, err := db.EnsureNodeOwners(t.Context(), []store.NodeScope{{Node: nodeA}, {Node: nodeB, ConductorGroup: "Rack-1"}}); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestRenewOnlyOwnIncarnation(t *testing.T) {
	db := pgOwners(t)
	ctx := t.Context()
	register(t, db, "r1", "inc-1", time.Minute)
	if left, err := db.RenewReplica(ctx, "r1", "inc-1", time.Minute); err != nil || left < 55*time.Second || left > time.Minute {
		t.Fatalf("own renewal: %v left, %v", left, err)
	}
	if _, err := db.RenewReplica(ctx, "r1", "inc-0", time.Hour); !errors.Is(err, store.ErrReplicaReplaced) {
		t.Fatalf("renewal by another incarnation: %v, want ErrReplicaReplaced", err)
	}
	if _, err := db.RenewReplica(ctx, "r2", "inc-1", time.Hour); !errors.Is(err, store.ErrReplicaReplaced) {
		t.Fatalf("renewal of a missing row: %v, want ErrReplicaReplaced", err)
	}
	rs, err := db.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].LeaseRemaining > time.Minute || !rs[0].Live {
		t.Fatalf("the failed renewals changed the lease: %+v", rs)
	}
	// A new incarnation takes the row over; the old one's renewals then fail.
	register(t, db, "r1", "inc-2", time.Minute)
	if _, err := db.RenewReplica(ctx, "r1", "inc-1", time.Minute); !errors.Is(err, store.ErrReplicaReplaced) {
		t.Fatalf("renewal by the replaced incarnation: %v", err)
	}
	if err := db.SetReplicaDraining(ctx, "r1", "inc-1"); !errors.Is(err, store.ErrReplicaReplaced) {
		t.Fatalf("drain by the replaced incarnation: %v", err)
	}
	if err := db.DeleteReplica(ctx, "r1", "inc-1"); err != nil {
		t.Fatal(err)
	}
	if rs, _ := db.Replicas(ctx); len(rs) != 1 {
		t.Fatalf("delete by the replaced incarnation removed the row: %+v", rs)
	}
	if err := db.SetReplicaDraining(ctx, "r1", "inc-2"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteReplica(ctx, "r1", "inc-2"); err != nil {
		t.Fatal(err)
	}
	if rs, _ := db.Replicas(ctx); len(rs) != 0 {
		t.Fatalf("rows after delete: %+v", rs)
	}
}

func TestClaimRules(t *testing.T) {
	db := pgOwners(t)
	ctx := t.Context()
	register(t, db, "r1", "i1", time.Minute)
	register(t, db, "r2", "i2", time.Minute)
	got := claim(t, db, "r1", nodeA)
	if len(got) != 1 || got[0].Epoch != 1 || got[0].Reason != "claim" || got[0].From != "" {
		t.Fatalf("claim of an unowned node: %+v", got)
	}
	if got := claim(t, db, "r2", nodeA); len(got) != 0 {
		t.Fatalf("claim of a node with a live owner took it: %+v", got)
	}
	if got := claim(t, db, "r1", nodeA); len(got) != 0 {
		t.Fatalf("claim of an own node bumped it: %+v", got)
	}
	if o := owner(t, db, nodeA); o.Replica != "r1" || o.Epoch != 1 {
		t.Fatalf("owner after refused claims: %+v", o)
	}
	// The owner's lease ends by the database's clock: the claim succeeds.
	if err := db.ExpireReplica(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	got = claim(t, db, "r2", nodeA)
	if len(got) != 1 || got[0].Epoch != 2 || got[0].Reason != "expired" || got[0].From != "r1" {
		t.Fatalf("claim of an expired owner's node: %+v", got)
	}
	// An owner whose row is gone counts as expired too.
	if err := db.DeleteReplica(ctx, "r2", "i2"); err != nil {
		t.Fatal(err)
	}
	register(t, db, "r3", "i3", time.Minute)
	if got := claim(t, db, "r3", nodeA); len(got) != 1 || got[0].Epoch != 3 || got[0].From != "r2" {
		t.Fatalf("claim of a deleted replica's node: %+v", got)
	}
}

func TestHandOffOnlyToTarget(t *testing.T) {
	db := pgOwners(t)
	ctx := t.Context()
	for _, r := range []string{"r1", "r2", "r3"} {
		register(t, db, r, r, time.Minute)
	}
	claim(t, db, "r1", nodeA)
	if ok, err := db.HandOff(ctx, nodeA, "r2", 1, "r3"); err != nil || ok {
		t.Fatalf("hand-off by a non-owner: %v %v", ok, err)
	}
	if ok, err := db.HandOff(ctx, nodeA, "r1", 0, "r3"); err != nil || ok {
		t.Fatalf("hand-off at a stale epoch: %v %v", ok, err)
	}
	if ok, err := db.HandOff(ctx, nodeA, "r1", 1, "r2"); err != nil || !ok {
		t.Fatalf("owner's hand-off: %v %v", ok, err)
	}
	if ok, _ := db.HandOff(ctx, nodeA, "r1", 1, "r3"); ok {
		t.Fatal("a second hand-off replaced a pending one")
	}
	if got := claim(t, db, "r3", nodeA); len(got) != 0 {
		t.Fatalf("a replica other than the target took the node: %+v", got)
	}
	if to2, err := db.HandedTo(ctx, "r2"); err != nil || len(to2) != 1 || to2[0] != nodeA {
		t.Fatalf("nodes handed to r2: %v %v", to2, err)
	}
	if to3, _ := db.HandedTo(ctx, "r3"); len(to3) != 0 {
		t.Fatalf("nodes handed to r3: %v", to3)
	}
	got := claim(t, db, "r2", nodeA)
	if len(got) != 1 || got[0].Reason != "handoff" || got[0].From != "r1" || got[0].Epoch != 2 {
		t.Fatalf("the target's claim: %+v", got)
	}
	if o := owner(t, db, nodeA); o.Replica != "r2" || o.HandoffTo != "" {
		t.Fatalf("after the hand-off: %+v", o)
	}
	// The batch form obeys the same rules: only the owner's nodes at their epochs.
	got2, err := db.HandOffs(ctx, "r2", []string{nodeA, nodeB}, []int64{2, 0}, []string{"r3", "r3"})
	if err != nil || len(got2) != 1 || got2[0] != nodeA {
		t.Fatalf("batch hand-off: %v %v", got2, err)
	}
	if ok, _ := db.CancelHandOff(ctx, nodeA, "r2", 2); !ok {
		t.Fatal("cancel refused")
	}
	// While a hand-off is pending, the owner's fenced writes are rejected too.
	if ok, _ := db.HandOff(ctx, nodeA, "r2", 2, "r1"); !ok {
		t.Fatal("hand-off refused")
	}
	errs, err := db.WriteNodes(store.WithFence(ctx, &store.Fence{Replica: "r2", Epochs: map[string]int64{nodeA: 2}}),
		[]store.NodeWrite{{NodeUUID: nodeA, ProviderUUID: nodeA, Provider: store.ProviderCreate, Name: "a"}})
	if err != nil || !errors.Is(errs[0], store.ErrFenced) {
		t.Fatalf("owner's write during its hand-off: %v %v", err, errs)
	}
	if ok, _ := db.CancelHandOff(ctx, nodeA, "r2", 2); !ok {
		t.Fatal("cancel refused")
	}
	// A cancelled hand-off leaves the owner in place.
	if ok, _ := db.HandOff(ctx, nodeA, "r2", 2, "r1"); !ok {
		t.Fatal("hand-off refused")
	}
	if ok, err := db.CancelHandOff(ctx, nodeA, "r2", 2); err != nil || !ok {
		t.Fatalf("cancel: %v %v", ok, err)
	}
	if got := claim(t, db, "r1", nodeA); len(got) != 0 {
		t.Fatalf("a cancelled hand-off was claimed: %+v", got)
	}
}

func TestSelfReclaimBumpsEpoch(t *testing.T) {
	db := pgOwners(t)
	register(t, db, "r1", "old", time.Minute)
	claim(t, db, "r1", nodeA, nodeB)
	got := register(t, db, "r1", "new", time.Minute)
	if len(got) != 2 || got[0].Reason != "self" || got[0].Epoch != 2 || got[1].Epoch != 2 {
		t.Fatalf("self-reclaim: %+v", got)
	}
}

func TestEnsureNodeOwnersUpdatesScope(t *testing.T) {
	db := pgOwners(t)
	ctx := t.Context()
	register(t, db, "r1", "i", time.Minute)
	claim(t, db, "r1", nodeB)
	n, err := db.EnsureNodeOwners(ctx, []store.NodeScope{{Node: nodeA}, {Node: nodeB, ConductorGroup: "rack-2", Shard: "s"}})
	if err != nil || n != 1 {
		t.Fatalf("ensure: %d %v (want 1 row changed)", n, err)
	}
	if o := owner(t, db, nodeB); o.ConductorGroup != "rack-2" || o.Shard != "s" || o.Replica != "r1" || o.Epoch != 1 {
		t.Fatalf("after the node moved: %+v", o)
	}
	// NodeScopes: every row, owned or not, with its scope as last listed.
	want := []store.NodeScope{{Node: nodeA}, {Node: nodeB, ConductorGroup: "rack-2", Shard: "s"}}
	if got, err := db.NodeScopes(ctx); err != nil || !slices.Equal(got, want) {
		t.Fatalf("node scopes: %+v %v, want %+v", got, err, want)
	}
	if _, err := db.NodeOwnerOf(ctx, "nope"); !errors.Is(err, placement.ErrNotFound) {
		t.Fatalf("unknown node: %v", err)
	}
}

// TestStaleEpochRejected: a write fenced with a stale epoch, or by a replica that does not
// own the node, is rejected, counted, and changes nothing; the current owner's is applied.
func TestStaleEpochRejected(t *testing.T) {
	db := pgOwners(t)
	ctx := t.Context()
	register(t, db, "r1", "i1", time.Minute)
	register(t, db, "r2", "i2", time.Minute)
	claim(t, db, "r1", nodeA, nodeB)
	db.ExpireReplica(ctx, "r1")
	claim(t, db, "r2", nodeA) // nodeA: r2 at epoch 2; nodeB: still r1 at epoch 1 (expired but not taken)

	write := func(node string) store.NodeWrite {
		return store.NodeWrite{NodeUUID: node, ProviderUUID: node, Provider: store.ProviderCreate, Name: node,
			Record: store.RecordPut, Node: baremetal.NodeRecord{ProviderUUID: node, Scope: "s", State: baremetal.NodeManaged}}
	}
	stale := &store.Fence{Replica: "r1", Epochs: map[string]int64{nodeA: 1, nodeB: 1}}
	var audit []store.FenceAudit
	var auditMu sync.Mutex
	db.SetFenceAudit(func(a store.FenceAudit) {
		auditMu.Lock()
		audit = append(audit, a)
		auditMu.Unlock()
	})
	before := db.FencedRejections()
	errs, err := db.WriteNodes(store.WithFence(ctx, stale), []store.NodeWrite{write(nodeA), write(nodeB)})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[0], store.ErrFenced) {
		t.Fatalf("stale write of nodeA: %v, want ErrFenced", errs[0])
	}
	var fe *store.FencedError
	if !errors.As(errs[0], &fe) || fe.Node != nodeA || fe.Epoch != 1 || fe.Replica != "r1" {
		t.Fatalf("fenced error: %#v", errs[0])
	}
	if errs[1] != nil {
		t.Fatalf("nodeB is still r1's at epoch 1 (nobody took it): %v", errs[1])
	}
	if got := db.FencedRejections() - before; got != 1 {
		t.Fatalf("rejections counted: %d, want 1", got)
	}
	auditMu.Lock()
	for i, a := range audit { // an accepted write says when its fence held; a rejected one not
		if a.Accepted == a.Checked.IsZero() {
			t.Errorf("audit %+v: accepted %v with checked time %v", a, a.Accepted, a.Checked)
		}
		audit[i].Checked = time.Time{}
	}
	wantAudit := []store.FenceAudit{{Node: nodeA, Replica: "r1", Epoch: 1}, {Node: nodeB, Replica: "r1", Epoch: 1, Accepted: true}}
	if !slices.Equal(audit, wantAudit) {
		t.Fatalf("audit %+v, want %+v", audit, wantAudit)
	}
	auditMu.Unlock()
	db.SetFenceAudit(nil)
	if _, err := db.GetProvider(ctx, nodeA); !errors.Is(err, placement.ErrNotFound) {
		t.Fatalf("the rejected write created the provider: %v", err)
	}
	if _, err := db.IronicNode(ctx, nodeA); !errors.Is(err, placement.ErrNotFound) {
		t.Fatalf("the rejected write created the record: %v", err)
	}
	// The owner at the current epoch writes; a fence without the node is rejected too.
	errs, err = db.WriteNodes(store.WithFence(ctx, &store.Fence{Replica: "r2", Epochs: map[string]int64{nodeA: 2}}),
		[]store.NodeWrite{write(nodeA)})
	if err != nil || errs[0] != nil {
		t.Fatalf("owner's write: %v %v", err, errs)
	}
	errs, _ = db.WriteNodes(store.WithFence(ctx, &store.Fence{Replica: "r2"}), []store.NodeWrite{write(nodeB)})
	if !errors.Is(errs[0], store.ErrFenced) {
		t.Fatalf("write for a node the fence does not name: %v", errs[0])
	}
	// Instance writes under a stale fence: rejected, nothing written.
	in, _, err := db.CreateInstance(ctx, baremetal.Instance{UUID: "bbbbbbbb-0000-0000-0000-000000000001",
		ProjectID: "p", UserID: "u", Spec: baremetal.Spec{}})
	if err != nil {
		t.Fatal(err)
	}
	next := in
	next.Task = baremetal.TaskLocking
	if _, err := db.UpdateInstance(store.WithFence(ctx, stale), next); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("stale instance update: %v", err)
	}
	if cur, _ := db.Instance(ctx, in.UUID); cur.Generation != in.Generation {
		t.Fatalf("the rejected update was applied: %+v", cur)
	}
	if _, err := db.UpdateInstance(store.WithFence(ctx, &store.Fence{Replica: "r2", Epochs: map[string]int64{nodeA: 2}}), next); err != nil {
		t.Fatalf("owner's instance update: %v", err)
	}
	// The owner deleting the node's record (gone from Ironic) deletes its ownership row.
	rec, err := db.IronicNode(ctx, nodeA)
	if err != nil {
		t.Fatal(err)
	}
	prov, _ := db.GetProvider(ctx, nodeA)
	errs, err = db.WriteNodes(store.WithFence(ctx, &store.Fence{Replica: "r2", Epochs: map[string]int64{nodeA: 2}}),
		[]store.NodeWrite{{NodeUUID: nodeA, ProviderUUID: nodeA, Provider: store.ProviderDelete, Generation: prov.Generation,
			Record: store.RecordDelete, RecordGeneration: rec.Generation}})
	if err != nil || errs[0] != nil {
		t.Fatalf("owner's delete: %v %v", err, errs)
	}
	if _, err := db.NodeOwnerOf(ctx, nodeA); !errors.Is(err, placement.ErrNotFound) {
		t.Fatalf("ownership row after the node's deletion: %v", err)
	}

}

// TestForShareBlocksTakeover: while the owner's fenced write is open, a takeover of its
// (expired) node waits; it proceeds once the write commits, and the write was accepted.
func TestForShareBlocksTakeover(t *testing.T) {
	db := pgOwners(t)
	ctx := t.Context()
	register(t, db, "r1", "i1", time.Minute)
	register(t, db, "r2", "i2", time.Minute)
	claim(t, db, "r1", nodeA)
	commit, err := db.BeginFencedCreate(ctx, &store.Fence{Replica: "r1", Epochs: map[string]int64{nodeA: 1}},
		store.NewProvider{UUID: nodeA, Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	db.ExpireReplica(ctx, "r1")
	type result struct {
		got []store.Claimed
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		got, err := db.ClaimNodes(context.Background(), "r2", "", []string{nodeA})
		done <- result{got, err, time.Now()}
	}()
	select {
	case r := <-done:
		t.Fatalf("the takeover did not wait for the fenced write: %+v", r)
	case <-time.After(500 * time.Millisecond):
	}
	committed := time.Now()
	if err := commit(); err != nil {
		t.Fatalf("the fenced write failed: %v", err)
	}
	r := <-done
	if r.err != nil || len(r.got) != 1 || r.got[0].Epoch != 2 || r.at.Before(committed) {
		t.Fatalf("takeover after the commit: %+v", r)
	}
	if _, err := db.GetProvider(ctx, nodeA); err != nil {
		t.Fatalf("the fenced write was lost: %v", err)
	}
	// And the old owner's next write is rejected.
	if _, err := db.BeginFencedCreate(ctx, &store.Fence{Replica: "r1", Epochs: map[string]int64{nodeA: 1}},
		store.NewProvider{UUID: nodeB, Name: "b"}); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("old owner's write after the takeover: %v", err)
	}
}

// TestClaimGivesUpOnLockedRow: a claim waits at most its lock timeout for a row held by a
// fenced write, then takes nothing (the next scan tries again).
func TestClaimGivesUpOnLockedRow(t *testing.T) {
	db := pgOwners(t)
	ctx := t.Context()
	register(t, db, "r1", "i1", time.Minute)
	register(t, db, "r2", "i2", time.Minute)
	claim(t, db, "r1", nodeA)
	commit, err := db.BeginFencedCreate(ctx, &store.Fence{Replica: "r1", Epochs: map[string]int64{nodeA: 1}},
		store.NewProvider{UUID: nodeA, Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer commit()
	db.ExpireReplica(ctx, "r1")
	start := time.Now()
	got, err := db.ClaimNodes(ctx, "r2", "", []string{nodeA})
	if err != nil || len(got) != 0 {
		t.Fatalf("claim of a locked row: %+v %v", got, err)
	}
	if d := time.Since(start); d < time.Second || d > 10*time.Second {
		t.Fatalf("claim gave up after %v", d)
	}
}

func TestClaimMovesRecordScope(t *testing.T) {
	db := pgOwners(t)
	ctx := t.Context()
	register(t, db, "r1", "i1", time.Minute)
	errs, err := db.WriteNodes(ctx, []store.NodeWrite{{NodeUUID: nodeA, ProviderUUID: nodeA, Provider: store.ProviderCreate,
		Name: "a", Record: store.RecordPut, Node: baremetal.NodeRecord{ProviderUUID: nodeA, Scope: "old", State: baremetal.NodeManaged}}})
	if err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	got, err := db.ClaimNodes(ctx, "r1", "new", []string{nodeA})
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	rec, err := db.IronicNode(ctx, nodeA)
	if err != nil || rec.Scope != "new" || rec.Generation != 2 {
		t.Fatalf("record after the move: %+v %v", rec, err)
	}
}

func TestReplicasNeedPostgres(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	if _, err := db.Replicas(t.Context()); err == nil {
		t.Fatal("Replicas on SQLite: no error")
	}
	if _, err := db.ClaimNodes(t.Context(), "r", "", []string{nodeA}); err == nil {
		t.Fatal("ClaimNodes on SQLite: no error")
	}
}

// TestIdleInTransactionTimeout: sessions end a transaction left idle (a paused writer
// holding owner rows FOR SHARE) after 10 s, unless the URL says otherwise.
func TestIdleInTransactionTimeout(t *testing.T) {
	db := storetest.Open(t, storetest.Postgres)
	got, err := db.Setting(t.Context(), "idle_in_transaction_session_timeout")
	if err != nil || got != "10s" {
		t.Fatalf("idle_in_transaction_session_timeout = %q, %v; want 10s", got, err)
	}
}

// TestNodeOwnersFor: a scan reads its replica's nodes, those handed to it, and those no
// live replica owns (unowned, an expired owner's, a deleted owner's), and no other live
// replica's; it is exactly that filter of the full read. ReplicaCounts counts the live
// replicas and the nodes no live replica owns.
func TestNodeOwnersFor(t *testing.T) {
	db := storetest.Open(t, storetest.Postgres)
	ctx := t.Context()
	node := func(i int) string { return fmt.Sprintf("bbbbbbbb-0000-0000-0000-%012d", i) }
	var scopes []store.NodeScope
	for i := range 8 {
		scopes = append(scopes, store.NodeScope{Node: node(i)})
	}
	if _, err := db.EnsureNodeOwners(ctx, scopes); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"r1", "r2", "r3", "r4"} {
		register(t, db, r, r, time.Minute)
	}
	claim(t, db, "r1", node(0), node(1))
	claim(t, db, "r2", node(2), node(3))
	claim(t, db, "r3", node(4))
	claim(t, db, "r4", node(5))
	// node 6 and 7 stay unowned; r2 hands node 3 to r1; r3 expires; r4 leaves.
	if ok, err := db.HandOff(ctx, node(3), "r2", 1, "r1"); err != nil || !ok {
		t.Fatalf("hand-off: %v %v", ok, err)
	}
	if err := db.ExpireReplica(ctx, "r3"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteReplica(ctx, "r4", "r4"); err != nil {
		t.Fatal(err)
	}
	all, err := db.NodeOwners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]bool{"r1": true, "r2": true}
	for _, me := range []string{"r1", "r2"} {
		var want []string
		for _, o := range all {
			if o.Replica == me || o.HandoffTo == me || !live[o.Replica] {
				want = append(want, o.Node)
			}
		}
		got, err := db.NodeOwnersFor(ctx, me)
		if err != nil {
			t.Fatal(err)
		}
		var nodes []string
		for _, o := range got {
			nodes = append(nodes, o.Node)
			if i := slices.IndexFunc(all, func(a store.NodeOwner) bool { return a.Node == o.Node }); all[i].Epoch != o.Epoch ||
				all[i].Replica != o.Replica || all[i].HandoffTo != o.HandoffTo {
				t.Errorf("%s: row %+v, the full read has %+v", me, o, all[i])
			}
		}
		if !slices.Equal(nodes, want) {
			t.Errorf("rows for %s: %v, want %v", me, nodes, want)
		}
	}
	if got, _ := db.NodeOwnersFor(ctx, "r1"); len(got) != 7 {
		t.Errorf("r1 reads %d rows, want 7 (all but r2's node 2)", len(got))
	}
	liveN, unowned, err := db.ReplicaCounts(ctx)
	if err != nil || liveN != 2 || unowned != 4 {
		t.Errorf("ReplicaCounts: %d live, %d unowned, %v; want 2 and 4 (nodes 4-7)", liveN, unowned, err)
	}
	members, err := db.ReplicaMembers(ctx)
	if err != nil || len(members) != 3 || members[0].ID != "r1" || members[0].Owned != 0 || !members[0].Live || members[2].Live {
		t.Errorf("members: %+v %v", members, err)
	}
	if rs, _ := db.Replicas(ctx); len(rs) != 3 || rs[0].Owned != 2 || rs[1].Owned != 2 || rs[2].Owned != 1 {
		t.Errorf("replicas with counts: %+v", rs)
	}
}
