package ironic

import (
	"context"
	"fmt"
	"net/http"
)

// Traits cannot be set by PATCH or at node creation; these calls use
// /v1/nodes/{id}/traits (1.37). Ironic keeps at most 50 traits per node and accepts
// standard trait names and CUSTOM_[A-Z0-9_]+ (400 otherwise).

// GetTraits returns the node's traits, sorted. Errors: ErrNotFound. Idempotent.
func (c *Client) GetTraits(ctx context.Context, id string) ([]string, error) {
	v, err := c.negotiated(ctx)
	if err != nil {
		return nil, fmt.Errorf("get traits of %s: %w", id, err)
	}
	var body struct {
		Traits []string `json:"traits"`
	}
	err = c.do(ctx, request{method: http.MethodGet, path: nodePath(id, "traits"), idempotent: true, version: v},
		decodeInto(&body))
	if err != nil {
		return nil, fmt.Errorf("get traits of %s: %w", id, err)
	}
	return body.Traits, nil
}

// SetTraits replaces all of the node's traits (none when traits is empty). Idempotent.
// Errors: ErrNotFound; ErrInvalid (bad trait name, more than 50); ErrConflict (locked).
func (c *Client) SetTraits(ctx context.Context, id string, traits []string) error {
	v, err := c.negotiated(ctx)
	if err != nil {
		return fmt.Errorf("set traits of %s: %w", id, err)
	}
	if traits == nil {
		traits = []string{}
	}
	body := struct {
		Traits []string `json:"traits"`
	}{traits}
	err = c.do(ctx, request{method: http.MethodPut, path: nodePath(id, "traits"), body: body, idempotent: true, version: v}, nil)
	if err != nil {
		return fmt.Errorf("set traits of %s: %w", id, err)
	}
	return nil
}

// AddTrait adds one trait; adding a trait the node has succeeds. Idempotent. Errors:
// ErrNotFound; ErrInvalid (bad name); ErrConflict (locked).
func (c *Client) AddTrait(ctx context.Context, id, trait string) error {
	v, err := c.negotiated(ctx)
	if err != nil {
		return fmt.Errorf("add trait %s to %s: %w", trait, id, err)
	}
	err = c.do(ctx, request{method: http.MethodPut, path: nodePath(id, "traits", trait), idempotent: true, version: v}, nil)
	if err != nil {
		return fmt.Errorf("add trait %s to %s: %w", trait, id, err)
	}
	return nil
}

// RemoveTrait removes one trait. Errors: ErrNotFound when the node does not exist or does
// not have the trait (either way the node ends up without it); ErrConflict (locked).
// Retried after a broken connection, so a removal that did happen may report ErrNotFound.
func (c *Client) RemoveTrait(ctx context.Context, id, trait string) error {
	v, err := c.negotiated(ctx)
	if err != nil {
		return fmt.Errorf("remove trait %s from %s: %w", trait, id, err)
	}
	err = c.do(ctx, request{method: http.MethodDelete, path: nodePath(id, "traits", trait), idempotent: true, version: v}, nil)
	if err != nil {
		return fmt.Errorf("remove trait %s from %s: %w", trait, id, err)
	}
	return nil
}
