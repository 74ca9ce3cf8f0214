-- Modules that carry custom field types (docs/modules.md, docs/field-types.md):
-- publishing registers them in the same transaction, again changes nothing,
-- another type of the same name is refused (42710), a module using a type
-- must carry it or depend on a module that does; the standard-types module of
-- modules/ registers its five types and crm 1.2.0, which uses its phone,
-- installs with it and holds psql writers to the type. PostgREST writers are
-- checked by tests/clients/modules.test.mjs.
BEGIN;
SELECT plan(16);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t95')$$, 'a tenant');

CREATE TEMP TABLE m95 (k text PRIMARY KEY, v jsonb);
INSERT INTO m95 VALUES
 ('types', '{"format": "cot.module/1", "name": "t95types", "version": "1.0.0",
   "field_types": [{"name": "t95code", "base": "text", "checks": {"pattern": "^[A-Z]{2}$"}}]}'),
 ('clash', '{"format": "cot.module/1", "name": "t95clash", "version": "1.0.0",
   "field_types": [{"name": "t95code", "base": "text", "checks": {"pattern": "^[A-Z]{3}$"}}]}'),
 ('docs', '{"format": "cot.module/1", "name": "t95docs", "version": "1.0.0",
   "field_types": [{"name": "t95code", "base": "text", "description": "Two capitals", "checks": {"pattern": "^[A-Z]{2}$"}}]}'),
 ('loose', '{"format": "cot.module/1", "name": "t95loose", "version": "1.0.0",
   "entities": [{"name": "places", "fields": [{"name": "code", "type": "t95code"}]}]}'),
 ('uses', '{"format": "cot.module/1", "name": "t95uses", "version": "1.0.0", "depends": {"t95types": "^1"},
   "entities": [{"name": "places", "fields": [{"name": "code", "type": "t95code", "required": true}]}]}');

SELECT is((SELECT cot.publish_module(v) FROM m95 WHERE k = 'types'),
          '{"name": "t95types", "version": "1.0.0", "published": true,
            "field_types": {"carried": ["t95code"], "registered": ["t95code"]}}',
          'publishing a module that carries a type registers it');
SELECT is((SELECT d -> 'checks' FROM jsonb_array_elements(cot.field_types()) d WHERE d ->> 'name' = 't95code'),
          '{"pattern": "^[A-Z]{2}$"}', '... cot.field_types() lists it');
SELECT is((SELECT cot.publish_module(v) -> 'field_types' FROM m95 WHERE k = 'types'),
          '{"carried": ["t95code"], "registered": []}', 'published again: nothing registered anew');
SELECT is((SELECT cot_test.error_of(format('SELECT cot.publish_module(%L)', v)) - 'detail' FROM m95 WHERE k = 'clash'),
          '{"sqlstate": "42710", "message": "module t95clash carries field type t95code, which is already registered with different checks",
            "hint": "give the module''s type another name, or carry the registered definition"}',
          'a module carrying another type of a registered name: 42710');
SELECT is((SELECT count(*) FROM cot.module_versions WHERE name = 't95clash'), 0::bigint, '... and it is not published');
SELECT is((SELECT cot.publish_module(v) -> 'field_types' FROM m95 WHERE k = 'docs'),
          '{"carried": ["t95code"], "registered": []}', 'the same base and checks with other docs: accepted, registry kept');
SELECT is((SELECT cot_test.error_of(format('SELECT cot.publish_module(%L)', v)) ->> 'detail' FROM m95 WHERE k = 'loose'),
          '/entities/0/fields/0/type: field type "t95code" is carried neither by the module nor by a module it depends on',
          'using a type no module it depends on carries: refused');
SELECT lives_ok($$SELECT cot.publish_module(v) FROM m95 WHERE k = 'uses'$$, 'a module depending on the types module publishes');
SELECT is((SELECT jsonb_path_query_array(cot.install_module('t95', 't95uses'), '$.installed[*].module')),
          '["t95types", "t95uses"]', 'installing it installs the types module first (no entities)');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t95.places (code) VALUES ('abc')$$), '23514', 'a bad value is refused to psql');
SELECT lives_ok($$INSERT INTO tenant_t95.places (code) VALUES ('FR')$$, 'a good one is taken');

-- The shipped standard-types module and crm 1.2.0, which uses its phone.
\set st `cat modules/standard-types/standard-types-1.0.0.json`
\set crm `cat modules/crm/crm-1.2.0.json`
SELECT is((SELECT jsonb_array_length(cot.publish_module(:'st'::jsonb) #> '{field_types,carried}')), 5, 'standard-types publishes its five types');
SELECT is((SELECT count(*) FROM jsonb_array_elements(cot.field_types()) d
           WHERE d ->> 'name' IN ('phone', 'currency_code', 'slug', 'color', 'money')), 5::bigint, '... all registered');
SELECT lives_ok(format($$SELECT cot.publish_module(%L::jsonb), cot.install_module('t95', 'crm', '1.2.0', '{"samples": true}')$$, :'crm'),
                'crm 1.2.0 publishes and installs with its samples');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t95.contacts (first_name, last_name, phone_number) VALUES ('A', 'B', '555 0100')$$),
          '23514', 'contacts.phone_number refuses a number not in E.164');

SELECT * FROM finish();
ROLLBACK;
