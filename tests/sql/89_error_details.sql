-- No Rust internals reach a client. The test cluster runs with
-- RUST_BACKTRACE=1 (tests/harness/cluster.sh), under which pgrx would put a
-- backtrace into the DETAIL of a PostgreSQL error raised inside a Cot
-- function; PostgREST forwards DETAIL as "details".
BEGIN;
SELECT plan(3);
SET LOCAL client_min_messages = warning;
SELECT cot.create_tenant('t89');
SELECT cot.create_entity('{"tenant": "t89", "name": "vault", "fields": [{"name": "v", "type": "text"}],
  "access": {"read": "tenant", "create": "admin", "update": "admin", "delete": "admin"}}');
CREATE TEMP TABLE t89 AS SELECT NULL::jsonb AS e;
GRANT ALL ON t89 TO PUBLIC;

-- A tenant user filters by an id that is no uuid: the page statement fails
-- inside cot.query with PostgreSQL's own input error.
SET LOCAL ROLE cot_t89_user;
SELECT set_config('request.jwt.claims', '{"role": "cot_t89_user", "tenant": "t89", "sub": "u"}', true);
UPDATE t89 SET e = cot_test.error_of($$SELECT cot.query('t89', 'vault', '{"where": {"id": "not a uuid"}}')$$);
RESET ROLE;
SELECT is((SELECT e->>'sqlstate' FROM t89), '22P02', 'an error raised inside cot.query keeps its SQLSTATE');
SELECT ok((SELECT coalesce(e->>'detail', '') !~ '(backtrace|rust_begin_unwind|pgrx|\.rs:[0-9]|^\s*[0-9]+: )' FROM t89),
          'its DETAIL holds no Rust backtrace');
SELECT ok((SELECT coalesce(e->>'hint', '') !~ '(backtrace|\.rs:[0-9])' FROM t89), 'nor its HINT');

SELECT * FROM finish();
ROLLBACK;
