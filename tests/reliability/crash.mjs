// Crash recovery of Cot's calls, driven by tests/reliability/crash.sh.
//
// 1. Kill points. Each of cot.create_tenant, cot.create_entity,
//    cot.alter_entity (a type change that rewrites a table of 100,000 rows,
//    1,000,000 in the long mode), cot.apply_schema and cot.drop_tenant (force)
//    is stopped after its k-th statement (cot.test_pause_after_step: the
//    backend waits for an advisory lock this driver holds) and its backend
//    killed with SIGKILL; also right after the call returned inside an open
//    transaction (before COMMIT), right after an autocommit call was
//    acknowledged, and, for the type change, in the middle of the table
//    rewrite. After each recovery the tenant is exactly as before the call
//    (or, once acknowledged, exactly as after it), the database is consistent
//    (server.mjs, findings) and the same call succeeds when retried.
// 2. Meanwhile two writers insert rows through another tenant's API view;
//    every acknowledged row must survive all the crashes.
// 3. Immediate shutdown (pg_ctl stop -m immediate) under a mixed load, then
//    a restart: every acknowledged row and entity change is there.
//
// Short mode by default; COT_LONG=1 for every step of every call, a bigger
// table and a longer load. Prints the figures at the end.

import assert from 'node:assert/strict';
import { startWriters, missingAcked } from './load.mjs';
import { loadThenCrash } from './shutdown.mjs';
import {
  awaitRecovery,
  findings,
  killBackend,
  pausedAt,
  pidOf,
  session,
  sleep,
  snapshot,
} from './server.mjs';

const LONG = process.env.COT_LONG === '1';
const DB = process.env.COT_CRASH_DB ?? 'cot_crash';
const ROWS = Number(process.env.COT_CRASH_ROWS ?? (LONG ? 1_000_000 : 100_000));
const LOAD_SECONDS = Number(process.env.COT_CRASH_LOAD_SECONDS ?? (LONG ? 30 : 4));

const figures = { kills: 0, recoveryMs: [], points: {}, midRewrite: 0, rewriteMs: [] };
let admin;

const T0 = performance.now();
const log = (msg) => process.stdout.write(`[crash ${((performance.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);

async function reconnectAdmin() {
  await admin?.end().catch(() => {});
  admin = await session(DB);
}

async function call(c, { sql, params }) {
  return (await c.query(sql, params)).rows;
}

// The steps of a call (DDL statements and meta-table writes, as
// cot.test_fail_after_step counts them): the call is made to fail after step
// k = 1, 2, ... inside a transaction that is rolled back, until it succeeds.
async function stepsOf(c, cl) {
  for (let k = 1; k < 1000; k++) {
    await c.query('BEGIN');
    try {
      await c.query(`SET LOCAL cot.test_fail_after_step = ${k}`);
      await call(c, cl);
      return k - 1;
    } catch (e) {
      if (e.code !== '55000') throw e;
    } finally {
      await c.query('ROLLBACK');
    }
  }
  throw new Error('no end to the steps');
}

// Which steps to kill at: every one in the long mode; else the first, the
// middle and the last.
function stepPoints(n) {
  if (LONG) return Array.from({ length: n }, (_, i) => i + 1);
  return [...new Set([1, Math.ceil(n / 2), n])];
}

// After a kill: the postmaster ends every other backend, this driver's admin
// session included, before it replays the WAL; a session opened before that
// would be ended too. So wait for the admin session to go first.
async function recover(t0) {
  figures.kills++;
  for (;;) {
    try {
      await admin.query('SELECT pg_sleep(0.005)');
    } catch {
      break;
    }
    assert.ok(performance.now() - t0 < 30_000, 'the server did not restart its backends after a kill');
  }
  const ms = await awaitRecovery(DB, t0);
  figures.recoveryMs.push(ms);
  await reconnectAdmin();
  return ms;
}

async function assertConsistent(where) {
  const f = await findings(admin);
  assert.deepEqual(f, [], `${where}: the database is consistent`);
}

// Runs `cl` in a new session and kills its backend at `point`: a step
// number, 'before-commit' or 'after-commit'. Checks the tenant against the
// snapshot it must equal, then retries the call (unless it committed).
async function killAt(name, cl, point, expectAfter) {
  const before = await snapshot(admin, cl.slug);
  const worker = await session(DB);
  const pid = await pidOf(worker);
  let expected = before;
  if (typeof point === 'number') {
    await admin.query('SELECT pg_advisory_lock(4419444, 1)');
    await worker.query(`SET cot.test_pause_after_step = ${point}`);
    let settled = null;
    worker.query(cl.sql, cl.params).then(
      () => (settled = 'returned'),
      (e) => (settled = e.code ?? e.message),
    );
    const deadline = performance.now() + 60_000;
    while (!(await pausedAt(admin, pid))) {
      assert.equal(settled, null, `${name}: the call ended (${settled}) before pausing after step ${point}`);
      assert.ok(performance.now() < deadline, `${name}: never paused after step ${point}`);
      await sleep(5);
    }
  } else if (point === 'before-commit') {
    await worker.query('BEGIN');
    await call(worker, cl);
  } else {
    await call(worker, cl);
    expected = await snapshot(admin, cl.slug);
    assert.notDeepEqual(expected, before, `${name}: the acknowledged call changed something`);
  }
  const t0 = performance.now();
  killBackend(pid);
  const ms = await recover(t0);
  const after = await snapshot(admin, cl.slug);
  assert.deepEqual(after, expected, `${name}, killed at ${point}: the tenant is as ${point === 'after-commit' ? 'after' : 'before'} the call`);
  await assertConsistent(`${name}, killed at ${point}`);
  if (point !== 'after-commit') {
    await call(admin, cl);
    await expectAfter?.();
    await assertConsistent(`${name}, retried after a kill at ${point}`);
  }
  figures.points[name] = (figures.points[name] ?? 0) + 1;
  log(`${name}: killed at ${point}, recovered in ${ms.toFixed(0)} ms`);
}

// Kills a call at each of its points. `make(i)` gives the i-th call (a fresh
// one per point, as each point's retry consumes it); `check(i)` runs after the
// i-th retry.
async function walkKills(name, make, check) {
  const n = await stepsOf(admin, await make(0));
  log(`${name}: ${n} steps`);
  const points = [...stepPoints(n), 'before-commit', 'after-commit'];
  for (let i = 0; i < points.length; i++) {
    const cl = await make(i);
    await killAt(name, cl, points[i], () => check?.(i));
  }
  return n;
}

const entityDef = (tenant, name, extra = []) => ({
  tenant,
  name,
  fields: [
    { name: 'title', type: 'text', required: true, max_length: 200, index: true },
    { name: 'email', type: 'email', unique: true },
    { name: 'status', type: 'enum', values: ['draft', 'paid'], default: 'draft' },
    { name: 'total', type: 'decimal', precision: 12, scale: 2, min: 0 },
    ...extra,
  ],
});
const entitySql = (def) => ({ slug: def.tenant, sql: 'SELECT cot.create_entity($1::jsonb)', params: [JSON.stringify(def)] });
const describeEntity = async (slug, name) => {
  const def = (await admin.query('SELECT cot.entity($1, $2) AS d', [slug, name])).rows[0].d;
  delete def.referenced_by;
  return def;
};

async function createTenantKills() {
  await walkKills('create_tenant', async (i) => ({
    slug: `ct_${i}`,
    sql: "SELECT cot.create_tenant($1, '{}'::jsonb)",
    params: [`ct_${i}`],
  }));
}

async function createEntityKills() {
  await admin.query("SELECT cot.create_tenant('ce', '{}')");
  await call(admin, entitySql(entityDef('ce', 'base')));
  const rel = { name: 'base', type: 'relation', kind: 'many_to_one', target: 'base', on_delete: 'restrict' };
  await walkKills('create_entity', async (i) => entitySql(entityDef('ce', `item_${i}`, [rel])));
}

// A table of ROWS rows whose `qty` changes type at each point (integer and
// bigint in turn: a table rewrite each time), with a count and sums that
// every recovery and retry must keep.
async function alterEntityKills() {
  await admin.query("SELECT cot.create_tenant('ae', '{}')");
  await call(admin, {
    sql: 'SELECT cot.create_entity($1::jsonb)',
    params: [JSON.stringify({ tenant: 'ae', name: 'big', fields: [{ name: 'qty', type: 'integer' }, { name: 'note', type: 'text' }] })],
  });
  let t = performance.now();
  await admin.query(`INSERT INTO tenant_ae.big (qty, note) SELECT n, 'row ' || n FROM generate_series(1, ${ROWS}) n`);
  await admin.query('CHECKPOINT');
  log(`alter_entity: ${ROWS} rows loaded in ${(performance.now() - t).toFixed(0)} ms`);
  const sums = async () =>
    (await admin.query('SELECT count(*)::bigint AS n, sum(qty)::numeric AS q, sum(length(note))::bigint AS l FROM tenant_ae.big')).rows[0];
  const want = await sums();
  let type = 'integer';
  const next = async () => {
    const def = await describeEntity('ae', 'big');
    type = type === 'integer' ? 'bigint' : 'integer';
    def.fields[0].type = type;
    return { slug: 'ae', sql: 'SELECT cot.alter_entity($1::jsonb, $2::jsonb)', params: [JSON.stringify(def), '{"lock_timeout": 0}'] };
  };
  const check = async () => {
    assert.deepEqual(await sums(), want, 'alter_entity: every row is there, unchanged');
    const { rows } = await admin.query("SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'tenant_ae.big'::regclass AND attname = 'qty'");
    assert.equal(rows[0].t, type, `alter_entity: qty is ${type} after the retry`);
  };
  // The steps are counted on the plan (each change one statement, then the
  // meta write), not by failing at each: that would rewrite the table each time.
  const first = await next();
  type = 'integer';
  const plan = (await admin.query('SELECT cot.plan_entity($1::jsonb) AS p', [first.params[0]])).rows[0].p;
  const n = plan.changes.length + 1;
  const rewriteStep = plan.changes.findIndex((c) => c.class === 'table_rewrite') + 1;
  log(`alter_entity: ${n} steps, the rewrite is step ${rewriteStep}`);
  for (const point of [...stepPoints(n), 'before-commit', 'after-commit']) {
    const cl = await next();
    await killAt('alter_entity', cl, point, check);
    if (point === 'after-commit') await check();
  }
  // In the middle of the rewrite: paused before it, let go, killed a while
  // later, if by then the rewrite has not finished (it would pause again after it).
  t = performance.now();
  await call(admin, await next());
  figures.rewriteMs.push(performance.now() - t);
  await check();
  const delays = LONG ? [0.1, 0.2, 0.3, 0.5, 0.7] : [0.1, 0.3];
  for (const f of delays) await midRewrite(await next(), rewriteStep, f * figures.rewriteMs[0], check, sums, want);
  assert.ok(figures.midRewrite > 0, 'at least one kill hit the middle of the rewrite');
}

// Kills the type change `delayMs` into its table rewrite: paused right before
// the rewrite statement, let go, killed a while later. The rewrite is nearly
// all of the call's time (the statements after it take milliseconds), so a
// call that has not returned when killed was killed in the rewrite.
async function midRewrite(cl, rewriteStep, delayMs, check, sums, want) {
  const before = await snapshot(admin, 'ae');
  const worker = await session(DB);
  const pid = await pidOf(worker);
  await admin.query('SELECT pg_advisory_lock(4419444, 1)');
  await worker.query(`SET cot.test_pause_after_step = ${rewriteStep - 1}`);
  let returned = false;
  worker.query(cl.sql, cl.params).then(
    () => (returned = true),
    () => {},
  );
  while (!(await pausedAt(admin, pid))) await sleep(5);
  await admin.query('SELECT pg_advisory_unlock(4419444, 1)');
  await sleep(delayMs);
  const hit = !returned;
  const t0 = performance.now();
  killBackend(pid);
  await recover(t0);
  assert.deepEqual(await sums(), want, 'alter_entity, killed in the rewrite: every row is there');
  await assertConsistent('alter_entity, killed in the rewrite');
  if (hit) {
    figures.midRewrite++;
    assert.deepEqual(await snapshot(admin, 'ae'), before, 'alter_entity, killed in the rewrite: the tenant is as before');
    await call(admin, cl);
  }
  await check();
  figures.points.alter_entity = (figures.points.alter_entity ?? 0) + 1;
  log(`alter_entity: killed ${delayMs.toFixed(0)} ms into the rewrite (${hit ? 'in it' : 'the call had returned'})`);
}

async function applySchemaKills() {
  await admin.query("SELECT cot.create_tenant('ap', '{}')");
  await call(admin, entitySql(entityDef('ap', 'kept')));
  await admin.query("INSERT INTO tenant_ap.kept (title, email) SELECT 'k' || n, 'k' || n || '@x.co' FROM generate_series(1, 1000) n");
  // Each point's bundle creates an entity, adds a field to `kept` and drops
  // an empty entity made for it.
  let made = -1;
  await walkKills('apply_schema', async (i) => {
    if (made < i) {
      await call(admin, entitySql({ tenant: 'ap', name: `gone_${i}`, fields: [{ name: 'x', type: 'integer' }] }));
      made = i;
    }
    const bundle = (await admin.query("SELECT cot.export_schema('ap') AS b")).rows[0].b;
    bundle.entities = bundle.entities.filter((e) => e.name !== `gone_${i}`);
    bundle.entities.find((e) => e.name === 'kept').fields.push({ name: `extra_${i}`, type: 'text' });
    const { tenant: _t, ...fresh } = entityDef('ap', `fresh_${i}`);
    bundle.entities.push(fresh);
    return { slug: 'ap', sql: 'SELECT cot.apply_schema($1, $2::jsonb)', params: ['ap', JSON.stringify(bundle)] };
  });
}

async function dropTenantKills() {
  let made = -1;
  const make = async (i) => {
    const slug = `dt_${i}`;
    if (made < i) {
      await admin.query("SELECT cot.create_tenant($1, '{}')", [slug]);
      await call(admin, entitySql(entityDef(slug, 'customers')));
      await call(admin, entitySql(entityDef(slug, 'orders', [{ name: 'customer', type: 'relation', kind: 'many_to_one', target: 'customers' }])));
      await admin.query(`INSERT INTO tenant_${slug}.customers (title) SELECT 'c' || n FROM generate_series(1, 100) n`);
      made = i;
    }
    return { slug, sql: 'SELECT cot.drop_tenant($1, true)', params: [slug] };
  };
  await walkKills('drop_tenant', make, async (i) => {
    const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE $1", [`cot_dt_${i}_%`]);
    assert.equal(rows[0].n, 0, `drop_tenant: the roles of dt_${i} are gone after the retry`);
  });
}

async function main() {
  const start = performance.now();
  await reconnectAdmin();
  await admin.query("SELECT cot.create_tenant('ld', '{}')");
  const rules = { read: 'tenant', create: 'tenant', update: 'tenant', delete: 'tenant' };
  const events = {
    tenant: 'ld',
    name: 'events',
    access: rules,
    fields: [{ name: 'writer', type: 'integer' }, { name: 'seq', type: 'integer' }, { name: 'note', type: 'text' }],
  };
  await call(admin, entitySql(events));
  const writers = startWriters(DB, 'ld', 'events', 2);
  try {
    await createTenantKills();
    await createEntityKills();
    await alterEntityKills();
    await applySchemaKills();
    await dropTenantKills();
  } finally {
    await writers.stop();
  }
  const { missing, present } = await missingAcked(admin, 'ld', 'events', writers.state.acked);
  assert.deepEqual(writers.state.errors, {}, 'the writers saw no error but lost connections');
  assert.deepEqual(missing, [], 'every row whose commit was acknowledged survived the kills');
  log(`writers: ${writers.state.acked.size} acknowledged rows through ${figures.kills} kills, all present (${present} rows in the table)`);

  const shutdown = await loadThenCrash({ db: DB, seconds: LOAD_SECONDS, log, reconnect: reconnectAdmin, admin: () => admin });
  await assertConsistent('after the immediate shutdown');

  const ms = figures.recoveryMs.sort((a, b) => a - b);
  const pick = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))].toFixed(0);
  log('figures:');
  log(`  mode ${LONG ? 'long' : 'short'}, table of ${ROWS} rows rewritten in ${figures.rewriteMs[0].toFixed(0)} ms`);
  log(`  ${figures.kills} backends killed (${JSON.stringify(figures.points)}; ${figures.midRewrite} in the middle of a rewrite)`);
  log(`  recovery after kill -9: median ${pick(0.5)} ms, max ${pick(1)} ms`);
  log(`  writers: ${writers.state.acked.size} acknowledged rows verified after the kills`);
  log(`  immediate shutdown: ${shutdown.rows} acknowledged rows and ${shutdown.changes} entity changes verified; restart + recovery ${shutdown.recoveryMs.toFixed(0)} ms`);
  log(`  total ${((performance.now() - start) / 1000).toFixed(1)} s`);
  await admin.end();
}

main().catch(async (e) => {
  console.error(e);
  await admin?.end().catch(() => {});
  process.exit(1);
});
