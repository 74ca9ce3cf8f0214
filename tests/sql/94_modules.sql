-- Modules: publishing (immutable versions, dependencies checked), installing
-- with dependencies in order, conflicts with the tenant's own entities and
-- with other modules, an upgrade that would lose data refused with counts
-- and then allowed, uninstall refused while needed or holding rows, the
-- ledger, sample rows. The example modules of modules/ are installed,
-- upgraded and uninstalled over PostgREST by tests/clients/modules.test.mjs.
BEGIN;
SELECT plan(50);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t94'), cot.create_tenant('t94b')$$, 'two tenants');
-- The tenant's own entity, which no module operation may touch.
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t94", "name": "mine", "fields": [{"name": "x", "type": "text"}]}')$$,
                't94 defines an entity of its own');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t94b", "name": "accounts", "fields": [{"name": "x", "type": "text"}]}')$$,
                't94b defines "accounts" itself');

CREATE TEMP TABLE m94 (k text PRIMARY KEY, v jsonb);
INSERT INTO m94 VALUES
 ('base1', '{"format": "cot.module/1", "name": "t94base", "version": "1.0.0", "description": "Accounts",
   "entities": [{"name": "accounts", "fields": [{"name": "name", "type": "text", "required": true}]}],
   "samples": {"accounts": [{"id": "0190c000-0000-7000-8000-000000009401", "name": "Sample account"}]}}'),
 ('crm1', '{"format": "cot.module/1", "name": "t94crm", "version": "1.0.0", "depends": {"t94base": "^1"},
   "entities": [
     {"name": "deals", "fields": [{"id": "title", "name": "title", "type": "text"}, {"name": "amount", "type": "integer"},
                                  {"name": "account", "type": "relation", "kind": "many_to_one", "target": "accounts", "on_delete": "set_null"}]},
     {"name": "notes", "fields": [{"name": "body", "type": "text"}]}]}'),
 -- 2.0.0: title renamed (same id), amount dropped, notes dropped.
 ('crm2', '{"format": "cot.module/1", "name": "t94crm", "version": "2.0.0", "depends": {"t94base": "^1"},
   "entities": [
     {"name": "deals", "fields": [{"id": "title", "name": "name", "type": "text"},
                                  {"name": "account", "type": "relation", "kind": "many_to_one", "target": "accounts", "on_delete": "set_null"}]}]}'),
 ('other', '{"format": "cot.module/1", "name": "t94other", "version": "1.0.0",
   "entities": [{"name": "notes", "fields": [{"name": "text", "type": "text"}]}]}'),
 ('orphan', '{"format": "cot.module/1", "name": "t94orphan", "version": "1.0.0", "depends": {"t94nowhere": "^1"},
   "entities": [{"name": "things", "fields": [{"name": "x", "type": "text"}]}]}');

-- Publishing.
SELECT is((SELECT cot.publish_module(v) FROM m94 WHERE k = 'base1'),
          '{"name": "t94base", "version": "1.0.0", "published": true}', 'publish t94base 1.0.0');
SELECT is((SELECT cot.publish_module(v) FROM m94 WHERE k = 'base1'),
          '{"name": "t94base", "version": "1.0.0", "published": false}', 'the same document again: no change');
SELECT is((SELECT cot_test.error_of(format('SELECT cot.publish_module(%L)', jsonb_set(v, '{description}', '"changed"'))) FROM m94 WHERE k = 'base1'),
          '{"sqlstate": "42710", "message": "module \"t94base\" version 1.0.0 is already published, with other content", "detail": "",
            "hint": "published versions never change: publish the change as a new version"}',
          'other content under a published version: 42710');
SELECT lives_ok($$SELECT cot.publish_module(v) FROM m94 WHERE k IN ('crm1', 'crm2', 'other') ORDER BY k$$, 'publish t94crm 1 and 2, t94other');
SELECT is((SELECT cot_test.error_of(format('SELECT cot.publish_module(%L)', v)) ->> 'sqlstate' FROM m94 WHERE k = 'orphan'),
          '42704', 'a dependency that is not published: 42704');
SELECT is(cot_test.sqlstate_of($$SELECT cot.publish_module('{"format": "cot.module/1", "name": "t94bad", "version": "1.0.0",
            "entities": [{"name": "x", "fields": [{"name": "y", "type": "money"}]}]}')$$),
          '22023', 'a definition that does not validate: 22023');
SELECT is(cot_test.sqlstate_of($$SELECT cot.publish_module('{"format": "cot.module/1", "name": "t94bad", "version": "1.0",
            "entities": [{"name": "x"}]}')$$), '22023', 'a version that is not semver: 22023');
SELECT is(cot_test.sqlstate_of($$UPDATE cot.module_versions SET description = 'x' WHERE name = 't94base'$$), '55000',
          'published rows cannot be updated, even by the owner');
SELECT is((SELECT jsonb_path_query_array(cot.modules(), '$[*] ? (@.name starts with "t94").version')),
          '["1.0.0", "2.0.0", "1.0.0", "1.0.0"]', 'cot.modules(): by name, newest first');
CREATE ROLE t94_nobody NOLOGIN;
SET ROLE t94_nobody;
SELECT is(cot_test.sqlstate_of($$SELECT cot.publish_module('{}')$$), '42501', 'publishing needs cot_platform or a superuser');
RESET ROLE;

-- Installing: dependencies first.
SELECT is((SELECT jsonb_path_query_array(cot.install_module('t94', 't94crm', '1.0.0', '{"dry_run": true}'), '$.install[*].module')),
          '["t94base", "t94crm"]', 'dry run: t94base then t94crm');
SELECT is((SELECT jsonb_path_query_array(cot.install_module('t94', 't94crm', '1.0.0', '{"dry_run": true}'), '$.entities[*].action')),
          '["create", "create", "create"]', 'dry run: the plan of each entity');
SELECT is((SELECT count(*)::int FROM cot.installed_modules('t94') AS j, jsonb_array_elements(j)), 0, 'dry run installed nothing');
SELECT is((SELECT jsonb_path_query_array(cot.install_module('t94', 't94crm', '1.0.0'), '$.installed[*].module')),
          '["t94base", "t94crm"]', 'install t94crm: t94base first');
SELECT is((SELECT jsonb_path_query_array(cot.installed_modules('t94'), '$[*].version')), '["1.0.0", "1.0.0"]', 'both installed');
SELECT ok(to_regclass('tenant_t94.deals') IS NOT NULL AND to_regclass('t94.notes') IS NOT NULL, 'tables and views exist');
SELECT is((SELECT array_agg(operation ORDER BY id) FROM cot.migrations WHERE tenant = 't94' AND operation LIKE '%module'),
          ARRAY['install_module', 'install_module'], 'the ledger records both installs');
SELECT is_empty($$SELECT * FROM cot.check('t94')$$, 'cot.check: the catalog matches');
SELECT is(cot_test.sqlstate_of($$SELECT cot.install_module('t94', 't94crm')$$), '42710', 'installing again: 42710');

-- Conflicts.
SELECT is(cot_test.error_of($$SELECT cot.install_module('t94b', 't94base')$$) - 'detail',
          '{"sqlstate": "42710", "message": "module \"t94base\" defines entity \"accounts\", which tenant \"t94b\" defined itself",
            "hint": "an entity has one owner: rename or drop the tenant''s own entity, or uninstall the other module"}',
          'a name the tenant uses itself: 42710');
SELECT is((SELECT version FROM cot.entities('t94b') WHERE name = 'accounts'), 1, '... and its entity is untouched');
SELECT is(cot_test.error_of($$SELECT cot.install_module('t94', 't94other')$$) ->> 'message',
          'module "t94other" defines entity "notes", which module "t94crm" already installed', 'a name another module holds: 42710');

-- Data in the module's entities, then an upgrade that would lose some.
INSERT INTO tenant_t94.deals (title, amount) VALUES ('big', 100), ('small', 5);
INSERT INTO tenant_t94.notes (body) VALUES ('remember');
INSERT INTO tenant_t94.mine (x) VALUES ('own row');
SELECT is((SELECT jsonb_path_query_array(cot.plan_module_upgrade('t94', 't94crm', '2.0.0'), '$.entities[*].action')),
          '["alter", "drop"]', 'the plan: deals altered, notes dropped');
SELECT is((SELECT jsonb_path_query_array(cot.plan_module_upgrade('t94', 't94crm', '2.0.0'), '$.entities[*] ? (@.action == "drop").rows')),
          '[1]', 'the plan counts the rows a drop deletes');
SELECT is((SELECT jsonb_array_length(cot.plan_module_upgrade('t94', 't94crm', '2.0.0')->'refused')), 2,
          'the plan lists two refusals (a field with data, an entity with rows)');
SELECT is((SELECT cot_test.error_of($$SELECT cot.upgrade_module('t94', 't94crm', '2.0.0')$$) ->> 'sqlstate'), '22000',
          'the upgrade is refused: 22000');
SELECT matches((SELECT cot_test.error_of($$SELECT cot.upgrade_module('t94', 't94crm', '2.0.0')$$) ->> 'detail'),
               'would delete 1 row', '... with the counts in DETAIL');
SELECT is((SELECT jsonb_path_query_array(cot.installed_modules('t94'), '$[*] ? (@.name == "t94crm").version')), '["1.0.0"]',
          '... and nothing changed');
SELECT is((SELECT cot.upgrade_module('t94', 't94crm', '2.0.0', '{"allow_data_loss": true}') - 'installed' - 'tenant' - 'unchanged' - 'entities'),
          '{"module": "t94crm", "from": "1.0.0", "to": "2.0.0", "created": [], "altered": ["deals"], "dropped": ["notes"]}',
          'allowed: deals altered, notes dropped');
SELECT is((SELECT array_agg(name ORDER BY name) FROM tenant_t94.deals), ARRAY['big', 'small'], 'the renamed field kept its values');
SELECT ok(to_regclass('tenant_t94.notes') IS NULL AND to_regclass('tenant_t94.mine') IS NOT NULL,
          'notes is gone; the tenant''s own entity is not');
SELECT is(cot_test.sqlstate_of($$SELECT cot.upgrade_module('t94', 't94crm', '1.0.0')$$), '0A000', 'no going back: 0A000');

-- Uninstalling.
SELECT is(cot_test.error_of($$SELECT cot.uninstall_module('t94', 't94base')$$) ->> 'message',
          'module "t94base" is needed by installed module "t94crm"', 'a module others need: 2BP01');
SELECT is((SELECT cot.uninstall_module('t94', 't94crm', '{"dry_run": true}') -> 'rows'), '2', 'dry run: 2 rows would go');
SELECT is(cot_test.sqlstate_of($$SELECT cot.uninstall_module('t94', 't94crm')$$), '22000', 'entities with rows: 22000');
SELECT lives_ok($$SELECT cot.uninstall_module('t94', 't94crm', '{"allow_data_loss": true}')$$, 'allowed: uninstalled');
SELECT lives_ok($$SELECT cot.uninstall_module('t94', 't94base')$$, 't94base (no rows) uninstalled');
SELECT is((SELECT array_agg(name) FROM cot.entities('t94')), ARRAY['mine'], 'only the tenant''s own entity is left');
SELECT is((SELECT x FROM tenant_t94.mine), 'own row', '... with its row');

-- Sample rows, on request.
SELECT is((SELECT cot.install_module('t94', 't94base', NULL, '{"samples": true}') #> '{installed,0,sample_rows}'), '1',
          'installed with its sample rows');
SELECT is((SELECT name FROM tenant_t94.accounts), 'Sample account', 'the sample row is there');

-- NULL for the tenant or the name: a clear 22023, not pgrx's XX000 (the
-- functions are not STRICT: a NULL version means the latest release).
SELECT throws_ok($$SELECT cot.install_module(NULL, 'crm')$$, '22023', 'tenant and module name must not be NULL',
  'install_module: a NULL tenant is 22023');
SELECT throws_ok($$SELECT cot.upgrade_module('t94', NULL)$$, '22023', 'tenant and module name must not be NULL',
  'upgrade_module: a NULL name is 22023');
SELECT throws_ok($$SELECT cot.plan_module_upgrade(NULL, NULL, NULL, NULL)$$, '22023', 'tenant and module name must not be NULL',
  'plan_module_upgrade: NULLs are 22023');
SELECT throws_ok($$SELECT cot.set_authenticator_api_group(NULL, 'b')$$, '22023', 'login_role must not be NULL',
  'set_authenticator_api_group: a NULL role is 22023');

-- A module of field types only: its install preview plans no entity (a
-- Rust panic, XX000, before), and it installs with none.
SELECT cot.publish_module('{"format": "cot.module/1", "name": "t94types", "version": "1.0.0",
  "field_types": [{"name": "t94code", "base": "text", "checks": {"pattern": "^[A-Z]{3}$"}}]}');
SELECT is((SELECT cot.install_module('t94', 't94types', NULL, '{"dry_run": true}') -> 'entities'), '[]'::jsonb,
          'the install preview of a types-only module has no entity');
SELECT is((SELECT cot.install_module('t94', 't94types') #> '{installed,0,entities}'), '[]'::jsonb,
          'a types-only module installs with no entity');

SELECT * FROM finish();
ROLLBACK;
