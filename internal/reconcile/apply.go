package reconcile

import (
	"context"
	"errors"

	"ingot/internal/placement"
	"ingot/internal/store"
)

// DefaultBatchSize is how many nodes' changes Apply writes per transaction on SQLite,
// where every write goes through one writer, so a batch delays API writes by its duration:
// 100 new providers take about 10 ms. PostgreSQL writers run side by side (a batch locks
// only its own providers), so there batches are larger, saving commits and round trips.
const (
	DefaultBatchSize         = 100
	DefaultPostgresBatchSize = 500
)

// Result is what Apply did with each change.
type Result struct {
	Applied   []Change
	Conflicts []Failure // lost a race (generation, or state changed meanwhile): plan them again
	Fenced    []Failure // the replica no longer owns the node (store.ErrFenced): never applied
	Failed    []Failure
}

// Failure is a change that was not applied, and why.
type Failure struct {
	Change Change
	Err    error
}

// Apply writes the changes through the store (fenced by the store.Fence ctx carries, if
// any), batchSize nodes per transaction (<= 0 means
// DefaultBatchSize), each node all-or-nothing. It never touches allocations. A failure of
// one node's change is reported in the Result and does not stop the others; an error is
// returned only when the database itself failed (the rest was not attempted).
func Apply(ctx context.Context, db *store.DB, changes []Change, batchSize int) (Result, error) {
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	batchSize = min(batchSize, store.MaxNodeWrites)
	var res Result
	for start := 0; start < len(changes); start += batchSize {
		batch := changes[start:min(start+batchSize, len(changes))]
		ws := make([]store.NodeWrite, len(batch))
		for i := range batch {
			ws[i] = batch[i].Write
		}
		errs, err := db.WriteNodes(ctx, ws)
		if err != nil {
			return res, err
		}
		for i, err := range errs {
			switch {
			case err == nil:
				res.Applied = append(res.Applied, batch[i])
			case errors.Is(err, store.ErrFenced):
				res.Fenced = append(res.Fenced, Failure{Change: batch[i], Err: err})
			case raced(err):
				res.Conflicts = append(res.Conflicts, Failure{Change: batch[i], Err: err})
			default:
				res.Failed = append(res.Failed, Failure{Change: batch[i], Err: err})
			}
		}
	}
	return res, nil
}

// raced reports whether a write failed because the state it was planned from changed
// meanwhile, so that planning again from a fresh picture will do something else: a stale
// generation, a provider deleted, created or allocated from concurrently.
func raced(err error) bool {
	pe, ok := placement.AsError(err)
	if !ok {
		return false
	}
	switch {
	case errors.Is(err, placement.ErrConcurrentUpdate), pe.Kind == placement.KindNotFound:
		return true
	case pe.Code == placement.CodeProviderInUse, pe.Code == placement.CodeInventoryInUse,
		pe.Code == placement.CodeDuplicateName:
		return true
	}
	return false
}
