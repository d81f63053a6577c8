-- SQLite's 0003 rebuilds the link tables and the change log as WITHOUT ROWID tables.
-- PostgreSQL has no rowid tables, so its schema needs no change; this file keeps the two
-- migration sequences in step.
SELECT 1;
