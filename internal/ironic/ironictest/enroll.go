package ironictest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"ingot/internal/ironic"
)

// NodeSpec describes a node for Enroll.
type NodeSpec struct {
	ironic.NodeCreate
	Traits []string // set after creation (Ironic refuses them at creation)
	Owner  string   // patched after creation (Ironic under noauth refuses it at creation)
}

// Enroll creates the nodes through c, or finds them by name if they exist, and brings
// them to available the way an operator does with fake-hardware: create, set traits and
// owner, power off (fake power reports null until a power action), manage, wait for
// manageable, provide, wait for available. It works against the fake and a real Ironic,
// runs workers calls at a time (default 8), retries 409 (node locked) with backoff, and
// returns the UUIDs in spec order. Nodes already past a step skip it.
func Enroll(ctx context.Context, c *ironic.Client, specs []NodeSpec, workers int) ([]string, error) {
	if workers <= 0 {
		workers = 8
	}
	existing := map[string]ironic.Node{}
	all, err := c.ListNodes(ctx, ironic.ListOptions{Fields: []string{"name", "provision_state", "power_state"}})
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	for _, n := range all {
		if n.Name != "" {
			existing[n.Name] = n
		}
	}

	uuids := make([]string, len(specs))
	run := func(what string, fn func(i int) error) error {
		return parallel(ctx, len(specs), workers, func(i int) error {
			if err := fn(i); err != nil {
				return fmt.Errorf("enroll: %s %s: %w", what, specs[i].Name, err)
			}
			return nil
		})
	}
	err = run("create", func(i int) error {
		if n, ok := existing[specs[i].Name]; ok && specs[i].Name != "" {
			uuids[i] = n.UUID
			return nil
		}
		n, err := c.CreateNode(ctx, specs[i].NodeCreate)
		if err != nil {
			return err
		}
		uuids[i] = n.UUID
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = run("prepare", func(i int) error {
		id := uuids[i]
		if specs[i].Traits != nil {
			if err := retryLocked(ctx, func() error { return c.SetTraits(ctx, id, specs[i].Traits) }); err != nil {
				return err
			}
		}
		if specs[i].Owner != "" {
			if err := retryLocked(ctx, func() error {
				_, err := c.PatchNode(ctx, id, []ironic.PatchOp{ironic.AddOp("/owner", specs[i].Owner)})
				return err
			}); err != nil {
				return err
			}
		}
		if n, ok := existing[specs[i].Name]; ok && n.PowerState != "" {
			return nil
		}
		return retryLocked(ctx, func() error { return c.SetPowerState(ctx, id, ironic.PowerOff, 0) })
	})
	if err != nil {
		return nil, err
	}
	if err := moveTo(ctx, c, uuids, workers, ironic.ProvisionStateEnroll, ironic.TargetManage, ironic.ProvisionStateManageable); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	if err := moveTo(ctx, c, uuids, workers, ironic.ProvisionStateManageable, ironic.TargetProvide, ironic.ProvisionStateAvailable); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	return uuids, nil
}

// moveTo sends target to the nodes in state from and waits until all of them reach want.
func moveTo(ctx context.Context, c *ironic.Client, uuids []string, workers int, from, target, want string) error {
	states, err := provisionStates(ctx, c)
	if err != nil {
		return err
	}
	var todo []string
	for _, id := range uuids {
		if states[id].ProvisionState == from {
			todo = append(todo, id)
		}
	}
	err = parallel(ctx, len(todo), workers, func(i int) error {
		return retryLocked(ctx, func() error {
			return c.SetProvisionState(ctx, todo[i], target, ironic.ProvisionOptions{})
		})
	})
	if err != nil {
		return err
	}
	return WaitForState(ctx, c, todo, want)
}

// WaitForState polls the node list until every node in uuids is in provision state want
// with no target and no lock: a real Ironic shows the new state a moment before its
// conductor releases the node, and a write in that moment gets 409. It fails as soon as
// a node lands in a failed state or in "error".
func WaitForState(ctx context.Context, c *ironic.Client, uuids []string, want string) error {
	delay := 20 * time.Millisecond
	for {
		t0 := time.Now()
		states, err := provisionStates(ctx, c)
		if err != nil {
			return err
		}
		// Listing costs a real Ironic's single core about 0.3 ms per node: poll no more
		// than a quarter of the time, so the polls do not slow the transitions down.
		delay = max(delay, 3*time.Since(t0))
		done := true
		for _, id := range uuids {
			n, ok := states[id]
			switch {
			case !ok:
				return fmt.Errorf("wait for %s: node %s disappeared", want, id)
			case n.ProvisionState == want && n.TargetProvisionState == "" && n.Reservation == "":
			case n.ProvisionState == ironic.ProvisionStateError || strings.HasSuffix(n.ProvisionState, " failed"):
				return fmt.Errorf("wait for %s: node %s is %s: %s", want, id, n.ProvisionState, n.LastError)
			default:
				done = false
			}
		}
		if done {
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wait for %s: %w", want, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, max(time.Second, delay))
	}
}

func provisionStates(ctx context.Context, c *ironic.Client) (map[string]ironic.Node, error) {
	nodes, err := c.ListNodes(ctx, ironic.ListOptions{
		Fields: []string{"provision_state", "target_provision_state", "reservation", "last_error"}})
	if err != nil {
		return nil, err
	}
	m := make(map[string]ironic.Node, len(nodes))
	for _, n := range nodes {
		m[n.UUID] = n
	}
	return m, nil
}

// retryLocked runs fn until it does not fail with ironic.ErrConflict (the node is locked
// by a conductor for a moment after each action), for up to about a minute.
func retryLocked(ctx context.Context, fn func() error) error {
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := fn()
		if !errors.Is(err, ironic.ErrConflict) || attempt >= 60 {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(2*delay, time.Second)
	}
}

// parallel runs fn(0..n-1) on up to workers goroutines and returns the first error; it
// stops handing out work after an error.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		next  int
		first error
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if first != nil || next >= n || ctx.Err() != nil {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i, ok := take()
				if !ok {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
