package replica

import (
	"hash/fnv"
)

// Score is the rendezvous (highest random weight) score of replica for node: a 64-bit
// hash of both, mixed so that nearby ids do not give nearby scores.
func Score(node, replica string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(node))
	h.Write([]byte{0})
	h.Write([]byte(replica))
	return mix(h.Sum64())
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
