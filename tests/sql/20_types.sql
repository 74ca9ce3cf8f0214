-- Field types: for every scalar type and every array item type, the column
-- type Cot creates, a good value written through the API view and read back
-- equal, and bad values refused with the SQLSTATE Postgres or Cot's CHECKs
-- give. Then the system columns (id, created_at, updated_at), the view
-- (security_invoker, same columns), ownership and comments.
BEGIN;
SELECT plan(199);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t20')$$, 'tenant t20 created');

SELECT lives_ok($$SELECT cot.create_entity('{
  "tenant": "t20", "name": "all_types", "description": "One field of every type",
  "fields": [
    {"name": "f_text",        "type": "text"},
    {"name": "f_integer",     "type": "integer"},
    {"name": "f_bigint",      "type": "bigint"},
    {"name": "f_decimal",     "type": "decimal", "precision": 12, "scale": 2},
    {"name": "f_decimal_p",   "type": "decimal", "precision": 10},
    {"name": "f_decimal_any", "type": "decimal"},
    {"name": "f_float",       "type": "float"},
    {"name": "f_boolean",     "type": "boolean"},
    {"name": "f_date",        "type": "date"},
    {"name": "f_timestamp",   "type": "timestamp"},
    {"name": "f_time",        "type": "time"},
    {"name": "f_uuid",        "type": "uuid"},
    {"name": "f_json",        "type": "json"},
    {"name": "f_enum",        "type": "enum", "values": ["draft", "paid", "it''s"]},
    {"name": "f_email",       "type": "email", "label": "E-mail", "description": "Where receipts go"},
    {"name": "f_url",         "type": "url"}
  ]}')$$, 'entity with one field of every scalar type created');

SELECT lives_ok($$SELECT cot.create_entity('{
  "tenant": "t20", "name": "all_arrays",
  "fields": [
    {"name": "a_text",      "type": "array", "items": "text"},
    {"name": "a_integer",   "type": "array", "items": "integer"},
    {"name": "a_bigint",    "type": "array", "items": "bigint"},
    {"name": "a_decimal",   "type": "array", "items": "decimal", "precision": 8, "scale": 3},
    {"name": "a_float",     "type": "array", "items": "float"},
    {"name": "a_boolean",   "type": "array", "items": "boolean"},
    {"name": "a_date",      "type": "array", "items": "date"},
    {"name": "a_timestamp", "type": "array", "items": "timestamp"},
    {"name": "a_time",      "type": "array", "items": "time"},
    {"name": "a_uuid",      "type": "array", "items": "uuid"},
    {"name": "a_enum",      "type": "array", "items": "enum", "values": ["red", "green"]},
    {"name": "a_email",     "type": "array", "items": "email"},
    {"name": "a_url",       "type": "array", "items": "url"}
  ]}')$$, 'entity with an array field of every item type created');

-- Inserts `literal` into `col` through `tbl` (the API view), reads it back by
-- id and returns NULL when it compares equal, else what went wrong.
CREATE FUNCTION pg_temp.roundtrip(tbl text, col text, literal text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid; got text; same boolean;
BEGIN
    BEGIN
        EXECUTE format('INSERT INTO %s (%I) VALUES (%s) RETURNING id', tbl, col, literal) INTO new_id;
    EXCEPTION WHEN OTHERS THEN
        RETURN format('insert failed: %s %s', SQLSTATE, SQLERRM);
    END;
    EXECUTE format('SELECT %1$I::text, %1$I IS NOT DISTINCT FROM %2$s FROM %3$s WHERE id = $1', col, literal, tbl)
        INTO got, same USING new_id;
    IF same THEN
        RETURN NULL;
    END IF;
    RETURN format('read back %s, wrote %s', coalesce(got, 'no row'), literal);
END $$;

-------------------------------------------------------------------------------
-- Column types
-------------------------------------------------------------------------------
SELECT col_type_is('tenant_t20', 'all_types', col, typ, format('%s is %s', col, typ))
  FROM (VALUES ('f_text', 'text'), ('f_integer', 'integer'), ('f_bigint', 'bigint'),
               ('f_decimal', 'numeric(12,2)'), ('f_decimal_p', 'numeric(10,0)'), ('f_decimal_any', 'numeric'),
               ('f_float', 'double precision'), ('f_boolean', 'boolean'), ('f_date', 'date'),
               ('f_timestamp', 'timestamp with time zone'), ('f_time', 'time without time zone'),
               ('f_uuid', 'uuid'), ('f_json', 'jsonb'), ('f_enum', 'text'), ('f_email', 'text'), ('f_url', 'text'))
       AS v(col, typ);

SELECT col_type_is('tenant_t20', 'all_arrays', col, typ, format('%s is %s', col, typ))
  FROM (VALUES ('a_text', 'text[]'), ('a_integer', 'integer[]'), ('a_bigint', 'bigint[]'),
               ('a_decimal', 'numeric(8,3)[]'), ('a_float', 'double precision[]'), ('a_boolean', 'boolean[]'),
               ('a_date', 'date[]'), ('a_timestamp', 'timestamp with time zone[]'),
               ('a_time', 'time without time zone[]'), ('a_uuid', 'uuid[]'), ('a_enum', 'text[]'),
               ('a_email', 'text[]'), ('a_url', 'text[]'))
       AS v(col, typ);

SELECT is((SELECT count(*)::int FROM pg_attribute a JOIN pg_attribute b
             ON b.attrelid = 't20.all_types'::regclass AND b.attname = a.attname
          WHERE a.attrelid = 'tenant_t20.all_types'::regclass AND a.attnum > 0
            AND (a.atttypid, a.atttypmod) IS DISTINCT FROM (b.atttypid, b.atttypmod)), 0,
          'view columns have the table columns'' types and typmods');

-------------------------------------------------------------------------------
-- Good values round-trip through the view
-------------------------------------------------------------------------------
SELECT is(pg_temp.roundtrip('t20.all_types', col, lit), NULL, format('%s: %s round-trips through the view', col, lit))
  FROM (VALUES
    ('f_text',        $$'it''s ☃ "quoted" \ and ; -- not sql'$$),
    ('f_integer',     '-2147483648'),
    ('f_integer',     '2147483647'),
    ('f_bigint',      '9223372036854775807'),
    ('f_decimal',     '1234567890.12'),
    ('f_decimal',     '-0.01'),
    ('f_decimal_p',   '1234567890'),
    ('f_decimal_any', '12345678901234567890.123456789'),
    ('f_float',       '1.5e300'),
    ('f_float',       '-0.1'),
    ('f_boolean',     'false'),
    ('f_date',        $$'2024-02-29'$$),
    ('f_timestamp',   $$'2024-05-06 07:08:09.123456+02'$$),
    ('f_time',        $$'13:14:15.5'$$),
    ('f_uuid',        $$'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'$$),
    ('f_json',        $$'{"a": [1, 2, {"b": null}], "c": "☃"}'$$),
    ('f_enum',        $$'paid'$$),
    ('f_enum',        $$'it''s'$$),
    ('f_email',       $$'someone+tag@example.co.uk'$$),
    ('f_url',         $$'https://example.com/path?q=1#frag'$$)
  ) AS v(col, lit);

SELECT is((SELECT f_decimal::text FROM t20.all_types WHERE f_decimal = 1234567890.12), '1234567890.12',
          'decimal keeps its scale');
SELECT is((SELECT f_decimal::text FROM t20.all_types WHERE f_decimal = -0.01), '-0.01', 'negative decimal reads back');
SELECT is((SELECT f_timestamp FROM t20.all_types WHERE f_timestamp IS NOT NULL),
          '2024-05-06 05:08:09.123456+00'::timestamptz, 'timestamp keeps the instant (offset applied)');
SELECT is((SELECT count(*)::int FROM tenant_t20.all_types), 20, 'rows written through the view are in the table');

-------------------------------------------------------------------------------
-- Bad values
-------------------------------------------------------------------------------
SELECT throws_ok(format('INSERT INTO t20.all_types (%I) VALUES (%s)', col, lit), code, NULL,
                 format('%s: %s refused with %s', col, lit, code))
  FROM (VALUES
    ('f_integer',   $$'abc'$$,                 '22P02'),
    ('f_integer',   '2147483648',              '22003'),
    ('f_bigint',    '9223372036854775808',     '22003'),
    ('f_bigint',    $$'1.5'$$,                 '22P02'),
    ('f_decimal',   $$'abc'$$,                 '22P02'),
    ('f_decimal',   '12345678901.23',          '22003'),
    ('f_float',     $$'abc'$$,                 '22P02'),
    ('f_float',     $$'1e400'$$,               '22003'),
    ('f_boolean',   $$'maybe'$$,               '22P02'),
    ('f_date',      $$'2024-02-30'$$,          '22008'),
    ('f_date',      $$'not a date'$$,          '22007'),
    ('f_timestamp', $$'not a time'$$,          '22007'),
    ('f_timestamp', $$'2024-13-01 00:00+00'$$, '22008'),
    ('f_time',      $$'25:00'$$,               '22008'),
    ('f_time',      $$'noon'$$,                '22007'),
    ('f_uuid',      $$'not-a-uuid'$$,          '22P02'),
    ('f_json',      $$'{bad'$$,                '22P02'),
    ('f_enum',      $$'shipped'$$,             '23514'),
    ('f_enum',      $$'PAID'$$,                '23514'),
    ('f_enum',      $$''$$,                    '23514'),
    ('f_email',     $$'not an email'$$,        '23514'),
    ('f_email',     $$'a@b'$$,                 '23514'),
    ('f_email',     $$'@example.com'$$,        '23514'),
    ('f_email',     format('%L', repeat('a', 250) || '@b.co'), '23514'),
    ('f_url',       $$'javascript:alert(1)'$$, '23514'),
    ('f_url',       $$'ftp://example.com'$$,   '23514'),
    ('f_url',       $$'http://'$$,             '23514'),
    ('f_url',       $$'https://exa mple.com'$$, '23514')
  ) AS v(col, lit, code);

-------------------------------------------------------------------------------
-- Arrays: a good 1-D value, the empty array, and refusals
-------------------------------------------------------------------------------
CREATE TEMP TABLE t20_items (col text, item text, bad text, bad_code text);
INSERT INTO t20_items VALUES
    ('a_text',      'a b',                                'x',             NULL),
    ('a_integer',   '-7',                                 'x',             '22P02'),
    ('a_bigint',    '9007199254740993',                   '1.5',           '22P02'),
    ('a_decimal',   '12345.678',                          '123456.1',      '22003'),
    ('a_float',     '1.5',                                'abc',           '22P02'),
    ('a_boolean',   'true',                               'maybe',         '22P02'),
    ('a_date',      '2024-02-29',                         '2024-02-30',    '22008'),
    ('a_timestamp', '"2024-05-06 07:08:09+02"',           'nope',          '22007'),
    ('a_time',      '13:14:15',                           '25:00',         '22008'),
    ('a_uuid',      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'xyz',         '22P02'),
    ('a_enum',      'green',                              'blue',          '23514'),
    ('a_email',     'a@b.co',                             'not an email',  '23514'),
    ('a_url',       '"https://example.com/x?y=1"',        'javascript:alert(1)', '23514');

SELECT is(pg_temp.roundtrip('t20.all_arrays', col, quote_literal(format('{%s,%s}', item, item))), NULL,
          format('%s: a 1-D array round-trips through the view', col))
  FROM t20_items ORDER BY col;
SELECT is(pg_temp.roundtrip('t20.all_arrays', col, $$'{}'$$), NULL, format('%s: the empty array is accepted', col))
  FROM t20_items ORDER BY col;
SELECT throws_ok(format('INSERT INTO t20.all_arrays (%I) VALUES (%L)', col, format('{{%s,%s},{%s,%s}}', item, item, item, item)),
                 '23514', NULL, format('%s: a 2-D array is refused with 23514', col))
  FROM t20_items ORDER BY col;
SELECT throws_ok(format('INSERT INTO t20.all_arrays (%I) VALUES (%L)', col, format('{%s,NULL}', item)),
                 '23514', NULL, format('%s: an array with a NULL item is refused with 23514', col))
  FROM t20_items ORDER BY col;
SELECT throws_ok(format('INSERT INTO t20.all_arrays (%I) VALUES (%L)', col, format('{%s,%s}', item, bad)),
                 bad_code, NULL, format('%s: a bad item (%s) is refused with %s', col, bad, bad_code))
  FROM t20_items WHERE bad_code IS NOT NULL ORDER BY col;
SELECT is((SELECT a_decimal::text FROM t20.all_arrays WHERE a_decimal IS NOT NULL AND a_decimal <> '{}'),
          '{12345.678,12345.678}', 'decimal array items keep precision and scale');

-------------------------------------------------------------------------------
-- System columns
-------------------------------------------------------------------------------
SELECT col_type_is('tenant_t20', 'all_types', 'id', 'uuid', 'id is uuid');
SELECT col_is_pk('tenant_t20', 'all_types', 'id', 'id is the primary key');
SELECT col_not_null('tenant_t20', 'all_types', 'id', 'id is NOT NULL');
SELECT col_default_is('tenant_t20', 'all_types', 'id', 'cot.uuid_generate_v7()', 'id defaults to cot.uuid_generate_v7()');
SELECT col_type_is('tenant_t20', 'all_types', 'created_at', 'timestamp with time zone', 'created_at is timestamptz');
SELECT col_type_is('tenant_t20', 'all_types', 'updated_at', 'timestamp with time zone', 'updated_at is timestamptz');
SELECT col_not_null('tenant_t20', 'all_types', 'created_at', 'created_at is NOT NULL');
SELECT col_not_null('tenant_t20', 'all_types', 'updated_at', 'updated_at is NOT NULL');
SELECT col_is_null('tenant_t20', 'all_types', 'f_text', 'a field that is not required is nullable');
SELECT has_trigger('tenant_t20', 'all_types', 'cot_system_columns', 'the system-columns trigger exists');
SELECT columns_are('tenant_t20', 'all_types',
    ARRAY['id', 'f_text', 'f_integer', 'f_bigint', 'f_decimal', 'f_decimal_p', 'f_decimal_any', 'f_float',
          'f_boolean', 'f_date', 'f_timestamp', 'f_time', 'f_uuid', 'f_json', 'f_enum', 'f_email', 'f_url',
          'created_at', 'updated_at'],
    'the table has exactly the system columns and the fields');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'tenant_t20.all_types'::regclass AND attnum > 0 AND NOT attisdropped),
          ARRAY['id', 'f_text', 'f_integer', 'f_bigint', 'f_decimal', 'f_decimal_p', 'f_decimal_any', 'f_float',
                'f_boolean', 'f_date', 'f_timestamp', 'f_time', 'f_uuid', 'f_json', 'f_enum', 'f_email', 'f_url',
                'created_at', 'updated_at'],
          'column order: id, the fields in definition order, created_at, updated_at');

-- uuid v7: version nibble 7, RFC variant, current milliseconds, increasing.
INSERT INTO t20.all_types (f_integer) SELECT g FROM generate_series(1000, 1099) AS g;
SELECT is((SELECT count(*)::int FROM t20.all_types WHERE f_integer BETWEEN 1000 AND 1099 AND substr(id::text, 15, 1) = '7'),
          100, 'generated ids have version nibble 7');
SELECT is((SELECT count(*)::int FROM t20.all_types WHERE f_integer BETWEEN 1000 AND 1099 AND substr(id::text, 20, 1) IN ('8', '9', 'a', 'b')),
          100, 'generated ids have the RFC 4122 variant');
SELECT ok((SELECT bool_and(abs(extract(epoch FROM clock_timestamp()) * 1000
                               - ('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint) < 600000)
             FROM t20.all_types WHERE f_integer BETWEEN 1000 AND 1099),
          'generated ids carry the current Unix time in milliseconds');
SELECT is((SELECT array_agg(id ORDER BY f_integer) FROM t20.all_types WHERE f_integer BETWEEN 1000 AND 1099),
          (SELECT array_agg(id ORDER BY id) FROM t20.all_types WHERE f_integer BETWEEN 1000 AND 1099),
          'ids increase in insertion order');
SELECT is((SELECT count(DISTINCT u)::int FROM (SELECT cot.uuid_generate_v7() AS u FROM generate_series(1, 10000)) s),
          10000, 'cot.uuid_generate_v7(): 10 000 calls, 10 000 distinct ids');
SELECT ok((SELECT bool_and(a < b) FROM (SELECT u AS a, lead(u) OVER (ORDER BY n) AS b
             FROM (SELECT n, cot.uuid_generate_v7() AS u FROM generate_series(1, 10000) AS n) s) w WHERE b IS NOT NULL),
          'cot.uuid_generate_v7(): strictly increasing within a backend');

-- created_at and updated_at are the trigger's, not the client's.
INSERT INTO t20.all_types (id, f_text, created_at, updated_at)
VALUES ('00000000-0000-7000-8000-000000000020', 'forged', '2000-01-01', '2000-01-01');
SELECT is((SELECT created_at FROM t20.all_types WHERE f_text = 'forged'), now(), 'insert: a forged created_at is replaced by now()');
SELECT is((SELECT updated_at FROM t20.all_types WHERE f_text = 'forged'), now(), 'insert: a forged updated_at is replaced by now()');
-- Age the row behind the trigger's back, then update it normally.
SET LOCAL session_replication_role = replica;
UPDATE tenant_t20.all_types SET created_at = '2001-01-01 00:00+00', updated_at = '2001-01-01 00:00+00' WHERE f_text = 'forged';
SET LOCAL session_replication_role = origin;
UPDATE t20.all_types SET f_integer = 1 WHERE f_text = 'forged';
SELECT is((SELECT created_at FROM t20.all_types WHERE f_text = 'forged'), '2001-01-01 00:00+00'::timestamptz,
          'update: created_at is kept');
SELECT is((SELECT updated_at FROM t20.all_types WHERE f_text = 'forged'), now(), 'update: updated_at becomes now()');
UPDATE t20.all_types SET created_at = '1999-01-01', updated_at = '1999-01-01' WHERE f_text = 'forged';
SELECT is((SELECT created_at FROM t20.all_types WHERE f_text = 'forged'), '2001-01-01 00:00+00'::timestamptz,
          'update: a forged created_at is ignored');
SELECT is((SELECT updated_at FROM t20.all_types WHERE f_text = 'forged'), now(), 'update: a forged updated_at is replaced');
SELECT throws_ok($$INSERT INTO t20.all_types (id) VALUES ('00000000-0000-7000-8000-000000000020')$$, '23505', NULL,
                 'a duplicate id is refused with 23505');
SELECT throws_ok($$INSERT INTO t20.all_types (id) VALUES (NULL)$$, '23502', NULL, 'a NULL id is refused with 23502');

-------------------------------------------------------------------------------
-- The API view
-------------------------------------------------------------------------------
SELECT has_view('t20', 'all_types', 'API view t20.all_types exists');
SELECT has_table('tenant_t20', 'all_types', 'table tenant_t20.all_types exists');
SELECT hasnt_table('t20', 'all_types', 'no table in the API schema');
SELECT hasnt_view('tenant_t20', 'all_types', 'no view in the storage schema');
SELECT ok((SELECT 'security_invoker=true' = ANY (reloptions) FROM pg_class WHERE oid = 't20.all_types'::regclass),
          'all_types view has security_invoker=true');
SELECT ok((SELECT 'security_invoker=true' = ANY (reloptions) FROM pg_class WHERE oid = 't20.all_arrays'::regclass),
          'all_arrays view has security_invoker=true');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute WHERE attrelid = 't20.all_types'::regclass AND attnum > 0),
          (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'tenant_t20.all_types'::regclass AND attnum > 0 AND NOT attisdropped),
          'all_types: view columns equal table columns, in order');
SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute WHERE attrelid = 't20.all_arrays'::regclass AND attnum > 0),
          (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'tenant_t20.all_arrays'::regclass AND attnum > 0 AND NOT attisdropped),
          'all_arrays: view columns equal table columns, in order');
SELECT ok((SELECT is_updatable = 'YES' AND is_insertable_into = 'YES' FROM information_schema.views
            WHERE table_schema = 't20' AND table_name = 'all_types'), 'the view is automatically updatable');
SELECT table_owner_is('tenant_t20', 'all_types', 'cot_owner', 'table owned by cot_owner');
SELECT table_owner_is('tenant_t20', 'all_arrays', 'cot_owner', 'array table owned by cot_owner');
SELECT view_owner_is('t20', 'all_types', 'cot_owner', 'view owned by cot_owner');
SELECT view_owner_is('t20', 'all_arrays', 'cot_owner', 'array view owned by cot_owner');
SELECT is((SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname IN ('t20', 'tenant_t20') AND c.relowner <> 'cot_owner'::regrole), 0,
          'every relation in the tenant schemas (indexes too) is owned by cot_owner');

-- Comments: the description, or else the label.
SELECT is(obj_description('tenant_t20.all_types'::regclass, 'pg_class'), 'One field of every type', 'table comment is the description');
SELECT is(obj_description('t20.all_types'::regclass, 'pg_class'), 'One field of every type', 'view comment is the description');
SELECT is(obj_description('t20.all_arrays'::regclass, 'pg_class'), 'All arrays', 'without a description the comment is the label');
SELECT is(col_description('tenant_t20.all_types'::regclass, 2), 'F text', 'column comment on the table: the label');
SELECT is(col_description('t20.all_types'::regclass, 2), 'F text', 'column comment on the view: the label');
SELECT is(col_description('tenant_t20.all_types'::regclass, 16), 'Where receipts go', 'column comment on the table: the description');
SELECT is(col_description('t20.all_types'::regclass, 16), 'Where receipts go', 'column comment on the view: the description');
SELECT is((SELECT count(*)::int FROM pg_attribute WHERE attrelid = 't20.all_types'::regclass AND attnum > 0
             AND attname NOT IN ('id', 'created_at', 'updated_at') AND col_description(attrelid, attnum) IS NULL), 0,
          'every field column of the view has a comment');
SELECT is((SELECT count(*)::int FROM pg_attribute WHERE attrelid = 'tenant_t20.all_arrays'::regclass AND attnum > 0
             AND attname NOT IN ('id', 'created_at', 'updated_at') AND NOT attisdropped AND col_description(attrelid, attnum) IS NULL), 0,
          'every field column of the array table has a comment');

SELECT * FROM finish();
ROLLBACK;
