-- cot.query's bounds (docs/query.md, "Limits"; SECURITY.md, "anonymous work
-- not bounded"): as the anonymous role of a public entity that relates to
-- itself, every shape the caller controls past its bound is 54000 with the
-- pointer in DETAIL, before anything is planned; within the bounds queries
-- answer as before; to-many embeds hold 100 records unless told; JIT stays
-- off for the statement and the caller's jit setting is left alone.
-- (tests/clients/query_bounds.test.mjs replays the same attacks with timings,
-- through PostgREST, and measures the kept plans' memory.)
BEGIN;
SELECT plan(29);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t98')$$, 'a tenant');
SELECT lives_ok($$SELECT cot.create_entities('[
  {"tenant": "t98", "name": "notes", "access": {"read": "public"}, "fields": [
     {"name": "body", "type": "text"},
     {"name": "parent", "type": "relation", "kind": "many_to_one", "target": "notes"},
     {"name": "children", "type": "relation", "kind": "one_to_many", "target": "notes", "inverse": "parent"},
     {"name": "links", "type": "relation", "kind": "many_to_many", "target": "notes"}]},
  {"tenant": "t98", "name": "hub", "access": {"read": "public"}, "fields": [
     {"name": "r1", "type": "relation", "kind": "many_to_one", "target": "notes"},
     {"name": "r2", "type": "relation", "kind": "many_to_one", "target": "notes"},
     {"name": "r3", "type": "relation", "kind": "many_to_one", "target": "notes"},
     {"name": "r4", "type": "relation", "kind": "many_to_one", "target": "notes"},
     {"name": "r5", "type": "relation", "kind": "many_to_one", "target": "notes"},
     {"name": "r6", "type": "relation", "kind": "many_to_one", "target": "notes"},
     {"name": "r7", "type": "relation", "kind": "many_to_one", "target": "notes"},
     {"name": "r8", "type": "relation", "kind": "many_to_one", "target": "notes"},
     {"name": "r9", "type": "relation", "kind": "many_to_one", "target": "notes"}]}]')$$,
  'a public entity related to itself three ways, and one with nine relations to it');
-- 200 notes; note 1 is the parent of 120 others; each note links to the next 20.
INSERT INTO tenant_t98.notes (body) SELECT 'n' || i FROM generate_series(1, 200) AS i;
UPDATE tenant_t98.notes SET parent_id = (SELECT id FROM tenant_t98.notes WHERE body = 'n1')
 WHERE substr(body, 2)::int BETWEEN 2 AND 121;
INSERT INTO tenant_t98.notes_links (notes_id, links_id)
SELECT a.id, b.id FROM tenant_t98.notes a JOIN tenant_t98.notes b
    ON (substr(b.body, 2)::int - substr(a.body, 2)::int + 200) % 200 BETWEEN 1 AND 20;
INSERT INTO tenant_t98.hub DEFAULT VALUES;

SET LOCAL ROLE cot_t98_anon;
SELECT set_config('request.jwt.claims', '{"role": "cot_t98_anon", "tenant": "t98"}', true);
SELECT is(jsonb_array_length(cot.query('t98', 'notes', '{"select": ["body"], "limit": 5}')->'data'), 5, 'anon reads the public entity');

-- The attacks.
SELECT is(cot_test.error_of($$SELECT cot.query('t98', 'notes', '{"select": ["body", {"links": ["body", {"links": ["body", {"links": ["body"]}]}]}]}')$$) - 'hint',
          '{"sqlstate": "54000", "message": "the query can return up to 101010100 records (the page and its related records), more than the 100000 accepted", "detail": "at /select/1/links/1/links"}',
          'a to-many embed nested three deep: 54000, the records it could return, where the bound was passed');
SELECT is(cot_test.error_of(format($$SELECT cot.query('t98', 'notes', %L)$$,
            jsonb_build_object('select', (SELECT jsonb_agg('{"children": "*"}'::jsonb) FROM generate_series(1, 600))))) - 'hint',
          '{"sqlstate": "54000", "message": "relation \"children\" is embedded twice in one select", "detail": "at /select/1/children"}',
          'one embed repeated 600 times: 54000 at the first repeat');
SELECT is(cot_test.error_of($$SELECT cot.query('t98', 'notes', '{"select": [{"parent": ["body", {"links": "*"}, {"links": {"limit": 1}}]}]}')$$)->>'detail',
          'at /select/0/parent/2/links', '... a repeat inside an embed, written another way');

-- Each bound, just within and one past.
SELECT is(jsonb_array_length(cot.query('t98', 'hub', '{"select": [{"r1": ["body"]}, {"r2": ["body"]}, {"r3": ["body"]}, {"r4": ["body"]},
                                                       {"r5": ["body"]}, {"r6": ["body"]}, {"r7": ["body"]}, {"r8": ["body"]}]}')->'data'), 1,
          '8 embeds in one select');
SELECT is(cot_test.error_of($$SELECT cot.query('t98', 'hub', '{"select": [{"r1": ["body"]}, {"r2": ["body"]}, {"r3": ["body"]}, {"r4": ["body"]},
                                                 {"r5": ["body"]}, {"r6": ["body"]}, {"r7": ["body"]}, {"r8": ["body"]}, {"r9": ["body"]}]}')$$) - 'hint',
          '{"sqlstate": "54000", "message": "a select holds at most 8 embedded relations", "detail": "at /select/8/r9"}', '9: 54000');
CREATE TEMP TABLE t98_r AS SELECT jsonb_build_object('r' || i, '["body", {"parent": ["body"]}, {"children": {"limit": 1}}, {"links": {"limit": 1}}]'::jsonb) AS r, i
FROM generate_series(1, 6) AS i;
SELECT is(jsonb_array_length(cot.query('t98', 'hub', jsonb_build_object('select', (SELECT jsonb_agg(r ORDER BY i) FROM t98_r WHERE i <= 5)))->'data'), 1,
          '20 embeds in all');
SELECT is(cot_test.error_of(format($$SELECT cot.query('t98', 'hub', %L)$$, jsonb_build_object('select', (SELECT jsonb_agg(r ORDER BY i) FROM t98_r)))) - 'hint',
          '{"sqlstate": "54000", "message": "a query holds at most 20 embedded relations in all", "detail": "at /select/5/r6"}', '24: 54000 at the 21st');
SELECT is(jsonb_array_length(cot.query('t98', 'notes', '{"limit": 1000, "select": ["body", {"links": {"select": ["body"], "limit": 99}}]}')->'data'), 200,
          '1,000 + 1,000 × 99 records: 100,000, accepted');
SELECT is(cot_test.error_of($$SELECT cot.query('t98', 'notes', '{"limit": 1000, "select": ["body", {"links": {"select": ["body"], "limit": 100}}]}')$$)->>'detail',
          'at /select/1/links', '101,000: 54000');
SELECT is(jsonb_array_length(cot.query('t98', 'notes', '{"limit": 10, "select": ["body", {"links": {"limit": 10, "select": ["body",
             {"links": {"limit": 10, "select": ["body", {"links": {"limit": 10, "select": ["body"]}}]}}]}}]}')->'data'->0->'links'->0->'links'->0->'links'), 10,
          'three to-many levels with small limits are answered');
SELECT is(cot_test.error_of(format($$SELECT cot.query('t98', 'notes', %L)$$,
            jsonb_build_object('where', jsonb_build_object('or', (SELECT jsonb_agg(jsonb_build_object('body', 'v' || i)) FROM generate_series(1, 257) AS i))))) - 'hint',
          '{"sqlstate": "54000", "message": "the query has 257 values, more than the 256 accepted", "detail": "at /where/or/256/body"}',
          '257 values: 54000 at the 257th');
SELECT is(jsonb_array_length(cot.query('t98', 'notes', jsonb_build_object('where', jsonb_build_object('or',
            (SELECT jsonb_agg(jsonb_build_object('body', 'n' || i)) FROM generate_series(1, 256) AS i))))->'data'), 100, '256 values: answered');
-- The widest entity a definition allows (500 fields, names of 63 bytes):
-- all its fields are accepted; with its parent's too the statement is past
-- 128 KiB.
RESET ROLE;
SELECT lives_ok(format($$SELECT cot.create_entity(%L)$$, jsonb_build_object('tenant', 't98', 'name', 'wide', 'access', '{"read": "public"}'::jsonb,
         'fields', (SELECT jsonb_agg(jsonb_build_object('name', 'f' || lpad(i::text, 3, '0') || repeat('x', 59), 'type', 'text') ORDER BY i) FROM generate_series(1, 499) AS i)
                   || '[{"name": "parent", "type": "relation", "kind": "many_to_one", "target": "wide"}]'::jsonb)),
         'the widest entity');
INSERT INTO tenant_t98.wide DEFAULT VALUES;
SET LOCAL ROLE cot_t98_anon;
SELECT is((SELECT count(*)::int FROM jsonb_object_keys(cot.query('t98', 'wide')->'data'->0)), 503, 'all its fields: answered');
SELECT is(cot_test.error_of($$SELECT cot.query('t98', 'wide', '{"select": ["*", {"parent": "*"}]}')$$) - 'hint' - 'message',
          '{"sqlstate": "54000", "detail": "at /"}', 'with its parent''s: a statement over 128 KiB, 54000');
SELECT matches(cot_test.error_of($$SELECT cot.query('t98', 'wide', '{"select": ["*", {"parent": "*"}]}')$$)->>'message',
          '^the query compiles to a statement of \d+ bytes, more than the 131072 accepted$', '... naming its size and the bound');
SELECT isnt(cot_test.error_of($$SELECT cot.query('t98', 'notes', '{"select": [{"links": ["body", {"links": ["body", {"links": ["body"]}]}]}]}')$$)->>'hint', NULL,
          'a hint says how to fit');

-- To-many embeds hold 100 records unless told.
SELECT is(jsonb_array_length(cot.query('t98', 'notes', '{"select": [{"children": ["body"]}], "where": {"body": "n1"}}')->'data'->0->'children'), 100,
          'a to-many embed without a limit: 100 of the 120');
SELECT is(jsonb_array_length(cot.query('t98', 'notes', '{"select": [{"children": {"select": ["body"], "limit": 1000}}], "where": {"body": "n1"}, "limit": 1}')->'data'->0->'children'), 120,
          'with a limit: all 120');
SELECT is(cot.query('t98', 'notes', '{"select": [{"children": {"select": ["body"], "order": "-body"}}], "where": {"body": "n1"}}')->'data'->0->'children'->0,
          '{"body": "n99"}', 'the default limit keeps the embed''s order');
SELECT is(cot.query('t98', 'notes', '{"select": ["*", "body", "*"], "where": {"body": "n2"}}')->'data'->0 ?& ARRAY['id', 'body', 'parent_id', 'created_at', 'updated_at'],
          true, 'a field named again is there once');

-- JIT stays off for the statement; the caller's setting is left as it was,
-- after an error too.
RESET ROLE;
SET LOCAL jit = on;
SET LOCAL jit_above_cost = 0;
SELECT ok(NOT (cot.explain_query('t98', 'notes', '{"select": ["body", {"links": ["body"]}], "where": {"body": {"like": "n%"}}}', true)->'plan'->0 ? 'JIT'),
          'EXPLAIN ANALYZE of the statement with jit_above_cost = 0: no JIT');
SET LOCAL ROLE cot_t98_anon;
SELECT is(jsonb_array_length(cot.query('t98', 'notes', '{"select": ["body"], "where": {"body": {"like": "n1%"}}, "limit": 3}')->'data'), 3, 'a query with jit on');
SELECT is(current_setting('jit'), 'on', 'jit as the caller set it, after the query');
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t98', 'notes', '{"where": {"parent_id": "not a uuid"}}')$$), '22P02', 'an error while the statement runs');
SELECT is(current_setting('jit'), 'on', 'jit as the caller set it, after the error');

SELECT * FROM finish();
ROLLBACK;
