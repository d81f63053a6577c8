package reconcile_test

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"ingot/internal/ironic"
	"ingot/internal/ironic/ironictest"
	"ingot/internal/reconcile"
	"ingot/internal/store"
	"ingot/internal/store/storetest"
)

// logRecord is one captured log line: its level, message and attributes as text.
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// captureHandler is a slog.Handler that keeps every record, for tests that check what an
// operator would read.
type captureHandler struct {
	mu      *sync.Mutex
	records *[]logRecord
	attrs   []slog.Attr
}

func newCapture() *captureHandler {
	return &captureHandler{mu: new(sync.Mutex), records: new([]logRecord)}
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	*h.records = append(*h.records, rec)
	h.mu.Unlock()
	return nil
}

func (h *captureHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &captureHandler{mu: h.mu, records: h.records, attrs: append(slices.Clone(h.attrs), attrs...)}
}

func (h *captureHandler) WithGroup(string) slog.Handler { return h }

// take returns the records logged since the last take.
func (h *captureHandler) take() []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := *h.records
	*h.records = nil
	return out
}

// find returns the records with message msg at level or above.
func find(recs []logRecord, level slog.Level, msg string) []logRecord {
	var out []logRecord
	for _, r := range recs {
		if r.msg == msg && r.level >= level {
			out = append(out, r)
		}
	}
	return out
}

// wantAttrs checks that r has these attributes with these values.
func wantAttrs(t *testing.T, r logRecord, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if r.attrs[k] != v {
			t.Errorf("%q: %s=%q; want %q (all: %v)", r.msg, k, r.attrs[k], v, r.attrs)
		}
	}
}

// TestPassLogs checks the lines an operator reads: one Info line per pass with its counts
// (never one per node for routine changes), a node's line at Info only when it left or
// when its provider was healed after a hand edit, and the tracker's Status.
func TestPassLogs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := ironictest.NewServer(t)
		ids := s.AddNodes(30, fleetNode)
		logs := newCapture()
		r := newReconciler(t, s, db, reconcile.Config{Logger: slog.New(logs)})
		if st := r.Status(); st.Passes != 0 {
			t.Fatalf("Status before any pass = %+v", st)
		}

		mustPass(t, r)
		recs := logs.take()
		passes := find(recs, slog.LevelInfo, "tracker pass")
		if len(passes) != 1 {
			t.Fatalf("first pass: %d Info pass lines; want 1", len(passes))
		}
		wantAttrs(t, passes[0], map[string]string{"nodes": "30", "changes": "30", "create": "30", "errors": "0"})
		for _, k := range []string{"duration", "list_duration"} {
			if _, err := time.ParseDuration(passes[0].attrs[k]); err != nil {
				t.Errorf("pass line's %s = %q: %v", k, passes[0].attrs[k], err)
			}
		}
		if n := len(find(recs, slog.LevelInfo, "node change")); n != 0 {
			t.Errorf("first pass logged %d node lines at Info; want none (the pass line counts them)", n)
		}
		if n := len(find(recs, slog.LevelDebug, "node change")); n != 30 {
			t.Errorf("first pass logged %d node lines at Debug; want 30", n)
		}
		if st := r.Status(); st.Passes != 1 || st.LastStats.Changes != 30 || st.LastError != nil || st.LastPass.IsZero() {
			t.Errorf("Status after the first pass = %+v", st)
		}

		// Nothing changed: the pass line alone, saying so.
		mustPass(t, r)
		recs = logs.take()
		if len(recs) != 1 || recs[0].msg != "tracker pass" || recs[0].level != slog.LevelInfo {
			t.Fatalf("unchanged pass logged %+v; want only its pass line", recs)
		}
		wantAttrs(t, recs[0], map[string]string{"changes": "0", "nodes": "30"})

		// A provider deleted by hand and another's inventory edited by hand are healed, each
		// said at Info; a node in maintenance is a routine update (Debug).
		ctx := t.Context()
		if err := db.DeleteProvider(ctx, ids[1]); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteInventories(ctx, ids[2]); err != nil {
			t.Fatal(err)
		}
		s.UpdateNode(ids[3], func(n *ironic.Node) { n.Maintenance = true })
		mustPass(t, r)
		recs = logs.take()
		healed := find(recs, slog.LevelInfo, "node change")
		if len(healed) != 2 {
			t.Fatalf("healing pass: Info node lines %+v; want 2", healed)
		}
		for _, h := range healed {
			if h.attrs["healed"] != "true" || (h.attrs["node_uuid"] != ids[1] && h.attrs["node_uuid"] != ids[2]) {
				t.Errorf("Info node line %v; want the healed nodes %s and %s", h.attrs, ids[1], ids[2])
			}
		}
		wantAttrs(t, find(recs, slog.LevelInfo, "tracker pass")[0], map[string]string{"changes": "3", "healed": "2", "create": "1", "update": "2"})

		// A node gone from Ironic: its deletion is said at Info.
		s.RemoveNode(ids[4])
		mustPass(t, r)
		recs = logs.take()
		gone := find(recs, slog.LevelInfo, "node change")
		if len(gone) != 1 {
			t.Fatalf("deletion pass: Info node lines %+v; want 1", gone)
		}
		wantAttrs(t, gone[0], map[string]string{"node_uuid": ids[4], "action": "delete"})
		wantAttrs(t, find(recs, slog.LevelInfo, "tracker pass")[0], map[string]string{"delete": "1", "lookups": "1"})

		// A failed pass counts in Status and leaves Passes alone.
		s.Inject(ironictest.Fault{Method: http.MethodGet, Path: "/v1/nodes", Times: -1, Status: http.StatusServiceUnavailable})
		if _, err := r.Pass(ctx); err == nil {
			t.Fatal("Pass succeeded against a failing Ironic")
		}
		if st := r.Status(); st.Passes != 4 || st.Failures != 1 || st.LastError == nil {
			t.Errorf("Status after a failed pass = %+v; want 4 passes, 1 failure with its error", st)
		}
		s.ClearFaults()
		mustPass(t, r)
		if st := r.Status(); st.Passes != 5 || st.Failures != 0 || st.LastError != nil {
			t.Errorf("Status after recovering = %+v", st)
		}
	})
}

// TestPassProgress makes every phase "long" (a cadence of 1ns) and checks the progress
// lines of a first pass: the listing and the writing, with done, total and a final line.
func TestPassProgress(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	s := ironictest.NewServer(t)
	s.AddNodes(250, fleetNode)
	logs := newCapture()
	r := newReconciler(t, s, db, reconcile.Config{Logger: slog.New(logs), ProgressEvery: time.Nanosecond, BatchSize: 100})
	mustPass(t, r)
	recs := logs.take()
	var writing []logRecord
	for _, rec := range find(recs, slog.LevelInfo, "tracker pass progress") {
		if rec.attrs["phase"] == "writing" {
			writing = append(writing, rec)
		}
	}
	// Three batches of at most 100: a line after each.
	if len(writing) != 3 {
		t.Fatalf("writing progress lines %+v; want 3", writing)
	}
	for i, want := range []string{"100", "200", "250"} {
		wantAttrs(t, writing[i], map[string]string{"done": want, "total": "250"})
		if _, ok := writing[i].attrs["rate"]; !ok {
			t.Errorf("progress line %v has no rate", writing[i].attrs)
		}
	}
	done := find(recs, slog.LevelInfo, "tracker pass progress done")
	phases := map[string]string{}
	for _, d := range done {
		phases[d.attrs["phase"]] = d.attrs["done"]
	}
	if phases["listing"] != "250" || phases["writing"] != "250" {
		t.Errorf("final progress lines by phase %v; want listing and writing at 250", phases)
	}
	// The pass's own line comes last, after its phases' final lines.
	if last := recs[len(recs)-1]; last.msg != "tracker pass" {
		t.Errorf("last line %q; want the pass line after the progress lines", last.msg)
	}
	if n := len(find(recs, slog.LevelInfo, "tracker pass progress")); n < 250+3 {
		t.Errorf("%d progress lines; want one per listed node and per batch at this cadence", n)
	}
}
