-- A record's id is chosen once (by Cot, or by the client on insert) and never
-- changes, through the API view or on the table itself.
BEGIN;
SELECT plan(6);
SET LOCAL client_min_messages = warning;
SELECT cot.create_tenant('t88');
SELECT cot.create_entity('{"tenant": "t88", "name": "items", "fields": [{"name": "name", "type": "text"}],
  "access": {"read": "tenant", "create": "tenant", "update": "tenant", "delete": "tenant"}}');

SET LOCAL ROLE cot_t88_user;
SELECT set_config('request.jwt.claims', '{"role": "cot_t88_user", "tenant": "t88", "sub": "u"}', true);
SELECT lives_ok($$INSERT INTO t88.items (id, name) VALUES ('01900000-0000-7000-8000-0000000000aa', 'chosen')$$,
                'a client may choose the id of a new record');
SELECT is(cot_test.sqlstate_of($$UPDATE t88.items SET id = '01900000-0000-7000-8000-0000000000bb'$$), '23514',
          'changing an id through the view: 23514');
SELECT is(cot_test.error_of($$UPDATE t88.items SET id = gen_random_uuid()$$)->>'hint', 'create a new record instead',
          '... with a hint');
SELECT lives_ok($$UPDATE t88.items SET name = 'renamed', id = id$$, 'an update that keeps the id is fine');
RESET ROLE;
SELECT is(cot_test.sqlstate_of($$UPDATE tenant_t88.items SET id = gen_random_uuid()$$), '23514',
          'nor on the table, as its owner or a superuser');
SELECT is((SELECT id::text || ' ' || name FROM tenant_t88.items), '01900000-0000-7000-8000-0000000000aa renamed',
          'the record keeps its id');
SELECT * FROM finish();
ROLLBACK;
