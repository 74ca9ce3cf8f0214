-- The change log is written without the executor (src/change_append.rs):
-- the heap row and each index's entry as an INSERT makes them (checked with
-- amcheck and through the indexes), the columns an INSERT's defaults filled,
-- an update's changed fields compared as jsonb compares them, the primary
-- key's unique check, NOT NULL, and what the writer refuses rather than
-- skips (triggers, CHECKs, expression indexes on the log).
BEGIN;
SELECT plan(23);
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS amcheck;

SELECT lives_ok($$SELECT cot.create_tenant('t98')$$, 'tenant t98');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t98", "name": "items", "history": true,
  "fields": [{"name": "title", "type": "text"}, {"name": "doc", "type": "json"}, {"name": "price", "type": "float"}]}')$$,
  'items with history');

INSERT INTO tenant_t98.items (id, title, doc, price) VALUES
  ('0199cccc-0000-7000-8000-000000000001', 'a', '{"n": 1.0, "l": [1, 2]}', 1.5),
  ('0199cccc-0000-7000-8000-000000000002', 'b', '{"n": 2}', 2),
  ('0199cccc-0000-7000-8000-000000000003', 'c', NULL, NULL);
SELECT is((SELECT record_ids FROM tenant_t98._changes WHERE op = 'insert'),
          ARRAY['0199cccc-0000-7000-8000-000000000001', '0199cccc-0000-7000-8000-000000000002',
                '0199cccc-0000-7000-8000-000000000003']::uuid[],
          'a 3-row insert: one log row, the records in the order they were written');
SELECT is((SELECT new FROM tenant_t98._changes WHERE op = 'insert'),
          (SELECT array_agg(to_jsonb(i) ORDER BY i.id) FROM tenant_t98.items AS i),
          '... each new value to_jsonb of the row');
SELECT is((SELECT xid FROM tenant_t98._changes WHERE op = 'insert'), pg_current_xact_id(), '... xid: the writing transaction');
SELECT ok((SELECT at BETWEEN transaction_timestamp() AND clock_timestamp() FROM tenant_t98._changes WHERE op = 'insert'),
          '... at: the statement''s time');
SELECT is((SELECT entity || ' ' || (actor->>'role') FROM tenant_t98._changes WHERE op = 'insert'), 'items ' || current_user,
          '... entity and actor');

-- An update: the fields whose values differ, compared as jsonb's = compares
-- them (1.0 = 1.00 in a json value is no change).
UPDATE tenant_t98.items SET title = 'a2', doc = '{"n": 1.00, "l": [1, 2]}', price = 1.5
 WHERE id = '0199cccc-0000-7000-8000-000000000001';
SELECT is((SELECT old[1] || new[1] FROM tenant_t98._changes WHERE op = 'update'),
          '{"title": "a2"}'::jsonb, 'update: only the field that changed (an equal json value and price are not)');
SELECT is((SELECT old[1] FROM tenant_t98._changes WHERE op = 'update'), '{"title": "a"}'::jsonb, '... with its old value');
UPDATE tenant_t98.items SET doc = '{"n": 1, "l": [2, 1]}', price = NULL
 WHERE id = '0199cccc-0000-7000-8000-000000000001';
SELECT is((SELECT new[1] FROM tenant_t98._changes WHERE op = 'update' ORDER BY id DESC LIMIT 1),
          '{"doc": {"n": 1, "l": [2, 1]}, "price": null}'::jsonb, 'a nested value that differs, and a value that became null');
UPDATE tenant_t98.items SET title = title WHERE id = '0199cccc-0000-7000-8000-000000000002';
SELECT is((SELECT ARRAY[old[1] IS NULL, new[1] IS NULL] FROM tenant_t98._changes WHERE op = 'update' ORDER BY id DESC LIMIT 1),
          ARRAY[true, true], 'an update that changed nothing: NULL old and new');
DELETE FROM tenant_t98.items WHERE id = '0199cccc-0000-7000-8000-000000000003';
SELECT is((SELECT old[1]->>'title' FROM tenant_t98._changes WHERE op = 'delete'), 'c', 'delete: the whole old row');

-- The indexes hold every row: the primary key (amcheck, every heap row
-- looked up), and the GIN index on record_ids, read alone.
SELECT lives_ok($$SELECT bt_index_check('tenant_t98._changes_pkey', true)$$,
                'amcheck: the primary key has an entry for every log row');
SET LOCAL enable_seqscan = off;
SELECT is((SELECT count(*)::int FROM tenant_t98._changes WHERE record_ids @> ARRAY['0199cccc-0000-7000-8000-000000000001'::uuid]),
          3, 'the GIN index finds a record''s three log rows');
RESET enable_seqscan;

-- The primary key's unique check: the sequence moved back gives an id the
-- log holds.
CREATE TEMP TABLE seq AS SELECT last_value FROM cot.change_seq;
SELECT setval('cot.change_seq', (SELECT max(id) FROM tenant_t98._changes) - 4096);
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t98.items (title) VALUES ('dup')$$), '23505',
          'a log id that is taken: 23505 (the primary key''s unique check)');
SELECT setval('cot.change_seq', (SELECT last_value FROM seq));

-- NOT NULL, and what the writer does not do: refused, never skipped (the
-- log changed by hand, which the drift guard lets a superuser do).
SET LOCAL cot.drift = 'allow';
ALTER TABLE tenant_t98._changes ADD COLUMN extra integer NOT NULL DEFAULT 0;
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t98.items (title) VALUES ('x')$$), '23502',
          'a NOT NULL column the writer does not fill: 23502');
ALTER TABLE tenant_t98._changes DROP COLUMN extra;
SELECT lives_ok($$INSERT INTO tenant_t98.items (title) VALUES ('after a dropped column')$$, '... dropped again, writes go on');
CREATE FUNCTION pg_temp.nothing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t AFTER INSERT ON tenant_t98._changes FOR EACH ROW EXECUTE FUNCTION pg_temp.nothing();
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t98.items (title) VALUES ('x')$$), '55000', 'a trigger on the log: 55000');
DROP TRIGGER t ON tenant_t98._changes;
ALTER TABLE tenant_t98._changes ADD CONSTRAINT c CHECK (op <> '');
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t98.items (title) VALUES ('x')$$), '55000', 'a CHECK on the log: 55000');
ALTER TABLE tenant_t98._changes DROP CONSTRAINT c;
CREATE INDEX e ON tenant_t98._changes ((lower(entity)));
SELECT is(cot_test.sqlstate_of($$INSERT INTO tenant_t98.items (title) VALUES ('x')$$), '55000', 'an expression index on the log: 55000');
DROP INDEX tenant_t98.e;

-- cot.log_transition, the workflow triggers' writer: not for PUBLIC.
SELECT ok(NOT has_function_privilege('cot_t98_user', 'cot.log_transition(text, text, uuid, jsonb, jsonb, jsonb)', 'EXECUTE'),
          'cot.log_transition: not executable by tenant roles');
SELECT lives_ok($$SELECT cot.create_tenant('t97')$$, 'tenant t97, without a log');
SELECT is(cot_test.sqlstate_of($$SELECT cot.log_transition('t97', 'x', gen_random_uuid(), '{}', '{}', '{}')$$), '55000',
          'a tenant without a log: 55000');

SELECT finish();
ROLLBACK;
