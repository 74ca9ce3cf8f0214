-- Atomicity of relationships, as 50_atomicity.sql does it for single
-- entities: with cot.test_fail_after_step = N the call fails (55000) right
-- after its N-th statement (DDL or meta write); walking N = 1, 2, ... until
-- the call succeeds, every failure must leave tenant t75 exactly as it was
-- (cot_test.snapshot: relations, columns, constraints with their definitions,
-- types, meta rows including cot.relationships, ledger, row counts).
-- Walked: a create_entities group with a cycle, a self relation, a
-- one_to_one and a many_to_many; drop_entity with drop_relations (the other
-- entity loses a column and gets a new view), and of an entity that is
-- referenced and has its own junction.
BEGIN;
SELECT plan(32);
-- This file plants objects and breaks policies by hand on purpose; the drift
-- guard would refuse that DDL (tests/sql/95_drift.sql tests the guard).
SET LOCAL cot.drift = 'allow';
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t75')$$, 'tenant t75 created');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t75", "name": "customers", "fields": [{"name": "name", "type": "text"}]}')$$,
                'customers created (an existing target)');
INSERT INTO t75.customers (name) VALUES ('ann'), ('bob');

-------------------------------------------------------------------------------
-- create_entities: a cycle (orders <-> invoices), a self relation, a
-- one_to_one, a many_to_many to a later member, a target outside the group
-------------------------------------------------------------------------------
CREATE TEMP TABLE t75_group AS SELECT '[
  {"tenant": "t75", "name": "orders", "fields": [
    {"name": "title",    "type": "text", "required": true},
    {"name": "customer", "type": "relation", "kind": "many_to_one",  "target": "customers", "required": true},
    {"name": "invoice",  "type": "relation", "kind": "one_to_one",   "target": "invoices", "on_delete": "set_null"},
    {"name": "parent",   "type": "relation", "kind": "many_to_one",  "target": "orders", "on_delete": "cascade"},
    {"name": "products", "type": "relation", "kind": "many_to_many", "target": "products"}]},
  {"tenant": "t75", "name": "invoices", "fields": [
    {"name": "number", "type": "integer"},
    {"name": "for_order", "type": "relation", "kind": "many_to_one", "target": "orders", "on_delete": "cascade"},
    {"name": "orders", "type": "relation", "kind": "one_to_many", "target": "orders", "inverse": "invoice"}]},
  {"tenant": "t75", "name": "products", "fields": [{"name": "sku", "type": "text", "unique": true}]}
]'::jsonb AS defs;

CREATE TEMP TABLE t75_walk_group AS
SELECT w.* FROM t75_group, cot_test.walk(format('SELECT cot.create_entities(%L::jsonb)', defs), 't75') AS w;

SELECT is((SELECT outcome FROM t75_walk_group ORDER BY step DESC LIMIT 1), 'ok', 'create_entities: succeeds once the failpoint is past its last step');
SELECT is_empty($$SELECT step, outcome, message FROM t75_walk_group WHERE outcome NOT IN ('55000', 'ok')$$,
                'create_entities: every failure is the failpoint''s 55000');
SELECT is_empty($$SELECT step, message FROM t75_walk_group WHERE outcome = '55000' AND message <> 'cot.test_fail_after_step: failing after step ' || step$$,
                'create_entities: each failure happened right after its own step');
SELECT is((SELECT count(*)::int FROM t75_walk_group WHERE outcome = '55000'),
          (SELECT sum(cardinality(sql))::int + 4 FROM cot.migrations WHERE tenant = 't75' AND operation = 'create_entity' AND entity <> 'customers'),
          'create_entities: a failure after every statement in the 3 ledger rows, and after each of the 4 meta writes');
SELECT cmp_ok((SELECT count(*)::int FROM t75_walk_group WHERE outcome = '55000'), '>', 50, 'create_entities: more than 50 failing steps were walked');
SELECT is_empty($$SELECT step, cot_test.diff(before, after) FROM t75_walk_group WHERE changed$$,
                'create_entities: after every failure, nothing is left (no table, junction, foreign key, view, meta, relationships or ledger row)');
-- The failures after the last table's DDL and after each foreign key are
-- among those walked: the relation steps come after every table.
SELECT ok((SELECT array_position(sql, 'ALTER TABLE "tenant_t75"."orders" ADD CONSTRAINT "orders_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "tenant_t75"."customers" ("id") ON DELETE RESTRICT') IS NOT NULL
             FROM cot.migrations WHERE tenant = 't75' AND entity = 'orders'), 'the walked call added the foreign key to customers');
SELECT fk_ok('tenant_t75', 'orders', 'invoice_id', 'tenant_t75', 'invoices', 'id', 'the successful call closed the cycle: orders.invoice_id -> invoices');
SELECT fk_ok('tenant_t75', 'invoices', 'for_order_id', 'tenant_t75', 'orders', 'id', '... and invoices.for_order_id -> orders');
SELECT has_table('tenant_t75', 'orders_products', '... and made the junction');
SELECT is((SELECT count(*)::int FROM cot.relationships WHERE tenant_id = (SELECT id FROM cot.tenants WHERE slug = 't75')), 6,
          '... and recorded its 6 relations');

-- Rows everywhere, so the drops below have data to keep or lose.
INSERT INTO t75.products (sku) VALUES ('P1'), ('P2');
INSERT INTO t75.orders (title, customer_id) SELECT 'o-' || name, id FROM t75.customers;
INSERT INTO t75.invoices (number, for_order_id) SELECT row_number() OVER (ORDER BY title), id FROM t75.orders;
UPDATE t75.orders o SET invoice_id = i.id FROM t75.invoices i WHERE i.for_order_id = o.id;
INSERT INTO t75.orders_products (orders_id, products_id) SELECT o.id, p.id FROM t75.orders o, t75.products p;

-------------------------------------------------------------------------------
-- drop_entity with drop_relations: orders loses customer_id and its view is
-- made again
-------------------------------------------------------------------------------
CREATE TEMP TABLE t75_walk_drop1 AS
SELECT * FROM cot_test.walk($$SELECT cot.drop_entity('t75', 'customers', '{"drop_relations": true}')$$, 't75');

SELECT is((SELECT outcome FROM t75_walk_drop1 ORDER BY step DESC LIMIT 1), 'ok', 'drop_entity(drop_relations): succeeds at last');
SELECT is_empty($$SELECT step, outcome, message FROM t75_walk_drop1 WHERE outcome NOT IN ('55000', 'ok')$$,
                'drop_entity(drop_relations): every failure is the failpoint''s 55000');
SELECT is((SELECT count(*)::int FROM t75_walk_drop1 WHERE outcome = '55000'),
          (SELECT sum(cardinality(sql))::int + 2 FROM cot.migrations WHERE tenant = 't75' AND operation IN ('drop_relation', 'drop_entity')),
          'drop_entity(drop_relations): a failure after every statement of both ledger rows and after each meta write');
SELECT is_empty($$SELECT step, cot_test.diff(before, after) FROM t75_walk_drop1 WHERE changed$$,
                'drop_entity(drop_relations): after every failure, everything is still there (column with its values, old view, foreign key, meta, rows)');
SELECT hasnt_column('t75', 'orders', 'customer_id', 'the successful call: the view lost customer_id');
SELECT is((SELECT version FROM cot.entities WHERE name = 'orders' AND tenant_id = (SELECT id FROM cot.tenants WHERE slug = 't75')), 2,
          '... orders is at version 2');

-------------------------------------------------------------------------------
-- drop_entity of orders, with drop_relations: invoices loses for_order_id, the
-- junction goes, and orders' self relation and one_to_one go with it
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT cot.drop_entity('t75', 'orders')$$, '2BP01', NULL, 'orders is referenced by invoices: 2BP01 without drop_relations');
CREATE TEMP TABLE t75_walk_drop2 AS
SELECT * FROM cot_test.walk($$SELECT cot.drop_entity('t75', 'orders', '{"drop_relations": true}')$$, 't75');

SELECT is((SELECT outcome FROM t75_walk_drop2 ORDER BY step DESC LIMIT 1), 'ok', 'drop_entity(orders): succeeds at last');
SELECT is_empty($$SELECT step, outcome, message FROM t75_walk_drop2 WHERE outcome NOT IN ('55000', 'ok')$$,
                'drop_entity(orders): every failure is the failpoint''s 55000');
SELECT cmp_ok((SELECT count(*)::int FROM t75_walk_drop2 WHERE outcome = '55000'), '>=', 10,
              'drop_entity(orders): at least 10 failing steps (invoices'' view and column, junction, orders, meta)');
SELECT is_empty($$SELECT step, cot_test.diff(before, after) FROM t75_walk_drop2 WHERE changed$$,
                'drop_entity(orders): after every failure, everything is still there (junction with its links, invoices.for_order_id, meta)');
SELECT hasnt_table('tenant_t75', 'orders_products', 'the successful call dropped the junction');
SELECT columns_are('tenant_t75', 'invoices', ARRAY['id', 'number', 'created_at', 'updated_at'], '... invoices lost for_order_id');
SELECT is((SELECT count(*)::int FROM t75.invoices), 2, '... and kept its rows');
SELECT is((SELECT count(*)::int FROM cot.relationships WHERE tenant_id = (SELECT id FROM cot.tenants WHERE slug = 't75')), 0,
          '... no relationships left (invoices.orders went with its inverse''s entity)');

-------------------------------------------------------------------------------
-- The snapshot sees what these walks rely on
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_entities('[
    {"tenant": "t75", "name": "a", "fields": [{"name": "b", "type": "relation", "kind": "many_to_one", "target": "b"}]},
    {"tenant": "t75", "name": "b", "fields": [{"name": "links", "type": "relation", "kind": "many_to_many", "target": "a"}]}]')$$,
                'entities a and b for the snapshot checks');
CREATE FUNCTION pg_temp.sees(change text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    snap jsonb := cot_test.snapshot('t75');
    keys text[];
BEGIN
    BEGIN
        EXECUTE change;
        keys := cot_test.diff(snap, cot_test.snapshot('t75'));
        RAISE EXCEPTION 'undo' USING ERRCODE = 'P0001';
    EXCEPTION WHEN SQLSTATE 'P0001' THEN
        RETURN keys;
    END;
END $$;
SELECT ok(want = ANY (pg_temp.sees(change)), format('the snapshot sees %s: %s', want, change))
  FROM (VALUES
    ('relationships', $$UPDATE cot.relationships SET on_delete = 'cascade' WHERE fk_column = 'b_id'$$),
    ('constraints',   'ALTER TABLE tenant_t75.a DROP CONSTRAINT a_b_id_fkey, ADD CONSTRAINT a_b_id_fkey FOREIGN KEY (b_id) REFERENCES tenant_t75.b (id) ON DELETE CASCADE'),
    ('rows',          'INSERT INTO t75.b DEFAULT VALUES')
  ) AS v(want, change);

SELECT * FROM finish();
ROLLBACK;
