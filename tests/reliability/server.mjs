// The server side of the crash tests: killing a backend, stopping the whole
// server at once, waiting for recovery, and what must hold afterwards.
//
// Runs under tests/reliability/crash.sh, which exports PGHOST, PGPORT and
// COT_CLUSTER_DIR for its private cluster. Sessions come from the client
// tests' helpers (tests/clients/lib/db.mjs), so `pg` is the same package.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect } from '../clients/lib/db.mjs';

const CLUSTER_SH = fileURLToPath(new URL('../harness/cluster.sh', import.meta.url));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A session whose connection may be cut by a crash at any moment: without an
// 'error' listener node-postgres would throw the lost connection out of the
// process.
export async function session(db) {
  const c = await connect(db);
  c.on('error', () => {});
  return c;
}

export async function pidOf(c) {
  return (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
}

// kill -9 of one backend: the postmaster then ends every other backend,
// resets shared memory and replays the WAL since the last checkpoint.
export function killBackend(pid) {
  process.kill(pid, 'SIGKILL');
}

function cluster(fn) {
  const r = spawnSync('bash', ['-c', `source "$0" && ${fn} "$1"`, CLUSTER_SH, process.env.COT_CLUSTER_DIR], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`${fn} failed (exit ${r.status})`);
}

// pg_ctl stop -m immediate: every process of the server ends at once, no
// shutdown checkpoint, as after a power cut of the machine's processes.
export function crashServer() {
  cluster('cluster_crash');
}

// Starts the stopped server again (it may get another port).
export function startServer() {
  cluster('cluster_start');
  process.env.PGPORT = readFileSync(`${process.env.COT_CLUSTER_DIR}/port`, 'utf8').trim();
}

// Milliseconds until the server accepts sessions again and is out of
// recovery, polling every 20 ms for at most `limitMs`.
export async function awaitRecovery(db, since = performance.now(), limitMs = 300_000) {
  for (;;) {
    try {
      const c = await connect(db);
      try {
        const { rows } = await c.query('SELECT pg_is_in_recovery() AS r');
        if (!rows[0].r) return performance.now() - since;
      } finally {
        await c.end().catch(() => {});
      }
    } catch {
      // Still recovering: "the database system is in recovery mode" (57P03)
      // or the socket is not there yet.
    }
    if (performance.now() - since > limitMs) throw new Error(`the server did not recover within ${limitMs} ms`);
    await sleep(20);
  }
}

// Whether backend `pid` waits for the lock of cot.test_pause_after_step,
// pg_advisory_lock(4419444, 1): a two-int4 key shows as classid, objid and
// objsubid = 2.
export async function pausedAt(ctrl, pid) {
  const { rows } = await ctrl.query(
    `SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND pid = $1 AND NOT granted
        AND classid = 4419444 AND objid = 1 AND objsubid = 2`,
    [pid],
  );
  return rows[0].n > 0;
}

// Everything Cot made for a tenant, and the tenant's meta rows
// (cot_test.snapshot from tests/sql/lib/helpers.sql, loaded by crash.sh).
export async function snapshot(c, slug) {
  return (await c.query('SELECT cot_test.snapshot($1) AS s', [slug])).rows[0].s;
}

// What must hold after any crash, for the whole database: cot.check finds
// nothing for any tenant; every tenant has its two schemas and three roles;
// no schema, role or table of Cot's naming is left without its meta rows.
// Returns the findings, one line each (none: consistent).
export async function findings(c) {
  const out = [];
  const { rows: tenants } = await c.query('SELECT slug FROM cot.tenants ORDER BY slug');
  const slugs = new Set(tenants.map((t) => t.slug));
  for (const { slug } of tenants) {
    const { rows } = await c.query('SELECT kind, object, problem FROM cot.check($1)', [slug]);
    for (const r of rows) out.push(`cot.check(${slug}): ${r.kind} ${r.object}: ${r.problem}`);
    const { rows: have } = await c.query(
      `SELECT (SELECT count(*)::int FROM pg_namespace WHERE nspname::text IN ($1::text, 'tenant_' || $1)) AS schemas,
              (SELECT count(*)::int FROM pg_roles
                WHERE rolname::text IN ('cot_' || $1::text || '_anon', 'cot_' || $1::text || '_user', 'cot_' || $1::text || '_admin')) AS roles`,
      [slug],
    );
    if (have[0].schemas !== 2) out.push(`tenant ${slug}: ${have[0].schemas} of its 2 schemas`);
    if (have[0].roles !== 3) out.push(`tenant ${slug}: ${have[0].roles} of its 3 roles`);
  }
  const { rows: roles } = await c.query(
    `SELECT rolname, substring(rolname FROM '^cot_(.+)_(?:anon|user|admin)$') AS slug FROM pg_roles
      WHERE rolname ~ '^cot_.+_(anon|user|admin)$'`,
  );
  for (const r of roles) if (!slugs.has(r.slug)) out.push(`role ${r.rolname} without its tenant`);
  const { rows: schemas } = await c.query(
    `SELECT nspname FROM pg_namespace
      WHERE nspname LIKE 'tenant\\_%' OR nspowner = (SELECT oid FROM pg_roles WHERE rolname = 'cot_owner')`,
  );
  for (const { nspname } of schemas) {
    const slug = nspname.startsWith('tenant_') ? nspname.slice('tenant_'.length) : nspname;
    if (!slugs.has(slug)) out.push(`schema ${nspname} without its tenant`);
  }
  // Meta rows whose objects are gone are cot.check's; rows pointing at a
  // tenant or entity that is gone would be the meta-tables' own half.
  const { rows: meta } = await c.query(
    `SELECT 'entity ' || e.name AS what FROM cot.entities e WHERE NOT EXISTS (SELECT FROM cot.tenants t WHERE t.id = e.tenant_id)
     UNION ALL
     SELECT 'field ' || f.name FROM cot.fields f WHERE NOT EXISTS (SELECT FROM cot.entities e WHERE e.id = f.entity_id)`,
  );
  for (const r of meta) out.push(`meta row without its owner: ${r.what}`);
  return out;
}
