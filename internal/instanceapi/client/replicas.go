package client

import (
	"context"
	"net/http"
	"net/url"

	"ingot/internal/replicaapi"
)

// Replicas lists the replicas sharing the server's database (GET /v1/replicas; admin).
func (c *Client) Replicas(ctx context.Context) ([]replicaapi.Replica, error) {
	var out struct {
		Replicas []replicaapi.Replica `json:"replicas"`
	}
	if _, err := c.do(ctx, http.MethodGet, c.URL+replicaapi.ReplicasPrefix, nil, &out); err != nil {
		return nil, err
	}
	return out.Replicas, nil
}

// NodeOwner returns the replica owning the node and its epoch (GET
// /v1/nodes/{uuid}/owner; admin).
func (c *Client) NodeOwner(ctx context.Context, node string) (replicaapi.NodeOwner, error) {
	var out replicaapi.NodeOwner
	_, err := c.do(ctx, http.MethodGet, c.URL+replicaapi.NodesPrefix+"/"+url.PathEscape(node)+"/owner", nil, &out)
	return out, err
}
