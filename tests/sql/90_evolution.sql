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
-- rows follow; a stale version is 22023 (not 40001, which PostgREST retries); the /rpc/ wrappers as the tenant's
-- admin; and an alter failing after any of its steps leaves everything as it
-- was (the failpoint walk of 50_atomicity.sql).
BEGIN;
SELECT plan(388);
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
        'functions', (SELECT coalesce(jsonb_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text), '[]')
                        FROM pg_proc p WHERE p.pronamespace = slug::regnamespace),
        'defaults', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid)) ORDER BY c.relname, a.attname), '[]')
                       FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                      WHERE c.relnamespace = ('tenant_' || slug)::regnamespace),
        'relfilenodes', (SELECT coalesce(jsonb_object_agg(relname, relfilenode), '{}') FROM pg_class
                          WHERE relnamespace = ('tenant_' || slug)::regnamespace AND relkind = 'r'));
END $$;

-- The error a call raises, and the keys of pg_temp.state() it changed (NULL:
-- none). A call that succeeds is undone, so a change that should have been
-- refused does not spoil the rest of the file.
CREATE FUNCTION pg_temp.attempt(q text, slug text DEFAULT 't90') RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    before jsonb := pg_temp.state(slug);
    changed text[];
    st text; msg text; det text; hnt text;
BEGIN
    BEGIN
        EXECUTE q;
        changed := cot_test.diff(before, pg_temp.state(slug));
        RAISE EXCEPTION USING ERRCODE = 'XX990', MESSAGE = 'undo';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    END;
    IF st = 'XX990' THEN
        RETURN jsonb_build_object('sqlstate', 'ok', 'changed', to_jsonb(changed));
    END IF;
    RETURN jsonb_build_object('sqlstate', st, 'message', msg, 'detail', det, 'hint', hnt,
                              'changed', to_jsonb(cot_test.diff(before, pg_temp.state(slug))));
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

-- The rows a query returns, as text ('(a,1) (b,2)'), or 'ERROR <sqlstate>
-- <message>': reading data after a change that went wrong fails one
-- assertion, not the rest of the file.
CREATE FUNCTION pg_temp.rows(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    out text;
BEGIN
    EXECUTE format('SELECT coalesce(string_agg(r::text, %L), %L) FROM (%s) AS r', ' ', '', q) INTO out;
    RETURN out;
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERROR ' || SQLSTATE || ' ' || SQLERRM;
END $$;

-- Runs a statement that prepares data; if an earlier change went wrong and
-- it fails, a WARNING says so and the file goes on.
CREATE FUNCTION pg_temp.run(q text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'setup statement failed (% %): %', SQLSTATE, SQLERRM, q;
END $$;

SELECT lives_ok($$SELECT cot.create_tenant('t90')$$, 'tenant t90 created');

-------------------------------------------------------------------------------
-- Rename alone (same id, new name) on a table with rows
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t90", "name": "notes", "fields": [
    {"name": "title", "type": "text", "required": true, "max_length": 100, "index": true},
    {"name": "body",  "type": "text", "unique": true}]}')$$, 'notes created');
INSERT INTO t90.notes (title, body) VALUES ('a', 'x'), ('b', 'y'), ('c', NULL);
CREATE TEMP TABLE t90_notes AS SELECT id, title FROM t90.notes;
CREATE TEMP TABLE t90_notes_v1 AS SELECT pg_temp.def('notes') AS def;
CREATE TEMP TABLE t90_plan AS
SELECT cot.plan_entity(pg_temp.with_field(pg_temp.with_field(pg_temp.def('notes'), 'title', '{"name": "heading", "label": null}'),
                                          'body', '{"name": "text", "label": null}')) AS p;
SELECT is((SELECT pg_temp.costly(p) FROM t90_plan), '{}', 'rename: every step is metadata');
SELECT ok((SELECT pg_temp.steps(p) @> ARRAY['rename_column', 'rename_constraint', 'rename_index'] FROM t90_plan),
          'rename: the plan renames the columns, their constraints and their index');
SELECT is((SELECT p->'summary' FROM t90_plan), (SELECT jsonb_build_object('metadata', jsonb_array_length(p->'changes'), 'validating_scan', 0,
                                                                          'table_rewrite', 0, 'data_loss', 0) FROM t90_plan),
          'rename: the summary counts every change as metadata');
-- BUG (reported): a rename that changes no type does not rebuild the view, which
-- still shows the old column name; the COMMENT on the view's new column then
-- fails with 42703 and the whole alter with it.
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.with_field(pg_temp.def('notes'), 'title', '{"name": "heading", "label": null}'),
                                                            'body', '{"name": "text", "label": null}'))$$,
                'rename title -> heading and body -> text (no type change)');
SELECT is(pg_temp.rows($$SELECT heading, text FROM t90.notes ORDER BY heading$$), '(a,x) (b,y) (c,)',
          '... the values are kept, read through the view under the new names');
SELECT is(pg_temp.rows($$SELECT count(*) FROM t90.notes n JOIN t90_notes o USING (id) WHERE n.heading = o.title$$), '(3)',
          '... each row keeps its own value');
SELECT hasnt_column('tenant_t90', 'notes', 'title', '... no column title in the table');
SELECT hasnt_column('t90', 'notes', 'title', '... nor in the view');
SELECT col_not_null('tenant_t90', 'notes', 'heading', '... heading is still NOT NULL');
SELECT ok(pg_temp.constraints('tenant_t90.notes') @> ARRAY['notes_heading_max_length', 'notes_text_key']
          AND NOT pg_temp.constraints('tenant_t90.notes') && ARRAY['notes_title_max_length', 'notes_body_key'],
          '... the CHECK and the UNIQUE are renamed after their columns');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t90.notes (heading) VALUES (repeat('x', 101))$$), '23514', '... the CHECK still holds');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t90.notes (heading, text) VALUES ('d', 'x')$$), '23505', '... the UNIQUE still holds');
SELECT has_index('tenant_t90', 'notes', 'notes_heading_idx', 'heading', '... the index is renamed notes_heading_idx');
SELECT hasnt_index('tenant_t90', 'notes', 'notes_title_idx', '... the old name is gone');
SELECT is(col_description('tenant_t90.notes'::regclass, (SELECT attnum FROM pg_attribute WHERE attrelid = 'tenant_t90.notes'::regclass AND attname = 'heading')),
          'Heading', '... the column comment follows the new label');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 't90.notes'::regclass), ARRAY['security_invoker=true'], '... the view is security_invoker');
SELECT ok(has_table_privilege('cot_t90_admin', 't90.notes', 'SELECT, INSERT, UPDATE, DELETE'), '... and granted to the admin role');
SELECT is(pg_temp.meta_fields('notes'), ARRAY['1:heading:text', '2:text:text'], '... cot.fields has the new names');
SELECT is((SELECT f.id FROM cot.fields f WHERE f.name = 'heading' AND f.entity_id = (SELECT def->>'id' FROM t90_notes_v1)::uuid)::text,
          (SELECT def->'fields'->0->>'id' FROM t90_notes_v1), '... under the field''s old id');
SELECT is(pg_temp.settled('notes'), 'none 0 0', '... the stored definition plans to "none"');
SELECT is(pg_temp.version('notes'), 2, '... version 2');
SELECT is((SELECT definition_before->'fields'->0->>'name' || ' -> ' || (definition_after->'fields'->0->>'name')
             FROM cot.migrations WHERE tenant = 't90' AND entity = 'notes' AND operation = 'alter_entity'),
          'title -> heading', '... the ledger row records the rename');
-- A hand-written definition (no ids) naming a new field and leaving an old one
-- out is a drop and an add, not a rename.
SELECT is(pg_temp.steps(cot.plan_entity('{"tenant": "t90", "name": "notes", "fields": [
              {"name": "heading", "type": "text", "required": true, "max_length": 100, "index": true},
              {"name": "words", "type": "text", "unique": true}]}', '{"allow_data_loss": true}'))
            && ARRAY['drop_column', 'add_column'], true,
          'without ids, a new name is a new field: the plan drops and adds');

-------------------------------------------------------------------------------
-- Fields of a table with rows: conversions, enums, limits, defaults,
-- required, unique, indexes, adding and dropping
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
SELECT is((SELECT count(*)::int FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' AND operation = 'alter_entity'), 0,
          '... and records no ledger row');
SELECT is((cot.plan_entity('{"tenant": "t90", "name": "items", "fields": [
    {"name": "title", "type": "text", "required": true, "max_length": 100, "index": true},
    {"name": "qty", "type": "text"}, {"name": "n", "type": "integer", "min": 0}, {"name": "big", "type": "integer"},
    {"name": "day", "type": "date"}, {"name": "price", "type": "decimal", "precision": 10, "scale": 2},
    {"name": "status", "type": "enum", "values": ["draft", "paid", "shipped"], "default": "draft"},
    {"name": "note", "type": "text"}, {"name": "score", "type": "integer", "max": 100}, {"name": "code", "type": "text"},
    {"name": "flag", "type": "boolean"}, {"name": "obsolete", "type": "text"}, {"name": "empty", "type": "text"}]}'))->>'action',
          'none', 'a hand-written definition without ids means the same fields: "none"');

-- text -> integer: a rewrite.
UPDATE t90.items SET qty = NULL WHERE title = 'c';
CREATE TEMP TABLE t90_fn AS SELECT pg_temp.relfilenode('tenant_t90.items') AS before;
DELETE FROM t90_plan;
INSERT INTO t90_plan SELECT cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'qty', '{"type": "integer"}'));
SELECT is((SELECT pg_temp.costly(p) FROM t90_plan), ARRAY['alter_column_type:table_rewrite'], 'text -> integer, every value converts: a table rewrite');
SELECT is((SELECT p->'refused' FROM t90_plan), '[]', '... nothing refused');
SELECT is((SELECT p->>'action' || ' ' || (p->>'version') FROM t90_plan), 'alter 1', '... action alter, from version 1');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'qty', '{"type": "integer"}'))$$, 'qty: text -> integer');
SELECT is(pg_temp.col_type('tenant_t90.items', 'qty'), 'integer', '... the column is integer');
SELECT is(pg_temp.rows($$SELECT title, qty FROM t90.items ORDER BY title$$), '(a,12) (b,7) (c,)',
          '... ''12'' became 12, ''7'' became 7, NULL stayed NULL (read through the view)');
SELECT is(pg_temp.rows($$SELECT pg_typeof(qty) FROM t90.items LIMIT 1$$), '(integer)', '... the view shows the integer column');
SELECT isnt(pg_temp.relfilenode('tenant_t90.items'), (SELECT before FROM t90_fn), '... the table was rewritten');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- decimal precision up: metadata only, no rewrite.
UPDATE t90_fn SET before = pg_temp.relfilenode('tenant_t90.items');
DELETE FROM t90_plan;
INSERT INTO t90_plan SELECT cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'price', '{"precision": 12}'));
SELECT is((SELECT pg_temp.costly(p) FROM t90_plan), '{}', 'decimal(10,2) -> decimal(12,2): metadata only');
SELECT is((SELECT c->>'class' FROM t90_plan, jsonb_array_elements(p->'changes') c WHERE c->>'step' = 'alter_column_type'), 'metadata',
          '... its alter_column_type step is classed metadata');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'price', '{"precision": 12}'))$$, 'price: precision 10 -> 12');
SELECT is(pg_temp.col_type('tenant_t90.items', 'price'), 'numeric(12,2)', '... the column is numeric(12,2)');
SELECT is(pg_temp.relfilenode('tenant_t90.items'), (SELECT before FROM t90_fn), '... and the table was not rewritten (same relfilenode)');
SELECT is(pg_temp.rows($$SELECT title, price FROM t90.items ORDER BY title$$), '(a,12.34) (b,1.50) (c,)', '... values kept');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- A rename together with type changes: title -> name, integer -> text,
-- integer -> bigint, date -> timestamp.
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.with_field(pg_temp.with_field(pg_temp.with_field(pg_temp.def('items'),
                      'title', '{"name": "name", "label": null}'), 'n', '{"type": "text", "min": null}'), 'big', '{"type": "bigint"}'),
                      'day', '{"type": "timestamp"}'))$$,
                'rename title -> name; n: integer -> text, big: integer -> bigint, day: date -> timestamp; in one alter');
SELECT is(ARRAY[pg_temp.col_type('tenant_t90.items', 'n'), pg_temp.col_type('tenant_t90.items', 'big'), pg_temp.col_type('tenant_t90.items', 'day')],
          ARRAY['text', 'bigint', 'timestamp with time zone'], '... the columns are text, bigint, timestamptz');
SELECT is(pg_temp.rows($$SELECT name, n, big, day FROM t90.items ORDER BY name$$),
          '(a,5,2147483647,"2024-01-02 00:00:00+00") (b,6,1,"2024-02-03 00:00:00+00") (c,,,)',
          '... names kept, 5 became ''5'', bigint values kept, dates became midnight UTC');
SELECT is(pg_temp.rows($$SELECT count(*) FROM t90.items i JOIN t90_ids USING (id) WHERE i.name = t90_ids.title$$), '(3)',
          '... each row keeps its own name');
SELECT is(cot_test.sqlstate_of($$UPDATE t90.items SET big = 9007199254740993 WHERE name = 'b'$$), 'ok', '... big now holds more than 32 bits');
SELECT hasnt_column('tenant_t90', 'items', 'title', '... no column title any more');
SELECT col_not_null('tenant_t90', 'items', 'name', '... name is still NOT NULL');
SELECT ok(pg_temp.constraints('tenant_t90.items') @> ARRAY['items_name_max_length']
          AND NOT pg_temp.constraints('tenant_t90.items') && ARRAY['items_title_max_length', 'items_n_min'],
          '... its CHECK is renamed items_name_max_length; the min of n went with its integer type');
SELECT has_index('tenant_t90', 'items', 'items_name_idx', 'name', '... its index is renamed items_name_idx');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Conversions that fail or lose something.
SELECT pg_temp.run($$UPDATE t90.items SET n = '3x' WHERE name = 'a'$$);
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'n', '{"type": "integer"}')),
          '22000 invalid entity change: 1 row holds a value of "n" that is not a valid integer',
          'text -> integer with ''3x'' in a row: 22000, counted, nothing changed');
SELECT is(pg_temp.detail(pg_temp.with_field(pg_temp.def('items'), 'n', '{"type": "integer"}')),
          '/fields/2/type: 1 row holds a value of "n" that is not a valid integer', '... DETAIL points at /fields/2/type');
SELECT is((SELECT (p->'refused'->0) - 'hint' FROM cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'n', '{"type": "integer"}')) p),
          '{"pointer": "/fields/2/type", "sqlstate": "22000", "message": "1 row holds a value of \"n\" that is not a valid integer"}'::jsonb,
          '... plan_entity lists the same refusal');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'n', '{"type": "integer"}'))),
          ARRAY['alter_column_type:data_loss:1'], '... and classes the step data_loss, 1 row');
SELECT ok(pg_temp.detail(pg_temp.with_field(pg_temp.def('items'), 'n', '{"type": "integer", "required": true}'), '{"allow_data_loss": true}')
            LIKE '%/fields/2/type: 1 row holds a value of "n" that is not a valid integer%',
          '... a required field is refused even with allow_data_loss (NULL cannot stand in)');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'n', '{"type": "integer"}'), '{"allow_data_loss": true}')$$,
                '... with allow_data_loss the change is made');
SELECT is(pg_temp.rows($$SELECT name, n FROM t90.items ORDER BY name$$), '(a,) (b,6) (c,)', '... ''3x'' became NULL, ''6'' became 6');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

SELECT pg_temp.run($$UPDATE t90.items SET price = 2.5 WHERE name = 'b'$$);
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'price', '{"type": "integer", "precision": null, "scale": null}')),
          '22000 invalid entity change: 2 values of "price" would be rounded or cut converting to integer',
          'decimal -> integer with 12.34 and 2.5: 22000, 2 values rounded, nothing changed');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'price', '{"scale": 1}')),
          '22000 invalid entity change: 1 value of "price" would be rounded or cut converting to decimal',
          'decimal scale 2 -> 1 with 12.34 and 2.50: 22000, 1 value rounded (2.50 fits)');
-- BUG (reported): the values that do not fit a smaller precision are not
-- counted (cot.castable is asked about 'numeric(3,2)'::regtype, which is plain
-- numeric: the type modifier is lost), so the ALTER itself fails with 22003.
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'price', '{"precision": 3}')),
          '22000 invalid entity change: 1 row holds a value of "price" that is not a valid decimal',
          'decimal(12,2) -> decimal(3,2) with 12.34: 22000, 1 value does not fit');
SELECT pg_temp.run($$UPDATE t90.items SET day = '2024-02-03 10:30:00+00' WHERE name = 'b'$$);
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'day', '{"type": "date"}')),
          '22000 invalid entity change: 1 value of "day" would be rounded or cut converting to date',
          'timestamp -> date with a time of day in 1 row: 22000');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'day', '{"type": "date"}'), '{"allow_data_loss": true}')),
          ARRAY['alter_column_type:data_loss:1'], '... planned with allow_data_loss: data_loss, 1 row');
SELECT is((cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'day', '{"type": "date"}'), '{"allow_data_loss": true}'))->'refused', '[]',
          '... nothing refused');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'day', '{"type": "date"}'), '{"allow_data_loss": true}')$$,
                '... and made with allow_data_loss');
SELECT is(pg_temp.rows($$SELECT name, day FROM t90.items ORDER BY name$$), '(a,2024-01-02) (b,2024-02-03) (c,)',
          '... the dates are kept, the time of day dropped');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Unsupported type changes.
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'flag', '{"type": "integer"}')),
          '0A000 invalid entity change: field "flag" cannot change from boolean to integer', 'boolean -> integer: 0A000');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'code', '{"type": "array", "items": "text"}')),
          '0A000 invalid entity change: field "code" cannot change from text to array of text', 'text -> array of text: 0A000');

-- Enum values.
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'status', '{"values": ["draft", "settled", "shipped"]}'),
                                          '{"rename_values": {"status": {"paid": "settled"}}}')$$,
                'enum value paid renamed to settled (rename_values)');
SELECT is(pg_temp.rows($$SELECT name, status FROM t90.items ORDER BY name$$), '(a,draft) (b,settled) (c,shipped)',
          '... the row holding paid now holds settled');
SELECT is(cot_test.sqlstate_of($$INSERT INTO t90.items (name, status) VALUES ('d', 'paid')$$), '23514', '... paid is no longer allowed');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'status', '{"values": ["draft", "paid", "shipped"]}'),
                                         '{"rename_values": {"status": {"settled": "paid"}}}')),
          ARRAY['rename_value:table_rewrite', 'validate_constraint:validating_scan'],
          '... renaming back is planned as a rewrite (the UPDATE) and a validating scan');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'status', '{"values": ["draft", "settled"]}')),
          '23514 invalid entity change: 1 row breaks the new rule on "status" (items_status_values): it must be one of "draft", "settled"',
          'removing an enum value 1 row holds: 23514 with the count');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'status', '{"values": ["draft", "settled", "shipped"]}'),
                          '{"rename_values": {"status": {"nope": "settled"}}}'),
          '22023 invalid entity change: cannot rename value "nope" of "status" to "settled"',
          'rename_values naming a value the field did not have: 22023');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'status', '{"values": ["draft", "settled", "shipped", "void"]}'))$$,
                'an enum value added');
SELECT is(cot_test.sqlstate_of($$UPDATE t90.items SET status = 'void' WHERE name = 'c'$$), 'ok', '... and accepted');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Limits tightened against the rows.
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'score', '{"max": 60}')),
          '23514 invalid entity change: 1 row breaks the new rule on "score" (items_score_max): it must be at most 60', 'max 100 -> 60 with 100 in a row: 23514, 1 row');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'score', '{"max": 10}')),
          '23514 invalid entity change: 2 rows break the new rule on "score" (items_score_max): it must be at most 10', 'max 100 -> 10: 2 rows');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'code', '{"min_length": 2}')),
          '23514 invalid entity change: 3 rows break the new rule on "code" (items_code_min_length): it must be at least 2 characters long', 'min_length 2 on one-letter codes: 3 rows');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'code', '{"pattern": "^A"}')),
          '23514 invalid entity change: 1 row breaks the new rule on "code" (items_code_pattern): it must be text matching the pattern "^A"', 'pattern ^A with one B: 1 row');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'score', '{"max": 1000}'))),
          ARRAY['validate_constraint:validating_scan'], 'max 100 -> 1000: the new CHECK is validated (a scan)');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'score', '{"max": 1000}'))$$, '... made');
SELECT is(cot_test.sqlstate_of($$UPDATE t90.items SET score = 1000 WHERE name = 'c'$$), 'ok', '... 1000 is allowed now');
SELECT is(cot_test.sqlstate_of($$UPDATE t90.items SET score = 1001 WHERE name = 'c'$$), '23514', '... 1001 is not');
SELECT is((SELECT convalidated FROM pg_constraint WHERE conrelid = 'tenant_t90.items'::regclass AND conname = 'items_score_max'), true,
          '... the constraint is validated');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

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
SELECT is(cot_test.sqlstate_of($$UPDATE t90.items SET score = -1 WHERE name = 'c'$$), '23514', '... yet holds for new values');
SELECT is((SELECT plan->-1 FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' ORDER BY id DESC LIMIT 1),
          (SELECT jsonb_build_object('step', 'pending', 'pending', p->'pending') FROM t90_plan), '... the ledger records what is pending');
SELECT is(cot_test.sqlstate_of($$ALTER TABLE tenant_t90.items VALIDATE CONSTRAINT items_score_min$$), 'ok', '... and the pending VALIDATE runs later');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Defaults.
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.with_field(pg_temp.def('items'), 'note', '{"default": "n/a"}'),
                                                            'status', '{"default": null}'))), '{}', 'setting and dropping defaults: metadata');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.with_field(pg_temp.def('items'), 'note', '{"default": "n/a"}'),
                                                            'status', '{"default": null}'))$$,
                'default set on note, dropped on status');
SELECT is((SELECT column_default FROM information_schema.columns WHERE table_schema = 'tenant_t90' AND table_name = 'items' AND column_name = 'note'),
          '''n/a''::text', '... note DEFAULT ''n/a''');
SELECT is((SELECT column_default FROM information_schema.columns WHERE table_schema = 'tenant_t90' AND table_name = 'items' AND column_name = 'status'),
          NULL, '... status has no default');
SELECT pg_temp.run($$INSERT INTO t90.items (name) VALUES ('d')$$);
SELECT is(pg_temp.rows($$SELECT note, status FROM t90.items WHERE name = 'd'$$), '(n/a,)', '... a new row gets the new defaults');
SELECT is(pg_temp.rows($$SELECT name, note FROM t90.items WHERE name <> 'd' ORDER BY name$$), '(a,x) (b,) (c,)', '... existing rows keep their values');
SELECT pg_temp.run($$DELETE FROM t90.items WHERE name = 'd'$$);
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Required on and off.
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'note', '{"required": true}')),
          '23502 invalid entity change: 2 rows have no value for "note"', 'required on a field 2 rows leave empty: 23502 with the count');
SELECT pg_temp.run($$UPDATE t90.items SET note = 'filled' WHERE note IS NULL$$);
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'note', '{"required": true}'))),
          ARRAY['set_not_null:validating_scan'], '... once filled: SET NOT NULL, a validating scan');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'note', '{"required": true}'))$$, '... made required');
SELECT col_not_null('tenant_t90', 'items', 'note', '... note is NOT NULL');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'name', '{"required": false}'))), '{}',
          'required off: metadata');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'name', '{"required": false}'))$$, 'required off on name');
SELECT col_is_null('tenant_t90', 'items', 'name', '... name is nullable');
SELECT is(cot_test.sqlstate_of($$INSERT INTO t90.items (name) VALUES (NULL)$$), 'ok', '... a row without a name is accepted');
SELECT pg_temp.run($$DELETE FROM t90.items WHERE name IS NULL$$);
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Unique on and off.
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('items'), 'code', '{"unique": true}')),
          '23505 invalid entity change: 2 rows repeat a value of (code) made unique', 'unique on a field where 2 rows share A: 23505 with the count');
SELECT pg_temp.run($$UPDATE t90.items SET code = 'C' WHERE name = 'b'$$);
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'code', '{"unique": true}'))),
          ARRAY['add_constraint:validating_scan'], '... once distinct: adding UNIQUE is a validating scan');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'code', '{"unique": true}'))$$, '... made unique');
SELECT col_is_unique('tenant_t90', 'items', ARRAY['code'], '... code is UNIQUE');
SELECT is(cot_test.sqlstate_of($$INSERT INTO t90.items (name, code, note) VALUES ('e', 'A', 'x')$$), '23505', '... and holds');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'code', '{"unique": false}'))$$, 'unique off');
SELECT ok(NOT pg_temp.constraints('tenant_t90.items') && ARRAY['items_code_key'], '... the constraint is gone');
SELECT is(cot_test.sqlstate_of($$INSERT INTO t90.items (name, code, note) VALUES ('e', 'A', 'x')$$), 'ok', '... a repeated code is accepted');
SELECT pg_temp.run($$DELETE FROM t90.items WHERE name = 'e'$$);
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Indexes: one field, compound, compound unique; deferred.
SELECT lives_ok($$SELECT cot.alter_entity(jsonb_set(pg_temp.with_field(pg_temp.def('items'), 'code', '{"index": true}'), '{indexes}',
                     '[{"fields": ["status", "created_at"]}, {"fields": ["code", "day"], "unique": true}]'))$$,
                'index on code, a compound index and a compound unique constraint added');
SELECT is(pg_temp.indexes('tenant_t90', 'items'),
          ARRAY['items_code_day_key(code, day)', 'items_code_idx(code)', 'items_name_idx(name)', 'items_pkey(id)',
                'items_status_created_at_idx(status, created_at)'],
          '... pg_indexes lists them');
SELECT is(cot_test.sqlstate_of($$INSERT INTO t90.items (name, code, day, note) SELECT 'f', code, day, 'x' FROM t90.items WHERE name = 'a'$$), '23505',
          '... the compound unique holds');
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
          '[{"step": "create_index", "sql": "CREATE INDEX CONCURRENTLY \"items_code_idx\" ON \"tenant_t90\".\"items\" (\"code\")"}]'::jsonb,
          'defer_indexes: the new index is left pending, with the statement that builds it without blocking writes');
SELECT is((SELECT pg_temp.steps(p) FROM t90_plan), '{}', '... and no change is planned for it');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('items'), 'code', '{"index": true}'))),
          ARRAY['create_index:validating_scan'], '... without the option, building it is a scan');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'code', '{"index": true}'), '{"defer_indexes": true}')$$,
                '... made');
SELECT hasnt_index('tenant_t90', 'items', 'items_code_idx', '... the index is not built');
SELECT is((SELECT f->'index' FROM jsonb_array_elements(pg_temp.def('items')->'fields') f WHERE f->>'name' = 'code'), 'true',
          '... the definition says index: true');

-- Adding fields to a table with rows.
SELECT is(pg_temp.refusal(pg_temp.plus_field(pg_temp.def('items'), '{"name": "sku", "type": "text", "required": true}')),
          '23502 invalid entity change: required field "sku" has no default, and 3 rows would have no value',
          'a required field without a default: 23502 with the row count');
DELETE FROM t90_plan;
INSERT INTO t90_plan SELECT cot.plan_entity(pg_temp.plus_field(pg_temp.plus_field(pg_temp.def('items'),
    '{"name": "sku", "type": "text", "required": true, "default": "none"}'), '{"name": "memo", "type": "text"}'));
SELECT is((SELECT pg_temp.costly(p) FROM t90_plan), '{}', 'a required field with a constant default and a nullable field: metadata only');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.plus_field(pg_temp.plus_field(pg_temp.def('items'),
    '{"name": "sku", "type": "text", "required": true, "default": "none"}'), '{"name": "memo", "type": "text"}'))$$, '... added');
SELECT is(pg_temp.rows($$SELECT sku, memo FROM t90.items ORDER BY name$$), '(none,) (none,) (none,)', '... existing rows have the default and NULL');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.plus_field(pg_temp.def('items'), '{"name": "ext", "type": "uuid", "default": "uuid"}'))),
          ARRAY['add_column:table_rewrite'], 'a field with a volatile default ("uuid"): a table rewrite');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.plus_field(pg_temp.def('items'), '{"name": "ext", "type": "uuid", "default": "uuid"}'))$$, '... added');
SELECT is(pg_temp.rows($$SELECT count(DISTINCT ext) FROM t90.items$$), '(3)', '... every existing row got its own uuid');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Dropping fields.
SELECT is(pg_temp.refusal(pg_temp.without_field(pg_temp.def('items'), 'obsolete')),
          '22000 invalid entity change: dropping field "obsolete" would lose the values of 2 rows',
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
SELECT is(pg_temp.rows($$SELECT count(*) FROM t90.items$$), '(3)', '... the rows stay');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- cot.fields follows.
SELECT is(pg_temp.meta_fields('items'),
          ARRAY['1:name:text', '2:qty:integer', '3:n:integer', '4:big:bigint', '5:day:date', '6:price:decimal', '7:status:enum', '8:note:text',
                '9:score:integer', '10:code:text', '11:flag:boolean', '12:sku:text', '13:memo:text', '14:ext:uuid'],
          'cot.fields: names, types and positions follow the renames, type changes and drops');
SELECT is(pg_temp.meta_fields('items'),
          (SELECT array_agg(i || ':' || (f->>'name') || ':' || (f->>'type') ORDER BY i)
             FROM jsonb_array_elements(pg_temp.def('items')->'fields') WITH ORDINALITY x(f, i)),
          '... and match the stored definition');
-- Moving a field: the columns stay where they are, cot.fields follows the definition.
SELECT lives_ok($$SELECT cot.alter_entity(jsonb_set(pg_temp.def('items'), '{fields}',
                     (SELECT jsonb_agg(f ORDER BY CASE WHEN f->>'name' = 'ext' THEN 0 ELSE i END)
                        FROM jsonb_array_elements(pg_temp.def('items')->'fields') WITH ORDINALITY x(f, i))))$$,
                'ext moved to the front');
SELECT is((pg_temp.meta_fields('items'))[1:2], ARRAY['1:ext:uuid', '2:name:text'], '... cot.fields positions follow');
SELECT is(pg_temp.settled('items'), 'none 0 0', '... settled');

-- Refusals of the definition as a whole.
SELECT is(pg_temp.refusal(pg_temp.def('items') || '{"version": 3}'),
          format('22023 entity "items" is at version %s; this definition was read at version 3', pg_temp.version('items')),
          'a definition read at an older version: 22023, nothing changed');
SELECT is(cot_test.sqlstate_of(format('SELECT cot.plan_entity(%L::jsonb)', pg_temp.def('items') || '{"version": 3}')), '22023',
          '... plan_entity says so too');
SELECT is(pg_temp.refusal(pg_temp.def('items') || '{"name": "things"}'),
          '0A000 entity "items" cannot be renamed to "things"', 'renaming the entity (same id): 0A000');
SELECT is(pg_temp.refusal(pg_temp.def('items'), '{"allow_dataloss": true}'),
          '22023 unknown or mistyped alter option "allow_dataloss"', 'an unknown option: 22023');
SELECT is(cot_test.sqlstate_of($$SELECT cot.alter_entity('{"tenant": "t90", "name": "nothing_here", "fields": []}')$$), '42704',
          'altering an entity that does not exist: 42704');
SELECT is((SELECT p->>'action' || ' ' || coalesce(p->>'version', 'null') || ' ' || (pg_temp.steps(p))[1]
             FROM cot.plan_entity('{"tenant": "t90", "name": "nothing_here", "fields": [{"name": "a", "type": "text"}]}') p),
          'create null create_table', 'plan_entity of an entity that does not exist: action create, its steps');
SELECT hasnt_table('tenant_t90', 'nothing_here', '... and nothing is created');

-- Several refusals at once: the first's SQLSTATE, every problem in DETAIL.
SELECT is(cot_test.error_of(format('SELECT cot.alter_entity(%L::jsonb)',
              pg_temp.without_field(pg_temp.with_field(pg_temp.with_field(pg_temp.def('items'), 'score', '{"max": 10}'), 'flag', '{"type": "date"}'), 'sku')))
            - 'hint',
          jsonb_build_object('sqlstate', '22000',
                             'message', 'invalid entity change: 3 problems, the first: dropping field "sku" would lose the values of 3 rows',
                             'detail', E'/fields: dropping field "sku" would lose the values of 3 rows\n'
                                       '/fields/11/type: field "flag" cannot change from boolean to date\n'
                                       '/fields/9/max: 3 rows break the new rule on "score" (items_score_max): it must be at most 10'),
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
SELECT is((SELECT definition_before FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' AND operation = 'alter_entity' ORDER BY id LIMIT 1),
          (SELECT def FROM t90_v1), '... the first definition_before is the definition as created');
SELECT ok((SELECT sql @> ARRAY['ALTER TABLE "tenant_t90"."items" ALTER COLUMN "qty" TYPE integer USING "qty"::integer']
             FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' AND operation = 'alter_entity' ORDER BY id LIMIT 1),
          '... the first row holds the SQL it ran');
SELECT is((SELECT jsonb_agg(c->>'class') FROM cot.migrations m, jsonb_array_elements(m.plan) c
            WHERE m.id = (SELECT min(id) FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' AND operation = 'alter_entity')
              AND c->>'step' = 'alter_column_type'), '["table_rewrite"]', '... its plan holds the steps with their classes');
SELECT is((SELECT applied_by FROM cot.migrations WHERE tenant = 't90' AND entity = 'items' AND operation = 'alter_entity' ORDER BY id DESC LIMIT 1),
          current_user::text, '... and who applied it');

-------------------------------------------------------------------------------
-- many_to_one: add, rename, on_delete, required, drop, with rows and the
-- embedding function
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t90", "name": "customers", "fields": [{"name": "name", "type": "text"}]}')$$,
                'customers created');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t90", "name": "shops", "fields": [{"name": "name", "type": "text"}]}')$$,
                'shops created');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t90", "name": "orders", "fields": [{"name": "title", "type": "text"}]}')$$,
                'orders created');
INSERT INTO t90.customers (name) VALUES ('ann'), ('bob');
INSERT INTO t90.orders (title) VALUES ('o1'), ('o2'), ('o3');

DELETE FROM t90_plan;
INSERT INTO t90_plan SELECT cot.plan_entity(pg_temp.plus_field(pg_temp.def('orders'),
    '{"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers"}'));
SELECT is((SELECT pg_temp.costly(p) FROM t90_plan), ARRAY['validate_constraint:validating_scan', 'create_index:validating_scan'],
          'adding a many_to_one to a table with rows: the foreign key is validated and the index built (scans)');
SELECT ok((SELECT pg_temp.steps(p) @> ARRAY['add_column', 'add_constraint_not_valid', 'create_function'] FROM t90_plan),
          '... the column, the foreign key NOT VALID first, the embedding function');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.plus_field(pg_temp.def('orders'),
                    '{"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers"}'))$$,
                'many_to_one customer added to orders');
SELECT col_type_is('tenant_t90', 'orders', 'customer_id', 'uuid', '... column customer_id uuid');
SELECT fk_ok('tenant_t90', 'orders', 'customer_id', 'tenant_t90', 'customers', 'id', '... references customers(id)');
SELECT is((SELECT convalidated FROM pg_constraint WHERE conname = 'orders_customer_id_fkey' AND conrelid = 'tenant_t90.orders'::regclass), true,
          '... validated');
SELECT has_index('tenant_t90', 'orders', 'orders_customer_id_idx', 'customer_id', '... indexed');
SELECT has_column('t90', 'orders', 'customer_id', '... shown by the view');
SELECT is((SELECT p.oid::regprocedure::text || ' ' || pg_get_userbyid(p.proowner) FROM pg_proc p
            WHERE p.pronamespace = 't90'::regnamespace AND p.proname = 'customer'),
          't90.customer(t90.orders) cot_owner', '... the embedding function t90.customer(t90.orders), owned by cot_owner');
SELECT is(pg_temp.rows($$SELECT r.kind, r.fk_column, r.on_delete FROM cot.relationships r JOIN cot.fields f ON f.id = r.id
                          WHERE f.name = 'customer' AND r.tenant_id = (SELECT id FROM cot.tenants WHERE slug = 't90')$$),
          '(many_to_one,customer_id,restrict)', '... cot.relationships has it');
SELECT is(pg_temp.rows($$SELECT title, customer_id FROM t90.orders ORDER BY title$$), '(o1,) (o2,) (o3,)', '... the rows are kept, with no customer');
SELECT is(pg_temp.settled('orders'), 'none 0 0', '... settled');
SELECT pg_temp.run($$UPDATE t90.orders SET customer_id = (SELECT id FROM t90.customers WHERE name = 'ann') WHERE title IN ('o1', 'o2')$$);
SELECT is(pg_temp.rows($$SELECT o.title, c.name FROM t90.orders o, t90.customer(o) c ORDER BY 1$$), '(o1,ann) (o2,ann)',
          '... the embedding function joins an order to its customer');

-- The target's view is made again: the function that returns it comes back.
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.plus_field(pg_temp.def('customers'), '{"name": "vip", "type": "boolean"}'))$$,
                'customers: a field added (its view is made again)');
SELECT is(pg_temp.rows($$SELECT o.title, c.name, c.vip FROM t90.orders o, t90.customer(o) c ORDER BY 1$$), '(o1,ann,) (o2,ann,)',
          '... t90.customer(t90.orders) is back and returns the new view''s rows');
SELECT is(pg_temp.settled('customers'), 'none 0 0', '... settled');

-- Rename.
-- BUG (reported): `column` is documented as read only and ignored on input, but
-- a renamed relation field sent back with its old column is refused (22023
-- "column is read only: for this relation it is \"buyer_id\"").
SELECT is(cot_test.sqlstate_of(format('SELECT cot.plan_entity(%L::jsonb)', pg_temp.with_field(pg_temp.def('orders'), 'customer', '{"name": "buyer", "label": null}'))),
          'ok', 'a renamed relation field that still carries its old (read-only) column is accepted');
-- (The rename is made together with a new field: a rename alone does not
-- rebuild the view, see the notes entity above.)
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.plus_field(pg_temp.with_field(pg_temp.def('orders'), 'customer', '{"name": "buyer", "label": null, "column": null}'),
                                                            '{"name": "memo", "type": "text"}'))$$,
                'many_to_one customer renamed buyer (and a field memo added)');
SELECT hasnt_column('tenant_t90', 'orders', 'customer_id', '... customer_id is gone');
SELECT is(pg_temp.rows($$SELECT title, buyer_id = (SELECT id FROM t90.customers WHERE name = 'ann') FROM t90.orders ORDER BY title$$),
          '(o1,t) (o2,t) (o3,)', '... buyer_id holds the values customer_id held');
SELECT fk_ok('tenant_t90', 'orders', 'buyer_id', 'tenant_t90', 'customers', 'id', '... and references customers(id)');
SELECT ok(pg_temp.constraints('tenant_t90.orders') @> ARRAY['orders_buyer_id_fkey'] AND NOT pg_temp.constraints('tenant_t90.orders') && ARRAY['orders_customer_id_fkey'],
          '... the foreign key is renamed orders_buyer_id_fkey');
SELECT has_index('tenant_t90', 'orders', 'orders_buyer_id_idx', 'buyer_id', '... the index orders_buyer_id_idx');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY p.proname) FROM pg_proc p WHERE p.pronamespace = 't90'::regnamespace AND p.proname IN ('customer', 'buyer')),
          ARRAY['t90.buyer(t90.orders)'], '... the embedding function is t90.buyer now, t90.customer is gone');
SELECT is(pg_temp.rows($$SELECT o.title, c.name FROM t90.orders o, t90.buyer(o) c ORDER BY 1$$), '(o1,ann) (o2,ann)', '... and works');
SELECT is(pg_temp.rows($$SELECT r.fk_column FROM cot.relationships r JOIN cot.fields f ON f.id = r.id
                          WHERE f.name = 'buyer' AND r.tenant_id = (SELECT id FROM cot.tenants WHERE slug = 't90')$$),
          '(buyer_id)', '... cot.relationships follows');
SELECT is(cot.entity('t90', 'customers')->'referenced_by',
          '[{"entity": "orders", "field": "buyer", "kind": "many_to_one", "on_delete": "restrict", "column": "buyer_id"}]'::jsonb,
          '... and so does referenced_by of customers');
SELECT is(pg_temp.settled('orders'), 'none 0 0', '... settled');

-- on_delete.
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.with_field(pg_temp.def('orders'), 'buyer', '{"on_delete": "set_null"}'))),
          ARRAY['validate_constraint:validating_scan'], 'on_delete restrict -> set_null: the foreign key is made again and validated');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('orders'), 'buyer', '{"on_delete": "set_null"}'))$$, '... made');
SELECT is((SELECT confdeltype FROM pg_constraint WHERE conname = 'orders_buyer_id_fkey' AND conrelid = 'tenant_t90.orders'::regclass), 'n',
          '... ON DELETE SET NULL');
SELECT pg_temp.run($$INSERT INTO t90.customers (name) VALUES ('cat')$$);
SELECT pg_temp.run($$UPDATE t90.orders SET buyer_id = (SELECT id FROM t90.customers WHERE name = 'cat') WHERE title = 'o3'$$);
SELECT is(cot_test.sqlstate_of($$DELETE FROM t90.customers WHERE name = 'cat'$$), 'ok', '... deleting a referenced customer succeeds');
SELECT is(pg_temp.rows($$SELECT title, buyer_id FROM t90.orders WHERE title = 'o3'$$), '(o3,)', '... and empties the order''s buyer_id');
SELECT is(pg_temp.settled('orders'), 'none 0 0', '... settled');

-- required on (refused while a row has none), then on, then off.
-- BUG (reported, minor): the refusals about a relation field name its column
-- ("buyer_id") where every other message names the field as the definition
-- does ("buyer").
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('orders'), 'buyer', '{"required": true, "on_delete": "restrict"}')),
          '23502 invalid entity change: 1 row has no value for "buyer"', 'required on a relation 1 row leaves empty: 23502');
SELECT pg_temp.run($$UPDATE t90.orders SET buyer_id = (SELECT id FROM t90.customers WHERE name = 'bob') WHERE title = 'o3'$$);
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('orders'), 'buyer', '{"required": true, "on_delete": "restrict"}'))$$,
                '... once filled: made required (and restrict)');
SELECT col_not_null('tenant_t90', 'orders', 'buyer_id', '... buyer_id is NOT NULL');
SELECT is((SELECT confdeltype FROM pg_constraint WHERE conname = 'orders_buyer_id_fkey' AND conrelid = 'tenant_t90.orders'::regclass), 'r',
          '... ON DELETE RESTRICT');
SELECT is(cot_test.sqlstate_of($$DELETE FROM t90.customers WHERE name = 'bob'$$), '23503', '... which holds');
SELECT is(pg_temp.settled('orders'), 'none 0 0', '... settled');

-- Kind and target stay.
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('orders'), 'buyer', '{"target": "shops"}')),
          '0A000 invalid entity change: relation "buyer" cannot change from many_to_one customers to many_to_one shops',
          'changing a relation''s target: 0A000');
SELECT is(split_part(pg_temp.refusal(pg_temp.with_field(pg_temp.def('orders'), 'buyer', '{"kind": "one_to_one"}')), ',', 1),
          '0A000 invalid entity change: 2 problems', 'changing a relation''s kind: 0A000 (and its column has repeated values, for one_to_one)');
SELECT ok(pg_temp.detail(pg_temp.with_field(pg_temp.def('orders'), 'buyer', '{"kind": "one_to_one"}'))
            LIKE '/fields/1: relation "buyer" cannot change from many_to_one customers to one_to_one customers%',
          '... DETAIL names the relation first');
-- BUG (reported): a field keeping its id but becoming a relation (or a
-- relation becoming a plain field) is taken as a drop and an add under the
-- same id: the alter succeeds (and would drop the column's data with
-- allow_data_loss). Like any other type change Cot does not make, it should be
-- refused with 0A000.
SELECT is(split_part(pg_temp.refusal(pg_temp.with_field(pg_temp.def('orders'), 'memo', '{"type": "relation", "kind": "many_to_one", "target": "shops"}')), ' ', 1),
          '0A000', 'turning a field into a relation (same id): 0A000, nothing changed');
SELECT is(split_part(pg_temp.refusal(pg_temp.with_field(pg_temp.def('orders'), 'buyer', '{"type": "text", "kind": null, "target": null, "on_delete": null, "column": null}')), ' ', 1),
          '0A000', '... and a relation into a text field: 0A000, nothing changed');

-- Drop.  (The field name, not the column: see the BUG above.)
SELECT is(pg_temp.refusal(pg_temp.without_field(pg_temp.def('orders'), 'buyer')),
          '22000 invalid entity change: dropping field "buyer" would lose the values of 3 rows',
          'dropping a many_to_one 3 rows use: 22000 with the count');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.without_field(pg_temp.def('orders'), 'buyer'), '{"allow_data_loss": true}')$$,
                '... dropped with allow_data_loss');
SELECT hasnt_column('tenant_t90', 'orders', 'buyer_id', '... the column is gone');
SELECT ok(NOT pg_temp.constraints('tenant_t90.orders') && ARRAY['orders_buyer_id_fkey'], '... with its foreign key');
SELECT hasnt_index('tenant_t90', 'orders', 'orders_buyer_id_idx', '... and its index');
SELECT is((SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 't90'::regnamespace AND p.proname = 'buyer'), 0, '... and the embedding function');
SELECT is((SELECT count(*)::int FROM cot.relationships r JOIN cot.entities e ON e.id = r.source_entity_id
            WHERE e.name = 'orders' AND r.tenant_id = (SELECT id FROM cot.tenants WHERE slug = 't90')), 0, '... and its cot.relationships row');
SELECT is(cot.entity('t90', 'customers')->'referenced_by', '[]', '... customers is referenced by nothing');
SELECT is(cot_test.sqlstate_of($$DELETE FROM t90.customers WHERE name = 'bob'$$), 'ok', '... and bob can go');
SELECT is(pg_temp.rows($$SELECT count(*) FROM t90.orders$$), '(3)', '... the orders stay');
SELECT is(pg_temp.settled('orders'), 'none 0 0', '... settled');

-------------------------------------------------------------------------------
-- many_to_many: add, rename, drop with links; a self relation
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t90", "name": "products", "fields": [{"name": "sku", "type": "text"}]}')$$,
                'products created');
INSERT INTO t90.products (sku) VALUES ('P1'), ('P2');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.plus_field(pg_temp.def('orders'),
              '{"name": "products", "type": "relation", "kind": "many_to_many", "target": "products"}'))), '{}',
          'adding a many_to_many: metadata only (a new junction table)');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.plus_field(pg_temp.def('orders'),
                    '{"name": "products", "type": "relation", "kind": "many_to_many", "target": "products"}'))$$,
                'many_to_many products added to orders');
SELECT has_table('tenant_t90', 'orders_products', '... the junction table');
SELECT has_view('t90', 'orders_products', '... and its view');
SELECT is(pg_temp.rows($$SELECT r.kind, r.junction_table FROM cot.relationships r JOIN cot.fields f ON f.id = r.id
                          WHERE f.name = 'products' AND r.tenant_id = (SELECT id FROM cot.tenants WHERE slug = 't90')$$),
          '(many_to_many,orders_products)', '... cot.relationships has it');
SELECT is(pg_temp.settled('orders'), 'none 0 0', '... settled');
SELECT is(cot_test.sqlstate_of($$INSERT INTO t90.orders_products (orders_id, products_id) SELECT o.id, p.id FROM t90.orders o, t90.products p$$), 'ok',
          '... 6 links inserted through the view');

-- BUG (reported): `junction` is read only and ignored on input, yet a renamed
-- many_to_many sent back with its old junction is refused (22023).
SELECT is(cot_test.sqlstate_of(format('SELECT cot.plan_entity(%L::jsonb)', pg_temp.with_field(pg_temp.def('orders'), 'products', '{"name": "lines", "label": null}'))),
          'ok', 'a renamed many_to_many that still carries its old (read-only) junction is accepted');
DELETE FROM t90_plan;
INSERT INTO t90_plan SELECT cot.plan_entity(pg_temp.with_field(pg_temp.def('orders'), 'products', '{"name": "lines", "label": null, "junction": null}'));
SELECT is((SELECT pg_temp.costly(p) FROM t90_plan), '{}', 'renaming a many_to_many: metadata only');
SELECT ok((SELECT pg_temp.steps(p) @> ARRAY['rename_relation', 'rename_constraint', 'rename_index'] FROM t90_plan),
          '... the junction, its view, constraints and index are renamed');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('orders'), 'products', '{"name": "lines", "label": null, "junction": null}'))$$,
                'many_to_many products renamed lines');
SELECT hasnt_table('tenant_t90', 'orders_products', '... orders_products is gone');
SELECT has_table('tenant_t90', 'orders_lines', '... the junction is orders_lines');
SELECT has_view('t90', 'orders_lines', '... and so is its view');
SELECT is(pg_temp.rows($$SELECT count(*) FROM t90.orders_lines$$), '(6)', '... the 6 links are kept');
SELECT is(pg_temp.constraints('tenant_t90.orders_lines'),
          ARRAY['orders_lines_orders_id_fkey', 'orders_lines_pkey', 'orders_lines_products_id_fkey'], '... its constraints are renamed');
SELECT has_index('tenant_t90', 'orders_lines', 'orders_lines_products_id_idx', 'products_id', '... and its index');
SELECT is(pg_temp.rows($$SELECT r.junction_table FROM cot.relationships r JOIN cot.fields f ON f.id = r.id
                          WHERE f.name = 'lines' AND r.tenant_id = (SELECT id FROM cot.tenants WHERE slug = 't90')$$),
          '(orders_lines)', '... cot.relationships follows');
SELECT ok(has_table_privilege('cot_t90_admin', 't90.orders_lines', 'SELECT, INSERT, DELETE'), '... the admin role still reaches the links');
SELECT is(pg_temp.settled('orders'), 'none 0 0', '... settled');

SELECT is(pg_temp.refusal(pg_temp.without_field(pg_temp.def('orders'), 'lines')),
          '22000 invalid entity change: dropping relation "lines" would delete 6 links', 'dropping a many_to_many with 6 links: 22000 with the count');
SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.without_field(pg_temp.def('orders'), 'lines'), '{"allow_data_loss": true}')),
          ARRAY['drop_relation:data_loss:6'], '... planned as data_loss, 6 links');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.without_field(pg_temp.def('orders'), 'lines'), '{"allow_data_loss": true}')$$,
                '... dropped with allow_data_loss');
SELECT hasnt_table('tenant_t90', 'orders_lines', '... the junction is gone');
SELECT hasnt_view('t90', 'orders_lines', '... and its view');
SELECT is((SELECT count(*)::int FROM cot.relationships r JOIN cot.entities e ON e.id = r.source_entity_id
            WHERE e.name = 'orders' AND r.tenant_id = (SELECT id FROM cot.tenants WHERE slug = 't90')), 0, '... and its cot.relationships row');
SELECT is(pg_temp.rows($$SELECT count(*) FROM t90.products$$), '(2)', '... the products stay');
SELECT is(pg_temp.settled('orders'), 'none 0 0', '... settled');

SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t90", "name": "people", "fields": [
    {"name": "name", "type": "text"}, {"name": "friends", "type": "relation", "kind": "many_to_many", "target": "people"}]}')$$,
                'people with a self many_to_many');
SELECT is(pg_temp.refusal(pg_temp.with_field(pg_temp.def('people'), 'friends', '{"name": "pals", "junction": null}')),
          '0A000 invalid entity change: renaming "friends", a many-to-many relation of an entity to itself, is not supported',
          'renaming a self many_to_many: 0A000');

-- A many_to_one that a one_to_many names as its inverse.
SELECT lives_ok($$SELECT cot.create_entities('[
    {"tenant": "t90", "name": "authors", "fields": [{"name": "name", "type": "text"},
        {"name": "books", "type": "relation", "kind": "one_to_many", "target": "books", "inverse": "author"}]},
    {"tenant": "t90", "name": "books", "fields": [{"name": "title", "type": "text"},
        {"name": "author", "type": "relation", "kind": "many_to_one", "target": "authors"}]}]')$$,
                'authors (one_to_many books, inverse author) and books (many_to_one author)');
SELECT is(pg_temp.refusal(pg_temp.without_field(pg_temp.def('books'), 'author')),
          '2BP01 invalid entity change: relation "author" is the inverse of authors.books; it cannot be dropped',
          'dropping a many_to_one that a one_to_many names as inverse: 2BP01');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('books'), 'author', '{"name": "writer", "column": null}'))$$,
                '... renaming it is allowed');
SELECT is((SELECT f->>'inverse' FROM cot.entities e, jsonb_array_elements(e.definition->'fields') f
            WHERE e.name = 'authors' AND f->>'name' = 'books'), 'writer', '... and the one_to_many follows the new name');
SELECT is((SELECT version FROM cot.entities WHERE name = 'authors' AND tenant_id = (SELECT id FROM cot.tenants WHERE slug = 't90')), 2,
          '... in a new version of that entity');
SELECT is((SELECT plan->0->>'step' FROM cot.migrations WHERE tenant = 't90' AND entity = 'authors' ORDER BY id DESC LIMIT 1), 'rename_inverse',
          '... recorded in the ledger');
SELECT is((SELECT action FROM (SELECT cot.plan_entity(cot.entity('t90', 'authors'))->>'action' AS action) x), 'none',
          '... and the stored definition still matches its tables');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('books'), 'writer', '{"name": "author", "column": null}'))$$,
                '... and back');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.without_field(pg_temp.def('authors'), 'books'))$$,
                'the one_to_many dropped first (metadata only)');
SELECT is((SELECT cardinality(sql) FROM cot.migrations WHERE tenant = 't90' AND entity = 'authors' AND operation = 'alter_entity'
            ORDER BY id DESC LIMIT 1), 0,
          '... with no DDL');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.without_field(pg_temp.def('books'), 'author'))$$, '... then the many_to_one can go');

-------------------------------------------------------------------------------
-- Access rules: policies, grants and reads as the tenant's roles
-------------------------------------------------------------------------------
-- Rows of docs as a request of role `role` with `claims` would see them
-- (count), or the SQLSTATE of the refusal.
CREATE FUNCTION pg_temp.as_role(role text, claims text, q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    out text;
BEGIN
    PERFORM set_config('request.jwt.claims', claims, true);
    EXECUTE format('SET LOCAL ROLE %I', role);
    BEGIN
        EXECUTE format('SELECT coalesce(string_agg(r::text, %L), %L) FROM (%s) AS r', ' ', '', q) INTO out;
    EXCEPTION WHEN OTHERS THEN
        out := SQLSTATE;
    END;
    RESET ROLE;
    PERFORM set_config('request.jwt.claims', '', true);
    RETURN out;
END $$;
-- A write as that role: 'ok' or the SQLSTATE.
CREATE FUNCTION pg_temp.as_role_do(role text, claims text, q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    out text := 'ok';
    n bigint;
BEGIN
    PERFORM set_config('request.jwt.claims', claims, true);
    EXECUTE format('SET LOCAL ROLE %I', role);
    BEGIN
        EXECUTE q;
        GET DIAGNOSTICS n = ROW_COUNT;
        out := 'ok ' || n;
    EXCEPTION WHEN OTHERS THEN
        out := SQLSTATE;
    END;
    RESET ROLE;
    PERFORM set_config('request.jwt.claims', '', true);
    RETURN out;
END $$;
CREATE FUNCTION pg_temp.policies(tbl text) RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(policyname || ':' || (SELECT string_agg(r, ',' ORDER BY r) FROM unnest(roles::text[]) r) ORDER BY policyname), '{}')
      FROM pg_policies WHERE schemaname = 'tenant_t90' AND tablename = tbl
$$;

SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t90", "name": "tags", "fields": [{"name": "word", "type": "text"}]}')$$, 'tags created');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t90", "name": "docs", "fields": [
    {"name": "body", "type": "text"}, {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tags"}]}')$$,
                'docs created (access: admin only, the default)');
INSERT INTO t90.docs (body) VALUES ('d1'), ('d2'), ('d3');
INSERT INTO t90.tags (word) VALUES ('w');
INSERT INTO t90.docs_tags (docs_id, tags_id) SELECT d.id, t.id FROM t90.docs d, t90.tags t;

SELECT is(pg_temp.policies('docs'), ARRAY['cot_delete:cot_t90_admin', 'cot_insert:cot_t90_admin', 'cot_select:cot_t90_admin', 'cot_update:cot_t90_admin'],
          'before: one policy per command, for the admin role');
SELECT ok(NOT has_table_privilege('cot_t90_user', 't90.docs', 'SELECT') AND NOT has_table_privilege('cot_t90_user', 'tenant_t90.docs', 'SELECT'),
          '... the user role may not read docs');
SELECT ok(NOT has_table_privilege('cot_t90_user', 't90.docs_tags', 'SELECT'), '... nor its links');
SELECT is(pg_temp.as_role('cot_t90_user', '{"role": "cot_t90_user", "tenant": "t90", "sub": "u1"}', 'SELECT count(*) FROM t90.docs'), '42501',
          '... a user''s read is refused (42501)');
SELECT is(pg_temp.as_role('cot_t90_admin', '{"role": "cot_t90_admin", "tenant": "t90"}', 'SELECT count(*) FROM t90.docs'), '(3)',
          '... an admin reads the 3 rows');

SELECT is(pg_temp.costly(cot.plan_entity(pg_temp.def('docs') || '{"access": {"read": "tenant", "create": "tenant", "update": "admin", "delete": "admin"}}')),
          '{}', 'changing access rules: metadata only');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.def('docs') || '{"access": {"read": "tenant", "create": "tenant", "update": "admin", "delete": "admin"}}')$$,
                'access: read and create by the tenant''s users');
SELECT is(pg_temp.policies('docs'),
          ARRAY['cot_delete:cot_t90_admin', 'cot_insert:cot_t90_admin,cot_t90_user', 'cot_select:cot_t90_admin,cot_t90_user', 'cot_update:cot_t90_admin'],
          '... the policies follow');
SELECT ok(has_table_privilege('cot_t90_user', 't90.docs', 'SELECT, INSERT') AND has_table_privilege('cot_t90_user', 'tenant_t90.docs', 'SELECT, INSERT'),
          '... the user role may read and insert, on the view and the table');
SELECT ok(NOT has_table_privilege('cot_t90_user', 't90.docs', 'UPDATE') AND NOT has_table_privilege('cot_t90_user', 't90.docs', 'DELETE'),
          '... not update or delete');
SELECT ok(NOT has_table_privilege('cot_t90_anon', 't90.docs', 'SELECT'), '... anon still may not read');
SELECT is(pg_temp.as_role('cot_t90_user', '{"role": "cot_t90_user", "tenant": "t90", "sub": "u1"}', 'SELECT count(*) FROM t90.docs'), '(3)',
          '... a user of t90 reads the 3 rows');
SELECT is(pg_temp.as_role('cot_t90_user', '{"role": "cot_t90_user", "tenant": "t90x", "sub": "u1"}', 'SELECT count(*) FROM t90.docs'), '(0)',
          '... a claim for another tenant reads none');
SELECT is(pg_temp.as_role_do('cot_t90_user', '{"role": "cot_t90_user", "tenant": "t90", "sub": "u1"}', $$UPDATE t90.docs SET body = 'x'$$), '42501',
          '... a user''s update is refused');
SELECT ok(has_table_privilege('cot_t90_user', 't90.docs_tags', 'SELECT') AND has_table_privilege('cot_t90_user', 'tenant_t90.docs_tags', 'SELECT'),
          '... the junction follows read: users may read the links');
SELECT ok(NOT has_table_privilege('cot_t90_user', 't90.docs_tags', 'INSERT'), '... but not add links (update stays admin)');
SELECT is(pg_temp.as_role('cot_t90_user', '{"role": "cot_t90_user", "tenant": "t90", "sub": "u1"}', 'SELECT count(*) FROM t90.docs_tags'), '(3)',
          '... a user reads the 3 links');
SELECT is(pg_temp.rows($$SELECT body FROM t90.docs ORDER BY 1$$), '(d1) (d2) (d3)', '... the rows are untouched');
SELECT is(pg_temp.settled('docs'), 'none 0 0', '... settled');

-- The owner rule: owner_id and its trigger come; users write their own rows.
DELETE FROM t90_plan;
INSERT INTO t90_plan SELECT cot.plan_entity(pg_temp.def('docs') || '{"access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "owner"}}');
SELECT is((SELECT pg_temp.costly(p) FROM t90_plan), '{}', 'switching update/delete to owner: metadata only');
SELECT ok((SELECT pg_temp.steps(p) @> ARRAY['add_column', 'create_trigger', 'drop_policy', 'create_policy'] FROM t90_plan),
          '... adds a column and a trigger, replaces policies');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.def('docs') || '{"access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "owner"}}')$$,
                'access: update and delete by the owner');
SELECT col_type_is('tenant_t90', 'docs', 'owner_id', 'text', '... owner_id text on the table');
SELECT has_column('t90', 'docs', 'owner_id', '... shown by the view');
SELECT is(pg_temp.rows($$SELECT count(*) FROM t90.docs WHERE owner_id IS NULL$$), '(3)', '... existing rows have no owner');
SELECT is((SELECT array_agg(tgname::text) FROM pg_trigger WHERE tgrelid = 'tenant_t90.docs'::regclass AND NOT tgisinternal AND tgname <> 'cot_system_columns'),
          ARRAY['cot_owner_column'], '... the trigger cot_owner_column');
SELECT is(pg_temp.policies('docs'),
          ARRAY['cot_delete_admin:cot_t90_admin', 'cot_delete_owner:cot_t90_user', 'cot_insert:cot_t90_admin,cot_t90_user',
                'cot_select:cot_t90_admin,cot_t90_user', 'cot_update_admin:cot_t90_admin', 'cot_update_owner:cot_t90_user'],
          '... owner and admin policies for update and delete');
SELECT is(pg_temp.as_role_do('cot_t90_user', '{"role": "cot_t90_user", "tenant": "t90", "sub": "u1"}', $$INSERT INTO t90.docs (body) VALUES ('mine')$$),
          'ok 1', '... user u1 inserts a doc');
SELECT is(pg_temp.rows($$SELECT owner_id FROM t90.docs WHERE body = 'mine'$$), '(u1)', '... owned by u1 (the trigger set it)');
SELECT is(pg_temp.as_role_do('cot_t90_user', '{"role": "cot_t90_user", "tenant": "t90", "sub": "u1"}', $$UPDATE t90.docs SET body = body || '!'$$),
          'ok 1', '... u1''s update reaches only u1''s row');
SELECT is(pg_temp.as_role_do('cot_t90_user', '{"role": "cot_t90_user", "tenant": "t90", "sub": "u2"}', $$DELETE FROM t90.docs$$),
          'ok 0', '... u2 deletes nothing');
SELECT is(pg_temp.rows($$SELECT body FROM t90.docs ORDER BY 1$$), '(d1) (d2) (d3) (mine!)', '... and the rows say so');
SELECT is(pg_temp.settled('docs'), 'none 0 0', '... settled');

-- Removing the owner rule: owner_id holds an owner, so it is data loss.
SELECT is(pg_temp.refusal(pg_temp.def('docs') || '{"access": {"read": "tenant", "create": "tenant", "update": "tenant", "delete": "admin"}}'),
          '22000 invalid entity change: no rule needs the owner any more: dropping owner_id would forget the owner of 1 row',
          'removing the owner rule while 1 row has an owner: 22000 with the count');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.def('docs') || '{"access": {"read": "tenant", "create": "tenant", "update": "tenant", "delete": "admin"}}',
                                          '{"allow_data_loss": true}')$$,
                '... made with allow_data_loss');
SELECT hasnt_column('tenant_t90', 'docs', 'owner_id', '... owner_id is gone from the table');
SELECT hasnt_column('t90', 'docs', 'owner_id', '... and the view');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'tenant_t90.docs'::regclass AND tgname = 'cot_owner_column'), 0, '... and the trigger');
SELECT is(pg_temp.policies('docs'),
          ARRAY['cot_delete:cot_t90_admin', 'cot_insert:cot_t90_admin,cot_t90_user', 'cot_select:cot_t90_admin,cot_t90_user', 'cot_update:cot_t90_admin,cot_t90_user'],
          '... and the owner policies');
SELECT is(pg_temp.as_role_do('cot_t90_user', '{"role": "cot_t90_user", "tenant": "t90", "sub": "u2"}', $$UPDATE t90.docs SET body = body$$),
          'ok 4', '... any user of the tenant updates every row now');
SELECT ok(has_table_privilege('cot_t90_user', 't90.docs_tags', 'INSERT, DELETE'), '... and, update being tenant, adds and removes links');
SELECT is(pg_temp.settled('docs'), 'none 0 0', '... settled');
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.def('docs') || '{"access": {"read": "public", "create": "none", "update": "none", "delete": "none"}}')$$,
                'access: public read, no writes');
SELECT is(pg_temp.as_role('cot_t90_anon', '{"role": "cot_t90_anon", "tenant": "t90"}', 'SELECT count(*) FROM t90.docs'), '(4)', '... anon reads');
SELECT is(pg_temp.as_role_do('cot_t90_admin', '{"role": "cot_t90_admin", "tenant": "t90"}', $$DELETE FROM t90.docs$$), '42501',
          '... even the admin role may not delete');
SELECT is(pg_temp.settled('docs'), 'none 0 0', '... settled');

-------------------------------------------------------------------------------
-- plan_entity changes nothing
-------------------------------------------------------------------------------
CREATE TEMP TABLE t90_state AS SELECT pg_temp.state() AS s;
CREATE TEMP TABLE t90_big_change AS
SELECT pg_temp.plus_field(pg_temp.without_field(pg_temp.with_field(pg_temp.with_field(pg_temp.with_field(pg_temp.def('items'),
           'name', '{"name": "label_text", "label": null}'), 'qty', '{"type": "text"}'), 'code', '{"unique": true, "index": false}'), 'memo'),
       '{"name": "owner", "type": "relation", "kind": "many_to_one", "target": "customers"}')
       || '{"access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "admin"}}' AS def;
SELECT is((SELECT p->>'action' FROM t90_big_change, cot.plan_entity(def, '{"allow_data_loss": true}') p), 'alter',
          'plan_entity of a change with a rename, a retype, a unique, a drop, a relation and access rules: action alter');
SELECT is((SELECT (p->'summary'->>'table_rewrite')::int > 0 AND (p->'summary'->>'validating_scan')::int > 0
             FROM t90_big_change, cot.plan_entity(def, '{"allow_data_loss": true}') p), true,
          '... its summary counts rewrites and scans');
SELECT is((SELECT p->'summary' FROM t90_big_change, cot.plan_entity(def, '{"allow_data_loss": true}') p),
          (SELECT jsonb_object_agg(k, (SELECT count(*) FROM jsonb_array_elements(p->'changes') c WHERE c->>'class' = k))
             FROM t90_big_change, cot.plan_entity(def, '{"allow_data_loss": true}') p,
                  unnest(ARRAY['metadata', 'validating_scan', 'table_rewrite', 'data_loss']) k),
          '... the summary is the count of changes per class');
SELECT ok((SELECT bool_and(c ? 'sql' AND c ? 'step' AND c ? 'class') FROM t90_big_change, cot.plan_entity(def, '{"allow_data_loss": true}') p,
                  jsonb_array_elements(p->'changes') c),
          '... every change has its step, class and SQL');
SELECT is((SELECT jsonb_array_length(p->'refused') FROM t90_big_change, cot.plan_entity(def) p), 0,
          '... without allow_data_loss nothing is refused (the dropped field is empty)');
SELECT is((SELECT p->'refused'->0->>'sqlstate' FROM t90_big_change,
                  cot.plan_entity(pg_temp.with_field(def, 'score', '{"max": 10}')) p), '23514',
          '... with a tighter limit too, the refusal is listed');
SELECT is(cot_test.diff((SELECT s FROM t90_state), pg_temp.state()), NULL,
          'after all these plans nothing changed: catalog, meta rows, ledger, data, policies, indexes, relfilenodes');
SELECT is((SELECT count(*)::int FROM cot.migrations WHERE tenant = 't90' AND operation = 'alter_entity'
             AND applied_at > now()), 0, '(no ledger row from the future either)');

-------------------------------------------------------------------------------
-- lock_timeout: a local setting for the call, put back afterwards
-------------------------------------------------------------------------------
SET LOCAL lock_timeout = '7s';
SELECT lives_ok($$SELECT cot.alter_entity(pg_temp.with_field(pg_temp.def('items'), 'memo', '{"label": "Memo text"}'), '{"lock_timeout": 100}')$$,
                'an alter with the lock_timeout option');
SELECT is(current_setting('lock_timeout'), '7s', '... leaves the caller''s lock_timeout as it was');
SELECT lives_ok($$SELECT cot.plan_entity(pg_temp.def('items'))$$, 'plan_entity');
SELECT is(current_setting('lock_timeout'), '7s', '... too');
SELECT is(cot_test.error_of($$SELECT cot.alter_entity(pg_temp.def('items'), '{"lock_timeout": -1}')$$)->>'sqlstate', '22023', 'lock_timeout -1: 22023');
SELECT is(cot_test.error_of($$SELECT cot.alter_entity(pg_temp.def('items'), '{"lock_timeout": "1s"}')$$)->>'sqlstate', '22023', 'lock_timeout as text: 22023');
SET LOCAL lock_timeout = 0;
SELECT is(current_setting('cot.lock_timeout'), '500ms', 'cot.lock_timeout defaults to 500 ms');
SELECT is(pg_temp.rows($$SELECT col_description('tenant_t90.items'::regclass, attnum) FROM pg_attribute
                          WHERE attrelid = 'tenant_t90.items'::regclass AND attname = 'memo'$$), '("Memo text")',
          'a label change is a comment on the column');

-------------------------------------------------------------------------------
-- The /rpc/ wrappers, as the tenant's admin role
-------------------------------------------------------------------------------
SELECT ok(has_function_privilege('cot_t90_admin', 't90.plan_entity(jsonb, jsonb)', 'EXECUTE')
          AND has_function_privilege('cot_t90_admin', 't90.alter_entity(jsonb, jsonb)', 'EXECUTE'), 'the admin role may execute both wrappers');
SELECT ok(NOT has_function_privilege('cot_t90_user', 't90.alter_entity(jsonb, jsonb)', 'EXECUTE')
          AND NOT has_function_privilege('cot_t90_anon', 't90.plan_entity(jsonb, jsonb)', 'EXECUTE'), '... the user and anon roles may not');
CREATE TEMP TABLE t90_rpc_def AS SELECT pg_temp.plus_field(pg_temp.def('notes'), '{"name": "stars", "type": "integer"}') - 'tenant' AS def;
GRANT SELECT ON t90_rpc_def, t90_plan TO cot_t90_admin, cot_t90_user;
GRANT INSERT, DELETE ON t90_plan TO cot_t90_admin;
SET LOCAL ROLE cot_t90_admin;
DELETE FROM t90_plan;
INSERT INTO t90_plan SELECT t90.plan_entity(def) FROM t90_rpc_def;
SELECT is((SELECT format('%s %s %s', p->>'tenant', p->>'action', (pg_temp.steps(p) @> ARRAY['add_column', 'create_view'])::text) FROM t90_plan),
          't90 alter true',
          't90.plan_entity (no tenant in the definition): the plan for notes');
SELECT is((SELECT (t90.alter_entity(def, '{}')->>'version')::int FROM t90_rpc_def), (SELECT (def->>'version')::int + 1 FROM t90_rpc_def),
          't90.alter_entity: applied, one version up');
SELECT is((SELECT t90.entity('notes')->'fields'->-1->>'name'), 'stars', '... the new field is there');
SELECT is(cot_test.sqlstate_of($$SELECT t90.alter_entity(def, '{}') FROM t90_rpc_def$$), '22023', '... sending the same definition again: stale, 22023');
SELECT is(cot_test.sqlstate_of($$SELECT t90.alter_entity('{"tenant": "t90b", "name": "x"}', '{}')$$), '42501',
          '... a definition naming another tenant: 42501');
RESET ROLE;
SELECT is((SELECT applied_by FROM cot.migrations WHERE tenant = 't90' AND entity = 'notes' AND operation = 'alter_entity' ORDER BY id DESC LIMIT 1),
          'cot_t90_admin', 'the ledger records the admin role');
SET LOCAL ROLE cot_t90_user;
SELECT is(cot_test.sqlstate_of($$SELECT t90.alter_entity(def, '{}') FROM t90_rpc_def$$), '42501', 'the user role: 42501');
SELECT is(cot_test.sqlstate_of($$SELECT cot.alter_entity(def || '{"tenant": "t90"}') FROM t90_rpc_def$$), '42501', '... cot.alter_entity directly: 42501');
SELECT is(cot_test.sqlstate_of($$SELECT cot.plan_entity(def || '{"tenant": "t90"}') FROM t90_rpc_def$$), '42501', '... cot.plan_entity directly: 42501');
RESET ROLE;

-------------------------------------------------------------------------------
-- Atomicity: an alter failing after any of its steps leaves everything as it was
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t90", "name": "walked", "fields": [
    {"name": "title", "type": "text", "required": true, "max_length": 50, "index": true},
    {"name": "qty", "type": "text"},
    {"name": "status", "type": "enum", "values": ["a", "b"]},
    {"name": "gone", "type": "text"},
    {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tags"}]}')$$, 'walked created');
INSERT INTO t90.walked (title, qty, status, gone) VALUES ('w1', '1', 'a', 'g'), ('w2', '2', 'b', NULL);
INSERT INTO t90.walked_tags (walked_id, tags_id) SELECT w.id, t.id FROM t90.walked w, t90.tags t;
CREATE TEMP TABLE t90_walk_def AS
SELECT pg_temp.plus_field(pg_temp.plus_field(pg_temp.without_field(pg_temp.with_field(pg_temp.with_field(pg_temp.with_field(pg_temp.def('walked'),
           'title', '{"name": "heading", "label": null, "max_length": 60}'), 'qty', '{"type": "integer", "default": 0}'),
           'status', '{"values": ["a", "c"], "required": true}'), 'gone'),
           '{"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customers"}'),
           '{"name": "products", "type": "relation", "kind": "many_to_many", "target": "products"}')
       || '{"access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "admin"}, "indexes": [{"fields": ["status", "qty"]}]}' AS def;
CREATE TEMP TABLE t90_walk AS
SELECT w.* FROM t90_walk_def, cot_test.walk(format('SELECT cot.alter_entity(%L::jsonb, %L::jsonb)', def,
                                                   '{"allow_data_loss": true, "rename_values": {"status": {"b": "c"}}}'), 't90') AS w;
SELECT is((SELECT outcome FROM t90_walk ORDER BY step DESC LIMIT 1), 'ok', 'alter_entity: succeeds once the failpoint is past its last step');
SELECT is_empty($$SELECT step, outcome, message FROM t90_walk WHERE outcome NOT IN ('55000', 'ok')$$,
                'alter_entity: every failure is the failpoint''s 55000');
SELECT is_empty($$SELECT step, message FROM t90_walk WHERE outcome = '55000' AND message <> 'cot.test_fail_after_step: failing after step ' || step$$,
                'alter_entity: each failure happened right after its own step');
SELECT cmp_ok((SELECT count(*)::int FROM t90_walk WHERE outcome = '55000'), '>=',
              (SELECT cardinality(sql) FROM cot.migrations WHERE tenant = 't90' AND entity = 'walked' AND operation = 'alter_entity'),
              'alter_entity: a failure after every statement in the ledger');
SELECT cmp_ok((SELECT count(*)::int FROM t90_walk WHERE outcome = '55000'), '>', 30, '... more than 30 failing steps were walked');
SELECT is_empty($$SELECT step, cot_test.diff(before, after) FROM t90_walk WHERE changed$$,
                'alter_entity: after every failure, nothing changed (tables, columns, constraints, meta rows, relationships, ledger, row counts)');
SELECT is(pg_temp.rows($$SELECT heading, qty, status FROM t90.walked ORDER BY heading$$), '(w1,1,a) (w2,2,c)',
          'the successful call: renamed, converted, enum value renamed');
SELECT has_column('tenant_t90', 'walked', 'owner_id', '... owner_id added');
SELECT has_table('tenant_t90', 'walked_products', '... the new junction made');
SELECT fk_ok('tenant_t90', 'walked', 'customer_id', 'tenant_t90', 'customers', 'id', '... the new foreign key made');
SELECT hasnt_column('tenant_t90', 'walked', 'gone', '... the dropped field gone');
SELECT is(pg_temp.rows($$SELECT count(*) FROM t90.walked_tags$$), '(2)', '... the kept junction keeps its links');
SELECT is(pg_temp.settled('walked'), 'none 0 0', '... settled');

-- A second walk, of the way back: a junction with links and a relation
-- holding values dropped, the owner rule removed, a many_to_many renamed, a
-- compound index dropped, a field retyped back.
SELECT pg_temp.run($$INSERT INTO t90.walked_products (walked_id, products_id) SELECT w.id, p.id FROM t90.walked w, t90.products p$$);
SELECT pg_temp.run($$UPDATE t90.walked SET customer_id = (SELECT id FROM t90.customers WHERE name = 'ann')$$);
CREATE TEMP TABLE t90_walk_def2 AS
SELECT pg_temp.with_field(pg_temp.with_field(pg_temp.without_field(pg_temp.without_field(pg_temp.def('walked'), 'tags'), 'customer'),
           'products', '{"name": "goods", "label": null, "junction": null}'), 'qty', '{"type": "text", "default": null}')
       || '{"access": {"read": "admin", "create": "admin", "update": "admin", "delete": "admin"}, "indexes": []}' AS def;
CREATE TEMP TABLE t90_walk2 AS
SELECT w.* FROM t90_walk_def2, cot_test.walk(format('SELECT cot.alter_entity(%L::jsonb, %L::jsonb)', def, '{"allow_data_loss": true}'), 't90') AS w;
SELECT is((SELECT outcome FROM t90_walk2 ORDER BY step DESC LIMIT 1), 'ok', 'the way back: succeeds once the failpoint is past its last step');
SELECT is_empty($$SELECT step, outcome, message FROM t90_walk2 WHERE outcome NOT IN ('55000', 'ok')$$,
                'the way back: every failure is the failpoint''s 55000');
SELECT cmp_ok((SELECT count(*)::int FROM t90_walk2 WHERE outcome = '55000'), '>=',
              (SELECT cardinality(sql) FROM cot.migrations WHERE tenant = 't90' AND entity = 'walked' AND operation = 'alter_entity' ORDER BY id DESC LIMIT 1),
              'the way back: a failure after every statement in the ledger');
SELECT is_empty($$SELECT step, cot_test.diff(before, after) FROM t90_walk2 WHERE changed$$,
                'the way back: after every failure, nothing changed (the dropped junction with its links, the column with its values are back)');
SELECT hasnt_table('tenant_t90', 'walked_tags', 'the successful call dropped the junction with links');
SELECT hasnt_column('tenant_t90', 'walked', 'customer_id', '... the relation column');
SELECT hasnt_column('tenant_t90', 'walked', 'owner_id', '... and owner_id');
SELECT is(pg_temp.rows($$SELECT count(*) FROM t90.walked_goods$$), '(4)', '... and renamed the other junction, links kept');
SELECT is(pg_temp.rows($$SELECT heading, qty FROM t90.walked ORDER BY heading$$), '(w1,1) (w2,2)', '... and converted qty back to text');
SELECT is(pg_temp.settled('walked'), 'none 0 0', '... settled');
SELECT is(current_setting('cot.test_fail_after_step'), '0', 'the failpoint is off again');

-- Text that surely converts is not tried value by value: each target type
-- has a pattern (conversion.rs, surely_castable) and only values outside it
-- go through cot.castable. At each pattern's edge the values convert (row 1);
-- values outside the patterns that convert are found so (row 2); values
-- that do not are counted and become NULL (row 3).
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t90", "name": "edges", "fields": [
  {"name": "i", "type": "text"}, {"name": "b", "type": "text"}, {"name": "d", "type": "text"}, {"name": "f", "type": "text"},
  {"name": "day", "type": "text"}, {"name": "clock", "type": "text"}, {"name": "at", "type": "text"}, {"name": "yes", "type": "text"},
  {"name": "u", "type": "text"}, {"name": "k", "type": "integer"}]}')$$, 'an entity of text fields at the patterns'' edges');
INSERT INTO tenant_t90.edges (k, i, b, d, f, day, clock, at, yes, u) VALUES
  (1, ' +999999999 ', '-999999999999999999', '-999.', '999999999999999.999999999999999', '2999-12-28', '23:59:59.999999',
      '2026-02-28T23:59:59.5+15:59', ' off ', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'),
  (2, '2147483647', '9223372036854775807', '999.99', '1e308', '2024-02-29', '24:00:00', '2026-02-28 10:30:00 UTC', 'TRUE',
      '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'),
  (3, '2147483648', '9223372036854775808', '999.999', '1e309', '2023-02-29', '24:00:01', '2026-02-28 10:30+16', 'maybe', 'a0eebc99');
CREATE TEMP TABLE t90_edges AS
SELECT pg_temp.with_field(pg_temp.with_field(pg_temp.with_field(pg_temp.with_field(pg_temp.with_field(pg_temp.with_field(
         pg_temp.with_field(pg_temp.with_field(pg_temp.with_field(pg_temp.def('edges'),
         'i', '{"type": "integer"}'), 'b', '{"type": "bigint"}'), 'd', '{"type": "decimal", "precision": 5, "scale": 2}'),
         'f', '{"type": "float"}'), 'day', '{"type": "date"}'), 'clock', '{"type": "time"}'), 'at', '{"type": "timestamp"}'),
         'yes', '{"type": "boolean"}'), 'u', '{"type": "uuid"}') AS def;
SELECT is((SELECT pg_temp.costly(cot.plan_entity(def, '{"allow_data_loss": true}')) FROM t90_edges),
          array_fill('alter_column_type:data_loss:1'::text, ARRAY[9]), 'nine conversions, one value each that does not convert');
SELECT ok((SELECT string_agg(c->>'sql', ' ') FROM t90_edges, jsonb_array_elements(cot.plan_entity(def, '{"allow_data_loss": true}')->'changes') AS c)
            ~ 'CASE WHEN "i"::text ~ E''\^', '... the change tries the pattern before cot.castable');
SELECT lives_ok($$SELECT cot.alter_entity(def, '{"allow_data_loss": true}') FROM t90_edges$$, '... made with allow_data_loss');
SELECT is(pg_temp.rows($$SELECT k, i, b, d, f, day, clock, at, yes, u FROM t90.edges ORDER BY k$$),
          '(1,999999999,-999999999999999999,-999.00,1e+15,2999-12-28,23:59:59.999999,"2026-02-28 08:00:59.5+00",f,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11) '
          || '(2,2147483647,9223372036854775807,999.99,1e+308,2024-02-29,24:00:00,"2026-02-28 10:30:00+00",t,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11) '
          || '(3,,,,,,,,,)',
          '... rows 1 and 2 converted, row 3 NULL');
SELECT is(pg_temp.settled('edges'), 'none 0 0', '... settled');

SELECT * FROM finish();
ROLLBACK;
