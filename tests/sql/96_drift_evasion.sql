-- The drift guard and cot.check against the evasions an audit found: a
-- non-superuser member of cot_owner setting check_function_bodies = off to
-- pass the guard, a disabled Cot trigger (owner_id could be forged), and a
-- grant to PUBLIC.
BEGIN;
SELECT plan(7);
SET LOCAL client_min_messages = warning;
SELECT cot.create_tenant('t96');
SELECT cot.create_entity('{"tenant": "t96", "name": "notes", "fields": [{"name": "body", "type": "text"}],
  "access": {"read": "owner", "create": "tenant", "update": "owner", "delete": "owner"}}');
SELECT is_empty($$SELECT * FROM cot.check('t96')$$, 'clean to begin with');

CREATE ROLE t96_ops LOGIN;
GRANT cot_owner TO t96_ops;
SET LOCAL ROLE t96_ops;
SET LOCAL check_function_bodies = off;
-- Refused by the guard: 55000, or 42501 where the guard may not even record
-- it (cot.drift_found is not the caller's to run); before the fix, 'ok'.
SELECT ok(cot_test.sqlstate_of($$ALTER TABLE tenant_t96.notes NO FORCE ROW LEVEL SECURITY$$) IN ('55000', '42501'),
          'a member of cot_owner cannot pass the guard by turning check_function_bodies off');
SELECT ok(cot_test.sqlstate_of($$DROP POLICY cot_select_owner ON tenant_t96.notes$$) IN ('55000', '42501'),
          '... nor drop a policy');
RESET check_function_bodies;
RESET ROLE;
SELECT ok((SELECT relforcerowsecurity FROM pg_class WHERE oid = 'tenant_t96.notes'::regclass), 'FORCE RLS is still on');

-- What a superuser does out of band with cot.drift = 'allow', cot.check sees.
SET LOCAL cot.drift = 'allow';
ALTER TABLE tenant_t96.notes DISABLE TRIGGER cot_owner_column;
GRANT SELECT ON tenant_t96.notes TO PUBLIC;
RESET cot.drift;
SELECT is((SELECT problem FROM cot.check('t96') WHERE object LIKE '%trigger cot_owner_column'), 'trigger is disabled',
          'cot.check: a disabled Cot trigger');
SELECT ok(EXISTS (SELECT FROM cot.check('t96') WHERE problem = 'SELECT is granted to PUBLIC, the access rules do not'),
          'cot.check: a grant to PUBLIC');
SET LOCAL cot.drift = 'allow';
ALTER TABLE tenant_t96.notes ENABLE TRIGGER cot_owner_column;
REVOKE SELECT ON tenant_t96.notes FROM PUBLIC;
RESET cot.drift;
SELECT is_empty($$SELECT * FROM cot.check('t96')$$, 'put back, clean again');
SELECT * FROM finish();
ROLLBACK;
