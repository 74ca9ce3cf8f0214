-- Drift: DDL on a tenant's schemas that does not come from Cot is refused by
-- default, recorded when cot.drift = 'record', and cot.check() lists what
-- differs from the definitions and what work is pending.
BEGIN;
SELECT plan(30);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t95')$$, 'a tenant');
SELECT lives_ok($$SELECT cot.create_entities('[
  {"tenant": "t95", "name": "customer", "fields": [{"name": "name", "type": "text", "required": true, "index": true}],
   "access": {"read": "tenant"}},
  {"tenant": "t95", "name": "orders", "fields": [
     {"name": "total", "type": "decimal", "precision": 10, "scale": 2, "max": 1000},
     {"name": "customer", "type": "relation", "kind": "many_to_one", "target": "customer"},
     {"name": "tags", "type": "relation", "kind": "many_to_many", "target": "tag"}]},
  {"tenant": "t95", "name": "tag", "fields": [{"name": "label", "type": "text"}]},
  {"tenant": "t95", "name": "notes", "fields": [{"name": "body", "type": "text"}],
   "access": {"read": "owner", "create": "tenant", "update": "owner", "delete": "owner"}}]')$$, 'four entities, one with owner rules');
SELECT is_empty($$SELECT * FROM cot.check('t95')$$, 'check: a fresh model matches its definitions');
SELECT is(current_setting('cot.drift'), 'refuse', 'cot.drift defaults to refuse');

-- Refused, with the object named; nothing changes.
SELECT is(cot_test.sqlstate_of($$ALTER TABLE tenant_t95.orders ADD COLUMN sneaky text$$), '55000', 'ALTER TABLE on a tenant table: 55000');
SELECT matches(cot_test.error_of($$ALTER TABLE tenant_t95.orders ADD COLUMN sneaky text$$)->>'message',
               'ALTER TABLE on tenant_t95.orders refused: schema "tenant_t95" is managed by Cot', 'the message names the object');
SELECT is(cot_test.sqlstate_of($$DROP INDEX tenant_t95.customer_name_idx$$), '55000', 'DROP INDEX: 55000');
SELECT is(cot_test.sqlstate_of($$CREATE VIEW t95.extra AS SELECT 1 AS x$$), '55000', 'CREATE VIEW in the API schema: 55000');
SELECT is(cot_test.sqlstate_of($$DROP POLICY cot_select ON tenant_t95.customer$$), '55000', 'DROP POLICY: 55000');
SELECT is(cot_test.sqlstate_of($$COMMENT ON TABLE tenant_t95.tag IS 'x'$$), '55000', 'COMMENT: 55000');
SELECT hasnt_column('tenant_t95', 'orders', 'sneaky', 'nothing was added');
SELECT has_index('tenant_t95', 'customer', 'customer_name_idx', 'nothing was dropped');
-- DDL elsewhere is none of Cot's business, whoever runs it.
SELECT lives_ok($$CREATE TABLE public.t95_mine (x int)$$, 'DDL outside tenant schemas is untouched');
SET LOCAL ROLE cot_t95_user;
SELECT lives_ok($$CREATE TEMP TABLE t95_scratch (x int)$$, 'a tenant role creating a temporary table is untouched (the guard reads no table of Cot''s as it)');
RESET ROLE;
-- Cot's own changes pass the guard.
SELECT lives_ok($$SELECT cot.alter_entity('{"tenant": "t95", "name": "tag", "fields": [{"name": "label", "type": "text", "index": true}]}')$$,
                'cot.alter_entity passes the guard');

-- Recorded.
SET LOCAL cot.drift = 'record';
ALTER TABLE tenant_t95.orders ADD COLUMN sneaky text;
DROP INDEX tenant_t95.customer_name_idx;
GRANT DELETE ON t95.customer TO cot_t95_user;
SELECT is((SELECT DISTINCT role_name FROM cot.drift_log), current_user::text, 'the log names who ran it, not Cot''s owner');
SELECT results_eq($$SELECT schema_name, command_tag, object_identity FROM cot.drift_log ORDER BY id$$,
                  $$VALUES ('tenant_t95'::text, 'ALTER TABLE'::text, 'tenant_t95.orders'::text),
                           ('tenant_t95', 'DROP INDEX', 'tenant_t95.customer_name_idx')$$,
                  'record: each out-of-band command is in cot.drift_log');
SET LOCAL cot.drift = 'refuse';

-- check() names each difference; the grant too (event triggers do not see it).
SELECT set_eq($$SELECT kind, object, problem FROM cot.check('t95')$$,
              $$VALUES ('drift', 'tenant_t95.orders.sneaky', 'column is not in the definition'),
                       ('pending', 'tenant_t95.customer_name_idx', 'index is not built'),
                       ('drift', 't95.customer', 'DELETE is granted to cot_t95_user, the access rules do not')$$,
              'check: the extra column, the missing index (pending, with its statement), the extra grant');
SELECT is((SELECT sql FROM cot.check('t95') WHERE kind = 'pending'),
          'CREATE INDEX CONCURRENTLY "customer_name_idx" ON "tenant_t95"."customer" ("name")', 'the statement that builds it');

-- Deferred work shows as pending until it is done.
INSERT INTO tenant_t95.tag (label) VALUES ('x');
SELECT lives_ok($$SELECT cot.alter_entity('{"tenant": "t95", "name": "tag", "fields": [{"name": "label", "type": "text", "index": true, "max_length": 10}, {"name": "n", "type": "integer", "index": true}]}',
                                           '{"defer_validation": true, "defer_indexes": true}')$$, 'an alter with deferred work');
SELECT set_eq($$SELECT object, sql FROM cot.check('t95') WHERE kind = 'pending' AND entity = 'tag'$$,
              $$VALUES ('tenant_t95.tag.tag_label_max_length', 'ALTER TABLE "tenant_t95"."tag" VALIDATE CONSTRAINT "tag_label_max_length"'),
                       ('tenant_t95.tag_n_idx', 'CREATE INDEX CONCURRENTLY "tag_n_idx" ON "tenant_t95"."tag" ("n")')$$,
              'check lists the NOT VALID constraint and the unbuilt index');
SELECT lives_ok($$ALTER TABLE "tenant_t95"."tag" VALIDATE CONSTRAINT "tag_label_max_length"$$,
                'running the statement check lists passes the guard: the table then matches its definition');
SELECT lives_ok($$CREATE INDEX "tag_n_idx" ON "tenant_t95"."tag" ("n")$$, 'so does building the pending index');
SELECT is(cot_test.sqlstate_of($$CREATE INDEX tag_other_idx ON tenant_t95.tag (label)$$), '55000', 'an index of one''s own is refused');
SELECT is((SELECT count(*)::int FROM cot.check('t95') WHERE entity = 'tag' AND kind = 'pending'), 0, 'done: nothing pending for tag');
-- A policy edited by hand (with the guard off): its expression, its roles,
-- its command. cot.check compares each policy with what the access rules make.
SET LOCAL cot.drift = 'allow';
ALTER POLICY cot_select ON tenant_t95.customer USING (true);
ALTER POLICY cot_select_owner ON tenant_t95.notes TO cot_t95_user, cot_t95_anon;
DROP POLICY cot_delete_owner ON tenant_t95.notes;
CREATE POLICY cot_delete_owner ON tenant_t95.notes FOR ALL TO cot_t95_user
  USING ((SELECT cot.claim_tenant() = 't95') AND owner_id = (SELECT cot.claim_sub()));
SET LOCAL cot.drift = 'refuse';
SELECT set_eq($$SELECT object, problem FROM cot.check('t95') WHERE object LIKE '%: policy %'$$,
              $$VALUES ('tenant_t95.customer: policy cot_select',
                        'policy differs from the access rules: its USING is true, the access rules make ( SELECT (cot.claim_tenant() = ''t95''::text))'),
                       ('tenant_t95.notes: policy cot_select_owner',
                        'policy differs from the access rules: it applies to cot_t95_anon, cot_t95_user, the access rules to cot_t95_user'),
                       ('tenant_t95.notes: policy cot_delete_owner',
                        'policy differs from the access rules: its command is *, the access rules make d')$$,
              'check: a loosened USING, an added role, a widened command');
SELECT is((SELECT count(*)::int FROM cot.check('t95') WHERE object = 'tenant_t95.notes: policy cot_update_owner'), 0,
          'the owner policies left alone match (their printed form is the one Cot expects)');
SELECT lives_ok($$SELECT cot.alter_entity(cot.entity('t95', 'customer') - 'referenced_by' || '{"access": {"read": "admin"}}')$$,
                'changing the access rules makes the policies again');
SELECT is((SELECT count(*)::int FROM cot.check('t95') WHERE object LIKE 'tenant_t95.customer: policy %'), 0,
          '... and the loosened policy is replaced');

-- Not for other tenants' admins.
SET LOCAL ROLE cot_t95_user;
SELECT is(cot_test.sqlstate_of($$SELECT * FROM cot.check('t95')$$), '42501', 'check: 42501 for a tenant user');
RESET ROLE;
SELECT * FROM finish();
ROLLBACK;
