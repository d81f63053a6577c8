package e2e

import (
	"ingot/internal/uuid"
	"net/http"
	"strings"
	"testing"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
)

// TestInvariantCheckCatches proves that checkInvariants, on which the crash test rests,
// reports each kind of breach: it breaks the fleet by hand, behind ingot's back, once per
// invariant, and wants the matching complaint.
func TestInvariantCheckCatches(t *testing.T) {
	s := ironictest.NewServer(t, ironictest.WithConductorGroups("ingot"))
	r := ironictest.Real{URL: s.URL, ConductorGroup: "ingot"}
	c := ironicClient(t, r)
	tn := enroll(t, c, r.ConductorGroup, 3, nil)
	p := startIngot(t, r.URL, r.ConductorGroup, ingotFlags...)
	a := newAPI("e2e-inv", p)
	waitCandidates(t, a, tn, 3)
	if err := checkInvariants(t.Context(), a, tn); err != nil {
		t.Fatalf("a fresh fleet: %v", err)
	}

	// An active instance: the baseline holds.
	id := uuid.New()
	if _, code, err := a.create(t.Context(), createBody(id, "inv", tn.class, "")); err != nil || code != http.StatusAccepted {
		t.Fatalf("create: %d %v", code, err)
	}
	in := waitSettled(t, a, []string{id}, settle, "active", "error")[id]
	if in.State != "active" {
		t.Fatalf("instance %s", describe(in))
	}
	if err := checkInvariants(t.Context(), a, tn); err != nil {
		t.Fatalf("one active instance: %v", err)
	}
	// Each breach is checked at once, before ingot's controller (which checks the fleet
	// at start and every 60 ticks, and watches provision changes only) could notice it.

	want := func(what, fragment string) {
		t.Helper()
		err := checkInvariants(t.Context(), a, tn)
		if err == nil || !strings.Contains(err.Error(), fragment) {
			t.Errorf("%s: got %v, want an error saying %q", what, err, fragment)
		}
	}
	var free string
	for _, n := range tn.uuids {
		if n != in.Node {
			free = n
			break
		}
	}

	// A node locked by a uuid that is no instance of ours.
	s.UpdateNode(free, func(n *ironic.Node) { n.InstanceUUID = uuid.New() })
	want("a foreign lock", "which is no live instance")
	s.UpdateNode(free, func(n *ironic.Node) { n.InstanceUUID = "" })

	// An allocation in Placement with no instance behind it.
	stray := uuid.New()
	if _, err := a.cl().Placement(t.Context(), http.MethodPut, "/allocations/"+stray, map[string]any{
		"allocations": map[string]any{free: map[string]any{"resources": map[string]int{tn.rc: 1}}},
		"project_id":  "e2e-inv", "user_id": "e2e", "consumer_generation": nil, "consumer_type": "INSTANCE",
	}, nil); err != nil {
		t.Fatal(err)
	}
	want("a stray allocation", "which is no live instance")
	if _, err := a.cl().Placement(t.Context(), http.MethodDelete, "/allocations/"+stray, nil, nil); err != nil {
		t.Fatal(err)
	}

	// The instance's node no longer names it in Ironic.
	s.UpdateNode(in.Node, func(n *ironic.Node) { n.InstanceUUID = "" })
	want("an instance holding a node it has not locked", "whose instance_uuid is")
	s.UpdateNode(in.Node, func(n *ironic.Node) { n.InstanceUUID = id })
	waitFor(t, 10*time.Second, "the fleet whole again", func() error { return checkInvariants(t.Context(), a, tn) })
}
