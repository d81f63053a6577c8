package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ingot/internal/fleet"
	"ingot/internal/fleet/fleettest"
	"ingot/internal/placement"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// TestViewSeesChangeRecordedBeforeALaterCommit (PostgreSQL) holds a transaction open after it
// recorded its change while a second process commits a change of its own, and checks that a
// third process's view has the committed change but not the open one, and then, once that
// commits, has it too: changes are not ordered, so a view must not skip a transaction that
// recorded before another committed.
func TestViewSeesChangeRecordedBeforeALaterCommit(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t, storetest.Postgres)
	dbs := make([]*store.DB, 3)
	for i := range dbs {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	writer, other, reader := dbs[0], dbs[1], dbs[2]
	if _, err := reader.View(ctx); err != nil {
		t.Fatal(err)
	}
	commit, err := writer.BeginCreateProviderRecorded(ctx, store.NewProvider{UUID: uuidA, Name: "recorded first"})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, other, uuidB, "committed first", "")
	v, err := reader.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Provider(uuidB); !ok {
		t.Fatal("view lacks the committed provider")
	}
	if _, ok := v.Provider(uuidA); ok {
		t.Fatal("view has the uncommitted provider")
	}
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	v, err = reader.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Provider(uuidA); !ok {
		t.Fatal("view lacks the provider whose transaction recorded its change before the other committed")
	}
	if d := fleettest.Diff(v, freshView(t, dsn)); d != "" {
		t.Fatalf("view differs from a fresh one: %s", d)
	}
}

// TestViewWaiterRefreshesForLaterCommit (PostgreSQL) makes a View call wait for a refresh
// whose snapshot was taken before a change that committed before the call began, and checks
// that the call does not return that refresh's view, which lacks the change.
func TestViewWaiterRefreshesForLaterCommit(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t, storetest.Postgres)
	writer, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	reader, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	snapshotTaken, releaseRefresh := make(chan struct{}), make(chan struct{})
	waiterChecked := make(chan struct{})
	var calls atomic.Int64
	reader.SetViewHook(func(stage string) {
		switch {
		case stage == "snapshot" && calls.Add(1) == 2: // the first refresh after the initial view
			close(snapshotTaken)
			<-releaseRefresh
		case stage == "checked" && calls.Load() == 2:
			select {
			case <-waiterChecked:
			default:
				if calls.CompareAndSwap(2, 3) {
					close(waiterChecked)
				}
			}
		}
	})
	if _, err := reader.View(ctx); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, writer, uuidA, "before the refresh", "")
	first := make(chan *fleet.View)
	go func() {
		v, err := reader.View(ctx)
		if err != nil {
			t.Error(err)
		}
		first <- v
	}()
	<-snapshotTaken
	mustCreate(t, writer, uuidB, "after the refresh's snapshot", "")
	second := make(chan *fleet.View)
	go func() {
		v, err := reader.View(ctx) // begins after B committed
		if err != nil {
			t.Error(err)
		}
		second <- v
	}()
	<-waiterChecked
	close(releaseRefresh)
	if v := <-first; v == nil || !hasProvider(v, uuidA) {
		t.Fatal("the first refresh lacks the provider committed before it")
	}
	v := <-second
	if v == nil || !hasProvider(v, uuidB) {
		t.Fatal("a View call that began after a commit returned a view without it")
	}
}

func hasProvider(v *fleet.View, uuid string) bool {
	_, ok := v.Provider(uuid)
	return ok
}

// TestViewsExactAcrossReplicas (PostgreSQL) runs writers in three processes (three *store.DB
// on one database), each transaction pausing at random between recording its changes and
// committing, so that transactions commit in an order unrelated to the order of their ids
// and of their recording; and prunes the changes table often. Each write sets one
// consumer's allocation on two providers (a pair) to the writer's next value. Readers in
// every process check each view they get: both providers of a pair show the same value (a
// view never mixes states), and no pair shows less than what its writer had committed before
// the view was asked for (no committed change is missed). At the end every process's view
// equals one built from scratch.
func TestViewsExactAcrossReplicas(t *testing.T) {
	const (
		processes = 3
		pairs     = 12
		writes    = 25 // per pair
		readers   = 2  // per process
	)
	ctx := context.Background()
	dsn := storetest.DSN(t, storetest.Postgres)
	dbs := make([]*store.DB, processes)
	for i := range dbs {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetChangeHooks(func() { time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond) }, 7, 40)
		dbs[i] = db
	}
	provider := func(pair, side int) string { return fmt.Sprintf("a0000000-0000-4000-8000-%06d%06d", pair, side) }
	consumer := func(pair int) string { return fmt.Sprintf("c0000000-0000-4000-8000-%012d", pair) }
	for i := range pairs {
		for side := range 2 {
			mustCreate(t, dbs[0], provider(i, side), provider(i, side), "")
			setInventory(t, dbs[0], provider(i, side), map[string]placement.Inventory{
				"VCPU": {Total: 1 << 20, MinUnit: 1, MaxUnit: 1 << 20, StepSize: 1, AllocationRatio: 1}})
		}
	}

	var committed [pairs]atomic.Int64 // the last value each pair's writer saw committed
	var writersDone sync.WaitGroup
	for i := range pairs {
		writersDone.Go(func() {
			db := dbs[i%processes]
			for k := int64(1); k <= writes; k++ {
				if err := writeErr(db, consumer(i), nil,
					placement.Allocation{ProviderUUID: provider(i, 0), ResourceClass: "VCPU", Used: k},
					placement.Allocation{ProviderUUID: provider(i, 1), ResourceClass: "VCPU", Used: k}); err != nil {
					t.Errorf("pair %d write %d: %v", i, k, err)
					return
				}
				committed[i].Store(k)
			}
		})
	}
	used := func(v *fleet.View, uuid string) int64 {
		p, ok := v.Provider(uuid)
		if !ok {
			return -1
		}
		vcpu, _ := v.ClassID("VCPU")
		inv, _ := p.Inventory(vcpu)
		return inv.Used
	}
	stop := make(chan struct{})
	var checked, refreshed atomic.Int64
	var readersDone sync.WaitGroup
	for _, db := range dbs {
		for range readers {
			readersDone.Go(func() {
				var lastSeq int64
				for {
					select {
					case <-stop:
						return
					default:
					}
					var lower [pairs]int64
					for i := range pairs {
						lower[i] = committed[i].Load()
					}
					v, err := db.View(ctx)
					if err != nil {
						t.Errorf("view: %v", err)
						return
					}
					if v.Seq < lastSeq {
						t.Errorf("view seq went back from %d to %d", lastSeq, v.Seq)
					}
					if v.Seq > lastSeq {
						refreshed.Add(1)
					}
					lastSeq = v.Seq
					for i := range pairs {
						a, b := used(v, provider(i, 0)), used(v, provider(i, 1))
						if a != b {
							t.Errorf("view %d shows pair %d at %d and %d: it mixes two states", v.Seq, i, a, b)
							return
						}
						if a < lower[i] {
							t.Errorf("view %d shows pair %d at %d, but %d was committed before it was asked for", v.Seq, i, a, lower[i])
							return
						}
					}
					checked.Add(1)
				}
			})
		}
	}
	writersDone.Wait()
	close(stop)
	readersDone.Wait()
	if t.Failed() {
		return
	}
	if checked.Load() < 20 || refreshed.Load() < 10 {
		t.Fatalf("only %d views checked, %d refreshed: the readers did not overlap the writers", checked.Load(), refreshed.Load())
	}

	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var pruned int64
	if err := raw.QueryRow(`SELECT pruned_through FROM change_version WHERE id = 1`).Scan(&pruned); err != nil {
		t.Fatal(err)
	}
	if pruned == 0 {
		t.Error("the changes table was never pruned")
	}
	fresh := freshView(t, dsn)
	for n, db := range dbs {
		v, err := db.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := fleettest.Diff(v, fresh); d != "" {
			t.Errorf("process %d's view differs from a fresh one: %s", n, d)
		}
		for i := range pairs {
			if a := used(v, provider(i, 0)); a != writes {
				t.Errorf("process %d's view shows pair %d at %d, want %d", n, i, a, writes)
			}
		}
	}
	t.Logf("%d views checked, %d refreshes", checked.Load(), refreshed.Load())
}
