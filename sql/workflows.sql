-- Workflows (docs/workflows.md): taking a named transition. The rules are
-- enforced by each entity's trigger, for every writer; cot.transition only
-- names the transition and its note for it (transaction-local settings the
-- trigger reads) and makes the change through the API view. SECURITY
-- INVOKER: the UPDATE runs as the caller, so grants, row security and the
-- trigger judge the caller, and the trigger's errors (SQLSTATE class CW)
-- reach the caller unchanged. cot.transition_target (Rust) checks that the
-- caller is one of the tenant's roles and finds the view, column and state.
CREATE FUNCTION cot.transition(tenant text, entity text, id uuid, transition text, note text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target jsonb := cot.transition_target(tenant, entity, transition);
    result jsonb;
BEGIN
    PERFORM set_config('cot.transition', target->>'transition', true);
    PERFORM set_config('cot.transition_note', coalesce(note, ''), true);
    EXECUTE format('UPDATE %I.%I AS "R" SET %I = $1 WHERE "R"."id" = $2 RETURNING to_jsonb("R".*)',
                   target->>'schema', target->>'view', target->>'field')
       INTO result USING target->>'to', id;
    PERFORM set_config('cot.transition', '', true);
    PERFORM set_config('cot.transition_note', '', true);
    IF result IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42704',
            MESSAGE = format('record %s of %s was not found', id, quote_ident(entity)),
            HINT = 'it does not exist, or the caller may not update it';
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION cot.transition(text, text, uuid, text, text) IS 'Take a workflow transition on a record, as the caller; returns the record after it';
