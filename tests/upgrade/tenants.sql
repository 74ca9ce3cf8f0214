-- After ALTER EXTENSION cot UPDATE: cot.upgrade_tenants() makes every
-- tenant's generated objects as this version makes them, one transaction per
-- tenant, and a tenant whose upgrade fails is left as it was and named.
-- Run by tests/upgrade/run.sh in the upgraded database (not in a transaction:
-- the procedure commits per tenant).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT plan(14);

-- A tenant's generated objects, as text, to see that a run changes nothing.
CREATE FUNCTION pg_temp.generated(slug text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(line, E'\n' ORDER BY line) FROM (
        SELECT 'view ' || c.oid::regclass || ' ' || pg_get_viewdef(c.oid) || ' ' || coalesce(c.relacl::text, '')
        FROM pg_class AS c WHERE c.relnamespace = slug::regnamespace AND c.relkind = 'v'
        UNION ALL
        SELECT 'default ' || a.attrelid::regclass || '.' || a.attname || ' ' || pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attrdef AS d JOIN pg_attribute AS a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        JOIN pg_class AS c ON c.oid = a.attrelid
        WHERE c.relnamespace IN (slug::regnamespace, ('tenant_' || slug)::regnamespace)
        UNION ALL
        SELECT 'policy ' || p.polrelid::regclass || '.' || p.polname || ' ' || p.polroles::regrole[]::text || ' '
               || coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
        FROM pg_policy AS p JOIN pg_class AS c ON c.oid = p.polrelid
        WHERE c.relnamespace = ('tenant_' || slug)::regnamespace
        UNION ALL
        SELECT 'table ' || c.oid::regclass || ' ' || coalesce(c.relacl::text, '') || ' ' || c.relrowsecurity::text || c.relforcerowsecurity::text
        FROM pg_class AS c WHERE c.relnamespace = ('tenant_' || slug)::regnamespace AND c.relkind = 'r'
        UNION ALL
        SELECT 'trigger ' || t.tgrelid::regclass || '.' || t.tgname || ' ' || t.tgenabled::text
        FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid
        WHERE c.relnamespace = ('tenant_' || slug)::regnamespace AND NOT t.tgisinternal
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure || ' ' || coalesce(p.proacl::text, '') || ' ' || md5(p.prosrc)
        FROM pg_proc AS p WHERE p.pronamespace = slug::regnamespace
    ) AS facts(line)
$$;

-- Tenants made by the previous release lack what this one makes.
SELECT ok((SELECT count(*) FROM cot.check('up_a') WHERE problem LIKE 'column has no default%') > 0,
          'before: cot.check sees the view defaults the previous release did not make');

-- Out of band, tenant up_b's orders view is replaced by a table: its upgrade
-- must fail, and fail alone.
SET cot.drift = 'allow';
DROP VIEW up_b.orders CASCADE;
CREATE TABLE up_b.orders (sabotage int);
RESET cot.drift;
CREATE TEMP TABLE snapshot AS SELECT pg_temp.generated('up_b') AS before;

CALL cot.upgrade_tenants() \gset
SELECT is((:'report'::jsonb)->'upgraded', '["up_a"]', 'up_a is upgraded');
SELECT is((:'report'::jsonb)#>>'{failed,0,tenant}', 'up_b', 'up_b is reported as failed');
SELECT is((:'report'::jsonb)#>>'{failed,0,sqlstate}', '42809', '... with the SQLSTATE of what stopped it');
SELECT ok((:'report'::jsonb)#>>'{failed,0,message}' LIKE '%orders%', '... and its message');
SELECT is(pg_temp.generated('up_b'), (SELECT before FROM snapshot), 'the failed tenant is left exactly as it was');
SELECT is_empty($$SELECT * FROM cot.check('up_a')$$, 'up_a: cot.check finds nothing after the upgrade');
SELECT is((SELECT count(*)::int FROM cot.migrations WHERE tenant = 'up_a' AND operation = 'upgrade_tenant'), 1,
          'the upgrade of up_a is in the ledger');

-- Mended, up_b upgrades too; a second run changes nothing.
SET cot.drift = 'allow';
DROP TABLE up_b.orders;
RESET cot.drift;
CALL cot.upgrade_tenants() \gset
SELECT is((:'report'::jsonb)->'upgraded', '["up_a", "up_b"]', 'mended, both tenants upgrade');
SELECT is((:'report'::jsonb)->'failed', '[]', 'none fails');
SELECT is_empty($$SELECT * FROM cot.check('up_b')$$, 'up_b: cot.check finds nothing');
UPDATE snapshot SET before = pg_temp.generated('up_a') || pg_temp.generated('up_b');
CALL cot.upgrade_tenants() \gset
SELECT is(pg_temp.generated('up_a') || pg_temp.generated('up_b'), (SELECT before FROM snapshot),
          'a second run changes nothing');
SELECT is_empty($$SELECT * FROM cot.check('up_a') UNION ALL SELECT * FROM cot.check('up_b')$$, 'still clean');
SELECT is((SELECT count(*)::int FROM cot.migrations WHERE operation = 'upgrade_tenant'), 5,
          'every successful upgrade is recorded (1 + 2 + 2)');
SELECT * FROM finish();
