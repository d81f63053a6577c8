package replica

import (
	"slices"
	"strings"
	"time"

	"ingot/internal/store"
)

// Member is what a scan knows of a replica: its row, read with the database's clock.
type Member = store.Replica

// Eligible reports whether replica r may own a node of the conductor group and shard: it
// is live, not draining, and its scope contains the node ("" group or no shards: any).
func Eligible(r Member, group, shard string) bool {
	if !r.Live || r.Draining {
		return false
	}
	if r.ConductorGroup != "" && !strings.EqualFold(r.ConductorGroup, group) {
		return false
	}
	return len(r.Shards) == 0 || slices.Contains(r.Shards, shard)
}

// Input is what Plan decides from: one scan's reading of the database.
type Input struct {
	Me string
	// Draining: this replica is leaving and hands every node over.
	Draining bool
	Members  []Member
	Owners   []store.NodeOwner
	// Busy nodes have a provision action in flight; they are not moved voluntarily.
	Busy map[string]bool
	// Warmup is how long a replica must have been registered before nodes are moved to it
	// voluntarily (it still claims unowned ones at once).
	Warmup time.Duration
	// Residence is how long a node stays with its owner before a voluntary move.
	Residence time.Duration
	// MaxMoves bounds the voluntary hand-offs of one scan (not a drain's).
	MaxMoves int
	// Waiting counts, per node, the scans for which it was claimable (unowned or its
	// owner expired) but not by this replica; after FallbackScans this replica claims it
	// if it may own it, in case its desired owner is not claiming. Offered counts the
	// scans a hand-off by this replica has been pending.
	Waiting, Offered map[string]int
}

// FallbackScans is how many scans a claimable node waits for its desired owner before any
// eligible replica claims it; a pending hand-off is withdrawn after as many scans.
const FallbackScans = 2

// Move is a hand-off: Node, owned at Epoch, to go to To.
type Move struct {
	Node  string
	Epoch int64
	To    string
}

// Actions is what a scan does.
type Actions struct {
	// Claim are nodes to claim (unowned, expired, handed to this replica).
	Claim []string
	// HandOff are this replica's nodes to hand over; Cancel its pending hand-offs to
	// withdraw (To is empty).
	HandOff, Cancel []Move
	// Owned are the nodes this replica keeps working on, with their epochs (not those it
	// is handing over).
	Owned map[string]int64
	// Waiting and Offered are the counters for the next scan.
	Waiting, Offered map[string]int
}

// Plan decides one scan: which nodes to claim, which to hand over, which this replica
// owns. The database decides: every claim and hand-off is a compare-and-swap, so a plan
// made from a reading that is already stale does no harm.
func Plan(in Input) Actions {
	out := Actions{Owned: map[string]int64{}, Waiting: map[string]int{}, Offered: map[string]int{}}
	members := make(map[string]Member, len(in.Members))
	var me Member
	found := false
	for _, m := range in.Members {
		members[m.ID] = m
		if m.ID == in.Me {
			me, found = m, true
		}
	}
	if !found {
		// Our row is gone (another incarnation's renewal will tell, or it was deleted):
		// no claims, no hand-offs; our writes stay fenced by the epochs.
		for _, o := range in.Owners {
			if o.Replica == in.Me && o.HandoffTo == "" {
				out.Owned[o.Node] = o.Epoch
			}
		}
		return out
	}
	if in.Draining {
		me.Draining = true
	}
	cands := make([]string, 0, len(in.Members))
	moves := 0
	for _, o := range in.Owners {
		desired := desiredOwner(o, in, &cands)
		if o.Replica == in.Me {
			if o.HandoffTo != "" {
				t, ok := members[o.HandoffTo]
				n := in.Offered[o.Node] + 1
				if !ok || !t.Live || n > FallbackScans {
					out.Cancel = append(out.Cancel, Move{Node: o.Node, Epoch: o.Epoch})
				} else {
					out.Offered[o.Node] = n
				}
				continue
			}
			mustGo := !Eligible(me, o.ConductorGroup, o.Shard)
			switch {
			case desired == "" || desired == in.Me:
			case mustGo && me.Draining:
				out.HandOff = append(out.HandOff, Move{Node: o.Node, Epoch: o.Epoch, To: desired})
				continue
			case moves >= in.MaxMoves:
			case mustGo, o.OwnedFor >= in.Residence && !in.Busy[o.Node]:
				moves++
				out.HandOff = append(out.HandOff, Move{Node: o.Node, Epoch: o.Epoch, To: desired})
				continue
			}
			out.Owned[o.Node] = o.Epoch
			continue
		}
		if o.HandoffTo == in.Me {
			out.Claim = append(out.Claim, o.Node)
			continue
		}
		if owner, ok := members[o.Replica]; o.Replica != "" && ok && owner.Live {
			continue
		}
		// Unowned, or the owner's lease has ended.
		switch {
		case desired == in.Me:
			out.Claim = append(out.Claim, o.Node)
		case Eligible(me, o.ConductorGroup, o.Shard):
			n := in.Waiting[o.Node] + 1
			if n > FallbackScans {
				out.Claim = append(out.Claim, o.Node)
			} else {
				out.Waiting[o.Node] = n
			}
		}
	}
	return out
}

// desiredOwner is the rendezvous choice for o among the replicas that may own it,
// preferring those past their warm-up when any is.
func desiredOwner(o store.NodeOwner, in Input, buf *[]string) string {
	cands := (*buf)[:0]
	warm := false
	for _, m := range in.Members {
		if !Eligible(m, o.ConductorGroup, o.Shard) || (m.ID == in.Me && in.Draining) {
			continue
		}
		w := m.Age >= in.Warmup
		if w && !warm {
			warm = true
			cands = cands[:0]
		}
		if w || !warm {
			cands = append(cands, m.ID)
		}
	}
	*buf = cands
	return Desired(o.Node, cands)
}
