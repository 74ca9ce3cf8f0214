-- Helpers shared by the pgTAP files in tests/sql, loaded once into the test
-- database by pg_test/run.sh (this folder is not run as a test).

CREATE SCHEMA cot_test;

-- The SQLSTATE a statement raises, or 'ok'. Runs in a subtransaction, so a
-- failing statement leaves the test's transaction usable.
CREATE FUNCTION cot_test.sqlstate_of(q text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

-- The whole error a statement raises: SQLSTATE, message, DETAIL and HINT.
CREATE FUNCTION cot_test.error_of(q text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; hnt text;
BEGIN
    EXECUTE q;
    RETURN jsonb_build_object('sqlstate', 'ok');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    RETURN jsonb_build_object('sqlstate', st, 'message', msg, 'detail', det, 'hint', hnt);
END $$;

GRANT USAGE ON SCHEMA cot_test TO PUBLIC;
