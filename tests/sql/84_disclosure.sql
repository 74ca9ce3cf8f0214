-- What one tenant's roles learn about other tenants and about what they may
-- not read: "not yours" answers as "does not exist", the query model shows a
-- role only the entities it may read, and no function lends Cot's rights to
-- a lookup of tenants.
BEGIN;
SELECT plan(21);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t84a')$$, 'tenant t84a');
SELECT lives_ok($$SELECT cot.create_tenant('t84b')$$, 'tenant t84b');
SELECT lives_ok($$SELECT cot.create_entities('[
  {"tenant": "t84a", "name": "posts", "fields": [{"name": "title", "type": "text"},
     {"name": "audit", "type": "relation", "kind": "many_to_one", "target": "audits"}],
   "access": {"read": "public", "create": "tenant"}},
  {"tenant": "t84a", "name": "drafts", "fields": [{"name": "body", "type": "text"}],
   "access": {"read": "tenant"}},
  {"tenant": "t84a", "name": "audits", "fields": [{"name": "note", "type": "text"}]},
  {"tenant": "t84a", "name": "vault", "fields": [{"name": "key", "type": "text"}],
   "access": {"read": "none", "create": "none", "update": "none", "delete": "none"}}]')$$,
  't84a: posts (public), drafts (tenant), audits (admin), vault (none)');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t84b", "name": "ledger",
  "id": "01900000-0000-7000-8000-0000000084b1", "fields": [{"name": "amount", "type": "integer"}]}')$$,
  't84b: ledger, with an id its definition chose');

-------------------------------------------------------------------------------
-- The query model: each role sees what it may read
-------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.model_as(role_name text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE m jsonb;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', role_name);
    m := cot.query_model('t84a', '');
    RESET ROLE;
    RETURN (SELECT string_agg(e->>'name', ',' ORDER BY e->>'name') FROM jsonb_array_elements(m->'entities') e);
END $$;
SELECT is(pg_temp.model_as('cot_t84a_anon'), 'posts', 'anon''s model: the public entity only');
SELECT is(pg_temp.model_as('cot_t84a_user'), 'drafts,posts', 'user''s model: public and tenant entities');
SELECT is(pg_temp.model_as('cot_t84a_admin'), 'audits,drafts,posts', 'admin''s model: all but the entity nobody reads over the API');
SELECT is((SELECT string_agg(e->>'name', ',' ORDER BY e->>'name') FROM jsonb_array_elements(cot.query_model('t84a', '')->'entities') e),
          'audits,drafts,posts,vault', 'a superuser''s model: everything');

SET LOCAL request.jwt.claims = '{"role": "cot_t84a_anon", "tenant": "t84a"}';
SET LOCAL ROLE cot_t84a_anon;
SELECT is(cot_test.error_of($$SELECT cot.query('t84a', 'audits', '{}')$$) - 'detail',
          cot_test.error_of($$SELECT cot.query('t84a', 'nothing_here', '{}')$$) - 'detail'
            || jsonb_build_object('message', 'entity "audits" does not exist in tenant "t84a"'),
          'anon: an admin-only entity answers as one that does not exist');
SELECT is(cot_test.error_of($$SELECT cot.query('t84a', 'nothing_here', '{}')$$)->>'hint',
          'the entities this role may read: posts', '... and the hint names only what anon may read');
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t84a', 'posts', '{"select": ["title", {"audit": ["note"]}]}')$$), '42501',
          'anon: embedding an entity it may not read is refused (42501)');
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t84a', 'posts', '{"select": ["title"]}')$$), 'ok',
          '... and the entity it may read is queried');
RESET ROLE;
SET LOCAL request.jwt.claims = '{"role": "cot_t84a_admin", "tenant": "t84a"}';
SET LOCAL ROLE cot_t84a_admin;
SELECT is(cot_test.sqlstate_of($$SELECT cot.query('t84a', 'posts', '{"select": ["title", {"audit": ["note"]}]}')$$), 'ok',
          'the same role''s cache does not serve another role: admin embeds audits');
RESET ROLE;

-------------------------------------------------------------------------------
-- Definitions: "not yours" answers as "does not exist"
-------------------------------------------------------------------------------
CREATE ROLE t84_admin_a LOGIN;
GRANT cot_t84a_admin TO t84_admin_a;
SET LOCAL ROLE t84_admin_a;
SELECT is(replace(cot.validate_entity('{"tenant": "t84b", "name": "x", "fields": []}')::text, 't84b', 'T'),
          replace(cot.validate_entity('{"tenant": "t84zz", "name": "x", "fields": []}')::text, 't84zz', 'T'),
          'validate_entity: another tenant and a missing one give the same answer');
SELECT is(cot.validate_entity('{"tenant": "t84zz", "name": "x", "fields": []}')->0->>'sqlstate', '42501',
          '... 42501 for both');
SELECT is(cot.validate_entity('{"tenant": "t84a", "name": "x", "id": "01900000-0000-7000-8000-0000000084b1", "fields": []}'),
          '[]'::jsonb, 'validate_entity: an id another tenant holds is not "already used"');
SELECT is(cot.create_entity('{"tenant": "t84a", "name": "mine", "id": "01900000-0000-7000-8000-0000000084b1",
            "fields": []}')->>'id' <> '01900000-0000-7000-8000-0000000084b1', true,
          'create_entity: an id another tenant holds is replaced by one of this tenant, as apply_schema does');
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_entity('{"tenant": "t84a", "name": "mine_again",
            "id": "01900000-0000-7000-8000-0000000084b1", "fields": []}')$$), '42710',
          '... and the same id again is this tenant''s own: 42710');
RESET ROLE;

-------------------------------------------------------------------------------
-- No lookup of tenants with Cot's rights
-------------------------------------------------------------------------------
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'cot.tenant_of_schema(text)'::regprocedure), false,
          'cot.tenant_of_schema runs with its caller''s rights (the guards call it as whoever runs DDL)');
SELECT is(cot.tenant_of_schema('tenant_t84b'), 't84b', 'it names the tenant of a storage schema');
SELECT is(cot.tenant_of_schema('public'), NULL, '... and no tenant for other schemas');
SELECT finish();
ROLLBACK;
