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
	// Nodes is every node with an ownership row and its scope: the set Assign spreads
	// (rows of Owners missing from it are added; nil: Owners alone).
	Nodes []store.NodeScope
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
	leaving := ""
	if in.Draining {
		leaving = in.Me
	}
	assigned := Assign(nodeSet(in), in.Members, in.Warmup, leaving)
	moves := 0
	for _, o := range in.Owners {
		desired := assigned[o.Node]
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

// nodeSet is in.Nodes with the scopes of in.Owners' rows (read by this scan, so newer)
// and the rows it lacks.
func nodeSet(in Input) []store.NodeScope {
	if len(in.Nodes) == 0 {
		out := make([]store.NodeScope, len(in.Owners))
		for i, o := range in.Owners {
			out[i] = store.NodeScope{Node: o.Node, ConductorGroup: o.ConductorGroup, Shard: o.Shard}
		}
		return out
	}
	at := make(map[string]int, len(in.Nodes))
	out := slices.Clone(in.Nodes)
	for i, n := range out {
		at[n.Node] = i
	}
	for _, o := range in.Owners {
		n := store.NodeScope{Node: o.Node, ConductorGroup: o.ConductorGroup, Shard: o.Shard}
		if i, ok := at[o.Node]; ok {
			out[i] = n
		} else {
			out = append(out, n)
		}
	}
	return out
}
