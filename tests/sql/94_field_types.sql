-- Custom field types (docs/field-types.md): the shipped types of the
-- standard-types module registered, each enforced for psql and COPY
-- writers, shown in the generated docs, checked by cot.check, evolved
-- to and from its base, and held still while fields use it.
BEGIN;
SELECT plan(48);
SET LOCAL client_min_messages = warning;

CREATE ROLE t94_platform LOGIN;
GRANT cot_platform TO t94_platform;
CREATE ROLE t94_nobody LOGIN;

-------------------------------------------------------------------------------
-- Registering
-------------------------------------------------------------------------------
\set types `python3 -c 'import json; print(json.dumps(json.load(open("modules/standard-types/standard-types-1.0.0.json"))["field_types"]))'`
SELECT is(cot_test.sqlstate_of(format('SET LOCAL ROLE t94_nobody; SELECT cot.register_field_type(%L)', (:'types'::jsonb)->0)),
          '42501', 'register_field_type: not for PUBLIC');
RESET ROLE;
SET LOCAL ROLE t94_platform;
SELECT is((SELECT count(*) FROM jsonb_array_elements(:'types'::jsonb) t, cot.register_field_type(t)), 5::bigint,
          'the platform role registers the five standard types');
RESET ROLE;
SELECT is((SELECT jsonb_agg(t->>'name') FROM jsonb_array_elements(cot.field_types()) t),
          '["color", "currency_code", "money", "phone", "slug"]', 'field_types() lists them by name');
SELECT is((SELECT cot.register_field_type((:'types'::jsonb)->0)), (:'types'::jsonb)->0, 'registering the same type again changes nothing');
SELECT is(cot_test.sqlstate_of($$SELECT cot.register_field_type('{"name": "text", "base": "text"}')$$), '42939',
          'a built-in name: 42939');
SELECT is(cot_test.error_of($$SELECT cot.register_field_type('{"name": "code", "base": "integer", "checks": {"pattern": "^1$"}}')$$)->>'detail',
          '/checks/pattern: option pattern does not apply to integer fields', 'checks that do not fit the base: 22023 at /checks/pattern');
SELECT is(cot_test.error_of($$SELECT cot.register_field_type('{"name": "code", "base": "text", "checks": {"pattern": "(("}}')$$)->>'sqlstate',
          '22023', 'a pattern PostgreSQL cannot compile: 22023');
SELECT is(cot_test.sqlstate_of($$SELECT cot.register_field_type('{"name": "code", "base": "text", "checks": {"sql": "true"}}')$$), '22023',
          'SQL text is no check: unknown keys are refused');
SELECT is(cot_test.error_of($$SELECT cot.register_field_type('{"name": "code", "base": "text", "checks": {"max_length": 3}, "json_schema": {"examples": ["abcd"]}}')$$)->>'detail',
          '/json_schema/examples/0: example 0: default is 4 characters long, outside min_length/max_length', 'an example that breaks the checks: 22023');

-------------------------------------------------------------------------------
-- Definitions use them like built-in types
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_tenant('t94')$$, 'a tenant');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t94", "name": "shops", "fields": [
  {"name": "title", "type": "text"},
  {"name": "tel", "type": "phone"},
  {"name": "currency", "type": "currency_code", "default": "EUR"},
  {"name": "handle", "type": "slug", "unique": true},
  {"name": "tint", "type": "color"},
  {"name": "balance", "type": "money"}
], "access": {"read": "tenant", "create": "tenant", "update": "tenant", "delete": "tenant"}}')$$, 'an entity with a field of each');
SELECT is((SELECT jsonb_agg(f->>'type') FROM jsonb_array_elements(cot.entity('t94', 'shops')->'fields') f),
          '["text", "phone", "currency_code", "slug", "color", "money"]', 'the stored definition keeps the type names');
SELECT ok(NOT (cot.entity('t94', 'shops')->'fields'->1 ? 'pattern'), '... and not the options the type sets');
SELECT is(format_type(atttypid, atttypmod), 'numeric(14,2)', 'money: a numeric(14,2) column')
  FROM pg_attribute WHERE attrelid = 'tenant_t94.shops'::regclass AND attname = 'balance';
SELECT is_empty($$SELECT * FROM cot.check('t94')$$, 'cot.check: the CHECKs made for the types match the definitions');
SELECT is(cot_test.error_of($$SELECT cot.create_entity('{"tenant": "t94", "name": "other", "fields": [{"name": "tel", "type": "phone", "pattern": "^1"}]}')$$)->>'detail',
          '/fields/0/pattern: option pattern is set by type phone', 'a field may not set what its type sets');

-- Valid values pass for every writer.
SELECT lives_ok($$INSERT INTO tenant_t94.shops (title, tel, currency, handle, tint, balance)
                  VALUES ('a', '+14155552671', 'USD', 'corner-shop', '#1e90FF', -12.5)$$, 'psql: valid values');
SELECT lives_ok($$COPY tenant_t94.shops (title, tel, handle, tint, balance) FROM PROGRAM 'echo b,+442071838750,b-2,#000000,999999999999.99' WITH (FORMAT csv)$$,
                'COPY: valid values');
SELECT is((SELECT currency FROM tenant_t94.shops WHERE title = 'b'), 'EUR', 'the default of a typed field');

-- Invalid ones fail, each with 23514 naming the field and its rule.
SELECT is(cot_test.error_of($$INSERT INTO tenant_t94.shops (tel) VALUES ('0044 20 7183 8750')$$)->>'sqlstate', '23514', 'phone: not E.164');
SELECT matches(cot_test.error_of($$INSERT INTO tenant_t94.shops (tel) VALUES ('0044 20 7183 8750')$$)->>'message', '"tel"',
               '... the message names the field');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t94.shops (tel) VALUES ('+1234567890123456')$$), '23514', 'phone: 16 digits');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t94.shops (currency) VALUES ('eur')$$), '23514', 'currency_code: lowercase');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t94.shops (currency) VALUES ('EURO')$$), '23514', 'currency_code: four letters');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t94.shops (handle) VALUES ('Hello World')$$), '23514', 'slug: capitals and a space');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t94.shops (handle) VALUES ('a--b')$$), '23514', 'slug: a double hyphen');
SELECT is(cot_test.sqlstate_of(format('INSERT INTO tenant_t94.shops (handle) VALUES (%L)', repeat('a', 201))), '23514', 'slug: over 200 characters');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t94.shops (tint) VALUES ('#12345')$$), '23514', 'color: five digits');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t94.shops (tint) VALUES ('red')$$), '23514', 'color: a name');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t94.shops (balance) VALUES (1000000000000)$$), '22003', 'money: a trillion overflows numeric(14,2)');
SELECT is((SELECT balance FROM tenant_t94.shops WHERE title = 'a'), -12.50, 'money: kept to two decimal places');
SELECT is(cot_test.sqlstate_of($$COPY tenant_t94.shops (tel) FROM PROGRAM 'echo 12345' WITH (FORMAT csv)$$), '23514', 'COPY is held to the type too');
SELECT is(cot_test.sqlstate_of($$UPDATE tenant_t94.shops SET tint = 'blue' WHERE title = 'a'$$), '23514', 'and UPDATE');

-- The generated docs show the type.
SELECT is(cot.record_schema('t94', 'shops')->'properties'->'tel'->>'format', 'phone', 'record schema: format phone');
SELECT is(cot.record_schema('t94', 'shops')->'properties'->'currency'->>'pattern', '^[A-Z]{3}$', 'record schema: the pattern');

-------------------------------------------------------------------------------
-- Evolution between a type and its base
-------------------------------------------------------------------------------
INSERT INTO tenant_t94.shops (title) VALUES ('+15550001'), ('not a phone');
CREATE FUNCTION pg_temp.title_as(ty text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_set(d, '{fields}', (SELECT jsonb_agg(CASE WHEN f->>'name' = 'title' THEN f || jsonb_build_object('type', ty) ELSE f END)
                                   FROM jsonb_array_elements(d->'fields') f))
  FROM cot.entity('t94', 'shops') d $$;
SELECT is(cot_test.error_of(format('SELECT cot.alter_entity(%L)', pg_temp.title_as('phone')))->>'sqlstate', '23514',
          'text -> phone with rows that are no phone numbers: refused, 23514');
SELECT matches(cot_test.error_of(format('SELECT cot.alter_entity(%L)', pg_temp.title_as('phone')))->>'message', '3 rows break',
               '... with the count of rows that break it');
DELETE FROM tenant_t94.shops WHERE title !~ '^\+';
SELECT lives_ok(format('SELECT cot.alter_entity(%L)', pg_temp.title_as('phone')), 'text -> phone once every row is one');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t94.shops (title) VALUES ('x')$$), '23514', '... and it holds from then on');
SELECT lives_ok(format('SELECT cot.alter_entity(%L)', pg_temp.title_as('text')), 'phone -> text');
SELECT lives_ok($$INSERT INTO tenant_t94.shops (title) VALUES ('x')$$, '... drops the check');

-- A type's CHECK dropped by hand is drift.
SET LOCAL cot.drift = 'allow';
ALTER TABLE tenant_t94.shops DROP CONSTRAINT shops_tint_pattern;
SET LOCAL cot.drift = 'refuse';
SELECT is((SELECT jsonb_agg(jsonb_build_array(kind, object, problem)) FROM cot.check('t94')),
          '[["drift", "tenant_t94.shops.shops_tint_pattern", "constraint is missing"]]',
          'cot.check: the CHECK of a color field dropped by hand is missing');

-------------------------------------------------------------------------------
-- A type in use is held still
-------------------------------------------------------------------------------
SELECT is(cot_test.error_of($$SELECT cot.unregister_field_type('phone')$$)->>'detail',
          'fields of type phone: t94.shops.tel', 'unregistering a type in use: 2BP01 naming the fields');
SELECT is(cot_test.sqlstate_of($$SELECT cot.register_field_type('{"name": "phone", "base": "text", "checks": {"pattern": "^\\+"}}')$$), '2BP01',
          'changing its checks while in use: 2BP01');
SELECT lives_ok(format('SELECT cot.register_field_type(%L)', (:'types'::jsonb)->0 || '{"description": "A phone number"}'),
                'changing only its description is allowed');
SELECT lives_ok($$SELECT cot.drop_entity('t94', 'shops')$$, 'the entity dropped');
SELECT is(cot.unregister_field_type('phone'), true, 'an unused type is unregistered');
SELECT is(cot.unregister_field_type('phone'), false, 'unregistering one that is not there: false');

SELECT * FROM finish();
ROLLBACK;
