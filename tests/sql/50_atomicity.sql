-- Atomicity: every Cot call that changes something is all or nothing. With
-- cot.test_fail_after_step = N the call fails (55000) right after its N-th
-- statement; walking N = 1, 2, ... until the call succeeds, each failure must
-- leave the database exactly as it was before the call: no schema, role,
-- relation, type, constraint, trigger, comment, grant, meta row or ledger row
-- more (for creates) or less (for drops). Errors Postgres itself raises in the
-- middle of a call are held to the same rule.
BEGIN;
SELECT plan(66);
-- This file plants objects and breaks policies by hand on purpose; the drift
-- guard would refuse that DDL (tests/sql/95_drift.sql tests the guard).
SET LOCAL cot.drift = 'allow';
SET LOCAL client_min_messages = warning;

-- cot_test.snapshot, cot_test.walk and cot_test.diff are in tests/sql/lib/helpers.sql.

-------------------------------------------------------------------------------
-- create_tenant
-------------------------------------------------------------------------------
CREATE TEMP TABLE t50_owner_before AS SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cot_owner') AS existed;
CREATE TEMP TABLE t50_tenant_before AS SELECT cot_test.snapshot('t50') AS snap;
CREATE TEMP TABLE t50_walk_tenant AS SELECT * FROM cot_test.walk($$SELECT cot.create_tenant('t50', '{"name": "Fifty"}')$$, 't50');

SELECT is((SELECT outcome FROM t50_walk_tenant ORDER BY step DESC LIMIT 1), 'ok', 'create_tenant: succeeds once the failpoint is past its last step');
SELECT is_empty($$SELECT step, outcome, message FROM t50_walk_tenant WHERE outcome NOT IN ('55000', 'ok')$$,
                'create_tenant: every failure is the failpoint''s 55000');
SELECT is_empty($$SELECT step, message FROM t50_walk_tenant WHERE outcome = '55000' AND message <> 'cot.test_fail_after_step: failing after step ' || step$$,
                'create_tenant: each failure happened right after its own step');
SELECT cmp_ok((SELECT count(*)::int FROM t50_walk_tenant WHERE outcome = '55000'), '>', 5, 'create_tenant: more than 5 failing steps were walked');
SELECT cmp_ok((SELECT count(*)::int FROM t50_walk_tenant WHERE outcome = '55000'), '>=',
              (SELECT cardinality(sql) FROM cot.migrations WHERE tenant = 't50' AND operation = 'create_tenant'),
              'create_tenant: a failure after every statement in the ledger');
SELECT is_empty($$SELECT step, cot_test.diff(before, after) FROM t50_walk_tenant WHERE changed$$,
                'create_tenant: after every failure, nothing is left (no role, schema, grant, comment, meta or ledger row)');
SELECT isnt((SELECT snap FROM t50_tenant_before), cot_test.snapshot('t50'), 'create_tenant: the successful call did change things');
SELECT has_schema('tenant_t50', 'create_tenant: the successful call made its schemas');
SELECT is(current_setting('cot.test_fail_after_step'), '0', 'the failpoint is off again');
SELECT ok((SELECT existed OR EXISTS (SELECT FROM t50_walk_tenant WHERE step = 1 AND outcome = '55000' AND NOT changed)
             FROM t50_owner_before),
          'create_tenant: a failure right after creating cot_owner leaves no cot_owner (or it existed already)');

-- A second tenant, with cot_owner now in place: one step fewer.
CREATE TEMP TABLE t50_walk_tenant2 AS SELECT * FROM cot_test.walk($$SELECT cot.create_tenant('t50b')$$, 't50b');
SELECT is((SELECT outcome FROM t50_walk_tenant2 ORDER BY step DESC LIMIT 1), 'ok', 'create_tenant (owner exists): succeeds at last');
SELECT is_empty($$SELECT step, outcome, cot_test.diff(before, after) FROM t50_walk_tenant2 WHERE outcome <> 'ok' AND (changed OR outcome <> '55000')$$,
                'create_tenant (owner exists): every failure is 55000 and leaves nothing');
SELECT is((SELECT count(*)::int FROM t50_walk_tenant2 WHERE outcome = '55000'),
          (SELECT count(*)::int FROM t50_walk_tenant WHERE outcome = '55000') - CASE WHEN (SELECT existed FROM t50_owner_before) THEN 0 ELSE 1 END,
          'create_tenant (owner exists): one statement fewer (no CREATE ROLE cot_owner)');

-------------------------------------------------------------------------------
-- create_entity
-------------------------------------------------------------------------------
CREATE TEMP TABLE t50_def AS SELECT '{
  "tenant": "t50", "name": "orders", "description": "Orders placed by customers",
  "fields": [
    {"name": "title",     "type": "text", "required": true, "max_length": 100, "index": true},
    {"name": "code",      "type": "text", "unique": true, "pattern": "^[A-Z]+$"},
    {"name": "status",    "type": "enum", "values": ["draft", "paid"], "default": "draft"},
    {"name": "tags",      "type": "array", "items": "text", "index": true},
    {"name": "total",     "type": "decimal", "precision": 12, "scale": 2, "min": 0, "description": "Sum in EUR"},
    {"name": "placed_at", "type": "timestamp", "default": "now"}
  ],
  "indexes": [{"fields": ["status", "created_at"]}, {"fields": ["title", "code"], "unique": true}]}'::jsonb AS def;
CREATE TEMP TABLE t50_entity_before AS SELECT cot_test.snapshot('t50') AS snap;
CREATE TEMP TABLE t50_walk_entity AS
SELECT w.* FROM t50_def, cot_test.walk(format('SELECT cot.create_entity(%L::jsonb)', def), 't50') AS w;

SELECT is((SELECT outcome FROM t50_walk_entity ORDER BY step DESC LIMIT 1), 'ok', 'create_entity: succeeds once the failpoint is past its last step');
SELECT is_empty($$SELECT step, outcome, message FROM t50_walk_entity WHERE outcome NOT IN ('55000', 'ok')$$,
                'create_entity: every failure is the failpoint''s 55000');
SELECT cmp_ok((SELECT count(*)::int FROM t50_walk_entity WHERE outcome = '55000'), '>', 5, 'create_entity: more than 5 failing steps were walked');
SELECT cmp_ok((SELECT count(*)::int FROM t50_walk_entity WHERE outcome = '55000'), '>=',
              (SELECT cardinality(sql) FROM cot.migrations WHERE tenant = 't50' AND operation = 'create_entity'),
              'create_entity: a failure after every statement in the ledger');
SELECT cmp_ok((SELECT cardinality(sql) FROM cot.migrations WHERE tenant = 't50' AND operation = 'create_entity'), '>=', 20,
              'create_entity: the ledger lists 20 or more statements (table, 3 indexes, trigger, view, owners, 14 comments)');
SELECT is_empty($$SELECT step, cot_test.diff(before, after) FROM t50_walk_entity WHERE changed$$,
                'create_entity: after every failure, nothing is left (no table, view, index, type, meta or ledger row)');
SELECT has_table('tenant_t50', 'orders', 'create_entity: the successful call made the table');
SELECT has_view('t50', 'orders', '... and the view');
SELECT is((SELECT count(*)::int FROM pg_indexes WHERE schemaname = 'tenant_t50' AND tablename = 'orders'), 6,
          '... and its 6 indexes (pkey, code unique, title+code unique, title, tags, status+created_at)');

-------------------------------------------------------------------------------
-- drop_entity (with rows in the table)
-------------------------------------------------------------------------------
INSERT INTO t50.orders (title, code, tags, total) VALUES ('first', 'A', '{x}', 1.5), ('second', 'B', '{}', 2);
CREATE TEMP TABLE t50_drop_entity_before AS SELECT cot_test.snapshot('t50') AS snap;
CREATE TEMP TABLE t50_walk_drop_entity AS SELECT * FROM cot_test.walk($$SELECT cot.drop_entity('t50', 'orders')$$, 't50');

SELECT is((SELECT outcome FROM t50_walk_drop_entity ORDER BY step DESC LIMIT 1), 'ok', 'drop_entity: succeeds at last');
SELECT is_empty($$SELECT step, outcome, message FROM t50_walk_drop_entity WHERE outcome NOT IN ('55000', 'ok')$$,
                'drop_entity: every failure is the failpoint''s 55000');
SELECT cmp_ok((SELECT count(*)::int FROM t50_walk_drop_entity WHERE outcome = '55000'), '>=', 3,
              'drop_entity: at least 3 failing steps (drop view, drop table, meta)');
SELECT is_empty($$SELECT step, cot_test.diff(before, after) FROM t50_walk_drop_entity WHERE changed$$,
                'drop_entity: after every failure, everything is still there (table with its rows, view, meta rows, ledger)');
SELECT hasnt_table('tenant_t50', 'orders', 'drop_entity: the successful call dropped the table');
SELECT is((SELECT count(*)::int FROM cot.entities e JOIN cot.tenants t ON t.id = e.tenant_id WHERE t.slug = 't50'), 0,
          'drop_entity: and its meta row');

-------------------------------------------------------------------------------
-- drop_tenant with force (two entities with rows)
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_entity(def) FROM t50_def$$, 'orders created again');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t50", "name": "customers", "fields": [{"name": "email", "type": "email", "unique": true}]}')$$,
                'customers created');
INSERT INTO t50.orders (title) VALUES ('again');
INSERT INTO t50.customers (email) VALUES ('a@b.co');
CREATE TEMP TABLE t50_walk_drop_tenant AS SELECT * FROM cot_test.walk($$SELECT cot.drop_tenant('t50', force => true)$$, 't50');

SELECT is((SELECT outcome FROM t50_walk_drop_tenant ORDER BY step DESC LIMIT 1), 'ok', 'drop_tenant(force): succeeds at last');
SELECT is_empty($$SELECT step, outcome, message FROM t50_walk_drop_tenant WHERE outcome NOT IN ('55000', 'ok')$$,
                'drop_tenant(force): every failure is the failpoint''s 55000');
SELECT cmp_ok((SELECT count(*)::int FROM t50_walk_drop_tenant WHERE outcome = '55000'), '>=', 6,
              'drop_tenant(force): at least 6 failing steps (2 schemas, 3 roles, meta)');
SELECT is_empty($$SELECT step, cot_test.diff(before, after) FROM t50_walk_drop_tenant WHERE changed$$,
                'drop_tenant(force): after every failure, everything is still there (schemas, roles, tables and rows, meta)');
SELECT hasnt_schema('tenant_t50', 'drop_tenant(force): the successful call dropped the storage schema');
SELECT is((SELECT count(*)::int FROM pg_roles WHERE rolname LIKE 'cot\_t50\_%'), 0, '... and the roles');

-------------------------------------------------------------------------------
-- Errors Postgres raises in the middle of a call
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_tenant('t50c')$$, 'tenant t50c created');

-- A relation named like a generated index: found before any DDL runs.
CREATE TABLE tenant_t50c.items_title_idx (x int);
CREATE TEMP TABLE t50_mid1 AS SELECT cot_test.snapshot('t50c') AS snap;
SELECT throws_ok($$SELECT cot.create_entity('{"tenant": "t50c", "name": "items", "fields": [{"name": "title", "type": "text", "index": true}]}')$$,
                 '42P07', NULL, 'a hand-made relation named like the generated index: 42P07');
SELECT is(cot_test.diff((SELECT snap FROM t50_mid1), cot_test.snapshot('t50c')), NULL, '... and nothing is left behind');

-- A type named like the entity in the API schema: Cot's preflight sees it
-- (every view brings a row type of its name) and refuses before any DDL.
CREATE TYPE t50c.things AS ENUM ('a');
CREATE TEMP TABLE t50_mid2 AS SELECT cot_test.snapshot('t50c') AS snap;
SELECT throws_ok($$SELECT cot.create_entity('{"tenant": "t50c", "name": "things", "fields": [{"name": "title", "type": "text", "index": true, "unique": true}]}')$$,
                 '42P07', NULL, 'a type in the API schema named like the view: 42P07 before any DDL');
SELECT is(cot_test.diff((SELECT snap FROM t50_mid2), cot_test.snapshot('t50c')), NULL,
          '... the table, indexes and trigger made before it are gone, no meta or ledger row');
SELECT hasnt_table('tenant_t50c', 'things', '... no table things');

-- drop_entity: the API view drops, then DROP TABLE meets a hand-made view.
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t50c", "name": "parts", "fields": [{"name": "sku", "type": "text"}]}')$$, 'entity parts created');
CREATE VIEW tenant_t50c.parts_report AS SELECT sku FROM tenant_t50c.parts;
CREATE TEMP TABLE t50_mid3 AS SELECT cot_test.snapshot('t50c') AS snap;
SELECT throws_ok($$SELECT cot.drop_entity('t50c', 'parts')$$, '2BP01', NULL, 'drop_entity with a dependent view outside Cot: 2BP01');
SELECT is(cot_test.diff((SELECT snap FROM t50_mid3), cot_test.snapshot('t50c')), NULL,
          '... the API view dropped before the failure is back, meta rows intact');
SELECT has_view('t50c', 'parts', '... the API view t50c.parts exists');

-- The harness itself: a snapshot notices each kind of change it is meant to
-- catch (otherwise "nothing changed" above would prove nothing).
CREATE FUNCTION pg_temp.sees(slug text, change text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    snap jsonb := cot_test.snapshot(slug);
    keys text[];
BEGIN
    BEGIN
        EXECUTE change;
        keys := cot_test.diff(snap, cot_test.snapshot(slug));
        RAISE EXCEPTION 'undo' USING ERRCODE = 'P0001';
    EXCEPTION WHEN SQLSTATE 'P0001' THEN
        RETURN keys;
    END;
END $$;
SELECT ok(want = ANY (pg_temp.sees('t50c', change)), format('the snapshot sees %s: %s', want, change))
  FROM (VALUES
    ('relations',   'CREATE INDEX ON tenant_t50c.parts (sku)'),
    ('relations',   $$COMMENT ON TABLE tenant_t50c.parts IS 'changed'$$),
    ('relations',   'GRANT SELECT ON t50c.parts TO cot_t50c_user'),
    ('columns',     $$COMMENT ON COLUMN t50c.parts.sku IS 'changed'$$),
    ('columns',     'ALTER TABLE tenant_t50c.parts ALTER COLUMN sku SET NOT NULL'),
    ('constraints', 'ALTER TABLE tenant_t50c.parts ADD CONSTRAINT sku_check CHECK (sku <> $$$$)'),
    ('types',       $$CREATE TYPE tenant_t50c.mood AS ENUM ('ok')$$),
    ('triggers',    'CREATE TRIGGER again BEFORE UPDATE ON tenant_t50c.parts FOR EACH ROW EXECUTE FUNCTION cot.system_columns()'),
    ('schemas',     'GRANT CREATE ON SCHEMA t50c TO cot_t50c_user'),
    ('roles',       'ALTER ROLE cot_t50c_anon LOGIN'),
    ('rows',        $$INSERT INTO t50c.parts (sku) VALUES ('x')$$),
    ('entities',    $$UPDATE cot.entities SET label = 'changed' WHERE name = 'parts'$$),
    ('fields',      $$UPDATE cot.fields SET options = '{}' WHERE name = 'sku'$$),
    ('tenant',      $$UPDATE cot.tenants SET name = 'changed' WHERE slug = 't50c'$$),
    ('ledger',      $$DELETE FROM cot.migrations WHERE tenant = 't50c'$$)
  ) AS v(want, change);

-- drop_tenant without force and no entities: the API schema drops, then the
-- storage schema holds a hand-made object.
SELECT lives_ok($$SELECT cot.create_tenant('t50d')$$, 'tenant t50d created');
CREATE TABLE tenant_t50d.handmade (x int);
CREATE TEMP TABLE t50_mid4 AS SELECT cot_test.snapshot('t50d') AS snap;
SELECT throws_ok($$SELECT cot.drop_tenant('t50d')$$, '2BP01', NULL, 'drop_tenant with a hand-made table in the storage schema: 2BP01');
SELECT is(cot_test.diff((SELECT snap FROM t50_mid4), cot_test.snapshot('t50d')), NULL,
          '... the API schema dropped before the failure is back, roles and meta row intact');

-- Whatever fails inside the caller's transaction is rolled back with it.
DO $$
BEGIN
    PERFORM cot.create_entity('{"tenant": "t50c", "name": "doomed", "fields": [{"name": "a", "type": "text"}]}');
    RAISE EXCEPTION 'the caller fails after Cot succeeded' USING ERRCODE = 'P0001';
EXCEPTION WHEN SQLSTATE 'P0001' THEN
    NULL;
END $$;
SELECT hasnt_table('tenant_t50c', 'doomed', 'a call rolled back by the caller leaves no table');
SELECT is((SELECT count(*)::int FROM cot.migrations WHERE tenant = 't50c' AND entity = 'doomed'), 0, '... and no ledger row');

SELECT * FROM finish();
ROLLBACK;
