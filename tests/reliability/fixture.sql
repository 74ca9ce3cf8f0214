-- One tenant for the reliability runs (tests/reliability/sqlsmith.sh,
-- bench/soak.sh): entities with a field of every type, every array item
-- type, every relation kind, owner and public rules, and rows.
--
--   psql -v tenant=rel_a -v rows=200 -f tests/reliability/fixture.sql
--
-- Run as a superuser in a database with Cot installed.
\set ON_ERROR_STOP 1
\o /dev/null
SET client_min_messages = warning;

SELECT cot.create_tenant(:'tenant');

SELECT cot.create_entities(replace($$[
  {"tenant": "@T", "name": "countries", "access": {"read": "public"}, "fields": [
    {"name": "name", "type": "text", "required": true, "max_length": 100},
    {"name": "code", "type": "text", "required": true, "unique": true, "pattern": "^[A-Z]{2}$"}
  ]},
  {"tenant": "@T", "name": "customers", "access": {"read": "tenant", "create": "tenant", "update": "tenant", "delete": "admin"},
   "fields": [
    {"name": "name",    "type": "text", "required": true, "min_length": 1, "max_length": 200},
    {"name": "email",   "type": "email", "unique": true},
    {"name": "website", "type": "url"},
    {"name": "country", "type": "relation", "kind": "many_to_one", "target": "countries", "on_delete": "set_null"},
    {"name": "orders",  "type": "relation", "kind": "one_to_many", "target": "orders", "inverse": "customer"}
  ]},
  {"tenant": "@T", "name": "shipments", "access": {"read": "tenant", "create": "tenant", "update": "tenant"}, "fields": [
    {"name": "carrier",  "type": "text", "required": true},
    {"name": "tracking", "type": "text"}
  ]},
  {"tenant": "@T", "name": "products", "access": {"read": "public", "create": "tenant"}, "fields": [
    {"name": "name",  "type": "text", "required": true},
    {"name": "price", "type": "decimal", "precision": 10, "scale": 2, "min": 0}
  ]},
  {"tenant": "@T", "name": "orders",
   "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "owner"},
   "fields": [
    {"name": "title",     "type": "text", "required": true, "max_length": 200, "index": true},
    {"name": "status",    "type": "enum", "values": ["draft", "paid", "shipped"], "default": "draft", "index": true},
    {"name": "total",     "type": "decimal", "precision": 12, "scale": 2, "min": 0},
    {"name": "qty",       "type": "integer", "min": 0, "max": 100000},
    {"name": "views",     "type": "bigint", "default": 0},
    {"name": "ratio",     "type": "float"},
    {"name": "rush",      "type": "boolean", "default": false},
    {"name": "placed_on", "type": "date", "default": "today"},
    {"name": "placed_at", "type": "timestamp", "default": "now"},
    {"name": "slot",      "type": "time"},
    {"name": "ref",       "type": "uuid", "default": "uuid"},
    {"name": "meta",      "type": "json"},
    {"name": "contact",   "type": "email"},
    {"name": "link",      "type": "url"},
    {"name": "tags",      "type": "array", "items": "text", "default": []},
    {"name": "codes",     "type": "array", "items": "integer"},
    {"name": "colours",   "type": "array", "items": "enum", "values": ["red", "green", "blue"]},
    {"name": "days",      "type": "array", "items": "date"},
    {"name": "customer",  "type": "relation", "kind": "many_to_one", "target": "customers", "required": true},
    {"name": "shipment",  "type": "relation", "kind": "one_to_one", "target": "shipments", "on_delete": "set_null"},
    {"name": "products",  "type": "relation", "kind": "many_to_many", "target": "products"}
   ],
   "indexes": [{"fields": ["status", "placed_on"]}]},
  {"tenant": "@T", "name": "notes", "access": {"read": "owner", "create": "tenant", "update": "owner", "delete": "owner"},
   "fields": [
    {"name": "body",   "type": "text", "required": true},
    {"name": "parent", "type": "relation", "kind": "many_to_one", "target": "notes"},
    {"name": "links",  "type": "relation", "kind": "many_to_many", "target": "notes"}
   ]},
  {"tenant": "@T", "name": "all_arrays", "access": {"read": "public", "create": "public", "update": "public", "delete": "public"},
   "fields": [
    {"name": "a_bigint",    "type": "array", "items": "bigint"},
    {"name": "a_decimal",   "type": "array", "items": "decimal", "precision": 8, "scale": 3},
    {"name": "a_float",     "type": "array", "items": "float"},
    {"name": "a_boolean",   "type": "array", "items": "boolean"},
    {"name": "a_timestamp", "type": "array", "items": "timestamp"},
    {"name": "a_time",      "type": "array", "items": "time"},
    {"name": "a_uuid",      "type": "array", "items": "uuid"},
    {"name": "a_email",     "type": "array", "items": "email"},
    {"name": "a_url",       "type": "array", "items": "url"}
   ]}
]$$, '@T', :'tenant')::jsonb);

-- Rows, written straight into the storage tables as the superuser (the
-- owner_id of the owner rules is set to user-1..user-5 so that a tenant
-- user's claims see some of them).
SELECT format('tenant_%s', :'tenant') AS ts \gset
-- Triggers off while loading: the owner trigger would set owner_id to the
-- (absent) sub claim of this session.
SET session_replication_role = replica;
INSERT INTO :"ts".countries (name, code)
SELECT 'Country ' || i, chr(65 + i / 26) || chr(65 + i % 26) FROM generate_series(0, 29) AS i;
INSERT INTO :"ts".customers (name, email, website, country_id)
SELECT 'Customer ' || i, 'c' || i || '@example.com', 'https://example.com/c/' || i,
       (SELECT id FROM :"ts".countries ORDER BY code OFFSET i % 30 LIMIT 1)
  FROM generate_series(1, greatest(:rows / 10, 5)) AS i;
INSERT INTO :"ts".shipments (carrier, tracking)
SELECT (ARRAY['DHL', 'UPS', 'Post'])[1 + i % 3], CASE WHEN i % 2 = 0 THEN 'T' || i END
  FROM generate_series(1, greatest(:rows / 4, 5)) AS i;
INSERT INTO :"ts".products (name, price)
SELECT 'Product ' || i, (i * 3.25)::numeric(10, 2) FROM generate_series(1, 40) AS i;
INSERT INTO :"ts".orders (title, status, total, qty, views, ratio, rush, placed_on, placed_at, slot, meta,
                          contact, link, tags, codes, colours, days, customer_id, owner_id)
SELECT 'Order ' || i || CASE WHEN i % 7 = 0 THEN ' fragile' ELSE '' END,
       (ARRAY['draft', 'paid', 'shipped'])[1 + i % 3],
       (i * 1.5)::numeric(12, 2), i % 50, i * 10, i / 7.0, i % 5 = 0,
       date '2026-01-01' + i % 90, timestamptz '2026-01-01 00:00:00+00' + i * interval '37 minutes',
       time '08:00' + (i % 600) * interval '1 minute',
       jsonb_build_object('source', (ARRAY['web', 'phone'])[1 + i % 2], 'priority', i % 4),
       'buyer' || i || '@example.com', 'https://example.com/o/' || i,
       ARRAY['t' || i % 5, 'x'], ARRAY[i, i + 1], ARRAY['red', 'blue'],
       ARRAY[date '2026-02-01' + i % 20],
       (SELECT id FROM :"ts".customers ORDER BY name OFFSET i % greatest(:rows / 10, 5) LIMIT 1),
       'user-' || (1 + i % 5)
  FROM generate_series(1, :rows) AS i;
UPDATE :"ts".orders o SET shipment_id = s.id
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM :"ts".shipments) s,
       (SELECT id, row_number() OVER (ORDER BY id) AS n FROM :"ts".orders) x
 WHERE x.id = o.id AND s.n = x.n;
INSERT INTO :"ts".orders_products (orders_id, products_id)
SELECT o.id, p.id
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM :"ts".orders) o
  JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM :"ts".products) p ON (o.n + p.n) % 13 = 0;
INSERT INTO :"ts".notes (body, owner_id)
SELECT 'note ' || i, 'user-' || (1 + i % 5) FROM generate_series(1, greatest(:rows / 5, 5)) AS i;
UPDATE :"ts".notes n SET parent_id = (SELECT id FROM :"ts".notes ORDER BY id LIMIT 1)
 WHERE n.body LIKE 'note %5';
INSERT INTO :"ts".all_arrays (a_bigint, a_decimal, a_float, a_boolean, a_timestamp, a_time, a_uuid, a_email, a_url)
SELECT ARRAY[i::bigint], ARRAY[i / 3.0]::numeric(8, 3)[], ARRAY[i * 0.5], ARRAY[i % 2 = 0],
       ARRAY[timestamptz '2026-01-01 00:00+00' + i * interval '1 hour'], ARRAY[time '10:00'],
       ARRAY[cot.uuid_generate_v7()], ARRAY['a' || i || '@example.com'], ARRAY['https://example.com/' || i]
  FROM generate_series(1, 20) AS i;
RESET session_replication_role;
ANALYZE;
