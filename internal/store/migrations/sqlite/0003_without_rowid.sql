-- The provider link tables and the change log are found only by their primary keys, so they
-- are rebuilt as WITHOUT ROWID tables: each is then one b-tree, ordered by its key, instead of
-- a rowid table plus the index its key needs. A write to one of them changes one page where it
-- changed two, which matters because every page a commit changes is written to the WAL.
-- (PostgreSQL has no rowid tables; its schema is unchanged.)
CREATE TABLE inventories_new (
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
) WITHOUT ROWID;
INSERT INTO inventories_new (resource_provider_id, resource_class_id, total, reserved, min_unit,
    max_unit, step_size, allocation_ratio, created_at, updated_at)
SELECT resource_provider_id, resource_class_id, total, reserved, min_unit,
    max_unit, step_size, allocation_ratio, created_at, updated_at FROM inventories;
DROP TABLE inventories;
ALTER TABLE inventories_new RENAME TO inventories;
CREATE INDEX inventories_class ON inventories (resource_class_id);

CREATE TABLE resource_provider_aggregates_new (
    resource_provider_id BIGINT NOT NULL REFERENCES resource_providers (id) ON DELETE CASCADE,
    aggregate_id         BIGINT NOT NULL REFERENCES aggregates (id),
    created_at           BIGINT NOT NULL,
    PRIMARY KEY (resource_provider_id, aggregate_id)
) WITHOUT ROWID;
INSERT INTO resource_provider_aggregates_new (resource_provider_id, aggregate_id, created_at)
SELECT resource_provider_id, aggregate_id, created_at FROM resource_provider_aggregates;
DROP TABLE resource_provider_aggregates;
ALTER TABLE resource_provider_aggregates_new RENAME TO resource_provider_aggregates;
CREATE INDEX resource_provider_aggregates_aggregate ON resource_provider_aggregates (aggregate_id);

CREATE TABLE resource_provider_traits_new (
    resource_provider_id BIGINT NOT NULL REFERENCES resource_providers (id) ON DELETE CASCADE,
    trait_id             BIGINT NOT NULL REFERENCES traits (id),
    created_at           BIGINT NOT NULL,
    PRIMARY KEY (resource_provider_id, trait_id)
) WITHOUT ROWID;
INSERT INTO resource_provider_traits_new (resource_provider_id, trait_id, created_at)
SELECT resource_provider_id, trait_id, created_at FROM resource_provider_traits;
DROP TABLE resource_provider_traits;
ALTER TABLE resource_provider_traits_new RENAME TO resource_provider_traits;
CREATE INDEX resource_provider_traits_trait ON resource_provider_traits (trait_id);

CREATE TABLE changes_new (
    seq         BIGINT NOT NULL,
    provider_id BIGINT NOT NULL,
    PRIMARY KEY (seq, provider_id)
) WITHOUT ROWID;
INSERT INTO changes_new (seq, provider_id) SELECT seq, provider_id FROM changes;
DROP TABLE changes;
ALTER TABLE changes_new RENAME TO changes;
