-- PostgREST wiring inside the database: authenticators, configuration,
-- db-pre-config, API keys and db-pre-request, exercised the way PostgREST
-- runs a request (the login role, then SET ROLE to the request's role, the
-- request settings, the pre-request function, the query).
BEGIN;
SELECT plan(63);
SET LOCAL client_min_messages = warning;

CREATE ROLE t85_auth LOGIN NOINHERIT;
CREATE ROLE t85_nologin NOLOGIN;

-------------------------------------------------------------------------------
-- Authenticators
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_tenant('t85a')$$, 'a tenant before the authenticator');
SELECT is(cot.add_authenticator('t85_auth')->>'role', 't85_auth', 'add_authenticator returns the role');
SELECT ok(pg_has_role('t85_auth', 'cot_t85a_user', 'MEMBER') AND pg_has_role('t85_auth', 'cot_t85a_anon', 'MEMBER')
          AND pg_has_role('t85_auth', 'cot_t85a_admin', 'MEMBER'), 'an existing tenant''s roles are granted to it');
SELECT ok(pg_has_role('t85_auth', 'cot_anon', 'MEMBER'), 'and cot_anon, the db-anon-role');
SELECT ok(has_function_privilege('t85_auth', 'cot.pre_config()', 'EXECUTE'), 'and EXECUTE on cot.pre_config()');
SELECT lives_ok($$SELECT cot.create_tenant('t85b')$$, 'a tenant after the authenticator');
SELECT ok(pg_has_role('t85_auth', 'cot_t85b_user', 'MEMBER'), 'a new tenant''s roles are granted to registered authenticators');
SELECT ok(NOT pg_has_role('t85_auth', 'cot_t85b_user', 'USAGE'), 'NOINHERIT: membership lets it SET ROLE, not use the privileges');
SELECT is(cot_test.sqlstate_of($$SELECT cot.add_authenticator('t85_nologin')$$), '42704', 'a role that cannot log in: 42704');
SELECT is(cot_test.sqlstate_of($$SELECT cot.add_authenticator('Bad Role')$$), '42602', 'a bad role name: 42602');
SELECT is(cot_test.sqlstate_of($$SELECT cot.add_authenticator('cot_sneaky')$$), '42939', 'a cot_ role: 42939');
SELECT lives_ok($$SELECT cot.add_authenticator('t85_auth')$$, 'adding it twice is harmless');

-------------------------------------------------------------------------------
-- Configuration
-------------------------------------------------------------------------------
SELECT ok(string_to_array(cot.postgrest_config()->>'db-schemas', ',') @> ARRAY['t85a', 't85b'], 'db-schemas lists the tenants'' API schemas');
SELECT is(cot.postgrest_config()->>'db-anon-role', 'cot_anon', 'db-anon-role is cot_anon');
SELECT is(cot.postgrest_config()->>'db-pre-request', 'cot.pre_request', 'db-pre-request');
SELECT is(cot.postgrest_config()->>'db-pre-config', 'cot.pre_config', 'db-pre-config');
SET LOCAL ROLE t85_auth;
SELECT lives_ok($$SELECT cot.pre_config()$$, 'the authenticator can run pre_config');
SELECT ok(string_to_array(current_setting('pgrst.db_schemas'), ',') @> ARRAY['t85a', 't85b'], 'pre_config sets pgrst.db_schemas');
SELECT is(current_setting('pgrst.db_anon_role'), 'cot_anon', 'pre_config sets pgrst.db_anon_role');
SELECT is(cot_test.sqlstate_of($$SELECT cot.postgrest_config()$$), '42501', 'the authenticator cannot call postgrest_config');
SELECT is(cot_test.sqlstate_of($$SELECT * FROM cot.tenants$$), '42501', '... nor read the tenant list');
RESET ROLE;

-------------------------------------------------------------------------------
-- API keys
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t85a", "name": "notes", "fields": [{"name": "body", "type": "text"}],
                  "access": {"read": "public", "create": "tenant", "update": "owner", "delete": "admin"}}')$$, 'an entity');
INSERT INTO t85a.notes (body) VALUES ('seeded');
CREATE TEMP TABLE t85_key AS SELECT cot.create_api_key('t85a', 'user', '{"label": "ci", "sub": "svc-1"}') AS k;
GRANT SELECT ON t85_key TO PUBLIC;  -- read below under the request roles
SELECT matches((SELECT k->>'key' FROM t85_key), '^cot_[0-9a-f]{12}_[0-9a-f]{64}$', 'the key: cot_<prefix>_<secret>');
SELECT is((SELECT count(*)::int FROM cot.api_keys WHERE secret_hash = sha256(convert_to((SELECT k->>'key' FROM t85_key), 'UTF8'))), 1,
          'only the SHA-256 of the key is stored');
SELECT is((SELECT count(*)::int FROM cot.api_keys, t85_key
            WHERE position((k->>'key') IN concat_ws(' ', id, tenant_id, role, prefix, label, sub, encode(secret_hash, 'escape'))) > 0), 0,
          'the secret appears nowhere in the row');
SELECT is((SELECT cot.api_key_claims(k->>'key') FROM t85_key),
          jsonb_build_object('role', 'cot_t85a_user', 'tenant', 't85a', 'sub', 'svc-1', 'key', (SELECT k->>'prefix' FROM t85_key)),
          'a key stands for its tenant role, tenant and sub');
SELECT is(cot.api_key_claims('cot_000000000000_' || repeat('0', 64))->>'reject', 'PT401', 'an unknown key: PT401');
SELECT is(cot.api_key_claims('nonsense')->>'reject', 'PT401', 'a malformed key: PT401');
-- (to another character: 'f' when it is not one already; one key in 16 ends in 'f')
SELECT is((SELECT cot.api_key_claims(overlay(k->>'key' placing CASE WHEN right(k->>'key', 1) = 'f' THEN 'e' ELSE 'f' END
                                             from length(k->>'key'))) FROM t85_key)->>'reject', 'PT401',
          'a key with its last character changed: PT401');

-- A request with the key, as PostgREST runs it: anonymous role, headers, pre-request.
SET LOCAL ROLE t85_auth;
SET LOCAL ROLE cot_anon;
SELECT set_config('request.headers', jsonb_build_object('x-api-key', (SELECT k->>'key' FROM t85_key))::text, true);
SELECT lives_ok($$SELECT cot.pre_request()$$, 'pre_request accepts the key');
SELECT is(current_user::text, 'cot_t85a_user', '... and switches to the key''s role');
SELECT is(cot.claim_sub(), 'svc-1', '... with its claims');
SELECT is((SELECT count(*)::int FROM t85a.notes), 1, 'the key''s role reads the tenant''s rows');
RESET ROLE;
SELECT set_config('request.headers', '', true);
SELECT set_config('request.jwt.claims', '', true);

-- Revoked and expired keys.
SELECT ok(cot.revoke_api_key((SELECT k->>'prefix' FROM t85_key)), 'revoke_api_key by prefix');
SELECT is((SELECT cot.api_key_claims(k->>'key') FROM t85_key)->>'reject', 'PT403', 'a revoked key: PT403');
CREATE TEMP TABLE t85_old AS SELECT cot.create_api_key('t85a', 'admin', '{"expires_at": "2000-01-01T00:00:00Z"}') AS k;
SELECT is((SELECT cot.api_key_claims(k->>'key') FROM t85_old)->>'reject', 'PT403', 'an expired key: PT403');
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_api_key('t85a', 'root')$$), '22023', 'a role that is not a tenant role: 22023');

-- pre_request raises what PostgREST turns into HTTP statuses.
SET LOCAL ROLE t85_auth;
SET LOCAL ROLE cot_anon;
SELECT set_config('request.headers', jsonb_build_object('x-api-key', (SELECT k->>'key' FROM t85_key))::text, true);
SELECT is(cot_test.sqlstate_of($$SELECT cot.pre_request()$$), 'PT403', 'pre_request with a revoked key: PT403 (HTTP 403)');
SELECT set_config('request.headers', '{"x-api-key": "cot_nope"}', true);
SELECT is(cot_test.sqlstate_of($$SELECT cot.pre_request()$$), 'PT401', 'pre_request with a bad key: PT401 (HTTP 401)');
-- Anonymous requests go to the anon role of the tenant whose schema they ask for.
SELECT set_config('request.headers', '{}', true);
SET LOCAL search_path = t85a, public;
SELECT cot.pre_request();
SELECT is(current_user::text, 'cot_t85a_anon', 'an anonymous request for schema t85a runs as cot_t85a_anon');
RESET ROLE;
-- A tenant role's token: the tenant claim must name the role's tenant, and
-- the request's query is planned once per connection (generic plan).
SET LOCAL plan_cache_mode = auto;
SET LOCAL ROLE t85_auth;
SET LOCAL ROLE cot_t85a_user;
SELECT set_config('request.jwt.claims', '{"role": "cot_t85a_user", "tenant": "t85a", "sub": "u1"}', true);
SELECT lives_ok($$SELECT cot.pre_request()$$, 'pre_request accepts a user token of its own tenant');
SELECT is(current_setting('plan_cache_mode'), 'force_generic_plan', '... and sets plan_cache_mode = force_generic_plan for the request');
SELECT set_config('request.jwt.claims', '{"role": "cot_t85a_user", "tenant": "t85b"}', true);
SELECT is(cot_test.sqlstate_of($$SELECT cot.pre_request()$$), 'PT401', 'a token naming another tenant: PT401');
SELECT set_config('request.jwt.claims', '{"role": "cot_t85a_user", "tenant": "t85a_user"}', true);
SELECT is(cot_test.sqlstate_of($$SELECT cot.pre_request()$$), 'PT401', 'a tenant claim that spells the role with another split: PT401');
SELECT set_config('request.jwt.claims', '{"role": "cot_t85a_user"}', true);
SELECT is(cot_test.sqlstate_of($$SELECT cot.pre_request()$$), 'PT401', 'no tenant claim: PT401');
SELECT set_config('request.jwt.claims', '{"role": "cot_t85a_user", "tenant": "t85a"}', true);
SET LOCAL plan_cache_mode = force_custom_plan;
SELECT cot.pre_request();
SELECT is(current_setting('plan_cache_mode'), 'force_custom_plan', 'a plan_cache_mode other than auto is kept');
RESET ROLE;
SET LOCAL plan_cache_mode = auto;
SELECT set_config('request.jwt.claims', '', true);

-------------------------------------------------------------------------------
-- Definition functions for /rpc/: SECURITY INVOKER wrappers in the API schema
-------------------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 't85a'::regnamespace AND p.proname IN
           ('validate_entity', 'plan_entity', 'create_entity', 'create_entities', 'alter_entity', 'drop_entity',
            'entity', 'entities', 'export_schema', 'apply_schema')), 10,
          'the API schema has the ten definition wrappers');
SELECT is((SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 't85a'::regnamespace AND p.prosecdef), 0,
          'none of them is SECURITY DEFINER (those stay outside exposed schemas)');
SELECT is((SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 't85a'::regnamespace
           AND pg_get_userbyid(p.proowner) = 'cot_owner'), 29, 'all owned by cot_owner, with query, history, transition, transitions, openapi, typescript, issue_token, the six webhook ones and the six module ones');
SELECT ok(has_function_privilege('cot_t85a_user', 't85a.openapi(jsonb)', 'EXECUTE')
          AND has_function_privilege('cot_t85a_admin', 't85a.typescript()', 'EXECUTE')
          AND NOT has_function_privilege('cot_t85a_anon', 't85a.openapi(jsonb)', 'EXECUTE')
          AND NOT has_function_privilege('cot_t85b_user', 't85a.typescript()', 'EXECUTE'),
          'openapi and typescript: for the tenant''s users and admins, not anon nor another tenant');
SELECT ok(has_function_privilege('cot_t85a_admin', 't85a.create_entity(jsonb)', 'EXECUTE'), 'the admin role may execute them');
SELECT ok(NOT has_function_privilege('cot_t85a_user', 't85a.create_entity(jsonb)', 'EXECUTE')
          AND NOT has_function_privilege('cot_t85a_anon', 't85a.entities()', 'EXECUTE')
          AND NOT has_function_privilege('cot_t85b_admin', 't85a.drop_entity(text, jsonb)', 'EXECUTE')
          AND NOT has_function_privilege('public', 't85a.entity(text)', 'EXECUTE'),
          'users, anon, another tenant''s admin and PUBLIC may not');
SET LOCAL ROLE cot_t85a_admin;
SELECT is(t85a.create_entity('{"name": "rpc_note", "fields": [{"name": "body", "type": "text"}]}')->>'tenant', 't85a',
          'the wrapper fills in its tenant');
SELECT ok((SELECT array_agg(name) FROM t85a.entities()) @> ARRAY['rpc_note'], 'entities() lists it');
SELECT is(t85a.create_entities('[{"name": "rpc_a"}, {"name": "rpc_b"}]')->1->>'tenant', 't85a', 'create_entities fills in each tenant');
SELECT is(cot_test.sqlstate_of($$SELECT t85a.create_entity('{"tenant": "t85b", "name": "planted"}')$$), '42501',
          'a definition naming another tenant is refused for this admin');
SELECT is(jsonb_array_length(t85a.validate_entity('{"name": "x", "fields": [{"name": "a", "type": "nope"}]}')), 1,
          'validate_entity through the wrapper');
SELECT lives_ok($$SELECT t85a.drop_entity('rpc_b')$$, 'drop_entity through the wrapper');
RESET ROLE;
SET LOCAL ROLE cot_t85a_user;
SELECT is(cot_test.sqlstate_of($$SELECT t85a.entities()$$), '42501', 'the user role gets 42501');
RESET ROLE;

-- query: the QueryBuilder over /rpc/, for the tenant's three roles, reading
-- as the caller.
SELECT ok(has_function_privilege('cot_t85a_anon', 't85a.query(text, jsonb)', 'EXECUTE')
          AND has_function_privilege('cot_t85a_user', 't85a.query(text, jsonb)', 'EXECUTE')
          AND has_function_privilege('cot_t85a_admin', 't85a.query(text, jsonb)', 'EXECUTE'),
          'query is executable by the tenant''s anon, user and admin roles');
SELECT ok(NOT has_function_privilege('cot_t85b_user', 't85a.query(text, jsonb)', 'EXECUTE')
          AND NOT has_function_privilege('public', 't85a.query(text, jsonb)', 'EXECUTE'),
          '... not by another tenant''s roles nor PUBLIC');
INSERT INTO tenant_t85a.rpc_note (body) VALUES ('hello');
SET LOCAL ROLE cot_t85a_admin;
SELECT set_config('request.jwt.claims', '{"role": "cot_t85a_admin", "tenant": "t85a"}', true);
SELECT is(t85a.query('rpc_note', '{"select": ["body"]}'), '{"data": [{"body": "hello"}], "count": null, "next_cursor": null}',
          'the admin reads through query, with the tenant filled in');
RESET ROLE;
SET LOCAL ROLE cot_t85a_user;
SELECT set_config('request.jwt.claims', '{"role": "cot_t85a_user", "tenant": "t85a"}', true);
SELECT is(cot_test.sqlstate_of($$SELECT t85a.query('rpc_note')$$), '42704',
          '... the user may call query, but an entity its role may not read (read: admin) is not in its model');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
