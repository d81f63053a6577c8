package health

import (
	"strconv"
	"strings"
)

// negotiate returns the offer (a "type/subtype") the Accept header prefers, as webob's
// acceptable_offers chooses: each offer takes the quality of the most specific media
// range that matches it (type/subtype, then type/*, then */*); the best quality wins, ties
// go to the earlier offer; quality 0 refuses. With no header, a header it cannot parse or
// no acceptable offer, it returns the first offer (oslo's default).
func negotiate(accept string, offers []string) string {
	type mediaRange struct {
		typ, sub string
		q        float64
	}
	var ranges []mediaRange
	for part := range strings.SplitSeq(accept, ",") {
		params := strings.Split(part, ";")
		typ, sub, ok := strings.Cut(strings.ToLower(strings.TrimSpace(params[0])), "/")
		if !ok || typ == "" || sub == "" {
			if strings.TrimSpace(part) == "" {
				continue
			}
			return offers[0] // invalid header: every offer is acceptable
		}
		mr := mediaRange{typ: typ, sub: sub, q: 1}
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || q < 0 || q > 1 {
					return offers[0]
				}
				mr.q = q
			}
		}
		ranges = append(ranges, mr)
	}
	if len(ranges) == 0 {
		return offers[0]
	}
	best, bestQ := offers[0], 0.0
	for _, o := range offers {
		typ, sub, _ := strings.Cut(o, "/")
		q, spec := 0.0, -1
		for _, mr := range ranges {
			s := -1
			switch {
			case mr.typ == typ && mr.sub == sub:
				s = 2
			case mr.typ == typ && mr.sub == "*":
				s = 1
			case mr.typ == "*" && mr.sub == "*":
				s = 0
			}
			if s > spec {
				spec, q = s, mr.q
			}
		}
		if q > bestQ {
			best, bestQ = o, q
		}
	}
	return best
}
