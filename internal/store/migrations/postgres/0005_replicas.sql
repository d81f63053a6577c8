-- Replicas and node ownership (issue 14; ARCHITECTURE.md "Replicas"). Only PostgreSQL
-- runs several replicas; SQLite has the same tables, unused, so both schemas stay alike.
-- ingot_replicas: one row per live replica; lease_expires_at is judged only by the
-- database's clock (now()). conductor_group and shards are the replica's scope ('' = any;
-- shards one per line).
CREATE TABLE ingot_replicas (
    replica_id       TEXT        PRIMARY KEY,
    incarnation      TEXT        NOT NULL,
    lease_expires_at TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    renewed_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    draining         BOOLEAN     NOT NULL DEFAULT FALSE,
    version          TEXT        NOT NULL DEFAULT '',
    addr             TEXT        NOT NULL DEFAULT '',
    conductor_group  TEXT        NOT NULL DEFAULT '',
    shards           TEXT        NOT NULL DEFAULT ''
);
-- ingot_node_owner: one row per Ironic node some replica tracks. replica_id '' is
-- unowned. epoch is the fencing token: +1 on every change of owner. conductor_group and
-- shard are the node's, as last listed, so every replica can tell who may own it.
CREATE TABLE ingot_node_owner (
    node_uuid       TEXT        PRIMARY KEY,
    replica_id      TEXT        NOT NULL DEFAULT '',
    epoch           BIGINT      NOT NULL DEFAULT 0,
    owned_since     TIMESTAMPTZ,
    handoff_to      TEXT        NOT NULL DEFAULT '',
    conductor_group TEXT        NOT NULL DEFAULT '',
    shard           TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX ingot_node_owner_replica ON ingot_node_owner (replica_id);
CREATE INDEX ingot_node_owner_handoff ON ingot_node_owner (handoff_to) WHERE handoff_to <> '';
