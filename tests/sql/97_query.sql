-- cot.query: results through the API views as the caller (grants and row
-- security apply), filters, order, keyset and offset pages, embedded
-- relations, counts, errors with their SQLSTATEs, and index use.
BEGIN;
SELECT plan(50);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t97'), cot.create_tenant('t97b')$$, 'two tenants');
SELECT lives_ok($$SELECT cot.create_entities('[
  {"tenant": "t97", "name": "customer", "fields": [{"name": "name", "type": "text", "required": true},
     {"name": "orders", "type": "relation", "kind": "one_to_many", "target": "orders", "inverse": "customer"}],
   "access": {"read": "tenant"}},
  {"tenant": "t97", "name": "orders", "fields": [
     {"name": "title", "type": "text", "required": true},
     {"name": "status", "type": "enum", "values": ["draft", "paid"], "index": true},
     {"name": "total", "type": "decimal", "precision": 10, "scale": 2},
     {"name": "labels", "type": "array", "items": "text"},
     {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customer"},
     {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tag"}],
   "indexes": [{"fields": ["status", "created_at"]}],
   "access": {"read": "tenant"}},
  {"tenant": "t97", "name": "tag", "fields": [{"name": "label", "type": "text"}], "access": {"read": "tenant"}}]')$$, 'a model');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t97b", "name": "orders", "fields": [{"name": "title", "type": "text"}], "access": {"read": "tenant"}}')$$,
                'another tenant with an orders entity');
INSERT INTO tenant_t97.customer (name) VALUES ('Ada'), ('Bob');
INSERT INTO tenant_t97.orders (title, status, total, labels, customer_id)
SELECT 'o' || i, CASE WHEN i % 2 = 0 THEN 'paid' ELSE 'draft' END, CASE WHEN i % 5 = 0 THEN NULL ELSE i * 10 END,
       ARRAY['l' || (i % 3)], (SELECT id FROM tenant_t97.customer WHERE name = CASE WHEN i % 2 = 0 THEN 'Ada' ELSE 'Bob' END)
FROM generate_series(1, 12) AS i;
INSERT INTO tenant_t97.tag (label) VALUES ('red'), ('blue');
INSERT INTO tenant_t97.orders_tags (orders_id, tag_id)
SELECT o.id, t.id FROM tenant_t97.orders o, tenant_t97.tag t WHERE o.title IN ('o2', 'o4') AND (t.label = 'red' OR o.title = 'o2');
INSERT INTO tenant_t97b.orders (title) VALUES ('B secret');

-- As superuser: everything.
SELECT is(cot.query('t97', 'orders', '{"select": ["title"], "where": {"status": "paid", "total": {"gt": 50}}, "order": ["-total"]}')->'data',
          '[{"title": "o12"}, {"title": "o8"}, {"title": "o6"}]', 'filter (bare value = eq, gt), order descending');
SELECT is(cot.query('t97', 'orders', '{"select": ["title"], "where": {"or": [{"total": {"is_null": true}}, {"labels": {"contains": ["l1"]}}]}, "order": ["title"]}')->'data',
          '[{"title": "o1"}, {"title": "o10"}, {"title": "o4"}, {"title": "o5"}, {"title": "o7"}]', 'or, is_null, contains');
SELECT is(cot.query('t97', 'orders', '{"select": ["title"], "where": {"not": {"title": {"in": ["o1", "o2", "o3"]}}, "title": {"like": "o1%"}}, "order": ["title"]}')->'data',
          '[{"title": "o10"}, {"title": "o11"}, {"title": "o12"}]', 'not, in, like');
SELECT is(cot.query('t97', 'orders', '{"select": ["title"], "where": {"total": {"neq": 10}}, "count": true}')->'count', '9',
          'neq leaves out NULLs, as SQL does; count');
SELECT is(cot.query('t97', 'orders', '{"select": ["title", {"customer": ["name"]}, {"tags": ["label"]}], "where": {"title": "o2"}}')->'data',
          '[{"tags": [{"label": "red"}, {"label": "blue"}], "title": "o2", "customer": {"name": "Ada"}}]',
          'embedded: many_to_one as an object, many_to_many as an array');
SELECT is(cot.query('t97', 'customer', '{"select": ["name", {"orders": ["title"]}], "where": {"name": "Bob"}}')->'data'->0->'orders'->0,
          '{"title": "o1"}', 'embedded: one_to_many as an array (by id)');
SELECT is(jsonb_array_length(cot.query('t97', 'orders', '{"select": "*", "limit": 5}')->'data'), 5, 'limit');
SELECT is(cot.query('t97', 'orders', '{"select": ["title"], "order": ["title"], "limit": 2, "offset": 3}')->'data',
          '[{"title": "o12"}, {"title": "o2"}]', 'offset');

-- Related records take their own where, order and limit.
SELECT is(cot.query('t97', 'customer', '{"select": ["name", {"orders": {"select": ["title"], "order": ["-total"], "limit": 2}}],
                                         "where": {"name": "Ada"}}')->'data'->0->'orders',
          '[{"title": "o10"}, {"title": "o12"}]', 'related records: order (NULLs first descending) and limit inside the embed');
SELECT is(cot.query('t97', 'orders', '{"select": ["title", {"tags": {"select": ["label"], "where": {"label": "red"}}}], "where": {"title": "o2"}}')->'data',
          '[{"tags": [{"label": "red"}], "title": "o2"}]', 'related records: where inside the embed (many_to_many)');
SELECT is(cot.query('t97', 'orders', '{"select": ["title", {"customer": {"select": ["name"], "where": {"name": "Bob"}}}], "where": {"title": "o2"}}')->'data',
          '[{"title": "o2", "customer": null}]', 'a single related record that fails its where: null');
SELECT is(cot_test.error_of($$SELECT cot.query('t97', 'orders', '{"select": [{"customer": {"limit": 1}}]}')$$) - 'message' - 'hint',
          '{"sqlstate": "22023", "detail": "at /select/0/customer/limit"}', 'limit on a single related record: 22023');
SELECT is(cot_test.error_of($$SELECT cot.query('t97', 'customer', '{"select": [{"orders": {"where": {"total": {"gt": "x"}}}}]}')$$) - 'message' - 'hint',
          '{"sqlstate": "22P02", "detail": "at /select/0/orders/where/total/gt"}', 'a bad value inside an embed''s where: its place');

-- Keyset: every page, in order, with NULLs in the sort column.
CREATE TEMP TABLE t97_pages AS
WITH RECURSIVE pages(n, page) AS (
    SELECT 1, cot.query('t97', 'orders', '{"select": ["title"], "order": ["-total"], "limit": 5}')
    UNION ALL
    SELECT n + 1, cot.query('t97', 'orders', jsonb_build_object('select', '["title"]'::jsonb, 'order', '["-total"]'::jsonb, 'limit', 5,
                                                               'cursor', page->>'next_cursor'))
    FROM pages WHERE page->>'next_cursor' IS NOT NULL)
SELECT n, page FROM pages;
SELECT is((SELECT count(*)::int FROM t97_pages), 3, 'keyset: 12 rows in pages of 5 make 3 pages');
SELECT is((SELECT array_agg(t->>'title' ORDER BY n, o) FROM t97_pages, jsonb_array_elements(page->'data') WITH ORDINALITY AS x(t, o)),
          (SELECT array_agg(title ORDER BY total DESC NULLS FIRST, id DESC) FROM tenant_t97.orders),
          'keyset: the pages, joined, are the whole ordered result (NULLs first descending)');
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t97', 'orders', jsonb_build_object('order', '["total"]'::jsonb, 'cursor',
             (SELECT page->>'next_cursor' FROM t97_pages WHERE n = 1)))$$), '22023', 'a cursor of another order: 22023');

-- The answer's bytes. cot.query assembles the document from the records'
-- jsonb bytes (engine/src/jsonb_binary.rs): PostgreSQL must read it as the
-- same value, of the same size and text, as jsonb_build_object and jsonb_agg
-- make; past 32 and 64 records (where entries hold offsets), with every type.
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t97", "name": "wide", "fields": [
   {"name": "n", "type": "integer", "required": true}, {"name": "label", "type": "text"},
   {"name": "big", "type": "bigint"}, {"name": "amount", "type": "decimal", "precision": 30, "scale": 6},
   {"name": "ratio", "type": "float"}, {"name": "flag", "type": "boolean"}, {"name": "day", "type": "date"},
   {"name": "clock", "type": "time"}, {"name": "doc", "type": "json"}, {"name": "tags", "type": "array", "items": "text"}],
  "access": {"read": "tenant"}}')$$, 'an entity of every type');
INSERT INTO tenant_t97.wide (n, label, big, amount, ratio, flag, day, clock, doc, tags)
SELECT i, CASE WHEN i % 7 <> 0 THEN 'é✓ "q" \ ' || repeat('x', i) END, i * 10000000000,
       CASE WHEN i % 9 <> 0 THEN i * 1234567.123456 END, CASE WHEN i % 11 <> 0 THEN i / 3.0 END, i % 2 = 0,
       CASE WHEN i % 5 <> 0 THEN date '2026-01-01' + i % 20 END, time '08:00' + (i % 30) * interval '1 minute',
       jsonb_build_object('i', i, 'a', jsonb_build_array(i, NULL, true, 1.5)), ARRAY['t' || i]
FROM generate_series(1, 75) AS i;
CREATE TEMP TABLE t97_wide AS
SELECT q, jsonb_build_object(
         'data', (SELECT jsonb_agg(jsonb_build_object('n', n, 'label', label, 'big', big, 'amount', amount, 'ratio', ratio, 'flag', flag,
                                                      'day', day, 'clock', clock, 'doc', doc, 'tags', tags) ORDER BY n)
                    FROM (SELECT * FROM t97.wide ORDER BY n LIMIT 70) AS w),
         'count', 75, 'next_cursor', q->'next_cursor') AS ref
FROM cot.query('t97', 'wide', '{"select": ["n", "label", "big", "amount", "ratio", "flag", "day", "clock", "doc", "tags"],
                                "order": ["n"], "limit": 70, "count": true}') AS q;
SELECT is(q, ref, 'a 70-record page equals the document jsonb_agg and jsonb_build_object make') FROM t97_wide;
SELECT is(pg_column_size(q), pg_column_size(ref), '... of the same size, byte for byte') FROM t97_wide;
SELECT is(q::text, ref::text, '... and the same text') FROM t97_wide;
SELECT is(jsonb_build_array(q->'data'->33->>'label', q->'data'->64->'doc'->'a'->3, q->'data'->69->'n', jsonb_typeof(q->'count'), q @> '{"count": 75}'),
          jsonb_build_array(ref->'data'->33->>'label', 1.5, 70, 'number', true),
          'paths into it past the 32nd and 64th record, a number, and containment (key search) read it') FROM t97_wide;
SELECT is(cot.query('t97', 'wide', '{"select": ["n"], "where": {"n": {"gt": 1000}}, "count": true}'),
          '{"data": [], "count": 0, "next_cursor": null}', 'with a count, an empty page: data [] and count 0');
SELECT is(cot.query('t97', 'wide', '{"select": ["n"], "offset": 500, "count": true}'),
          '{"data": [], "count": 75, "next_cursor": null}', 'an offset past the end: no records, the count of all');
-- Keyset pages on keys of every sortable kind, NULLs and both directions:
-- joined, the pages are the ordered result.
CREATE FUNCTION pg_temp.walk(ord jsonb) RETURNS jsonb LANGUAGE sql AS $$
  WITH RECURSIVE pages(i, page) AS (
      SELECT 1, cot.query('t97', 'wide', jsonb_build_object('select', '["n"]'::jsonb, 'order', ord, 'limit', 7))
      UNION ALL
      SELECT i + 1, cot.query('t97', 'wide', jsonb_build_object('select', '["n"]'::jsonb, 'order', ord, 'limit', 7, 'cursor', page->>'next_cursor'))
      FROM pages WHERE page->>'next_cursor' IS NOT NULL)
  SELECT jsonb_agg((e->'n')::int ORDER BY i, o) FROM pages, jsonb_array_elements(page->'data') WITH ORDINALITY AS x(e, o)
$$;
SELECT is(pg_temp.walk('["-clock", "day"]'), (SELECT jsonb_agg(n ORDER BY clock DESC, day ASC NULLS LAST, id) FROM t97.wide),
          'keyset on time descending, then a date with NULLs');
SELECT is(pg_temp.walk('["ratio", "-flag", "-amount"]'), (SELECT jsonb_agg(n ORDER BY ratio NULLS LAST, flag DESC, amount DESC NULLS FIRST, id DESC) FROM t97.wide),
          'keyset on a float with NULLs, a boolean, a decimal with NULLs');
SELECT is(pg_temp.walk('["-label", "big"]'), (SELECT jsonb_agg(n ORDER BY label DESC NULLS FIRST, big, id) FROM t97.wide),
          'keyset on text with NULLs and quotes, then a bigint');

-- As the tenant's user, with claims: row security applies.
SET LOCAL ROLE cot_t97_user;
SELECT set_config('request.jwt.claims', '{"role": "cot_t97_user", "tenant": "t97"}', true);
SELECT is(jsonb_array_length(cot.query('t97', 'orders', '{"select": ["title"]}')->'data'), 12, 'the tenant''s user reads its rows');
SELECT is(jsonb_array_length(cot.query(NULL, 'orders', '{"select": ["title"]}')->'data'), 12, 'tenant NULL: the claim''s tenant');
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t97b', 'orders')$$), '42501', 'another tenant: 42501, nothing read');
SELECT set_config('request.jwt.claims', '{"role": "cot_t97_user", "tenant": "t97b"}', true);
SELECT is(jsonb_array_length(cot.query('t97', 'orders', '{"select": ["title"]}')->'data'), 0,
          'a claim for another tenant: the policies show nothing');
SELECT set_config('request.jwt.claims', '', true);
SELECT is(jsonb_array_length(cot.query('t97', 'orders')->'data'), 0, 'no claim: nothing');
SELECT is(cot_test.sqlstate_of($$SELECT cot.explain_query('t97', 'orders')$$), '42501', 'explain_query is for admins');
RESET ROLE;
SET LOCAL ROLE cot_t97_anon;
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t97', 'orders')$$), '42704', 'anon: an entity it may not read (read: tenant) is not in its model');
RESET ROLE;

-- Errors.
SELECT is(cot_test.error_of($$SELECT cot.query('t97', 'orders', '{"where": {"nope": 1}}')$$)->>'hint',
          'its fields: id, title, status, total, labels, customer_id, created_at, updated_at', 'unknown field: the hint lists the fields');
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t97', 'orders', '{"where": {"nope": 1}}')$$), '42703', 'unknown field: 42703');
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t97', 'orders', '{"where": {"total": {"between": 1}}}')$$), '22023', 'unknown operator: 22023');
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t97', 'orders', '{"where": {"labels": {"like": "x"}}}')$$), '22023', 'an operator that does not fit the type: 22023');
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t97', 'nope')$$), '42704', 'unknown entity: 42704');
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t97', 'orders', '{"where": {"total": {"eq": "abc"}}}')$$), '22P02', 'a value that is not a number: 22P02');
SELECT is(cot_test.error_of($$SELECT cot.query('t97', 'orders', '{"where": {"total": {"eq": "abc"}}}')$$) - 'hint',
          '{"sqlstate": "22P02", "message": "invalid input syntax for type numeric: \"abc\"", "detail": "at /where/total/eq"}',
          'a value its type cannot read: PostgreSQL''s error, and where the value is in the query');
SELECT is(cot_test.error_of($$SELECT cot.query('t97', 'wide', '{"where": {"n": {"in": [1, "x"]}}}')$$)->>'detail', 'at /where/n/in/1',
          '... an item of a list');
SELECT is(cot_test.error_of($$SELECT cot.query('t97', 'wide', '{"where": {"n": 99999999999}}')$$) - 'message' - 'hint',
          '{"sqlstate": "22003", "detail": "at /where/n"}', '... out of range, as a bare value');
SELECT is(cot_test.error_of(format($$SELECT cot.query('t97', 'wide', '{"order": ["day"], "cursor": "%s"}')$$,
            translate(encode(convert_to('{"o": "day,id", "k": ["not a day", "00000000-0000-0000-0000-000000000000"]}', 'UTF8'), 'base64'), E'+/=\n', '-_')))
          - 'message' - 'hint',
          '{"sqlstate": "22007", "detail": "at /cursor"}', '... in a cursor');
SELECT is(cot_test.error_of($$SELECT cot.query('t97', 'orders', '{"where": {"title": {"like": "o\\"}}}')$$) - 'message' - 'hint',
          '{"sqlstate": "22025", "detail": ""}', 'a data error of the statement itself (a LIKE pattern ending in its escape) passes untouched');
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t97', 'orders', '{"select": [{"customer": [{"orders": [{"customer": [{"orders": ["title"]}]}]}]}]}')$$), '54000',
          'nesting past 3 levels: 54000');

-- Index use: the plan of the compiled statement.
ANALYZE tenant_t97.orders;
SET LOCAL enable_seqscan = off;
SELECT ok(cot.explain_query('t97', 'orders', '{"where": {"status": "paid"}, "order": ["-created_at"], "limit": 5}')::text ~ '"Index Name": "orders_status_created_at_idx"',
          'filter on status, sort on created_at: the compound index');
SELECT ok(cot.explain_query('t97', 'orders', '{"where": {"status": {"in": ["paid"]}}}')::text ~ '"Index Name": "orders_status_(created_at_)?idx"',
          'in on an indexed field: an index');
SELECT * FROM finish();
ROLLBACK;
