-- Names users actually have: PostgreSQL reserved words (user, group, end,
-- from, to, desc, all) as entity and field names. Cot quotes every
-- identifier it writes, so they are created, written and read through the
-- API views as the tenant's roles, queried with cot.query, changed with
-- cot.alter_entity, and cot.check finds nothing amiss. What would break
-- PostgREST's query string (order, limit, select, ...) is still refused,
-- with a name that works in the HINT.
BEGIN;
SELECT plan(30);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t42')$$, 'tenant t42 created');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t42", "name": "group",
    "access": {"read": "tenant", "create": "tenant", "update": "tenant", "delete": "tenant"},
    "fields": [{"name": "name", "type": "text", "required": true}, {"name": "end", "type": "date"}]}')$$,
    'an entity named group, with a field end');
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t42", "name": "user",
    "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "admin"},
    "fields": [
      {"name": "user", "type": "text", "required": true, "unique": true, "max_length": 40},
      {"name": "group", "type": "enum", "values": ["staff", "guests"], "default": "staff", "index": true},
      {"name": "end", "type": "date", "min": "2000-01-01"},
      {"name": "from", "type": "timestamp", "default": "now"},
      {"name": "to", "type": "relation", "kind": "many_to_one", "target": "group"},
      {"name": "desc", "type": "text"},
      {"name": "all", "type": "relation", "kind": "many_to_many", "target": "group"}],
    "indexes": [{"fields": ["end", "desc"], "unique": true}]}')$$,
    'an entity named user, with fields user, group, end, from, to, desc and all');
SELECT has_table('tenant_t42', 'user', 'its table tenant_t42.user');
SELECT has_view('t42', 'user', 'its view t42.user');
SELECT columns_are('t42', 'user', ARRAY['id', 'user', 'group', 'end', 'from', 'to_id', 'desc', 'owner_id', 'created_at', 'updated_at'],
                   'the view has every field as a column of the same name');
SELECT has_view('t42', 'user_all', 'the junction view user_all');
SELECT is(cot.entity('t42', 'user')->'fields'->0->>'name', 'user', 'cot.entity returns the field user');
SELECT is_empty($$SELECT * FROM cot.check('t42')$$, 'cot.check: the objects match the definitions');

-- As the tenant's user, with claims, as PostgREST would make the request.
SET LOCAL ROLE cot_t42_user;
SELECT set_config('request.jwt.claims', '{"role": "cot_t42_user", "tenant": "t42", "sub": "alice"}', true);
SELECT lives_ok($$INSERT INTO t42."group" (name, "end") VALUES ('admins', '2030-01-01'), ('guests', NULL)$$,
                'the user inserts into t42.group');
SELECT lives_ok($$INSERT INTO t42."user" ("user", "group", "end", "to_id", "desc")
                  SELECT 'ada', 'staff', '2031-01-01', id, 'first' FROM t42."group" WHERE name = 'admins'$$,
                'the user inserts into t42.user, setting user, group, end, to_id and desc');
SELECT lives_ok($$INSERT INTO t42.user_all (user_id, group_id)
                  SELECT u.id, g.id FROM t42."user" u, t42."group" g$$, 'and links it to both groups through user_all');
SELECT results_eq($$SELECT "user", "group", "end", "desc", owner_id, "from" IS NOT NULL FROM t42."user"$$,
                  $$VALUES ('ada'::text, 'staff'::text, '2031-01-01'::date, 'first'::text, 'alice'::text, true)$$,
                  'read back through the view: every value, owner_id from the sub claim, from from its default');
SELECT is((SELECT u.user || ' ' || u.group || ' ' || u.desc FROM t42.user AS u WHERE u.end > '2030-01-01'), 'ada staff first',
          'hand-written SQL names them unquoted after a dot: t42.user, u.user, u.group, u.end');
SELECT is((SELECT g.name FROM t42."user" u JOIN t42."group" g ON g.id = u.to_id), 'admins', 'the many_to_one to resolves');
SELECT is((SELECT (t42."to"(u)).name FROM t42."user" u), 'admins', 'the computed relationship t42."to"(t42."user") resolves');
SELECT is((SELECT count(*)::int FROM t42.user_all), 2, 'the many_to_many all has two links');
SELECT is(cot.query('t42', 'user', '{"select": ["user", "group", "desc", {"to": ["name", "end"]}, {"all": ["name"]}],
                                    "where": {"user": {"eq": "ada"}, "group": "staff", "end": {"lt": "2040-01-01"}},
                                    "order": ["-desc", "from"]}')->'data',
          '[{"user": "ada", "group": "staff", "desc": "first", "to": {"name": "admins", "end": "2030-01-01"},
             "all": [{"name": "admins"}, {"name": "guests"}]}]'::jsonb,
          'cot.query: where on user, group and end, order on desc and from, to and all embedded');
SELECT is(jsonb_array_length(cot.query('t42', 'user', '{"where": {"user": {"eq": "nobody"}}}')->'data'), 0,
          'cot.query: a where on user that matches nothing');
WITH u AS (UPDATE t42."user" SET "desc" = 'changed', "end" = '2032-02-02' WHERE "user" = 'ada' RETURNING 1)
SELECT is(count(*)::int, 1, 'the owner updates desc and end') FROM u;
SELECT set_config('request.jwt.claims', '{"role": "cot_t42_user", "tenant": "t42", "sub": "bob"}', true);
WITH u AS (UPDATE t42."user" SET "desc" = 'stolen' WHERE "user" = 'ada' RETURNING 1)
SELECT is(count(*)::int, 0, 'another user updates nothing (owner rule)') FROM u;
SELECT is(cot_test.sqlstate_of($$DELETE FROM t42."user" WHERE "user" = 'ada'$$), '42501', 'a user may not delete (admin rule)');
SELECT is(cot_test.sqlstate_of($$INSERT INTO t42."user" ("user", "end") VALUES ('eve', '1999-12-31')$$), '23514',
          'the CHECK on end holds: 23514');
RESET ROLE;

-- Changing the entity: a field renamed to another reserved word, one added.
SELECT lives_ok($$SELECT cot.alter_entity(jsonb_set(jsonb_set(d, '{indexes,0,fields,1}', '"window"'), '{fields}',
                    jsonb_set(d->'fields', '{5,name}', '"window"') || '[{"name": "between", "type": "integer"}]'))
                  FROM (SELECT cot.entity('t42', 'user') AS d) s$$,
                'alter_entity renames desc to window and adds between');
SELECT columns_are('t42', 'user', ARRAY['id', 'user', 'group', 'end', 'from', 'to_id', 'window', 'between', 'owner_id', 'created_at', 'updated_at'],
                   'the view after the change');
SELECT is((SELECT "window" FROM t42."user"), 'changed', 'the renamed column kept its value');
SELECT is_empty($$SELECT * FROM cot.check('t42')$$, 'cot.check after the change: nothing amiss');
SELECT ok(cot.openapi('t42', '{}')->'paths' ? '/user', 'the OpenAPI document has the path /user');
SELECT ok(cot.typescript('t42') LIKE '%between: number | null%', 'the TypeScript types have the field between');

-- Still refused: names PostgREST reads as query parameters, with one that works.
SELECT is(cot_test.error_of($$SELECT cot.create_entity('{"tenant": "t42", "name": "x", "fields": [{"name": "order", "type": "integer"}]}')$$)
            - 'detail',
          '{"sqlstate": "42939", "message": "invalid entity definition: field name \"order\" is a PostgREST query parameter, so the field could not be filtered over HTTP",
            "hint": "choose another name, e.g. \"sort_order\""}'::jsonb,
          'a field order: 42939, and the HINT names sort_order');

SELECT * FROM finish();
ROLLBACK;
