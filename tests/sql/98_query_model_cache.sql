-- cot.query's per-session cache of tenant models is bounded by
-- cot.query_model_cache (docs/scale.md): past it the least recently used
-- model is dropped and read again (cot.query_model) when next needed.
-- The reads of the model are counted by pg_stat_xact_user_functions.
BEGIN;
SELECT plan(6);
SET LOCAL client_min_messages = warning;
SET LOCAL track_functions = 'all';

SELECT lives_ok($$SELECT cot.create_tenant(t), cot.create_entity(jsonb_build_object('tenant', t, 'name', 'items',
    'access', '{"read": "public"}'::jsonb, 'fields', '[{"name": "label", "type": "text"}]'::jsonb))
  FROM unnest(ARRAY['t98a', 't98b', 't98c']) AS t$$, 'three tenants of one entity');

CREATE FUNCTION pg_temp.model_reads() RETURNS bigint LANGUAGE sql AS $$
  SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions
   WHERE schemaname = 'cot' AND funcname = 'query_model' $$;
CREATE FUNCTION pg_temp.ask(tenants text[]) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(cot.query(t, 'items', '{"limit": 1}')) FROM unnest(tenants) WITH ORDINALITY AS u(t, o) $$;

SELECT is(current_setting('cot.query_model_cache'), '100', 'the cache holds 100 models unless told');
SET LOCAL cot.query_model_cache = 2;
SELECT pg_temp.ask(ARRAY['t98a', 't98b', 't98a']);
SELECT is(pg_temp.model_reads(), 2::bigint, 'a, b, a again: two reads, the second a from the cache');
SELECT pg_temp.ask(ARRAY['t98c', 't98a', 't98b']);
SELECT is(pg_temp.model_reads(), 4::bigint, 'c drops b, the least recently used: a is kept, b is read again');
SET LOCAL cot.query_model_cache = 100;
SELECT pg_temp.ask(ARRAY['t98c', 't98a', 't98b', 't98c']);
SELECT is(pg_temp.model_reads(), 5::bigint, 'with room for 100: c read once more, then everything from the cache');
SELECT throws_ok($$SET cot.query_model_cache = 0$$, '22023', NULL, 'at least one model is kept');

SELECT * FROM finish();
ROLLBACK;
