package replica

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"ingot/internal/store"
)

// Score is the rendezvous (highest random weight) score of replica for node: a 64-bit
// hash of both, mixed so that nearby ids do not give nearby scores.
func Score(node, replica string) uint64 {
	return mix(fnv1a(nodeHash(node), replica))
}

// nodeHash is FNV-1a of node and a NUL, the prefix of every Score of node.
func nodeHash(node string) uint64 {
	return fnv1a(fnv1a(fnvOffset, node), "\x00")
}

const fnvOffset, fnvPrime = 14695981039346656037, 1099511628211

// fnv1a continues the FNV-1a hash h over s (hash/fnv's New64a, without its allocation
// and copies).
func fnv1a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix is splitmix64's finalizer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Desired returns the replica among candidates with the highest score for node ("" when
// there is none); ties, which need a 64-bit collision, go to the smaller id. Removing a
// candidate moves only the nodes it was desired for; adding one moves about 1/(n+1) of
// them, all to it.
func Desired(node string, candidates []string) string {
	best, bestScore := "", uint64(0)
	for _, r := range candidates {
		s := Score(node, r)
		if best == "" || s > bestScore || (s == bestScore && r < best) {
			best, bestScore = r, s
		}
	}
	return best
}

// Eps is the bounded load's slack: no replica is assigned more than
// ceil((1+Eps) x nodes / replicas) nodes unless scopes leave a node no other choice.
const Eps = 0.02

// Assign is the desired owner of every node (consistent hashing with bounded loads,
// Mirrokni, Thorup and Zadimoghaddam 2018): the nodes in the order of a hash of their
// UUID, each to its highest-scoring candidate replica with fewer than Cap nodes, or, when
// every candidate is full (scopes), to its highest-scoring one. A node's candidates are
// the members Eligible for its scope, other than leaving (this replica when it drains),
// and only those registered for at least warmup when any of these is. Nodes without a
// candidate are absent. It is pure and deterministic: replicas reading the same nodes
// and members compute the same assignment. It costs O(nodes x replicas) plus a sort.
func Assign(nodes []store.NodeScope, members []Member, warmup time.Duration, leaving string) map[string]string {
	type scope struct{ group, shard string }
	cands := map[scope][]int{} // indices into members, by scope
	used := make([]bool, len(members))
	type item struct {
		key   uint64
		node  string
		cands []int
	}
	order := make([]item, 0, len(nodes))
	for _, n := range nodes {
		k := scope{strings.ToLower(n.ConductorGroup), n.Shard}
		cs, ok := cands[k]
		if !ok {
			warm := false
			for i, m := range members {
				if m.ID == leaving || !Eligible(m, n.ConductorGroup, n.Shard) {
					continue
				}
				if w := m.Age >= warmup; w && !warm {
					warm, cs = true, cs[:0]
				}
				if m.Age >= warmup || !warm {
					cs = append(cs, i)
				}
			}
			cands[k] = cs
		}
		if len(cs) == 0 {
			continue
		}
		for _, i := range cs {
			used[i] = true
		}
		order = append(order, item{key: nodeKey(n.Node), node: n.Node, cands: cs})
	}
	r := 0
	for _, u := range used {
		if u {
			r++
		}
	}
	out := make(map[string]string, len(order))
	if r == 0 {
		return out
	}
	slices.SortFunc(order, func(a, b item) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.node, b.node)
	})
	// A node listed twice counts once (it sorts next to itself).
	order = slices.CompactFunc(order, func(a, b item) bool { return a.node == b.node })
	limit := Cap(len(order), r)
	load := make([]int, len(members))
	for _, it := range order {
		top, free := -1, -1
		var topScore, freeScore uint64
		prefix := nodeHash(it.node)
		for _, i := range it.cands {
			s := mix(fnv1a(prefix, members[i].ID))
			if top < 0 || better(s, members[i].ID, topScore, members[top].ID) {
				top, topScore = i, s
			}
			if load[i] < limit && (free < 0 || better(s, members[i].ID, freeScore, members[free].ID)) {
				free, freeScore = i, s
			}
		}
		if free < 0 {
			free = top
		}
		load[free]++
		out[it.node] = members[free].ID
	}
	return out
}

// Cap is the most nodes Assign gives one of r replicas sharing n nodes (scopes aside).
func Cap(n, r int) int {
	return int(math.Ceil(float64(n) * (1 + Eps) / float64(r)))
}

// better orders rendezvous scores as Desired does: higher wins, ties to the smaller id.
func better(s uint64, id string, than uint64, thanID string) bool {
	return s > than || (s == than && id < thanID)
}

// nodeKey orders the nodes for Assign: a hash of the UUID, so that the order is
// unrelated to the UUIDs' and to any replica's scores.
func nodeKey(node string) uint64 {
	return mix(fnv1a(fnv1a(fnvOffset, "\x01"), node))
}
