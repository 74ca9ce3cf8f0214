-- Meta-layer: the catalogue tables are dumped with their rows, hold no OIDs,
-- and hold stable ids; Cot's functions are not PUBLIC and pin search_path;
-- the ledger records what ran; generated objects stay outside the extension.
BEGIN;
SELECT plan(108);
SET LOCAL client_min_messages = warning;

-------------------------------------------------------------------------------
-- Dump configuration and the shape of the meta tables
-------------------------------------------------------------------------------
SELECT set_eq(
    $$SELECT c::regclass::text FROM pg_extension, unnest(extconfig) AS c WHERE extname = 'cot'$$,
    ARRAY['cot.tenants', 'cot.entities', 'cot.fields', 'cot.relationships', 'cot.migrations', 'cot.migrations_id_seq',
          'cot.authenticators', 'cot.api_keys', 'cot.drift_log', 'cot.drift_log_id_seq', 'cot.jwt_secret', 'cot.change_seq',
          'cot.webhooks', 'cot.webhook_deliveries', 'cot.module_versions', 'cot.module_installations', 'cot.field_types'],
    'pg_extension_config_dump: the meta tables and the ledger and change log sequences');
SELECT is((SELECT array_agg(DISTINCT w) FROM pg_extension, unnest(extcondition) AS w WHERE extname = 'cot'), ARRAY[''],
          'every registered table is dumped whole (empty WHERE condition)');
SELECT is_empty(
    $$SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       WHERE c.relnamespace = 'cot'::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0
         AND a.atttypid IN ('oid'::regtype, 'regclass'::regtype, 'regtype'::regtype, 'regproc'::regtype, 'regprocedure'::regtype,
                            'regnamespace'::regtype, 'regrole'::regtype, 'regoper'::regtype, 'regoperator'::regtype,
                            'regconfig'::regtype, 'regdictionary'::regtype, 'regcollation'::regtype)$$,
    'no meta table column stores an OID (they change on restore)');
SELECT is_empty(
    $$SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'cot'::regnamespace AND c.relkind IN ('r', 'S')
         AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
                           AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'cot'))$$,
    'the meta tables and sequence are extension members');
SELECT is_empty(
    $$SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'cot'::regnamespace AND c.relkind = 'S'
         AND c.oid NOT IN (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'cot')$$,
    'every sequence in schema cot is registered for dumping');
-- Function bodies ($$ ... $$) may insert when called; the script itself may not.
SELECT doesnt_imatch(
    regexp_replace((SELECT pg_read_file((SELECT setting FROM pg_config WHERE name = 'SHAREDIR') || '/extension/cot--'
                          || (SELECT extversion FROM pg_extension WHERE extname = 'cot') || '.sql')), '\$\$.*?\$\$', '', 'g'),
    '\mINSERT\s+INTO\M',
    'the install script inserts no rows (a restore''s COPY would collide with them)');
SELECT is((SELECT count(*)::int FROM pg_class WHERE relnamespace = 'cot'::regnamespace AND relkind = 'r'
             AND relname IN ('tenants', 'entities', 'fields', 'relationships', 'migrations')
             AND NOT has_table_privilege('public', oid, 'SELECT')), 5, 'PUBLIC cannot read the meta tables');

-------------------------------------------------------------------------------
-- Functions: no EXECUTE for PUBLIC, pinned search_path
-------------------------------------------------------------------------------
CREATE ROLE t60_nobody NOLOGIN;
SELECT ok(NOT has_function_privilege('public', f, 'EXECUTE'), format('PUBLIC may not execute %s', f))
  FROM unnest(ARRAY['cot.create_tenant(text, jsonb)', 'cot.drop_tenant(text, boolean)', 'cot.tenants()',
                    'cot.validate_entity(jsonb)', 'cot.create_entity(jsonb)', 'cot.create_entities(jsonb)',
                    'cot.drop_entity(text, text, jsonb)', 'cot.entity(text, text)', 'cot.entities(text)']) AS f;
SELECT ok(NOT has_function_privilege('t60_nobody', f, 'EXECUTE'), format('a fresh role may not execute %s', f))
  FROM unnest(ARRAY['cot.create_tenant(text, jsonb)', 'cot.drop_tenant(text, boolean)',
                    'cot.create_entity(jsonb)', 'cot.drop_entity(text, text, jsonb)']) AS f;
SET ROLE t60_nobody;
SELECT throws_ok($$SELECT cot.create_entity('{"tenant": "t60", "name": "x"}')$$, '42501', NULL, 'a fresh role calling create_entity: 42501');
SELECT throws_ok($$SELECT cot.drop_entity('t60', 'x')$$, '42501', NULL, 'a fresh role calling drop_entity: 42501');
RESET ROLE;
SELECT ok(has_function_privilege('public', f, 'EXECUTE'), format('%s stays executable (generated tables call it as the writer)', f))
  FROM unnest(ARRAY['cot.uuid_generate_v7()', 'cot.system_columns()', 'cot.array_items_match(text[], text)']) AS f;
SELECT ok((SELECT proconfig @> ARRAY['search_path=pg_catalog, pg_temp'] FROM pg_proc WHERE oid = f::regprocedure),
          format('%s pins search_path = pg_catalog, pg_temp', f))
  FROM unnest(ARRAY['cot.create_tenant(text, jsonb)', 'cot.drop_tenant(text, boolean)', 'cot.create_entity(jsonb)',
                    'cot.drop_entity(text, text, jsonb)', 'cot.validate_entity(jsonb)', 'cot.entity(text, text)',
                    'cot.entities(text)', 'cot.tenants()', 'cot.system_columns()', 'cot.create_entities(jsonb)']) AS f;
SELECT is_empty(
    $$SELECT oid::regprocedure FROM pg_proc WHERE pronamespace = 'cot'::regnamespace AND prosecdef
         AND NOT coalesce(proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)$$,
    'no SECURITY DEFINER function in cot without a pinned search_path');

-------------------------------------------------------------------------------
-- Stable ids
-------------------------------------------------------------------------------
SELECT lives_ok($$SELECT cot.create_tenant('t60')$$, 'tenant t60 created');
SELECT lives_ok($$CREATE TEMP TABLE t60_made AS SELECT cot.create_entity('{"tenant": "t60", "name": "books",
                    "fields": [{"name": "title", "type": "text", "required": true}, {"name": "isbn", "type": "text", "unique": true},
                               {"name": "pages", "type": "integer", "min": 1}]}') AS def$$,
                'entity books created');
SELECT ok((SELECT (def->>'id')::uuid IS NOT NULL AND substr(def->>'id', 15, 1) = '7' FROM t60_made), 'create_entity returns a v7 entity id');
SELECT is((SELECT count(DISTINCT f->>'id')::int FROM t60_made, jsonb_array_elements(def->'fields') AS f WHERE f->>'id' IS NOT NULL), 3,
          'create_entity returns an id for every field, all distinct');
SELECT is((SELECT (def->>'version')::int FROM t60_made), 1, 'version 1');
SELECT is(cot.entity('t60', 'books') - 'referenced_by', (SELECT def FROM t60_made), 'cot.entity returns exactly what create_entity returned, plus referenced_by');
SELECT is(cot.entity('t60', 'books')->'referenced_by', '[]'::jsonb, 'nothing points at books: referenced_by is empty');
SELECT is((SELECT id FROM cot.entities('t60') WHERE name = 'books'), (SELECT (def->>'id')::uuid FROM t60_made),
          'cot.entities lists the same entity id');
SELECT results_eq(
    $$SELECT name, fields, version, label FROM cot.entities('t60')$$,
    $$VALUES ('books', 3::bigint, 1, 'Books')$$,
    'cot.entities: name, number of fields, version, label');
SELECT results_eq(
    $$SELECT f.id, f.name, f.type, f.position FROM cot.fields f JOIN cot.entities e ON e.id = f.entity_id
       WHERE e.name = 'books' ORDER BY f.position$$,
    $$SELECT (f->>'id')::uuid, f->>'name', f->>'type', n::int FROM t60_made, jsonb_array_elements(def->'fields') WITH ORDINALITY AS a(f, n) ORDER BY n$$,
    'cot.fields: one row per field with the returned ids, names, types, positions 1..n');
SELECT is((SELECT options FROM cot.fields WHERE name = 'pages' AND entity_id = (SELECT (def->>'id')::uuid FROM t60_made)),
          (SELECT def->'fields'->2 FROM t60_made), 'cot.fields.options is the normalized field');
SELECT is((SELECT definition FROM cot.entities WHERE name = 'books'), (SELECT def FROM t60_made), 'cot.entities.definition is the normalized definition');
SELECT is((SELECT id FROM cot.entities WHERE name = 'books'), (SELECT (def->>'id')::uuid FROM t60_made), 'cot.entities.id is the returned id');

-- Fixed ids are honoured.
SELECT lives_ok($$CREATE TEMP TABLE t60_fixed AS SELECT cot.create_entity('{"tenant": "t60", "name": "authors",
                    "id": "0190b000-0000-7000-8000-000000000060",
                    "fields": [{"name": "full_name", "type": "text", "id": "0190b000-0000-7000-8000-000000000061"},
                               {"name": "born", "type": "date"}]}') AS def$$,
                'entity authors created with a fixed entity id and one fixed field id');
SELECT is((SELECT def->>'id' FROM t60_fixed), '0190b000-0000-7000-8000-000000000060', 'the fixed entity id is kept');
SELECT is((SELECT def->'fields'->0->>'id' FROM t60_fixed), '0190b000-0000-7000-8000-000000000061', 'the fixed field id is kept');
SELECT ok((SELECT (def->'fields'->1->>'id')::uuid IS NOT NULL FROM t60_fixed), 'the field without an id got one');
SELECT is((SELECT id FROM cot.fields WHERE name = 'full_name'), '0190b000-0000-7000-8000-000000000061'::uuid, 'cot.fields holds the fixed id');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t60", "name": "upper_ids", "id": "0190B000-0000-7000-8000-0000000000AA"}')$$,
                'an upper-case id is accepted ...');
SELECT is(cot.entity('t60', 'upper_ids')->>'id', '0190b000-0000-7000-8000-0000000000aa', '... and stored in canonical form');

-- Reused ids.
SELECT throws_ok($$SELECT cot.create_entity('{"tenant": "t60", "name": "again", "id": "0190b000-0000-7000-8000-000000000060"}')$$,
                 '42710', NULL, 'an entity id already in use: 42710');
SELECT throws_ok($$SELECT cot.create_entity('{"tenant": "t60", "name": "again", "fields": [{"name": "a", "type": "text", "id": "0190b000-0000-7000-8000-000000000061"}]}')$$,
                 '42710', NULL, 'a field id already in use: 42710');
SELECT throws_ok($$SELECT cot.create_entity('{"tenant": "t60", "name": "again", "id": "0190b000-0000-7000-8000-000000000061"}')$$,
                 '42710', NULL, 'a field''s id reused as an entity id: 42710');
SELECT throws_ok($$SELECT cot.create_entity('{"tenant": "t60", "name": "again", "fields": [{"name": "a", "type": "text", "id": "0190b000-0000-7000-8000-000000000060"}]}')$$,
                 '42710', NULL, 'an entity''s id reused as a field id: 42710');
SELECT lives_ok($$SELECT cot.create_tenant('t60other')$$, 'a second tenant');
SELECT isnt(cot.create_entity('{"tenant": "t60other", "name": "authors", "id": "0190b000-0000-7000-8000-000000000060"}')->>'id',
            '0190b000-0000-7000-8000-000000000060',
            'ids are unique across tenants: another tenant''s id is replaced by one of this tenant (it is not "already used")');
SELECT throws_ok(format('SELECT cot.create_entity(%L::jsonb)', (SELECT def || '{"name": "books_copy"}' FROM t60_made)),
                 '42710', NULL, 'a returned definition sent back under a new name, ids and all: 42710');
SELECT is((SELECT count(*)::int FROM cot.entities WHERE name = 'again'), 0, 'no entity again was recorded');
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_entity('{"tenant": "t60", "name": "same_id", "id": "0190b000-0000-7000-8000-0000000000bb",
                                  "fields": [{"name": "a", "type": "text", "id": "0190b000-0000-7000-8000-0000000000bb"}]}')$$),
          '42710', 'an entity and its field with the same id in one definition: 42710 (ids are one namespace)');

-- Dropped ids are free again; a definition round-trips through drop and create.
CREATE TEMP TABLE t60_authors AS SELECT cot.entity('t60', 'authors') - 'referenced_by' AS def;
SELECT lives_ok($$SELECT cot.drop_entity('t60', 'authors')$$, 'authors dropped');
SELECT lives_ok($$CREATE TEMP TABLE t60_recreated AS SELECT cot.create_entity(def) AS def FROM t60_authors$$,
                'the stored definition, sent back after the drop, creates the entity again');
SELECT is((SELECT def FROM t60_recreated), (SELECT def FROM t60_authors), '... with the same ids and the same normalized definition');

-------------------------------------------------------------------------------
-- The ledger
-------------------------------------------------------------------------------
CREATE TEMP TABLE t60_ledger AS
SELECT * FROM cot.migrations WHERE tenant = 't60' AND operation = 'create_entity' AND entity = 'books';
SELECT is((SELECT count(*)::int FROM t60_ledger), 1, 'one ledger row for create_entity books');
SELECT is((SELECT entity_id FROM t60_ledger), (SELECT (def->>'id')::uuid FROM t60_made), 'ledger: entity_id');
SELECT is((SELECT tenant_id FROM t60_ledger), (SELECT id FROM cot.tenants WHERE slug = 't60'), 'ledger: tenant_id');
SELECT is((SELECT definition_after FROM t60_ledger), (SELECT def FROM t60_made), 'ledger: definition_after is the normalized definition');
SELECT is((SELECT definition_before FROM t60_ledger), NULL, 'ledger: no definition_before for a create');
SELECT is((SELECT applied_by FROM t60_ledger), current_user::text, 'ledger: applied_by is the current user');
SELECT is((SELECT applied_at FROM t60_ledger), now(), 'ledger: applied_at is the transaction time');
SELECT is((SELECT claims FROM t60_ledger), NULL, 'ledger: no claims outside a request');
SELECT matches((SELECT sql[1] FROM t60_ledger), '^CREATE TABLE "tenant_t60"\."books" \(', 'ledger: the first statement is the CREATE TABLE');
SELECT ok((SELECT 'CREATE VIEW "t60"."books" WITH (security_invoker = true) AS SELECT "id", "title", "isbn", "pages", "created_at", "updated_at" FROM "tenant_t60"."books"' = ANY (sql) FROM t60_ledger),
          'ledger: the CREATE VIEW statement, verbatim');
SELECT is((SELECT array_agg(p->>'step' ORDER BY n) FROM t60_ledger, jsonb_array_elements(plan) WITH ORDINALITY AS a(p, n)
             WHERE sql[n] LIKE CASE p->>'step' WHEN 'create_table' THEN 'CREATE TABLE %' WHEN 'create_index' THEN 'CREATE INDEX %'
                                 WHEN 'create_trigger' THEN 'CREATE TRIGGER %' WHEN 'create_view' THEN 'CREATE VIEW %'
                                 WHEN 'set_view_default' THEN 'ALTER VIEW % ALTER COLUMN % SET DEFAULT %'
                                 WHEN 'set_owner' THEN 'ALTER % OWNER TO %' WHEN 'comment' THEN 'COMMENT ON %'
                                 WHEN 'enable_rls' THEN 'ALTER TABLE % ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY'
                                 WHEN 'create_policy' THEN 'CREATE POLICY %' WHEN 'grant' THEN 'GRANT %' END),
          (SELECT array_agg(p->>'step' ORDER BY n) FROM t60_ledger, jsonb_array_elements(plan) WITH ORDINALITY AS a(p, n)),
          'ledger: the plan has one step per statement, in order, each naming what its statement does');
SELECT is((SELECT jsonb_array_length(plan) FROM t60_ledger), (SELECT array_length(sql, 1) FROM t60_ledger),
          'ledger: as many plan steps as statements');
SELECT ok((SELECT bool_and(p ? 'step') FROM t60_ledger, jsonb_array_elements(plan) AS p), 'ledger: every plan step names its kind');
SELECT is_empty($$SELECT s FROM t60_ledger, unnest(sql) AS s WHERE s ~* '^\s*(DROP|TRUNCATE|DELETE|GRANT ALL)'$$,
                'ledger: create_entity ran no DROP, TRUNCATE, DELETE or GRANT ALL');
SELECT is((SELECT definition_before FROM cot.migrations WHERE tenant = 't60' AND operation = 'drop_entity' AND entity = 'authors'),
          (SELECT def FROM t60_authors), 'ledger: drop_entity keeps the dropped definition in definition_before');
SELECT is((SELECT definition_after FROM cot.migrations WHERE tenant = 't60' AND operation = 'drop_entity' AND entity = 'authors'),
          NULL, 'ledger: drop_entity has no definition_after');

-- Claims as PostgREST sets them: recorded when they are a JSON object, never an error.
SET LOCAL request.jwt.claims = '{"sub": "user-60", "role": "cot_t60_admin"}';
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t60", "name": "with_claims"}')$$, 'create_entity with request.jwt.claims set');
SELECT is((SELECT claims FROM cot.migrations WHERE entity = 'with_claims'), '{"sub": "user-60", "role": "cot_t60_admin"}'::jsonb,
          'ledger: the request''s claims are recorded');
SET LOCAL request.jwt.claims = '';
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t60", "name": "empty_claims"}')$$, 'create_entity with request.jwt.claims = '''' (a reused connection)');
SELECT is((SELECT claims FROM cot.migrations WHERE entity = 'empty_claims'), NULL, 'ledger: empty claims are recorded as none');
SET LOCAL request.jwt.claims = 'not json {';
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t60", "name": "bad_claims"}')$$, 'create_entity with malformed claims');
SELECT is((SELECT claims FROM cot.migrations WHERE entity = 'bad_claims'), NULL, 'ledger: malformed claims are recorded as none');
SET LOCAL request.jwt.claims = '[1, 2]';
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t60", "name": "array_claims"}')$$, 'create_entity with claims that are not an object');
SELECT is((SELECT claims FROM cot.migrations WHERE entity = 'array_claims'), NULL, 'ledger: non-object claims are recorded as none');
SET LOCAL request.jwt.claims = '';

-------------------------------------------------------------------------------
-- Generated objects are not extension members
-------------------------------------------------------------------------------
SELECT is_empty(
    $$SELECT d.classid::regclass, d.objid FROM pg_depend d
       WHERE d.deptype = 'e' AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'cot')
         AND ((d.classid = 'pg_class'::regclass AND d.objid IN (SELECT oid FROM pg_class WHERE relnamespace IN ('t60'::regnamespace, 'tenant_t60'::regnamespace)))
           OR (d.classid = 'pg_namespace'::regclass AND d.objid IN ('t60'::regnamespace, 'tenant_t60'::regnamespace))
           OR (d.classid = 'pg_type'::regclass AND d.objid IN (SELECT oid FROM pg_type WHERE typnamespace IN ('t60'::regnamespace, 'tenant_t60'::regnamespace)))
           OR (d.classid = 'pg_trigger'::regclass AND d.objid IN (SELECT oid FROM pg_trigger WHERE tgrelid = 'tenant_t60.books'::regclass)))$$,
    'no table, view, index, type, schema or trigger of a tenant is an extension member');
SELECT is((SELECT count(*)::int FROM pg_depend d WHERE d.deptype = 'e' AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'cot')
             AND d.classid = 'pg_class'::regclass AND d.objid = 'cot.tenants'::regclass), 1,
          '(while cot.tenants is one: the query above can see membership)');
SELECT throws_ok('DROP EXTENSION cot', '2BP01', NULL, 'DROP EXTENSION cot refuses while tenant tables depend on it (no silent data loss)');
SELECT has_table('tenant_t60', 'books', 'the tenant table is still there');

-------------------------------------------------------------------------------
-- Tenant admins
-------------------------------------------------------------------------------
CREATE ROLE t60_admin_member NOLOGIN;
GRANT cot_t60_admin TO t60_admin_member;
SET ROLE t60_admin_member;
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_entity('{"tenant": "t60", "name": "by_admin", "fields": [{"name": "a", "type": "text"}]}')$$),
          'ok', 'a member of cot_t60_admin can create an entity of tenant t60');
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_entity('{"tenant": "t60other", "name": "by_admin"}')$$),
          '42501', 'a member of cot_t60_admin cannot create an entity of another tenant: 42501');
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_entity('{"tenant": "t60_no_such", "name": "x"}')$$),
          '42501', '... nor of a tenant that does not exist (42501, not 42704: existence is not told)');
SELECT is(cot.entity('t60', 'by_admin')->>'name', 'by_admin', 'the admin reads its own tenant''s definitions');
SELECT is(cot_test.sqlstate_of($$SELECT cot.entity('t60other', 'authors')$$), '42501', '... not another tenant''s');
SELECT is(cot_test.sqlstate_of($$SELECT * FROM cot.entities('t60other')$$), '42501', '... nor its list');
SELECT is(cot_test.sqlstate_of($$SELECT cot.drop_entity('t60other', 'authors')$$), '42501', '... nor drops its entities');
SELECT is(cot_test.sqlstate_of($$SELECT * FROM cot.tenants()$$), '42501', 'tenants() stays for superusers');
SELECT is(cot_test.sqlstate_of($$SELECT * FROM cot.migrations$$), '42501', 'the admin cannot read the meta-tables directly');
RESET ROLE;
SELECT is((SELECT applied_by FROM cot.migrations WHERE entity = 'by_admin'), 't60_admin_member',
          'the ledger names the calling role, not the functions'' owner');
SELECT is((SELECT tableowner FROM pg_tables WHERE schemaname = 'tenant_t60' AND tablename = 'by_admin'), 'cot_owner',
          'the admin''s entity is owned by cot_owner like any other');
SET ROLE cot_t60_user;
SELECT is(cot_test.sqlstate_of($$SELECT cot.create_entity('{"tenant": "t60", "name": "by_user"}')$$), '42501',
          'a tenant''s user role cannot define entities: 42501');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
