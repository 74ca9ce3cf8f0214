-- Cot demo: a tenant, two entities defined as JSON, real tables behind them.
-- Run by scripts/demo.sh (psql -X -v ON_ERROR_STOP=1 --echo-queries), which
-- shows each statement before its result.
\pset pager off
\pset null '∅'

\echo
\echo '=== 1. A tenant: storage schema tenant_acme (tables) and API schema acme (views)'
SELECT jsonb_pretty(cot.create_tenant('acme', '{"name":"Acme Inc"}'));

\echo
\echo '=== 2. Two entities, defined as JSON'
-- create_entity returns the normalized definition (shown in full in part 7);
-- here just its headline.
SELECT e->>'tenant' AS tenant, e->>'name' AS entity, e->>'version' AS version,
       jsonb_array_length(e->'fields') AS fields, e->>'id' AS id
FROM cot.create_entity($json$
{
  "tenant": "acme",
  "name": "customers",
  "fields": [
    {"name": "name",        "type": "text",    "required": true, "max_length": 200},
    {"name": "email",       "type": "email",   "unique": true},
    {"name": "vip",         "type": "boolean", "default": false},
    {"name": "signup_date", "type": "date",    "default": "today"}
  ],
  "access": {"read": "tenant", "create": "tenant", "update": "tenant", "delete": "admin"}
}
$json$::jsonb) AS e;

SELECT e->>'tenant' AS tenant, e->>'name' AS entity, e->>'version' AS version,
       jsonb_array_length(e->'fields') AS fields, e->>'id' AS id
FROM cot.create_entity($json$
{
  "tenant": "acme",
  "name": "orders",
  "fields": [
    {"name": "title",     "type": "text",      "required": true},
    {"name": "status",    "type": "enum",      "values": ["draft", "paid", "shipped"], "default": "draft"},
    {"name": "total",     "type": "decimal",   "precision": 12, "scale": 2, "min": 0},
    {"name": "quantity",  "type": "integer",   "min": 1, "default": 1},
    {"name": "tags",      "type": "array",     "items": "text"},
    {"name": "placed_at", "type": "timestamp", "default": "now"},
    {"name": "notes",     "type": "json"},
    {"name": "customer",  "type": "relation",  "kind": "many_to_one", "target": "customers"}
  ],
  "indexes": [{"fields": ["status", "created_at"]}],
  "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "admin"}
}
$json$::jsonb) AS e;

\echo
\echo '=== 3. What Cot made: a real table with typed columns and constraints ...'
\d tenant_acme.orders
\echo '... and the API view in front of it'
\d+ acme.orders

\echo
\echo '=== 4. Rows, through the API view and straight into the table'
INSERT INTO acme.customers (name, email, vip)
VALUES ('Ada Lovelace', 'ada@example.com', true),
       ('Grace Hopper', 'grace@example.com', false)
RETURNING id, name, email, vip, signup_date;

-- customer_id is the column of the relation field "customer".
INSERT INTO acme.orders (title, status, total, quantity, tags, notes, customer_id)
VALUES ('Analytical engine', 'paid', 1999.90, 1, ARRAY['hardware', 'vintage'], '{"gift": true}',
        (SELECT id FROM acme.customers WHERE email = 'ada@example.com'))
RETURNING id, title, status, total, placed_at IS NOT NULL AS placed, customer_id IS NOT NULL AS has_customer;

-- Only the required field: status, quantity and placed_at take their defaults.
INSERT INTO acme.orders (title, total, tags)
VALUES ('Punch cards', 12.50, ARRAY['supplies'])
RETURNING title, status, quantity;

INSERT INTO tenant_acme.orders (title, status, total, quantity, customer_id)
VALUES ('Compiler manual', 'shipped', 45.00, 3,
        (SELECT id FROM tenant_acme.customers WHERE email = 'grace@example.com'))
RETURNING id, title, created_at IS NOT NULL AS stamped;

\echo
\echo '=== 5. The database itself refuses rows that break the definition'
-- Each statement runs in its own sub-transaction; the error is reported as a
-- notice and the demo goes on.
DO $do$
DECLARE
  stmt text;
BEGIN
  FOREACH stmt IN ARRAY ARRAY[
    $q$INSERT INTO acme.orders (title, total) VALUES ('Refund', -5)$q$,
    $q$INSERT INTO acme.orders (title, status) VALUES ('Lost parcel', 'lost')$q$,
    $q$INSERT INTO acme.orders (title, quantity) VALUES ('Nothing', 0)$q$,
    $q$INSERT INTO acme.orders (total) VALUES (10)$q$,
    $q$INSERT INTO acme.customers (name, email) VALUES ('Ada again', 'ada@example.com')$q$,
    $q$INSERT INTO acme.customers (name, email) VALUES ('Nobody', 'not-an-email')$q$,
    $q$INSERT INTO acme.customers (name) VALUES (repeat('x', 201))$q$
  ] LOOP
    BEGIN
      EXECUTE stmt;
      RAISE NOTICE E'ACCEPTED (unexpected): %', stmt;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE E'refused: %\n    SQLSTATE %: %', stmt, SQLSTATE, SQLERRM;
    END;
  END LOOP;
END
$do$;

\echo
\echo '=== 6. ... and Cot refuses bad definitions, saying where and why'
SELECT jsonb_pretty(cot.validate_entity($json$
{"tenant": "acme", "name": "Bad Name", "fields": [{"name": "price", "type": "money"}]}
$json$::jsonb));

\echo 'Creating orders a second time fails (the error is shown; the demo goes on):'
\set ON_ERROR_STOP 0
SELECT cot.create_entity('{"tenant":"acme","name":"orders","fields":[{"name":"title","type":"text"}]}'::jsonb);
\echo 'SQLSTATE' :LAST_ERROR_SQLSTATE '(duplicate_table, as for CREATE TABLE)'
\set ON_ERROR_STOP 1

\echo
\echo '=== 7. The catalogue'
SELECT * FROM cot.entities('acme');
SELECT jsonb_pretty(cot.entity('acme', 'orders'));
-- The ledger: every change Cot made, with the SQL it ran.
SELECT id, operation, cardinality(sql) AS statements, applied_at FROM cot.migrations ORDER BY id;

\echo
\echo '=== 8. Plain SQL over the entities'
SELECT status, count(*) AS orders, sum(total) AS revenue, sum(quantity) AS items
FROM acme.orders
GROUP BY status
ORDER BY status;

SELECT title, tags, notes
FROM acme.orders
WHERE 'hardware' = ANY (tags);

-- The relation is a real foreign key: join along it.
SELECT o.title, c.name AS customer
FROM acme.orders o
LEFT JOIN acme.customers c ON c.id = o.customer_id
ORDER BY o.title;

\echo
\echo '=== 9. Row-level security: what an end user of acme sees (claims as PostgREST sets them)'
-- A second tenant with its own orders, to show that acme's users never see
-- them. It stays: the HTTP part of the demo (scripts/demo.sh) serves both.
SELECT cot.create_tenant('globex', '{"name":"Globex"}') IS NOT NULL AS globex_created;
SELECT cot.create_entity('{"tenant":"globex","name":"orders",
                           "fields":[{"name":"title","type":"text","required":true},
                                     {"name":"total","type":"decimal","precision":12,"scale":2,"min":0}],
                           "access":{"read":"tenant","create":"tenant","update":"tenant","delete":"tenant"}}') IS NOT NULL AS globex_orders;
INSERT INTO globex.orders (title, total)
VALUES ('Globex secret order', 1000000.00),
       ('Doomsday device, deposit', 250000.00),
       ('Hammocks for the office', 830.00)
RETURNING title, total;
BEGIN;
SELECT set_config('request.jwt.claims', '{"role":"cot_acme_user","tenant":"acme","sub":"user-1"}', true) IS NOT NULL AS claims_set;
SET LOCAL ROLE cot_acme_user;
SELECT current_user, cot.claim_tenant() AS tenant_claim, count(*) AS acme_orders_visible FROM acme.orders;
INSERT INTO acme.orders (title, total) VALUES ('Placed by user-1', 10) RETURNING title, owner_id;
\set ON_ERROR_STOP 0
\echo 'acme''s user reading globex''s orders: no privilege at all'
SELECT count(*) FROM globex.orders;
\set ON_ERROR_STOP 1
ROLLBACK;
BEGIN;
\echo 'A user of globex whose token claims tenant acme: the tenant check admits nothing'
SELECT set_config('request.jwt.claims', '{"role":"cot_globex_user","tenant":"acme"}', true) IS NOT NULL AS claims_set;
SET LOCAL ROLE cot_globex_user;
SELECT count(*) AS globex_orders_visible FROM globex.orders;
ROLLBACK;

\echo
\echo '=== 10. Changing an entity: the plan first (it changes nothing), then the change'
-- vip becomes is_vip (the same field id: a rename that keeps the data) and a
-- phone field is added. The definition comes back from cot.entity() and goes
-- in again with the changes.
SELECT jsonb_set(d, '{fields}',
         (SELECT jsonb_agg(CASE WHEN f->>'name' = 'vip' THEN f || '{"name": "is_vip", "label": "VIP"}' ELSE f END)
          FROM jsonb_array_elements(d->'fields') AS f)
         || '[{"name": "phone", "type": "text", "max_length": 30}]') AS new_customers
FROM (SELECT cot.entity('acme', 'customers') - 'referenced_by' AS d) AS x \gset
SELECT c->>'class' AS class, c->>'sql' AS sql
FROM jsonb_array_elements(cot.plan_entity(:'new_customers')->'changes') AS c
WHERE c->>'step' IN ('rename_column', 'add_column');
SELECT cot.alter_entity(:'new_customers')->>'version' AS version;
SELECT name, is_vip, phone FROM acme.customers ORDER BY name;
\echo 'Dropping a field that holds data is refused, with the count (the error is shown; the demo goes on):'
\set ON_ERROR_STOP 0
SELECT cot.alter_entity(jsonb_set(d, '{fields}',
         (SELECT jsonb_agg(f) FROM jsonb_array_elements(d->'fields') AS f WHERE f->>'name' <> 'email')))
FROM (SELECT cot.entity('acme', 'customers') - 'referenced_by' AS d) AS x;
\set ON_ERROR_STOP 1
-- What cot.check says about the tenant: nothing, the catalog matches.
SELECT count(*) AS differences FROM cot.check('acme');

\echo
\echo '=== 11. cot.query: filter, sort, page and embed related records, as the caller'
SELECT jsonb_pretty(cot.query('acme', 'orders', '{
  "select": ["title", "total", {"customer": ["name"]}],
  "where": {"total": {"gte": 10}},
  "order": ["-total"], "limit": 2, "count": true}')) AS page;
