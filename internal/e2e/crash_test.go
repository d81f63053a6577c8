package e2e

import (
	"fmt"
	"ingot/internal/uuid"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"ingot/internal/ironic/ironictest"
)

// TestCrash kills ingot (SIGKILL) at random moments while it builds and deletes 100
// instances, restarts it on the same database, and after each restart, once nothing is
// building or deleting, checks the crash-safety invariants (checkInvariants) and that
// every instance is where its requests put it. At the end every node is free. It runs
// against the fake Ironic, and against the real one when INGOT_IRONIC_URL is set.
// INGOT_CRASH_SEED repeats a run (the seed is logged).
func TestCrash(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short: the crash test takes about 30 s on the fake Ironic")
		}
		// Deploys and tear-downs take time, as fake-hardware's with a deploy_delay, so
		// kills land in every phase.
		s := ironictest.NewServer(t, ironictest.WithConductorGroups("ingot"), ironictest.WithTiming(ironictest.Timing{
			Deploy: 600 * time.Millisecond, Teardown: 400 * time.Millisecond, Clean: 200 * time.Millisecond,
			Release: 20 * time.Millisecond}))
		r := ironictest.Real{URL: s.URL, ConductorGroup: "ingot"}
		runCrash(t, r)
	})
	t.Run("real", func(t *testing.T) {
		r := ironictest.RealIronic(t)
		runCrash(t, r)
	})
}

func runCrash(t *testing.T, r ironictest.Real) {
	const (
		nodes   = 20
		creates = 100
		maxLive = 15
	)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("INGOT_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("INGOT_CRASH_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	tn := enroll(t, ironicClient(t, r), r.ConductorGroup, nodes, nil)
	p := startIngot(t, r.URL, r.ConductorGroup, ingotFlags...)
	a := newAPI("e2e-crash", p)
	waitCandidates(t, a, tn, nodes)

	// want is each instance's asked-for end: active, or deleted once a delete was sent.
	want := map[string]string{}
	var order []string
	created, kills := 0, 0
	for cycle := 0; created < creates; cycle++ {
		// Choose this burst's requests: some creates, some deletes of live instances.
		var live []string
		for _, id := range order {
			if want[id] == "active" {
				live = append(live, id)
			}
		}
		k := min(3+rng.IntN(6), creates-created, maxLive-len(live)+rng.IntN(3))
		k = max(k, 0)
		rng.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
		dels := live[:rng.IntN(len(live)+1)]
		if len(live)+k-len(dels) > maxLive {
			dels = live[:min(len(live), len(live)+k-maxLive)]
		}
		type op struct {
			id     string
			create bool
			name   string
		}
		var ops []op
		for range k {
			id := uuid.New()
			order = append(order, id)
			want[id] = "active"
			created++
			ops = append(ops, op{id: id, create: true, name: fmt.Sprintf("crash-%d", created)})
		}
		for _, id := range dels {
			want[id] = "deleted"
			ops = append(ops, op{id: id})
		}
		send := func(o op) error {
			var code int
			var err error
			if o.create {
				_, code, err = a.create(t.Context(), createBody(o.id, o.name, tn.class, ""))
			} else {
				code, err = a.remove(t.Context(), o.id)
			}
			if err != nil {
				return err
			}
			if code != http.StatusAccepted && code != http.StatusOK {
				return fmt.Errorf("%d", code)
			}
			return nil
		}

		// Nodes freed by the last deletes may still be cleaning: a create finds a node only
		// once Ironic has it available again. A node that never comes back fails here.
		waitFor(t, settle, "free nodes for the burst", func() error {
			free, err := a.candidates(t.Context(), tn.rc)
			if err != nil {
				return err
			}
			if len(free) < k {
				states, _ := tn.nodeStates(t.Context())
				var busy []string
				for id, n := range states {
					if !free[id] {
						busy = append(busy, fmt.Sprintf("%s %s/%s instance %q", id[:8], n.ProvisionState, n.TargetProvisionState, n.InstanceUUID))
					}
				}
				slices.Sort(busy)
				return fmt.Errorf("%d free nodes for %d creates; the others: %v", len(free), k, busy)
			}
			return nil
		})

		// Send them while a killer waits a random moment (half the time within the first
		// 200 ms, when requests are being scheduled and claimed) and kills ingot.
		delay := time.Duration(rng.Int64N(int64(2500 * time.Millisecond)))
		if rng.IntN(2) == 0 {
			delay = time.Duration(rng.Int64N(int64(200 * time.Millisecond)))
		}
		var mu sync.Mutex
		var failed []op
		var wg sync.WaitGroup
		for _, o := range ops {
			wg.Go(func() {
				if err := send(o); err != nil {
					mu.Lock()
					failed = append(failed, o)
					mu.Unlock()
				}
			})
		}
		time.Sleep(delay)
		p.kill()
		kills++
		wg.Wait()
		p.start()

		// Requests that got no answer are sent again: a create with the same UUID and body
		// returns the instance if the first one was recorded.
		for _, o := range failed {
			waitFor(t, 30*time.Second, "resending a request after the restart", func() error { return send(o) })
		}
		if err := quiesce(t, a, order, want); err != nil {
			t.Fatalf("cycle %d (killed %v after the burst began; %d creates, %d deletes): %v",
				cycle, delay.Round(time.Millisecond), k, len(dels), err)
		}
		if err := checkInvariants(t.Context(), a, tn); err != nil {
			t.Fatalf("cycle %d (killed %v after the burst began): %v", cycle, delay.Round(time.Millisecond), err)
		}
	}
	t.Logf("%d creates, %d kills", created, kills)

	// Everything deleted: every node free, no allocation, a candidate again.
	for _, id := range order {
		if want[id] == "active" {
			want[id] = "deleted"
			if code, err := a.remove(t.Context(), id); err != nil || code != http.StatusAccepted {
				t.Fatalf("delete %s: %d %v", id, code, err)
			}
		}
	}
	if err := quiesce(t, a, order, want); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "every node free", func() error { return checkFree(t.Context(), a, tn, tn.uuids) })
	if err := checkInvariants(t.Context(), a, tn); err != nil {
		t.Fatal(err)
	}
}

// quiesce waits until no instance is building or deleting, then checks that each is in
// the state its requests asked for.
func quiesce(t *testing.T, a *api, order []string, want map[string]string) error {
	var got map[string]instance
	err := poll(t.Context(), settle, func() error {
		all, err := a.list(t.Context())
		if err != nil {
			return err
		}
		got = map[string]instance{}
		for _, in := range all {
			got[in.UUID] = in
		}
		for _, id := range order {
			in, ok := got[id]
			if !ok {
				// The list leaves deleted instances out; show still finds them.
				var code int
				in, code, err = a.get(t.Context(), id)
				if err != nil && code != http.StatusNotFound {
					return err
				}
				if code == http.StatusNotFound {
					in = instance{UUID: id, State: "absent"}
				}
				got[id] = in
			}
			if in.State == "building" || in.State == "deleting" {
				return fmt.Errorf("instance %s", describe(in))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var bad []string
	for _, id := range order {
		if got[id].State != want[id] {
			bad = append(bad, fmt.Sprintf("%s, want %s", describe(got[id]), want[id]))
		}
	}
	slices.Sort(bad)
	if len(bad) > 0 {
		return fmt.Errorf("%d instances not as asked: %v", len(bad), bad)
	}
	return nil
}
