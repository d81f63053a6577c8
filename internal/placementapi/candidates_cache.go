package placementapi

import (
	"io"
	"sync"
	"sync/atomic"

	"ingot/internal/candidates"
	"ingot/internal/fleet"
)

// An unlimited GET /allocation_candidates answer is a function of the view, the query string
// and the microversion; only its order is random. answerCache keeps the encoded answers of
// the latest view, so that clients asking the same question of an unchanged fleet (a
// scheduler under load) share one search, and each request only shuffles the encoded
// allocation requests. A request that reads a newer view starts a new generation; one that
// reads an older view computes alone. Entries are computed once: concurrent requests for the
// same key wait for the first.
type answerCache struct {
	mu      sync.Mutex
	view    *fleet.View
	entries map[answerKey]*answerEntry
	size    int // bytes held by entries
	// summaries reuses encoded provider summaries across views (summaryMemo).
	summaries summaryMemo
	// memos carry each query's search and encoded allocation requests from one view to the
	// next (queryMemo), for the most recent queries.
	memos map[answerKey]*queryMemo
}

// queryMemo is what one query's answer on one view leaves for the next view: the search's
// results per tree (candidates.Memo) and each allocation request's encoding.
type queryMemo struct {
	search candidates.Memo
	cands  candidateMemo
}

// maxQueryMemos bounds the queries whose memos are kept; past it they are all dropped.
const maxQueryMemos = 32

// memo returns the memo of key, creating it.
func (c *answerCache) memo(key answerKey) *queryMemo {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.memos[key]
	if m == nil {
		if c.memos == nil || len(c.memos) >= maxQueryMemos {
			c.memos = map[answerKey]*queryMemo{}
		}
		m = &queryMemo{}
		c.memos[key] = m
	}
	return m
}

// candidateMemo keeps the encoding of each allocation request of a query's latest answer,
// keyed by the first element of its Allocs: a search that reuses a tree's results (see
// candidates.Memo) returns the same, never modified, slices, whose providers' UUIDs are the
// same. Class names come from the catalog, so a new catalog empties the memo.
type candidateMemo struct {
	mu      sync.Mutex
	catalog *fleet.Catalog
	frags   map[*candidates.Alloc][]byte
}

// answerKey identifies an answer within one view.
type answerKey struct {
	query string
	ver   version
}

// answerEntry is an answer being computed (done open) or computed.
type answerEntry struct {
	done chan struct{}
	ans  *encodedAnswer // nil if the computation failed
}

// Bounds of one view's cache: queries past them are answered without caching.
const (
	maxCachedAnswers = 16
	maxCachedBytes   = 64 << 20
)

// answer returns the answer for key on view: a cached one, or compute's, cached when the
// view is the latest seen.
func (c *answerCache) answer(view *fleet.View, key answerKey, compute func() *encodedAnswer) *encodedAnswer {
	c.mu.Lock()
	if c.view != view {
		if c.view != nil && view.Seq < c.view.Seq {
			c.mu.Unlock()
			return compute()
		}
		c.view, c.entries, c.size = view, map[answerKey]*answerEntry{}, 0
	}
	if e := c.entries[key]; e != nil {
		c.mu.Unlock()
		<-e.done
		if e.ans != nil {
			return e.ans
		}
		return compute()
	}
	if len(c.entries) >= maxCachedAnswers || c.size >= maxCachedBytes {
		c.mu.Unlock()
		return compute()
	}
	e := &answerEntry{done: make(chan struct{})}
	c.entries[key] = e
	c.mu.Unlock()
	defer close(e.done) // also when compute panics: the waiters then compute alone
	ans := compute()
	e.ans = ans
	c.mu.Lock()
	if c.view == view {
		c.size += ans.size()
	}
	c.mu.Unlock()
	return ans
}

// encodedAnswer is an answer's JSON in parts: the allocation requests one by one, so that
// each response can list them in its own order, and the provider summaries. The parts are
// often shared with the memos (candidateMemo, summaryMemo) and never modified.
type encodedAnswer struct {
	cands     [][]byte // the allocation requests
	summaries [][]byte // the members of the provider_summaries object ("uuid": {...})
	bytes     int      // of all parts
	truncated bool     // the search stopped at its step budget
}

func (a *encodedAnswer) size() int { return a.bytes + 24*(len(a.cands)+len(a.summaries)) }

// count is the number of allocation requests.
func (a *encodedAnswer) count() int { return len(a.cands) }

// appendBody appends the response body, the allocation requests in the order given by
// order (a permutation of their indexes; nil for the order they were found in).
func (a *encodedAnswer) appendBody(b []byte, order []int) []byte {
	b = append(b, `{"allocation_requests": [`...)
	for i := range a.cands {
		k := i
		if order != nil {
			k = order[i]
		}
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, a.cands[k]...)
	}
	b = append(b, `], "provider_summaries": {`...)
	for i, f := range a.summaries {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, f...)
	}
	return append(b, "}}"...)
}

// bodyLen is the length of the body appendBody writes.
func (a *encodedAnswer) bodyLen() int {
	return len(`{"allocation_requests": [`) + len(`], "provider_summaries": {`) + len("}}") + a.bytes +
		2*max(0, len(a.cands)-1) + 2*max(0, len(a.summaries)-1)
}

// writeBody writes the body that appendBody makes to w, in writes of about len(stage)
// bytes, assembled in stage: the client reads the first piece while the next is assembled,
// and no buffer of the whole body is needed.
func (a *encodedAnswer) writeBody(w io.Writer, order []int, stage []byte) error {
	b := stage[:0]
	var err error
	put := func(p []byte) {
		if err != nil {
			return
		}
		if len(b)+len(p) > cap(b) {
			if len(b) > 0 {
				_, err = w.Write(b)
				b = b[:0]
			}
			if err == nil && len(p) > cap(b) {
				_, err = w.Write(p)
				return
			}
		}
		b = append(b, p...)
	}
	put([]byte(`{"allocation_requests": [`))
	sep := []byte(", ")
	for i := range a.cands {
		k := i
		if order != nil {
			k = order[i]
		}
		if i > 0 {
			put(sep)
		}
		put(a.cands[k])
	}
	put([]byte(`], "provider_summaries": {`))
	for i, f := range a.summaries {
		if i > 0 {
			put(sep)
		}
		put(f)
	}
	put([]byte("}}"))
	if err == nil && len(b) > 0 {
		_, err = w.Write(b)
	}
	return err
}

// stagePool recycles writeBody's staging buffers.
var stagePool = sync.Pool{New: func() any { b := make([]byte, 0, 256<<10); return &b }}

// summaryMemo keeps each provider's encoded summary (microversion 1.29 and later, where
// every summary lists all classes, traits, parent and root) by slot. A summary depends only
// on the provider, which a view never changes (a changed provider is a new object), and on
// the catalog's names, so an entry is reused while both are the same objects: after an
// allocation only the summaries of the providers it changed are encoded again. Entries are
// replaced atomically, so concurrent renders need no lock.
type summaryMemo struct {
	mu    sync.Mutex
	slots []atomic.Pointer[summaryFragment]
}

type summaryFragment struct {
	p       *fleet.Provider
	catalog *fleet.Catalog
	b       []byte
}

// table returns the memo's entries, grown to n slots.
func (m *summaryMemo) table(n int) []atomic.Pointer[summaryFragment] {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.slots) < n {
		grown := make([]atomic.Pointer[summaryFragment], n+n/4)
		for i := range m.slots {
			grown[i].Store(m.slots[i].Load())
		}
		m.slots = grown
	}
	return m.slots
}
