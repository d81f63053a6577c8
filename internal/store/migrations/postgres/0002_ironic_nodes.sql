-- The Ironic resource tracker's record of each node (internal/reconcile), one row per node:
-- which tracker scope owns it (conductor group and shards), its state in the tracker
-- (managed, withdrawn, released, orphaned), what the tracker last saw of the node, and the
-- traits and aggregates the tracker itself added to the node's provider (it changes only
-- those). Every write compares and increments generation, so two trackers sharing a
-- database can never both act on one node. Lists are stored one item per line. Times are
-- microseconds since the Unix epoch (UTC).
CREATE TABLE ironic_nodes (
    node_uuid       TEXT    PRIMARY KEY,
    provider_uuid   TEXT    NOT NULL,
    scope           TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    generation      BIGINT  NOT NULL,
    resource_class  TEXT    NOT NULL DEFAULT '',
    provision_state TEXT    NOT NULL DEFAULT '',
    power_state     TEXT    NOT NULL DEFAULT '',
    maintenance     BOOLEAN NOT NULL DEFAULT FALSE,
    instance_uuid   TEXT    NOT NULL DEFAULT '',
    conductor_group TEXT    NOT NULL DEFAULT '',
    shard           TEXT    NOT NULL DEFAULT '',
    owner           TEXT    NOT NULL DEFAULT '',
    traits          TEXT    NOT NULL DEFAULT '',
    aggregates      TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX ironic_nodes_scope ON ironic_nodes (scope);
