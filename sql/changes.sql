-- Record history: the change log's sequence and the trigger function that
-- writes to each tenant's change log (tenant_<slug>._changes, made by Cot with
-- the first entity defined with "history": true; see docs/changes.md).

-- One sequence for every tenant's log: a change's id says when it was made,
-- and the readers' watermark compares ids across tenants (cot.changes).
CREATE SEQUENCE cot.change_seq AS bigint;
SELECT pg_catalog.pg_extension_config_dump('cot.change_seq', '');

-- The log is written by each tenant's function tenant_<slug>._log_changes(),
-- which Cot makes with the log (engine/src/ddl/history.rs): its statements
-- name the tenant's log, so their plans are kept. It calls
-- cot.change_begin(tenant) (src/change_log.rs) once per statement.
