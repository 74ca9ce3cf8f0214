-- Record history: the change log's sequence and the trigger function that
-- writes to each tenant's change log (tenant_<slug>._changes, made by Cot with
-- the first entity defined with "history": true; see docs/changes.md).

-- One sequence for every tenant's log: a change's id says when it was made,
-- and the readers' watermark compares ids across tenants (cot.changes). It
-- counts by 4096 (BLOCK in engine/src/plan/history.rs): a log row holds up to
-- 4096 changes of one statement, with the ids from its own on.
CREATE SEQUENCE cot.change_seq AS bigint INCREMENT BY 4096;
SELECT pg_catalog.pg_extension_config_dump('cot.change_seq', '');

-- The log is written by cot.log_changes(), the function of every history
-- trigger (src/change_writer.rs), which appends its rows without the
-- executor (src/change_append.rs), and by cot.log_transition, called by
-- workflows' triggers. Both call cot.change_begin (src/change_log.rs) first.
