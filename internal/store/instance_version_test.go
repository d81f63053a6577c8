package store_test

import (
	"context"
	"testing"

	"ingot/internal/baremetal"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// TestInstancesVersion checks that the version moves with every create and update, and
// not without one.
func TestInstancesVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		version := func() store.InstancesVersion {
			t.Helper()
			v, err := db.InstancesVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		v0 := version()
		if v0 != (store.InstancesVersion{}) {
			t.Errorf("empty: %+v", v0)
		}
		in := mustCreateInstance(t, db, newInstance(1, "p1"))
		v1 := version()
		if v1 == v0 || v1.Count != 1 {
			t.Errorf("after a create: %+v (before %+v)", v1, v0)
		}
		if version() != v1 {
			t.Error("the version moved without a write")
		}
		in.Task = baremetal.TaskLocking
		if _, err := db.UpdateInstance(ctx, in); err != nil {
			t.Fatal(err)
		}
		if v2 := version(); v2 == v1 || v2.Count != 1 {
			t.Errorf("after an update: %+v (before %+v)", v2, v1)
		}
	})
}
