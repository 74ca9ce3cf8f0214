-- A tenant's model as one document: export, apply to another tenant (round
-- trip equals the original), re-apply (no change), change and apply (alter,
-- create, drop), dry run (changes nothing), refusals.
BEGIN;
SELECT plan(24);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t92a'), cot.create_tenant('t92b')$$, 'two tenants');
SELECT lives_ok($$SELECT cot.create_entities('[
  {"tenant": "t92a", "name": "customer", "label": "Client", "description": "Who buys",
   "fields": [{"name": "name", "type": "text", "required": true, "max_length": 80, "index": true},
              {"name": "email", "type": "email", "unique": true}],
   "access": {"read": "tenant", "create": "tenant", "update": "owner"}},
  {"tenant": "t92a", "name": "orders",
   "fields": [{"name": "total", "type": "decimal", "precision": 10, "scale": 2, "min": 0},
              {"name": "status", "type": "enum", "values": ["draft", "paid"], "default": "draft"},
              {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customer", "on_delete": "cascade"},
              {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tag"}],
   "indexes": [{"fields": ["status", "created_at"]}]},
  {"tenant": "t92a", "name": "tag", "fields": [{"name": "label", "type": "text"}]}]')$$, 'a model of three entities in A');

CREATE TEMP TABLE t92 (k text PRIMARY KEY, v jsonb);
INSERT INTO t92 VALUES ('a', cot.export_schema('t92a'));
-- Ids differ between tenants of one database; everything else must be equal.
CREATE FUNCTION pg_temp.model(j jsonb) RETURNS jsonb LANGUAGE sql AS
$$ SELECT regexp_replace(j::text, '"id": "[0-9a-f-]{36}"', '"id": "-"', 'g')::jsonb - 'tenant' $$;

SELECT is((SELECT v->>'format' FROM t92 WHERE k = 'a'), 'cot.schema/1', 'the export is tagged cot.schema/1');
SELECT is((SELECT jsonb_path_query_array(v, '$.entities[*].name') FROM t92 WHERE k = 'a'), '["customer", "orders", "tag"]',
          'entities by name');
SELECT ok((SELECT NOT (v->'entities'->0 ? 'tenant') AND NOT (v->'entities'->0 ? 'version') FROM t92 WHERE k = 'a'),
          'entities carry no tenant and no version');
SELECT ok((SELECT v->'entities'->0 ? 'id' AND v->'entities'->0->'fields'->0 ? 'id' FROM t92 WHERE k = 'a'), 'ids are included');

-- Dry run into B: the combined plan, nothing changed.
SELECT is((SELECT jsonb_path_query_array(cot.apply_schema('t92b', v, '{"dry_run": true}'), '$.entities[*].action') FROM t92 WHERE k = 'a'),
          '["create", "create", "create"]', 'dry run: three creates');
SELECT is((SELECT count(*)::int FROM cot.entities('t92b')), 0, 'dry run changed nothing');

-- Apply into B: A's model, reproduced.
SELECT is((SELECT cot.apply_schema('t92b', v)->'created' FROM t92 WHERE k = 'a'), '["customer", "orders", "tag"]', 'apply creates all three');
INSERT INTO t92 VALUES ('b', cot.export_schema('t92b'));
SELECT is((SELECT pg_temp.model(v) FROM t92 WHERE k = 'b'), (SELECT pg_temp.model(v) FROM t92 WHERE k = 'a'),
          'round trip: B''s export equals A''s, ids aside');
SELECT ok((SELECT (SELECT v->'entities'->0->>'id' FROM t92 WHERE k = 'a') <> (SELECT v->'entities'->0->>'id' FROM t92 WHERE k = 'b')),
          'B got ids of its own (A''s belong to A)');
SELECT is_empty($$SELECT * FROM cot.check('t92b')$$, 'B''s catalog matches its definitions');
-- Applying again changes nothing: ids map to the same ones.
SELECT is((SELECT cot.apply_schema('t92b', v) FROM t92 WHERE k = 'a'),
          '{"tenant": "t92b", "altered": [], "created": [], "dropped": [], "unchanged": ["customer", "orders", "tag"]}',
          're-applying A''s bundle to B is a no-op');
SELECT is((SELECT count(*)::int FROM cot.migrations WHERE tenant = 't92b'), 4, 'the ledger has only the creates (3 + tenant)');
-- B's own export applied to B changes nothing either.
SELECT is((SELECT cot.apply_schema('t92b', v)->'unchanged' FROM t92 WHERE k = 'b'), '["customer", "orders", "tag"]',
          'B''s own export re-applied: unchanged');

-- A changed bundle: a field renamed (same id), a new entity, tag dropped (with its relation).
INSERT INTO tenant_t92b.customer (name) VALUES ('Ada');
INSERT INTO tenant_t92b.tag (label) VALUES ('x');
INSERT INTO t92 SELECT 'c', jsonb_set(v, '{entities}', (
    SELECT jsonb_agg(CASE e->>'name'
        WHEN 'customer' THEN jsonb_set(e, '{fields,0,name}', '"full_name"')
        WHEN 'orders' THEN jsonb_set(e, '{fields}', (SELECT jsonb_agg(f) FROM jsonb_array_elements(e->'fields') f WHERE f->>'name' <> 'tags'))
        ELSE e END) || '[{"name": "note", "fields": [{"name": "body", "type": "text"}]}]'::jsonb
    FROM jsonb_array_elements(v->'entities') e WHERE e->>'name' <> 'tag')) FROM t92 WHERE k = 'b';
SELECT is(cot_test.sqlstate_of($$SELECT cot.apply_schema('t92b', (SELECT v FROM t92 WHERE k = 'c'))$$), '22000',
          'dropping tag, which holds a row, needs allow_data_loss: 22000');
SELECT is((SELECT jsonb_path_query_array(cot.apply_schema('t92b', v, '{"dry_run": true}'), '$.entities[*] ? (@.action != "none").action') FROM t92 WHERE k = 'c'),
          '["create", "alter", "alter", "drop"]', 'dry run: note created, customer and orders altered, tag dropped');
SELECT is((SELECT cot.apply_schema('t92b', v, '{"allow_data_loss": true}') FROM t92 WHERE k = 'c'),
          '{"tenant": "t92b", "altered": ["customer", "orders"], "created": ["note"], "dropped": ["tag"], "unchanged": []}',
          'apply with allow_data_loss: created, altered, dropped');
SELECT is((SELECT full_name FROM t92b.customer), 'Ada', 'the renamed field kept its value');
SELECT ok(to_regclass('tenant_t92b.tag') IS NULL AND to_regclass('tenant_t92b.orders_tags') IS NULL, 'tag and the junction are gone');
SELECT is_empty($$SELECT * FROM cot.check('t92b')$$, 'and the catalog still matches');

-- Bad bundles.
SELECT is(cot_test.sqlstate_of($$SELECT cot.apply_schema('t92b', '{"entities": []}')$$), '22023', 'no format tag: 22023');
SELECT is(cot_test.sqlstate_of($$SELECT cot.apply_schema('t92b', '{"format": "cot.schema/1", "entities": [{"name": "x", "fields": [{"name": "y", "type": "relation", "kind": "many_to_one", "target": "nowhere"}]}]}')$$),
          '42704', 'a relation target outside the bundle: 42704');
SET LOCAL ROLE cot_t92a_admin;
SELECT is(cot_test.sqlstate_of($$SELECT cot.apply_schema('t92b', '{"format": "cot.schema/1", "entities": []}')$$), '42501',
          'another tenant''s admin: 42501');
RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
