// The soak's load generator and watcher (run by bench/soak.sh, which makes
// the cluster, the database and the tenants, and passes everything through
// the environment). Starts the real PostgREST, then for SOAK_SECONDS runs a
// mixed load and every SOAK_INTERVAL seconds records throughput, outcomes
// and memory; prints a report and exits 1 if a bound is broken
// (docs/reliability-load.md, "soak").
//
// The load, from SOAK_WORKERS concurrent loops and one schema loop:
//   - HTTP through PostgREST, per tenant: list reads with embeds and filters
//     (user JWT), public reads (no token), cot.query through /rpc/query,
//     reads with an API key, inserts, updates and deletes of the worker's own
//     orders (owner rules) and notes;
//   - SQL: cot.query as a tenant role with claims, on a pool of sessions;
//   - schema changes (one loop): an entity created in a tenant with a
//     relation to its customers, rows written, the entity altered (a field
//     added), dropped; the other tenants' requests go on meanwhile.
// Memory: RSS, PSS and private (anonymous) memory of PostgREST and of every
// backend serving it (pg_stat_activity by application_name), from
// /proc/<pid>/smaps_rollup.

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, connInfo } from '../tests/clients/lib/db.mjs';

const require = createRequire(new URL('../tests/clients/package.json', import.meta.url));
const pg = require('pg');

const env = process.env;
const DB = env.SOAK_DB;
const SECONDS = Number(env.SOAK_SECONDS ?? 1800);
const INTERVAL = Number(env.SOAK_INTERVAL ?? 10);
const WORKERS = Number(env.SOAK_WORKERS ?? 8);
const TENANTS = env.SOAK_TENANTS.split(',');
const DDL_TENANT = TENANTS[TENANTS.length - 1];
const POSTGREST_BIN = env.SOAK_POSTGREST;
const SECRET = env.SOAK_JWT_SECRET;
const OUT = env.SOAK_OUT; // where the JSON of the run goes
// Bounds (docs/reliability-load.md): what the run must stay within.
const BOUND_THROUGHPUT = Number(env.SOAK_MIN_THROUGHPUT_RATIO ?? 0.5);
const BOUND_POSTGREST_MB = Number(env.SOAK_MAX_POSTGREST_GROWTH_MB ?? 64);
const BOUND_BACKEND_MB = Number(env.SOAK_MAX_BACKEND_GROWTH_MB ?? 32);
// The schema loop's session grows by what PL/pgSQL keeps per table its
// trigger functions fired on (cot.system_columns, cot.owner_column: one
// compiled copy and its plans per table, kept after the table is dropped):
// 74 KB per entity created, filled and dropped when measured alone, 88 KB
// per round of the schema loop (200 rows, a field added).
const BOUND_DDL_KB_PER_CYCLE = Number(env.SOAK_MAX_DDL_GROWTH_KB_PER_CYCLE ?? 128);
const APP = 'cot-soak-postgrest';

// Outcomes a request may have: the status it gets in normal operation, and
// those a concurrent schema change may cause (a lock wait past
// cot.lock_timeout, a deadlock between a change and a request).
const EXPECTED_HTTP = new Set([200, 201, 204]);
const EXPECTED_SQLSTATES = new Set(['55P03', '40P01']);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];

// --- bookkeeping -------------------------------------------------------------
let interval = { ops: 0, byKind: {} };
const totals = { ops: 0, outcomes: {}, unexpected: [] };
function record(kind, outcome, detail) {
  interval.ops += 1;
  interval.byKind[kind] = (interval.byKind[kind] ?? 0) + 1;
  totals.ops += 1;
  const key = `${kind} ${outcome}`;
  totals.outcomes[key] = (totals.outcomes[key] ?? 0) + 1;
  const ok = typeof outcome === 'number' ? EXPECTED_HTTP.has(outcome) : outcome === 'ok' || EXPECTED_SQLSTATES.has(outcome);
  if (!ok && totals.unexpected.length < 20) totals.unexpected.push({ kind, outcome, detail: String(detail).slice(0, 500) });
  return ok;
}

// --- PostgREST ----------------------------------------------------------------
async function startPostgrest(settings) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const admin = port + 1;
  const pgrstEnv = {
    PATH: env.PATH,
    ...Object.fromEntries(Object.entries(settings).map(([k, v]) => [`PGRST_${k.toUpperCase().replaceAll('-', '_')}`, String(v)])),
    PGRST_DB_URI: `postgres://authenticator@127.0.0.1:${env.PGPORT}/${DB}?application_name=${APP}`,
    PGRST_JWT_SECRET: SECRET,
    PGRST_SERVER_HOST: '127.0.0.1',
    PGRST_SERVER_PORT: String(port),
    PGRST_ADMIN_SERVER_PORT: String(admin),
    PGRST_DB_POOL: '8',
    // Keep the same connections for the whole run, so that a backend's
    // memory can be followed over time (PostgREST otherwise recycles idle
    // ones after 30 s and every one after 30 min).
    PGRST_DB_POOL_MAX_IDLETIME: '86400',
    PGRST_DB_POOL_MAX_LIFETIME: '86400',
    PGRST_LOG_LEVEL: 'error',
  };
  const child = spawn(POSTGREST_BIN, [], { env: pgrstEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const keep = (d) => {
    lines.push(...d.toString().split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 100));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${admin}/ready`);
      if (res.status === 200) return { child, url: `http://127.0.0.1:${port}`, lines };
    } catch {
      // not yet
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`PostgREST did not start:\n${lines.join('\n')}`);
}

async function http(base, path, { method = 'GET', token, key, profile, body, prefer } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (key) headers['x-api-key'] = key;
  if (profile) headers[method === 'GET' ? 'Accept-Profile' : 'Content-Profile'] = profile;
  if (prefer) headers.Prefer = prefer;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, text };
}

// --- memory -------------------------------------------------------------------
function smaps(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k) => Number(text.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
    return { rss: kb('Rss'), pss: kb('Pss'), anon: kb('Pss_Anon') || kb('Anonymous') };
  } catch {
    return null;
  }
}

// Sessions whose memory is followed: PostgREST's (recycled whenever it
// reloads its schema cache, which every schema change makes it do), the SQL
// pool's and the schema loop's (both kept for the whole run, so their growth
// is what a leak in Cot's query or DDL paths would show).
const SQL_APP = 'cot-soak-sql';
const DDL_APP = 'cot-soak-ddl';

async function memory(su, postgrestPid) {
  const { rows } = await su.query('SELECT pid, application_name AS app FROM pg_stat_activity WHERE application_name = ANY ($1)',
    [[APP, SQL_APP, DDL_APP]]);
  const sessions = rows.map((r) => ({ pid: r.pid, app: r.app, ...smaps(r.pid) })).filter((b) => b.rss !== undefined);
  const api = sessions.filter((b) => b.app === APP);
  const kept = sessions.filter((b) => b.app !== APP);
  const sum = (xs, k) => xs.reduce((s, b) => s + (b[k] ?? 0), 0);
  return {
    postgrest: smaps(postgrestPid),
    api_backends: api.length,
    api_rss_kb: sum(api, 'rss'),
    api_pss_kb: sum(api, 'pss'),
    api_anon_kb: sum(api, 'anon'),
    sql_max_anon_kb: Math.max(0, ...kept.filter((b) => b.app === SQL_APP).map((b) => b.anon ?? 0)),
    ddl_anon_kb: kept.find((b) => b.app === DDL_APP)?.anon ?? 0,
    // private memory of every followed session, by pid
    per_backend: Object.fromEntries(sessions.map((b) => [b.pid, b.anon])),
  };
}

// --- the load -----------------------------------------------------------------
async function setup(su) {
  const t = {};
  for (const slug of TENANTS) {
    const one = async (sql, params) => (await su.query(sql, params)).rows[0].v;
    t[slug] = {
      customers: (await su.query(`SELECT id FROM tenant_${slug}.customers`)).rows.map((r) => r.id),
      users: [],
      admin: await one("SELECT cot.issue_token($1, 'admin', 'admin-1', 86400) AS v", [slug]),
      key: await one(`SELECT cot.create_api_key($1, 'user', '{"sub": "user-9", "label": "soak"}') ->> 'key' AS v`, [slug]),
    };
    for (const n of [1, 2, 3, 4, 5]) t[slug].users.push(await one("SELECT cot.issue_token($1, 'user', $2, 86400) AS v", [slug, `user-${n}`]));
  }
  return t;
}

const watched = new WeakSet(); // pool sessions with an error listener

function operations(base, tenants, sqlPool) {
  const statusOf = async (kind, p) => {
    try {
      const r = await p;
      return record(kind, r.status, r.text) ? r : null;
    } catch (err) {
      record(kind, `error ${err.name}`, err.message);
      return null;
    }
  };
  return {
    // A page of orders with their customer, filtered and sorted.
    read: (s, w) => statusOf('read', http(base, `/orders?select=title,status,total,customer(name)&status=eq.${pick(['paid', 'draft', 'shipped'])}&order=total.desc&limit=20`,
      { token: pick(tenants[s].users), profile: s })),
    // A public entity without a token (the tenant's anon role by profile).
    anon: (s) => statusOf('anon', http(base, `/products?select=name,price&price=gt.${Math.floor(Math.random() * 100)}&limit=10`, { profile: s })),
    // cot.query over HTTP.
    rpc: (s) => statusOf('rpc', http(base, '/rpc/query', {
      method: 'POST', token: pick(tenants[s].users), profile: s,
      body: { entity: 'orders', query: { select: ['title', { customer: ['name'] }, { products: ['name'] }], where: { qty: { gte: Math.floor(Math.random() * 50) } }, order: ['-total'], limit: 10 } },
    })),
    // An API key instead of a JWT.
    key: (s) => statusOf('apikey', http(base, '/customers?select=name,email&limit=10', { key: tenants[s].key, profile: s })),
    // Write: insert an order as user-N, change it, delete it (owner rules).
    write: async (s) => {
      const n = 1 + Math.floor(Math.random() * 5);
      const token = tenants[s].users[n - 1];
      const r = await statusOf('insert', http(base, '/orders?select=id', {
        method: 'POST', token, profile: s, prefer: 'return=representation',
        body: { title: `soak ${Date.now()}`, qty: n, total: n * 2.5, tags: ['soak'], meta: { n }, customer_id: pick(tenants[s].customers) },
      }));
      const id = r && JSON.parse(r.text)[0]?.id;
      if (!id) return;
      await statusOf('update', http(base, `/orders?id=eq.${id}`, { method: 'PATCH', token, profile: s, body: { status: 'paid', qty: n + 1 } }));
      await statusOf('delete', http(base, `/orders?id=eq.${id}`, { method: 'DELETE', token, profile: s }));
    },
    // cot.query over SQL, as a tenant role with claims (a session pool).
    sql: async (s) => {
      const c = await sqlPool.connect();
      if (!watched.has(c)) {
        watched.add(c);
        c.on('error', onBroken);
      }
      try {
        await c.query('BEGIN');
        await c.query(`SET LOCAL ROLE cot_${s}_user`);
        await c.query("SELECT set_config('request.jwt.claims', $1, true)", [JSON.stringify({ role: `cot_${s}_user`, tenant: s, sub: 'user-2' })]);
        await c.query('SELECT cot.query($1, $2, $3::jsonb)', [s, pick(['orders', 'customers', 'notes']),
          JSON.stringify({ where: { created_at: { lt: new Date().toISOString() } }, limit: 25, count: true })]);
        await c.query('COMMIT');
        record('sql', 'ok');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        record('sql', err.code ?? 'none', err.message);
      } finally {
        c.release();
      }
    },
  };
}

// Weights of the operations a worker picks.
const MIX = [['read', 30], ['anon', 10], ['rpc', 15], ['key', 10], ['write', 15], ['sql', 20]];

async function worker(ops, deadline) {
  const total = MIX.reduce((s, [, w]) => s + w, 0);
  while (Date.now() < deadline && !broken) {
    let x = Math.random() * total;
    const [name] = MIX.find(([, w]) => (x -= w) < 0);
    const s = pick(TENANTS);
    await ops[name](s);
  }
}

// Create, fill, alter and drop an entity in DDL_TENANT, over and over.
let cycles = 0; // schema loop rounds done
let ddlPid = null; // the schema loop's session
async function schemaLoop(su, deadline) {
  let n = 0;
  const sqlOp = async (kind, sql, params) => {
    try {
      await su.query(sql, params);
      record(kind, 'ok');
    } catch (err) {
      record(kind, err.code ?? 'none', err.message);
    }
  };
  while (Date.now() < deadline && !broken) {
    const name = `soak_tmp_${n++ % 3}`;
    const def = {
      tenant: DDL_TENANT, name, access: { read: 'tenant', create: 'tenant', update: 'owner', delete: 'owner' },
      fields: [
        { name: 'label', type: 'text', required: true, max_length: 100 },
        { name: 'amount', type: 'decimal', precision: 10, scale: 2 },
        { name: 'customer', type: 'relation', kind: 'many_to_one', target: 'customers', on_delete: 'cascade' },
      ],
    };
    await sqlOp('create_entity', 'SELECT cot.create_entity($1::jsonb)', [JSON.stringify(def)]);
    await sqlOp('fill', `INSERT INTO tenant_${DDL_TENANT}.${name} (label, amount) SELECT 'r' || i, i FROM generate_series(1, 200) i`);
    def.fields.push({ name: 'note', type: 'text' });
    await sqlOp('alter_entity', 'SELECT cot.alter_entity($1::jsonb)', [JSON.stringify(def)]);
    await sqlOp('drop_entity', 'SELECT cot.drop_entity($1, $2)', [DDL_TENANT, name]);
    cycles += 1;
    await sleep(1000);
  }
}

// --- report -------------------------------------------------------------------
const mb = (kb) => (kb / 1024).toFixed(1);
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / Math.max(xs.length, 1);

function judge(samples) {
  const problems = [];
  const warnings = [];
  if (totals.unexpected.length) problems.push(`${totals.unexpected.length}+ unexpected outcomes: ${JSON.stringify(totals.unexpected.slice(0, 5))}`);
  // Throughput: the last three intervals against the first three after the
  // first (warm-up) interval.
  const rates = samples.map((s) => s.ops_per_s);
  if (rates.length >= 7) {
    const first = mean(rates.slice(1, 4));
    const last = mean(rates.slice(-3));
    const ratio = last / first;
    const line = `throughput: first intervals ${first.toFixed(0)} ops/s, last ${last.toFixed(0)} ops/s (${(100 * ratio).toFixed(0)}%)`;
    if (ratio < BOUND_THROUGHPUT) problems.push(`${line}, below ${100 * BOUND_THROUGHPUT}%`);
    else if (ratio < 0.8) warnings.push(`${line}: declined`);
  }
  // Memory: growth from the end of the first interval to the end of the run.
  const first = samples[1] ?? samples[0];
  const a = first && { ...first.memory, cycles: first.cycles };
  const z = samples.at(-1) && { ...samples.at(-1).memory, cycles: samples.at(-1).cycles };
  if (a && z) {
    const pgrst = (z.postgrest?.rss ?? 0) - (a.postgrest?.rss ?? 0);
    if (pgrst / 1024 > BOUND_POSTGREST_MB) problems.push(`PostgREST RSS grew ${mb(pgrst)} MB, more than ${BOUND_POSTGREST_MB} MB`);
    for (const [pid, anon] of Object.entries(z.per_backend)) {
      const before = a.per_backend[pid];
      if (before === undefined) continue;
      const grew = anon - before;
      if (Number(pid) === ddlPid) {
        const rounds = z.cycles - a.cycles;
        const perRound = grew / Math.max(rounds, 1);
        if (rounds >= 10 && perRound > BOUND_DDL_KB_PER_CYCLE) {
          problems.push(`schema loop session: private memory grew ${perRound.toFixed(0)} KB per round over ${rounds} rounds, more than ${BOUND_DDL_KB_PER_CYCLE} KB`);
        }
      } else if (grew / 1024 > BOUND_BACKEND_MB) {
        problems.push(`session ${pid}: private memory grew ${mb(grew)} MB, more than ${BOUND_BACKEND_MB} MB`);
      }
    }
  }
  return { problems, warnings };
}

// A broken session (the server restarting after a crash) must end the run
// with a report, not kill the process with an unhandled 'error' event.
let broken = null;
const onBroken = (err) => {
  broken ??= err;
  record('session', `lost ${err.code ?? ''}`.trim(), err.message);
};

async function main() {
  const su = await connect(DB);
  su.on('error', onBroken);
  const settings = (await su.query('SELECT cot.postgrest_config() AS c')).rows[0].c;
  const tenants = await setup(su);
  const { child, url, lines } = await startPostgrest(settings);
  const sqlPool = new pg.Pool({ ...connInfo(DB), max: 4, idleTimeoutMillis: 0, application_name: SQL_APP });
  sqlPool.on('error', onBroken);
  const ddl = new pg.Client({ ...connInfo(DB), application_name: DDL_APP });
  await ddl.connect();
  ddl.on('error', onBroken);
  ddlPid = (await ddl.query('SELECT pg_backend_pid() AS p')).rows[0].p;
  const samples = [];
  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  console.log(`soak: ${SECONDS}s, ${WORKERS} workers, tenants ${TENANTS.join(', ')}, PostgREST pid ${child.pid}; every ${INTERVAL}s:`);
  console.log('                      PostgREST  its sessions (MB)        private MB of sessions:');
  console.log('   t(s)   ops/s      RSS MB      n    RSS    PSS  private  SQL (largest)  schema loop  rounds');
  const ops = operations(url, tenants, sqlPool);
  const load = Promise.all([...Array.from({ length: WORKERS }, () => worker(ops, deadline)), schemaLoop(ddl, deadline)]);
  let last = started;
  while (Date.now() < deadline && !broken) {
    await sleep(Math.min(INTERVAL * 1000, Math.max(0, deadline - Date.now())));
    const now = Date.now();
    const m = await memory(su, child.pid).catch(onBroken);
    if (!m) break;
    const s = { t: Math.round((now - started) / 1000), cycles, ops: interval.ops, ops_per_s: interval.ops / ((now - last) / 1000), by_kind: interval.byKind, memory: m };
    interval = { ops: 0, byKind: {} };
    last = now;
    samples.push(s);
    console.log(`${String(s.t).padStart(7)} ${s.ops_per_s.toFixed(0).padStart(7)} ${mb(m.postgrest?.rss ?? 0).padStart(11)} ${String(m.api_backends).padStart(6)} ${mb(m.api_rss_kb).padStart(6)} ${mb(m.api_pss_kb).padStart(6)} ${mb(m.api_anon_kb).padStart(8)} ${mb(m.sql_max_anon_kb).padStart(14)} ${mb(m.ddl_anon_kb).padStart(12)} ${String(s.cycles).padStart(7)}`);
  }
  if (!broken) await load;
  child.kill('SIGTERM');
  await Promise.allSettled([sqlPool.end(), ddl.end(), su.end()]);

  const { problems, warnings } = judge(samples);
  console.log(`soak: ${totals.ops} operations; outcomes:`);
  for (const [k, n] of Object.entries(totals.outcomes).sort()) console.log(`  ${k.padEnd(28)} ${n}`);
  for (const w of warnings) console.log(`WARNING: ${w}`);
  if (OUT) writeFileSync(OUT, JSON.stringify({ seconds: SECONDS, workers: WORKERS, totals, samples, problems, warnings }, null, 1));
  if (problems.length) {
    for (const p of problems) console.log(`FAILED: ${p}`);
    console.log(`PostgREST's last lines:\n${lines.slice(-10).join('\n')}`);
    process.exit(1);
  }
  console.log('soak: within every bound');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
