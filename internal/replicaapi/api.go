// Package replicaapi serves the operators' views of replicas: GET /v1/replicas (every
// replica sharing the database, its lease as the database's clock sees it, and how many
// nodes it owns) and GET /v1/nodes/{uuid}/owner (a node's owner and epoch). Both are
// admin only (policy.ReplicaList, policy.NodeOwnerShow) and answer errors with
// Placement's bodies, like the instance API beside them.
package replicaapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/store"
)

// Prefixes the API is mounted at.
const (
	ReplicasPrefix = "/v1/replicas"
	NodesPrefix    = "/v1/nodes"
)

// Self is this process's own view of its replica.
type Self struct {
	ID, Address, Version string
}

// Options configure a Handler.
type Options struct {
	Policy       *policy.Enforcer
	Logger       *slog.Logger
	Authenticate placementapi.Authenticator
	// Self describes this process; on SQLite it is the only replica.
	Self Self
}

// Handler serves the replica views. It is safe for concurrent use.
type Handler struct {
	db   *store.DB
	opts Options
	log  *slog.Logger
}

// New returns the replica views over db.
func New(db *store.DB, opts Options) *Handler {
	h := &Handler{db: db, opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// Replica is one replica in GET /v1/replicas.
type Replica struct {
	ID             string   `json:"id"`
	Address        string   `json:"address"`
	Incarnation    string   `json:"incarnation"`
	Version        string   `json:"version"`
	ConductorGroup string   `json:"conductor_group"`
	Shards         []string `json:"shards"`
	Live           bool     `json:"live"`
	Draining       bool     `json:"draining"`
	// Seconds, by the database's clock (null on SQLite, which has no leases).
	AgeSeconds            *float64 `json:"age_seconds"`
	LeaseAgeSeconds       *float64 `json:"lease_age_seconds"`
	LeaseRemainingSeconds *float64 `json:"lease_remaining_seconds"`
	NodesOwned            int      `json:"nodes_owned"`
}

// NodeOwner is GET /v1/nodes/{uuid}/owner.
type NodeOwner struct {
	NodeUUID        string   `json:"node_uuid"`
	Replica         *string  `json:"replica"` // null: unowned
	Epoch           int64    `json:"epoch"`
	HandoffTo       *string  `json:"handoff_to"`
	OwnedForSeconds *float64 `json:"owned_for_seconds"`
	ConductorGroup  string   `json:"conductor_group"`
	Shard           string   `json:"shard"`
}

// ServeHTTP serves one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := placementapi.NewRequestID()
	w.Header().Set("X-Openstack-Request-Id", id)
	if err := h.serve(w, r); err != nil {
		if _, internal := placementapi.WriteError(w, r, err, id); internal {
			h.log.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "error", err)
		}
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	creds, err := placementapi.Authenticate(h.opts.Authenticate, r)
	if err != nil {
		return err
	}
	path := r.URL.Path
	if p := placementapi.TextProblem(path); p != "" {
		return placementapi.StatusError(http.StatusBadRequest, "Invalid URL path: it contains %s.", p)
	}
	var rule string
	var serve func(context.Context) (any, error)
	switch {
	case path == ReplicasPrefix || path == ReplicasPrefix+"/":
		rule, serve = policy.ReplicaList, h.replicas
	case strings.HasPrefix(path, NodesPrefix+"/") && strings.HasSuffix(path, "/owner") &&
		strings.Count(path[len(NodesPrefix)+1:], "/") == 1:
		raw := strings.TrimSuffix(path[len(NodesPrefix)+1:], "/owner")
		node, ok := placementapi.CanonicalUUID(raw)
		if !ok {
			return placementapi.StatusError(http.StatusBadRequest, "Malformed node UUID %q.", placementapi.TruncateText(raw, 64))
		}
		rule, serve = policy.NodeOwnerShow, func(ctx context.Context) (any, error) { return h.owner(ctx, node) }
	default:
		return placementapi.StatusError(http.StatusNotFound, "The resource could not be found.")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		return placementapi.StatusError(http.StatusMethodNotAllowed,
			"The method %s is not allowed for this resource; allowed: GET.", r.Method)
	}
	if err := h.opts.Policy.Authorize(rule, creds, policy.Target{"project_id": creds.ProjectID, "user_id": creds.UserID}); err != nil {
		return err
	}
	body, err := serve(r.Context())
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	return nil
}

func seconds(d interface{ Seconds() float64 }) *float64 {
	v := d.Seconds()
	return &v
}

func (h *Handler) replicas(ctx context.Context) (any, error) {
	out := []Replica{}
	if !h.db.Postgres() {
		// SQLite: this process is the only replica and owns every node it tracks.
		recs, err := h.db.IronicNodes(ctx)
		if err != nil {
			return nil, err
		}
		self := h.opts.Self
		out = append(out, Replica{ID: self.ID, Address: self.Address, Version: self.Version, Shards: []string{},
			Live: true, NodesOwned: len(recs)})
		return map[string]any{"replicas": out}, nil
	}
	rs, err := h.db.Replicas(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		shards := r.Shards
		if shards == nil {
			shards = []string{}
		}
		out = append(out, Replica{ID: r.ID, Address: r.Addr, Incarnation: r.Incarnation, Version: r.Version,
			ConductorGroup: r.ConductorGroup, Shards: shards, Live: r.Live, Draining: r.Draining,
			AgeSeconds: seconds(r.Age), LeaseAgeSeconds: seconds(r.LeaseAge),
			LeaseRemainingSeconds: seconds(r.LeaseRemaining), NodesOwned: r.Owned})
	}
	return map[string]any{"replicas": out}, nil
}

func (h *Handler) owner(ctx context.Context, node string) (any, error) {
	if !h.db.Postgres() {
		rec, err := h.db.IronicNode(ctx, node)
		if err != nil {
			return nil, err
		}
		id := h.opts.Self.ID
		return NodeOwner{NodeUUID: node, Replica: &id, ConductorGroup: rec.ConductorGroup, Shard: rec.Shard}, nil
	}
	o, err := h.db.NodeOwnerOf(ctx, node)
	if err != nil {
		return nil, err
	}
	out := NodeOwner{NodeUUID: o.Node, Epoch: o.Epoch, ConductorGroup: o.ConductorGroup, Shard: o.Shard}
	if o.Replica != "" {
		out.Replica, out.OwnedForSeconds = &o.Replica, seconds(o.OwnedFor)
	}
	if o.HandoffTo != "" {
		out.HandoffTo = &o.HandoffTo
	}
	return out, nil
}
