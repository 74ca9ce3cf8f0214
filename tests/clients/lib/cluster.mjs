// A private PostgreSQL cluster of its own, for tests that need server
// settings the shared test cluster does not have (shared_preload_libraries,
// background workers) or that restart the server. Started and stopped with
// tests/harness/cluster.sh, like the shared one.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import pg from 'pg';

const run = promisify(execFile);
const harness = path.resolve(import.meta.dirname, '../../harness/cluster.sh');
const bindir = process.env.COT_PG_BINDIR ?? '/usr/lib/postgresql/15/bin';

async function sh(script, env = {}) {
  const { stdout } = await run('bash', ['-c', `set -euo pipefail; source ${harness}; ${script}`], {
    env: { ...process.env, ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

// Starts a cluster whose postgresql.conf gets `settings` (an object of
// name → value, written as name = 'value').
export async function startCluster(settings) {
  const dir = mkdtempSync('/tmp/cot-wh.');
  const lines = Object.entries(settings).map(([k, v]) => `${k} = '${v}'`).join('\n');
  await sh(`cluster_start ${dir}`, { COT_CLUSTER_SETTINGS: lines, COT_CLUSTER_DIR: '' });
  const host = `${dir}/sock`;
  const port = () => Number(readFileSync(`${dir}/port`, 'utf8').trim());
  const asOwner = (args) => (process.getuid() === 0 ? ['runuser', ['-u', 'postgres', '--', ...args]] : [args[0], args.slice(1)]);
  return {
    dir,
    host,
    get port() {
      return port();
    },
    connect: async (database = 'postgres') => {
      const c = new pg.Client({ host, port: port(), user: 'postgres', database, statement_timeout: 60_000 });
      await c.connect();
      return c;
    },
    // pg_ctl restart: a fast shutdown and a start, on the same port.
    restart: async () => {
      const [cmd, args] = asOwner([`${bindir}/pg_ctl`, 'restart', '-D', `${dir}/data`, '-m', 'fast', '-w', '-t', '60',
        '-l', `${dir}/postgres.log`, '-o', `-p ${port()}`]);
      await run(cmd, args);
    },
    log: () => readFileSync(`${dir}/postgres.log`, 'utf8'),
    stop: () => sh(`cluster_stop ${dir}`),
  };
}
