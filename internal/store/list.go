package store

import (
	"context"
	"fmt"

	"ingot/internal/fleet"
)

// ListProviders returns the providers matching f, ordered by creation. Unknown classes in
// Resources and unknown traits are KindInvalid errors worded as upstream words them.
func (db *DB) ListProviders(ctx context.Context, f fleet.ProviderFilter) ([]*fleet.Provider, *fleet.View, error) {
	v, err := db.View(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list providers: %w", err)
	}
	ps, err := v.Filter(f)
	if err != nil {
		return nil, nil, fmt.Errorf("list providers: %w", err)
	}
	return ps, v, nil
}
