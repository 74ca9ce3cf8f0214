-- Helpers shared by the pgTAP files in tests/sql, loaded once into the test
-- database by tests/harness/run.sh (this folder is not run as a test).

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

-- Everything Cot could have made or removed for tenant `slug`, as one value:
-- its schemas and every relation, column, type, constraint (with its
-- definition, so a foreign key's target and ON DELETE count), trigger, role,
-- meta row (tenant, entities, fields, relationships), ledger count and the
-- row count of every table and view. Atomicity tests compare it before a
-- call and after the call failed.
CREATE FUNCTION cot_test.snapshot(slug text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    schemas text[] := ARRAY[slug, 'tenant_' || slug];
    result jsonb;
    r record;
    rows jsonb := '{}';
    n bigint;
BEGIN
    FOR r IN SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = ANY (schemas) AND c.relkind IN ('r', 'v') ORDER BY 2, 3 LOOP
        EXECUTE format('SELECT count(*) FROM %I.%I', r.nspname, r.relname) INTO n;
        rows := rows || jsonb_build_object(r.nspname || '.' || r.relname, n);
    END LOOP;
    SELECT jsonb_build_object(
        'schemas', (SELECT coalesce(jsonb_agg(jsonb_build_array(nspname, pg_get_userbyid(nspowner), nspacl::text,
                                                                 obj_description(oid, 'pg_namespace')) ORDER BY nspname), '[]')
                      FROM pg_namespace WHERE nspname = ANY (schemas)),
        'relations', (SELECT coalesce(jsonb_agg(jsonb_build_array(n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner),
                                                                   c.relacl::text, c.reloptions::text, obj_description(c.oid, 'pg_class'))
                                                ORDER BY n.nspname, c.relname), '[]')
                        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY (schemas)),
        'columns', (SELECT coalesce(jsonb_agg(jsonb_build_array(n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                                                                 a.attnotnull, col_description(c.oid, a.attnum))
                                              ORDER BY n.nspname, c.relname, a.attnum), '[]')
                      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = ANY (schemas) AND a.attnum > 0 AND NOT a.attisdropped),
        'types', (SELECT coalesce(jsonb_agg(jsonb_build_array(n.nspname, t.typname) ORDER BY n.nspname, t.typname), '[]')
                    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = ANY (schemas)),
        'constraints', (SELECT coalesce(jsonb_agg(jsonb_build_array(n.nspname, co.conrelid::regclass::text, co.conname, co.contype,
                                                                     pg_get_constraintdef(co.oid))
                                                   ORDER BY n.nspname, co.conrelid::regclass::text, co.conname), '[]')
                          FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = ANY (schemas)),
        'triggers', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.relname, tg.tgname) ORDER BY c.relname, tg.tgname), '[]')
                       FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = ANY (schemas) AND NOT tg.tgisinternal),
        'roles', (SELECT coalesce(jsonb_agg(jsonb_build_array(rolname, rolcanlogin, rolsuper, rolbypassrls) ORDER BY rolname), '[]')
                    FROM pg_roles WHERE rolname LIKE 'cot\_' || slug || '\_%' OR rolname = 'cot_owner'),
        'tenant', (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.id), '[]') FROM cot.tenants t WHERE t.slug = snapshot.slug),
        'entities', (SELECT coalesce(jsonb_agg(to_jsonb(e) ORDER BY e.id), '[]')
                       FROM cot.entities e JOIN cot.tenants t ON t.id = e.tenant_id WHERE t.slug = snapshot.slug),
        'fields', (SELECT coalesce(jsonb_agg(to_jsonb(f) ORDER BY f.id), '[]')
                     FROM cot.fields f JOIN cot.entities e ON e.id = f.entity_id JOIN cot.tenants t ON t.id = e.tenant_id
                    WHERE t.slug = snapshot.slug),
        'relationships', (SELECT coalesce(jsonb_agg(to_jsonb(rel) ORDER BY rel.id), '[]')
                            FROM cot.relationships rel JOIN cot.tenants t ON t.id = rel.tenant_id WHERE t.slug = snapshot.slug),
        'ledger', (SELECT count(*) FROM cot.migrations m WHERE m.tenant = snapshot.slug),
        'rows', rows)
      INTO result;
    RETURN result;
END $$;

-- Runs `call` with the failpoint cot.test_fail_after_step at 1, 2, ... until
-- it succeeds. One row per attempt: its step, its outcome ('55000', 'ok' or
-- another SQLSTATE, which ends the walk), the error message, and whether the
-- snapshot of `slug` after the failure differs from the one before the call
-- (with both snapshots when it does).
CREATE FUNCTION cot_test.walk(call text, slug text)
RETURNS TABLE (step int, outcome text, message text, changed boolean, before jsonb, after jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    snap_before jsonb := cot_test.snapshot(slug);
    snap_after jsonb;
BEGIN
    FOR n IN 1..500 LOOP
        BEGIN
            PERFORM set_config('cot.test_fail_after_step', n::text, true);
            EXECUTE call;
            PERFORM set_config('cot.test_fail_after_step', '0', true);
            step := n; outcome := 'ok'; message := NULL; changed := NULL; before := NULL; after := NULL;
            RETURN NEXT;
            RETURN;
        EXCEPTION WHEN OTHERS THEN
            step := n; outcome := SQLSTATE; message := SQLERRM;
            snap_after := cot_test.snapshot(slug);
            changed := snap_after IS DISTINCT FROM snap_before;
            before := CASE WHEN changed THEN snap_before END;
            after := CASE WHEN changed THEN snap_after END;
            RETURN NEXT;
            IF outcome <> '55000' THEN
                RETURN;
            END IF;
        END;
    END LOOP;
END $$;

-- The keys of two snapshots whose values differ, for readable diagnostics.
CREATE FUNCTION cot_test.diff(a jsonb, b jsonb) RETURNS text[]
LANGUAGE sql AS $$
    SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(a) k WHERE a->k IS DISTINCT FROM b->k
$$;
