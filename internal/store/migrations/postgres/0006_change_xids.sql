-- Views across processes no longer serialize writers on change_version (issue 14 item 5;
-- internal/store/changes_postgres.go and ARCHITECTURE.md). From here on, on PostgreSQL:
--   changes.seq                    the id of the transaction that made the change
--                                  (pg_current_xact_id), not a sequence number;
--   change_version.pruned_through  changes rows of transactions with smaller ids may have
--                                  been deleted;
--   change_version.seq             unused.
-- The rows numbered the old way mean nothing now. No view of this version predates the
-- migration (every process starts with none), so nothing needs them. Replicas of an older
-- version must not write once this has run: stop them all before upgrading.
DELETE FROM changes;
UPDATE change_version SET pruned_through = 0 WHERE id = 1;
