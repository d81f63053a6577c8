package chaos

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"ingot/internal/ironic/ironictest"
)

// TestCheck: the auditor finds each kind of violation in made-up histories and none in
// a clean one.
func TestCheck(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	grant := func(s int, node, from, to string, epoch int64, reason string) Event {
		return Event{Time: at(s), Msg: msgChange, Node: node, From: from, To: to, Epoch: epoch, Reason: reason}
	}
	write := func(s int, node, rep string, epoch int64, ok bool) Event {
		return Event{Time: at(s), Msg: msgWrite, Node: node, Replica: rep, Epoch: epoch, Accepted: ok}
	}
	call := func(s int, node, fence string, status int) ironictest.Mutation {
		return ironictest.Mutation{Received: at(s), Answered: at(s), Method: http.MethodPut,
			Path: "/v1/nodes/" + node + "/states/provision", Node: node, Fence: fence, Status: status}
	}
	clean := []Event{
		grant(1, "n1", "", "a", 1, "claim"),
		write(2, "n1", "a", 1, true),
		grant(3, "n1", "a", "b", 1, "offer"),
		grant(4, "n1", "a", "b", 2, "handoff"),
		write(5, "n1", "a", 1, false), // rejected: fine
		write(6, "n1", "b", 2, true),
	}
	cleanCalls := []ironictest.Mutation{call(2, "n1", "a/1", 202), call(5, "n1", "b/2", 202), call(6, "n1", "a/1", 409)}
	cases := []struct {
		name  string
		evs   []Event
		calls []ironictest.Mutation
		want  string // a violation containing this; "" for none
	}{
		{"clean", clean, cleanCalls, ""},
		{"stale write accepted", append(clean, write(7, "n1", "a", 1, true)), cleanCalls, "after one at epoch 2"},
		{"write never granted", append(clean, write(7, "n1", "c", 2, true)), cleanCalls, "never granted"},
		{"epoch granted twice", append(clean, grant(7, "n1", "b", "c", 2, "expired")), cleanCalls, "granted to b and again to c"},
		{"unfenced Ironic call", clean, append(cleanCalls, call(7, "n1", "", 202)), "without a fence"},
		{"old owner's call after takeover", clean, append(cleanCalls, call(7, "n1", "a/1", 202)), "after a call by b/2"},
		{"call after a later claim", clean, []ironictest.Mutation{call(5, "n1", "a/1", 202)}, "after b claimed it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := Check(append([]Event(nil), tc.evs...), append([]ironictest.Mutation(nil), tc.calls...))
			if tc.want == "" {
				if len(rep.Violations) > 0 {
					t.Errorf("violations in a clean history: %v", rep.Violations)
				}
				if rep.Accepted != 2 || rep.Rejected != 1 || rep.Changes != 2 || rep.Mutations != 2 {
					t.Errorf("counts %s, want 2 accepted, 1 rejected, 2 changes, 2 calls", rep)
				}
				return
			}
			for _, v := range rep.Violations {
				if strings.Contains(v, tc.want) {
					return
				}
			}
			t.Errorf("no violation %q among %v", tc.want, rep.Violations)
		})
	}
}

// TestHandoverGaps: an offer's gap runs to the node's next grant; one never taken is -1.
func TestHandoverGaps(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	evs := []Event{
		{Time: t0, Msg: msgChange, Node: "n1", From: "a", To: "b", Epoch: 1, Reason: "offer"},
		{Time: t0.Add(40 * time.Millisecond), Msg: msgChange, Node: "n1", From: "a", To: "b", Epoch: 2, Reason: "handoff"},
		{Time: t0, Msg: msgChange, Node: "n2", From: "a", To: "b", Epoch: 1, Reason: "offer"},
	}
	gaps := HandoverGaps(evs, t0, t0.Add(time.Second))
	if len(gaps) != 2 || gaps[0] != 40*time.Millisecond || gaps[1] != -1 {
		t.Errorf("gaps %v, want [40ms -1]", gaps)
	}
}
