-- Workflows: a state field enforced by its trigger for every writer. The
-- matrix of transition x role as the API makes them, guards, inserts and
-- COPY, cot.transition / cot.transitions / cot.workflow_graph, what the
-- change log records, evolution (states and transitions added and removed,
-- with the rows a removed state holds counted and mapped), cot.check on the
-- enforcement objects, and random transitions through SQL that never leave
-- the graph. Concurrency and PostgREST: tests/clients/workflows.test.mjs.
BEGIN;
SELECT plan(48);
SET LOCAL client_min_messages = warning;

SELECT lives_ok($$SELECT cot.create_tenant('t93')$$, 'tenant t93');
CREATE ROLE t93_warehouse NOLOGIN;
GRANT cot_t93_user TO t93_warehouse;
SELECT lives_ok($$SELECT cot.create_entity('{"tenant": "t93", "name": "orders",
  "access": {"read": "tenant", "create": "tenant", "update": "owner", "delete": "admin"},
  "fields": [{"name": "total", "type": "decimal", "precision": 12, "scale": 2},
   {"name": "status", "type": "state", "states": ["draft", "paid", "shipped", "cancelled"], "initial": "draft",
    "transitions": [
      {"name": "pay", "from": "draft", "to": "paid", "who": "tenant", "guard": {"total": {"gt": 0}}},
      {"name": "ship", "from": ["paid"], "to": "shipped", "who": ["admin", "t93_warehouse"]},
      {"name": "cancel", "from": ["draft", "paid"], "to": "cancelled", "who": "owner"}]}]}')$$,
  'orders: a state field with three transitions (tenant + guard, admin or a role, owner)');
SELECT is((SELECT array_agg(tgname::text ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'tenant_t93.orders'::regclass AND NOT tgisinternal),
          ARRAY['cot_owner_column', 'cot_system_columns', 'cot_workflow'], 'the table has the workflow trigger');
SELECT is((SELECT prosecdef AND proconfig = ARRAY['search_path=pg_catalog, pg_temp'] FROM pg_proc WHERE oid = 'tenant_t93.orders_workflow'::regproc),
          true, 'its function is SECURITY DEFINER with a pinned search_path');
SELECT ok(NOT has_function_privilege('cot_t93_user', 'tenant_t93.orders_workflow()', 'EXECUTE'), '... and not executable by tenant roles');
SELECT has_table('tenant_t93', '_changes', 'transitions are logged: the tenant''s change log exists without history');
SELECT is_empty($$SELECT * FROM cot.check('t93')$$, 'cot.check: nothing to report');

-- A record of alice's in a state, made as the API would (the owner is the sub claim).
CREATE FUNCTION pg_temp.record(state text, total numeric DEFAULT 10) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE rid uuid := cot.uuid_generate_v7();
BEGIN
    PERFORM set_config('request.jwt.claims', '{"tenant": "t93", "sub": "alice"}', true);
    INSERT INTO tenant_t93.orders (id, total) VALUES (rid, total);
    IF state IN ('paid', 'shipped') THEN UPDATE tenant_t93.orders SET status = 'paid' WHERE id = rid; END IF;
    IF state = 'shipped' THEN UPDATE tenant_t93.orders SET status = 'shipped' WHERE id = rid; END IF;
    IF state = 'cancelled' THEN UPDATE tenant_t93.orders SET status = 'cancelled' WHERE id = rid; END IF;
    PERFORM set_config('request.jwt.claims', '', true);
    RETURN rid;
END $$;
-- The outcome of an UPDATE of the state through the API view as a role:
-- ok, none (no row: row security hid it) or the SQLSTATE.
CREATE FUNCTION pg_temp.try(who text, sub text, rid uuid, target text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE n int; r text := CASE who WHEN 'anon' THEN 'cot_t93_anon' WHEN 'admin' THEN 'cot_t93_admin'
                               WHEN 'warehouse' THEN 't93_warehouse' ELSE 'cot_t93_user' END;
BEGIN
    PERFORM set_config('request.jwt.claims', jsonb_build_object('role', r, 'tenant', 't93', 'sub', sub)::text, true);
    EXECUTE format('SET LOCAL ROLE %I', r);
    BEGIN
        UPDATE t93.orders SET status = target WHERE id = rid;
        GET DIAGNOSTICS n = ROW_COUNT;
        RESET ROLE;
        PERFORM set_config('request.jwt.claims', '', true);
        RETURN CASE WHEN n = 1 THEN 'ok' ELSE 'none' END;
    EXCEPTION WHEN OTHERS THEN
        RESET ROLE;
        PERFORM set_config('request.jwt.claims', '', true);
        RETURN SQLSTATE;
    END;
END $$;

CREATE TEMP TABLE matrix (transition text, from_state text, to_state text, who text, sub text, expected text);
INSERT INTO matrix VALUES
  ('pay', 'draft', 'paid', 'alice', 'alice', 'ok'), ('pay', 'draft', 'paid', 'bob', 'bob', 'none'),
  ('pay', 'draft', 'paid', 'admin', 'root', 'ok'), ('pay', 'draft', 'paid', 'warehouse', 'alice', 'ok'),
  ('pay', 'draft', 'paid', 'anon', NULL, '42501'),
  ('ship', 'paid', 'shipped', 'alice', 'alice', 'CW002'), ('ship', 'paid', 'shipped', 'bob', 'bob', 'none'),
  ('ship', 'paid', 'shipped', 'admin', 'root', 'ok'), ('ship', 'paid', 'shipped', 'warehouse', 'alice', 'ok'),
  ('ship', 'paid', 'shipped', 'anon', NULL, '42501'),
  ('cancel', 'draft', 'cancelled', 'alice', 'alice', 'ok'), ('cancel', 'paid', 'cancelled', 'alice', 'alice', 'ok'),
  ('cancel', 'paid', 'cancelled', 'bob', 'bob', 'none'), ('cancel', 'draft', 'cancelled', 'admin', 'root', 'ok'),
  ('cancel', 'paid', 'cancelled', 'warehouse', 'alice', 'ok'), ('cancel', 'draft', 'cancelled', 'anon', NULL, '42501'),
  -- Not transitions, whoever asks.
  ('-', 'draft', 'shipped', 'admin', 'root', 'CW001'), ('-', 'shipped', 'paid', 'admin', 'root', 'CW001'),
  ('-', 'cancelled', 'draft', 'alice', 'alice', 'CW001'), ('-', 'draft', 'nowhere', 'admin', 'root', 'CW001');
SELECT results_eq(
  $$SELECT transition, from_state, who, pg_temp.try(who, sub, pg_temp.record(from_state), to_state) FROM matrix ORDER BY 1, 2, 3$$,
  $$SELECT transition, from_state, who, expected FROM matrix ORDER BY 1, 2, 3$$,
  'every transition x role as the API makes it: allowed, refused by the workflow (CW001/CW002), by row security or grants');
SELECT is((SELECT count(*)::int FROM tenant_t93.orders WHERE status NOT IN ('draft', 'paid', 'shipped', 'cancelled')), 0, 'no record is in a state that is not one');

-- A fresh record in a state, then an UPDATE of it (a statement of its own:
-- an UPDATE does not see a row its own WHERE clause inserted).
CREATE FUNCTION pg_temp.move(from_state text, total numeric, sets text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE rid uuid := pg_temp.record(from_state, total);
BEGIN
    EXECUTE format('UPDATE tenant_t93.orders SET %s WHERE id = %L', sets, rid);
    RETURN (SELECT status FROM tenant_t93.orders WHERE id = rid);
END $$;

-- Guards hold on the record after the change.
SELECT throws_ok($$SELECT pg_temp.move('draft', 0, $s$status = 'paid'$s$)$$, 'CW003',
  'the record does not meet the guard of transition ''pay'' of orders', 'a guard that fails: CW003');
SELECT throws_ok($$SELECT pg_temp.move('draft', NULL, $s$status = 'paid'$s$)$$, 'CW003', NULL,
  'a guard on a NULL field fails (never unknown)');
SELECT is(pg_temp.move('draft', 0, $$status = 'paid', total = 5$$), 'paid', 'the same update may fill the field the guard needs');
SELECT throws_ok($$SELECT pg_temp.move('draft', 1, $s$status = 'shipped'$s$)$$, 'CW001',
  'no transition of orders leads from ''draft'' to ''shipped''', 'not a transition: CW001 with the move tried');
CREATE FUNCTION pg_temp.hint_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text; BEGIN EXECUTE q; RETURN NULL; EXCEPTION WHEN OTHERS THEN GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT; RETURN h; END $$;
SELECT is(pg_temp.hint_of($$SELECT pg_temp.move('draft', 1, $s$status = 'shipped'$s$)$$),
  'the transitions from "draft": pay (to "paid"), cancel (to "cancelled")', '... and the allowed ones in HINT');

-- Inserts start in a start state; COPY is held to it too.
SELECT is(pg_temp.move('draft', 1, 'total = 2'), 'draft', 'a new record takes the initial state');
SELECT throws_ok($$INSERT INTO tenant_t93.orders (total, status) VALUES (1, 'paid')$$, 'CW004',
  'a new record of orders cannot start in state ''paid''', 'an insert in another state: CW004');
SELECT throws_ok($$COPY tenant_t93.orders (total, status) FROM PROGRAM 'echo 1,shipped' WITH (FORMAT csv)$$, 'CW004', NULL,
  'COPY too');
SELECT lives_ok($$COPY tenant_t93.orders (total, status) FROM PROGRAM 'echo 1,draft' WITH (FORMAT csv)$$, 'COPY in the initial state');

-- cot.transition: names the transition, runs as the caller, returns the record.
SELECT pg_temp.record('draft') AS rid \gset
SELECT set_config('request.jwt.claims', '{"role": "cot_t93_user", "tenant": "t93", "sub": "alice"}', true);
SET LOCAL ROLE cot_t93_user;
SELECT is(cot.transitions('t93', 'orders', :'rid')::text, '[{"to": "paid", "from": ["draft"], "name": "pay", "label": null, "description": null}, {"to": "cancelled", "from": ["draft", "paid"], "name": "cancel", "label": null, "description": null}]',
  'cot.transitions: what alice may take now');
SELECT is(cot.transition('t93', 'orders', :'rid', 'pay', 'card')->>'status', 'paid', 'cot.transition returns the record after it');
SELECT throws_ok(format($$SELECT cot.transition('t93', 'orders', %L, 'pay')$$, :'rid'), 'CW001',
  'transition ''pay'' of orders cannot be taken from state ''paid''', 'the same transition again: CW001 (what the loser of a race gets)');
SELECT throws_ok(format($$SELECT cot.transition('t93', 'orders', %L, 'ship')$$, :'rid'), 'CW002', NULL, 'a transition of another role: CW002');
SELECT throws_ok(format($$SELECT cot.transition('t93', 'orders', %L, 'fly')$$, :'rid'), '42704', NULL, 'an unknown transition: 42704');
SELECT is(cot.transitions('t93', 'orders', :'rid')::text, '[{"to": "cancelled", "from": ["draft", "paid"], "name": "cancel", "label": null, "description": null}]',
  '... now only cancel');
SELECT set_config('request.jwt.claims', '{"role": "cot_t93_user", "tenant": "t93", "sub": "bob"}', true);
SELECT throws_ok(format($$SELECT cot.transition('t93', 'orders', %L, 'cancel')$$, :'rid'), '42704', NULL,
  'bob cannot reach alice''s record (row security): not found');
RESET ROLE;
SELECT set_config('request.jwt.claims', '', true);
SELECT is(pg_current_setting_ok, true, 'the transition''s name does not outlive the call') FROM
  (SELECT coalesce(current_setting('cot.transition', true), '') = '' AS pg_current_setting_ok) s;

-- The change log: every transition, by cot.transition or a plain UPDATE.
CREATE TEMP VIEW log93 AS
SELECT l.id + e.i - 1 AS id, l.entity, e.record_id, l.op, e.old, e.new, l.actor, l.transition
  FROM tenant_t93._changes AS l,
       ROWS FROM (unnest(l.record_ids), unnest(l.old), unnest(l.new)) WITH ORDINALITY AS e(record_id, old, new, i);
SELECT is((SELECT transition FROM log93 WHERE record_id = :'rid' ORDER BY id LIMIT 1),
  '{"name": "pay", "field": "status", "from": "draft", "to": "paid", "note": "card"}'::jsonb, 'the log has name, from, to and the note');
SELECT is((SELECT actor FROM log93 WHERE record_id = :'rid' ORDER BY id LIMIT 1),
  '{"sub": "alice", "role": "cot_t93_user"}'::jsonb, '... and who');
SELECT is((SELECT count(*)::int FROM log93 WHERE op = 'transition' AND transition->>'name' IS NULL), 0,
  'every transition entry has its name (plain UPDATEs are named by the transition they match)');
SELECT is((SELECT count(*)::int FROM log93 WHERE op <> 'transition'), 0, 'without history, nothing else is logged');
SELECT is(cot.history('t93', 'orders', :'rid')->0->'record'->>'status', 'paid', 'cot.history shows the transitions');

-- The graph.
SELECT is(jsonb_array_length(cot.workflow_graph('t93', 'orders')->'edges'), 4, 'workflow_graph: an edge per transition and state it leaves');
SELECT set_config('request.jwt.claims', '{"role": "cot_t93_anon", "tenant": "t93"}', true);
SET LOCAL ROLE cot_t93_anon;
SELECT throws_ok($$SELECT cot.workflow_graph('t93', 'orders')$$, '42501', NULL, 'workflow_graph: not for a role that cannot read the entity');
RESET ROLE;
SELECT set_config('request.jwt.claims', '', true);
SELECT is(cot.workflow_graph('t93', 'orders')->'nodes'->2, '{"id": "shipped", "final": true, "start": false, "initial": false, "reachable": true}',
  '... nodes say initial, start, final, reachable');

-- Random transitions through SQL never reach a state the graph does not allow.
CREATE FUNCTION pg_temp.random_walk(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    states text[] := ARRAY['draft', 'paid', 'shipped', 'cancelled'];
    edges jsonb := cot.workflow_graph('t93', 'orders')->'edges';
    ids uuid[];
    rid uuid; before text; after text; bad int := 0;
BEGIN
    PERFORM setseed(0.93);
    SELECT array_agg(pg_temp.record('draft', (random() * 2)::int)) INTO ids FROM generate_series(1, 20);
    FOR i IN 1..n LOOP
        rid := ids[1 + floor(random() * 20)::int];
        SELECT status INTO before FROM tenant_t93.orders WHERE id = rid;
        BEGIN
            UPDATE tenant_t93.orders SET status = states[1 + floor(random() * 4)::int],
                   total = CASE WHEN random() < 0.2 THEN 0 ELSE total END WHERE id = rid;
        EXCEPTION WHEN SQLSTATE 'CW001' OR SQLSTATE 'CW003' THEN NULL;
        END;
        SELECT status INTO after FROM tenant_t93.orders WHERE id = rid;
        IF after <> before AND NOT edges @> jsonb_build_array(jsonb_build_object('from', before, 'to', after)) THEN
            bad := bad + 1;
        END IF;
    END LOOP;
    RETURN bad;
END $$;
SELECT is(pg_temp.random_walk(2000), 0, '2,000 random changes of state: every one that happened is an edge of the graph');
SELECT is((SELECT count(*)::int FROM log93 c JOIN tenant_t93.orders o ON o.id = c.record_id
            WHERE c.op = 'transition' AND NOT cot.workflow_graph('t93', 'orders')->'edges' @> jsonb_build_array(jsonb_build_object(
              'from', c.transition->>'from', 'to', c.transition->>'to', 'transition', c.transition->>'name'))), 0,
  '... and every logged transition is an edge under its own name');

-- Evolution: a state and a transition added; a state removed that rows hold.
SELECT lives_ok($$SELECT cot.alter_entity(jsonb_set(cot.entity('t93', 'orders'), '{fields,1}',
  (cot.entity('t93', 'orders')->'fields'->1) || '{"states": ["draft", "paid", "shipped", "cancelled", "returned"],
   "transitions": [{"name": "pay", "from": "draft", "to": "paid", "who": "tenant", "guard": {"total": {"gt": 0}}},
                   {"name": "ship", "from": "paid", "to": "shipped", "who": ["admin", "t93_warehouse"]},
                   {"name": "cancel", "from": ["draft", "paid"], "to": "cancelled", "who": "owner"},
                   {"name": "return", "from": "shipped", "to": "returned", "who": "admin"}]}'))$$,
  'a state and a transition added');
SELECT is(pg_temp.move('shipped', 1, $$status = 'returned'$$), 'returned', '... and taken');
SELECT is(jsonb_array_length(cot.workflow_graph('t93', 'orders')->'nodes'), 5, '... in the graph');
SELECT pg_temp.record('cancelled'), pg_temp.record('cancelled');
CREATE TEMP VIEW without_cancelled AS SELECT jsonb_set(cot.entity('t93', 'orders'), '{fields,1}',
  (cot.entity('t93', 'orders')->'fields'->1) || '{"states": ["draft", "paid", "shipped", "returned"],
   "transitions": [{"name": "pay", "from": "draft", "to": "paid"}, {"name": "ship", "from": "paid", "to": "shipped"}]}') AS def;
SELECT throws_like($$SELECT cot.alter_entity(def) FROM without_cancelled$$,
  'invalid entity change: ' || (SELECT count(*) FROM tenant_t93.orders WHERE status = 'cancelled') || ' rows break the new rule on "status"%',
  'removing the state cancelled, which rows hold, is refused with the rows counted');
SELECT is((SELECT c->>'sql' FROM without_cancelled, jsonb_array_elements(cot.plan_entity(def, '{"rename_values": {"status": {"cancelled": "draft"}}}')->'changes') c
            WHERE c->>'step' = 'rename_value'),
  'UPDATE "tenant_t93"."orders" SET "status" = ''draft'' WHERE "status" = ''cancelled''', 'plan_entity shows the mapping''s UPDATE');
SELECT lives_ok($$SELECT cot.alter_entity(jsonb_set(cot.entity('t93', 'orders'), '{fields,1}',
  (cot.entity('t93', 'orders')->'fields'->1) || '{"states": ["draft", "paid", "shipped", "returned"],
   "transitions": [{"name": "pay", "from": "draft", "to": "paid"}, {"name": "ship", "from": "paid", "to": "shipped"}]}'),
  '{"rename_values": {"status": {"cancelled": "draft"}}}')$$, '... and made with a mapping to draft');
SELECT is((SELECT count(*)::int FROM tenant_t93.orders WHERE status = 'cancelled'), 0, 'no row is left in the removed state');
SELECT is_empty($$SELECT * FROM cot.check('t93')$$, 'cot.check: the new trigger is what the definition makes');

-- cot.check sees a trigger function changed or a trigger disabled by hand.
SET LOCAL cot.drift = 'allow';
ALTER TABLE tenant_t93.orders DISABLE TRIGGER cot_workflow;
SELECT is((SELECT problem FROM cot.check('t93') WHERE object LIKE '%cot_workflow%'), 'trigger is disabled', 'cot.check: a disabled workflow trigger');
ALTER TABLE tenant_t93.orders ENABLE TRIGGER cot_workflow;
CREATE OR REPLACE FUNCTION tenant_t93.orders_workflow() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
SELECT is((SELECT problem FROM cot.check('t93') WHERE object LIKE '%cot_workflow%'), 'trigger function differs from the one the definition makes',
  'cot.check: a trigger function replaced by hand');

-- Dropping the entity drops its trigger function too.
SELECT lives_ok($$SELECT cot.drop_entity('t93', 'orders')$$, 'the entity dropped');
SELECT is((SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'tenant_t93'::regnamespace AND proname = 'orders_workflow'), 0, '... and its workflow function with it');

SELECT * FROM finish();
ROLLBACK;
