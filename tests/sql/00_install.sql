-- What CREATE EXTENSION cot installs: its schema, its catalogue tables and the
-- JSON Schema that definitions are checked against. Everything else builds on
-- these, so when this file fails, read it first.
BEGIN;
SELECT plan(8);

SELECT has_schema('cot', 'schema cot exists');

SELECT has_table('cot', 'tenants', 'catalogue table cot.tenants exists');
SELECT has_table('cot', 'entities', 'catalogue table cot.entities exists');
SELECT has_table('cot', 'fields', 'catalogue table cot.fields exists');
SELECT has_table('cot', 'relationships', 'catalogue table cot.relationships exists');
SELECT has_table('cot', 'migrations', 'ledger table cot.migrations exists');

SELECT is(jsonb_typeof(cot.definition_schema()), 'object',
          'cot.definition_schema() returns a JSON object');

SELECT has_function('cot', 'create_entity', ARRAY['jsonb'],
                    'cot.create_entity(jsonb) exists');

SELECT * FROM finish();
ROLLBACK;
