// Workflows through the real PostgREST and real sessions: every transition
// as each role's JWT makes it (PATCH of the state, and /rpc/transition),
// /rpc/transitions, and concurrent transitions from the same state: one
// wins, the others get CW001 (not 40001, which PostgREST would retry).
//
// Break check (done by hand when written): with the trigger's role check
// rendered as `true` for admin-only transitions, the matrix failed on
// "ship" for the user; with the wanted transition ignored when the state
// does not change, the concurrent loser succeeded as a no-op.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeAll, connect, connectMany, createDatabase, dropDatabase } from './lib/db.mjs';
import { start } from './lib/postgrest.mjs';

const T = 'wf';
let db;
let su;
let api;
const tok = {};

before(async () => {
  db = await createDatabase('cot_workflows');
  su = await connect(db);
  await su.query('SELECT cot.create_tenant($1)', [T]);
  await su.query('SELECT cot.create_entity($1::jsonb)', [JSON.stringify({
    tenant: T, name: 'orders',
    access: { read: 'tenant', create: 'tenant', update: 'owner', delete: 'admin' },
    fields: [
      { name: 'total', type: 'decimal', precision: 12, scale: 2 },
      { name: 'status', type: 'state', states: ['draft', 'paid', 'shipped', 'cancelled'], initial: 'draft',
        transitions: [
          { name: 'pay', from: 'draft', to: 'paid', who: 'tenant', guard: { total: { gt: 0 } } },
          { name: 'ship', from: 'paid', to: 'shipped', who: 'admin' },
          { name: 'cancel', from: ['draft', 'paid'], to: 'cancelled', who: 'owner' },
        ] },
    ],
  })]);
  api = await start(db, { schemas: [T], wiring: 'cot' });
  tok.alice = api.jwt({ role: `cot_${T}_user`, tenant: T, sub: 'alice' });
  tok.bob = api.jwt({ role: `cot_${T}_user`, tenant: T, sub: 'bob' });
  tok.admin = api.jwt({ role: `cot_${T}_admin`, tenant: T, sub: 'root' });
  tok.anon = api.jwt({ role: `cot_${T}_anon`, tenant: T });
});

after(async () => {
  await api?.stop();
  await closeAll([su]);
  await dropDatabase(db);
});

// A record of alice's, made over the API, then moved by the superuser along
// the graph to `state`.
async function record(state, total = 10) {
  const r = await api.request('/orders', {
    method: 'POST', token: tok.alice, profile: T, body: { total }, prefer: 'return=representation',
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body[0].id;
  const path = { draft: [], paid: ['paid'], shipped: ['paid', 'shipped'], cancelled: ['cancelled'] }[state];
  for (const s of path) await su.query(`UPDATE tenant_${T}.orders SET status = $1 WHERE id = $2`, [s, id]);
  return id;
}

async function stateOf(id) {
  return (await su.query(`SELECT status FROM tenant_${T}.orders WHERE id = $1`, [id])).rows[0].status;
}

// The outcome of a change as PostgREST answers it: "ok", "none" (no row:
// row security), or "<HTTP status> <SQLSTATE>".
function outcome(r) {
  if (r.status === 200 && Array.isArray(r.body)) return r.body.length === 1 ? 'ok' : 'none';
  if (r.status === 200) return 'ok';
  return `${r.status} ${r.body?.code}`;
}

const MATRIX = [
  // transition, from, to, who, PATCH outcome, /rpc/transition outcome
  ['pay', 'draft', 'paid', 'alice', 'ok', 'ok'],
  ['pay', 'draft', 'paid', 'bob', 'none', '400 42704'],
  ['pay', 'draft', 'paid', 'admin', 'ok', 'ok'],
  ['pay', 'draft', 'paid', 'anon', '403 42501', '403 42501'],
  ['ship', 'paid', 'shipped', 'alice', '400 CW002', '400 CW002'],
  ['ship', 'paid', 'shipped', 'admin', 'ok', 'ok'],
  ['ship', 'paid', 'shipped', 'bob', 'none', '400 42704'],
  ['cancel', 'paid', 'cancelled', 'alice', 'ok', 'ok'],
  ['cancel', 'draft', 'cancelled', 'bob', 'none', '400 42704'],
  ['cancel', 'draft', 'cancelled', 'admin', 'ok', 'ok'],
];

test('every transition as each role makes it over PostgREST: PATCH and /rpc/transition agree', async () => {
  const got = [];
  for (const [transition, from, to, who, patchWant, rpcWant] of MATRIX) {
    const a = await record(from);
    const patch = await api.request(`/orders?id=eq.${a}`, {
      method: 'PATCH', token: tok[who], profile: T, body: { status: to }, prefer: 'return=representation',
    });
    const b = await record(from);
    const rpc = await api.request('/rpc/transition', {
      method: 'POST', token: tok[who], profile: T, body: { entity: 'orders', id: b, transition, note: `by ${who}` },
    });
    got.push([transition, from, to, who, outcome(patch), outcome(rpc)]);
    assert.equal(await stateOf(a), outcome(patch) === 'ok' ? to : from, `${transition} by ${who}: PATCH moved the record iff ok`);
    assert.equal(await stateOf(b), outcome(rpc) === 'ok' ? to : from, `${transition} by ${who}: rpc moved the record iff ok`);
    if (outcome(rpc) === 'ok') assert.equal(rpc.body.status, to, '/rpc/transition returns the record after it');
  }
  assert.deepEqual(got, MATRIX);
});

test('refusals say what was tried and what is allowed; guards hold over HTTP', async () => {
  const id = await record('draft', 0);
  const guard = await api.request('/rpc/transition', {
    method: 'POST', token: tok.alice, profile: T, body: { entity: 'orders', id, transition: 'pay' },
  });
  assert.equal(outcome(guard), '400 CW003');
  assert.match(guard.body.details, /transition tried: pay; the guard of pay: \{"total":\{"gt":0\}\}/);
  const jump = await api.request(`/orders?id=eq.${id}`, {
    method: 'PATCH', token: tok.admin, profile: T, body: { status: 'shipped' },
  });
  assert.equal(outcome(jump), '400 CW001');
  assert.equal(jump.body.hint, 'the transitions from "draft": pay (to "paid"), cancel (to "cancelled")');
  const both = await api.request(`/orders?id=eq.${id}`, {
    method: 'PATCH', token: tok.alice, profile: T, body: { status: 'paid', total: 3 }, prefer: 'return=representation',
  });
  assert.equal(outcome(both), 'ok', 'one PATCH may meet the guard and take the transition');
  const start = await api.request('/orders', {
    method: 'POST', token: tok.alice, profile: T, body: { total: 1, status: 'shipped' },
  });
  assert.equal(outcome(start), '400 CW004');
});

test('/rpc/transitions lists what the caller may take now', async () => {
  const id = await record('paid');
  const names = async (token) => {
    const r = await api.request(`/rpc/transitions?entity=orders&id=${id}`, { token, profile: T });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.map((t) => t.name);
  };
  assert.deepEqual(await names(tok.alice), ['cancel']);
  assert.deepEqual(await names(tok.admin), ['ship', 'cancel']);
  assert.deepEqual(await names(tok.bob), [], 'bob cannot update alice\'s record: cancel is hers (owner) and ship is the admins\'');
});

test('two sessions take the same transition at once: one wins, the other gets CW001 after waiting', async () => {
  const id = await record('draft');
  const [a, b] = await connectMany(db, 2);
  try {
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('SELECT cot.transition($1, $2, $3, $4, $5)', [T, 'orders', id, 'pay', 'a']);
    const pid = (await b.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    const loser = b.query('SELECT cot.transition($1, $2, $3, $4, $5)', [T, 'orders', id, 'pay', 'b']).then(
      () => null,
      (e) => e,
    );
    for (let i = 0; i < 100; i++) {
      const w = await su.query('SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1', [pid]);
      if (w.rows[0]?.wait_event_type === 'Lock') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await a.query('COMMIT');
    const err = await loser;
    assert.ok(err, 'the second transition failed');
    assert.equal(err.code, 'CW001');
    assert.equal(err.message, "transition 'pay' of orders cannot be taken from state 'paid'");
    await b.query('ROLLBACK');
    const log = await su.query(
      `SELECT transition->>'note' AS note FROM tenant_${T}._changes WHERE record_ids @> ARRAY[$1::uuid] AND op = 'transition'`, [id]);
    assert.deepEqual(log.rows.map((r) => r.note), ['a'], 'only the winner is recorded');
  } finally {
    await closeAll([a, b]);
  }
});

test('eight requests race for one transition over PostgREST: one 200, seven CW001, none retried', async () => {
  const id = await record('draft');
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => api.request('/rpc/transition', {
    method: 'POST', token: tok.alice, profile: T, body: { entity: 'orders', id, transition: 'cancel', note: `r${i}` },
  })));
  const outcomes = results.map(outcome).sort();
  assert.deepEqual(outcomes, ['400 CW001', '400 CW001', '400 CW001', '400 CW001', '400 CW001', '400 CW001', '400 CW001', 'ok']);
  const log = await su.query(
    `SELECT count(*)::int AS n FROM tenant_${T}._changes WHERE record_ids @> ARRAY[$1::uuid] AND op = 'transition'`, [id]);
  assert.equal(log.rows[0].n, 1);
});

test('transitions are in cot.changes with who, note and name', async () => {
  const id = await record('draft');
  await api.request('/rpc/transition', {
    method: 'POST', token: tok.alice, profile: T, body: { entity: 'orders', id, transition: 'pay', note: 'card' },
  });
  const { rows } = await su.query('SELECT cot.changes($1, 0, 10000) AS r', [T]);
  const mine = rows[0].r.changes.filter((c) => c.record_id === id);
  assert.equal(mine.length, 1);
  assert.equal(mine[0].op, 'transition');
  assert.deepEqual(mine[0].transition, { name: 'pay', field: 'status', from: 'draft', to: 'paid', note: 'card' });
  assert.deepEqual(mine[0].actor, { sub: 'alice', role: `cot_${T}_user` });
});
