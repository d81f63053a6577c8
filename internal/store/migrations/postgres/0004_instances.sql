-- Instances: a workload deployed on one Ironic node (package baremetal, the instance
-- controller). spec is the create request as JSON (never changed); spec_hash tells a
-- repeated create with the same uuid from a different one. node is the node (and provider)
-- the instance holds: written with the instance's allocation in one transaction, cleared
-- with its release; the unique index means no node is ever held by two instances. Every
-- write compares and increments generation. Lists are stored one item per line; times are
-- microseconds since the Unix epoch (UTC); fault_at is 0 without a fault.
CREATE TABLE instances (
    uuid          TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL DEFAULT '',
    project_id    TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    spec          TEXT    NOT NULL,
    spec_hash     TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    task          TEXT    NOT NULL DEFAULT '',
    node          TEXT    NOT NULL DEFAULT '',
    locked        BOOLEAN NOT NULL DEFAULT FALSE,
    fault_code    TEXT    NOT NULL DEFAULT '',
    fault_message TEXT    NOT NULL DEFAULT '',
    fault_at      BIGINT  NOT NULL DEFAULT 0,
    attempts      INTEGER NOT NULL DEFAULT 0,
    excluded      TEXT    NOT NULL DEFAULT '',
    generation    BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX instances_node ON instances (node) WHERE node <> '';
CREATE INDEX instances_state ON instances (state);
CREATE INDEX instances_project ON instances (project_id, created_at);
