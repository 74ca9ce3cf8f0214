-- Tenants: what cot.create_tenant makes (roles, schemas, grants, meta and
-- ledger rows), every way it refuses, and cot.drop_tenant with and without
-- force. Slugs here start with t10 so they never meet another file's.
BEGIN;
SELECT plan(103);
SET LOCAL client_min_messages = warning;

-- The SQLSTATE a statement ends with, or 'ok'.
-- The whole error a statement raises: SQLSTATE, message, DETAIL, HINT.
-------------------------------------------------------------------------------
-- create_tenant: what it makes
-------------------------------------------------------------------------------
SELECT lives_ok(
    $$CREATE TEMP TABLE t10_created AS SELECT cot.create_tenant('t10acme', '{"name": "Acme Ten", "plan": "gold"}') AS j$$,
    'create_tenant(t10acme) succeeds');

SELECT is((SELECT j->>'slug' FROM t10_created), 't10acme', 'returned json: slug');
SELECT is((SELECT j->>'name' FROM t10_created), 'Acme Ten', 'returned json: display name from settings.name');
SELECT is((SELECT j->>'api_schema' FROM t10_created), 't10acme', 'returned json: api_schema');
SELECT is((SELECT j->>'storage_schema' FROM t10_created), 'tenant_t10acme', 'returned json: storage_schema');
SELECT is((SELECT j->'roles' FROM t10_created),
          '{"anon": "cot_t10acme_anon", "user": "cot_t10acme_user", "admin": "cot_t10acme_admin"}'::jsonb,
          'returned json: the three roles');
SELECT ok((SELECT (j->>'id')::uuid IS NOT NULL FROM t10_created), 'returned json: a uuid id');

-- The three tenant roles: NOLOGIN, no superuser, no BYPASSRLS, nothing else.
SELECT results_eq(
    $$SELECT rolname::text COLLATE "default", rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication
        FROM pg_roles WHERE rolname LIKE 'cot\_t10acme\_%' ORDER BY 1$$,
    $$VALUES ('cot_t10acme_admin', false, false, false, false, false, false),
             ('cot_t10acme_anon',  false, false, false, false, false, false),
             ('cot_t10acme_user',  false, false, false, false, false, false)$$,
    'three tenant roles, all NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION');

-- The owner of every generated object.
SELECT has_role('cot_owner', 'cot_owner exists');
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'cot_owner'), false, 'cot_owner is NOLOGIN');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'cot_owner'), false, 'cot_owner is not a superuser');
SELECT is((SELECT rolbypassrls FROM pg_roles WHERE rolname = 'cot_owner'), false, 'cot_owner has no BYPASSRLS');
SELECT is((SELECT count(*)::int FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
            WHERE m.member = 'cot_owner'::regrole), 0, 'cot_owner is a member of no role');
SELECT is((SELECT count(*)::int FROM pg_auth_members m
            WHERE m.member IN ('cot_t10acme_anon'::regrole, 'cot_t10acme_user'::regrole, 'cot_t10acme_admin'::regrole)
              AND m.roleid = 'cot_owner'::regrole), 0, 'no tenant role is a member of cot_owner');

-- Schemas.
SELECT has_schema('tenant_t10acme', 'storage schema tenant_t10acme exists');
SELECT has_schema('t10acme', 'API schema t10acme exists');
SELECT schema_owner_is('tenant_t10acme', 'cot_owner', 'storage schema owned by cot_owner');
SELECT schema_owner_is('t10acme', 'cot_owner', 'API schema owned by cot_owner');
SELECT ok(has_schema_privilege('cot_t10acme_anon', 't10acme', 'USAGE'), 'anon role has USAGE on the API schema');
SELECT ok(has_schema_privilege('cot_t10acme_user', 't10acme', 'USAGE'), 'user role has USAGE on the API schema');
SELECT ok(has_schema_privilege('cot_t10acme_admin', 't10acme', 'USAGE'), 'admin role has USAGE on the API schema');
SELECT ok(NOT has_schema_privilege('cot_t10acme_admin', 't10acme', 'CREATE'), 'admin role cannot CREATE in the API schema');
SELECT ok(NOT has_schema_privilege('cot_t10acme_user', 'tenant_t10acme', 'USAGE'), 'user role has no USAGE on the storage schema');
SELECT ok(NOT has_schema_privilege('cot_t10acme_admin', 'tenant_t10acme', 'CREATE'), 'admin role cannot CREATE in the storage schema');
SELECT ok(NOT has_schema_privilege('public', 't10acme', 'USAGE'), 'PUBLIC has no USAGE on the API schema');
SELECT ok(NOT has_schema_privilege('public', 'tenant_t10acme', 'USAGE'), 'PUBLIC has no USAGE on the storage schema');
SELECT isnt(obj_description('t10acme'::regnamespace, 'pg_namespace'), NULL, 'API schema has a comment');

-- Meta and ledger rows.
SELECT results_eq(
    $$SELECT slug, name, settings FROM cot.tenants WHERE slug = 't10acme'$$,
    $$VALUES ('t10acme', 'Acme Ten', '{"name": "Acme Ten", "plan": "gold"}'::jsonb)$$,
    'meta row in cot.tenants with display name and settings');
SELECT is((SELECT id FROM cot.tenants WHERE slug = 't10acme'), (SELECT (j->>'id')::uuid FROM t10_created),
          'meta row id is the returned id');
SELECT results_eq(
    $$SELECT slug, name, api_schema, storage_schema, entities FROM cot.tenants() WHERE slug = 't10acme'$$,
    $$VALUES ('t10acme', 'Acme Ten', 't10acme', 'tenant_t10acme', 0::bigint)$$,
    'cot.tenants() lists the tenant with no entities');
SELECT results_eq(
    $$SELECT operation, tenant, tenant_id, entity, applied_by FROM cot.migrations WHERE tenant = 't10acme'$$,
    $$SELECT 'create_tenant'::text, 't10acme'::text, id, NULL::text, current_user::text COLLATE "default" FROM cot.tenants WHERE slug = 't10acme'$$,
    'one ledger row: create_tenant, by the current user');
SELECT ok((SELECT 'CREATE SCHEMA "tenant_t10acme" AUTHORIZATION "cot_owner"' = ANY (sql)
             FROM cot.migrations WHERE tenant = 't10acme' AND operation = 'create_tenant'),
          'ledger row holds the SQL that ran');
SELECT is((SELECT jsonb_array_length(plan) FROM cot.migrations WHERE tenant = 't10acme' AND operation = 'create_tenant'),
          (SELECT cardinality(sql) FROM cot.migrations WHERE tenant = 't10acme' AND operation = 'create_tenant'),
          'ledger plan has one entry per statement');

-- A slug of exactly 30 bytes is accepted; names derived from it stay under 63.
SELECT lives_ok($$SELECT cot.create_tenant('t10_' || repeat('x', 26))$$, 'a 30-byte slug is accepted');
SELECT has_role('cot_t10_' || repeat('x', 26) || '_admin', 'its admin role exists');
SELECT is((SELECT name FROM cot.tenants WHERE slug = 't10_' || repeat('x', 26)), 't10_' || repeat('x', 26),
          'without settings.name the display name is the slug');

-- A NULL argument: the function is STRICT, so nothing happens at all.
SELECT is(cot.create_tenant(NULL), NULL, 'create_tenant(NULL) returns NULL');
SELECT is((SELECT count(*)::int FROM cot.tenants WHERE slug IS NULL OR slug = ''), 0, '... and creates nothing');

-------------------------------------------------------------------------------
-- create_tenant: refusals
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT cot.create_tenant('T10Upper')$$, '42602', NULL, 'uppercase slug: 42602');
SELECT throws_ok($$SELECT cot.create_tenant('1t10')$$, '42602', NULL, 'slug starting with a digit: 42602');
SELECT throws_ok($$SELECT cot.create_tenant('t10-dash')$$, '42602', NULL, 'slug with a dash: 42602');
SELECT throws_ok($$SELECT cot.create_tenant('')$$, '42602', NULL, 'empty slug: 42602');
SELECT throws_ok($$SELECT cot.create_tenant('t10"; DROP SCHEMA cot; --')$$, '42602', NULL, 'slug with quote and semicolon: 42602');
SELECT throws_ok($$SELECT cot.create_tenant(E't10\u202Eabc')$$, '42602', NULL, 'slug with a right-to-left override: 42602');
SELECT throws_ok($$SELECT cot.create_tenant('t10é')$$, '42602', NULL, 'non-ASCII slug: 42602');
SELECT throws_ok($$SELECT cot.create_tenant('t10_' || repeat('x', 27))$$, '42622', NULL, '31-byte slug: 42622');
SELECT throws_ok($$SELECT cot.create_tenant(repeat('a', 10000))$$, '42622', NULL, '10 000-byte slug: 42622');
SELECT throws_ok($$SELECT cot.create_tenant('select')$$, '42939', NULL, 'reserved word select: 42939');
SELECT throws_ok($$SELECT cot.create_tenant('user')$$, '42939', NULL, 'reserved word user: 42939');
SELECT throws_ok($$SELECT cot.create_tenant('public')$$, '42939', NULL, 'slug public: 42939');
SELECT throws_ok($$SELECT cot.create_tenant('cot')$$, '42939', NULL, 'slug cot: 42939');
SELECT throws_ok($$SELECT cot.create_tenant('postgres')$$, '42939', NULL, 'slug postgres: 42939');
SELECT throws_ok($$SELECT cot.create_tenant('information_schema')$$, '42939', NULL, 'slug information_schema: 42939');
SELECT throws_ok($$SELECT cot.create_tenant('pg_x')$$, '42939', NULL, 'slug pg_x: 42939');
SELECT throws_ok($$SELECT cot.create_tenant('tenant_x')$$, '42939', NULL, 'slug tenant_x: 42939');
SELECT throws_ok($$SELECT cot.create_tenant('t10acme')$$, '42710', NULL, 'duplicate tenant: 42710');

CREATE SCHEMA t10clash;
SELECT throws_ok($$SELECT cot.create_tenant('t10clash')$$, '42P06', NULL, 'a schema named like the slug exists: 42P06');
CREATE SCHEMA tenant_t10clash2;
SELECT throws_ok($$SELECT cot.create_tenant('t10clash2')$$, '42P06', NULL, 'a schema named tenant_<slug> exists: 42P06');
CREATE ROLE cot_t10role_user NOLOGIN;
SELECT throws_ok($$SELECT cot.create_tenant('t10role')$$, '42710', NULL, 'a role cot_<slug>_user exists: 42710');
SELECT hasnt_schema('t10role', '... and no schema was left behind');
SELECT is((SELECT count(*)::int FROM cot.tenants WHERE slug IN ('t10clash', 't10clash2', 't10role')), 0,
          'refused tenants have no meta row');

SELECT throws_ok($$SELECT cot.create_tenant('t10set1', '[]')$$, '22023', NULL, 'settings an array: 22023');
SELECT throws_ok($$SELECT cot.create_tenant('t10set2', '"acme"')$$, '22023', NULL, 'settings a string: 22023');
SELECT throws_ok($$SELECT cot.create_tenant('t10set3', 'null')$$, '22023', NULL, 'settings JSON null: 22023');
SELECT throws_ok($$SELECT cot.create_tenant('t10set4', '{"name": 5}')$$, '22023', NULL, 'settings.name a number: 22023');
SELECT throws_ok($$SELECT cot.create_tenant('t10set5', '{"name": ""}')$$, '22023', NULL, 'settings.name empty: 22023');
SELECT throws_ok($$SELECT cot.create_tenant('t10set6', '{"name": ["a"]}')$$, '22023', NULL, 'settings.name an array: 22023');
SELECT throws_ok($$SELECT cot.create_tenant('t10set7', jsonb_build_object('name', repeat('n', 201)))$$, '22023', NULL,
                 'settings.name over 200 characters: 22023');
SELECT throws_ok($$SELECT cot.create_tenant('t10set8', jsonb_build_object('blob', repeat('b', 70000)))$$, '54000', NULL,
                 'settings over 64 kB: 54000');

-- A plain role: EXECUTE is revoked from PUBLIC, and even with EXECUTE granted
-- Cot itself refuses anyone but a superuser.
CREATE ROLE t10_plain NOLOGIN;
SET ROLE t10_plain;
SELECT throws_ok($$SELECT cot.create_tenant('t10plain')$$, '42501', NULL, 'a plain role cannot create a tenant: 42501');
SELECT throws_ok($$SELECT cot.drop_tenant('t10acme')$$, '42501', NULL, 'a plain role cannot drop a tenant: 42501');
RESET ROLE;
GRANT USAGE ON SCHEMA cot TO t10_plain;
GRANT EXECUTE ON FUNCTION cot.create_tenant(text, jsonb), cot.drop_tenant(text, boolean) TO t10_plain;
SET ROLE t10_plain;
SELECT throws_ok($$SELECT cot.create_tenant('t10plain')$$, '42501', 'permission denied to create a tenant',
                 'with EXECUTE granted, Cot still refuses a non-superuser: 42501');
SELECT throws_ok($$SELECT cot.drop_tenant('t10acme')$$, '42501', 'permission denied to drop a tenant',
                 'with EXECUTE granted, drop_tenant refuses a non-superuser: 42501');
RESET ROLE;
SELECT hasnt_schema('t10plain', 'the refused tenant has no schema');
SELECT has_schema('t10acme', 'the tenant the plain role tried to drop is still there');

-- cot_owner is shared by the cluster: one made by someone else with LOGIN or
-- BYPASSRLS would own every generated table and bypass its row security.
ALTER ROLE cot_owner LOGIN BYPASSRLS;
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_tenant('t10owner')$$), '55000',
          'create_tenant refuses a cot_owner that can log in and bypass RLS: 55000');
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_entity('{"tenant": "t10acme", "name": "owned_by_login"}')$$), '55000',
          'create_entity refuses such a cot_owner too: 55000');
ALTER ROLE cot_owner NOLOGIN NOBYPASSRLS;

-------------------------------------------------------------------------------
-- drop_tenant
-------------------------------------------------------------------------------
SELECT throws_ok($$SELECT cot.drop_tenant('t10nobody')$$, '42704', NULL, 'unknown tenant: 42704');
SELECT throws_ok($$SELECT cot.drop_tenant('T10 Not A Slug')$$, '42704', NULL, 'a string that is no slug: 42704');

SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t10acme", "name": "orders", "fields": [{"name": "title", "type": "text", "unique": true}]}')$$,
                'entity orders created');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t10acme", "name": "customers", "fields": [{"name": "email", "type": "email"}]}')$$,
                'entity customers created');
SELECT lives_ok($$INSERT INTO t10acme.orders (title) VALUES ('first')$$, 'a row in orders');

CREATE TEMP TABLE t10_err AS SELECT cot_test.error_of($$SELECT cot.drop_tenant('t10acme')$$) AS e;
SELECT is((SELECT e->>'sqlstate' FROM t10_err), '2BP01', 'drop_tenant with entities and no force: 2BP01');
SELECT is((SELECT e->>'detail' FROM t10_err), 'entities: customers, orders', 'DETAIL names the entities');
SELECT matches((SELECT e->>'hint' FROM t10_err), 'force', 'HINT mentions force');
SELECT has_table('tenant_t10acme', 'orders', 'the refused drop left the table');
SELECT is((SELECT count(*)::int FROM cot.tenants WHERE slug = 't10acme'), 1, 'the refused drop left the meta row');

SELECT lives_ok($$SELECT cot.drop_tenant('t10acme', force => true)$$, 'drop_tenant with force succeeds');
SELECT hasnt_schema('tenant_t10acme', 'storage schema gone');
SELECT hasnt_schema('t10acme', 'API schema gone');
SELECT is((SELECT count(*)::int FROM pg_roles WHERE rolname LIKE 'cot\_t10acme\_%'), 0, 'the three roles gone');
SELECT has_role('cot_owner', 'cot_owner stays (it is shared by every tenant)');
SELECT is((SELECT count(*)::int FROM cot.tenants WHERE slug = 't10acme'), 0, 'tenant meta row gone');
SELECT is((SELECT count(*)::int FROM cot.entities e WHERE e.tenant_id = (SELECT (j->>'id')::uuid FROM t10_created)), 0,
          'entity meta rows gone');
SELECT is((SELECT count(*)::int FROM cot.fields f WHERE f.name IN ('title', 'email')
             AND NOT EXISTS (SELECT FROM cot.entities e WHERE e.id = f.entity_id)), 0, 'no orphan field rows');
SELECT results_eq(
    $$SELECT operation, entity FROM cot.migrations WHERE tenant = 't10acme' ORDER BY id$$,
    $$VALUES ('create_tenant', NULL), ('create_entity', 'orders'), ('create_entity', 'customers'), ('drop_tenant', NULL)$$,
    'the ledger keeps every row, plus one for the drop');
SELECT is((SELECT definition_before FROM cot.migrations WHERE tenant = 't10acme' AND operation = 'drop_tenant'),
          '{"entities": ["customers", "orders"]}'::jsonb, 'drop_tenant ledger row names the dropped entities');
SELECT throws_ok($$SELECT cot.drop_tenant('t10acme')$$, '42704', NULL, 'dropping it again: 42704');

-- Without entities no force is needed; the slug can then be used again.
SELECT lives_ok($$SELECT cot.create_tenant('t10empty')$$, 'tenant t10empty created');
SELECT lives_ok($$SELECT cot.drop_tenant('t10empty')$$, 'an empty tenant drops without force');
SELECT hasnt_schema('t10empty', 'its API schema is gone');
SELECT lives_ok($$SELECT cot.create_tenant('t10empty')$$, 'the slug can be used again');
SELECT is((SELECT count(*)::int FROM cot.migrations WHERE tenant = 't10empty'), 3,
          'ledger: create, drop, create');

SELECT * FROM finish();
ROLLBACK;
