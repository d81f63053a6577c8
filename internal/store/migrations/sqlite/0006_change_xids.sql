-- Nothing changes on SQLite: its one process still numbers changes with change_version.seq
-- (the PostgreSQL migration of the same name explains what changed there).
SELECT 1;
