// The real stack the browser tests (and the benchmarks) drive: a private
// PostgreSQL 15 cluster with Cot (tests/harness/cluster.sh), the real
// PostgREST 12 binary wired by Cot itself (tests/clients/lib/postgrest.mjs),
// cot-realtime when it is built, and the front door serving studio/dist at /,
// PostgREST at /rest/v1/ and cot-realtime at /realtime/v1/,
// the tenant chosen by subdomain (<slug>.localhost:PORT). Nothing is stubbed.
//
// The front door is nginx from gateway/nginx.conf.template
// (tests/clients/lib/gateway.mjs, scripts/lib/gateway.sh) when the
// repository has it, else `vite preview`
// with the same routing (vite.config.ts); COT_STUDIO_FRONT=preview forces the
// latter. Either way the tests only see a base URL.
//
// Environment: COT_PG_BINDIR (PostgreSQL binaries, as tests/harness/cluster.sh
// takes it); COT_SKIP_INSTALL is not needed: the extension must already be
// installed for those binaries.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const STUDIO = fileURLToPath(new URL('..', import.meta.url));
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The process exits with its parent: it is stopped when its stdin closes,
// which also happens when the test runner dies (same watchdog as PostgREST's).
const WATCHDOG = `
exec 3<&0
"$0" "$@" 3<&- </dev/null & pid=$!
{ read -r _ <&3 ; kill -TERM "$pid" 2>/dev/null ; } >/dev/null 2>&1 &
exec 3<&-
wait "$pid"
`;

async function bash(script, env = {}) {
  const { stdout } = await run('bash', ['-c', script], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 1 << 22 });
  return stdout;
}

async function waitFor(url, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

async function startPreview(port, postgrestUrl) {
  const vite = `${STUDIO}node_modules/.bin/vite`;
  const lines = [];
  const child = spawn('/bin/sh', ['-c', WATCHDOG, vite, 'preview', '--port', String(port), '--strictPort'], {
    cwd: STUDIO,
    env: { PATH: process.env.PATH, COT_POSTGREST_URL: postgrestUrl },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => lines.push(String(d)));
  child.stderr.on('data', (d) => lines.push(String(d)));
  try {
    await waitFor(`http://127.0.0.1:${port}/`);
  } catch (e) {
    child.stdin.end();
    throw new Error(`${e.message}; vite preview said:\n${lines.join('')}`);
  }
  return {
    kind: 'vite preview',
    async stop() {
      child.stdin.end();
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

/** Starts everything; resolves to the stack's description plus stop(). */
export async function startStack({ tenants = ['acme', 'globex'] } = {}) {
  if (!existsSync(`${STUDIO}dist/index.html`)) throw new Error('studio/dist is missing: run npm run build in studio/');
  const dir = mkdtempSync('/tmp/cot-studio-');
  // The cluster runs as postgres (tests/harness/cluster.sh), which must enter it.
  chmodSync(dir, 0o755);
  const stops = [() => rm(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((e) => console.error(String(e)));
  };
  try {
    // The webhook worker (docs/webhooks.md) delivers for the database `studio`,
    // to receivers on loopback, retrying quickly so that a test sees retries.
    const settings = [
      "shared_preload_libraries = 'cot'",
      "cot.worker_databases = 'studio'",
      "cot.webhook_allow_private = on",
      "cot.webhook_retry_base = '200ms'",
      "cot.webhook_retry_cap = '1s'",
      "cot.webhook_max_attempts = 3",
      "cot.webhook_poll_interval = '20ms'",
    ].join('\n');
    await bash(`source tests/harness/cluster.sh && cluster_start "${dir}/pg" >/dev/null`, { COT_CLUSTER_SETTINGS: settings });
    stops.push(() => bash(`source tests/harness/cluster.sh && cluster_stop "${dir}/pg"`));
    process.env.PGHOST = `${dir}/pg/sock`;
    process.env.PGPORT = readFileSync(`${dir}/pg/port`, 'utf8').trim();
    process.env.PGUSER = 'postgres';
    process.env.PGDATABASE = 'postgres';
    const { connect } = await import('../../tests/clients/lib/db.mjs');
    const { start, freePort } = await import('../../tests/clients/lib/postgrest.mjs');
    const db = 'studio';
    const postgres = await connect('postgres');
    await postgres.query(`CREATE DATABASE ${db}`).finally(() => postgres.end());
    const su = await connect(db);
    try {
      await su.query('CREATE EXTENSION cot');
      for (const t of tenants) await su.query('SELECT cot.create_tenant($1, $2::jsonb)', [t, JSON.stringify({ name: t })]);
    } finally {
      await su.end();
    }
    const api = await start(db, { schemas: tenants, wiring: 'cot' });
    stops.push(() => api.stop());
    // The secret Cot signs the tokens it mints with (the playground's "a user
    // of this tenant"): PostgREST's.
    const owner = await connect(db);
    await owner.query('SELECT cot.set_jwt_secret($1)', [api.secret]).finally(() => owner.end());
    // cot-realtime behind the front door at /realtime/v1/, when it is built
    // (cargo build --release -p cot-realtime; scripts/test.sh builds it first).
    const { startRealtime, REALTIME_BIN } = await import('../../tests/clients/lib/realtime.mjs');
    let realtime = null;
    if (existsSync(REALTIME_BIN)) {
      realtime = await startRealtime(db, { secret: api.secret });
      stops.push(() => realtime.stop());
    }
    const useGateway = process.env.COT_STUDIO_FRONT !== 'preview' && existsSync(`${ROOT}scripts/lib/gateway.sh`);
    let front;
    let port;
    if (useGateway) {
      const { startGateway } = await import('../../tests/clients/lib/gateway.mjs');
      const gw = await startGateway({ postgrestPort: new URL(api.url).port, studioDist: `${STUDIO}dist`, realtimePort: realtime?.port });
      front = { kind: 'nginx', stop: () => gw.stop() };
      port = gw.port;
    } else {
      port = await freePort();
      front = await startPreview(port, api.url);
    }
    stops.push(() => front.stop());
    const info = {
      dir,
      db,
      front: front.kind,
      port,
      pghost: process.env.PGHOST,
      pgport: process.env.PGPORT,
      postgrest: api.url,
      realtime: realtime !== null && useGateway,
      secret: api.secret,
      tenants,
    };
    return { ...info, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
