// bench/scale.sh's PostgREST probe, run at each size of the growing database.
// Starts the real PostgREST 12 with cot.postgrest_config() (every tenant's
// schema served), and reports as one JSON line on stdout:
//   start_s        from spawn to /ready (the first schema cache load included)
//   load_ms        the first load, as PostgREST's log prints it
//   rss_kb         PostgREST's resident memory once loaded (/proc/PID/status)
//   p7_s           per new entity: from the commit of cot.create_entity until
//                  GET /<entity>?select=id,parent(id) (Accept-Profile: the
//                  tenant, a user token) answers 200, polled every 10 ms: the
//                  embed needs PostgREST's reloaded schema cache
//   p7_plain_s     the same for GET /<entity> (no embed), which PostgREST 12
//                  sends to the database even before its cache knows the table
//   reload_ms      per new entity: from its commit (Cot's NOTIFY pgrst) until
//                  PostgREST logs its schema cache loaded again
// Environment: SCALE_DB, SCALE_TENANT (an existing tenant), SCALE_PREFIX (names
// of the new entities), SCALE_P7_RUNS, SCALE_POSTGREST, SCALE_JWT_SECRET,
// PGPORT (and PGHOST for the superuser's session). SCALE_GROUP: serve only
// that API group, as an instance of it does: log in as SCALE_LOGIN (a role
// bound to the group), listen on its channel (pgrst_<group>), and serve its
// tenants' schemas; unset: one instance serving every tenant.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from '../tests/clients/lib/db.mjs';
import { freePort } from '../tests/clients/lib/postgrest.mjs';

const env = process.env;
const DB = env.SCALE_DB;
const TENANT = env.SCALE_TENANT;
const PREFIX = env.SCALE_PREFIX;
const RUNS = Number(env.SCALE_P7_RUNS ?? 3);
// How long one new entity may take to be served before the probe gives up
// and reports the limit (PostgREST answers no request while it reloads).
const LIMIT_S = Number(env.SCALE_P7_LIMIT ?? 180);
const GROUP = env.SCALE_GROUP || null;
const LOGIN = GROUP ? env.SCALE_LOGIN : 'authenticator';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e9;

function rssKb(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) : null;
}

// PostgREST 12.0 logs when it starts loading (after connecting, it listens
// for notifications and reloads its configuration) and when its schema cache
// is loaded, without durations: they are taken from when the lines arrive.
const LOADING = /Config reloaded|Listening for notifications/;
const LOADED = /Schema cache loaded/;

async function start(settings) {
  const port = await freePort();
  const admin = await freePort();
  const pgrstEnv = {
    PATH: env.PATH,
    ...Object.fromEntries(Object.entries(settings).map(([k, v]) => [`PGRST_${k.toUpperCase().replaceAll('-', '_')}`, String(v)])),
    PGRST_DB_URI: `postgres://${LOGIN}@127.0.0.1:${env.PGPORT}/${DB}?application_name=cot-scale-postgrest`,
    ...(GROUP ? { PGRST_DB_CHANNEL: `pgrst_${GROUP}` } : {}),
    PGRST_JWT_SECRET: env.SCALE_JWT_SECRET,
    PGRST_SERVER_HOST: '127.0.0.1',
    PGRST_SERVER_PORT: String(port),
    PGRST_ADMIN_SERVER_PORT: String(admin),
    PGRST_DB_POOL: '4',
    PGRST_LOG_LEVEL: 'info',
  };
  const t0 = now();
  const child = spawn(env.SCALE_POSTGREST, [], { env: pgrstEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const loads = [];
  const tail = [];
  let loading = null;
  const keep = (d) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      if (LOADING.test(line) && loading === null) loading = now();
      if (LOADED.test(line) && loading !== null) {
        loads.push((now() - loading) * 1000);
        loading = null;
      }
      tail.push(line);
      tail.splice(0, Math.max(0, tail.length - 40));
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // 10,000 entities take PostgREST tens of seconds to load.
  for (let i = 0; i < 6000; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${admin}/ready`);
      if (res.status === 200 && loads.length > 0) {
        return { child, url: `http://127.0.0.1:${port}`, loads, startS: now() - t0, reloading: () => { loading = now(); } };
      }
    } catch {
      // not yet
    }
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`PostgREST did not start:\n${tail.join('\n')}`);
}

function definition(name, previous) {
  const fields = [];
  for (let j = 1; j <= 9; j++) fields.push({ name: `f${j}`, type: j % 3 === 0 ? 'integer' : 'text' });
  if (previous) fields.push({ name: 'parent', type: 'relation', kind: 'many_to_one', target: previous });
  return { tenant: TENANT, name, access: { read: 'tenant' }, fields };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const su = await connect(DB);
let server;
try {
  const settings = (await su.query('SELECT cot.postgrest_config() AS c')).rows[0].c;
  if (GROUP) {
    // What cot.pre_config gives the bound login role at each reload.
    const { rows } = await su.query(
      "SELECT string_agg(quote_ident(tenant), ',' ORDER BY tenant) AS s FROM cot.api_routes() WHERE api_group = $1",
      [GROUP],
    );
    settings['db-schemas'] = `cot_platform,${rows[0].s}`;
  }
  const out0 = { group: GROUP, schemas: settings['db-schemas'].split(',').length - 1 };
  const token = (await su.query("SELECT cot.issue_token($1, 'user', 'scale-1', 3600) AS t", [TENANT])).rows[0].t;
  server = await start(settings);
  const out = { ...out0, start_s: server.startS, load_ms: server.loads[0], rss_kb: rssKb(server.child.pid), p7_s: [] };
  process.stderr.write(`scale_pgrst: started in ${out.start_s.toFixed(2)} s, RSS ${out.rss_kb} kB\n`);
  // The first entity is the target of the relation of the measured ones.
  let previous = `${PREFIX}_base`;
  await su.query('SELECT cot.create_entity($1::jsonb)', [JSON.stringify(definition(previous, null))]);
  await sleep(1000);
  out.p7_plain_s = [];
  for (let r = 0; r < RUNS; r++) {
    const name = `${PREFIX}_${r}`;
    await su.query('SELECT cot.create_entity($1::jsonb)', [JSON.stringify(definition(name, previous))]);
    const committed = now();
    server.reloading();
    previous = name;
    // A plain read works as soon as the table exists (PostgREST 12 sends it
    // whether or not its cache knows the table); an embed needs the new
    // relationship in the schema cache, so it tells when the reload is done.
    let plain = null;
    for (;;) {
      const get = async (path) => {
        try {
          const res = await fetch(`${server.url}${path}`, {
            headers: { Authorization: `Bearer ${token}`, 'Accept-Profile': TENANT },
            // A request sent while PostgREST reloads may get no answer at
            // all: it is sent again after 2 s (and counted).
            signal: AbortSignal.timeout(2000),
          });
          await res.arrayBuffer();
          return res.status;
        } catch (err) {
          out.unanswered = (out.unanswered ?? 0) + 1;
          return err.name;
        }
      };
      if (plain === null && (await get(`/${name}?limit=1`)) === 200) plain = now() - committed;
      const status = await get(`/${name}?select=id,parent(id)&limit=1`);
      if (status === 200) break;
      if (now() - committed > LIMIT_S) {
        out.over_limit = `${name} not served ${LIMIT_S} s after its commit (last: ${status})`;
        break;
      }
      await sleep(10);
    }
    out.p7_s.push(now() - committed);
    out.p7_plain_s.push(plain ?? now() - committed);
    process.stderr.write(`scale_pgrst: ${name} served ${(now() - committed).toFixed(3)} s after its commit\n`);
    if (out.over_limit) break;
    // Let the reload's log line arrive before the next entity.
    for (let i = 0; i < 100 && server.loads.length < r + 2; i++) await sleep(50);
  }
  out.reload_ms = server.loads.slice(1);
  out.rss_after_kb = rssKb(server.child.pid);
  out.p7_median_s = median(out.p7_s);
  console.log(JSON.stringify(out));
} finally {
  if (server) {
    server.child.kill('SIGTERM');
    await new Promise((r) => (server.child.exitCode !== null ? r() : server.child.once('exit', r)));
  }
  await su.end();
}
