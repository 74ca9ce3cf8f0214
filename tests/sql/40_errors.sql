-- Errors: every class of mistake in a definition, through cot.create_entity
-- (the SQLSTATE raised) and cot.validate_entity (each violation with its
-- pointer and SQLSTATE). Then hostile names replayed as entity, field and
-- tenant names: each must end in a clean error or a working entity, never a
-- syntax error (42601: text reached the parser unquoted) or XX000 (a panic).
BEGIN;
SELECT plan(320);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t40')$$, 'tenant t40 created');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t40", "name": "existing", "fields": [{"name": "a", "type": "text"}]}')$$,
                'entity existing created');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t40", "name": "fixed_ids", "id": "0190a000-0000-7000-8000-000000000040",
                    "fields": [{"name": "a", "type": "text", "id": "0190a000-0000-7000-8000-000000000041"}]}')$$,
                'entity fixed_ids created with fixed ids');

-------------------------------------------------------------------------------
-- One bad definition per row: the SQLSTATE create_entity raises, and the
-- violation validate_entity reports at the pointer.
-------------------------------------------------------------------------------
CREATE TEMP TABLE t40_cases (what text, def jsonb, code text, ptr text);
CREATE FUNCTION pg_temp.f(field jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('tenant', 't40', 'name', 'case_entity', 'fields', jsonb_build_array(field))
$$;
INSERT INTO t40_cases VALUES
  -- shape (JSON Schema)
  ('not an object',               '"orders"',                                              '22023', ''),
  ('an array',                    '[{"tenant": "t40"}]',                                  '22023', ''),
  ('JSON null',                   'null',                                                 '22023', ''),
  ('name missing',                '{"tenant": "t40"}',                                    '22023', ''),
  ('tenant missing from the def', '{"name": "x"}',                                        '22023', ''),
  ('unknown key',                 '{"tenant": "t40", "name": "x", "colour": "red"}',      '22023', '/colour'),
  ('unknown field key',           pg_temp.f('{"name": "a", "type": "text", "colour": 1}'), '22023', '/fields/0/colour'),
  ('field without type',          pg_temp.f('{"name": "a"}'),                             '22023', '/fields/0'),
  ('fields an object',            '{"tenant": "t40", "name": "x", "fields": {}}',        '22023', '/fields'),
  ('tenant a number',             '{"tenant": 5, "name": "x"}',                           '22023', '/tenant'),
  ('name null',                   '{"tenant": "t40", "name": null}',                      '22023', '/name'),
  ('field name a number',         pg_temp.f('{"name": 7, "type": "text"}'),               '22023', '/fields/0/name'),
  ('required a string',           pg_temp.f('{"name": "a", "type": "text", "required": "yes"}'), '22023', '/fields/0/required'),
  ('max_length a string',         pg_temp.f('{"name": "a", "type": "text", "max_length": "10"}'), '22023', '/fields/0/max_length'),
  ('max_length 0',                pg_temp.f('{"name": "a", "type": "text", "max_length": 0}'), '22023', '/fields/0/max_length'),
  ('min_length negative',         pg_temp.f('{"name": "a", "type": "text", "min_length": -1}'), '22023', '/fields/0/min_length'),
  ('max_length over 10485760',    pg_temp.f('{"name": "a", "type": "text", "max_length": 10485761}'), '22023', '/fields/0/max_length'),
  ('precision 1.5',               pg_temp.f('{"name": "a", "type": "decimal", "precision": 1.5}'), '22023', '/fields/0/precision'),
  ('precision 1001',              pg_temp.f('{"name": "a", "type": "decimal", "precision": 1001}'), '22023', '/fields/0/precision'),
  ('values a string',             pg_temp.f('{"name": "a", "type": "enum", "values": "a"}'), '22023', '/fields/0/values'),
  ('values empty',                pg_temp.f('{"name": "a", "type": "enum", "values": []}'), '22023', '/fields/0/values'),
  ('values repeated',             pg_temp.f('{"name": "a", "type": "enum", "values": ["x", "x"]}'), '22023', '/fields/0/values'),
  ('label empty',                 pg_temp.f('{"name": "a", "type": "text", "label": ""}'), '22023', '/fields/0/label'),
  ('label over 200 characters',   pg_temp.f(jsonb_build_object('name', 'a', 'type', 'text', 'label', repeat('l', 201))), '22023', '/fields/0/label'),
  ('index fields a string',       '{"tenant": "t40", "name": "x", "fields": [{"name": "a", "type": "text"}], "indexes": [{"fields": "a"}]}', '22023', '/indexes/0/fields'),
  ('index without fields',        '{"tenant": "t40", "name": "x", "indexes": [{"unique": true}]}', '22023', '/indexes/0'),
  ('index over 32 columns',       jsonb_build_object('tenant', 't40', 'name', 'x', 'indexes',
                                     jsonb_build_array(jsonb_build_object('fields', (SELECT jsonb_agg('id'::text) FROM generate_series(1, 33))))),
                                                                                          '22023', '/indexes/0/fields'),
  ('501 fields',                  jsonb_build_object('tenant', 't40', 'name', 'x', 'fields',
                                     (SELECT jsonb_agg(jsonb_build_object('name', 'f' || g, 'type', 'text')) FROM generate_series(1, 501) g)),
                                                                                          '22023', '/fields'),
  ('pattern over 1000 characters', pg_temp.f(jsonb_build_object('name', 'a', 'type', 'text', 'pattern', repeat('a', 1001))), '22023', '/fields/0/pattern'),
  ('entity id not a uuid',        '{"tenant": "t40", "name": "x", "id": "42"}',           '22023', '/id'),
  ('field id not a uuid',         pg_temp.f('{"name": "a", "type": "text", "id": "nope"}'), '22023', '/fields/0/id'),
  ('version 0',                   '{"tenant": "t40", "name": "x", "version": 0}',         '22023', '/version'),
  ('unknown type money',          pg_temp.f('{"name": "a", "type": "money"}'),            '22023', '/fields/0/type'),
  ('unknown type varchar(10)',    pg_temp.f('{"name": "a", "type": "varchar(10)"}'),      '22023', '/fields/0/type'),
  ('array of json',               pg_temp.f('{"name": "a", "type": "array", "items": "json"}'), '22023', '/fields/0/items'),
  ('array of array',              pg_temp.f('{"name": "a", "type": "array", "items": "array"}'), '22023', '/fields/0/items'),
  -- names
  ('tenant uppercase',            '{"tenant": "T40", "name": "x"}',                       '42602', '/tenant'),
  ('entity name with a space',    '{"tenant": "t40", "name": "my entity"}',               '42602', '/name'),
  ('entity name empty',           '{"tenant": "t40", "name": ""}',                        '42602', '/name'),
  ('field name uppercase',        pg_temp.f('{"name": "Title", "type": "text"}'),         '42602', '/fields/0/name'),
  ('field name starts with digit', pg_temp.f('{"name": "1st", "type": "text"}'),          '42602', '/fields/0/name'),
  ('field name with a dash',      pg_temp.f('{"name": "a-b", "type": "text"}'),           '42602', '/fields/0/name'),
  ('tenant 31 bytes',             jsonb_build_object('tenant', repeat('t', 31), 'name', 'x'), '42622', '/tenant'),
  ('entity name 64 bytes',        jsonb_build_object('tenant', 't40', 'name', repeat('e', 64)), '42622', '/name'),
  ('field name 64 bytes',         pg_temp.f(jsonb_build_object('name', repeat('f', 64), 'type', 'text')), '42622', '/fields/0/name'),
  ('field name 32 x é (64 bytes)', pg_temp.f(jsonb_build_object('name', repeat('é', 32), 'type', 'text')), '42622', '/fields/0/name'),
  ('entity pg_things',            '{"tenant": "t40", "name": "pg_things"}',               '42939', '/name'),
  ('entity rpc',                  '{"tenant": "t40", "name": "rpc"}',                     '42939', '/name'),
  ('field select',                pg_temp.f('{"name": "select", "type": "text"}'),        '42939', '/fields/0/name'),
  ('field id',                    pg_temp.f('{"name": "id", "type": "uuid"}'),            '42939', '/fields/0/name'),
  ('field created_at',            pg_temp.f('{"name": "created_at", "type": "timestamp"}'), '42939', '/fields/0/name'),
  ('field updated_at',            pg_temp.f('{"name": "updated_at", "type": "timestamp"}'), '42939', '/fields/0/name'),
  ('field xmin',                  pg_temp.f('{"name": "xmin", "type": "integer"}'),       '42939', '/fields/0/name'),
  ('field ctid',                  pg_temp.f('{"name": "ctid", "type": "text"}'),          '42939', '/fields/0/name'),
  ('field tableoid',              pg_temp.f('{"name": "tableoid", "type": "text"}'),      '42939', '/fields/0/name'),
  ('field columns',               pg_temp.f('{"name": "columns", "type": "text"}'),       '42939', '/fields/0/name'),
  ('field order',                 pg_temp.f('{"name": "order", "type": "text"}'),         '42939', '/fields/0/name'),
  ('field limit',                 pg_temp.f('{"name": "limit", "type": "integer"}'),      '42939', '/fields/0/name'),
  ('field on_conflict',           pg_temp.f('{"name": "on_conflict", "type": "text"}'),   '42939', '/fields/0/name'),
  ('tenant public',               '{"tenant": "public", "name": "x"}',                    '42939', '/tenant'),
  -- duplicates and references
  ('duplicate field',             '{"tenant": "t40", "name": "x", "fields": [{"name": "a", "type": "text"}, {"name": "a", "type": "integer"}]}',
                                                                                          '42701', '/fields/1/name'),
  ('entity exists',               '{"tenant": "t40", "name": "existing"}',                '42P07', '/name'),
  ('tenant missing',              '{"tenant": "t40nobody", "name": "x"}',                 '42704', '/tenant'),
  ('index names unknown field',   '{"tenant": "t40", "name": "x", "fields": [{"name": "a", "type": "text"}], "indexes": [{"fields": ["a", "b"]}]}',
                                                                                          '42703', '/indexes/0/fields/1'),
  ('entity id in use',            '{"tenant": "t40", "name": "x", "id": "0190a000-0000-7000-8000-000000000040"}', '42710', '/id'),
  ('field id in use',             pg_temp.f('{"name": "a", "type": "text", "id": "0190a000-0000-7000-8000-000000000041"}'), '42710', '/fields/0/id'),
  ('two fields, one id',          '{"tenant": "t40", "name": "x", "fields": [{"name": "a", "type": "text", "id": "0190a000-0000-7000-8000-0000000000aa"},
                                    {"name": "b", "type": "text", "id": "0190a000-0000-7000-8000-0000000000aa"}]}', '42710', '/fields/1/id'),
  -- impossible options
  ('min greater than max',        pg_temp.f('{"name": "a", "type": "integer", "min": 10, "max": 1}'), '22023', '/fields/0/min'),
  ('date min after max',          pg_temp.f('{"name": "a", "type": "date", "min": "2024-02-01", "max": "2024-01-31"}'), '22023', '/fields/0/min'),
  ('scale greater than precision', pg_temp.f('{"name": "a", "type": "decimal", "precision": 4, "scale": 6}'), '22023', '/fields/0/scale'),
  ('scale without precision',     pg_temp.f('{"name": "a", "type": "decimal", "scale": 2}'), '22023', '/fields/0/scale'),
  ('precision on text',           pg_temp.f('{"name": "a", "type": "text", "precision": 3}'), '22023', '/fields/0/precision'),
  ('default outside enum',        pg_temp.f('{"name": "a", "type": "enum", "values": ["x", "y"], "default": "z"}'), '22023', '/fields/0/default'),
  ('array default outside enum',  pg_temp.f('{"name": "a", "type": "array", "items": "enum", "values": ["x"], "default": ["x", "z"]}'), '22023', '/fields/0/default'),
  ('min_length above max_length', pg_temp.f('{"name": "a", "type": "text", "min_length": 5, "max_length": 2}'), '22023', '/fields/0/min_length'),
  ('max_length on integer',       pg_temp.f('{"name": "a", "type": "integer", "max_length": 3}'), '22023', '/fields/0/max_length'),
  ('max_length on an array',      pg_temp.f('{"name": "a", "type": "array", "items": "text", "max_length": 3}'), '22023', '/fields/0/max_length'),
  ('min on text',                 pg_temp.f('{"name": "a", "type": "text", "min": 1}'),   '22023', '/fields/0/min'),
  ('max on boolean',              pg_temp.f('{"name": "a", "type": "boolean", "max": 1}'), '22023', '/fields/0/max'),
  ('pattern on integer',          pg_temp.f('{"name": "a", "type": "integer", "pattern": "x"}'), '22023', '/fields/0/pattern'),
  ('pattern on email',            pg_temp.f('{"name": "a", "type": "email", "pattern": "x"}'), '22023', '/fields/0/pattern'),
  ('bad regex (',                 pg_temp.f('{"name": "a", "type": "text", "pattern": "("}'), '22023', '/fields/0/pattern'),
  ('bad regex [z-a]',             pg_temp.f('{"name": "a", "type": "text", "pattern": "[z-a]"}'), '22023', '/fields/0/pattern'),
  ('default not matching pattern', pg_temp.f('{"name": "a", "type": "text", "pattern": "^[A-Z]+$", "default": "abc"}'), '22023', '/fields/0/default'),
  ('default longer than max_length', pg_temp.f('{"name": "a", "type": "text", "max_length": 3, "default": "abcd"}'), '22023', '/fields/0/default'),
  ('values on text',              pg_temp.f('{"name": "a", "type": "text", "values": ["a"]}'), '22023', '/fields/0/values'),
  ('items on text',               pg_temp.f('{"name": "a", "type": "text", "items": "text"}'), '22023', '/fields/0/items'),
  ('array without items',         pg_temp.f('{"name": "a", "type": "array"}'),            '22023', '/fields/0/items'),
  ('enum without values',         pg_temp.f('{"name": "a", "type": "enum"}'),             '22023', '/fields/0/values'),
  ('integer default a string',    pg_temp.f('{"name": "a", "type": "integer", "default": "3"}'), '22023', '/fields/0/default'),
  ('integer default 1.5',         pg_temp.f('{"name": "a", "type": "integer", "default": 1.5}'), '22023', '/fields/0/default'),
  ('integer min beyond int4',     pg_temp.f('{"name": "a", "type": "integer", "min": 3000000000}'), '22023', '/fields/0/min'),
  ('default above max',           pg_temp.f('{"name": "a", "type": "integer", "default": 9, "max": 5}'), '22023', '/fields/0/default'),
  ('decimal default too wide',    pg_temp.f('{"name": "a", "type": "decimal", "precision": 3, "scale": 1, "default": 100}'), '22023', '/fields/0/default'),
  ('decimal default not a number', pg_temp.f('{"name": "a", "type": "decimal", "default": "12,5"}'), '22023', '/fields/0/default'),
  ('float default a string',      pg_temp.f('{"name": "a", "type": "float", "default": "NaN"}'), '22023', '/fields/0/default'),
  ('date default now',            pg_temp.f('{"name": "a", "type": "date", "default": "now"}'), '22023', '/fields/0/default'),
  ('date default 2024-02-30',     pg_temp.f('{"name": "a", "type": "date", "default": "2024-02-30"}'), '22023', '/fields/0/default'),
  ('timestamp default today',     pg_temp.f('{"name": "a", "type": "timestamp", "default": "today"}'), '22023', '/fields/0/default'),
  ('timestamp without offset',    pg_temp.f('{"name": "a", "type": "timestamp", "default": "2024-01-01T00:00:00"}'), '22023', '/fields/0/default'),
  ('time default 24:00',          pg_temp.f('{"name": "a", "type": "time", "default": "24:00"}'), '22023', '/fields/0/default'),
  ('uuid default now()',          pg_temp.f('{"name": "a", "type": "uuid", "default": "now()"}'), '22023', '/fields/0/default'),
  ('text default is no SQL',      pg_temp.f('{"name": "a", "type": "boolean", "default": "true OR pg_sleep(1) IS NULL"}'), '22023', '/fields/0/default'),
  ('email default not an email',  pg_temp.f('{"name": "a", "type": "email", "default": "not an email"}'), '22023', '/fields/0/default'),
  ('url default javascript:',     pg_temp.f('{"name": "a", "type": "url", "default": "javascript:alert(1)"}'), '22023', '/fields/0/default'),
  ('array default not an array',  pg_temp.f('{"name": "a", "type": "array", "items": "integer", "default": 1}'), '22023', '/fields/0/default'),
  ('array default bad item',      pg_temp.f('{"name": "a", "type": "array", "items": "integer", "default": [1, "x"]}'), '22023', '/fields/0/default/1'),
  ('same index twice',            '{"tenant": "t40", "name": "x", "fields": [{"name": "a", "type": "text"}], "indexes": [{"fields": ["a"]}, {"fields": ["a"]}]}',
                                                                                          '22023', '/indexes/1'),
  ('email min_length above 254', pg_temp.f('{"name": "a", "type": "email", "min_length": 300}'), '22023', '/fields/0/min_length'),
  ('one-field index repeating index', '{"tenant": "t40", "name": "x", "fields": [{"name": "a", "type": "text", "index": true}], "indexes": [{"fields": ["a"]}]}',
                                                                                          '22023', '/indexes/0'),
  ('one-field unique repeating unique', '{"tenant": "t40", "name": "x", "fields": [{"name": "a", "type": "text", "unique": true}], "indexes": [{"fields": ["a"], "unique": true}]}',
                                                                                          '22023', '/indexes/0'),
  ('field twice in one index',    '{"tenant": "t40", "name": "x", "fields": [{"name": "a", "type": "text"}], "indexes": [{"fields": ["a", "a"]}]}',
                                                                                          '22023', '/indexes/0/fields/1');

SELECT throws_ok(format('SELECT cot.create_entity(%L::jsonb)', def), code, NULL, format('create_entity, %s: %s', what, code))
  FROM t40_cases ORDER BY what;
SELECT ok(cot.validate_entity(def) @> jsonb_build_array(jsonb_build_object('pointer', ptr, 'sqlstate', code)),
          format('validate_entity, %s: %s at "%s"', what, code, ptr))
  FROM t40_cases ORDER BY what;
SELECT is((SELECT count(*)::int FROM t40_cases c, jsonb_array_elements(cot.validate_entity(c.def)) v
            WHERE v->>'message' IS NULL OR v->>'message' = '' OR v->>'hint' IS NULL OR v->>'hint' = ''), 0,
          'every violation has a message and a hint');

-------------------------------------------------------------------------------
-- Hints that say how to fix: an unknown type, key or value gets the one
-- meant (a synonym from another system, or the nearest word for a typo) and
-- the valid choices; a refused name gets one that works. The SQLSTATE and
-- the pointer stay.
-------------------------------------------------------------------------------
CREATE TEMP TABLE t40_hints (what text, def jsonb, code text, ptr text, hint text);
INSERT INTO t40_hints VALUES
  ('type string',        pg_temp.f('{"name": "a", "type": "string"}'),   '22023', '/fields/0/type', 'did you mean "text"? The types are: text, integer,'),
  ('type int',           pg_temp.f('{"name": "a", "type": "int"}'),      '22023', '/fields/0/type', 'did you mean "integer"?'),
  ('type intger (typo)', pg_temp.f('{"name": "a", "type": "intger"}'),   '22023', '/fields/0/type', 'did you mean "integer"?'),
  ('type datetime',      pg_temp.f('{"name": "a", "type": "datetime"}'), '22023', '/fields/0/type', 'did you mean "timestamp"?'),
  ('type bool',          pg_temp.f('{"name": "a", "type": "bool"}'),     '22023', '/fields/0/type', 'did you mean "boolean"?'),
  ('type number',        pg_temp.f('{"name": "a", "type": "number"}'),   '22023', '/fields/0/type', 'did you mean "float" (or "decimal" for exact values such as money)?'),
  ('type double',        pg_temp.f('{"name": "a", "type": "double"}'),   '22023', '/fields/0/type', 'did you mean "float" (or "decimal"'),
  ('type varchar(10)',   pg_temp.f('{"name": "a", "type": "varchar(10)"}'), '22023', '/fields/0/type', 'did you mean "text" (add "max_length" for a length limit)?'),
  ('type money',         pg_temp.f('{"name": "a", "type": "money"}'),    '22023', '/fields/0/type', 'did you mean "decimal"'),
  ('type blob',          pg_temp.f('{"name": "a", "type": "blob"}'),     '22023', '/fields/0/type',
                         'use one of the types: text, integer, bigint, decimal, float, boolean, date, timestamp, time, uuid, json, enum, email, url, array, relation'),
  ('items string',       pg_temp.f('{"name": "a", "type": "array", "items": "string"}'), '22023', '/fields/0/items', 'did you mean "text"? The item types are:'),
  ('key options',        pg_temp.f('{"name": "a", "type": "enum", "options": ["x"]}'),   '22023', '/fields/0/options', 'did you mean "values"'),
  ('key enum',           pg_temp.f('{"name": "a", "type": "enum", "enum": ["x"]}'),      '22023', '/fields/0/enum', 'did you mean "values"'),
  ('key nullable',       pg_temp.f('{"name": "a", "type": "text", "nullable": false}'),  '22023', '/fields/0/nullable', 'did you mean "required" (fields accept null unless "required": true)?'),
  ('key not_null',       pg_temp.f('{"name": "a", "type": "text", "not_null": true}'),   '22023', '/fields/0/not_null', 'did you mean "required"?'),
  ('key maxLength',      pg_temp.f('{"name": "a", "type": "text", "maxLength": 5}'),     '22023', '/fields/0/maxLength', 'did you mean "max_length"? The keys of a field are:'),
  ('key colour',         pg_temp.f('{"name": "a", "type": "text", "colour": 1}'),        '22023', '/fields/0/colour', 'remove the key; the keys of a field are: default, description,'),
  ('key columns',        '{"tenant": "t40", "name": "x", "columns": []}',                '22023', '/columns', 'did you mean "fields"? The keys of a definition are:'),
  ('rule authenticated', '{"tenant": "t40", "name": "x", "access": {"read": "authenticated"}}', '22023', '/access/read', 'did you mean "tenant" (any signed-in user of the tenant)? The rules are:'),
  ('field order',        pg_temp.f('{"name": "order", "type": "integer"}'),  '42939', '/fields/0/name', 'choose another name, e.g. "sort_order"'),
  ('field limit',        pg_temp.f('{"name": "limit", "type": "integer"}'),  '42939', '/fields/0/name', 'choose another name, e.g. "max_items"'),
  ('field select',       pg_temp.f('{"name": "select", "type": "text"}'),    '42939', '/fields/0/name', 'choose another name, e.g. "selection"'),
  ('field id',           pg_temp.f('{"name": "id", "type": "text"}'),        '42939', '/fields/0/name', 'choose another name, e.g. "external_id"');
SELECT ok(starts_with(v->>'hint', h.hint) AND v->>'sqlstate' = h.code,
          format('validate_entity, %s: %s at %s, hint %s', h.what, h.code, h.ptr, h.hint))
  FROM t40_hints h, LATERAL (SELECT v FROM jsonb_array_elements(cot.validate_entity(h.def)) v WHERE v->>'pointer' = h.ptr) p
 ORDER BY h.what;
SELECT is((SELECT count(*)::int FROM t40_hints h
            WHERE NOT EXISTS (SELECT FROM jsonb_array_elements(cot.validate_entity(h.def)) v WHERE v->>'pointer' = h.ptr)), 0,
          'every hint case has its violation at the pointer');
SELECT ok(starts_with(e->>'hint', h.hint) AND e->>'sqlstate' = h.code, format('create_entity, %s: HINT %s', h.what, e->>'hint'))
  FROM t40_hints h, LATERAL cot_test.error_of(format('SELECT cot.create_entity(%L::jsonb)', h.def)) e
 ORDER BY h.what;

-------------------------------------------------------------------------------
-- Several violations at once
-------------------------------------------------------------------------------
CREATE TEMP TABLE t40_many AS SELECT '{"tenant": "t40", "name": "many", "fields": [
    {"name": "a", "type": "integer", "max_length": 3},
    {"name": "b", "type": "integer", "min": 10, "max": 1},
    {"name": "c", "type": "decimal", "precision": 4, "scale": 6},
    {"name": "a", "type": "boolean"},
    {"name": "d", "type": "enum", "values": ["x"], "default": "y"}
  ], "indexes": [{"fields": ["nope"]}]}'::jsonb AS def;
SELECT results_eq(
    $$SELECT v->>'pointer', v->>'sqlstate' FROM t40_many, jsonb_array_elements(cot.validate_entity(def)) WITH ORDINALITY AS a(v, n) ORDER BY n$$,
    $$VALUES ('/fields/0/max_length', '22023'), ('/fields/1/min', '22023'), ('/fields/2/scale', '22023'),
             ('/fields/3/name', '42701'), ('/fields/4/default', '22023'), ('/indexes/0/fields/0', '42703')$$,
    'validate_entity lists every violation, in document order, each with its SQLSTATE');
CREATE TEMP TABLE t40_many_err AS SELECT cot_test.error_of(format('SELECT cot.create_entity(%L::jsonb)', def)) AS e FROM t40_many;
SELECT is((SELECT e->>'sqlstate' FROM t40_many_err), '22023', 'create_entity raises the first violation''s SQLSTATE');
SELECT matches((SELECT e->>'message' FROM t40_many_err), '6 problems', 'the message counts the problems');
SELECT is((SELECT array_agg(split_part(l, ':', 1)) FROM t40_many_err, regexp_split_to_table(e->>'detail', E'\n') AS l),
          ARRAY['/fields/0/max_length', '/fields/1/min', '/fields/2/scale', '/fields/3/name', '/fields/4/default', '/indexes/0/fields/0'],
          'DETAIL lists every pointer, one per line');
SELECT is((SELECT e->>'sqlstate' FROM (SELECT cot_test.error_of($$SELECT cot.create_entity('{"tenant": "T40", "name": "Bad", "fields": [{"name": "select", "type": "text"}]}')$$) AS e) s),
          '42939', 'several name problems: the first in document order (/fields/0/name, reserved) decides the SQLSTATE');
SELECT is(cot.validate_entity('{"tenant": "T40", "name": "Bad", "fields": [{"name": "select", "type": "text"}]}'::jsonb) #>> '{2,pointer}',
          '/tenant', '... and validate_entity reports all three names');

-------------------------------------------------------------------------------
-- A valid definition: no violations, and validate_entity changes nothing
-------------------------------------------------------------------------------
CREATE TEMP TABLE t40_before AS
SELECT (SELECT count(*) FROM cot.entities) AS entities, (SELECT count(*) FROM cot.fields) AS fields,
       (SELECT count(*) FROM cot.migrations) AS migrations,
       (SELECT count(*) FROM pg_class WHERE relnamespace IN ('t40'::regnamespace, 'tenant_t40'::regnamespace)) AS relations;
SELECT is(cot.validate_entity('{"tenant": "t40", "name": "valid_one", "label": "Valid", "fields": [
            {"name": "a", "type": "text", "unique": true, "index": true, "max_length": 5, "default": "x"},
            {"name": "b", "type": "array", "items": "enum", "values": ["p", "q"], "default": ["p"]}],
          "indexes": [{"fields": ["a", "created_at"]}, {"fields": ["a", "b"], "unique": true}]}'),
          '[]'::jsonb, 'a valid definition: validate_entity returns []');
SELECT is(cot.validate_entity(((cot.entity('t40', 'existing') || '{"name": "existing_copy"}') - 'id')
                              || jsonb_build_object('fields', '[]'::jsonb)),
          '[]'::jsonb, 'a normalized definition, renamed and without ids, validates');
SELECT results_eq(
    $$SELECT (SELECT count(*) FROM cot.entities), (SELECT count(*) FROM cot.fields), (SELECT count(*) FROM cot.migrations),
             (SELECT count(*) FROM pg_class WHERE relnamespace IN ('t40'::regnamespace, 'tenant_t40'::regnamespace))$$,
    $$SELECT entities, fields, migrations, relations FROM t40_before$$,
    'validate_entity created no meta row, ledger row or relation');
SELECT hasnt_table('tenant_t40', 'valid_one', 'no table for the validated definition');
SELECT is(cot.validate_entity('{"tenant": "t40", "name": "existing"}'),
          jsonb_build_array(jsonb_build_object('pointer', '/name', 'sqlstate', '42P07',
              'message', 'entity "existing" already exists in tenant "t40"',
              'hint', 'choose another name, or change the existing entity')),
          'validate_entity: the whole violation object for an existing entity');

-------------------------------------------------------------------------------
-- Limits
-------------------------------------------------------------------------------
CREATE TEMP TABLE t40_big AS
SELECT jsonb_build_object('tenant', 't40', 'name', 'big', 'description', repeat('x', 10 * 1024 * 1024)) AS def;
CREATE TEMP TABLE t40_timing (started timestamptz, code text, finished timestamptz);
INSERT INTO t40_timing SELECT clock_timestamp(), cot_test.sqlstate_of(format('SELECT cot.create_entity(%L::jsonb)', def)), clock_timestamp() FROM t40_big;
SELECT is((SELECT code FROM t40_timing), '54000', 'a 10 MB definition: 54000');
SELECT cmp_ok((SELECT finished - started FROM t40_timing), '<', interval '5 seconds', '... refused in under 5 s');
SELECT is((SELECT cot.validate_entity(def) #>> '{0,sqlstate}' FROM t40_big), '54000', 'validate_entity reports 54000 too');
SELECT is((SELECT count(*)::int FROM t40_cases WHERE what = '501 fields'), 1, 'the 501-field case above was run (22023)');
SELECT lives_ok(format('SELECT cot.create_entity(%L::jsonb)', jsonb_build_object('tenant', 't40', 'name', 'wide', 'fields',
                  (SELECT jsonb_agg(jsonb_build_object('name', 'f' || g, 'type', 'integer', 'min', 0)) FROM generate_series(1, 500) g))),
                'an entity with 500 fields (the limit) is created');
SELECT is((SELECT count(*)::int FROM pg_attribute WHERE attrelid = 'tenant_t40.wide'::regclass AND attnum > 0), 503,
          '... its table has 503 columns');

-- Longest names: 63-byte entity and field names; generated names are cut
-- with a hash, never left to Postgres's silent truncation.
SELECT lives_ok(format('SELECT cot.create_entity(%L::jsonb)', jsonb_build_object('tenant', 't40', 'name', repeat('e', 63), 'fields',
                  jsonb_build_array(jsonb_build_object('name', repeat('f', 62) || '1', 'type', 'text', 'unique', true, 'max_length', 9),
                                    jsonb_build_object('name', repeat('f', 62) || '2', 'type', 'text', 'index', true, 'max_length', 9)),
                  'indexes', jsonb_build_array(jsonb_build_object('fields', jsonb_build_array(repeat('f', 62) || '1', repeat('f', 62) || '2'))))),
                'an entity with 63-byte entity and field names, unique, index and compound index');
SELECT is((SELECT count(*)::int FROM pg_class WHERE relnamespace = 'tenant_t40'::regnamespace AND relname::text LIKE repeat('e', 20) || '%'
             AND relkind = 'i'), 4, 'four indexes: primary key, unique, index, compound');
SELECT is((SELECT count(DISTINCT conname)::int FROM pg_constraint WHERE conrelid = format('tenant_t40.%I', repeat('e', 63))::regclass), 4,
          'four distinct constraint names (pkey, two max_length checks, unique)');
SELECT is((SELECT count(*)::int FROM pg_class WHERE relnamespace = 'tenant_t40'::regnamespace AND relname::text LIKE repeat('e', 20) || '%'
             AND relkind = 'i' AND octet_length(relname::text) = 63 AND relname::text ~ '_[0-9a-f]{8}$'), 4,
          'each index name was cut to 63 bytes by Cot, with a hash suffix');
SELECT throws_ok(format('SELECT cot.create_entity(%L::jsonb)', jsonb_build_object('tenant', 't40', 'name', repeat('e', 63) || 'x')),
                 '42622', NULL, 'a 64-byte name equal to an existing one after truncation: 42622, not 42P07');

-------------------------------------------------------------------------------
-- Hostile names as entity names, field names, tenant slugs and lookups
-------------------------------------------------------------------------------
CREATE TEMP TABLE t40_hostile (n serial, name text);
INSERT INTO t40_hostile (name) VALUES
    ($$a'b$$), ('a"b'), ('";drop table x;--'), ('a;b'), ('--'), ('a--b'), ('$$'), ('a$$b'), ('$1'),
    (E'\u202Eabc'), (E'abc\u202E'), (E'a\u200Bb'), (E'\uFEFFabc'), (E'a\u0001b'), (E'a\tb'), (E'a\nb'), (E'a\\b'),
    ('select'), ('from'), ('table'), ('user'), ('current_user'), ('all'),
    ('Title'), ('TITLE'), ('title '), (' title'), ('é'), ('café'), ('аbc'), ('😀'), ('ǅ'), ('ﬁ'),
    (repeat('a', 63)), (repeat('a', 64)), (repeat('b', 63) || '1'), (repeat('b', 63) || '2'),
    (repeat('é', 32)), (repeat('é', 31)), (repeat('x', 10000)),
    (''), ('1abc'), ('_abc'), ('a b'), ('a.b'), ('a/b'), ('a(b)'), ('a*'),
    ('id'), ('xmin'), ('oid'), ('order'), ('pg_class'), ('rpc'), ('tenant_x'), ('public'), ('cot');

CREATE TEMP TABLE t40_outcome (kind text, name text, code text);
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT n, name FROM t40_hostile ORDER BY n LOOP
        INSERT INTO t40_outcome VALUES ('entity', r.name, cot_test.sqlstate_of(format('SELECT cot.create_entity(%L::jsonb)',
            jsonb_build_object('tenant', 't40', 'name', r.name,
                               'fields', jsonb_build_array(jsonb_build_object('name', 'f', 'type', 'text', 'unique', true))))));
        INSERT INTO t40_outcome VALUES ('field', r.name, cot_test.sqlstate_of(format('SELECT cot.create_entity(%L::jsonb)',
            jsonb_build_object('tenant', 't40', 'name', 'hf_' || r.n,
                               'fields', jsonb_build_array(jsonb_build_object('name', r.name, 'type', 'text', 'unique', true, 'max_length', 3),
                                                           jsonb_build_object('name', 'other', 'type', 'integer', 'index', true)),
                               'indexes', jsonb_build_array(jsonb_build_object('fields', jsonb_build_array(r.name, 'other')))))));
        INSERT INTO t40_outcome VALUES ('validate', r.name, coalesce(cot.validate_entity(
            jsonb_build_object('tenant', 't40', 'name', r.name, 'fields', jsonb_build_array(jsonb_build_object('name', r.name, 'type', 'text'))))
            #>> '{0,sqlstate}', 'ok'));
        INSERT INTO t40_outcome VALUES ('def tenant', r.name, cot_test.sqlstate_of(format('SELECT cot.create_entity(%L::jsonb)',
            jsonb_build_object('tenant', r.name, 'name', 'x'))));
        INSERT INTO t40_outcome VALUES ('create_tenant', r.name, cot_test.sqlstate_of(format('SELECT cot.create_tenant(%L)', r.name)));
        INSERT INTO t40_outcome VALUES ('drop_tenant', r.name, cot_test.sqlstate_of(format('SELECT cot.drop_tenant(%L)', 't40_' || r.name)));
        INSERT INTO t40_outcome VALUES ('entity()', r.name, cot_test.sqlstate_of(format('SELECT cot.entity(%L, %L)', 't40', r.name || '_nope')));
        INSERT INTO t40_outcome VALUES ('entity() tenant', r.name, cot_test.sqlstate_of(format('SELECT cot.entity(%L, %L)', r.name || '_nope', 'x')));
        INSERT INTO t40_outcome VALUES ('drop_entity', r.name, cot_test.sqlstate_of(format('SELECT cot.drop_entity(%L, %L)', 't40', r.name || '_nope')));
        INSERT INTO t40_outcome VALUES ('entities()', r.name, cot_test.sqlstate_of(format('SELECT * FROM cot.entities(%L)', r.name || '_nope')));
    END LOOP;
END $$;

SELECT is((SELECT count(*)::int FROM t40_outcome), (SELECT count(*)::int * 10 FROM t40_hostile), 'every hostile name was tried in ten places');
SELECT cmp_ok((SELECT count(*)::int FROM t40_hostile), '>=', 50, 'at least 50 hostile names');
SELECT is_empty($$SELECT kind, left(name, 40), code FROM t40_outcome WHERE code IN ('42601', 'XX000')$$,
                'no hostile name produced a syntax error (42601) or an internal error (XX000)');
SELECT is_empty($$SELECT kind, left(name, 40), code FROM t40_outcome
                   WHERE kind IN ('entity', 'field', 'validate', 'def tenant')
                     AND code NOT IN ('ok', '22023', '42602', '42622', '42939', '42P07', '42701', '42704')$$,
                'definitions with hostile names: only ok, 22023, 42602, 42622, 42939, 42P07, 42701 (or 42704 for a tenant)');
SELECT is_empty($$SELECT kind, left(name, 40), code FROM t40_outcome
                   WHERE kind = 'create_tenant' AND code NOT IN ('ok', '42602', '42622', '42939')$$,
                'create_tenant with hostile slugs: only 42602, 42622, 42939 (or ok)');
SELECT is_empty($$SELECT kind, left(name, 40), code FROM t40_outcome
                   WHERE kind IN ('drop_tenant', 'entity()', 'entity() tenant', 'drop_entity', 'entities()') AND code <> '42704'$$,
                'lookups with hostile names: 42704');
SELECT results_eq(
    $q$SELECT code FROM t40_outcome WHERE kind = 'entity' AND name IN ('Title', 'select', 'é', 'a''b', '$$', 'id')
       ORDER BY name COLLATE "C"$q$,
    $$VALUES ('42602'), ('42602'), ('42602'), ('ok'), ('ok'), ('42602')$$,
    'as entity names: $$ 42602, Title 42602, a''b 42602, id ok (only fields may not be called id), select ok (reserved words are quoted), é 42602');
SELECT results_eq(
    $$SELECT name, code FROM t40_outcome WHERE kind = 'field' AND name IN ('id', 'xmin', 'order', 'Title') ORDER BY name COLLATE "C"$$,
    $$VALUES ('Title', '42602'), ('id', '42939'), ('order', '42939'), ('xmin', '42939')$$,
    'as field names: Title 42602, id/order/xmin 42939');
SELECT is((SELECT array_agg(DISTINCT code) FROM t40_outcome WHERE kind IN ('entity', 'field') AND octet_length(name) > 63),
          ARRAY['42622'], 'every name over 63 bytes: 42622 (names equal after truncation never collide silently)');
SELECT is_empty($$SELECT kind, name FROM t40_outcome WHERE code = 'ok' AND kind IN ('entity', 'field')
                     AND NOT (name ~ '^[a-z][a-z0-9_]*$' AND octet_length(name) <= 63)$$,
                'only plain names of at most 63 bytes were accepted');
SELECT results_eq($$SELECT kind, name FROM t40_outcome WHERE code = 'ok' AND kind IN ('entity', 'field') ORDER BY kind, name COLLATE "C"$$,
                  $$VALUES ('entity', repeat('a', 63)), ('entity', 'all'), ('entity', 'cot'), ('entity', 'current_user'), ('entity', 'from'),
                           ('entity', 'id'), ('entity', 'oid'), ('entity', 'order'), ('entity', 'public'), ('entity', 'select'),
                           ('entity', 'table'), ('entity', 'tenant_x'), ('entity', 'user'), ('entity', 'xmin'),
                           ('field', repeat('a', 63)), ('field', 'all'), ('field', 'cot'), ('field', 'current_user'), ('field', 'from'),
                           ('field', 'pg_class'), ('field', 'public'), ('field', 'rpc'), ('field', 'table'), ('field', 'tenant_x'), ('field', 'user')$$,
                  'the hostile-list names that work: plain names reserved only elsewhere, and PostgreSQL reserved words (quoted everywhere)');
SELECT is_empty($$SELECT name FROM t40_outcome WHERE kind = 'entity' AND code = 'ok'
                   AND (cot.entity('t40', name)->>'name' IS DISTINCT FROM name
                        OR to_regclass(format('tenant_t40.%I', name)) IS NULL OR to_regclass(format('t40.%I', name)) IS NULL)$$,
                'every accepted entity name round-trips: cot.entity, table and view');
SELECT is(cot.entity('t40', repeat('a', 63))->>'name', repeat('a', 63), 'the 63-byte entity name round-trips through cot.entity');
SELECT has_table('tenant_t40', repeat('a', 63), '... and is the table name');
SELECT has_column('tenant_t40', (SELECT 'hf_' || n FROM t40_hostile WHERE name = repeat('a', 63)), repeat('a', 63),
                  'the 63-byte field name is the column name');
SELECT is((SELECT count(*)::int FROM cot.entities e JOIN cot.tenants t ON t.id = e.tenant_id
            WHERE t.slug = 't40' AND e.name LIKE 'hf\_%'), (SELECT count(*)::int FROM t40_outcome WHERE kind = 'field' AND code = 'ok'),
          'refused hostile field definitions left no entity rows');

-- Case twins and other same-definition collisions.
SELECT throws_ok($$SELECT cot.create_entity('{"tenant": "t40", "name": "twins", "fields": [{"name": "title", "type": "text"}, {"name": "Title", "type": "text"}]}')$$,
                 '42602', NULL, 'case twins title / Title: 42602');
SELECT throws_ok($$SELECT cot.create_entity('{"tenant": "t40", "name": "twins", "fields": [{"name": "title", "type": "text"}, {"name": "title", "type": "text"}]}')$$,
                 '42701', NULL, 'twins title / title: 42701');
SELECT throws_ok($$SELECT cot.create_entity('{"tenant": "t40", "name": "Existing"}')$$, '42602', NULL,
                 'case twin of an existing entity: 42602');

-- NUL cannot reach Cot: jsonb refuses \u0000 at the cast.
SELECT throws_ok($$SELECT cot.validate_entity('{"tenant": "t40", "name": "a\u0000b"}'::jsonb)$$, '22P05', NULL,
                 'a NUL in a name: 22P05 at the jsonb cast, before Cot');
SELECT throws_ok($$SELECT cot.create_entity('{"tenant": "t40", "name": "x", "fields": [{"name": "a\u0000", "type": "text"}]}'::jsonb)$$,
                 '22P05', NULL, 'a NUL in a field name: 22P05 at the jsonb cast');

-- Numbers and nesting jsonb holds but Cot's JSON reader does not.
SELECT matches(cot_test.sqlstate_of($$SELECT cot.create_entity('{"tenant": "t40", "name": "huge", "fields": [{"name": "a", "type": "decimal", "min": 1e400}]}')$$),
               '^22023$', 'a number beyond double precision (1e400) in a definition: 22023, not XX000');
SELECT is(cot.validate_entity(('{"tenant": "t40", "name": "deep", "colour": ' || repeat('[', 200) || repeat(']', 200) || '}')::jsonb)->0->>'sqlstate',
          '54000', 'a definition nested 200 levels deep: validate_entity reports 54000, not XX000');

SELECT * FROM finish();
ROLLBACK;
