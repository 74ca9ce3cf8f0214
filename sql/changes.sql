-- Record history: the change log's sequence and the trigger function that
-- writes to each tenant's change log (tenant_<slug>._changes, made by Cot with
-- the first entity defined with "history": true; see docs/changes.md).

-- One sequence for every tenant's log: a change's id says when it was made,
-- and the readers' watermark compares ids across tenants (cot.changes).
CREATE SEQUENCE cot.change_seq AS bigint;
SELECT pg_catalog.pg_extension_config_dump('cot.change_seq', '');

-- The statement-level trigger of an entity (or junction) with history: every
-- row the statement inserted, updated or deleted becomes one change, in the
-- same transaction. TG_ARGV: the name changes are logged under, and the column
-- holding the record's id. SECURITY DEFINER: no tenant role may write the log
-- itself. Before its first change a transaction takes a shared advisory lock
-- keyed by a fresh value of cot.change_seq and holds it to its end: readers
-- treat every id from the smallest such key on as possibly still to come, so
-- a change that commits later with a smaller id is never skipped.
CREATE FUNCTION cot.log_changes() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    log text := quote_ident(TG_TABLE_SCHEMA) || '._changes';
    actor jsonb;
    role_name text := current_setting('role');
BEGIN
    IF current_setting('cot.change_lock', true) IS DISTINCT FROM pg_current_xact_id()::text THEN
        PERFORM pg_advisory_xact_lock_shared(nextval('cot.change_seq'));
        PERFORM set_config('cot.change_lock', pg_current_xact_id()::text, true);
    END IF;
    -- A wake-up for consumers, without data: PostgreSQL sends one per channel
    -- and payload (the tenant) per transaction, at commit.
    PERFORM pg_notify('cot_changes', substr(TG_TABLE_SCHEMA, 8));
    -- The claim helper reads malformed claims as none, without the cost of
    -- an exception block (a subtransaction per statement).
    actor := jsonb_strip_nulls(jsonb_build_object(
        'sub', cot.jwt_claim('sub'),
        'role', CASE WHEN role_name = 'none' THEN session_user::text ELSE role_name END,
        'key', cot.jwt_claim('key')));
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO %s (entity, record_id, op, new, actor)
                        SELECT $1, "N".%I, ''insert'', to_jsonb("N"), $2 FROM cot_new AS "N"', log, TG_ARGV[1])
        USING TG_ARGV[0], actor;
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format('INSERT INTO %s (entity, record_id, op, old, actor)
                        SELECT $1, "O".%I, ''delete'', to_jsonb("O"), $2 FROM cot_old AS "O"', log, TG_ARGV[1])
        USING TG_ARGV[0], actor;
    ELSE
        -- The fields that changed, old and new values side by side. Ids never
        -- change (cot.system_columns refuses it), so rows pair up by id.
        -- Aliases are upper case: a column (always lower case) cannot hide them.
        EXECUTE format('INSERT INTO %s (entity, record_id, op, old, new, actor)
                        SELECT $1, "N".%2$I, ''update'', "D".old, "D".new, $2
                          FROM cot_new AS "N" JOIN cot_old AS "O" ON "O".%2$I = "N".%2$I
                         CROSS JOIN LATERAL (
                               SELECT jsonb_object_agg("OV".key, "OV".value) AS old, jsonb_object_agg("OV".key, "NV".value) AS new
                                 FROM jsonb_each(to_jsonb("O")) AS "OV" JOIN jsonb_each(to_jsonb("N")) AS "NV" ON "NV".key = "OV".key
                                WHERE "NV".value IS DISTINCT FROM "OV".value) AS "D"', log, TG_ARGV[1])
        USING TG_ARGV[0], actor;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION cot.log_changes() FROM PUBLIC;
