// Reading the change log in order across real sessions: cot.changes returns
// a change only once every change with a smaller id is committed or rolled
// back, so a consumer that passes `next` back never skips one, even when a
// long transaction that wrote first commits after a short one.
//
// Break check (done by hand when written): with the watermark ignoring the
// writers' advisory locks (`pending` left out of `watermark()`), the first
// test read the short transaction's change past the long one's and then
// skipped it, and the random run lost changes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeAll, connect, connectMany, createDatabase, dropDatabase } from './lib/db.mjs';
import { start } from './lib/postgrest.mjs';

const TENANT = 'chg';
let db;
let su;

before(async () => {
  db = await createDatabase('cot_changes');
  su = await connect(db);
  await su.query('SELECT cot.create_tenant($1)', [TENANT]);
  await su.query('SELECT cot.create_entity($1::jsonb)', [JSON.stringify({
    tenant: TENANT, name: 'events', history: true, fields: [{ name: 'n', type: 'integer' }],
  })]);
});

after(async () => {
  await closeAll([su]);
  await dropDatabase(db);
});

async function read(client, after, max = 1000) {
  const { rows } = await client.query('SELECT cot.changes($1, $2, $3) AS r', [TENANT, after, max]);
  return rows[0].r;
}

// Reads everything readable now, page by page, from `cursor`.
async function drain(client, cursor) {
  const seen = [];
  for (;;) {
    const page = await read(client, cursor, 100);
    seen.push(...page.changes);
    const next = Number(page.next);
    if (page.changes.length < 100) return { seen, cursor: next };
    cursor = next;
  }
}

test('a long transaction that wrote first holds back the changes after it, and none is skipped', async () => {
  const [long, short, reader] = await connectMany(db, 3);
  try {
    const start = Number((await read(reader, 0)).next);
    await long.query('BEGIN');
    await long.query(`INSERT INTO tenant_${TENANT}.events (n) VALUES (1)`);
    await short.query(`INSERT INTO tenant_${TENANT}.events (n) VALUES (2)`); // autocommit
    const during = await drain(reader, start);
    assert.deepEqual(during.seen, [], 'the short transaction\'s change waits behind the long one');
    await long.query('COMMIT');
    const afterCommit = await drain(reader, during.cursor);
    assert.deepEqual(afterCommit.seen.map((c) => c.new.n), [1, 2], 'both, in the order they were made');
    const ids = afterCommit.seen.map((c) => Number(c.id));
    assert.ok(ids[0] < ids[1]);
    assert.ok(during.cursor < ids[0], 'the cursor never passed the long transaction\'s change');
    assert.deepEqual((await drain(reader, afterCommit.cursor)).seen, [], 'nothing twice');
  } finally {
    await closeAll([long, short, reader]);
  }
});

test('a rolled-back change leaves a gap the cursor passes', async () => {
  const [w, reader] = await connectMany(db, 2);
  try {
    const start = (await drain(reader, 0)).cursor;
    await w.query('BEGIN');
    await w.query(`INSERT INTO tenant_${TENANT}.events (n) VALUES (10)`);
    await w.query('ROLLBACK');
    await w.query(`INSERT INTO tenant_${TENANT}.events (n) VALUES (11)`);
    const got = await drain(reader, start);
    assert.deepEqual(got.seen.map((c) => c.new.n), [11]);
  } finally {
    await closeAll([w, reader]);
  }
});

// The lock taken in a savepoint goes with it when it rolls back: the next
// change of the same transaction must take one again, or the reader would
// pass it while it is still uncommitted.
test('a change after a rolled-back savepoint still holds back the changes after it', async () => {
  const [long, short, reader] = await connectMany(db, 3);
  try {
    const start = (await drain(reader, 0)).cursor;
    await long.query('BEGIN');
    await long.query('SAVEPOINT s');
    await long.query(`INSERT INTO tenant_${TENANT}.events (n) VALUES (20)`);
    await long.query('ROLLBACK TO SAVEPOINT s');
    await long.query(`INSERT INTO tenant_${TENANT}.events (n) VALUES (21)`);
    await short.query(`INSERT INTO tenant_${TENANT}.events (n) VALUES (22)`);
    const during = await drain(reader, start);
    assert.deepEqual(during.seen, [], 'the later change waits behind the open transaction');
    await long.query('COMMIT');
    const got = await drain(reader, during.cursor);
    assert.deepEqual(got.seen.map((c) => c.new.n), [21, 22], 'both, none skipped, the rolled-back one absent');
  } finally {
    await closeAll([long, short, reader]);
  }
});

test('REPEATABLE READ is refused (55000): its snapshot would hide changes the watermark calls final', async () => {
  const c = await connect(db);
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await assert.rejects(read(c, 0), (e) => e.code === '55000');
    await c.query('ROLLBACK');
  } finally {
    await closeAll([c]);
  }
});

test('random writers and a concurrent reader: every committed change exactly once, ids increasing', { timeout: 120_000 }, async () => {
  const WRITERS = 6;
  const ROUNDS = Number(process.env.COT_CHANGES_ROUNDS ?? 40);
  const writers = await connectMany(db, WRITERS);
  const reader = await connect(db);
  const committed = new Set();
  let done = false;
  const seen = [];
  try {
    let cursor = (await drain(reader, 0)).cursor;
    const readLoop = (async () => {
      while (!done) {
        const got = await drain(reader, cursor);
        seen.push(...got.seen);
        cursor = got.cursor;
        await new Promise((r) => setTimeout(r, 2));
      }
      const last = await drain(reader, cursor);
      seen.push(...last.seen);
    })();
    await Promise.all(writers.map(async (w, wi) => {
      for (let r = 0; r < ROUNDS; r++) {
        const tag = wi * 100000 + r * 10;
        await w.query('BEGIN');
        const rows = 1 + (r % 3);
        for (let k = 0; k < rows; k++) {
          await w.query(`INSERT INTO tenant_${TENANT}.events (n) VALUES ($1)`, [tag + k]);
          if ((r + k) % 4 === 0) await new Promise((res) => setTimeout(res, 1 + ((wi * 7 + r) % 5)));
        }
        if (r % 5 === 4) {
          await w.query('ROLLBACK');
        } else {
          await w.query('COMMIT');
          for (let k = 0; k < rows; k++) committed.add(tag + k);
        }
      }
    }));
    done = true;
    await readLoop;
    const ns = seen.map((c) => c.new.n);
    assert.equal(new Set(ns).size, ns.length, 'no change twice');
    assert.deepEqual([...ns].sort((a, b) => a - b), [...committed].sort((a, b) => a - b), 'every committed change, nothing rolled back');
    const ids = seen.map((c) => Number(c.id));
    assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]), 'ids increase');
    console.log(`changes: ${seen.length} changes from ${WRITERS} writers read exactly once while they wrote`);
  } finally {
    done = true;
    await closeAll([...writers, reader]);
  }
});

test('/rpc/history over PostgREST: the owner reads every version, another user none, anon is refused the entity', { timeout: 120_000 }, async () => {
  await su.query('SELECT cot.create_entity($1::jsonb)', [JSON.stringify({
    tenant: TENANT, name: 'memos', history: true, fields: [{ name: 'body', type: 'text' }],
    access: { read: 'owner', create: 'owner', update: 'owner', delete: 'owner' },
  })]);
  const api = await start(db, { schemas: [TENANT], wiring: 'cot', loginRole: 'changes_authenticator' });
  try {
    const user = (sub) => api.jwt({ role: `cot_${TENANT}_user`, tenant: TENANT, sub });
    const made = await api.request('/memos', { method: 'POST', token: user('ann'), profile: TENANT, body: { body: 'v1' }, prefer: 'return=representation' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body[0].id;
    const patched = await api.request(`/memos?id=eq.${id}`, { method: 'PATCH', token: user('ann'), profile: TENANT, body: { body: 'v2' } });
    assert.equal(patched.status, 204, JSON.stringify(patched.body));
    const mine = await api.request(`/rpc/history?entity=memos&id=${id}`, { token: user('ann'), profile: TENANT });
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.deepEqual(mine.body.map((v) => [v.op, v.record.body, v.actor.sub]), [['insert', 'v1', 'ann'], ['update', 'v2', 'ann']]);
    const theirs = await api.request(`/rpc/history?entity=memos&id=${id}`, { token: user('bo'), profile: TENANT });
    assert.equal(theirs.status, 200, JSON.stringify(theirs.body));
    assert.deepEqual(theirs.body, [], 'a record bo may not read: no version, as for one that does not exist');
    const anon = await api.request(`/rpc/history?entity=memos&id=${id}`, { profile: TENANT });
    assert.equal(anon.status, 200, JSON.stringify(anon.body));
    assert.deepEqual(anon.body, [], 'anon has no grant on memos: no version');
  } finally {
    await api.stop();
  }
});
