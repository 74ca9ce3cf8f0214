-- Field options: required, unique, index, default (every type and keyword),
-- min/max, min_length/max_length, pattern, enum values, e-mail and URL shapes,
-- array shape, label and description, compound indexes and unique constraints.
-- Each is checked in the catalog and by writing rows that must pass or fail.
BEGIN;
SELECT plan(185);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t30')$$, 'tenant t30 created');

-- Inserts one row through the API view and returns 'ok' or the SQLSTATE.
CREATE FUNCTION pg_temp.insert_state(tbl text, col text, literal text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('INSERT INTO %s (%I) VALUES (%s)', tbl, col, literal);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

-------------------------------------------------------------------------------
-- required, unique, index
-------------------------------------------------------------------------------
SELECT lives_ok($$CREATE TEMP TABLE t30_basic AS SELECT cot.create_entity('{
  "tenant": "t30", "name": "basic",
  "fields": [
    {"name": "title",  "type": "text", "required": true},
    {"name": "tags",   "type": "array", "items": "text", "required": true, "default": []},
    {"name": "code",   "type": "text", "unique": true},
    {"name": "slug",   "type": "text", "unique": true, "index": true},
    {"name": "rank",   "type": "integer", "index": true},
    {"name": "meta",   "type": "json", "index": true},
    {"name": "labels", "type": "array", "items": "text", "index": true},
    {"name": "doc",    "type": "json", "unique": true},
    {"name": "plain",  "type": "text"}
  ]}') AS def$$, 'entity basic created');

SELECT col_not_null('tenant_t30', 'basic', 'title', 'required: title is NOT NULL');
SELECT col_not_null('tenant_t30', 'basic', 'tags', 'required: an array field is NOT NULL too');
SELECT col_is_null('tenant_t30', 'basic', 'plain', 'not required: nullable');
SELECT throws_ok($$INSERT INTO t30.basic (plain) VALUES ('x')$$, '23502', NULL, 'required field missing: 23502');
SELECT throws_ok($$INSERT INTO t30.basic (title) VALUES (NULL)$$, '23502', NULL, 'required field NULL: 23502');
SELECT throws_ok($$INSERT INTO t30.basic (title, tags) VALUES ('x', NULL)$$, '23502', NULL, 'required array NULL: 23502');
SELECT lives_ok($$INSERT INTO t30.basic (title, code, slug, doc) VALUES ('one', 'C1', 's1', '{"a": 1}')$$, 'a row with unique values');
SELECT throws_ok($$INSERT INTO t30.basic (title, code) VALUES ('two', 'C1')$$, '23505', NULL, 'unique: duplicate code 23505');
SELECT throws_ok($$INSERT INTO t30.basic (title, slug) VALUES ('two', 's1')$$, '23505', NULL, 'unique + index: duplicate slug 23505');
SELECT throws_ok($$INSERT INTO t30.basic (title, doc) VALUES ('two', '{"a": 1}')$$, '23505', NULL, 'unique json: duplicate 23505');
SELECT lives_ok($$INSERT INTO t30.basic (title, code) VALUES ('two', 'C2'), ('three', NULL), ('four', NULL)$$,
                'unique: other values and several NULLs are accepted');
SELECT throws_ok($$UPDATE t30.basic SET code = 'C1' WHERE title = 'two'$$, '23505', NULL, 'unique: an UPDATE to a taken value 23505');

-- Indexes: btree for scalars, GIN for arrays and json; unique fields need no extra index.
SELECT is((SELECT indexdef FROM pg_indexes WHERE schemaname = 'tenant_t30' AND indexname = 'basic_rank_idx'),
          'CREATE INDEX basic_rank_idx ON tenant_t30.basic USING btree (rank)', 'index on integer: btree');
SELECT is((SELECT indexdef FROM pg_indexes WHERE schemaname = 'tenant_t30' AND indexname = 'basic_meta_idx'),
          'CREATE INDEX basic_meta_idx ON tenant_t30.basic USING gin (meta)', 'index on json: GIN');
SELECT is((SELECT indexdef FROM pg_indexes WHERE schemaname = 'tenant_t30' AND indexname = 'basic_labels_idx'),
          'CREATE INDEX basic_labels_idx ON tenant_t30.basic USING gin (labels)', 'index on array: GIN');
SELECT is((SELECT indexdef FROM pg_indexes WHERE schemaname = 'tenant_t30' AND indexname = 'basic_code_key'),
          'CREATE UNIQUE INDEX basic_code_key ON tenant_t30.basic USING btree (code)', 'unique: a unique btree index');
SELECT is((SELECT count(*)::int FROM pg_indexes WHERE schemaname = 'tenant_t30' AND tablename = 'basic' AND indexdef LIKE '%(slug)'),
          1, 'unique + index: one index on slug, not two');
SELECT is((SELECT count(*)::int FROM pg_indexes WHERE schemaname = 'tenant_t30' AND tablename = 'basic' AND indexdef LIKE '%(plain)'),
          0, 'no index on a field without index or unique');
SELECT is((SELECT count(*)::int FROM pg_constraint WHERE conrelid = 'tenant_t30.basic'::regclass AND contype = 'u'),
          3, 'three UNIQUE constraints (code, slug, doc)');
SELECT is((SELECT def->'fields'->4->'index' FROM t30_basic), 'true'::jsonb, 'normalized: index flag');
SELECT is((SELECT (def->'fields'->8) - 'id' FROM t30_basic),
          '{"name": "plain", "type": "text", "label": "Plain", "required": false, "unique": false, "index": false}'::jsonb,
          'normalized: every flag explicit, label derived from the name');

-- An index on every scalar type is btree, on every array item type and json GIN.
SELECT lives_ok($$SELECT cot.create_entity('{
  "tenant": "t30", "name": "indexed",
  "fields": [
    {"name": "s_text", "type": "text", "index": true},          {"name": "s_integer", "type": "integer", "index": true},
    {"name": "s_bigint", "type": "bigint", "index": true},      {"name": "s_decimal", "type": "decimal", "index": true},
    {"name": "s_float", "type": "float", "index": true},        {"name": "s_boolean", "type": "boolean", "index": true},
    {"name": "s_date", "type": "date", "index": true},          {"name": "s_timestamp", "type": "timestamp", "index": true},
    {"name": "s_time", "type": "time", "index": true},          {"name": "s_uuid", "type": "uuid", "index": true},
    {"name": "s_enum", "type": "enum", "values": ["a"], "index": true},
    {"name": "s_email", "type": "email", "index": true},        {"name": "s_url", "type": "url", "index": true},
    {"name": "j_json", "type": "json", "index": true},
    {"name": "a_text", "type": "array", "items": "text", "index": true},
    {"name": "a_integer", "type": "array", "items": "integer", "index": true},
    {"name": "a_bigint", "type": "array", "items": "bigint", "index": true},
    {"name": "a_decimal", "type": "array", "items": "decimal", "index": true},
    {"name": "a_float", "type": "array", "items": "float", "index": true},
    {"name": "a_boolean", "type": "array", "items": "boolean", "index": true},
    {"name": "a_date", "type": "array", "items": "date", "index": true},
    {"name": "a_timestamp", "type": "array", "items": "timestamp", "index": true},
    {"name": "a_time", "type": "array", "items": "time", "index": true},
    {"name": "a_uuid", "type": "array", "items": "uuid", "index": true},
    {"name": "a_enum", "type": "array", "items": "enum", "values": ["a"], "index": true},
    {"name": "a_email", "type": "array", "items": "email", "index": true},
    {"name": "a_url", "type": "array", "items": "url", "index": true}
  ]}')$$, 'an index on a field of every type is created');
SELECT is((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = 'tenant_t30.indexed'::regclass AND am.amname = 'btree' AND NOT i.indisprimary),
          ARRAY['s_text', 's_integer', 's_bigint', 's_decimal', 's_float', 's_boolean', 's_date', 's_timestamp',
                's_time', 's_uuid', 's_enum', 's_email', 's_url'],
          'every scalar field has a btree index');
SELECT is((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = 'tenant_t30.indexed'::regclass AND am.amname = 'gin'),
          ARRAY['j_json', 'a_text', 'a_integer', 'a_bigint', 'a_decimal', 'a_float', 'a_boolean', 'a_date',
                'a_timestamp', 'a_time', 'a_uuid', 'a_enum', 'a_email', 'a_url'],
          'json and every array field have a GIN index');
SELECT lives_ok($$INSERT INTO t30.indexed (a_text, a_uuid, j_json) VALUES ('{x,y}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', '{"k": [1]}')$$,
                'rows go into the GIN-indexed columns');
SELECT is((SELECT count(*)::int FROM t30.indexed WHERE a_text @> '{y}' AND j_json @> '{"k": [1]}'), 1,
          'containment queries find the row');

-------------------------------------------------------------------------------
-- defaults
-------------------------------------------------------------------------------
SELECT lives_ok($$CREATE TEMP TABLE t30_defaults AS SELECT cot.create_entity($j${
  "tenant": "t30", "name": "defaults",
  "fields": [
    {"name": "d_text",      "type": "text", "default": "it's a \\ back'slash"},
    {"name": "d_text_now",  "type": "text", "default": "now"},
    {"name": "d_integer",   "type": "integer", "default": -42},
    {"name": "d_bigint",    "type": "bigint", "default": 9007199254740993},
    {"name": "d_decimal",   "type": "decimal", "precision": 6, "scale": 2, "default": "12.5"},
    {"name": "d_decimal_n", "type": "decimal", "default": 0.1},
    {"name": "d_float",     "type": "float", "default": 1.5},
    {"name": "d_boolean",   "type": "boolean", "default": false},
    {"name": "d_date",      "type": "date", "default": "2024-02-29"},
    {"name": "d_timestamp", "type": "timestamp", "default": "2024-01-02T03:04:05+02:00"},
    {"name": "d_time",      "type": "time", "default": "12:30"},
    {"name": "d_uuid",      "type": "uuid", "default": "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"},
    {"name": "d_json",      "type": "json", "default": {"a": [1, 2], "b": "x'y"}},
    {"name": "d_json_s",    "type": "json", "default": "now"},
    {"name": "d_enum",      "type": "enum", "values": ["draft", "paid"], "default": "draft"},
    {"name": "d_email",     "type": "email", "default": "a@b.co"},
    {"name": "d_url",       "type": "url", "default": "https://example.com/"},
    {"name": "d_tags",      "type": "array", "items": "text", "default": ["a", "b c"]},
    {"name": "d_ints",      "type": "array", "items": "integer", "default": [1, 2]},
    {"name": "d_empty",     "type": "array", "items": "uuid", "default": []},
    {"name": "d_enum_arr",  "type": "array", "items": "enum", "values": ["x", "y"], "default": ["y"]},
    {"name": "d_none",      "type": "boolean", "default": null},
    {"name": "k_ts",        "type": "timestamp", "default": "now"},
    {"name": "k_time",      "type": "time", "default": "now"},
    {"name": "k_date",      "type": "date", "default": "today"},
    {"name": "k_uuid",      "type": "uuid", "default": "uuid"}
  ]}$j$) AS def$$, 'entity defaults created with a default of every type and every keyword');

SELECT col_default_is('tenant_t30', 'defaults', 'k_ts', 'now()', 'timestamp default now -> now()');
SELECT col_default_is('tenant_t30', 'defaults', 'k_time', 'LOCALTIME', 'time default now -> LOCALTIME');
SELECT col_default_is('tenant_t30', 'defaults', 'k_date', 'CURRENT_DATE', 'date default today -> CURRENT_DATE');
SELECT col_default_is('tenant_t30', 'defaults', 'k_uuid', 'cot.uuid_generate_v7()', 'uuid default uuid -> cot.uuid_generate_v7()');
SELECT col_hasnt_default('tenant_t30', 'defaults', 'd_none', 'default null means no default');
SELECT col_default_is('tenant_t30', 'defaults', 'd_text_now', 'now', 'a text default "now" is the word, not a function');

SELECT lives_ok($$INSERT INTO t30.defaults DEFAULT VALUES$$, 'a row of defaults inserts through the view');
SELECT results_eq(
    $$SELECT d_text, d_text_now, d_integer, d_bigint, d_decimal::text, d_decimal_n, d_float, d_boolean, d_date,
             d_timestamp, d_time, d_uuid, d_json, d_json_s, d_enum, d_email, d_url FROM t30.defaults$$,
    $$VALUES (E'it''s a \\ back''slash', 'now', -42, 9007199254740993::bigint, '12.50', 0.1::numeric, 1.5::float8, false,
              '2024-02-29'::date, '2024-01-02 01:04:05+00'::timestamptz, '12:30'::time,
              'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{"a": [1, 2], "b": "x''y"}'::jsonb, '"now"'::jsonb,
              'draft', 'a@b.co', 'https://example.com/')$$,
    'scalar defaults: each value exactly as given');
SELECT results_eq(
    $$SELECT d_tags, d_ints, d_empty, d_enum_arr, d_none FROM t30.defaults$$,
    $$VALUES ('{a,"b c"}'::text[], '{1,2}'::int[], '{}'::uuid[], '{y}'::text[], NULL::boolean)$$,
    'array defaults (and no default) exactly as given');
SELECT results_eq(
    $$SELECT k_ts, k_time, k_date FROM t30.defaults$$,
    $$VALUES (now(), LOCALTIME, CURRENT_DATE)$$,
    'keyword defaults: now(), LOCALTIME, CURRENT_DATE');
SELECT is((SELECT substr(k_uuid::text, 15, 1) FROM t30.defaults), '7', 'keyword default uuid: a v7 uuid');
SELECT isnt((SELECT k_uuid FROM t30.defaults), (SELECT id FROM t30.defaults), '... distinct from the row id');
SELECT results_eq(
    $$SELECT f->>'name', f->'default' FROM t30_defaults, jsonb_array_elements(def->'fields') AS f
       WHERE f->>'name' IN ('d_bigint', 'd_decimal', 'd_uuid', 'd_time', 'k_ts', 'k_date', 'k_uuid', 'd_none') ORDER BY 1$$,
    $$VALUES ('d_bigint', '9007199254740993'::jsonb), ('d_decimal', '"12.5"'), ('d_none', NULL),
             ('d_time', '"12:30:00"'), ('d_uuid', '"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"'),
             ('k_date', '"today"'), ('k_ts', '"now"'), ('k_uuid', '"uuid"')$$,
    'normalized defaults: exact bigint, canonical decimal/time/uuid, keywords kept');

-------------------------------------------------------------------------------
-- min / max
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_entity('{
  "tenant": "t30", "name": "bounds",
  "fields": [
    {"name": "b_int",    "type": "integer", "min": 1, "max": 10},
    {"name": "b_bigint", "type": "bigint", "min": -9007199254740993, "max": 9007199254740993},
    {"name": "b_dec",    "type": "decimal", "precision": 5, "scale": 2, "min": "0.50", "max": 99.99},
    {"name": "b_float",  "type": "float", "min": -1.5, "max": 1.5},
    {"name": "b_date",   "type": "date", "min": "2024-01-01", "max": "2024-12-31"},
    {"name": "b_ts",     "type": "timestamp", "min": "2024-01-01T00:00:00Z", "max": "2024-12-31T23:59:59.5+00:00"},
    {"name": "b_time",   "type": "time", "min": "08:00", "max": "17:30:00"},
    {"name": "b_min",    "type": "integer", "min": 0},
    {"name": "b_max",    "type": "decimal", "max": -1},
    {"name": "b_lowest", "type": "integer", "min": -2147483648, "max": -2147483647, "default": -2147483648}
  ]}')$$, 'entity bounds created');

SELECT is(pg_temp.insert_state('t30.bounds', col, lit), want, format('%s = %s: %s', col, lit, want))
  FROM (VALUES
    ('b_int', '1', 'ok'), ('b_int', '10', 'ok'), ('b_int', '0', '23514'), ('b_int', '11', '23514'),
    ('b_bigint', '-9007199254740993', 'ok'), ('b_bigint', '9007199254740993', 'ok'),
    ('b_bigint', '-9007199254740994', '23514'), ('b_bigint', '9007199254740994', '23514'),
    ('b_dec', '0.50', 'ok'), ('b_dec', '99.99', 'ok'), ('b_dec', '0.49', '23514'), ('b_dec', '100.00', '23514'), ('b_dec', '1000.00', '22003'),
    ('b_float', '-1.5', 'ok'), ('b_float', '1.5', 'ok'), ('b_float', '1.5000001', '23514'), ('b_float', '-1.5000001', '23514'),
    ('b_date', $$'2024-01-01'$$, 'ok'), ('b_date', $$'2024-12-31'$$, 'ok'),
    ('b_date', $$'2023-12-31'$$, '23514'), ('b_date', $$'2025-01-01'$$, '23514'),
    ('b_ts', $$'2024-01-01 00:00:00+00'$$, 'ok'), ('b_ts', $$'2024-01-01 01:00:00+01'$$, 'ok'),
    ('b_ts', $$'2024-12-31 23:59:59.5+00'$$, 'ok'),
    ('b_ts', $$'2023-12-31 23:59:59.999999+00'$$, '23514'), ('b_ts', $$'2024-01-01 00:59:59+01'$$, '23514'),
    ('b_ts', $$'2024-12-31 23:59:59.500001+00'$$, '23514'),
    ('b_time', $$'08:00'$$, 'ok'), ('b_time', $$'17:30'$$, 'ok'),
    ('b_time', $$'07:59:59.999999'$$, '23514'), ('b_time', $$'17:30:00.000001'$$, '23514'),
    ('b_min', '0', 'ok'), ('b_min', '2147483647', 'ok'), ('b_min', '-1', '23514'),
    ('b_max', '-1', 'ok'), ('b_max', '-1000000000000', 'ok'), ('b_max', '-0.999', '23514'),
    ('b_lowest', '-2147483648', 'ok'), ('b_lowest', '-2147483647', 'ok'), ('b_lowest', '0', '23514')
  ) AS v(col, lit, want);

SELECT col_default_is('tenant_t30', 'bounds', 'b_lowest', '-2147483648', 'the lowest integer works as min and default');

-------------------------------------------------------------------------------
-- min_length / max_length, pattern, enum values, formats
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_entity($j${
  "tenant": "t30", "name": "texts",
  "fields": [
    {"name": "l_text",  "type": "text", "min_length": 2, "max_length": 4},
    {"name": "l_exact", "type": "text", "min_length": 3, "max_length": 3},
    {"name": "l_email", "type": "email", "max_length": 12},
    {"name": "l_url",   "type": "url", "min_length": 20},
    {"name": "p_code",  "type": "text", "pattern": "^[A-Z]{3}-[0-9]+$", "default": "ABC-0"},
    {"name": "p_free",  "type": "text", "pattern": "x"},
    {"name": "p_digits","type": "text", "pattern": "^\\d{3}$"},
    {"name": "p_quote", "type": "text", "pattern": "^it's"},
    {"name": "e_status","type": "enum", "values": ["draft", "paid", "it's", "back\\slash"]},
    {"name": "f_email", "type": "email"},
    {"name": "f_url",   "type": "url"}
  ]}$j$)$$, 'entity texts created');

SELECT is(pg_temp.insert_state('t30.texts', col, lit), want, format('%s = %s: %s', col, lit, want))
  FROM (VALUES
    ('l_text', $$'ab'$$, 'ok'), ('l_text', $$'abcd'$$, 'ok'), ('l_text', $$'a'$$, '23514'), ('l_text', $$'abcde'$$, '23514'),
    ('l_text', $$''$$, '23514'),
    ('l_text', $$'éé'$$, 'ok'), ('l_text', $$'éééé'$$, 'ok'), ('l_text', $$'ééééé'$$, '23514'),
    ('l_text', $$'😀😀😀😀'$$, 'ok'), ('l_text', $$'😀'$$, '23514'),
    ('l_exact', $$'abc'$$, 'ok'), ('l_exact', $$'ab'$$, '23514'), ('l_exact', $$'abcd'$$, '23514'),
    ('l_email', $$'abc@de.fg'$$, 'ok'), ('l_email', $$'abcdef@gh.ij'$$, 'ok'), ('l_email', $$'abcdefg@hi.jk'$$, '23514'),
    ('l_url', $$'https://example.com/'$$, 'ok'), ('l_url', $$'https://exa.com/'$$, '23514'),
    ('p_code', $$'ABC-1'$$, 'ok'), ('p_code', $$'XYZ-12345'$$, 'ok'), ('p_code', $$'abc-1'$$, '23514'),
    ('p_code', $$'ABC-'$$, '23514'), ('p_code', $$'xABC-1'$$, '23514'), ('p_code', $$'ABC-1 '$$, '23514'),
    ('p_free', $$'abxcd'$$, 'ok'), ('p_free', $$'abc'$$, '23514'),
    ('p_digits', $$'123'$$, 'ok'), ('p_digits', $$'12a'$$, '23514'), ('p_digits', $$'1234'$$, '23514'),
    ('p_quote', $$'it''s fine'$$, 'ok'), ('p_quote', $$'its fine'$$, '23514'),
    ('e_status', $$'draft'$$, 'ok'), ('e_status', $$'it''s'$$, 'ok'), ('e_status', $$E'back\\slash'$$, 'ok'),
    ('e_status', $$'Draft'$$, '23514'), ('e_status', $$'draft '$$, '23514'), ('e_status', $$'shipped'$$, '23514'),
    ('f_email', $$'a.b+c@example.co.uk'$$, 'ok'), ('f_email', $$'not an email'$$, '23514'),
    ('f_email', $$'a@b'$$, '23514'), ('f_email', $$'a@@b.co'$$, '23514'), ('f_email', $$'a b@c.de'$$, '23514'),
    ('f_url', $$'http://localhost:8080/x'$$, 'ok'), ('f_url', $$'https://example.com'$$, 'ok'),
    ('f_url', $$'javascript:alert(1)'$$, '23514'), ('f_url', $$'https://'$$, '23514'),
    ('f_url', $$'data:text/html,<script>'$$, '23514'), ('f_url', $$'//example.com'$$, '23514'),
    ('f_url', $$'https://exa mple.com'$$, '23514')
  ) AS v(col, lit, want);

SELECT is((SELECT p_code FROM t30.texts WHERE l_text = 'ab'), 'ABC-0',
          'the pattern-matching default fills p_code when it is not given');
SELECT is((SELECT (cot.entity('t30', 'texts')->'fields'->2->>'max_length')::int), 12, 'email max_length as given (under 254)');
SELECT is((SELECT (cot.entity('t30', 'texts')->'fields'->9->>'max_length')::int), 254, 'email gets max_length 254 by default');
SELECT throws_ok($$INSERT INTO t30.texts (f_email) VALUES (repeat('a', 250) || '@b.co')$$, '23514', NULL,
                 'an e-mail address over 254 characters: 23514');

-- A backslash pattern behaves the same when the creating session has
-- standard_conforming_strings off.
SET LOCAL standard_conforming_strings = off;
SET LOCAL escape_string_warning = off;
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t30", "name": "scs_off", "fields": [{"name": "d", "type": "text", "pattern": "^\\\\d+$"}]}')$$,
                'a pattern with a backslash, standard_conforming_strings off');
SET LOCAL standard_conforming_strings = on;
SELECT is((SELECT f->>'pattern' FROM jsonb_array_elements(cot.entity('t30', 'scs_off')->'fields') AS f), '^\d+$',
          'the stored pattern is ^\d+$');
SELECT is(pg_temp.insert_state('t30.scs_off', 'd', $$'123'$$), 'ok', '... digits pass');
SELECT is(pg_temp.insert_state('t30.scs_off', 'd', $$'d'$$), '23514', '... the letter d does not');

-------------------------------------------------------------------------------
-- arrays: shape and enum items
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_entity('{
  "tenant": "t30", "name": "arrays",
  "fields": [
    {"name": "colors", "type": "array", "items": "enum", "values": ["red", "green"]},
    {"name": "nums",   "type": "array", "items": "integer"},
    {"name": "mails",  "type": "array", "items": "email"},
    {"name": "links",  "type": "array", "items": "url"}
  ]}')$$, 'entity arrays created');
SELECT is(pg_temp.insert_state('t30.arrays', col, lit), want, format('%s = %s: %s', col, lit, want))
  FROM (VALUES
    ('colors', $$'{red,green,red}'$$, 'ok'), ('colors', $$'{}'$$, 'ok'), ('colors', $$'{red,blue}'$$, '23514'),
    ('colors', $$'{RED}'$$, '23514'), ('colors', $$'{red,NULL}'$$, '23514'), ('colors', $$'{{red},{green}}'$$, '23514'),
    ('nums', $$'{1,2,3}'$$, 'ok'), ('nums', $$'{{1,2},{3,4}}'$$, '23514'), ('nums', $$'{1,NULL}'$$, '23514'),
    ('nums', $$'{NULL}'$$, '23514'), ('nums', $$'[0:1]={1,2}'$$, 'ok'),
    ('mails', $$'{a@b.co,c@d.ef}'$$, 'ok'), ('mails', $$'{a@b.co,not an email}'$$, '23514'),
    ('links', $$'{https://a.example}'$$, 'ok'), ('links', $$'{https://a.example,javascript:alert(1)}'$$, '23514')
  ) AS v(col, lit, want);

-------------------------------------------------------------------------------
-- labels, descriptions, comments
-------------------------------------------------------------------------------
SELECT lives_ok($$CREATE TEMP TABLE t30_labels AS SELECT cot.create_entity($j${
  "tenant": "t30", "name": "order_items", "label": "Line item",
  "description": "Lines of an order; it's \"quoted\" \\ too",
  "fields": [
    {"name": "given_name", "type": "text", "label": "First name"},
    {"name": "family_name", "type": "text", "description": "Surname, as on the passport"},
    {"name": "note_text", "type": "text"}
  ]}$j$) AS def$$, 'entity with labels and descriptions created');
SELECT is((SELECT def->>'label' FROM t30_labels), 'Line item', 'normalized: entity label as given');
SELECT is((SELECT def->>'description' FROM t30_labels), E'Lines of an order; it''s "quoted" \\ too', 'normalized: entity description');
SELECT is((SELECT def->'fields'->0->>'label' FROM t30_labels), 'First name', 'normalized: field label as given');
SELECT is((SELECT def->'fields'->1->>'label' FROM t30_labels), 'Family name', 'normalized: field label derived from the name');
SELECT is((SELECT def->'fields'->1->>'description' FROM t30_labels), 'Surname, as on the passport', 'normalized: field description');
SELECT ok((SELECT NOT (def->'fields'->0 ? 'description') FROM t30_labels), 'normalized: no description key when none was given');
SELECT is((SELECT label FROM cot.entities WHERE name = 'order_items'), 'Line item', 'cot.entities.label');
SELECT is(obj_description('tenant_t30.order_items'::regclass, 'pg_class'), E'Lines of an order; it''s "quoted" \\ too',
          'table comment is the description, exactly');
SELECT is(obj_description('t30.order_items'::regclass, 'pg_class'), E'Lines of an order; it''s "quoted" \\ too',
          'view comment is the description, exactly');
SELECT is(col_description('t30.order_items'::regclass, 2), 'First name', 'column without description: comment is the label');
SELECT is(col_description('t30.order_items'::regclass, 3), 'Surname, as on the passport', 'column comment is the description');
SELECT is(col_description('tenant_t30.order_items'::regclass, 4), 'Note text', 'table column comment: derived label');
SELECT is(obj_description('t30.basic'::regclass, 'pg_class'), 'Basic', 'entity without description: view comment is the derived label');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t30", "name": "blank_desc", "description": "", "fields": [{"name": "a", "type": "text", "description": ""}]}')$$,
                'empty descriptions are accepted');
SELECT is(obj_description('t30.blank_desc'::regclass, 'pg_class'), 'Blank desc', '... an empty entity description falls back to the label');
SELECT is(col_description('t30.blank_desc'::regclass, 2), 'A', '... an empty field description falls back to the label');

-------------------------------------------------------------------------------
-- compound indexes and unique constraints
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_entity('{
  "tenant": "t30", "name": "pairs",
  "fields": [{"name": "a", "type": "text"}, {"name": "b", "type": "integer"}],
  "indexes": [{"fields": ["a", "created_at"]}, {"fields": ["a", "b"], "unique": true}, {"fields": ["b", "id"]}]}')$$,
  'entity with compound indexes created');
SELECT is((SELECT indexdef FROM pg_indexes WHERE schemaname = 'tenant_t30' AND indexname = 'pairs_a_created_at_idx'),
          'CREATE INDEX pairs_a_created_at_idx ON tenant_t30.pairs USING btree (a, created_at)',
          'compound index on (a, created_at), in that order');
SELECT is((SELECT indexdef FROM pg_indexes WHERE schemaname = 'tenant_t30' AND indexname = 'pairs_a_b_key'),
          'CREATE UNIQUE INDEX pairs_a_b_key ON tenant_t30.pairs USING btree (a, b)',
          'compound unique on (a, b)');
SELECT is((SELECT indexdef FROM pg_indexes WHERE schemaname = 'tenant_t30' AND indexname = 'pairs_b_id_idx'),
          'CREATE INDEX pairs_b_id_idx ON tenant_t30.pairs USING btree (b, id)', 'compound index with a system column');
SELECT ok((SELECT contype = 'u' FROM pg_constraint WHERE conname = 'pairs_a_b_key' AND conrelid = 'tenant_t30.pairs'::regclass),
          'compound unique is a UNIQUE constraint');
SELECT lives_ok($$INSERT INTO t30.pairs (a, b) VALUES ('x', 1)$$, 'pair (x, 1)');
SELECT throws_ok($$INSERT INTO t30.pairs (a, b) VALUES ('x', 1)$$, '23505', NULL, 'duplicate pair (x, 1): 23505');
SELECT lives_ok($$INSERT INTO t30.pairs (a, b) VALUES ('x', 2), ('y', 1)$$, 'same a with another b, same b with another a: accepted');
SELECT lives_ok($$INSERT INTO t30.pairs (a, b) VALUES ('z', NULL), ('z', NULL)$$, 'pairs with a NULL are not duplicates');
SELECT is((SELECT def->'indexes' FROM (SELECT cot.entity('t30', 'pairs') AS def) s),
          '[{"fields": ["a", "created_at"], "unique": false}, {"fields": ["a", "b"], "unique": true}, {"fields": ["b", "id"], "unique": false}]'::jsonb,
          'normalized indexes');

SELECT * FROM finish();
ROLLBACK;
