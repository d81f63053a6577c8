package placementapi

import (
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"ingot/internal/candidates"
	"ingot/internal/fleet"
	"ingot/internal/jsonstring"
)

// renderCandidates writes the GET /allocation_candidates body for the microversion: the
// allocation requests (a list before 1.12, a dict keyed by provider from 1.12, with mappings
// from 1.34) and the provider summaries (requested classes only before 1.27, traits from
// 1.17, parent and root from 1.29). It is written by hand because with thousands of
// candidates encoding dominates the request.
func renderCandidates(v *fleet.View, res candidates.Result, requested map[int64]bool, ver version) []byte {
	a := encodeAnswer(v, res, requested, ver, nil, nil)
	return a.appendBody(make([]byte, 0, a.bodyLen()), nil)
}

// encodeAnswer encodes an answer in parts (encodedAnswer). With memo, summaries from 1.29 are
// taken from and added to it; with cm, so are the allocation requests.
func encodeAnswer(v *fleet.View, res candidates.Result, requested map[int64]bool, ver version, memo *summaryMemo, cm *candidateMemo) *encodedAnswer {
	a := &encodedAnswer{summaries: make([][]byte, 0, len(res.Summaries)), truncated: res.Truncated()}
	if cm != nil {
		a.cands = cm.encode(v, res.Candidates, ver)
	} else {
		a.cands = make([][]byte, 0, len(res.Candidates))
		var buf []byte // back to back
		for i, c := range res.Candidates {
			start := len(buf)
			buf = appendCandidate(buf, v, c, ver)
			a.cands = append(a.cands, buf[start:len(buf):len(buf)])
			if i == 0 { // room for all, judging by the first
				buf = slices.Grow(buf, len(buf)*len(res.Candidates)*5/4)
			}
		}
	}
	for _, f := range a.cands {
		a.bytes += len(f)
	}
	var table []atomic.Pointer[summaryFragment]
	var catalog *fleet.Catalog
	if memo != nil && ver.at(29) {
		table, catalog = memo.table(v.Slots()), v.Catalog()
	}
	var buf []byte // summaries not kept in the memo, back to back
	for _, slot := range res.Summaries {
		var f []byte
		if table == nil {
			start := len(buf)
			buf = appendSummary(buf, v, slot, requested, ver)
			f = buf[start:len(buf):len(buf)]
		} else {
			p := v.Slot(slot)
			m := table[slot].Load()
			if m == nil || m.p != p || m.catalog != catalog {
				m = &summaryFragment{p: p, catalog: catalog, b: appendSummary(nil, v, slot, requested, ver)}
				table[slot].Store(m)
			}
			f = m.b
		}
		a.summaries = append(a.summaries, f)
		a.bytes += len(f)
	}
	return a
}

// encode returns the encoded candidates, reusing the encodings of the memo's previous
// answer; the memo then holds this answer's.
func (cm *candidateMemo) encode(v *fleet.View, cands []candidates.Candidate, ver version) [][]byte {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	if cm.catalog != v.Catalog() {
		cm.catalog, cm.frags = v.Catalog(), nil
	}
	out := make([][]byte, len(cands))
	next := make(map[*candidates.Alloc][]byte, len(cands))
	var buf []byte // new encodings, back to back
	for i, c := range cands {
		if len(c.Allocs) > 0 {
			if f, ok := cm.frags[&c.Allocs[0]]; ok {
				out[i] = f
				next[&c.Allocs[0]] = f
				continue
			}
		}
		start := len(buf)
		buf = appendCandidate(buf, v, c, ver)
		out[i] = buf[start:len(buf):len(buf)]
		if len(c.Allocs) > 0 {
			next[&c.Allocs[0]] = out[i]
		}
	}
	cm.frags = next
	return out
}

func appendCandidate(b []byte, v *fleet.View, c candidates.Candidate, ver version) []byte {
	// Allocs are sorted by slot, so each provider's classes are contiguous.
	if !ver.allocationsDict() {
		b = append(b, `{"allocations": [`...)
		for i := 0; i < len(c.Allocs); {
			j := i
			for j < len(c.Allocs) && c.Allocs[j].Slot == c.Allocs[i].Slot {
				j++
			}
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, `{"resource_provider": {"uuid": `...)
			b = jsonstring.Append(b, v.Slot(c.Allocs[i].Slot).UUID)
			b = append(b, `}, "resources": `...)
			b = appendResources(b, v, c.Allocs[i:j])
			b = append(b, '}')
			i = j
		}
		return append(b, "]}"...)
	}
	b = append(b, `{"allocations": {`...)
	for i := 0; i < len(c.Allocs); {
		j := i
		for j < len(c.Allocs) && c.Allocs[j].Slot == c.Allocs[i].Slot {
			j++
		}
		if i > 0 {
			b = append(b, ", "...)
		}
		b = jsonstring.Append(b, v.Slot(c.Allocs[i].Slot).UUID)
		b = append(b, `: {"resources": `...)
		b = appendResources(b, v, c.Allocs[i:j])
		b = append(b, '}')
		i = j
	}
	b = append(b, '}')
	if ver.mappings() {
		b = append(b, `, "mappings": {`...)
		for i, m := range c.Mappings {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = jsonstring.Append(b, m.Suffix)
			b = append(b, ": ["...)
			for k, slot := range m.Slots {
				if k > 0 {
					b = append(b, ", "...)
				}
				b = jsonstring.Append(b, v.Slot(slot).UUID)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendResources(b []byte, v *fleet.View, allocs []candidates.Alloc) []byte {
	b = append(b, '{')
	for i, a := range allocs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = jsonstring.Append(b, v.ClassName(a.Class))
		b = append(b, ": "...)
		b = strconv.AppendInt(b, a.N, 10)
	}
	return append(b, '}')
}

func appendSummary(b []byte, v *fleet.View, slot int32, requested map[int64]bool, ver version) []byte {
	p := v.Slot(slot)
	b = jsonstring.Append(b, p.UUID)
	b = append(b, `: {"resources": {`...)
	first := true
	for _, inv := range p.Inventories {
		if !ver.at(27) && !requested[inv.ClassID] {
			continue
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = jsonstring.Append(b, v.ClassName(inv.ClassID))
		b = append(b, `: {"capacity": `...)
		b = strconv.AppendInt(b, inv.Capacity(), 10)
		b = append(b, `, "used": `...)
		b = strconv.AppendInt(b, inv.Used, 10)
		b = append(b, '}')
	}
	b = append(b, '}')
	if ver.at(17) {
		b = append(b, `, "traits": [`...)
		// Trait id order, as upstream lists them (standard traits first).
		for i, t := range p.Traits {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = jsonstring.Append(b, v.TraitName(t))
		}
		b = append(b, ']')
	}
	if ver.at(29) {
		b = append(b, `, "parent_provider_uuid": `...)
		if p.ParentID == 0 {
			b = append(b, "null"...)
		} else {
			b = jsonstring.Append(b, v.ProviderUUID(p.ParentID))
		}
		b = append(b, `, "root_provider_uuid": `...)
		b = jsonstring.Append(b, v.ProviderUUID(p.RootID))
	}
	return append(b, '}')
}

// sendRawJSON writes an already encoded JSON body.
func (rq *request) sendRawJSON(status int, body []byte, modified time.Time) error {
	rq.startJSON(status, len(body), modified)
	_, err := rq.w.Write(body)
	return err
}

// startJSON writes the headers of a JSON body of length bytes, which the caller then writes.
func (rq *request) startJSON(status, length int, modified time.Time) {
	rq.w.Header().Set("Content-Type", "application/json")
	// A known length lets net/http write a large body in large pieces instead of in chunks.
	rq.w.Header().Set("Content-Length", strconv.Itoa(length))
	rq.cacheHeaders(modified)
	rq.writeVersionHeaders()
	rq.status = status
	rq.w.WriteHeader(status)
}
