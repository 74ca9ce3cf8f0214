// The realtime benchmark's clients (run by bench/realtime.sh): SUBS
// @supabase/realtime-js subscribers of one tenant's `notes` (owner rule: a
// user reads only their notes), spread over SUBS/10 users plus SUBS/100
// admins, each on its own WebSocket; a writer makes RATE changes per second
// for SECS seconds, each an INSERT in its own transaction as one of the
// users (round robin). Prints one JSON line: commit-to-client latency
// percentiles, deliveries, server memory per subscriber, and from the
// server's /metrics the statements and round trips per batch.
//
//   node bench/realtime.mjs HOST PORT DB SECRET REALTIME_PORT REALTIME_PID SUBS RATE SECS

import { createRequire } from 'node:module';
import { createHmac } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(path.resolve(import.meta.dirname, '../tests/clients/package.json'));
const pg = require('pg');
const { RealtimeClient } = require('@supabase/realtime-js');
const WebSocket = require('ws');

const [host, port, db, secret, rtPort, rtPid, subsArg, rateArg, secsArg] = process.argv.slice(2);
const SUBS = Number(subsArg);
const RATE = Number(rateArg);
const SECS = Number(secsArg);
const USERS = Math.max(1, Math.floor(SUBS / 10));
const ADMINS = Math.max(1, Math.floor(SUBS / 100));
const TENANT = 'bench';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
function jwt(claims) {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

// CPU seconds (user + system) of a process, from /proc (clock ticks of 1/100 s).
const cpuSecs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
// PostgreSQL's CPU seconds: its postmaster's children that are running now
// (the server's connections and the writers' stay open through the run).
const statFields = (pid) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
function dbCpuSecs(postmaster) {
  let total = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = statFields(d);
      if (Number(f[1]) === postmaster) total += (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
async function postmasterPid() {
  const c = new pg.Client({ host, port: Number(port), user: 'postgres', database: db });
  await c.connect();
  const { rows } = await c.query('SELECT pg_backend_pid() AS pid');
  const pid = Number(statFields(rows[0].pid)[1]);
  await c.end();
  return pid;
}
const selfCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${rtPid}/status`, 'utf8'))[1]);
async function metrics() {
  const text = await (await fetch(`http://127.0.0.1:${rtPort}/metrics`)).text();
  return Object.fromEntries(text.split('\n').filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(' ')).map(([k, v]) => [k.replace('cot_realtime_', ''), Number(v)]));
}

const commits = new Map(); // title -> ms when its COMMIT was sent
const latencies = [];
let delivered = 0;
let unknown = 0;

function onChange(p) {
  const t = commits.get(p.new?.title);
  if (t === undefined) {
    unknown++;
    return;
  }
  delivered++;
  latencies.push(performance.timeOrigin + performance.now() - t);
}

async function subscribeAll() {
  const clients = [];
  const joins = [];
  for (let i = 0; i < SUBS; i++) {
    const admin = i < ADMINS;
    const sub = admin ? `admin${i}` : `u${i % USERS}`;
    const token = jwt({ role: `cot_${TENANT}_${admin ? 'admin' : 'user'}`, tenant: TENANT, sub });
    const c = new RealtimeClient(`ws://127.0.0.1:${rtPort}/realtime/v1`, { params: { apikey: token }, transport: WebSocket });
    clients.push(c);
    joins.push(new Promise((resolve, reject) => {
      c.channel(`n${i}`)
        .on('postgres_changes', { event: 'INSERT', schema: TENANT, table: 'notes' }, onChange)
        .subscribe((status, err) => (status === 'SUBSCRIBED' ? resolve() : status !== 'CLOSED' && reject(err ?? new Error(status))));
    }));
    if (joins.length % 50 === 0) await Promise.all(joins.slice(-50));
  }
  await Promise.all(joins);
  return clients;
}

async function write() {
  const conns = await Promise.all(Array.from({ length: 4 }, async () => {
    const c = new pg.Client({ host, port: Number(port), user: 'postgres', database: db });
    await c.connect();
    return c;
  }));
  const total = RATE * SECS;
  const start = performance.now();
  let next = 0;
  const one = async (c, k) => {
    const title = `w${k}`;
    const claims = JSON.stringify({ sub: `u${k % USERS}`, tenant: TENANT });
    await c.query('BEGIN');
    await c.query("SELECT set_config('request.jwt.claims', $1, true)", [claims]);
    await c.query(`INSERT INTO ${TENANT}.notes (title) VALUES ($1)`, [title]);
    // Taken when COMMIT is sent: a change may arrive before COMMIT's answer
    // does, and latencies are over-estimated by at most one round trip.
    commits.set(title, performance.timeOrigin + performance.now());
    await c.query('COMMIT');
  };
  await Promise.all(conns.map(async (c) => {
    for (;;) {
      const k = next++;
      if (k >= total) return;
      const due = start + (k * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      await one(c, k);
    }
  }));
  const secs = (performance.now() - start) / 1000;
  await Promise.all(conns.map((c) => c.end()));
  return { total, rate: total / secs };
}

const pct = (a, p) => a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];

const rssBefore = rssKb();
const t0 = performance.now();
const clients = await subscribeAll();
const joinSecs = (performance.now() - t0) / 1000;
await sleep(500);
const rssAfter = rssKb();
const m0 = await metrics();
const postmaster = await postmasterPid();
const cpu0 = { server: cpuSecs(rtPid), client: selfCpu(), db: dbCpuSecs(postmaster) };
const w = await write();
// Each change goes to its user's subscribers and to every admin.
const perUser = Array.from({ length: USERS }, (_, u) => 0);
for (let i = ADMINS; i < SUBS; i++) perUser[i % USERS]++;
let expected = 0;
for (let k = 0; k < w.total; k++) expected += perUser[k % USERS] + ADMINS;
const deadline = Date.now() + 15_000;
while (delivered < expected && Date.now() < deadline) await sleep(50);
const m1 = await metrics();
const cpu1 = { server: cpuSecs(rtPid), client: selfCpu(), db: dbCpuSecs(postmaster) };
for (const c of clients) c.disconnect();
latencies.sort((a, b) => a - b);
const batches = m1.batches_total - m0.batches_total;
console.log(JSON.stringify({
  subscribers: SUBS, users: USERS, admins: ADMINS, rate_asked: RATE, rate_written: Math.round(w.rate), changes: w.total,
  deliveries: delivered, expected, unknown,
  p50_ms: Math.round(pct(latencies, 50)), p99_ms: Math.round(pct(latencies, 99)), max_ms: Math.round(latencies.at(-1) ?? 0),
  join_secs: Number(joinSecs.toFixed(2)),
  rss_kb_before: rssBefore, rss_kb_after_joins: rssAfter, rss_kb_end: rssKb(),
  kb_per_subscriber: Number(((rssAfter - rssBefore) / SUBS).toFixed(1)),
  batches, changes_per_batch: Number(((m1.changes_total - m0.changes_total) / Math.max(1, batches)).toFixed(1)),
  reread_statements_per_batch: Number(((m1.reread_queries_total - m0.reread_queries_total) / Math.max(1, batches)).toFixed(1)),
  round_trips_per_batch: Number(((m1.reread_round_trips_total - m0.reread_round_trips_total) / Math.max(1, batches)).toFixed(2)),
  log_reads: m1.log_reads_total - m0.log_reads_total,
  server_batch_lag_p50_ms: m1.batch_lag_p50_milliseconds, server_batch_lag_p99_ms: m1.batch_lag_p99_milliseconds,
  log_read_ms_per_batch: Number(((m1.log_read_microseconds_total - m0.log_read_microseconds_total) / 1000 / Math.max(1, batches)).toFixed(2)),
  server_cpu_secs: Number((cpu1.server - cpu0.server).toFixed(2)),
  client_cpu_secs: Number((cpu1.client - cpu0.client).toFixed(2)),
  db_cpu_secs: Number((cpu1.db - cpu0.db).toFixed(2)),
  load_avg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  fanout_ms_per_batch: Number(((m1.fanout_microseconds_total - m0.fanout_microseconds_total) / 1000 / Math.max(1, batches)).toFixed(2)),
}));
process.exit(0);
