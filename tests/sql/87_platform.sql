-- The platform role (cot_platform): it provisions tenants, API keys and
-- tokens without being a superuser, and reaches no tenant's data. The
-- allow/deny matrix for it and for a tenant admin, the tokens it mints
-- (claims and signature, checked with pgcrypto's HMAC), and its HTTP wrappers
-- in schema cot_platform.
BEGIN;
SELECT plan(33);
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE ROLE t87_platform LOGIN;   -- a sign-up service's login, using the platform role's grants
GRANT cot_platform TO t87_platform;
CREATE ROLE t87_nobody LOGIN;

-------------------------------------------------------------------------------
-- The role itself
-------------------------------------------------------------------------------
SELECT ok((SELECT NOT rolcanlogin AND NOT rolsuper AND NOT rolbypassrls AND NOT rolcreaterole AND NOT rolcreatedb
           FROM pg_roles WHERE rolname = 'cot_platform'), 'cot_platform: NOLOGIN, no superuser, no BYPASSRLS, no CREATEROLE');
SELECT lives_ok($$SELECT cot.create_tenant('t87a')$$, 'a tenant made by the superuser');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t87a", "name": "secrets",
  "fields": [{"name": "body", "type": "text"}],
  "access": {"read": "tenant", "create": "tenant", "update": "tenant", "delete": "tenant"}}')$$, 'with an entity');
INSERT INTO tenant_t87a.secrets (body) VALUES ('tenant data');
SELECT is(cot_test.sqlstate_of($$SELECT cot.issue_token('t87a', 'user')$$), '55000', 'no secret yet: 55000');
SELECT is(cot_test.sqlstate_of($$SELECT cot.set_jwt_secret('short')$$), '22023', 'a secret under 32 bytes: 22023');
SELECT lives_ok($$SELECT cot.set_jwt_secret('t87-secret-of-at-least-thirty-two-bytes')$$, 'the superuser stores the secret');

-------------------------------------------------------------------------------
-- What the platform may do
-------------------------------------------------------------------------------
SET LOCAL ROLE t87_platform;
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_tenant('t87b', '{"name": "Signed up"}')$$), 'ok', 'platform: create_tenant');
SELECT is((SELECT name FROM cot.tenants() WHERE slug = 't87b'), 'Signed up', 'platform: tenants()');
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_api_key('t87b', 'admin', '{"label": "first admin"}')$$), 'ok',
          'platform: create_api_key');
SELECT is(cot_test.sqlstate_of($$SELECT cot.revoke_api_key((SELECT prefix FROM cot.api_keys LIMIT 1))$$), '42501',
          'platform: cannot read the keys table itself');
SELECT is(cot_test.sqlstate_of($$SELECT cot.issue_token('t87b', 'admin', 'founder')$$), 'ok', 'platform: issue_token');
SELECT is(cot_test.sqlstate_of($$SELECT cot.issue_token(NULL, 'platform')$$), 'ok', 'platform: a platform token');
SELECT is(cot_test.sqlstate_of($$SELECT cot.drop_tenant('t87b', true)$$), 'ok', 'platform: drop_tenant');

-- ... and what it may not: define entities, read or write tenant data, wire
-- PostgREST, set the secret.
SELECT is(cot_test.sqlstate_of($$SELECT * FROM tenant_t87a.secrets$$), '42501', 'platform: no tenant table');
SELECT is(cot_test.sqlstate_of($$SELECT * FROM t87a.secrets$$), '42501', 'platform: no tenant view');
SELECT is(cot_test.sqlstate_of($$SELECT cot.entities('t87a')$$), '42501', 'platform: no entity definitions');
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_entity('{"tenant": "t87a", "name": "x", "fields": []}')$$), '42501',
          'platform: no create_entity');
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t87a', 'secrets', '{}')$$), '42501', 'platform: no cot.query');
SELECT is(cot_test.sqlstate_of($$SELECT cot.add_authenticator('t87_nobody')$$), '42501', 'platform: no add_authenticator');
SELECT is(cot_test.sqlstate_of($$SELECT cot.set_jwt_secret('another-secret-of-at-least-thirty-two')$$), '42501',
          'platform: no set_jwt_secret');
SELECT is(cot_test.sqlstate_of($$SELECT * FROM cot.jwt_secret$$), '42501', 'platform: cannot read the secret');
SELECT is(cot_test.sqlstate_of($$SELECT cot.upgrade_tenant('t87a')$$), '42501', 'platform: no upgrade_tenant');
RESET ROLE;

-------------------------------------------------------------------------------
-- Tokens: claims and signature
-------------------------------------------------------------------------------
CREATE TEMP TABLE t87_token AS SELECT cot.issue_token('t87a', 'user', 'user-7', 600) AS jwt;
CREATE FUNCTION pg_temp.b64url(text) RETURNS bytea LANGUAGE sql AS $$
    SELECT decode(rpad(translate($1, '-_', '+/'), (length($1) + 3) / 4 * 4, '='), 'base64') $$;
SELECT is((SELECT convert_from(pg_temp.b64url(split_part(jwt, '.', 2)), 'UTF8')::jsonb - 'iat' - 'exp' FROM t87_token),
          '{"role": "cot_t87a_user", "tenant": "t87a", "sub": "user-7"}', 'the claims: role, tenant, sub');
SELECT is((SELECT (c->>'exp')::int - (c->>'iat')::int
           FROM (SELECT convert_from(pg_temp.b64url(split_part(jwt, '.', 2)), 'UTF8')::jsonb AS c FROM t87_token) AS x),
          600, 'exp is iat + ttl');
SELECT ok((SELECT abs((convert_from(pg_temp.b64url(split_part(jwt, '.', 2)), 'UTF8')::jsonb->>'iat')::bigint
                      - extract(epoch FROM clock_timestamp())::bigint) < 60 FROM t87_token), 'iat is now');
SELECT is((SELECT pg_temp.b64url(split_part(jwt, '.', 3))
           FROM t87_token),
          (SELECT hmac(split_part(jwt, '.', 1) || '.' || split_part(jwt, '.', 2), 't87-secret-of-at-least-thirty-two-bytes', 'sha256')
           FROM t87_token), 'the signature is the HS256 HMAC of header.payload with the stored secret');
SELECT is(cot_test.sqlstate_of($$SELECT cot.issue_token('t87a', 'owner')$$), '22023', 'an unknown role: 22023');
SELECT is(cot_test.sqlstate_of($$SELECT cot.issue_token('t87a', 'user', NULL, 86401)$$), '22023', 'a ttl over a day: 22023');
SELECT is(cot_test.sqlstate_of($$SELECT cot.issue_token('nope', 'user')$$), '42704', 'an unknown tenant: 42704');

-------------------------------------------------------------------------------
-- A tenant admin cannot become the platform
-------------------------------------------------------------------------------
SET LOCAL ROLE cot_t87a_admin;
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_tenant('t87c')$$), '42501', 'tenant admin: no create_tenant');
SELECT is(cot_test.sqlstate_of($$SELECT cot.issue_token('t87a', 'admin')$$), '42501', 'tenant admin: no issue_token');
SELECT ok(NOT pg_has_role('cot_t87a_admin', 'cot_platform', 'MEMBER'), 'tenant admin: not a member of cot_platform');
SELECT is(cot_test.sqlstate_of($$GRANT cot_platform TO cot_t87a_admin$$), '42501', 'tenant admin: cannot grant it to itself');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
