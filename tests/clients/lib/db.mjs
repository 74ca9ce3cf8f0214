// Helpers for tests that drive Cot through real client sessions.
//
// Connection settings come from the environment that tests/harness/run.sh exports
// for its private cluster: PGHOST (a socket directory or a host name), PGPORT,
// PGUSER, and PGDATABASE for the admin connection that creates the per-test
// databases. Nothing is mocked: every helper talks to that server.

import pg from 'pg';

export function connInfo(database) {
  return {
    host: process.env.PGHOST,
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'postgres',
    database,
    // A session stuck on a lock fails the test with 57014 instead of hanging it.
    statement_timeout: 60_000,
    application_name: 'cot-client-tests',
  };
}

export async function connect(database) {
  const client = new pg.Client(connInfo(database));
  await client.connect();
  return client;
}

export async function connectMany(database, n) {
  return Promise.all(Array.from({ length: n }, () => connect(database)));
}

export async function closeAll(clients) {
  await Promise.allSettled(clients.filter(Boolean).map((c) => c.end()));
}

// A fresh database with the cot extension, so a test never sees another
// test's tenants or entities. The name is unique per process and moment.
export async function createDatabase(prefix) {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const admin = await connect(process.env.PGDATABASE ?? 'postgres');
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const c = await connect(name);
  try {
    await c.query('CREATE EXTENSION cot');
  } finally {
    await c.end();
  }
  return name;
}

export async function dropDatabase(name) {
  if (!name) return;
  const admin = await connect(process.env.PGDATABASE ?? 'postgres');
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

// Sessions blocked on the exclusive advisory lock `key` of this database.
// A bigint key shows in pg_locks as classid = high 32 bits, objid = low 32
// bits, objsubid = 1.
async function waiters(controller, key) {
  const { rows } = await controller.query(
    `SELECT count(*)::int AS n
       FROM pg_locks
      WHERE locktype = 'advisory'
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND classid = 0 AND objid = $1 AND objsubid = 1
        AND NOT granted`,
    [key],
  );
  return rows[0].n;
}

// Runs fn(client, i) in every worker session at the same moment and returns
// Promise.allSettled results, one per worker, in order.
//
// The barrier: the controller holds advisory lock `key` exclusively; each
// worker asks for it shared and so blocks. Once pg_locks shows every worker
// waiting, the controller lets go; the shared locks are compatible with each
// other, so all workers wake together, drop the lock and call fn.
export async function atOnce(controller, workers, fn, key = 4242) {
  await controller.query('SELECT pg_advisory_lock($1::bigint)', [key]);
  let released = false;
  const release = async () => {
    if (!released) {
      released = true;
      await controller.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
    }
  };
  try {
    const started = workers.map(async (c, i) => {
      await c.query('SELECT pg_advisory_lock_shared($1::bigint)', [key]);
      await c.query('SELECT pg_advisory_unlock_shared($1::bigint)', [key]);
      return fn(c, i);
    });
    // Settled in the background, so a failing worker is never an unhandled
    // rejection while the controller is still polling.
    const settled = Promise.allSettled(started);
    const deadline = Date.now() + 15_000;
    let n = 0;
    while ((n = await waiters(controller, key)) < workers.length) {
      if (Date.now() > deadline) {
        throw new Error(`barrier: only ${n} of ${workers.length} sessions reached the lock`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await release();
    return await settled;
  } finally {
    await release();
  }
}

// Text for an assertion message: what each session got.
export function describe(results) {
  return results
    .map((r, i) =>
      r.status === 'fulfilled'
        ? `#${i}: ok`
        : `#${i}: ${r.reason?.code ?? 'no sqlstate'} ${r.reason?.message ?? r.reason}`,
    )
    .join('\n');
}
