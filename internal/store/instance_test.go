package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"ingot/internal/baremetal"
	"ingot/internal/placement"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

func instanceUUID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

func newInstance(i int, project string) baremetal.Instance {
	return baremetal.Instance{
		UUID: instanceUUID(i), Name: fmt.Sprintf("web-%d", i), ProjectID: project, UserID: "u1",
		Spec: baremetal.Spec{
			Request:     baremetal.Request{ResourceClass: "baremetal-gold", Required: []string{"CUSTOM_RACK_1"}, MemberOf: [][]string{{instanceUUID(900)}}},
			Image:       baremetal.Image{Source: "http://images/a.qcow2", Checksum: "abc"},
			ConfigDrive: baremetal.ConfigDrive{UserData: "#!/bin/sh\n", SSHKeys: map[string]string{"k": "ssh-ed25519 AAAA"}},
		},
	}
}

func mustCreateInstance(t *testing.T, db *store.DB, in baremetal.Instance) baremetal.Instance {
	t.Helper()
	out, created, err := db.CreateInstance(context.Background(), in)
	if err != nil || !created {
		t.Fatalf("CreateInstance(%s) = created %v, %v", in.UUID, created, err)
	}
	return out
}

// clock makes db's times advance one millisecond per call, so creation order is strict.
func clock(db *store.DB) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	db.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		return now
	}
}

func TestCreateInstance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock(db)
		in := newInstance(1, "p1")
		got := mustCreateInstance(t, db, in)
		if got.State != baremetal.StateBuilding || got.Task != baremetal.TaskScheduling || got.Generation != 1 {
			t.Errorf("created state %q task %q gen %d; want building, scheduling, 1", got.State, got.Task, got.Generation)
		}
		if got.CreatedAt.IsZero() || !got.CreatedAt.Equal(got.UpdatedAt) {
			t.Errorf("times created %v updated %v", got.CreatedAt, got.UpdatedAt)
		}
		if got.SpecHash != store.SpecHash(in.Name, in.Spec) {
			t.Errorf("spec hash %q; want the default hash", got.SpecHash)
		}
		if diff := cmp.Diff(in.Spec, got.Spec); diff != "" {
			t.Errorf("spec round trip (-want +got):\n%s", diff)
		}
		read, err := db.Instance(ctx, in.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, read); diff != "" {
			t.Errorf("Instance differs from the created record (-created +read):\n%s", diff)
		}

		// The same request again: the existing record, not created.
		again, created, err := db.CreateInstance(ctx, in)
		if err != nil || created {
			t.Fatalf("repeat create: created %v, %v", created, err)
		}
		if diff := cmp.Diff(got, again); diff != "" {
			t.Errorf("repeat create returned (-first +again):\n%s", diff)
		}

		// The same UUID with a different body, or from another project: 409, nothing changed.
		other := in
		other.Spec.Image.Checksum = "def"
		otherProject := in
		otherProject.ProjectID = "p2"
		for name, c := range map[string]baremetal.Instance{"body": other, "project": otherProject} {
			_, created, err := db.CreateInstance(ctx, c)
			if created {
				t.Errorf("%s: created", name)
			}
			wantKind(t, err, placement.KindConflict, "")
		}
		read, _ = db.Instance(ctx, in.UUID)
		if diff := cmp.Diff(got, read); diff != "" {
			t.Errorf("conflicting create changed the record:\n%s", diff)
		}

		_, _, err = db.CreateInstance(ctx, baremetal.Instance{ProjectID: "p1"})
		wantKind(t, err, placement.KindInvalid, "")
		_, err = db.Instance(ctx, instanceUUID(2))
		wantKind(t, err, placement.KindNotFound, "")
	})
}

func TestListInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock(db)
		// Instances 1..7: odd ones in p1, even ones in p2; 3 is active on node-3, 6 deleted.
		var all []baremetal.Instance
		for i := 1; i <= 7; i++ {
			p := "p1"
			if i%2 == 0 {
				p = "p2"
			}
			all = append(all, mustCreateInstance(t, db, newInstance(i, p)))
		}
		a := all[2]
		a.State, a.Task, a.Node, a.Locked = baremetal.StateActive, baremetal.TaskNone, "node-3", true
		var err error
		if all[2], err = db.UpdateInstance(ctx, a); err != nil {
			t.Fatal(err)
		}
		d := all[5]
		d.State = baremetal.StateDeleting
		if d, err = db.UpdateInstance(ctx, d); err != nil {
			t.Fatal(err)
		}
		d.State = baremetal.StateDeleted
		if all[5], err = db.UpdateInstance(ctx, d); err != nil {
			t.Fatal(err)
		}
		uuids := func(xs []baremetal.Instance) []string {
			var out []string
			for _, x := range xs {
				out = append(out, x.UUID)
			}
			return out
		}
		want := func(is ...int) []string {
			var out []string
			for _, i := range is {
				out = append(out, instanceUUID(i))
			}
			return out
		}
		for _, c := range []struct {
			name string
			f    store.InstanceFilter
			want []string
		}{
			{"live", store.InstanceFilter{}, want(1, 2, 3, 4, 5, 7)},
			{"include deleted", store.InstanceFilter{IncludeDeleted: true}, want(1, 2, 3, 4, 5, 6, 7)},
			{"deleted by state", store.InstanceFilter{States: []baremetal.State{baremetal.StateDeleted}}, want(6)},
			{"two states", store.InstanceFilter{States: []baremetal.State{baremetal.StateActive, baremetal.StateBuilding}}, want(1, 2, 3, 4, 5, 7)},
			{"project", store.InstanceFilter{ProjectID: "p2"}, want(2, 4)},
			{"project with deleted", store.InstanceFilter{ProjectID: "p2", IncludeDeleted: true}, want(2, 4, 6)},
			{"node", store.InstanceFilter{Node: "node-3"}, want(3)},
			{"name", store.InstanceFilter{Name: "web-5"}, want(5)},
			{"name and project mismatch", store.InstanceFilter{Name: "web-5", ProjectID: "p2"}, nil},
			{"limit", store.InstanceFilter{Limit: 2}, want(1, 2)},
			{"marker", store.InstanceFilter{Marker: instanceUUID(2), Limit: 2}, want(3, 4)},
			{"marker deleted", store.InstanceFilter{Marker: instanceUUID(6)}, want(7)},
			{"marker last", store.InstanceFilter{Marker: instanceUUID(7)}, nil},
		} {
			got, err := db.ListInstances(ctx, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if diff := cmp.Diff(c.want, uuids(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", c.name, diff)
			}
		}
		_, err = db.ListInstances(ctx, store.InstanceFilter{Marker: instanceUUID(99)})
		wantKind(t, err, placement.KindInvalid, "")

		// Paging through everything with limit 1 visits every instance once, in order,
		// also when several share a creation time (ties are broken by UUID).
		db.Now = func() time.Time { return time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC) }
		for i := 20; i > 17; i-- {
			mustCreateInstance(t, db, newInstance(i, "p1"))
		}
		var paged []string
		marker := ""
		for range 20 {
			page, err := db.ListInstances(ctx, store.InstanceFilter{Marker: marker, Limit: 1, IncludeDeleted: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page[0].UUID)
			marker = page[0].UUID
		}
		if diff := cmp.Diff(want(1, 2, 3, 4, 5, 6, 7, 18, 19, 20), paged); diff != "" {
			t.Errorf("paging (-want +got):\n%s", diff)
		}
	})
}

func TestUpdateInstance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock(db)
		in := mustCreateInstance(t, db, newInstance(1, "p1"))

		// Every field UpdateInstance writes is stored and read back; the others are not
		// written.
		u := in
		u.Task, u.Node, u.Locked, u.Attempts = baremetal.TaskDeploying, "node-a", true, 2
		u.Excluded = []string{"node-z", "node-y"}
		u.Fault = &baremetal.Fault{Code: "deploy_failed", Message: "node-z: deploy failed", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		u.Name, u.ProjectID, u.Spec.Image.Source = "renamed", "p9", "http://other"
		got, err := db.UpdateInstance(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		want := in
		want.Task, want.Node, want.Locked, want.Attempts = u.Task, u.Node, u.Locked, u.Attempts
		want.Excluded = []string{"node-y", "node-z"}
		want.Fault = u.Fault
		want.Generation = 2
		want.UpdatedAt = got.UpdatedAt
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("updated (-want +got):\n%s", diff)
		}
		if !got.UpdatedAt.After(in.UpdatedAt) {
			t.Errorf("updated_at %v not after %v", got.UpdatedAt, in.UpdatedAt)
		}
		if read, _ := db.Instance(ctx, in.UUID); !cmp.Equal(read, got) {
			t.Errorf("read back %+v; want %+v", read, got)
		}

		// A fault without a time is stamped now; clearing the fault clears it.
		u = got
		u.Fault = &baremetal.Fault{Code: "x", Message: "y"}
		if got, err = db.UpdateInstance(ctx, u); err != nil {
			t.Fatal(err)
		}
		if got.Fault == nil || !got.Fault.Time.Equal(got.UpdatedAt) {
			t.Errorf("fault %+v; want stamped at %v", got.Fault, got.UpdatedAt)
		}
		u = got
		u.Fault = nil
		if got, err = db.UpdateInstance(ctx, u); err != nil || got.Fault != nil {
			t.Fatalf("clear fault: %+v, %v", got.Fault, err)
		}

		// A stale generation: concurrent update, nothing written.
		stale := got
		stale.Generation--
		stale.Task = baremetal.TaskCleaning
		_, err = db.UpdateInstance(ctx, stale)
		if !errors.Is(err, placement.ErrConcurrentUpdate) {
			t.Fatalf("stale update: %v; want ErrConcurrentUpdate", err)
		}
		if read, _ := db.Instance(ctx, in.UUID); !cmp.Equal(read, got) {
			t.Errorf("stale update wrote %+v", read)
		}

		missing := got
		missing.UUID = instanceUUID(77)
		_, err = db.UpdateInstance(ctx, missing)
		wantKind(t, err, placement.KindNotFound, "")

		bad := got
		bad.State = "sleeping"
		_, err = db.UpdateInstance(ctx, bad)
		wantKind(t, err, placement.KindInvalid, "")
	})
}

// TestUpdateInstanceMoves checks every (from, to) pair against baremetal.CanMove: allowed
// moves are written, forbidden ones are KindConflict errors that write nothing.
func TestUpdateInstanceMoves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// The way to each state from building, along allowed moves.
		path := map[baremetal.State][]baremetal.State{
			baremetal.StateBuilding: nil,
			baremetal.StateActive:   {baremetal.StateActive},
			baremetal.StateError:    {baremetal.StateError},
			baremetal.StateDeleting: {baremetal.StateDeleting},
			baremetal.StateDeleted:  {baremetal.StateDeleting, baremetal.StateDeleted},
		}
		n := 0
		for _, from := range baremetal.States {
			for _, to := range baremetal.States {
				n++
				in := mustCreateInstance(t, db, newInstance(n, "p1"))
				for _, s := range path[from] {
					in.State = s
					var err error
					if in, err = db.UpdateInstance(ctx, in); err != nil {
						t.Fatalf("reaching %s: %v", from, err)
					}
				}
				next := in
				next.State = to
				next.Task = baremetal.TaskCleaning
				got, err := db.UpdateInstance(ctx, next)
				if baremetal.CanMove(from, to) {
					if err != nil || got.State != to || got.Generation != in.Generation+1 {
						t.Errorf("%s -> %s: state %s gen %d, %v; want written", from, to, got.State, got.Generation, err)
					}
					continue
				}
				if pe, ok := placement.AsError(err); !ok || pe.Kind != placement.KindConflict || errors.Is(err, placement.ErrConcurrentUpdate) {
					t.Errorf("%s -> %s: %v; want a KindConflict move error", from, to, err)
				}
				if read, _ := db.Instance(ctx, in.UUID); !cmp.Equal(read, in) {
					t.Errorf("%s -> %s: forbidden move wrote %+v", from, to, read)
				}
			}
		}
	})
}

// TestUpdateInstanceRace races N updates from the same generation: exactly one wins, the
// others are concurrent-update errors, and the record holds the winner's write.
func TestUpdateInstanceRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		in := mustCreateInstance(t, db, newInstance(1, "p1"))
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u := in
				u.Attempts = i + 1
				<-start
				_, errs[i] = db.UpdateInstance(ctx, u)
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Errorf("updates %d and %d both won", winner, i)
				}
				winner = i
			case !errors.Is(err, placement.ErrConcurrentUpdate):
				t.Errorf("update %d: %v; want ErrConcurrentUpdate", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no update won")
		}
		got, err := db.Instance(ctx, in.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Generation != 2 || got.Attempts != winner+1 {
			t.Errorf("record gen %d attempts %d; want 2 and the winner's %d", got.Generation, got.Attempts, winner+1)
		}
	})
}

// TestInstanceNodeUnique: no two instances hold one node, also when they race for it; a
// node released by one instance can be taken by another.
func TestInstanceNodeUnique(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n = 8
		ins := make([]baremetal.Instance, n)
		for i := range n {
			ins[i] = mustCreateInstance(t, db, newInstance(i+1, "p1"))
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u := ins[i]
				u.Node, u.Task = "node-x", baremetal.TaskLocking
				<-start
				ins[i], errs[i] = db.UpdateInstance(ctx, u)
			}()
		}
		close(start)
		wg.Wait()
		holder := -1
		for i, err := range errs {
			if err == nil {
				if holder >= 0 {
					t.Fatalf("instances %d and %d both hold node-x", holder, i)
				}
				holder = i
				continue
			}
			wantKind(t, err, placement.KindConflict, "")
		}
		if holder < 0 {
			t.Fatal("nobody holds node-x")
		}
		held, err := db.ListInstances(ctx, store.InstanceFilter{Node: "node-x"})
		if err != nil || len(held) != 1 || held[0].UUID != instanceUUID(holder+1) {
			t.Fatalf("holders of node-x: %v, %v", held, err)
		}

		// Release, then another instance takes the node.
		r := ins[holder]
		r.Node = ""
		if _, err := db.UpdateInstance(ctx, r); err != nil {
			t.Fatal(err)
		}
		other := (holder + 1) % n
		o, err := db.Instance(ctx, instanceUUID(other+1))
		if err != nil {
			t.Fatal(err)
		}
		o.Node = "node-x"
		if _, err := db.UpdateInstance(ctx, o); err != nil {
			t.Fatalf("take released node: %v", err)
		}
	})
}

// TestCreateInstanceRace: N identical creates of one UUID at once make one record; one
// reports it created, the others get it back; a differing create racing them is refused.
func TestCreateInstanceRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n = 12
		in := newInstance(1, "p1")
		other := in
		other.Name = "different"
		created := make([]bool, n)
		errs := make([]error, n+1)
		outs := make([]baremetal.Instance, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n + 1 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if i == n {
					_, _, errs[i] = db.CreateInstance(ctx, other)
					return
				}
				outs[i], created[i], errs[i] = db.CreateInstance(ctx, in)
			}()
		}
		close(start)
		wg.Wait()
		// The differing create either came first (and the others conflict) or after.
		if errs[n] == nil {
			for i := range n {
				wantKind(t, errs[i], placement.KindConflict, "")
			}
			return
		}
		wantKind(t, errs[n], placement.KindConflict, "")
		winners := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("create %d: %v", i, errs[i])
			}
			if created[i] {
				winners++
			}
			if outs[i].Generation != 1 || outs[i].Name != in.Name || !outs[i].CreatedAt.Equal(outs[0].CreatedAt) {
				t.Errorf("create %d returned %+v", i, outs[i])
			}
		}
		if winners != 1 {
			t.Errorf("%d creates report created; want 1", winners)
		}
		all, err := db.ListInstances(ctx, store.InstanceFilter{IncludeDeleted: true})
		if err != nil || len(all) != 1 {
			t.Errorf("records: %d, %v; want 1", len(all), err)
		}
	})
}

// TestDeleteInstance: a delete moves the record to deleting in one write whatever its
// generation, keeps the rest, is answered without a write when already deleting, and is
// not found for a deleted or missing instance.
func TestDeleteInstance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock(db)
		in := mustCreateInstance(t, db, newInstance(1, "p1"))
		u := in
		u.Task, u.Node, u.Locked = baremetal.TaskDeploying, "node-a", true
		u, err := db.UpdateInstance(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.DeleteInstance(ctx, in.UUID) // in.Generation is stale: no matter
		if err != nil {
			t.Fatal(err)
		}
		want := u
		want.State, want.Generation, want.UpdatedAt = baremetal.StateDeleting, u.Generation+1, got.UpdatedAt
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("deleted (-want +got):\n%s", diff)
		}
		again, err := db.DeleteInstance(ctx, in.UUID)
		if err != nil || again.Generation != got.Generation {
			t.Errorf("second delete: generation %d, %v; want %d, nil (no write)", again.Generation, err, got.Generation)
		}
		done := got
		done.State, done.Node, done.Locked = baremetal.StateDeleted, "", false
		if _, err := db.UpdateInstance(ctx, done); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{in.UUID, instanceUUID(99)} {
			if _, err := db.DeleteInstance(ctx, id); !errors.Is(err, placement.ErrNotFound) {
				t.Errorf("delete %s: %v; want not found", id, err)
			}
		}
	})
}
