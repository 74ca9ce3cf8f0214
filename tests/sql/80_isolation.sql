-- Tenant isolation: row-level security, grants and the JWT claim helpers,
-- checked in the catalogs and with real requests made as PostgREST makes them
-- (claims in request.jwt.claims, then SET ROLE to a tenant role, then the
-- query against the tenant's API view).
--
--  1. claims missing: at the start of the session the setting does not exist
--     at all (once set_config has touched it, it is '' for the rest of the
--     session), so these cases come first;
--  2. catalog invariants over every generated table, view, policy, grant,
--     schema, role and Cot function (generic: every tenant_% schema);
--  3. the allow/deny matrix: 4 commands x callers (anon, user, admin of A; B's
--     roles; A's roles claiming B; empty, malformed, array and odd claims) on
--     entities with public/tenant/owner/admin, all-tenant, none, default and
--     all-owner rules and on a junction; every outcome is 'ok N' (rows
--     returned or written) or a SQLSTATE, plus the tables whose contents
--     changed (row count and checksum as superuser): a denial is 42501 or
--     'ok 0' with nothing changed;
--  4. writes as PostgREST sends them: return=minimal inserts, RETURNING,
--     filterless PATCH, upserts, owner_id forged or changed;
--  5. a randomized cross-tenant run (3 tenants, random roles, claims, commands
--     and targets) with an oracle, counting foreign rows seen and rows
--     planted; then the same run with a policy broken on purpose, which must
--     count leaks;
--  6. the claim helpers directly, on every odd setting.
BEGIN;
SELECT plan(474);
-- This file plants objects and breaks policies by hand on purpose; the drift
-- guard would refuse that DDL (tests/sql/95_drift.sql tests the guard).
SET LOCAL cot.drift = 'allow';
SET LOCAL client_min_messages = warning;

-------------------------------------------------------------------------------
-- Tenants and entities
-------------------------------------------------------------------------------
-- notes:   read public, create tenant, update owner, delete admin; a
--          many_to_many to labels (junction notes_labels: read public,
--          insert/delete tenant, update none)
-- labels:  every rule tenant
-- secrets: every rule none
-- configs: no access key (every rule defaults to admin)
-- diary:   every rule owner (t80a only)
-- Every row carries its tenant in `tag`.
SELECT lives_ok($$SELECT cot.create_tenant('t80a')$$, 'tenant t80a created');
SELECT lives_ok($$SELECT cot.create_tenant('t80b')$$, 'tenant t80b created');
SELECT lives_ok($$SELECT cot.create_tenant('t80c')$$, 'tenant t80c created');

CREATE FUNCTION pg_temp.create_set(slug text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cot.create_entity(jsonb_build_object('tenant', slug, 'name', 'labels',
        'fields', '[{"name": "tag", "type": "text"}, {"name": "name", "type": "text"}]'::jsonb,
        'access', '{"read": "tenant", "create": "tenant", "update": "tenant", "delete": "tenant"}'::jsonb));
    PERFORM cot.create_entity(jsonb_build_object('tenant', slug, 'name', 'notes',
        'fields', '[{"name": "tag", "type": "text"}, {"name": "body", "type": "text"},
                    {"name": "labels", "type": "relation", "kind": "many_to_many", "target": "labels"}]'::jsonb,
        'access', '{"read": "public", "create": "tenant", "update": "owner", "delete": "admin"}'::jsonb));
    PERFORM cot.create_entity(jsonb_build_object('tenant', slug, 'name', 'secrets',
        'fields', '[{"name": "tag", "type": "text"}]'::jsonb,
        'access', '{"read": "none", "create": "none", "update": "none", "delete": "none"}'::jsonb));
    PERFORM cot.create_entity(jsonb_build_object('tenant', slug, 'name', 'configs',
        'fields', '[{"name": "tag", "type": "text"}]'::jsonb));
END $$;
SELECT lives_ok($$SELECT pg_temp.create_set('t80a')$$, 't80a: labels, notes, secrets, configs');
SELECT lives_ok($$SELECT pg_temp.create_set('t80b')$$, 't80b: labels, notes, secrets, configs');
SELECT lives_ok($$SELECT pg_temp.create_set('t80c')$$, 't80c: labels, notes, secrets, configs');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t80a", "name": "diary", "fields": [{"name": "tag", "type": "text"}, {"name": "body", "type": "text"}],
                  "access": {"read": "owner", "create": "owner", "update": "owner", "delete": "owner"}}')$$, 't80a: diary, every rule owner');
-- More shapes for the catalog invariants: a view made again by drop_relations,
-- a group with a cycle, a self many_to_many, mixed rules.
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t80a", "name": "projects", "fields": [{"name": "tag", "type": "text"}],
                  "access": {"read": "public", "create": "public", "update": "public", "delete": "public"}}')$$, 't80a: projects, every rule public');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t80a", "name": "tasks", "fields": [{"name": "tag", "type": "text"},
                  {"name": "project", "type": "relation", "kind": "many_to_one", "target": "projects"},
                  {"name": "peers", "type": "relation", "kind": "many_to_many", "target": "tasks"}],
                  "access": {"read": "tenant", "create": "owner", "update": "admin", "delete": "none"}}')$$, 't80a: tasks (many_to_one projects, self many_to_many), mixed rules');
SELECT lives_ok($$SELECT cot.drop_entity('t80a', 'projects', '{"drop_relations": true}')$$, 't80a: projects dropped with drop_relations (tasks view made again)');
SELECT lives_ok($$SELECT cot.create_entities('[
    {"tenant": "t80c", "name": "hens", "fields": [{"name": "egg", "type": "relation", "kind": "many_to_one", "target": "eggs"}],
     "access": {"read": "public", "create": "tenant"}},
    {"tenant": "t80c", "name": "eggs", "fields": [{"name": "hen", "type": "relation", "kind": "many_to_one", "target": "hens"},
                                                   {"name": "nests", "type": "relation", "kind": "many_to_many", "target": "hens"}],
     "access": {"read": "owner", "update": "owner", "delete": "tenant"}}]')$$, 't80c: hens <-> eggs group with a cycle, owner rules on eggs');
-- Keywords as names: PostgreSQL prints "user" and "position" quoted in the
-- junction's owner policy, and cot.check must expect exactly that.
SELECT lives_ok($$SELECT cot.create_entities('[
    {"tenant": "t80c", "name": "position", "fields": [{"name": "tag", "type": "text"}], "access": {"read": "owner"}},
    {"tenant": "t80c", "name": "user", "fields": [{"name": "tag", "type": "text"},
                                                   {"name": "positions", "type": "relation", "kind": "many_to_many", "target": "position"}],
     "access": {"read": "owner", "create": "owner", "update": "owner", "delete": "owner"}}]')$$, 't80c: user and position (keywords), owner rules, a junction');
SELECT is((SELECT count(*) FROM cot.check('t80c')), 0::bigint, 'cot.check finds nothing in t80c (owner policies on junctions, keyword names)');

-------------------------------------------------------------------------------
-- Rows, seeded as superuser with fixed ids (triggers off to set owner_id
-- without touching the claims setting, which must stay missing for now)
-------------------------------------------------------------------------------
SET LOCAL session_replication_role = replica;
INSERT INTO tenant_t80a.notes (id, tag, body, owner_id) VALUES
    ('aaaaaaaa-0000-0000-0000-000000000001', 't80a', 'n1', 'u1'),
    ('aaaaaaaa-0000-0000-0000-000000000002', 't80a', 'n2', 'u1'),
    ('aaaaaaaa-0000-0000-0000-000000000003', 't80a', 'n3', 'u2'),
    ('aaaaaaaa-0000-0000-0000-000000000004', 't80a', 'n4', NULL);
INSERT INTO tenant_t80a.labels (id, tag, name) VALUES
    ('aaaaaaaa-1111-0000-0000-000000000001', 't80a', 'l1'),
    ('aaaaaaaa-1111-0000-0000-000000000002', 't80a', 'l2');
INSERT INTO tenant_t80a.notes_labels (notes_id, labels_id) VALUES
    ('aaaaaaaa-0000-0000-0000-000000000001', 'aaaaaaaa-1111-0000-0000-000000000001');
INSERT INTO tenant_t80a.secrets (tag) VALUES ('t80a');
INSERT INTO tenant_t80a.configs (tag) VALUES ('t80a'), ('t80a');
INSERT INTO tenant_t80a.diary (tag, body, owner_id) VALUES ('t80a', 'd1', 'u1'), ('t80a', 'd2', 'u2');
-- B has a user u1 too: the same sub in another tenant.
INSERT INTO tenant_t80b.notes (id, tag, body, owner_id) VALUES
    ('bbbbbbbb-0000-0000-0000-000000000001', 't80b', 'm1', 'u1'),
    ('bbbbbbbb-0000-0000-0000-000000000002', 't80b', 'm2', 'u2'),
    ('bbbbbbbb-0000-0000-0000-000000000003', 't80b', 'm3', 'u3');
INSERT INTO tenant_t80b.labels (id, tag, name) VALUES
    ('bbbbbbbb-1111-0000-0000-000000000001', 't80b', 'k1'),
    ('bbbbbbbb-1111-0000-0000-000000000002', 't80b', 'k2'),
    ('bbbbbbbb-1111-0000-0000-000000000003', 't80b', 'k3');
INSERT INTO tenant_t80b.notes_labels (notes_id, labels_id) VALUES
    ('bbbbbbbb-0000-0000-0000-000000000001', 'bbbbbbbb-1111-0000-0000-000000000001');
INSERT INTO tenant_t80b.secrets (tag) VALUES ('t80b');
INSERT INTO tenant_t80b.configs (tag) VALUES ('t80b');
INSERT INTO tenant_t80c.notes (tag, body, owner_id) VALUES ('t80c', 'o1', 'u1'), ('t80c', 'o2', 'u2');
INSERT INTO tenant_t80c.labels (tag, name) VALUES ('t80c', 'j1');
INSERT INTO tenant_t80c.secrets (tag) VALUES ('t80c');
INSERT INTO tenant_t80c.configs (tag) VALUES ('t80c');
RESET session_replication_role;

-------------------------------------------------------------------------------
-- Requests
-------------------------------------------------------------------------------
-- Each generated table of the three tenants: row count and a checksum of its
-- rows with their physical addresses (so a row rewritten with the same values,
-- as `SET tag = tag` does within one transaction, counts as changed), read as
-- superuser.
CREATE FUNCTION pg_temp.fingerprint() RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    s text;
    acc jsonb := '{}';
BEGIN
    FOR r IN SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname IN ('tenant_t80a', 'tenant_t80b', 'tenant_t80c') AND c.relkind = 'r' ORDER BY 1, 2 LOOP
        EXECUTE format('SELECT count(*) || '' '' || md5(coalesce(string_agg(t.ctid::text || t::text, '','' ORDER BY t.ctid), '''')) FROM %I.%I t',
                       r.nspname, r.relname) INTO s;
        acc := acc || jsonb_build_object(r.nspname || '.' || r.relname, s);
    END LOOP;
    RETURN acc;
END $$;

-- The callers: a role and the claims setting PostgREST would put in place
-- (NULL: leave the setting alone, for the claims-missing cases).
CREATE TEMP TABLE callers (name text PRIMARY KEY, role text NOT NULL, claims text);
INSERT INTO callers VALUES
    ('anon_a_missing',     'cot_t80a_anon',  NULL),
    ('user_a_missing',     'cot_t80a_user',  NULL),
    ('admin_a_missing',    'cot_t80a_admin', NULL),
    ('anon_a',             'cot_t80a_anon',  '{"role": "cot_t80a_anon", "tenant": "t80a"}'),
    ('u1_a',               'cot_t80a_user',  '{"role": "cot_t80a_user", "tenant": "t80a", "sub": "u1"}'),
    ('u2_a',               'cot_t80a_user',  '{"role": "cot_t80a_user", "tenant": "t80a", "sub": "u2"}'),
    ('nosub_a',            'cot_t80a_user',  '{"role": "cot_t80a_user", "tenant": "t80a"}'),
    ('admin_a',            'cot_t80a_admin', '{"role": "cot_t80a_admin", "tenant": "t80a", "sub": "boss"}'),
    ('anon_b',             'cot_t80b_anon',  '{"role": "cot_t80b_anon", "tenant": "t80b"}'),
    ('u1_b',               'cot_t80b_user',  '{"role": "cot_t80b_user", "tenant": "t80b", "sub": "u1"}'),
    ('admin_b',            'cot_t80b_admin', '{"role": "cot_t80b_admin", "tenant": "t80b", "sub": "boss"}'),
    -- A's roles with B's tenant claim (role and claim disagree)
    ('anon_a_claims_b',    'cot_t80a_anon',  '{"role": "cot_t80a_anon", "tenant": "t80b"}'),
    ('u1_a_claims_b',      'cot_t80a_user',  '{"role": "cot_t80a_user", "tenant": "t80b", "sub": "u1"}'),
    ('admin_a_claims_b',   'cot_t80a_admin', '{"role": "cot_t80a_admin", "tenant": "t80b", "sub": "boss"}'),
    -- B's user claiming tenant A
    ('u1_b_claims_a',      'cot_t80b_user',  '{"role": "cot_t80b_user", "tenant": "t80a", "sub": "u1"}'),
    -- '' is what a pooled connection holds after its first request
    ('user_a_empty',       'cot_t80a_user',  ''),
    ('admin_a_empty',      'cot_t80a_admin', ''),
    ('user_a_malformed',   'cot_t80a_user',  '{not json'),
    ('admin_a_malformed',  'cot_t80a_admin', '{not json'),
    ('user_a_array',       'cot_t80a_user',  '[]'),
    ('admin_a_array',      'cot_t80a_admin', '[]'),
    ('admin_a_list',       'cot_t80a_admin', '[{"tenant": "t80a"}]'),
    ('admin_a_notenant',   'cot_t80a_admin', '{"role": "cot_t80a_admin", "sub": "boss"}'),
    ('admin_a_tenantnull', 'cot_t80a_admin', '{"tenant": null}'),
    ('admin_a_tenantarr',  'cot_t80a_admin', '{"tenant": ["t80a"]}'),
    ('admin_a_tenantobj',  'cot_t80a_admin', '{"tenant": {"tenant": "t80a"}}'),
    ('admin_a_nested',     'cot_t80a_admin', '{"app": {"tenant": "t80a"}}'),
    ('admin_a_upper',      'cot_t80a_admin', '{"tenant": "T80A"}'),
    ('admin_a_padded',     'cot_t80a_admin', '{"tenant": " t80a"}'),
    ('admin_a_prefix',     'cot_t80a_admin', '{"tenant": "t80"}'),
    ('admin_a_trailing',   'cot_t80a_admin', '{"tenant": "t80a"} x');

-- One request: the claims (as superuser, as PostgREST's set_config), the role,
-- the statement, back to superuser. Returns 'ok N' (rows returned or written)
-- or the SQLSTATE, followed by ' changed ' and the tables whose rows changed
-- (compared as superuser before and after, after the failed statement's
-- rollback too). Unless `keep`, a successful statement is rolled back after
-- it was measured, so cases do not depend on each other.
CREATE FUNCTION pg_temp.req(caller text, q text, keep boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c callers;
    before jsonb;
    after jsonb;
    n bigint;
    res text;
BEGIN
    SELECT * INTO STRICT c FROM callers WHERE name = caller;
    before := pg_temp.fingerprint();
    BEGIN
        IF c.claims IS NOT NULL THEN
            PERFORM set_config('request.jwt.claims', c.claims, true);
        END IF;
        PERFORM set_config('role', c.role, true);
        EXECUTE q;
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM set_config('role', 'none', true);
        after := pg_temp.fingerprint();
        res := 'ok ' || n;
        IF NOT keep THEN
            RAISE SQLSTATE 'PX000' USING MESSAGE = res;
        END IF;
    EXCEPTION
        WHEN SQLSTATE 'PX000' THEN
            res := SQLERRM;
        WHEN OTHERS THEN
            res := SQLSTATE;
            after := pg_temp.fingerprint();
    END;
    IF after IS DISTINCT FROM before THEN
        res := res || ' changed ' || (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(after) k
                                       WHERE after->k IS DISTINCT FROM before->k);
    END IF;
    RETURN res;
END $$;

-- The statement a command sends to `tenant.entity`, as PostgREST sends it:
-- GET (rows returned), POST with return=minimal (no RETURNING), PATCH and
-- DELETE without a filter.
CREATE FUNCTION pg_temp.q(cmd text, tenant text, entity text) RETURNS text
LANGUAGE sql AS $$
    SELECT CASE cmd
        WHEN 'select' THEN format('SELECT * FROM %I.%I', tenant, entity)
        WHEN 'insert' THEN format('INSERT INTO %I.%I (tag) VALUES (%L)', tenant, entity, tenant)
        WHEN 'update' THEN format('UPDATE %I.%I SET tag = tag', tenant, entity)
        WHEN 'delete' THEN format('DELETE FROM %I.%I', tenant, entity)
    END
$$;

-- The four commands of one caller on one entity against their expectations.
CREATE FUNCTION pg_temp.matrix(tenant text, entity text, caller text, e_select text, e_insert text, e_update text, e_delete text)
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    x record;
BEGIN
    FOR x IN SELECT * FROM (VALUES (1, 'select', e_select), (2, 'insert', e_insert), (3, 'update', e_update), (4, 'delete', e_delete)) v(i, cmd, expected) ORDER BY i LOOP
        RETURN NEXT is(pg_temp.req(caller, pg_temp.q(x.cmd, tenant, entity)), x.expected,
                       format('%s: %s on %s.%s -> %s', caller, upper(x.cmd), tenant, entity, x.expected));
    END LOOP;
END $$;

-------------------------------------------------------------------------------
-- 1. No claims setting at all (fresh session): no access, no error
-------------------------------------------------------------------------------
SELECT is(current_setting('request.jwt.claims', true), NULL, 'the session starts without a request.jwt.claims setting');
SELECT is(cot.claim_tenant(), NULL, 'claims missing: claim_tenant() is NULL');
SELECT is(cot.claim_sub(), NULL, 'claims missing: claim_sub() is NULL');
SELECT is(cot.claim_role(), NULL, 'claims missing: claim_role() is NULL');

SELECT pg_temp.matrix('t80a', 'notes', 'anon_a_missing',  'ok 0', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'user_a_missing',  'ok 0', '42501', 'ok 0', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_missing', 'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'labels', 'user_a_missing',  'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'labels', 'admin_a_missing', 'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'configs', 'admin_a_missing', 'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'secrets', 'admin_a_missing', '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'diary', 'user_a_missing',  'ok 0', '42501', 'ok 0', 'ok 0');
SELECT is(pg_temp.req('admin_a_missing', 'SELECT * FROM t80a.notes_labels'), 'ok 0', 'admin_a_missing: SELECT on the junction -> ok 0');
SELECT is(pg_temp.req('admin_a_missing', 'DELETE FROM t80a.notes_labels'), 'ok 0', 'admin_a_missing: DELETE on the junction -> ok 0');
SELECT is(current_setting('request.jwt.claims', true), NULL, '... and the setting was still missing throughout');


-------------------------------------------------------------------------------
-- 2. Catalog invariants over every generated object
-------------------------------------------------------------------------------
-- The model: every generated table (entity tables and junction tables) with
-- the rules it must enforce, read from Cot's meta-tables. A junction follows
-- its entity: read -> read; insert and delete -> update; no update; under
-- owner, a link is the user's when the record it starts from (`parent`, by the
-- junction's column `pcol`) is.
CREATE TEMP VIEW gen_tables AS
SELECT t.slug, e.name AS tbl, e.definition->'access' AS acc, NULL::text AS parent, NULL::text AS pcol
  FROM cot.entities e JOIN cot.tenants t ON t.id = e.tenant_id
UNION ALL
SELECT t.slug, r.junction_table,
       jsonb_build_object('read',   e.definition->'access'->>'read',
                          'create', e.definition->'access'->>'update',
                          'update', 'none',
                          'delete', e.definition->'access'->>'update'),
       e.name, e.name || '_id'
  FROM cot.relationships r JOIN cot.entities e ON e.id = r.source_entity_id JOIN cot.tenants t ON t.id = r.tenant_id
 WHERE r.junction_table IS NOT NULL;

-- Which roles a rule admits, in one policy per group.
CREATE TEMP VIEW rule_groups (rule, suffix, kinds, owner_check) AS VALUES
    ('public', '',       ARRAY['anon', 'user', 'admin'], false),
    ('tenant', '',       ARRAY['user', 'admin'],         false),
    ('admin',  '',       ARRAY['admin'],                 false),
    ('owner',  '_owner', ARRAY['user'],                  true),
    ('owner',  '_admin', ARRAY['admin'],                 false);
CREATE TEMP VIEW commands (rule_key, cmd, word) AS VALUES
    ('read', 'SELECT', 'select'), ('create', 'INSERT', 'insert'), ('update', 'UPDATE', 'update'), ('delete', 'DELETE', 'delete');

-- The exact policy every rule must produce: name, command, roles (sorted),
-- permissive, USING and WITH CHECK as PostgreSQL prints them. The tenant check
-- names the table's own tenant; nothing is OR-ed to it.
CREATE TEMP VIEW expected_policies AS
SELECT 'tenant_' || g.slug AS schemaname, g.tbl::name AS tablename, ('cot_' || c.word || rg.suffix)::name AS policyname,
       'PERMISSIVE' AS permissive, c.cmd,
       (SELECT array_agg('cot_' || g.slug || '_' || k ORDER BY 'cot_' || g.slug || '_' || k COLLATE "C") FROM unnest(rg.kinds) k) AS roles,
       CASE WHEN c.cmd <> 'INSERT' THEN pred END AS qual,
       CASE WHEN c.cmd IN ('INSERT', 'UPDATE') THEN pred END AS with_check
  FROM gen_tables g
  JOIN commands c ON true
  JOIN rule_groups rg ON rg.rule = g.acc->>c.rule_key
 CROSS JOIN LATERAL (SELECT CASE WHEN rg.owner_check AND g.parent IS NOT NULL
                                 THEN format(E'(( SELECT (cot.claim_tenant() = %L::text)) AND (EXISTS ( SELECT\n   FROM %I.%I\n  WHERE ((%I.id = %I.%I) AND (%I.owner_id = ( SELECT cot.claim_sub() AS claim_sub))))))',
                                             g.slug, 'tenant_' || g.slug, g.parent, g.parent, g.tbl, g.pcol, g.parent)
                                 WHEN rg.owner_check
                                 THEN format('(( SELECT (cot.claim_tenant() = %L::text)) AND (owner_id = ( SELECT cot.claim_sub() AS claim_sub)))', g.slug)
                                 ELSE format('( SELECT (cot.claim_tenant() = %L::text))', g.slug) END AS pred) p;
CREATE TEMP VIEW actual_policies AS
SELECT schemaname::text, tablename, policyname, permissive, cmd,
       (SELECT array_agg(r::text ORDER BY r::text COLLATE "C") FROM unnest(roles) r) AS roles, qual, with_check
  FROM pg_policies WHERE schemaname LIKE 'tenant\_%';

-- The exact grants: the roles of every rule but none, on the table and on its
-- view, and nothing else for anyone but the owner.
CREATE TEMP VIEW expected_grants AS
SELECT DISTINCT s.schema, g.tbl::text AS relname, 'cot_' || g.slug || '_' || k AS grantee, c.cmd AS privilege
  FROM gen_tables g
  JOIN commands c ON true
  JOIN rule_groups rg ON rg.rule = g.acc->>c.rule_key
 CROSS JOIN unnest(rg.kinds) k
 CROSS JOIN LATERAL (VALUES ('tenant_' || g.slug), (g.slug)) s(schema);
-- Every relation in a tenant's storage or API schema.
CREATE TEMP VIEW gen_relations AS
SELECT c.oid, n.nspname::text AS schema, c.relname::text AS relname, c.relkind, c.relowner, c.relacl, c.reloptions, t.slug
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN cot.tenants t ON n.nspname IN ('tenant_' || t.slug, t.slug);
CREATE TEMP VIEW actual_grants AS
SELECT r.schema, r.relname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END AS grantee,
       a.privilege_type AS privilege, a.is_grantable
  FROM gen_relations r CROSS JOIN LATERAL aclexplode(r.relacl) a
 WHERE a.grantee <> r.relowner;

SELECT ok((SELECT count(*) FROM gen_tables WHERE slug LIKE 't80_') >= 20, 'the model holds every generated table of the three tenants (>= 20)');
SELECT set_eq($$SELECT schema, relname FROM gen_relations WHERE relkind IN ('r', 'p') AND schema LIKE 'tenant\_%'$$,
              $$SELECT 'tenant_' || slug AS schema, tbl FROM gen_tables$$,
              'every table in a storage schema is an entity or junction table that Cot knows, and each exists');
SELECT set_eq($$SELECT schema, relname FROM gen_relations WHERE relkind = 'v'$$,
              $$SELECT slug, tbl FROM gen_tables$$,
              'every generated table has its API view, and the API schemas hold nothing else that is a view');
SELECT is((SELECT array_agg(DISTINCT relkind::text ORDER BY relkind::text) FROM gen_relations WHERE schema LIKE 'tenant\_%'), ARRAY['i', 'r'],
          'storage schemas hold tables and indexes only (no sequences, no materialized views, which have no row security)');
SELECT is((SELECT array_agg(DISTINCT relkind::text) FROM gen_relations WHERE schema NOT LIKE 'tenant\_%'), ARRAY['v'],
          'API schemas hold views only');

-- Row-level security
SELECT is((SELECT array_agg(r.schema || '.' || r.relname) FROM gen_relations r JOIN pg_class c ON c.oid = r.oid
            WHERE r.relkind = 'r' AND NOT (c.relrowsecurity AND c.relforcerowsecurity)), NULL,
          'every generated table has row-level security enabled AND forced');
SELECT is((SELECT array_agg(DISTINCT pg_get_userbyid(relowner)::text) FROM gen_relations WHERE relkind IN ('r', 'v')), ARRAY['cot_owner'],
          'every generated table and view is owned by cot_owner');
SELECT set_eq('SELECT * FROM actual_policies', 'SELECT * FROM expected_policies',
              'policies: exactly one per command and role group that the rules allow, TO the tenant''s roles, with the tenant check of the table''s own tenant (and the owner check for owner rules) in USING and WITH CHECK');
SELECT is((SELECT count(*)::int FROM actual_policies), (SELECT count(*)::int FROM expected_policies), '... and no policy twice');
SELECT is((SELECT array_agg(tablename || '.' || policyname) FROM pg_policies
            WHERE schemaname LIKE 'tenant\_%' AND cmd IN ('INSERT', 'UPDATE', 'ALL')
              AND (with_check IS NULL OR with_check NOT LIKE format('%%( SELECT (cot.claim_tenant() = %L::text))%%', substr(schemaname, 8)))), NULL,
          'every INSERT and UPDATE policy has the tenant check of its own tenant in WITH CHECK');
SELECT is((SELECT array_agg(tablename || '.' || policyname) FROM pg_policies
            WHERE schemaname LIKE 'tenant\_%' AND cmd <> 'INSERT'
              AND (qual IS NULL OR qual NOT LIKE format('%%( SELECT (cot.claim_tenant() = %L::text))%%', substr(schemaname, 8)))), NULL,
          'every SELECT, UPDATE and DELETE policy has the tenant check of its own tenant in USING');
SELECT is((SELECT array_agg(tablename || '.' || policyname) FROM pg_policies
            WHERE schemaname LIKE 'tenant\_%' AND (coalesce(qual, '') ~* '\m(or|is null|coalesce|true)\M' OR coalesce(with_check, '') ~* '\m(or|is null|coalesce|true)\M')), NULL,
          'no policy ORs anything to the tenant check (no OR, IS NULL, coalesce or true)');
SELECT is((SELECT count(*)::int FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname LIKE 'tenant\_%' AND 0 = ANY (p.polroles)), 0, 'no policy is TO PUBLIC');
SELECT is((SELECT array_agg(DISTINCT pg_get_userbyid(r)::text) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN unnest(p.polroles) r
            WHERE n.nspname LIKE 'tenant\_%' AND pg_get_userbyid(r) !~ ('^cot_' || substr(n.nspname, 8) || '_(anon|user|admin)$')), NULL,
          'every policy is TO roles of the table''s own tenant only');
SELECT is((SELECT count(*)::int FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname LIKE 'tenant\_%' AND NOT p.polpermissive), 0, 'no restrictive policies (one permissive policy per group)');

-- Views
SELECT is((SELECT array_agg(schema || '.' || relname) FROM gen_relations
            WHERE relkind = 'v' AND NOT coalesce(reloptions @> ARRAY['security_invoker=true'], false)), NULL,
          'every API view has security_invoker=true');
SELECT is((SELECT array_agg(DISTINCT v.schema || '.' || v.relname || ' -> ' || d.refobjid::regclass::text)
             FROM gen_relations v JOIN pg_rewrite rw ON rw.ev_class = v.oid
             JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> v.oid
             JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
            WHERE v.relkind = 'v' AND (tn.nspname <> 'tenant_' || v.slug OR t.relname <> v.relname)), NULL,
          'every API view reads its own table in its own tenant''s storage schema, nothing else');
SELECT is((SELECT array_agg(v.schema || '.' || v.relname) FROM gen_relations v
            WHERE v.relkind = 'v' AND pg_get_viewdef(v.oid) ~* '\mwhere\M'), NULL,
          'no API view filters rows in a WHERE clause (tenancy is enforced by policies only)');

-- Grants
SELECT set_eq('SELECT schema, relname, grantee, privilege FROM actual_grants', 'SELECT * FROM expected_grants',
              'grants on tables and views: exactly the privileges the rules name, to exactly the roles they name');
SELECT is((SELECT count(*)::int FROM actual_grants WHERE grantee = 'PUBLIC'), 0, 'no grant to PUBLIC on any generated table or view');
SELECT is((SELECT array_agg(DISTINCT privilege) FROM actual_grants WHERE privilege NOT IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')), NULL,
          'no TRUNCATE, REFERENCES or TRIGGER (nor ALL) granted to anyone but the owner');
SELECT is((SELECT count(*)::int FROM actual_grants WHERE is_grantable), 0, 'no grant WITH GRANT OPTION');
SELECT is((SELECT count(*)::int FROM gen_relations r JOIN pg_attribute a ON a.attrelid = r.oid WHERE a.attacl IS NOT NULL), 0,
          'no column-level grants');
SELECT is((SELECT count(*)::int FROM information_schema.role_table_grants
            WHERE (table_schema LIKE 'tenant\_t80_' OR table_schema LIKE 't80_') AND grantee <> 'cot_owner'
              AND privilege_type IN ('TRUNCATE', 'REFERENCES', 'TRIGGER')), 0,
          '... information_schema.role_table_grants agrees: no TRUNCATE/REFERENCES/TRIGGER');

-- Schemas
SELECT is((SELECT array_agg(n.nspname || ':' || pg_get_userbyid(a.grantee)) FROM pg_namespace n JOIN cot.tenants t ON n.nspname = 'tenant_' || t.slug
             CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a WHERE a.grantee <> n.nspowner), NULL,
          'storage schemas: no privilege for anyone but the owner (tables are reached through the views only)');
SELECT set_eq($$SELECT n.nspname::text, pg_get_userbyid(a.grantee)::text, a.privilege_type FROM pg_namespace n JOIN cot.tenants t ON n.nspname = t.slug
                 CROSS JOIN LATERAL aclexplode(n.nspacl) a WHERE a.grantee <> n.nspowner$$,
              $$SELECT t.slug, 'cot_' || t.slug || '_' || k AS grantee, 'USAGE' AS privilege FROM cot.tenants t CROSS JOIN unnest(ARRAY['anon', 'user', 'admin']) k$$,
              'API schemas: USAGE (never CREATE) for the tenant''s own three roles only');
SELECT is((SELECT array_agg(pg_get_userbyid(a.grantee)::text) FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
            WHERE n.nspname = 'cot' AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner), NULL,
          'nobody but its owner may CREATE in schema cot (no function or table can be planted next to the claim helpers)');

-- Roles
SELECT is((SELECT array_agg(rolname::text) FROM pg_roles
            WHERE rolname ~ '^cot_t80[abc]_(anon|user|admin)$' AND (rolcanlogin OR rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolreplication)), NULL,
          'tenant roles: NOLOGIN, NOSUPERUSER, NOBYPASSRLS, NOCREATEROLE, NOCREATEDB, NOREPLICATION');
SELECT is((SELECT count(*)::int FROM pg_roles WHERE rolname ~ '^cot_t80[abc]_(anon|user|admin)$'), 9, '... nine of them for three tenants');
SELECT is((SELECT array_agg(pg_get_userbyid(m.member) || ' in ' || pg_get_userbyid(m.roleid)) FROM pg_auth_members m
            WHERE (pg_get_userbyid(m.member) ~ '^cot_t80[abc]_' AND pg_get_userbyid(m.roleid) ~ '^cot_')
               OR (pg_get_userbyid(m.member) ~ '^cot_' AND pg_get_userbyid(m.roleid) ~ '^(cot_t80[abc]_|cot_owner$)')), NULL,
          'no Cot role is a member of another Cot role (user does not inherit admin, A''s roles are not in B''s, none is in cot_owner)');
SELECT is((SELECT array_agg(pg_get_userbyid(m.member) || ' in ' || pg_get_userbyid(m.roleid)) FROM pg_auth_members m
            WHERE (pg_get_userbyid(m.roleid) ~ '^(cot_t80[abc]_|cot_owner$)' OR pg_get_userbyid(m.member) ~ '^cot_t80[abc]_')
              AND pg_get_userbyid(m.member) NOT IN (SELECT role FROM cot.authenticators)), NULL,
          'the only members of Cot roles are registered authenticators; tenant roles are members of nothing');
SELECT is((SELECT rolcanlogin OR rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'cot_owner'), false,
          'cot_owner: NOLOGIN, NOSUPERUSER, NOBYPASSRLS');

-- Functions
SELECT is((SELECT string_agg(format('%s %s %s secdef=%s set=%s body=%s', p.proname, l.lanname, p.provolatile, p.prosecdef, p.proconfig IS NOT NULL,
                                     p.prosrc ~ ('^\s*SELECT\s+cot\.jwt_claim\(''' || substr(p.proname, 7) || '''\)\s*$')), '; ' ORDER BY p.proname)
             FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
            WHERE p.pronamespace = 'cot'::regnamespace AND p.proname IN ('claim_tenant', 'claim_sub', 'claim_role')),
          'claim_role sql s secdef=f set=f body=t; claim_sub sql s secdef=f set=f body=t; claim_tenant sql s secdef=f set=f body=t',
          'claim helpers: LANGUAGE sql, STABLE, invoker, no SET clause, body SELECT cot.jwt_claim(<its claim>)');
SELECT is((SELECT array_agg(p.proname || ': ' || m[2]) FROM pg_proc p
             CROSS JOIN LATERAL regexp_matches(p.prosrc, '([A-Za-z_][A-Za-z_0-9]*\s*\.\s*)?([A-Za-z_][A-Za-z_0-9]*)\s*\(', 'g') m
            WHERE p.pronamespace = 'cot'::regnamespace AND p.proname IN ('claim_tenant', 'claim_sub', 'claim_role') AND m[1] IS NULL), NULL,
          'claim helper bodies call only schema-qualified functions');
SELECT is((SELECT provolatile::text || prosecdef::text || (proconfig IS NULL)::text FROM pg_proc WHERE oid = 'cot.jwt_claim(text)'::regprocedure), 'sfalsetrue',
          'cot.jwt_claim: STABLE, invoker, no SET clause');
SELECT is((SELECT array_agg(n.nspname || '.' || p.proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE (n.nspname = 'cot' OR n.nspname IN (SELECT slug FROM cot.tenants) OR n.nspname IN (SELECT 'tenant_' || slug FROM cot.tenants))
              AND p.prosecdef
              AND NOT EXISTS (SELECT FROM unnest(p.proconfig) s WHERE s ~ '^search_path=' AND s ~ 'pg_temp\s*$')), NULL,
          'every SECURITY DEFINER function pins search_path, with pg_temp last');
SELECT is((SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc p
            WHERE p.pronamespace = 'cot'::regnamespace
              AND p.proname IN ('create_tenant', 'drop_tenant', 'tenants', 'validate_entity', 'create_entity', 'create_entities',
                                'drop_entity', 'entity', 'entities', 'add_authenticator', 'remove_authenticator', 'postgrest_config',
                                'pre_config', 'create_api_key', 'revoke_api_key')
              AND (has_function_privilege('cot_t80a_user', p.oid, 'EXECUTE') OR has_function_privilege('cot_t80a_anon', p.oid, 'EXECUTE')
                   OR EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0))), NULL,
          'the functions that define, describe or administer are not executable by PUBLIC nor by a tenant''s anon and user roles');
SELECT is((SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc p
            WHERE p.pronamespace = 'cot'::regnamespace AND has_function_privilege('cot_t80a_admin', p.oid, 'EXECUTE')
              AND p.proname IN ('create_tenant', 'drop_tenant', 'tenants', 'validate_entity', 'create_entity', 'create_entities',
                                'drop_entity', 'entity', 'entities', 'add_authenticator', 'remove_authenticator', 'postgrest_config',
                                'pre_config', 'create_api_key', 'revoke_api_key')),
          ARRAY['create_entities', 'create_entity', 'drop_entity', 'entities', 'entity', 'validate_entity'],
          'a tenant''s admin role may execute exactly the entity functions (which check the tenant it names)');
-- The helpers generated tables and policies call as the requesting role, and
-- PostgREST's request hooks, and the drift guard's event-trigger functions
-- (they run as whoever runs DDL anywhere in the database; they only read),
-- and cot.json_arg, which the /rpc/ wrappers call as their caller (it reads
-- nothing: a JSON string holding an object becomes that object), the
-- CHECK helper every writer may reach: cot.rule_broken (raises; reads the
-- name of a field of the table given), and cot.history, which answers a
-- tenant role only what it may read as itself; the workflow functions
-- (cot.transition runs as its caller; cot.transition_target, cot.transitions
-- and cot.workflow_graph check that the caller is one of the tenant's roles,
-- and answer or act as the caller: docs/workflows.md); cot.field_types,
-- the platform-wide custom field types (which fields use each only for the
-- platform role and superusers: docs/field-types.md); cot.listen_changes and
-- cot.unlisten_changes, LISTEN cot_changes counted, which every role may do
-- as it may LISTEN (no data: docs/changes.md).
-- Any other function executable by PUBLIC must be reviewed and added here.
SELECT is((SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc p
            WHERE p.pronamespace = 'cot'::regnamespace
              AND EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
              AND p.proname NOT IN ('claim_tenant', 'claim_sub', 'claim_role', 'jwt_claim', 'uuid_generate_v7', 'system_columns',
                                    'junction_columns', 'owner_column', 'array_items_match', 'definition_schema',
                                    'request_header', 'api_key_claims', 'pre_request',
                                    'guard_ddl', 'guard_drop', 'drift_mode', 'tenant_of_schema', 'ddl_by_cot', 'query', 'query_model',
                                    'json_arg', 'rule_broken', 'history',
                                    'transition', 'transition_target', 'transitions', 'workflow_graph', 'field_types',
                                    'listen_changes', 'unlisten_changes')), NULL,
          'no other Cot function is executable by PUBLIC');
SELECT is((SELECT array_agg(c.relname::text) FROM pg_class c
            WHERE c.relnamespace = 'cot'::regnamespace AND c.relkind IN ('r', 'v', 'S')
              AND (has_table_privilege('cot_t80a_admin', c.oid, 'SELECT') OR has_table_privilege('cot_t80a_anon', c.oid, 'SELECT'))), NULL,
          'Cot''s meta-tables (tenants, entities, ledger, keys) are not readable by tenant roles');


-------------------------------------------------------------------------------
-- 3. The allow/deny matrix (every allowed write rolled back after it was
--    measured; 'changed' names the tables whose rows changed)
-------------------------------------------------------------------------------
-- notes: read public, create tenant, update owner, delete admin.
-- A's rows: n1, n2 owned by u1, n3 by u2, n4 by nobody.
SELECT pg_temp.matrix('t80a', 'notes', 'anon_a',             'ok 4', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'u1_a',               'ok 4', 'ok 1 changed tenant_t80a.notes', 'ok 2 changed tenant_t80a.notes', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'u2_a',               'ok 4', 'ok 1 changed tenant_t80a.notes', 'ok 1 changed tenant_t80a.notes', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'nosub_a',            'ok 4', 'ok 1 changed tenant_t80a.notes', 'ok 0', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a',            'ok 4', 'ok 1 changed tenant_t80a.notes', 'ok 4 changed tenant_t80a.notes',
                      'ok 4 changed tenant_t80a.notes,tenant_t80a.notes_labels');
SELECT pg_temp.matrix('t80a', 'notes', 'anon_b',             '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'u1_b',               '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_b',            '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'u1_b_claims_a',      '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'anon_a_claims_b',    'ok 0', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'u1_a_claims_b',      'ok 0', '42501', 'ok 0', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_claims_b',   'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'user_a_empty',       'ok 0', '42501', 'ok 0', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_empty',      'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'user_a_malformed',   'ok 0', '42501', 'ok 0', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_malformed',  'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'user_a_array',       'ok 0', '42501', 'ok 0', '42501');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_array',      'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_list',       'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_notenant',   'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_tenantnull', 'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_tenantarr',  'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_tenantobj',  'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_nested',     'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_upper',      'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_padded',     'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_prefix',     'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'notes', 'admin_a_trailing',   'ok 0', '42501', 'ok 0', 'ok 0');

-- labels: every rule tenant. A's rows: l1, l2 (l1 linked to n1).
SELECT pg_temp.matrix('t80a', 'labels', 'anon_a',            '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'labels', 'u1_a',              'ok 2', 'ok 1 changed tenant_t80a.labels', 'ok 2 changed tenant_t80a.labels',
                      'ok 2 changed tenant_t80a.labels,tenant_t80a.notes_labels');
SELECT pg_temp.matrix('t80a', 'labels', 'admin_a',           'ok 2', 'ok 1 changed tenant_t80a.labels', 'ok 2 changed tenant_t80a.labels',
                      'ok 2 changed tenant_t80a.labels,tenant_t80a.notes_labels');
SELECT pg_temp.matrix('t80a', 'labels', 'u1_b',              '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'labels', 'u1_a_claims_b',     'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'labels', 'admin_a_claims_b',  'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'labels', 'user_a_empty',      'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'labels', 'user_a_malformed',  'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'labels', 'user_a_array',      'ok 0', '42501', 'ok 0', 'ok 0');
-- B's side: B's user reaches B's labels only.
SELECT pg_temp.matrix('t80b', 'labels', 'u1_b',              'ok 3', 'ok 1 changed tenant_t80b.labels', 'ok 3 changed tenant_t80b.labels',
                      'ok 3 changed tenant_t80b.labels,tenant_t80b.notes_labels');
SELECT pg_temp.matrix('t80b', 'labels', 'u1_a',              '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80b', 'labels', 'u1_a_claims_b',     '42501', '42501', '42501', '42501');

-- secrets: every rule none. Nobody, not even the tenant's admin.
SELECT pg_temp.matrix('t80a', 'secrets', 'anon_a',           '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'secrets', 'u1_a',             '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'secrets', 'admin_a',          '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'secrets', 'admin_b',          '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'secrets', 'admin_a_empty',    '42501', '42501', '42501', '42501');

-- configs: no access key, so admin for everything.
SELECT pg_temp.matrix('t80a', 'configs', 'anon_a',           '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'configs', 'u1_a',             '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'configs', 'admin_a',          'ok 2', 'ok 1 changed tenant_t80a.configs', 'ok 2 changed tenant_t80a.configs', 'ok 2 changed tenant_t80a.configs');
SELECT pg_temp.matrix('t80a', 'configs', 'admin_b',          '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'configs', 'admin_a_claims_b', 'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'configs', 'admin_a_malformed', 'ok 0', '42501', 'ok 0', 'ok 0');

-- diary: every rule owner. d1 owned by u1, d2 by u2.
SELECT pg_temp.matrix('t80a', 'diary', 'anon_a',             '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'diary', 'u1_a',               'ok 1', 'ok 1 changed tenant_t80a.diary', 'ok 1 changed tenant_t80a.diary', 'ok 1 changed tenant_t80a.diary');
SELECT pg_temp.matrix('t80a', 'diary', 'u2_a',               'ok 1', 'ok 1 changed tenant_t80a.diary', 'ok 1 changed tenant_t80a.diary', 'ok 1 changed tenant_t80a.diary');
SELECT pg_temp.matrix('t80a', 'diary', 'nosub_a',            'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'diary', 'admin_a',            'ok 2', 'ok 1 changed tenant_t80a.diary', 'ok 2 changed tenant_t80a.diary', 'ok 2 changed tenant_t80a.diary');
SELECT pg_temp.matrix('t80a', 'diary', 'u1_a_claims_b',      'ok 0', '42501', 'ok 0', 'ok 0');
SELECT pg_temp.matrix('t80a', 'diary', 'u1_b',               '42501', '42501', '42501', '42501');
SELECT pg_temp.matrix('t80a', 'diary', 'user_a_empty',       'ok 0', '42501', 'ok 0', 'ok 0');

-- The junction notes_labels: read follows notes (public), adding and removing
-- links follows update (owner: a user adds and removes only the links of the
-- notes they own), no UPDATE. The link planted is n3's (u2's); the one in
-- place is n1's (u1's).
CREATE FUNCTION pg_temp.junction(caller text, e_select text, e_insert text, e_update text, e_delete text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN NEXT is(pg_temp.req(caller, 'SELECT * FROM t80a.notes_labels'), e_select, format('%s: SELECT on t80a.notes_labels -> %s', caller, e_select));
    RETURN NEXT is(pg_temp.req(caller, $q$INSERT INTO t80a.notes_labels (notes_id, labels_id) VALUES ('aaaaaaaa-0000-0000-0000-000000000003', 'aaaaaaaa-1111-0000-0000-000000000002')$q$),
                   e_insert, format('%s: INSERT on t80a.notes_labels -> %s', caller, e_insert));
    RETURN NEXT is(pg_temp.req(caller, 'UPDATE t80a.notes_labels SET created_at = now()'), e_update, format('%s: UPDATE on t80a.notes_labels -> %s', caller, e_update));
    RETURN NEXT is(pg_temp.req(caller, 'DELETE FROM t80a.notes_labels'), e_delete, format('%s: DELETE on t80a.notes_labels -> %s', caller, e_delete));
END $$;
SELECT pg_temp.junction('anon_a',           'ok 1', '42501', '42501', '42501');
SELECT pg_temp.junction('u1_a',             'ok 1', '42501', '42501', 'ok 1 changed tenant_t80a.notes_labels');
SELECT pg_temp.junction('u2_a',             'ok 1', 'ok 1 changed tenant_t80a.notes_labels', '42501', 'ok 0');
SELECT pg_temp.junction('nosub_a',          'ok 1', '42501', '42501', 'ok 0');
SELECT pg_temp.junction('admin_a',          'ok 1', 'ok 1 changed tenant_t80a.notes_labels', '42501', 'ok 1 changed tenant_t80a.notes_labels');
SELECT pg_temp.junction('u1_b',             '42501', '42501', '42501', '42501');
SELECT pg_temp.junction('u1_a_claims_b',    'ok 0', '42501', '42501', 'ok 0');
SELECT pg_temp.junction('admin_a_claims_b', 'ok 0', '42501', '42501', 'ok 0');
SELECT pg_temp.junction('user_a_empty',     'ok 0', '42501', '42501', 'ok 0');
SELECT pg_temp.junction('admin_a_malformed', 'ok 0', '42501', '42501', 'ok 0');

-- Beyond the views: the storage schema, TRUNCATE, Cot's own functions and
-- meta-tables, statistics.
SELECT is(pg_temp.req('admin_a', 'SELECT * FROM tenant_t80a.notes'), '42501', 'A''s admin cannot read the storage table directly (no USAGE on tenant_t80a)');
SELECT is(pg_temp.req('admin_a', 'TRUNCATE tenant_t80a.notes'), '42501', 'A''s admin cannot TRUNCATE the table (it would skip row security)');
SELECT is(pg_temp.req('admin_a', 'TRUNCATE t80a.notes'), '42809', '... nor the view (a view cannot be truncated)');
SELECT is(pg_temp.req('admin_a', 'DELETE FROM t80b.notes'), '42501', 'A''s admin cannot DELETE through B''s view');
SELECT is(pg_temp.req('admin_a_claims_b', 'DELETE FROM t80b.notes'), '42501', '... not even with B''s tenant claim');
SELECT is(pg_temp.req('admin_a', 'SELECT * FROM cot.tenants'), '42501', 'a tenant admin cannot read cot.tenants (other tenants'' names)');
SELECT is(pg_temp.req('admin_a', 'SELECT * FROM cot.entities'), '42501', '... nor cot.entities (other tenants'' definitions)');
SELECT is(pg_temp.req('admin_a', 'SELECT * FROM cot.migrations'), '42501', '... nor the ledger');
SELECT is(pg_temp.req('admin_a', 'SELECT * FROM cot.api_keys'), '42501', '... nor cot.api_keys');
SELECT is(pg_temp.req('admin_a', 'SELECT cot.tenants()'), '42501', '... nor call cot.tenants()');
SELECT is(pg_temp.req('admin_a', $$SELECT cot.entity('t80b', 'notes')$$), '42501', '... nor cot.entity() on another tenant');
SELECT is(pg_temp.req('admin_a', $$SELECT cot.create_entity('{"tenant": "t80b", "name": "planted", "fields": []}')$$), '42501', '... nor create an entity');
SELECT is(pg_temp.req('admin_a', $$SELECT cot.drop_tenant('t80b', true)$$), '42501', '... nor drop a tenant');
ANALYZE tenant_t80a.notes;
SELECT ok((SELECT count(*) FROM pg_stats WHERE schemaname = 'tenant_t80a' AND tablename = 'notes') > 0, 'statistics exist for tenant_t80a.notes (as superuser)');
SELECT is(pg_temp.req('admin_a', $$SELECT * FROM pg_stats WHERE schemaname = 'tenant_t80a'$$), 'ok 0', '... and pg_stats hides them from A''s admin (row security is on)');
SELECT is(pg_temp.req('admin_b', $$SELECT * FROM pg_stats WHERE schemaname = 'tenant_t80a'$$), 'ok 0', '... and from B''s admin');

-- The claim is inlined and read once per statement (an InitPlan), as the
-- requesting role.
CREATE FUNCTION pg_temp.plan_as(caller text, q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c callers;
    line text;
    acc text := '';
BEGIN
    SELECT * INTO STRICT c FROM callers WHERE name = caller;
    PERFORM set_config('request.jwt.claims', c.claims, true);
    PERFORM set_config('role', c.role, true);
    FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
        acc := acc || line || E'\n';
    END LOOP;
    PERFORM set_config('role', 'none', true);
    RETURN acc;
END $$;
SELECT matches(pg_temp.plan_as('u1_a', 'SELECT * FROM t80a.notes'), 'InitPlan.*cot\.jwt_claim\(''tenant''::text\)',
               'the plan of a read as A''s user evaluates cot.jwt_claim(''tenant'') once, in an InitPlan (claim_tenant inlined)');
SELECT doesnt_match(pg_temp.plan_as('u1_a', 'SELECT * FROM t80a.notes'), 'claim_tenant\(', '... and does not call claim_tenant() itself');
SELECT matches(pg_temp.plan_as('u1_a', $$UPDATE t80a.notes SET body = 'x'$$), 'cot\.jwt_claim\(''sub''::text\)',
               'the plan of an owner-rule update reads the sub claim, inlined too');


-------------------------------------------------------------------------------
-- 4. Writes as PostgREST sends them, kept (owner_id, RETURNING, upserts)
-------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.owners(tbl regclass) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    res text;
BEGIN
    EXECUTE format($q$SELECT string_agg(body || ':' || coalesce(owner_id, '-'), ' ' ORDER BY body) FROM %s$q$, tbl) INTO res;
    RETURN res;
END $$;
SELECT is(pg_temp.owners('tenant_t80a.notes'), 'n1:u1 n2:u1 n3:u2 n4:-', 'A''s notes and their owners before the writes');

-- POST with return=minimal, a forged owner_id: the trigger sets the sub claim.
SELECT is(pg_temp.req('u1_a', $$INSERT INTO t80a.notes (tag, body, owner_id) VALUES ('t80a', 'n5', 'u2')$$, true),
          'ok 1 changed tenant_t80a.notes', 'u1 inserts n5 claiming owner_id u2 (no RETURNING)');
SELECT is(pg_temp.owners('tenant_t80a.notes'), 'n1:u1 n2:u1 n3:u2 n4:- n5:u1', '... n5 belongs to u1, the sub claim, not to u2');
-- POST with return=representation.
SELECT is(pg_temp.req('u2_a', $$INSERT INTO t80a.notes (tag, body) VALUES ('t80a', 'n6') RETURNING id, owner_id$$, true),
          'ok 1 changed tenant_t80a.notes', 'u2 inserts n6 with RETURNING');
SELECT is(pg_temp.req('anon_a', $$INSERT INTO t80a.notes (tag, body) VALUES ('t80a', 'x') RETURNING id$$, true), '42501', 'anon cannot insert, RETURNING or not');
SELECT is(pg_temp.req('u1_a_claims_b', $$INSERT INTO t80a.notes (tag, body) VALUES ('t80a', 'x')$$, true), '42501',
          'A''s user claiming tenant B cannot insert into A (WITH CHECK), nothing changed');
SELECT is(pg_temp.req('u1_a_claims_b', $$INSERT INTO t80b.notes (tag, body) VALUES ('t80b', 'x')$$, true), '42501',
          '... nor into B (no grant on B''s view), nothing changed');
SELECT is(pg_temp.req('u1_b_claims_a', $$INSERT INTO t80b.notes (tag, body) VALUES ('t80a', 'x')$$, true), '42501',
          'B''s user claiming tenant A cannot insert into B either');
-- PATCH that tries to change owner_id: the trigger keeps it.
SELECT is(pg_temp.req('u1_a', $$UPDATE t80a.notes SET owner_id = 'u2', body = body WHERE body = 'n1'$$, true),
          'ok 1 changed tenant_t80a.notes', 'u1 patches n1 setting owner_id to u2');
SELECT is(pg_temp.req('admin_a', $$UPDATE t80a.notes SET owner_id = 'boss'$$, true),
          'ok 6 changed tenant_t80a.notes', 'A''s admin patches every note setting owner_id to boss');
SELECT is(pg_temp.owners('tenant_t80a.notes'), 'n1:u1 n2:u1 n3:u2 n4:- n5:u1 n6:u2', '... every owner_id is kept: the owner cannot be changed');
-- The owner rule: u2 sees u1's rows but cannot change or delete them.
SELECT is(pg_temp.req('u2_a', $$SELECT * FROM t80a.notes WHERE owner_id = 'u1'$$), 'ok 3', 'u2 sees u1''s three notes (read is public)');
SELECT is(pg_temp.req('u2_a', $$UPDATE t80a.notes SET body = 'hijacked' WHERE owner_id = 'u1'$$, true), 'ok 0', '... but its PATCH of them updates 0 rows, nothing changed');
SELECT is(pg_temp.req('u2_a', $$UPDATE t80a.notes SET body = 'hijacked' WHERE id = 'aaaaaaaa-0000-0000-0000-000000000001' RETURNING *$$, true), 'ok 0',
          '... also by id with RETURNING');
SELECT is(pg_temp.req('u2_a', $$DELETE FROM t80a.notes WHERE owner_id = 'u1'$$, true), '42501', '... and it cannot delete (delete is admin)');
-- Upserts (Prefer: resolution=merge-duplicates) on someone else's row.
SELECT is(pg_temp.req('u2_a', $$INSERT INTO t80a.notes (id, tag, body) VALUES ('aaaaaaaa-0000-0000-0000-000000000001', 't80a', 'hijacked')
                                ON CONFLICT (id) DO UPDATE SET body = excluded.body$$, true), '42501',
          'u2''s upsert onto u1''s note n1 is refused (UPDATE policy USING), nothing changed');
SELECT is(pg_temp.req('u1_a', $$INSERT INTO t80a.notes (id, tag, body) VALUES ('aaaaaaaa-0000-0000-0000-000000000001', 't80a', 'n1')
                                ON CONFLICT (id) DO UPDATE SET body = excluded.body$$, true), 'ok 1 changed tenant_t80a.notes',
          'u1''s upsert onto its own note n1 works');
SELECT is(pg_temp.req('u1_a', $$INSERT INTO t80a.notes (id, tag, body) VALUES ('aaaaaaaa-0000-0000-0000-000000000001', 't80a', 'n1')
                                ON CONFLICT (id) DO NOTHING$$, true), 'ok 0', 'an upsert with DO NOTHING on an existing row writes nothing');
-- Users of A and B with the same sub: each reaches its own tenant's rows only.
SELECT is(pg_temp.req('u1_b', $$UPDATE t80b.notes SET body = body$$, true), 'ok 1 changed tenant_t80b.notes',
          'B''s u1 (same sub as A''s u1) patches B''s notes without a filter: its 1 note, nothing of A');
SELECT is(pg_temp.req('u1_a', $$UPDATE t80a.notes SET body = body$$, true), 'ok 3 changed tenant_t80a.notes',
          'A''s u1 patches without a filter: its 3 notes, nothing of B');
SELECT is(pg_temp.req('admin_a', $$UPDATE t80a.notes SET tag = 't80b'$$, true), 'ok 6 changed tenant_t80a.notes',
          'a tag column is data, not tenancy: A''s admin may write ''t80b'' into it');
SELECT is(pg_temp.req('admin_a', $$UPDATE t80a.notes SET tag = 't80a'$$, true), 'ok 6 changed tenant_t80a.notes', '... and back');
-- The junction follows update = owner: a link is its note's owner's.
SELECT is(pg_temp.req('u2_a', $$INSERT INTO t80a.notes_labels (notes_id, labels_id) VALUES ('aaaaaaaa-0000-0000-0000-000000000002', 'aaaaaaaa-1111-0000-0000-000000000002')$$),
          '42501', 'u2 may not link u1''s note n2 to a label (junction writes follow update = owner)');
SELECT is(pg_temp.req('u1_a', $$INSERT INTO t80a.notes_labels (notes_id, labels_id) VALUES ('aaaaaaaa-0000-0000-0000-000000000002', 'aaaaaaaa-1111-0000-0000-000000000002')$$),
          'ok 1 changed tenant_t80a.notes_labels', '... and u1, its owner, may');
SELECT is(pg_temp.req('u2_a', $$DELETE FROM t80a.notes_labels WHERE notes_id = 'aaaaaaaa-0000-0000-0000-000000000001'$$),
          'ok 0', '... nor may u2 remove the link of u1''s note n1 (nothing deleted)');
-- The matrix's own harness catches a leak: the same requests with a policy
-- or FORCE broken on purpose (rolled back right after).
CREATE FUNCTION pg_temp.with_break(break text, caller text, q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    res text;
BEGIN
    BEGIN
        EXECUTE break;
        res := pg_temp.req(caller, q, true);
        RAISE SQLSTATE 'PX002' USING MESSAGE = res;
    EXCEPTION WHEN SQLSTATE 'PX002' THEN
        res := SQLERRM;
    END;
    RETURN res;
END $$;
INSERT INTO callers VALUES ('owner_claims_a', 'cot_owner', '{"tenant": "t80a", "sub": "u1"}');
SELECT is(pg_temp.req('admin_a_claims_b', 'DELETE FROM t80a.notes'), 'ok 0', 'A''s admin claiming B: filterless DELETE deletes 0 of A''s notes');
SELECT is(pg_temp.with_break('ALTER POLICY cot_delete ON tenant_t80a.notes USING (true)', 'admin_a_claims_b', 'DELETE FROM t80a.notes'),
          'ok 6 changed tenant_t80a.notes,tenant_t80a.notes_labels',
          '... with cot_delete USING (true) the same filterless DELETE (return=minimal: it reads no column) deletes all 6, and the harness sees it');
SELECT is(pg_temp.with_break('ALTER POLICY cot_delete ON tenant_t80a.notes USING (true)', 'admin_a_claims_b',
                             $$DELETE FROM t80a.notes WHERE id = 'aaaaaaaa-0000-0000-0000-000000000003'$$), 'ok 0',
          '... while a DELETE with a filter is still held by the SELECT policy (it reads a column)');
SELECT is(pg_temp.req('owner_claims_a', 'SELECT * FROM t80a.notes'), 'ok 0',
          'cot_owner (the tables'' owner) sees none of A''s notes, even with A''s claim: FORCE holds it to the policies, none of which is TO it');
SELECT is(pg_temp.with_break('ALTER TABLE tenant_t80a.notes NO FORCE ROW LEVEL SECURITY', 'owner_claims_a', 'SELECT * FROM t80a.notes'), 'ok 6',
          '... without FORCE the owner would see all 6');
SELECT is(pg_temp.req('u2_a', $$UPDATE t80a.notes SET body = 'hijacked'$$), 'ok 2 changed tenant_t80a.notes', 'u2''s filterless PATCH updates its 2 notes');
SELECT is(pg_temp.with_break('ALTER POLICY cot_update_owner ON tenant_t80a.notes USING ((SELECT cot.claim_tenant() = ''t80a''))', 'u2_a',
                             $$UPDATE t80a.notes SET body = 'hijacked'$$), '42501',
          '... with the owner check dropped from USING, u2''s PATCH reaches u1''s rows and the WITH CHECK (still owner) refuses the whole statement');
SELECT is(pg_temp.with_break('ALTER POLICY cot_update_owner ON tenant_t80a.notes USING ((SELECT cot.claim_tenant() = ''t80a'')) WITH CHECK ((SELECT cot.claim_tenant() = ''t80a''))', 'u2_a',
                             $$UPDATE t80a.notes SET body = 'hijacked'$$), 'ok 6 changed tenant_t80a.notes',
          '... and with it dropped from both, u2 updates all 6 notes (u1''s and nobody''s too), and the harness sees it');

-- An anonymous request after a user's on the same connection: '' claims.
SELECT is(pg_temp.req('user_a_empty', $$SELECT * FROM t80a.notes$$), 'ok 0', 'claims '''' (pooled connection): 0 rows, no 22P02');


-------------------------------------------------------------------------------
-- 5. A randomized cross-tenant run
-------------------------------------------------------------------------------
-- n random requests: a role (anon, user or admin of one of three tenants),
-- claims (its own tenant, another tenant, no tenant, '', malformed, an array,
-- a null, list or object tenant; sub u1, u2 or none), a target view (the
-- role's tenant or another), an entity (notes, labels, secrets, configs) and a
-- command: GET; POST with return=minimal; PATCH without a filter or by an id
-- drawn from every tenant's rows; DELETE by such an id with RETURNING
-- (return=representation) or without, or (rarely) without a filter. Measured:
--   foreign_seen     rows returned whose tag is not the claim's tenant;
--   foreign_written  rows updated or deleted in a table of another tenant
--                    than the claim's;
--   planted          rows inserted into a table of another tenant than the
--                    claim's;
--   mistagged        rows (at the end, as superuser) in a tenant's table whose
--                    tag is not that tenant: an insert or update under
--                    another tenant's claim landed there and stayed;
--   mismatches       outcomes that differ from an oracle computed from the
--                    access rules and, as superuser, the rows the request may
--                    reach ('ok N' or 42501);
--   states           SQLSTATEs seen (only ok and 42501 may appear).
-- Every request runs in a subtransaction, as PostgREST's would in its own.
CREATE FUNCTION pg_temp.random_run(n int, seed float8) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    tenants text[] := ARRAY['t80a', 't80b', 't80c'];
    kinds text[] := ARRAY['anon', 'user', 'admin'];
    entities text[] := ARRAY['notes', 'labels', 'secrets', 'configs'];
    cmds text[] := ARRAY['select', 'insert', 'update', 'delete'];
    groups jsonb := '{"public": ["anon", "user", "admin"], "tenant": ["user", "admin"], "owner": ["user", "admin"], "admin": ["admin"], "none": []}';
    access jsonb := '{}';
    ids uuid[];
    rt text; kind text; role text; sub text; claims text; claim_t text; vt text; ent text; cmd text;
    by_id boolean; target uuid; q text; r float8;
    granted boolean; sel_granted boolean; rule text; pred text; expected text; actual text;
    cnt bigint; fgn bigint;
    requests int := 0; ok_count int := 0; denied int := 0; mismatches int := 0;
    rows_seen bigint := 0; foreign_seen bigint := 0; foreign_written bigint := 0; rows_written bigint := 0;
    with_returning boolean;
    planted bigint := 0; mistagged bigint := 0;
    states jsonb := '{}';
    examples jsonb := '[]';
    t text; e text; x bigint;
BEGIN
    PERFORM setseed(seed);
    FOREACH t IN ARRAY tenants LOOP
        FOREACH e IN ARRAY entities LOOP
            access := jsonb_set(access, ARRAY[t || '.' || e], cot.entity(t, e)->'access', true);
        END LOOP;
    END LOOP;
    SELECT array_agg(id ORDER BY id) INTO ids FROM (
        SELECT id FROM tenant_t80a.notes UNION ALL SELECT id FROM tenant_t80a.labels UNION ALL SELECT id FROM tenant_t80a.configs
        UNION ALL SELECT id FROM tenant_t80b.notes UNION ALL SELECT id FROM tenant_t80b.labels UNION ALL SELECT id FROM tenant_t80b.configs
        UNION ALL SELECT id FROM tenant_t80c.notes UNION ALL SELECT id FROM tenant_t80c.labels UNION ALL SELECT id FROM tenant_t80c.configs) s;

    FOR i IN 1..n LOOP
        rt := tenants[1 + floor(random() * 3)::int];
        kind := kinds[1 + floor(random() * 3)::int];
        role := format('cot_%s_%s', rt, kind);
        sub := (ARRAY['u1', 'u2', NULL])[1 + floor(random() * 3)::int];
        r := random();
        IF r < 0.45 THEN
            claim_t := rt;
        ELSIF r < 0.75 THEN
            claim_t := (SELECT o FROM unnest(tenants) o WHERE o <> rt ORDER BY o LIMIT 1 OFFSET floor(random() * 2)::int);
        ELSE
            claim_t := NULL;
        END IF;
        IF claim_t IS NOT NULL OR r < 0.80 THEN
            claims := jsonb_strip_nulls(jsonb_build_object('role', role, 'tenant', claim_t, 'sub', sub))::text;
        ELSE
            claims := (ARRAY['', '{not json', '[]', format('[{"tenant": "%s"}]', rt), format('{"tenant": ["%s"]}', rt),
                             '{"tenant": null}', format('{"tenant": {"tenant": "%s"}}', rt), format('{"tenant": "%s"} trailing', rt)])
                      [1 + floor(random() * 8)::int];
        END IF;
        vt := CASE WHEN random() < 0.6 THEN rt ELSE tenants[1 + floor(random() * 3)::int] END;
        ent := entities[1 + floor(random() * 4)::int];
        cmd := cmds[1 + floor(random() * 4)::int];
        by_id := random() < CASE cmd WHEN 'update' THEN 0.5 WHEN 'delete' THEN 0.9 ELSE 0 END;
        with_returning := cmd = 'delete' AND by_id AND random() < 0.75;
        target := ids[1 + floor(random() * array_length(ids, 1))::int];

        -- The oracle (as superuser).
        rule := access->(vt || '.' || ent)->>(CASE cmd WHEN 'select' THEN 'read' WHEN 'insert' THEN 'create' ELSE cmd END);
        granted := rt = vt AND groups->rule ? kind;
        sel_granted := rt = vt AND groups->(access->(vt || '.' || ent)->>'read') ? kind;
        pred := CASE WHEN claim_t = vt THEN 'true' ELSE 'false' END
                || CASE WHEN rule = 'owner' AND kind = 'user' THEN format(' AND owner_id = %L', sub) ELSE '' END
                || CASE WHEN by_id THEN format(' AND id = %L', target) ELSE '' END;
        IF NOT granted OR ((by_id OR with_returning) AND NOT sel_granted) THEN
            expected := '42501';
        ELSIF cmd = 'insert' THEN
            expected := CASE WHEN claim_t = vt AND NOT (rule = 'owner' AND kind = 'user' AND sub IS NULL) THEN 'ok 1' ELSE '42501' END;
        ELSE
            EXECUTE format('SELECT count(*) FROM %I.%I WHERE %s', 'tenant_' || vt, ent, pred) INTO cnt;
            expected := 'ok ' || cnt;
        END IF;

        -- The request.
        q := CASE cmd
            WHEN 'select' THEN format('SELECT count(*), count(*) FILTER (WHERE tag IS DISTINCT FROM %L) FROM %I.%I', claim_t, vt, ent)
            WHEN 'insert' THEN format('INSERT INTO %I.%I (tag) VALUES (%L)', vt, ent, coalesce(claim_t, '(none)'))
            WHEN 'update' THEN format('UPDATE %I.%I SET tag = %L', vt, ent, coalesce(claim_t, '(none)'))
                               || CASE WHEN by_id THEN format(' WHERE id = %L', target) ELSE '' END
            ELSE format('DELETE FROM %I.%I', vt, ent) || CASE WHEN by_id THEN format(' WHERE id = %L', target) ELSE '' END
                 || CASE WHEN with_returning THEN ' RETURNING tag' ELSE '' END
        END;
        BEGIN
            PERFORM set_config('request.jwt.claims', claims, true);
            PERFORM set_config('role', role, true);
            IF cmd = 'select' THEN
                EXECUTE q INTO cnt, fgn;
            ELSE
                EXECUTE q;
                GET DIAGNOSTICS cnt = ROW_COUNT;
                fgn := 0;
            END IF;
            PERFORM set_config('role', 'none', true);
            actual := 'ok ' || cnt;
        EXCEPTION WHEN OTHERS THEN
            actual := SQLSTATE;
            cnt := 0;
            fgn := 0;
        END;

        requests := requests + 1;
        states := jsonb_set(states, ARRAY[split_part(actual, ' ', 1)], to_jsonb(coalesce((states->>split_part(actual, ' ', 1))::int, 0) + 1));
        IF actual LIKE 'ok%' THEN ok_count := ok_count + 1; ELSE denied := denied + 1; END IF;
        IF cmd = 'select' THEN
            rows_seen := rows_seen + cnt;
            foreign_seen := foreign_seen + fgn;
        ELSIF actual LIKE 'ok%' THEN
            rows_written := rows_written + cnt;
            IF cmd IN ('update', 'delete') AND claim_t IS DISTINCT FROM vt THEN
                foreign_written := foreign_written + cnt;
            ELSIF cmd = 'insert' AND claim_t IS DISTINCT FROM vt THEN
                planted := planted + cnt;
            END IF;
        END IF;
        IF actual IS DISTINCT FROM expected THEN
            mismatches := mismatches + 1;
            IF jsonb_array_length(examples) < 5 THEN
                examples := examples || jsonb_build_object('role', role, 'claims', claims, 'q', q, 'expected', expected, 'actual', actual, 'foreign', fgn);
            END IF;
        END IF;
    END LOOP;

    FOREACH t IN ARRAY tenants LOOP
        FOREACH e IN ARRAY entities LOOP
            EXECUTE format('SELECT count(*) FROM %I.%I WHERE tag IS DISTINCT FROM %L', 'tenant_' || t, e, t) INTO x;
            mistagged := mistagged + x;
        END LOOP;
    END LOOP;
    RETURN jsonb_build_object('requests', requests, 'ok', ok_count, 'denied', denied, 'rows_seen', rows_seen,
                              'rows_written', rows_written, 'foreign_seen', foreign_seen, 'foreign_written', foreign_written,
                              'planted', planted, 'mistagged', mistagged, 'mismatches', mismatches, 'states', states, 'examples', examples);
END $$;

-- A run inside a subtransaction that is rolled back afterwards, with `break`
-- (SQL run as superuser first) if given: every run starts from the same rows
-- and policies, so the same seed makes the same requests.
CREATE FUNCTION pg_temp.run_and_undo(n int, seed float8, break text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    res jsonb;
BEGIN
    BEGIN
        IF break IS NOT NULL THEN
            EXECUTE break;
        END IF;
        res := pg_temp.random_run(n, seed);
        RAISE SQLSTATE 'PX001' USING MESSAGE = res::text;
    EXCEPTION WHEN SQLSTATE 'PX001' THEN
        res := SQLERRM::jsonb;
    END;
    RETURN res;
END $$;

CREATE TEMP TABLE runs AS SELECT 'clean'::text AS name, pg_temp.run_and_undo(10000, 0.8) AS r;
SELECT diag('clean run: ' || (SELECT (r - 'examples')::text FROM runs WHERE name = 'clean'));
SELECT is((SELECT (r->>'requests')::int FROM runs WHERE name = 'clean'), 10000, 'randomized run: 10,000 requests');
SELECT is((SELECT (r->>'foreign_seen')::int FROM runs WHERE name = 'clean'), 0, '... 0 foreign rows seen');
SELECT is((SELECT (r->>'planted')::int FROM runs WHERE name = 'clean'), 0, '... 0 rows planted in another tenant''s table');
SELECT is((SELECT (r->>'mistagged')::int FROM runs WHERE name = 'clean'), 0, '... 0 rows at the end in a table whose tenant is not their tag');
SELECT is((SELECT (r->>'foreign_written')::int FROM runs WHERE name = 'clean'), 0, '... 0 rows updated or deleted in another tenant''s table');
SELECT is((SELECT (r->>'mismatches')::int FROM runs WHERE name = 'clean'), 0, '... every outcome is the oracle''s (rows and 42501)');
SELECT is((SELECT (r->'examples')::text FROM runs WHERE name = 'clean'), '[]', '... (no mismatch to show)');
SELECT is((SELECT array_agg(k ORDER BY k) FROM runs, jsonb_object_keys(r->'states') k WHERE name = 'clean'), ARRAY['42501', 'ok'],
          '... the only outcomes are ok and 42501 (never 22P02 or another error)');
SELECT ok((SELECT (r->>'rows_seen')::int > 500 AND (r->>'rows_written')::int > 100 AND (r->>'ok')::int > 500 AND (r->>'denied')::int > 500 FROM runs WHERE name = 'clean'),
          '... and it is not vacuous: over 500 rows seen, 100 written, 500 requests allowed and 500 denied');

-- Break one policy on purpose: the same run must now see A's rows under other
-- tenants' claims (and under none).
INSERT INTO runs SELECT 'broken select', pg_temp.run_and_undo(2400, 0.8, 'ALTER POLICY cot_select ON tenant_t80a.notes USING (true)');
SELECT diag('broken select policy: ' || (SELECT (r - 'examples')::text FROM runs WHERE name = 'broken select'));
SELECT ok((SELECT (r->>'foreign_seen')::int > 0 FROM runs WHERE name = 'broken select'),
          'with cot_select on tenant_t80a.notes USING (true) the same run counts foreign rows seen (the harness catches a leak)');
SELECT ok((SELECT (r->>'mismatches')::int > 0 FROM runs WHERE name = 'broken select'), '... and the oracle flags the requests');
-- Break a WITH CHECK: rows get planted.
INSERT INTO runs SELECT 'broken insert', pg_temp.run_and_undo(2400, 0.8, 'ALTER POLICY cot_insert ON tenant_t80b.labels WITH CHECK (true)');
SELECT diag('broken insert policy: ' || (SELECT (r - 'examples')::text FROM runs WHERE name = 'broken insert'));
SELECT ok((SELECT (r->>'planted')::int > 0 FROM runs WHERE name = 'broken insert'),
          'with cot_insert on tenant_t80b.labels WITH CHECK (true) the same run counts planted rows');
-- Break an UPDATE policy (USING and WITH CHECK): filterless PATCHes under other
-- tenants' claims now write C's labels.
INSERT INTO runs SELECT 'broken update', pg_temp.run_and_undo(2400, 0.8, 'ALTER POLICY cot_update ON tenant_t80c.labels USING (true) WITH CHECK (true)');
SELECT diag('broken update policy: ' || (SELECT (r - 'examples')::text FROM runs WHERE name = 'broken update'));
SELECT ok((SELECT (r->>'foreign_written')::int > 0 AND (r->>'mistagged')::int > 0 FROM runs WHERE name = 'broken update'),
          'with cot_update on tenant_t80c.labels USING (true) WITH CHECK (true) the same run counts foreign rows written and mistagged');
SELECT set_eq('SELECT * FROM actual_policies', 'SELECT * FROM expected_policies', 'the broken policies were rolled back: every policy is as generated again');
SELECT is(pg_temp.run_and_undo(10000, 0.8) - 'examples', (SELECT r - 'examples' FROM runs WHERE name = 'clean'), 'the clean run again gives the same counts');


-------------------------------------------------------------------------------
-- 6. The claim helpers directly: NULL for anything but a claim that is a
--    string or number, never an error
-------------------------------------------------------------------------------
-- tenant|sub|role for a claims setting ('NULL' for NULL), or ERROR and the
-- SQLSTATE; as `as_role` if given (policies call them as the requesting role).
CREATE FUNCTION pg_temp.claims(setting text, as_role text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    res text;
BEGIN
    PERFORM set_config('request.jwt.claims', setting, true);
    BEGIN
        IF as_role IS NOT NULL THEN
            PERFORM set_config('role', as_role, true);
        END IF;
        res := concat_ws('|', coalesce(cot.claim_tenant(), 'NULL'), coalesce(cot.claim_sub(), 'NULL'), coalesce(cot.claim_role(), 'NULL'));
        PERFORM set_config('role', 'none', true);
    EXCEPTION WHEN OTHERS THEN
        res := 'ERROR ' || SQLSTATE;
    END;
    RETURN res;
END $$;
SELECT is(pg_temp.claims('{"tenant": "t80a", "sub": "u1", "role": "cot_t80a_user"}'), 't80a|u1|cot_t80a_user', 'a full claims object: tenant, sub, role');
SELECT is(pg_temp.claims('{"tenant": "t80a", "sub": "u1", "role": "cot_t80a_user"}', 'cot_t80a_anon'), 't80a|u1|cot_t80a_user', '... read the same as a tenant role');
SELECT is(pg_temp.claims('{"tenant": "t80a", "sub": "u1", "role": "cot_t80a_user"}', 'cot_t80b_user'), 't80a|u1|cot_t80a_user', '... and as another tenant''s role');
SELECT is(pg_temp.claims(''), 'NULL|NULL|NULL', 'claims '''': NULL, no error');
SELECT is(pg_temp.claims('', 'cot_t80a_anon'), 'NULL|NULL|NULL', 'claims '''' as a tenant role: NULL, no error');
SELECT is(pg_temp.claims('{not json'), 'NULL|NULL|NULL', 'malformed JSON: NULL, no error');
SELECT is(pg_temp.claims('{not json', 'cot_t80a_anon'), 'NULL|NULL|NULL', 'malformed JSON as a tenant role: NULL, no error');
SELECT is(pg_temp.claims('{"tenant": "t80a"'), 'NULL|NULL|NULL', 'truncated JSON: NULL');
SELECT is(pg_temp.claims('{"tenant": "t80a"} {"tenant": "t80b"}'), 'NULL|NULL|NULL', 'two objects: NULL');
SELECT is(pg_temp.claims('{"tenant": "t80a"} trailing'), 'NULL|NULL|NULL', 'an object followed by text: NULL');
SELECT is(pg_temp.claims('[]'), 'NULL|NULL|NULL', 'an empty array: NULL');
SELECT is(pg_temp.claims('[{"tenant": "t80a", "sub": "u1", "role": "r"}]'), 'NULL|NULL|NULL', 'an array holding a claims object: NULL');
SELECT is(pg_temp.claims('"t80a"'), 'NULL|NULL|NULL', 'a JSON string: NULL');
SELECT is(pg_temp.claims('null'), 'NULL|NULL|NULL', 'JSON null: NULL');
SELECT is(pg_temp.claims('42'), 'NULL|NULL|NULL', 'a JSON number: NULL');
SELECT is(pg_temp.claims('{}'), 'NULL|NULL|NULL', 'an empty object: NULL');
SELECT is(pg_temp.claims('{"sub": 42}'), 'NULL|NULL|NULL', 'a number sub: NULL (JWT says sub is a string)');
SELECT is(pg_temp.claims('{"sub": -7}'), 'NULL|NULL|NULL', 'a negative number sub: NULL');
SELECT is(pg_temp.claims('{"sub": 12345678901234567890123}'), 'NULL|NULL|NULL', 'a number sub beyond 64 bits: NULL, never a rounded twin of another');
SELECT is(pg_temp.claims('{"sub": "u1", "tenant": 7}'), 'NULL|u1|NULL', 'a number tenant: NULL');
SELECT is(pg_temp.claims('{"tenant": true, "sub": false, "role": null}'), 'NULL|NULL|NULL', 'booleans and null: NULL');
SELECT is(pg_temp.claims('{"tenant": ["t80a"], "sub": ["u1"], "role": ["r"]}'), 'NULL|NULL|NULL', 'arrays: NULL');
SELECT is(pg_temp.claims('{"tenant": {"tenant": "t80a"}, "sub": {"id": "u1"}}'), 'NULL|NULL|NULL', 'nested objects: NULL');
SELECT is(pg_temp.claims('{"app_metadata": {"tenant": "t80a", "sub": "u1", "role": "r"}}'), 'NULL|NULL|NULL', 'claims nested under another key are not read');
SELECT is(pg_temp.claims('{"Tenant": "t80a", "SUB": "u1"}'), 'NULL|NULL|NULL', 'claim names are case-sensitive');
SELECT is(pg_temp.claims('{"tenant": "t80b", "tenant": "t80a"}'), 't80a|NULL|NULL', 'a duplicated claim: the last one, as jsonb reads it');
SELECT is(pg_temp.claims('{"tenant": "t80b", "tenant": "t80a"}'), ('{"tenant": "t80b", "tenant": "t80a"}'::jsonb->>'tenant') || '|NULL|NULL', '... (jsonb agrees)');
SELECT is(pg_temp.claims('{"tenant": "", "sub": ""}'), '||NULL', 'empty strings are returned as empty strings');
SELECT is(pg_temp.claims(E'{"tenant": "t\\u0038\\u0030a", "sub": "\\u00e9"}'), 't80a|é|NULL', 'unicode escapes are decoded');
SELECT is(pg_temp.claims(E'\ufeff{"tenant": "t80a"}'), 'NULL|NULL|NULL', 'a byte order mark before the object: NULL');
SELECT is(pg_temp.claims(repeat('[', 100000)), 'NULL|NULL|NULL', '100,000 nested brackets: NULL, no error, no crash');
-- These two are valid JSON that jsonb reads (tenant t80a) but the claim parser
-- gives up on (NULL: the request is denied). Only "no error" is asserted.
SELECT doesnt_match(pg_temp.claims('{"x": ' || repeat('{"y": ', 5000) || '1' || repeat('}', 5000) || ', "tenant": "t80a"}'), '^ERROR',
                    'a claim nested 5,000 deep beside the tenant: no error');
SELECT doesnt_match(pg_temp.claims('{"big": 1e400, "tenant": "t80a"}'), '^ERROR', 'an out-of-range number beside the tenant: no error');
SELECT is(pg_temp.claims('{"tenant": "' || repeat('x', 1000000) || '"}') = repeat('x', 1000000) || '|NULL|NULL', true, 'a 1 MB claim is returned whole');
SELECT is(pg_temp.claims('{"tenant": "t80a", "sub": "u1\u0000x"}'), 't80a|NULL|NULL', 'a sub holding \u0000: NULL (PostgreSQL text cannot hold it)');
SELECT is(cot_test.sqlstate_of($$SELECT cot.jwt_claim(NULL)$$), 'ok', 'jwt_claim(NULL): no error');
SELECT is(cot.jwt_claim(NULL), NULL, '... and NULL');
SELECT is((SELECT set_config('request.jwt.claims', '{"tenant": "t80a"}', true) IS NOT NULL AND cot.claim_tenant() = 't80a'), true,
          'a claim set earlier in the same statement is read (the helpers are STABLE, not IMMUTABLE)');

SELECT * FROM finish();
ROLLBACK;
