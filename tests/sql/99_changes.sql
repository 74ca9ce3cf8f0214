-- Record history: what the change log holds for each kind of write (API
-- roles, the superuser, bulk statements, links), who may read a record's
-- history, switching history on and off, retention, and that cot.check and
-- drop_tenant know the log. Reading the log in order across sessions
-- (cot.changes and its watermark) needs committed transactions: that is
-- tests/clients/changes.test.mjs.
BEGIN;
SELECT plan(58);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t99')$$, 'tenant t99');
SELECT lives_ok($$SELECT cot.create_entities('[
  {"tenant": "t99", "name": "tags", "fields": [{"name": "label", "type": "text"}], "access": {"read": "tenant", "create": "tenant"}},
  {"tenant": "t99", "name": "notes", "history": true,
   "fields": [{"name": "title", "type": "text"}, {"name": "body", "type": "text"}, {"name": "n", "type": "integer"}, {"name": "o", "type": "integer"},
              {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tags"}],
   "access": {"read": "owner", "create": "owner", "update": "owner", "delete": "owner"}}]')$$,
  'notes with history, owner rules and a many_to_many; tags without');
SELECT is(cot.entity('t99', 'notes')->'history', 'true'::jsonb, 'the stored definition says history: true');
SELECT is(cot.entity('t99', 'tags')->'history', NULL, '... and a definition without history has no key');
SELECT has_table('tenant_t99', '_changes', 'the tenant''s change log exists');
SELECT is((SELECT array_agg(tgname::text ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'tenant_t99.notes'::regclass AND tgname LIKE 'cot_history%'),
          ARRAY['cot_history_delete', 'cot_history_insert', 'cot_history_update'], 'notes: three history triggers');
SELECT is((SELECT array_agg(tgname::text ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'tenant_t99.notes_tags'::regclass AND tgname LIKE 'cot_history%'),
          ARRAY['cot_history_delete', 'cot_history_insert'], 'its junction: insert and delete');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'tenant_t99.tags'::regclass AND tgname LIKE 'cot_history%'), 0, 'tags: none');
SELECT is_empty($$SELECT * FROM cot.check('t99')$$, 'cot.check: the triggers are what the definitions make');

-- Writes as the API makes them: alice inserts, updates, deletes.
CREATE FUNCTION pg_temp.as_user(sub text, q text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('request.jwt.claims', jsonb_build_object('role', 'cot_t99_user', 'tenant', 't99', 'sub', sub)::text, true);
    SET LOCAL ROLE cot_t99_user;
    EXECUTE q;
    RESET ROLE;
    PERFORM set_config('request.jwt.claims', '', true);
END $$;
SELECT lives_ok($$SELECT pg_temp.as_user('alice', $q$INSERT INTO t99.notes (id, title, body) VALUES ('0199aaaa-0000-7000-8000-000000000001', 'first', 'hello')$q$)$$, 'alice inserts a note');
SELECT lives_ok($$SELECT pg_temp.as_user('alice', $q$UPDATE t99.notes SET title = 'first!' WHERE id = '0199aaaa-0000-7000-8000-000000000001'$q$)$$, '... updates its title');
INSERT INTO tenant_t99.tags (id, label) VALUES ('0199bbbb-0000-7000-8000-000000000001', 'red');
SELECT lives_ok($$SELECT pg_temp.as_user('alice', $q$INSERT INTO t99.notes_tags (notes_id, tags_id) VALUES ('0199aaaa-0000-7000-8000-000000000001', '0199bbbb-0000-7000-8000-000000000001')$q$)$$, '... links a tag');
SELECT lives_ok($$SELECT pg_temp.as_user('alice', $q$DELETE FROM t99.notes WHERE id = '0199aaaa-0000-7000-8000-000000000001'$q$)$$, '... and deletes the note (the link cascades)');

-- The log holds a row per statement, its changes in arrays: one row per change.
CREATE TEMP VIEW log AS
SELECT l.id + e.i - 1 AS id, l.xid, l.at, l.entity, e.record_id, l.op, e.old, e.new, l.actor, l.transition
  FROM tenant_t99._changes AS l,
       ROWS FROM (unnest(l.record_ids), unnest(l.old), unnest(l.new)) WITH ORDINALITY AS e(record_id, old, new, i)
 ORDER BY 1;
SELECT is((SELECT array_agg(entity || ':' || op ORDER BY id) FROM log),
          ARRAY['notes:insert', 'notes:update', 'notes_tags:insert', 'notes:delete', 'notes_tags:delete'],
          'five changes in the order they were made; the cascaded unlink after the delete that caused it');
SELECT is((SELECT count(DISTINCT record_id)::int FROM log), 1, 'every one about the same record (links under the record they start from)');
SELECT is((SELECT new->>'title' FROM log WHERE op = 'insert' AND entity = 'notes'), 'first', 'insert: the whole new row (fields named n and o do not hide it)');
SELECT is((SELECT new->>'owner_id' FROM log WHERE op = 'insert' AND entity = 'notes'), 'alice', '... with the owner the trigger set');
SELECT is((SELECT old IS NULL FROM log WHERE op = 'insert' AND entity = 'notes'), true, '... and no old values');
-- (updated_at is now(), the same all through this test's one transaction.)
SELECT is((SELECT array_agg(k ORDER BY k) FROM log, jsonb_object_keys(new) k WHERE op = 'update'), ARRAY['title'],
          'update: only the fields that changed');
SELECT is((SELECT old->>'title' || ' -> ' || (new->>'title') FROM log WHERE op = 'update'), 'first -> first!', '... old and new values side by side');
SELECT is((SELECT old->>'body' FROM log WHERE op = 'delete' AND entity = 'notes'), 'hello', 'delete: the whole old row');
SELECT is((SELECT new IS NULL FROM log WHERE op = 'delete' AND entity = 'notes'), true, '... and no new values');
SELECT is((SELECT actor FROM log WHERE op = 'update'), '{"sub": "alice", "role": "cot_t99_user"}'::jsonb, 'the actor: sub and role');
SELECT is((SELECT count(DISTINCT xid)::int FROM log), 1, 'one transaction id (this test''s)');

-- Writers outside the API are logged too; a bulk statement logs every row.
INSERT INTO tenant_t99.notes (title) SELECT 'bulk ' || i FROM generate_series(1, 500) i;
SELECT is((SELECT count(*)::int FROM log WHERE op = 'insert' AND new->>'title' LIKE 'bulk %'), 500, 'a 500-row INSERT as the superuser: 500 changes');
SELECT is((SELECT actor->>'role' FROM log WHERE new->>'title' = 'bulk 1'), current_user::text, '... by the session''s role');
UPDATE tenant_t99.notes SET body = 'b' WHERE title LIKE 'bulk %';
SELECT is((SELECT count(*)::int FROM log WHERE op = 'update' AND new->>'body' = 'b'), 500, 'a 500-row UPDATE: 500 changes, paired by id');
SELECT is((SELECT array_agg(cardinality(record_ids) ORDER BY id) FROM tenant_t99._changes WHERE cardinality(record_ids) > 1),
          ARRAY[500, 500], '... each statement one row of the log');
SELECT is((SELECT count(DISTINCT id)::int FROM log WHERE new->>'title' LIKE 'bulk %' OR new->>'body' = 'b'), 1000, '... every change its own id');

-- History of one record, and who may read it.
SELECT lives_ok($$SELECT pg_temp.as_user('bob', $q$INSERT INTO t99.notes (id, title) VALUES ('0199aaaa-0000-7000-8000-000000000002', 'v1')$q$)$$, 'bob inserts a note');
SELECT lives_ok($$SELECT pg_temp.as_user('bob', $q$UPDATE t99.notes SET title = 'v2' WHERE id = '0199aaaa-0000-7000-8000-000000000002'$q$)$$, '... and changes it');
SELECT is((SELECT jsonb_agg(v->'record'->>'title') FROM jsonb_array_elements(cot.history('t99', 'notes', '0199aaaa-0000-7000-8000-000000000002')) v),
          '["v1", "v2"]'::jsonb, 'cot.history: each version with the record as it was');
CREATE FUNCTION pg_temp.history_as(sub text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
    PERFORM set_config('request.jwt.claims', jsonb_build_object('role', 'cot_t99_user', 'tenant', 't99', 'sub', sub)::text, true);
    SET LOCAL ROLE cot_t99_user;
    n := jsonb_array_length(t99.history('notes', '0199aaaa-0000-7000-8000-000000000002'));
    RESET ROLE;
    RETURN n;
END $$;
SELECT is(pg_temp.history_as('bob'), 2, '/rpc/history: bob, its owner, reads both versions');
SELECT is(pg_temp.history_as('alice'), 0, '... alice, who may not read the record, gets none (as for a record that does not exist)');
SET LOCAL ROLE cot_t99_anon;
SELECT is(cot_test.sqlstate_of($$SELECT cot.history('t99', 'notes', '0199aaaa-0000-7000-8000-000000000002')$$), 'ok',
          'anon may call it (the view decides what it sees)');
RESET ROLE;
SELECT is(cot_test.sqlstate_of($$SELECT cot.history('t99', 'nope', '0199aaaa-0000-7000-8000-000000000002')$$), '42704', 'an unknown entity: 42704');

-- Switching history off and on.
SELECT lives_ok($$SELECT cot.alter_entity(cot.entity('t99', 'notes') || '{"history": false}')$$, 'history switched off');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid IN ('tenant_t99.notes'::regclass, 'tenant_t99.notes_tags'::regclass) AND tgname LIKE 'cot_history%'), 0,
          '... the triggers are gone, the junction''s too');
SELECT lives_ok($$SELECT cot.alter_entity(cot.entity('t99', 'tags') || '{"history": true}')$$, 'history switched on for tags');
INSERT INTO tenant_t99.tags (id, label) VALUES ('0199bbbb-0000-7000-8000-000000000002', 'blue');
SELECT is((SELECT new->>'label' FROM log WHERE record_id = '0199bbbb-0000-7000-8000-000000000002'), 'blue',
          'a second table in the same session is logged with its own columns (a kept plan per table)');
SELECT is_empty($$SELECT * FROM cot.check('t99')$$, 'cot.check finds nothing after both changes');

-- Retention, and the tenant taking its log along.
SELECT is(cot.set_history_retention('t99', '1 day')->>'history_retention', '1 day', 'retention set');
-- The oldest six rows: five single changes and the 500-row insert.
UPDATE tenant_t99._changes SET at = at - interval '2 days' WHERE id IN (SELECT id FROM tenant_t99._changes ORDER BY id LIMIT 6);
SELECT is(cot.prune_history('t99', 2), 2::bigint, 'prune_history removes what is older, in batches of log rows (statements)');
SELECT is(cot.prune_history('t99', 1000), 503::bigint, '... and answers the changes removed');
SELECT is(cot.prune_history('t99', 1000), 0::bigint, '... the newer ones stay');
-- A webhook, even a paused one, holds the log back at its cursor: what it
-- has not turned into deliveries yet is kept, whatever its age.
CREATE TEMP TABLE hook AS SELECT (cot.create_webhook('t99', '{"url": "https://hooks.example.com/in", "events": ["*"], "enabled": false}')->>'id')::uuid AS id;
UPDATE cot.webhooks SET position = (SELECT id + 4 FROM tenant_t99._changes ORDER BY id LIMIT 1)
 WHERE id = (SELECT id FROM hook);
UPDATE tenant_t99._changes SET at = at - interval '2 days';
SELECT is(cot.prune_history('t99'), 0::bigint, 'a statement the webhook has read in part is kept whole');
UPDATE cot.webhooks SET position = (SELECT id + cardinality(record_ids) - 1 FROM tenant_t99._changes ORDER BY id LIMIT 1)
 WHERE id = (SELECT id FROM hook);
CREATE TEMP TABLE unread AS SELECT count(*) AS n FROM log
 WHERE id > (SELECT position FROM cot.webhooks WHERE id = (SELECT id FROM hook));
SELECT is(cot.prune_history('t99'), 500::bigint, 'prune_history keeps the changes a disabled webhook has not read: only the 500 it has go');
SELECT is((SELECT count(*) FROM log), (SELECT n FROM unread), '... the rest are still there');
SELECT ok((SELECT n FROM unread) > 0, '... and there are some');
SELECT lives_ok($$SELECT cot.delete_webhook((SELECT id FROM hook))$$, 'the webhook deleted');
SELECT is(cot.prune_history('t99'), (SELECT n FROM unread), '... the rest can go');
-- NULLs where a value is needed: 22023, not pgrx's XX000 (found by sqlsmith).
SELECT throws_ok($$SELECT cot.set_history_retention(NULL, interval '1 day')$$, '22023', 'tenant must not be NULL',
  'set_history_retention: a NULL tenant is 22023');
SELECT throws_ok($$SELECT cot.prune_history(NULL, NULL)$$, '22023', 'batch must not be NULL',
  'prune_history: a NULL batch is 22023');

-- cot.sync_change_seq: after logs were copied in (a tenant moved), the
-- sequence goes past them, never back, and only a superuser moves it.
INSERT INTO tenant_t99.tags (label) VALUES ('copied in');
SELECT setval('cot.change_seq', 1, false);
SELECT cmp_ok(cot.sync_change_seq(), '>=', (SELECT max(id) FROM tenant_t99._changes),
  'sync_change_seq moves the sequence past the highest logged id');
SELECT cmp_ok(nextval('cot.change_seq'), '>', (SELECT max(id + cardinality(record_ids) - 1) FROM tenant_t99._changes),
  '... so the next change id is above every logged change');
SELECT is(cot.sync_change_seq(), (SELECT last_value FROM cot.change_seq), '... and it never moves the sequence back');
SET LOCAL ROLE cot_t99_admin;
SELECT throws_ok($$SELECT cot.sync_change_seq()$$, '42501', NULL, 'sync_change_seq is for superusers');
SELECT throws_ok($$SET cot.change_notify = off$$, '42501', NULL, 'cot.change_notify is for superusers');
RESET ROLE;

SELECT finish();
ROLLBACK;
