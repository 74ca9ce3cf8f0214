// cot.alter_entity against a table other sessions are using.
//
// Every ALTER TABLE takes ACCESS EXCLUSIVE. While an ALTER waits for that lock
// (behind an open reader, say), every later reader queues behind the ALTER:
// one long transaction plus one waiting ALTER stop all reads of the table.
// alter_entity therefore waits at most `cot.lock_timeout` (500 ms by default)
// or its `lock_timeout` option, then fails with 55P03, which the caller may
// retry. Here, with real sessions:
//   A holds a lock on the entity's table (an open reader, or a row lock);
//   B calls cot.alter_entity: it must fail with 55P03 after about the timeout;
//   C reads the entity's view meanwhile: it waits no longer than B does;
//   after A ends, B's retry succeeds (and PostgREST is told to reload).
// The control: a plain ALTER TABLE without lock_timeout in B keeps C waiting
// until A ends. That difference is what the timeout is for.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeAll, connect, createDatabase, dropDatabase } from './lib/db.mjs';

const TENANT = 'evo_locks';
const TABLE = `tenant_${TENANT}.item`;
const VIEW = `${TENANT}.item`;

let db;
let admin;

before(async () => {
  db = await createDatabase('cot_evo_locks');
  admin = await connect(db);
  await admin.query("SELECT cot.create_tenant($1, '{}'::jsonb)", [TENANT]);
  await admin.query('SELECT cot.create_entity($1::jsonb)', [
    JSON.stringify({
      tenant: TENANT,
      name: 'item',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'qty', type: 'integer' },
      ],
    }),
  ]);
  await admin.query(`INSERT INTO ${VIEW} (title, qty) SELECT 'row ' || n, n FROM generate_series(1, 100) n`);
});

after(async () => {
  // Tenant roles are cluster-wide: drop the tenant before its database.
  if (admin) {
    try {
      await admin.query('SELECT cot.drop_tenant($1, true)', [TENANT]);
    } catch {
      // The tenant may not exist if the test failed early.
    }
  }
  await closeAll([admin]);
  await dropDatabase(db);
});

const now = () => performance.now();
// Scheduling slack on a busy 2-core machine.
const SLACK_MS = 700;

async function definition() {
  const { rows } = await admin.query('SELECT cot.entity($1, $2) AS def', [TENANT, 'item']);
  const def = rows[0].def;
  delete def.referenced_by;
  return def;
}

// The stored definition plus one new field: an ADD COLUMN, so ACCESS EXCLUSIVE
// on the table.
async function withNewField(name) {
  const def = await definition();
  def.fields.push({ name, type: 'text' });
  return def;
}

async function version() {
  const { rows } = await admin.query(
    `SELECT e.version FROM cot.entities e JOIN cot.tenants t ON t.id = e.tenant_id WHERE t.slug = $1 AND e.name = 'item'`,
    [TENANT],
  );
  return rows[0].version;
}

async function columns() {
  const { rows } = await admin.query(
    `SELECT array_agg(attname::text ORDER BY attnum) AS cols FROM pg_attribute
      WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [TABLE],
  );
  return rows[0].cols;
}

async function pid(client) {
  const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
  return rows[0].pid;
}

// Resolves once session `p` waits for a heavyweight lock (or rejects after 10 s).
async function waitingOnLock(p) {
  const deadline = now() + 10_000;
  for (;;) {
    const { rows } = await admin.query('SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1', [p]);
    if (rows[0]?.wait_event_type === 'Lock') return;
    if (now() > deadline) throw new Error(`session ${p} never waited for a lock`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

// Runs a query and reports when it ended, how long it took and how it ended.
async function timed(client, sql, params) {
  const start = now();
  try {
    const res = await client.query(sql, params);
    return { ok: true, start, end: now(), ms: now() - start, res };
  } catch (err) {
    return { ok: false, start, end: now(), ms: now() - start, err };
  }
}

const readView = (c) => timed(c, `SELECT count(*)::int AS n FROM ${VIEW}`);

// B runs alter_entity while A holds `lockSql`; C reads the view once B waits.
async function blockedAlter({ lockSql, options, timeoutMs, expectMs }) {
  const [a, b, c] = await Promise.all([connect(db), connect(db), connect(db)]);
  let aOpen = false;
  try {
    await a.query('BEGIN');
    aOpen = true;
    await a.query(lockSql);
    const bPid = await pid(b);
    const versionBefore = await version();
    const columnsBefore = await columns();
    const def = await withNewField('extra');

    const cPid = await pid(c);
    const bRun = timed(b, 'SELECT cot.alter_entity($1::jsonb, $2::jsonb)', [JSON.stringify(def), JSON.stringify(options)]);
    await waitingOnLock(bPid);
    const cRun = readView(c);
    // Whether C was seen queued behind B (for timeouts long enough to look).
    let cQueued = false;
    let cDone = false;
    cRun.then(() => (cDone = true));
    while (!cDone && !cQueued) {
      const { rows } = await admin.query('SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1', [cPid]);
      cQueued = rows[0]?.wait_event_type === 'Lock';
    }
    const [bRes, cRes] = await Promise.all([bRun, cRun]);
    await a.query('COMMIT');
    aOpen = false;

    assert.equal(bRes.ok, false, 'alter_entity must not get the lock while A holds its own');
    assert.equal(bRes.err.code, '55P03', `alter_entity fails with 55P03 (lock_not_available), got ${bRes.err.code}: ${bRes.err.message}`);
    assert.ok(
      bRes.ms >= expectMs.min && bRes.ms < expectMs.max,
      `alter_entity gave up after ${bRes.ms.toFixed(0)} ms, expected ${expectMs.min}..${expectMs.max} ms`,
    );
    assert.equal(cRes.ok, true, `the reader succeeds: ${cRes.err?.message}`);
    assert.equal(cRes.res.rows[0].n, 100, 'the reader sees the 100 rows');
    // C waited behind B at most until B gave up: it ends within the timeout
    // (plus slack) of B's start, and shortly after B.
    assert.ok(
      cRes.end - bRes.start < timeoutMs + SLACK_MS,
      `the reader ended ${(cRes.end - bRes.start).toFixed(0)} ms after the alter started (timeout ${timeoutMs} ms + ${SLACK_MS} ms slack)`,
    );
    assert.ok(
      cRes.end - bRes.end < 500,
      `the reader ended ${(cRes.end - bRes.end).toFixed(0)} ms after the alter gave up (expected < 500 ms)`,
    );
    // Nothing changed.
    assert.equal(await version(), versionBefore, 'the failed alter left the version as it was');
    assert.deepEqual(await columns(), columnsBefore, 'the failed alter left the columns as they were');
    return { b: bRes, c: cRes, cQueued };
  } finally {
    if (aOpen) await a.query('ROLLBACK').catch(() => {});
    await closeAll([a, b, c]);
  }
}

test('an open reader holds the table: alter_entity fails with 55P03 after cot.lock_timeout (500 ms); a reader behind it waits no longer', async (t) => {
  const { rows } = await admin.query("SELECT current_setting('cot.lock_timeout') AS t");
  assert.equal(rows[0].t, '500ms', 'cot.lock_timeout defaults to 500 ms');
  const r = await blockedAlter({
    lockSql: `LOCK TABLE ${TABLE} IN ACCESS SHARE MODE`,
    options: {},
    timeoutMs: 500,
    expectMs: { min: 400, max: 2000 },
  });
  t.diagnostic(`alter gave up after ${r.b.ms.toFixed(0)} ms; the reader waited ${r.c.ms.toFixed(0)} ms`);
  assert.ok(r.cQueued, 'the reader was queued behind the waiting alter (so the timeout is what freed it)');
  assert.ok(r.c.ms < 2000, `the reader waited ${r.c.ms.toFixed(0)} ms`);
});

test('a row lock (SELECT ... FOR SHARE) holds the table: with the option lock_timeout 100, alter_entity fails after about 100 ms', async (t) => {
  const r = await blockedAlter({
    lockSql: `SELECT id FROM ${TABLE} WHERE qty = 1 FOR SHARE`,
    options: { lock_timeout: 100 },
    timeoutMs: 100,
    expectMs: { min: 90, max: 600 },
  });
  t.diagnostic(`alter gave up after ${r.b.ms.toFixed(0)} ms; the reader waited ${r.c.ms.toFixed(0)} ms`);
  assert.ok(r.c.ms < 600, `the reader waited ${r.c.ms.toFixed(0)} ms`);
});

test('the caller may raise the timeout: lock_timeout 1500 waits about 1.5 s', async (t) => {
  const r = await blockedAlter({
    lockSql: `LOCK TABLE ${TABLE} IN ACCESS SHARE MODE`,
    options: { lock_timeout: 1500 },
    timeoutMs: 1500,
    expectMs: { min: 1400, max: 3000 },
  });
  t.diagnostic(`alter gave up after ${r.b.ms.toFixed(0)} ms; the reader waited ${r.c.ms.toFixed(0)} ms`);
  assert.ok(r.cQueued, 'the reader was queued behind the waiting alter');
});

test('after the reader ends, the retry succeeds, and PostgREST is told to reload', async () => {
  const [a, b, listener] = await Promise.all([connect(db), connect(db), connect(db)]);
  let aOpen = false;
  try {
    await listener.query('LISTEN pgrst');
    const notes = [];
    listener.on('notification', (n) => notes.push(n));

    await a.query('BEGIN');
    aOpen = true;
    await a.query(`LOCK TABLE ${TABLE} IN ACCESS SHARE MODE`);
    const versionBefore = await version();
    const def = await withNewField('retried');
    const first = await timed(b, 'SELECT cot.alter_entity($1::jsonb) AS def', [JSON.stringify(def)]);
    assert.equal(first.ok, false, 'the first attempt fails while A holds the table');
    assert.equal(first.err.code, '55P03');
    await a.query('COMMIT');
    aOpen = false;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(notes.length, 0, 'a failed alter notifies nobody');

    const second = await timed(b, 'SELECT cot.alter_entity($1::jsonb) AS def', [JSON.stringify(def)]);
    assert.equal(second.ok, true, `the retry succeeds: ${second.err?.message}`);
    assert.equal(second.res.rows[0].def.version, versionBefore + 1, 'one version up');
    assert.ok((await columns()).includes('retried'), 'the new column is there');
    const { rows } = await admin.query(`SELECT count(retried)::int AS filled, count(*)::int AS n FROM ${VIEW}`);
    assert.deepEqual(rows[0], { filled: 0, n: 100 }, 'the view shows the new field, the rows are kept');

    const deadline = now() + 5000;
    while (!notes.some((n) => n.payload === 'reload schema') && now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(
      notes.some((n) => n.channel === 'pgrst' && n.payload === 'reload schema'),
      `NOTIFY pgrst, 'reload schema' after the alter commits (got ${JSON.stringify(notes.map((n) => n.payload))})`,
    );
  } finally {
    if (aOpen) await a.query('ROLLBACK').catch(() => {});
    await closeAll([a, b, listener]);
  }
});

test('control: a plain ALTER TABLE without lock_timeout keeps the reader waiting until the open reader ends', async (t) => {
  const [a, b, c] = await Promise.all([connect(db), connect(db), connect(db)]);
  const HOLD_MS = 1500;
  let aOpen = false;
  let bOpen = false;
  try {
    await a.query('BEGIN');
    aOpen = true;
    await a.query(`LOCK TABLE ${TABLE} IN ACCESS SHARE MODE`);
    const bPid = await pid(b);
    await b.query('BEGIN');
    bOpen = true;
    await b.query('SET LOCAL lock_timeout = 0');
    // Out-of-band DDL on a tenant schema is refused by Cot's drift guard; the
    // control needs the bare ALTER (and rolls it back).
    await b.query("SET LOCAL cot.drift = 'allow'");
    const bRun = timed(b, `ALTER TABLE ${TABLE} ADD COLUMN plain_extra text`);
    await waitingOnLock(bPid);
    const cRun = readView(c);
    await new Promise((r) => setTimeout(r, HOLD_MS));
    const aEnd = now();
    await a.query('COMMIT');
    aOpen = false;
    const bRes = await bRun;
    await b.query('ROLLBACK');
    bOpen = false;
    const cRes = await cRun;

    t.diagnostic(`plain ALTER waited ${bRes.ms.toFixed(0)} ms; the reader waited ${cRes.ms.toFixed(0)} ms`);
    assert.equal(bRes.ok, true, `the plain ALTER waits and then succeeds: ${bRes.err?.message}`);
    assert.ok(bRes.ms >= HOLD_MS - 50, `the plain ALTER waited ${bRes.ms.toFixed(0)} ms, as long as A held the table`);
    assert.equal(cRes.ok, true, `the reader succeeds in the end: ${cRes.err?.message}`);
    assert.ok(
      cRes.end >= aEnd,
      `the reader ended ${(aEnd - cRes.end).toFixed(0)} ms before A did: it should have waited behind the ALTER`,
    );
    assert.ok(cRes.ms >= HOLD_MS - 100, `the reader waited ${cRes.ms.toFixed(0)} ms behind the plain ALTER (at least ~${HOLD_MS} ms)`);
    assert.ok(!(await columns()).includes('plain_extra'), 'the control rolled its column back');
  } finally {
    if (aOpen) await a.query('ROLLBACK').catch(() => {});
    if (bOpen) await b.query('ROLLBACK').catch(() => {});
    await closeAll([a, b, c]);
  }
});
