-- Schema evolution: cot.plan_entity and cot.alter_entity on tables that hold
-- rows. Every kind of change is applied and the data checked afterwards:
-- renames keep values (and their constraints, indexes and the view follow),
-- type changes convert (and are classed right: a rewrite, or metadata only
-- where the stored bytes stay valid, proven by the table's relfilenode), enum
-- values renamed in the rows, defaults, required, unique, indexes, limits,
-- relations (many_to_one with its embedding function, many_to_many with its
-- links), access rules (policies, grants, and a read as the tenant's roles).
-- Lossy changes are refused with the right SQLSTATE and counts, and a refusal
-- changes nothing. plan_entity classes and counts, and changes nothing; after
-- every alter the stored definition plans to "none"; the ledger and the meta
-- rows follow; a stale version is 40001; the /rpc/ wrappers as the tenant's
-- admin; and an alter failing after any of its steps leaves everything as it
-- was (the failpoint walk of 50_atomicity.sql).
BEGIN;
SELECT plan(0);
SET LOCAL client_min_messages = warning;
SET LOCAL timezone = 'UTC';

-------------------------------------------------------------------------------
-- Helpers
-------------------------------------------------------------------------------
-- The stored definition, as cot.entity() returns it (ids, version), without
-- the read-only referenced_by.
CREATE FUNCTION pg_temp.def(entity text, tenant text DEFAULT 't90') RETURNS jsonb
LANGUAGE sql AS $$ SELECT cot.entity(tenant, entity) - 'referenced_by' $$;

-- def with the field `fname` merged with `patch`; keys patched to null are removed.
CREATE FUNCTION pg_temp.with_field(def jsonb, fname text, patch jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT jsonb_set(def, '{fields}', coalesce((
        SELECT jsonb_agg(CASE WHEN f->>'name' = fname
                              THEN (SELECT jsonb_object_agg(k, v) FROM jsonb_each(f || patch) AS e(k, v) WHERE v <> 'null')
                              ELSE f END ORDER BY i)
          FROM jsonb_array_elements(def->'fields') WITH ORDINALITY AS x(f, i)), '[]'))
$$;

CREATE FUNCTION pg_temp.without_field(def jsonb, fname text) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT jsonb_set(def, '{fields}', coalesce((
        SELECT jsonb_agg(f ORDER BY i) FROM jsonb_array_elements(def->'fields') WITH ORDINALITY AS x(f, i)
         WHERE f->>'name' <> fname), '[]'))
$$;

CREATE FUNCTION pg_temp.plus_field(def jsonb, field jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT jsonb_set(def, '{fields}', (def->'fields') || jsonb_build_array(field)) $$;

-- The changes of a plan that are not metadata, as 'step:class[:rows]', in order.
CREATE FUNCTION pg_temp.costly(p jsonb) RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg((c->>'step') || ':' || (c->>'class') || coalesce(':' || (c->>'rows'), '') ORDER BY i), '{}')
      FROM jsonb_array_elements(p->'changes') WITH ORDINALITY AS x(c, i) WHERE c->>'class' <> 'metadata'
$$;

-- The steps of a plan, in order.
CREATE FUNCTION pg_temp.steps(p jsonb) RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(c->>'step' ORDER BY i), '{}') FROM jsonb_array_elements(p->'changes') WITH ORDINALITY AS x(c, i)
$$;

-- What planning the stored definition gives: 'none 0 0' (action, changes,
-- refusals) once an alter has done all it should.
CREATE FUNCTION pg_temp.settled(entity text, tenant text DEFAULT 't90') RETURNS text
LANGUAGE sql AS $$
    SELECT format('%s %s %s', p->>'action', jsonb_array_length(p->'changes'), jsonb_array_length(p->'refused'))
      FROM cot.plan_entity(cot.entity(tenant, entity)) AS p
$$;

-- Everything about tenant t90 that a change could touch: the snapshot of
-- helpers.sql (catalog, meta rows, ledger, row counts) plus the content of
-- every table, so a refused change is seen to change no value either.
CREATE FUNCTION pg_temp.state(slug text DEFAULT 't90') RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    data jsonb := '{}';
    r record;
    h text;
BEGIN
    FOR r IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = ('tenant_' || slug)::regnamespace AND c.relkind = 'r' ORDER BY 1 LOOP
        EXECUTE format('SELECT md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) FROM %I.%I AS t', E'\n', '', 'tenant_' || slug, r.relname)
           INTO h;
        data := data || jsonb_build_object(r.relname, h);
    END LOOP;
    RETURN cot_test.snapshot(slug) || jsonb_build_object('data', data,
        'policies', (SELECT coalesce(jsonb_agg(jsonb_build_array(tablename, policyname, roles::text, qual, with_check) ORDER BY tablename, policyname), '[]')
                       FROM pg_policies WHERE schemaname = 'tenant_' || slug),
        'indexes', (SELECT coalesce(jsonb_agg(jsonb_build_array(tablename, indexname, indexdef) ORDER BY tablename, indexname), '[]')
                      FROM pg_indexes WHERE schemaname IN (slug, 'tenant_' || slug)),
        'functions', (SELECT coalesce(jsonb_agg(p.oid::regprocedure::text ORDER BY 1), '[]')
                        FROM pg_proc p WHERE p.pronamespace = slug::regnamespace),
        'defaults', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid)) ORDER BY 1), '[]')
                       FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                      WHERE c.relnamespace = ('tenant_' || slug)::regnamespace),
        'relfilenodes', (SELECT coalesce(jsonb_object_agg(relname, relfilenode), '{}') FROM pg_class
                          WHERE relnamespace = ('tenant_' || slug)::regnamespace AND relkind = 'r'));
END $$;

-- The error a call raises, and the keys of pg_temp.state() it changed (NULL:
-- none).
CREATE FUNCTION pg_temp.attempt(q text, slug text DEFAULT 't90') RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    before jsonb := pg_temp.state(slug);
    e jsonb;
BEGIN
    e := cot_test.error_of(q);
    RETURN e || jsonb_build_object('changed', to_jsonb(cot_test.diff(before, pg_temp.state(slug))));
END $$;

-- 'SQLSTATE message' of a refused alter of `def`, when it changed nothing;
-- 'CHANGED ...' when it did.
CREATE FUNCTION pg_temp.refusal(def jsonb, options jsonb DEFAULT '{}') RETURNS text
LANGUAGE sql AS $$
    SELECT CASE WHEN a->'changed' <> 'null' THEN 'CHANGED ' || (a->'changed')::text || ' ' ELSE '' END
           || (a->>'sqlstate') || coalesce(' ' || (a->>'message'), '')
      FROM pg_temp.attempt(format('SELECT cot.alter_entity(%L::jsonb, %L::jsonb)', def, options)) AS a
$$;

-- The DETAIL of a refused alter.
CREATE FUNCTION pg_temp.detail(def jsonb, options jsonb DEFAULT '{}') RETURNS text
LANGUAGE sql AS $$
    SELECT cot_test.error_of(format('SELECT cot.alter_entity(%L::jsonb, %L::jsonb)', def, options))->>'detail'
$$;

CREATE FUNCTION pg_temp.relfilenode(tbl text) RETURNS oid
LANGUAGE sql AS $$ SELECT relfilenode FROM pg_class WHERE oid = tbl::regclass $$;

-- Column type as format_type shows it.
CREATE FUNCTION pg_temp.col_type(tbl text, col text) RETURNS text
LANGUAGE sql AS $$
    SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = tbl::regclass AND attname = col AND NOT attisdropped
$$;

-- The cot.fields rows of an entity of t90, as 'position:name:type'.
CREATE FUNCTION pg_temp.meta_fields(entity text, tenant text DEFAULT 't90') RETURNS text[]
LANGUAGE sql AS $$
    SELECT array_agg(f.position || ':' || f.name || ':' || f.type ORDER BY f.position)
      FROM cot.fields f JOIN cot.entities e ON e.id = f.entity_id JOIN cot.tenants t ON t.id = e.tenant_id
     WHERE t.slug = tenant AND e.name = entity
$$;

CREATE FUNCTION pg_temp.version(entity text, tenant text DEFAULT 't90') RETURNS int
LANGUAGE sql AS $$
    SELECT e.version FROM cot.entities e JOIN cot.tenants t ON t.id = e.tenant_id WHERE t.slug = tenant AND e.name = entity
$$;

-- Constraint names of a table.
CREATE FUNCTION pg_temp.constraints(tbl text) RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(conname::text ORDER BY conname), '{}') FROM pg_constraint WHERE conrelid = tbl::regclass
$$;

-- Index names of a table, with their columns.
CREATE FUNCTION pg_temp.indexes(schema text, tbl text) RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(indexname || substring(indexdef FROM ' USING \w+ (\(.*\))$') ORDER BY indexname), '{}')
      FROM pg_indexes WHERE schemaname = schema AND tablename = tbl
$$;

SELECT lives_ok($$SELECT cot.create_tenant('t90')$$, 'tenant t90 created');

-------------------------------------------------------------------------------
-- Fields of a table with rows
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t90", "name": "items", "fields": [
    {"name": "title",    "type": "text", "required": true, "max_length": 100, "index": true},
    {"name": "qty",      "type": "text"},
    {"name": "n",        "type": "integer", "min": 0},
    {"name": "big",      "type": "integer"},
    {"name": "day",      "type": "date"},
    {"name": "price",    "type": "decimal", "precision": 10, "scale": 2},
    {"name": "status",   "type": "enum", "values": ["draft", "paid", "shipped"], "default": "draft"},
    {"name": "note",     "type": "text"},
    {"name": "score",    "type": "integer", "max": 100},
    {"name": "code",     "type": "text"},
    {"name": "flag",     "type": "boolean"},
    {"name": "obsolete", "type": "text"},
    {"name": "empty",    "type": "text"}]}')$$, 'items created');
INSERT INTO t90.items (title, qty, n, big, day, price, status, note, score, code, flag, obsolete) VALUES
    ('a', '12', 5, 2147483647, '2024-01-02', 12.34, 'draft', 'x', 50, 'A', true, 'old1'),
    ('b', '7', 6, 1, '2024-02-03', 1.5, 'paid', NULL, 100, 'A', false, NULL),
    ('c', NULL, NULL, NULL, NULL, NULL, 'shipped', NULL, NULL, 'B', NULL, 'old3');
CREATE TEMP TABLE t90_ids AS SELECT title, id FROM t90.items;
CREATE TEMP TABLE t90_v1 AS SELECT pg_temp.def('items') AS def;

-- A definition equal to the stored one changes nothing.
SELECT is(pg_temp.settled('items'), 'none 0 0', 'the stored definition plans to "none" with no changes');
SELECT is((SELECT (cot.alter_entity(def)->>'version')::int FROM t90_v1), 1, 'altering to the same definition keeps version 1');
SELECT is((SELECT count(*)::int FROM cot.migrations WHERE tenant = 't90' AND operation = 'alter_entity'), 0, '... and records no ledger row');
SELECT is((cot.plan_entity('{"tenant": "t90", "name": "items", "fields": [
    {"name": "title", "type": "text", "required": true, "max_length": 100, "index": true},
    {"name": "qty", "type": "text"}, {"name": "n", "type": "integer", "min": 0}, {"name": "big", "type": "integer"},
    {"name": "day", "type": "date"}, {"name": "price", "type": "decimal", "precision": 10, "scale": 2},
    {"name": "status", "type": "enum", "values": ["draft", "paid", "shipped"], "default": "draft"},
    {"name": "note", "type": "text"}, {"name": "score", "type": "integer", "max": 100}, {"name": "code", "type": "text"},
    {"name": "flag", "type": "boolean"}, {"name": "obsolete", "type": "text"}, {"name": "empty", "type": "text"}]}'))->>'action',
          'none', 'a hand-written definition without ids means the same fields: "none"');

-- Rename: same id, new name.
CREATE TEMP TABLE t90_plan AS
SELECT cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'title', '{"name": "name", "label": null}')) AS p;
SELECT is((SELECT pg_temp.costly(p) FROM t90_plan), '{}', 'rename: every step is metadata');
SELECT ok((SELECT pg_temp.steps(p) @> ARRAY['rename_column', 'rename_constraint', 'rename_index'] FROM t90_plan),
          'rename: the plan renames the column, its constraint and its index');
SELECT is((SELECT p->'summary' FROM t90_plan), (SELECT jsonb_build_object('metadata', jsonb_array_length(p->'changes'), 'validating_scan', 0,
                                                                          'table_rewrite', 0, 'data_loss', 0) FROM t90_plan),
          'rename: the summary counts every change as metadata');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'title', '{"name": "name", "label": null}'))$$,
                'rename title -> name');
SELECT is((SELECT array_agg(name ORDER BY name) FROM t90.items), ARRAY['a', 'b', 'c'], '... the values are kept, read through the view');
SELECT is((SELECT count(*)::int FROM t90.items i JOIN t90_ids USING (id) WHERE i.name = t90_ids.title), 3, '... each row keeps its own value');
SELECT hasnt_column('tenant_t90', 'items', 'title', '... no column title any more');
SELECT col_not_null('tenant_t90', 'items', 'name', '... name is still NOT NULL');
SELECT ok(pg_temp.constraints('tenant_t90.items') @> ARRAY['items_name_max_length']
          AND NOT pg_temp.constraints('tenant_t90.items') && ARRAY['items_title_max_length'], '... its CHECK is renamed items_name_max_length');
SELECT throws_ok($$INSERT INTO t90.items (name) VALUES (repeat('x', 101))$$, '23514', NULL, '... and still holds');
SELECT has_index('tenant_t90', 'items', 'items_name_idx', 'name', '... its index is renamed items_name_idx');
SELECT hasnt_index('tenant_t90', 'items', 'items_title_idx', '... and the old name is gone');
SELECT is(col_description('tenant_t90.items'::regclass, (SELECT attnum FROM pg_attribute WHERE attrelid = 'tenant_t90.items'::regclass AND attname = 'name')),
          'Name', '... the column comment follows the new label');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 't90.items'::regclass), ARRAY['security_invoker=true'], '... the rebuilt view is security_invoker');
SELECT ok(has_table_privilege('cot_t90_admin', 't90.items', 'SELECT, INSERT, UPDATE, DELETE'), '... and granted to the admin role again');
SELECT is((SELECT f.id FROM cot.fields f WHERE f.name = 'name' AND f.entity_id = (SELECT def->>'id' FROM t90_v1)::uuid)::text,
          (SELECT def->'fields'->0->>'id' FROM t90_v1), '... cot.fields keeps the field''s id under its new name');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... and the stored definition plans to "none"');
SELECT is(pg_temp.version('items'), 2, '... version 2');

-- Type changes that convert.
UPDATE t90.items SET qty = NULL WHERE name = 'c';
CREATE TEMP TABLE t90_fn AS SELECT pg_temp.relfilenode('tenant_t90.items') AS before;
DELETE FROM t90_plan;
INSERT INTO t90_plan SELECT cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'qty', '{"type": "integer"}'));
SELECT is((SELECT pg_temp.costly(p) FROM t90_plan), ARRAY['alter_column_type:table_rewrite'], 'text -> integer, every value converts: a table rewrite');
SELECT is((SELECT p->'refused' FROM t90_plan), '[]', '... nothing refused');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'qty', '{"type": "integer"}'))$$, 'qty: text -> integer');
SELECT is(pg_temp.col_type('tenant_t90.items', 'qty'), 'integer', '... the column is integer');
SELECT results_eq($$SELECT name, qty FROM t90.items ORDER BY name$$, $$VALUES ('a', 12), ('b', 7), ('c', NULL::int)$$,
                  '... ''12'' became 12, ''7'' became 7, NULL stayed NULL');
SELECT isnt(pg_temp.relfilenode('tenant_t90.items'), (SELECT before FROM t90_fn), '... the table was rewritten');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

UPDATE t90_fn SET before = pg_temp.relfilenode('tenant_t90.items');
DELETE FROM t90_plan;
INSERT INTO t90_plan SELECT cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'price', '{"precision": 12}'));
SELECT is((SELECT pg_temp.costly(p) FROM t90_plan), '{}', 'decimal(10,2) -> decimal(12,2): metadata only');
SELECT is((SELECT c->>'class' FROM t90_plan, jsonb_array_elements(p->'changes') c WHERE c->>'step' = 'alter_column_type'), 'metadata',
          '... its alter_column_type step is classed metadata');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'price', '{"precision": 12}'))$$, 'price: precision 10 -> 12');
SELECT is(pg_temp.col_type('tenant_t90.items', 'price'), 'numeric(12,2)', '... the column is numeric(12,2)');
SELECT is(pg_temp.relfilenode('tenant_t90.items'), (SELECT before FROM t90_fn), '... and the table was not rewritten (same relfilenode)');
SELECT results_eq($$SELECT name, price FROM t90.items ORDER BY name$$, $$VALUES ('a', 12.34), ('b', 1.50), ('c', NULL::numeric)$$, '... values kept');

SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.with_field(pg_temp.with_field(pg_temp.def('items'),
                      'n', '{"type": "text", "min": null}'), 'big', '{"type": "bigint"}'), 'day', '{"type": "timestamp"}'))$$,
                'n: integer -> text, big: integer -> bigint, day: date -> timestamp, in one alter');
SELECT is(ARRAY[pg_temp.col_type('tenant_t90.items', 'n'), pg_temp.col_type('tenant_t90.items', 'big'), pg_temp.col_type('tenant_t90.items', 'day')],
          ARRAY['text', 'bigint', 'timestamp with time zone'], '... the columns are text, bigint, timestamptz');
SELECT results_eq($$SELECT name, n, big, day FROM t90.items ORDER BY name$$,
                  $$VALUES ('a', '5', 2147483647::bigint, '2024-01-02 00:00:00+00'::timestamptz), ('b', '6', 1, '2024-02-03 00:00:00+00'),
                           ('c', NULL, NULL, NULL)$$,
                  '... 5 became ''5'', bigint values kept, dates became midnight UTC');
SELECT lives_ok($$UPDATE t90.items SET big = 9007199254740993 WHERE name = 'b'$$, '... big now holds more than 32 bits');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');
SELECT ok(NOT (pg_temp.constraints('tenant_t90.items') && ARRAY['items_n_min']), '... and the min of n went with its integer type');

-- Conversions that fail or lose something.
UPDATE t90.items SET n = '3x' WHERE name = 'a';
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'n', '{"type": "integer"}')),
          '22000 entity change refused: 1 rows hold a value of "n" that is not a valid integer',
          'text -> integer with ''3x'' in a row: 22000, counted, nothing changed');
SELECT is(pg_temp.detail(pg_temp.with_field(pg_temp.def('items'), 'n', '{"type": "integer"}')),
          '/fields/2/type: 1 rows hold a value of "n" that is not a valid integer', '... DETAIL points at /fields/2/type');
SELECT is((SELECT p->'refused'->0 - 'hint' FROM cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'n', '{"type": "integer"}')) p),
          '{"pointer": "/fields/2/type", "sqlstate": "22000", "message": "1 rows hold a value of \"n\" that is not a valid integer"}'::jsonb,
          '... plan_entity lists the same refusal');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'n', '{"type": "integer"}'))),
          ARRAY['alter_column_type:data_loss:1'], '... and classes the step data_loss, 1 row');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'n', '{"type": "integer", "required": true}'), '{"allow_data_loss": true}'),
          '22000 entity change refused: 1 rows hold a value of "n" that is not a valid integer',
          '... a required field is refused even with allow_data_loss (NULL cannot stand in)');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'n', '{"type": "integer"}'), '{"allow_data_loss": true}')$$,
                '... with allow_data_loss the change is made');
SELECT results_eq($$SELECT name, n FROM t90.items ORDER BY name$$, $$VALUES ('a', NULL::int), ('b', 6), ('c', NULL)$$,
                  '... ''3x'' became NULL, ''6'' became 6');

UPDATE t90.items SET price = 2.5 WHERE name = 'b';
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'price', '{"type": "integer", "precision": null, "scale": null}')),
          '22000 entity change refused: 2 values of "price" would be rounded or cut converting to integer',
          'decimal -> integer with 12.34 and 2.5: 22000, 2 values rounded, nothing changed');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'price', '{"scale": 1}')),
          '22000 entity change refused: 1 values of "price" would be rounded or cut converting to decimal',
          'decimal scale 2 -> 1 with 12.34: 22000, 1 value rounded (2.50 fits)');
UPDATE t90.items SET day = '2024-02-03 10:30:00+00' WHERE name = 'b';
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'day', '{"type": "date"}')),
          '22000 entity change refused: 1 values of "day" would be rounded or cut converting to date',
          'timestamp -> date with a time of day in 1 row: 22000');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'day', '{"type": "date"}'), '{"allow_data_loss": true}')),
          ARRAY['alter_column_type:data_loss:1'], '... planned with allow_data_loss: data_loss, 1 row, nothing refused');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'day', '{"type": "date"}'), '{"allow_data_loss": true}')$$,
                '... and made with allow_data_loss');
SELECT results_eq($$SELECT name, day FROM t90.items ORDER BY name$$, $$VALUES ('a', '2024-01-02'::date), ('b', '2024-02-03'), ('c', NULL)$$,
                  '... the dates are kept, the time of day dropped');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Unsupported type changes.
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'flag', '{"type": "integer"}')),
          '0A000 entity change refused: field "flag" cannot change from boolean to integer', 'boolean -> integer: 0A000');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'code', '{"type": "array", "items": "text"}')),
          '0A000 entity change refused: field "code" cannot change from text to array of text', 'text -> array of text: 0A000');

-- Enum values.
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'status', '{"values": ["draft", "settled", "shipped"]}'),
                                          '{"rename_values": {"status": {"paid": "settled"}}}')$$,
                'enum value paid renamed to settled (rename_values)');
SELECT results_eq($$SELECT name, status FROM t90.items ORDER BY name$$, $$VALUES ('a', 'draft'), ('b', 'settled'), ('c', 'shipped')$$,
                  '... the row holding paid now holds settled');
SELECT throws_ok($$INSERT INTO t90.items (name, status) VALUES ('d', 'paid')$$, '23514', NULL, '... paid is no longer allowed');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'status', '{"values": ["draft", "paid", "shipped"]}'),
                                         '{"rename_values": {"status": {"settled": "paid"}}}')),
          ARRAY['rename_value:table_rewrite', 'validate_constraint:validating_scan'], '... renaming back is planned as a rewrite (UPDATE) and a validating scan');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'status', '{"values": ["draft", "settled"]}')),
          '23514 entity change refused: 1 rows break the new rule on "status" (items_status_values)',
          'removing an enum value 1 row holds: 23514 with the count');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'status', '{"values": ["draft", "settled", "shipped"]}'),
                          '{"rename_values": {"status": {"nope": "settled"}}}'),
          '22023 entity change refused: cannot rename value "nope" of "status" to "settled"', 'rename_values naming a value the field lacks: 22023');

-- Limits tightened against the rows.
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'score', '{"max": 60}')),
          '23514 entity change refused: 1 rows break the new rule on "score" (items_score_max)', 'max 100 -> 60 with 100 in a row: 23514, 1 row');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'score', '{"max": 10}')),
          '23514 entity change refused: 2 rows break the new rule on "score" (items_score_max)', 'max 100 -> 10: 2 rows');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'code', '{"min_length": 2}')),
          '23514 entity change refused: 3 rows break the new rule on "code" (items_code_min_length)', 'min_length 2 on one-letter codes: 3 rows');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'code', '{"pattern": "^A"}')),
          '23514 entity change refused: 1 rows break the new rule on "code" (items_code_pattern)', 'pattern ^A with one B: 1 row');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'score', '{"max": 1000}'))),
          ARRAY['validate_constraint:validating_scan'], 'max 100 -> 1000: the new CHECK is validated (a scan)');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'score', '{"max": 1000}'))$$, '... made');
SELECT lives_ok($$UPDATE t90.items SET score = 1000 WHERE name = 'c'$$, '... 1000 is allowed now');
SELECT throws_ok($$UPDATE t90.items SET score = 1001 WHERE name = 'c'$$, '23514', NULL, '... 1001 is not');
SELECT is((SELECT convalidated FROM pg_constraint WHERE conrelid = 'tenant_t90.items'::regclass AND conname = 'items_score_max'), true,
          '... the constraint is validated');

-- defer_validation: the CHECK is added NOT VALID and left pending.
DELETE FROM t90_plan;
INSERT INTO t90_plan SELECT cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'score', '{"min": 0}'), '{"defer_validation": true}');
SELECT is((SELECT pg_temp.costly(p) FROM t90_plan), '{}', 'defer_validation: min 0 is added without a scan');
SELECT is((SELECT p->'pending' FROM t90_plan),
          '[{"step": "validate_constraint", "sql": "ALTER TABLE \"tenant_t90\".\"items\" VALIDATE CONSTRAINT \"items_score_min\""}]'::jsonb,
          '... and its VALIDATE listed in pending');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'score', '{"min": 0}'), '{"defer_validation": true}')$$, '... made');
SELECT is((SELECT convalidated FROM pg_constraint WHERE conrelid = 'tenant_t90.items'::regclass AND conname = 'items_score_min'), false,
          '... the constraint is NOT VALID');
SELECT throws_ok($$UPDATE t90.items SET score = -1 WHERE name = 'c'$$, '23514', NULL, '... yet holds for new values');
SELECT lives_ok($$ALTER TABLE tenant_t90.items VALIDATE CONSTRAINT items_score_min$$, '... and the pending VALIDATE runs later');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Defaults.
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.with_field(pg_temp.def('items'), 'note', '{"default": "n/a"}'),
                                                            'status', '{"default": null}'))$$,
                'default set on note, dropped on status');
SELECT is((SELECT column_default FROM information_schema.columns WHERE table_schema = 'tenant_t90' AND table_name = 'items' AND column_name = 'note'),
          '''n/a''::text', '... note DEFAULT ''n/a''');
SELECT is((SELECT column_default FROM information_schema.columns WHERE table_schema = 'tenant_t90' AND table_name = 'items' AND column_name = 'status'),
          NULL, '... status has no default');
INSERT INTO t90.items (name) VALUES ('d');
SELECT results_eq($$SELECT note, status FROM t90.items WHERE name = 'd'$$, $$VALUES ('n/a', NULL::text)$$, '... a new row gets the new defaults');
SELECT results_eq($$SELECT name, note FROM t90.items WHERE name <> 'd' ORDER BY name$$, $$VALUES ('a', 'x'), ('b', NULL), ('c', NULL)$$,
                  '... existing rows keep their values');
DELETE FROM t90.items WHERE name = 'd';
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Required on and off.
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'note', '{"required": true}')),
          '23502 entity change refused: 2 rows have no value for "note"', 'required on a field 2 rows leave empty: 23502 with the count');
UPDATE t90.items SET note = 'filled' WHERE note IS NULL;
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'note', '{"required": true}'))),
          ARRAY['set_not_null:validating_scan'], '... once filled: SET NOT NULL, a validating scan');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'note', '{"required": true}'))$$, '... made required');
SELECT col_not_null('tenant_t90', 'items', 'note', '... note is NOT NULL');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'name', '{"required": false}'))$$, 'required off on name');
SELECT col_is_null('tenant_t90', 'items', 'name', '... name is nullable');
SELECT lives_ok($$INSERT INTO t90.items (name) VALUES (NULL)$$, '... a row without a name is accepted');
DELETE FROM t90.items WHERE name IS NULL;
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Unique on and off.
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'code', '{"unique": true}')),
          '23505 entity change refused: 2 rows repeat a value of (code) made unique', 'unique on a field where 2 rows share A: 23505 with the count');
UPDATE t90.items SET code = 'C' WHERE name = 'b';
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'code', '{"unique": true}'))),
          ARRAY['add_constraint:validating_scan'], '... once distinct: adding UNIQUE is a validating scan');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'code', '{"unique": true}'))$$, '... made unique');
SELECT col_is_unique('tenant_t90', 'items', ARRAY['code'], '... code is UNIQUE');
SELECT throws_ok($$INSERT INTO t90.items (name, code, note) VALUES ('e', 'A', 'x')$$, '23505', NULL, '... and holds');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'code', '{"unique": false}'))$$, 'unique off');
SELECT ok(NOT pg_temp.constraints('tenant_t90.items') && ARRAY['items_code_key'], '... the constraint is gone');
SELECT lives_ok($$INSERT INTO t90.items (name, code, note) VALUES ('e', 'A', 'x')$$, '... a repeated code is accepted');
DELETE FROM t90.items WHERE name = 'e';
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Indexes: one field, compound, compound unique; deferred.
SELECT lives_ok($$SELECT cot.alter_entity(jsonb_set(pg_temp.with_field(pg_temp.def('items'), 'code', '{"index": true}'), '{indexes}',
                     '[{"fields": ["status", "created_at"]}, {"fields": ["code", "day"], "unique": true}]'))$$,
                'index on code, a compound index and a compound unique constraint added');
SELECT is(pg_temp.indexes('tenant_t90', 'items'),
          ARRAY['items_code_day_key(code, day)', 'items_code_idx(code)', 'items_name_idx(name)', 'items_pkey(id)', 'items_status_created_at_idx(status, created_at)'],
          '... pg_indexes lists them');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');
SELECT lives_ok($$SELECT cot.alter_entity(jsonb_set(pg_temp.with_field(pg_temp.def('items'), 'code', '{"index": false}'), '{indexes}',
                     '[{"fields": ["created_at", "status"]}]'))$$,
                'index on code and the compound unique dropped; the compound index''s columns reordered');
SELECT is(pg_temp.indexes('tenant_t90', 'items'),
          ARRAY['items_created_at_status_idx(created_at, status)', 'items_name_idx(name)', 'items_pkey(id)'], '... pg_indexes follows');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');
DELETE FROM t90_plan;
INSERT INTO t90_plan SELECT cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'code', '{"index": true}'), '{"defer_indexes": true}');
SELECT is((SELECT p->'pending' FROM t90_plan),
          '[{"step": "create_index", "sql": "CREATE INDEX \"items_code_idx\" ON \"tenant_t90\".\"items\" (\"code\")"}]'::jsonb,
          'defer_indexes: the new index is left pending');
SELECT is((SELECT pg_temp.steps(p) FROM t90_plan), '{}', '... and no change is planned for it');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'code', '{"index": true}'), '{"defer_indexes": true}')$$,
                '... made');
SELECT hasnt_index('tenant_t90', 'items', 'items_code_idx', '... the index is not built');
SELECT is((SELECT def->'fields'->9->'index' FROM (SELECT pg_temp.def('items') AS def) d), 'true', '... the definition says index: true');

-- Adding fields to a table with rows.
SELECT is(pg_temp.refusal(pg_temp.plus_field(pg_temp.def('items'), '{"name": "sku", "type": "text", "required": true}')),
          '23502 entity change refused: required field "sku" has no default, and 3 rows would have no value',
          'a required field without a default: 23502 with the row count');
DELETE FROM t90_plan;
INSERT INTO t90_plan SELECT cot.plan_entity(pg_temp.plus_field(pg_temp.plus_field(pg_temp.def('items'),
    '{"name": "sku", "type": "text", "required": true, "default": "none"}'), '{"name": "memo", "type": "text"}'));
SELECT is((SELECT pg_temp.costly(p) FROM t90_plan), '{}', 'a required field with a constant default and a nullable field: metadata only');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.plus_field(pg_temp.plus_field(pg_temp.def('items'),
    '{"name": "sku", "type": "text", "required": true, "default": "none"}'), '{"name": "memo", "type": "text"}'))$$, '... added');
SELECT results_eq($$SELECT sku, memo FROM t90.items ORDER BY name$$, $$VALUES ('none', NULL::text), ('none', NULL), ('none', NULL)$$,
                  '... existing rows have the default and NULL');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.plus_field(pg_temp.def('items'), '{"name": "ext", "type": "uuid", "default": "uuid"}'))),
          ARRAY['add_column:table_rewrite'], 'a field with a volatile default ("uuid"): a table rewrite');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.plus_field(pg_temp.def('items'), '{"name": "ext", "type": "uuid", "default": "uuid"}'))$$, '... added');
SELECT is((SELECT count(DISTINCT ext)::int FROM t90.items), 3, '... every existing row got its own uuid');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Dropping fields.
SELECT is(pg_temp.refusal(pg_temp.without_field(pg_temp.def('items'), 'obsolete')),
          '22000 entity change refused: dropping field "obsolete" would lose the values of 2 rows',
          'dropping a field 2 rows hold values in: 22000 with the count');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.without_field(pg_temp.def('items'), 'obsolete'))), ARRAY['drop_column:data_loss:2'],
          '... planned as data_loss, 2 rows');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.without_field(pg_temp.def('items'), 'empty'))), '{}', 'dropping an empty field: metadata');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.without_field(pg_temp.def('items'), 'empty'))$$, '... dropped');
SELECT hasnt_column('tenant_t90', 'items', 'empty', '... the column is gone');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.without_field(pg_temp.def('items'), 'obsolete'), '{"allow_data_loss": true}')$$,
                'the field holding data, dropped with allow_data_loss');
SELECT hasnt_column('tenant_t90', 'items', 'obsolete', '... the column is gone');
SELECT hasnt_column('t90', 'items', 'obsolete', '... from the view too');
SELECT is((SELECT count(*)::int FROM t90.items), 3, '... the rows stay');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Reordering fields and cot.fields.
SELECT is(pg_temp.meta_fields('items'),
          ARRAY['1:name:text', '2:qty:integer', '3:n:integer', '4:big:bigint', '5:day:date', '6:price:decimal', '7:status:enum', '8:note:text',
                '9:score:integer', '10:code:text', '11:flag:boolean', '12:sku:text', '13:memo:text', '14:ext:uuid'],
          'cot.fields: names, types and positions follow the renames, type changes and drops');
SELECT is(pg_temp.meta_fields('items'),
          (SELECT array_agg(i || ':' || (f->>'name') || ':' || (f->>'type') ORDER BY i) FROM jsonb_array_elements(pg_temp.def('items')->'fields') WITH ORDINALITY x(f, i)),
          '... and match the stored definition');

-- Refusals of the definition as a whole.
SELECT is(pg_temp.refusal(pg_temp.def('items') || '{"version": 3}'),
          format('40001 entity "items" is at version %s; this definition was read at version 3', pg_temp.version('items')),
          'a definition read at an older version: 40001, nothing changed');
SELECT is(pg_temp.refusal(pg_temp.def('items') || '{"name": "things"}'),
          '0A000 entity "items" cannot be renamed to "things"', 'renaming the entity (same id): 0A000');
SELECT is(pg_temp.refusal(pg_temp.def('items'), '{"allow_dataloss": true}'),
          '22023 unknown or mistyped alter option "allow_dataloss"', 'an unknown option: 22023');
SELECT is(cot_test.sqlstate_of($$SELECT cot.alter_entity('{"tenant": "t90", "name": "nothing_here", "fields": []}')$$), '42704',
          'altering an entity that does not exist: 42704');

-- Several refusals at once: the first's SQLSTATE, all in DETAIL.
SELECT is(cot_test.error_of(format('SELECT cot.alter_entity(%L::jsonb)',
              pg_temp.without_field(pg_temp.with_field(pg_temp.with_field(pg_temp.def('items'), 'score', '{"max": 10}'), 'flag', '{"type": "date"}'), 'sku')))
            - 'hint',
          jsonb_build_object('sqlstate', '22000', 'message', 'entity change refused: 3 problems, the first: dropping field "sku" would lose the values of 3 rows',
                             'detail', E'/fields: dropping field "sku" would lose the values of 3 rows\n/fields/10/type: field "flag" cannot change from boolean to date\n/fields: 2 rows break the new rule on "score" (items_score_max)'),
          'three problems at once: all listed in DETAIL');

-- The ledger of items.
SELECT is((SELECT count(*)::int FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' AND operation = 'alter_entity'),
          pg_temp.version('items') - 1, 'ledger: one alter_entity row per successful alter (version - 1)');
SELECT is((SELECT array_agg(format('%s>%s', definition_before->>'version', definition_after->>'version') ORDER BY id)
             FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' AND operation = 'alter_entity'),
          (SELECT array_agg(format('%s>%s', v, v + 1) ORDER BY v) FROM generate_series(1, pg_temp.version('items') - 1) v),
          '... each with definition_before and definition_after one version apart, in order');
SELECT is((SELECT definition_after FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' AND operation = 'alter_entity' ORDER BY id DESC LIMIT 1),
          pg_temp.def('items'), '... the last definition_after is the stored definition');
SELECT is((SELECT definition_before->'fields'->0->>'name' || ' -> ' || (definition_after->'fields'->0->>'name')
             FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' AND operation = 'alter_entity' ORDER BY id LIMIT 1),
          'title -> name', '... the first row records the rename');
SELECT is((SELECT sql FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' AND operation = 'alter_entity' ORDER BY id LIMIT 1 OFFSET 1)
             @> ARRAY['ALTER TABLE "tenant_t90"."items" ALTER COLUMN "qty" TYPE integer USING "qty"::integer'], true,
          '... the second row holds the SQL it ran');
SELECT is((SELECT plan->0 ? 'sql' FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' AND operation = 'alter_entity' ORDER BY id LIMIT 1 OFFSET 1),
          false, '... its plan holds the steps and classes without repeating the SQL');
SELECT is((SELECT applied_by FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' AND operation = 'alter_entity' ORDER BY id DESC LIMIT 1),
          current_user::text, '... and who applied it');

SELECT * FROM finish();
ROLLBACK;
