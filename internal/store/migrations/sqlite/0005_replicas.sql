-- Replicas and node ownership (issue 14). SQLite runs exactly one replica (a lock file
-- refuses a second process), so these tables stay empty; they exist so that both
-- dialects' schemas stay alike. See the PostgreSQL migration for the columns.
CREATE TABLE ingot_replicas (
    replica_id       TEXT    PRIMARY KEY,
    incarnation      TEXT    NOT NULL,
    lease_expires_at BIGINT  NOT NULL,
    started_at       BIGINT  NOT NULL DEFAULT 0,
    renewed_at       BIGINT  NOT NULL DEFAULT 0,
    draining         BOOLEAN NOT NULL DEFAULT FALSE,
    version          TEXT    NOT NULL DEFAULT '',
    addr             TEXT    NOT NULL DEFAULT '',
    conductor_group  TEXT    NOT NULL DEFAULT '',
    shards           TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE ingot_node_owner (
    node_uuid       TEXT   PRIMARY KEY,
    replica_id      TEXT   NOT NULL DEFAULT '',
    epoch           BIGINT NOT NULL DEFAULT 0,
    owned_since     BIGINT,
    handoff_to      TEXT   NOT NULL DEFAULT '',
    conductor_group TEXT   NOT NULL DEFAULT '',
    shard           TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX ingot_node_owner_replica ON ingot_node_owner (replica_id);
CREATE INDEX ingot_node_owner_handoff ON ingot_node_owner (handoff_to) WHERE handoff_to <> '';
