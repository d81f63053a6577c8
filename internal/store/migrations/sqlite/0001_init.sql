-- ingot's Placement schema. Times are microseconds since the Unix epoch (UTC).

CREATE TABLE resource_classes (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT
);

CREATE TABLE traits (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT
);

CREATE TABLE resource_providers (
    id                 INTEGER PRIMARY KEY,
    uuid               TEXT    NOT NULL UNIQUE,
    name               TEXT    NOT NULL UNIQUE,
    generation         BIGINT  NOT NULL DEFAULT 0,
    root_provider_id   BIGINT  REFERENCES resource_providers (id),
    parent_provider_id BIGINT  REFERENCES resource_providers (id),
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT
);
CREATE INDEX resource_providers_root ON resource_providers (root_provider_id);
CREATE INDEX resource_providers_parent ON resource_providers (parent_provider_id);

CREATE TABLE inventories (
    resource_provider_id BIGINT  NOT NULL REFERENCES resource_providers (id) ON DELETE CASCADE,
    resource_class_id    BIGINT  NOT NULL REFERENCES resource_classes (id),
    total                BIGINT  NOT NULL,
    reserved             BIGINT  NOT NULL,
    min_unit             BIGINT  NOT NULL,
    max_unit             BIGINT  NOT NULL,
    step_size            BIGINT  NOT NULL,
    allocation_ratio     DOUBLE PRECISION NOT NULL,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT,
    PRIMARY KEY (resource_provider_id, resource_class_id)
);
CREATE INDEX inventories_class ON inventories (resource_class_id);

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    external_id TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    external_id TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE consumer_types (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL
);

CREATE TABLE consumers (
    id               INTEGER PRIMARY KEY,
    uuid             TEXT    NOT NULL UNIQUE,
    project_id       BIGINT  NOT NULL REFERENCES projects (id),
    user_id          BIGINT  NOT NULL REFERENCES users (id),
    consumer_type_id BIGINT  REFERENCES consumer_types (id),
    generation       BIGINT  NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT
);
CREATE INDEX consumers_project_user ON consumers (project_id, user_id);

CREATE TABLE allocations (
    id                   INTEGER PRIMARY KEY,
    resource_provider_id BIGINT  NOT NULL REFERENCES resource_providers (id),
    consumer_id          BIGINT  NOT NULL REFERENCES consumers (id),
    resource_class_id    BIGINT  NOT NULL REFERENCES resource_classes (id),
    used                 BIGINT  NOT NULL,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT
);
CREATE INDEX allocations_provider_class ON allocations (resource_provider_id, resource_class_id);
CREATE INDEX allocations_consumer ON allocations (consumer_id);
CREATE INDEX allocations_class ON allocations (resource_class_id);

CREATE TABLE aggregates (
    id         INTEGER PRIMARY KEY,
    uuid       TEXT    NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL
);

CREATE TABLE resource_provider_aggregates (
    resource_provider_id BIGINT NOT NULL REFERENCES resource_providers (id) ON DELETE CASCADE,
    aggregate_id         BIGINT NOT NULL REFERENCES aggregates (id),
    created_at           BIGINT NOT NULL,
    PRIMARY KEY (resource_provider_id, aggregate_id)
);
CREATE INDEX resource_provider_aggregates_aggregate ON resource_provider_aggregates (aggregate_id);

CREATE TABLE resource_provider_traits (
    resource_provider_id BIGINT NOT NULL REFERENCES resource_providers (id) ON DELETE CASCADE,
    trait_id             BIGINT NOT NULL REFERENCES traits (id),
    created_at           BIGINT NOT NULL,
    PRIMARY KEY (resource_provider_id, trait_id)
);
CREATE INDEX resource_provider_traits_trait ON resource_provider_traits (trait_id);

-- Change tracking for in-memory views. Every committed write increments the single row of
-- change_version (which also serializes writers' commits, so versions are in commit order)
-- and records the providers it touched in changes (provider_id 0: the catalogue of classes
-- and traits changed). pruned_through is the highest seq removed from changes.
CREATE TABLE change_version (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    seq            BIGINT  NOT NULL,
    pruned_through BIGINT  NOT NULL
);
INSERT INTO change_version (id, seq, pruned_through) VALUES (1, 0, 0);

CREATE TABLE changes (
    seq         BIGINT NOT NULL,
    provider_id BIGINT NOT NULL,
    PRIMARY KEY (seq, provider_id)
);
