// Two calls from two real sessions, in a chosen order, and what the outcome
// may be. Used by tests/clients/concurrency_*.test.mjs.
//
// Orders:
//   'ab'       a runs inside an open transaction of session 1; b is started
//              in session 2 and seen waiting for a lock (or finished); then
//              session 1 commits. So a's effects come first.
//   'ba'       the same with the roles swapped.
//   'together' both released at the same moment (lib/db.mjs atOnce).
// Each call's outcome is 'ok' or its SQLSTATE; the pair is written 'a,b'
// (e.g. 'ok,42704'). A call that takes longer than `hangMs` is a hang.

import { atOnce } from './db.mjs';

export const ROUNDS = Number(process.env.COT_CONCURRENCY_ROUNDS ?? 3);
export const ORDERS = ['ab', 'ba', 'together'];

// SQLSTATEs that must never come out of any pair: a deadlock, an internal
// error, a catalog unique violation (two sessions racing in the catalog).
export const NEVER = ['40P01', 'XX000', '23505'];

const outcome = (r) => (r.status === 'fulfilled' ? 'ok' : (r.reason?.code ?? `no sqlstate: ${r.reason?.message}`));

async function timed(fn, c) {
  const t0 = performance.now();
  try {
    const value = await fn(c);
    return { status: 'fulfilled', value, ms: performance.now() - t0 };
  } catch (reason) {
    return { status: 'rejected', reason, ms: performance.now() - t0 };
  }
}

// Whether session `pid` waits for a heavyweight lock right now.
async function waiting(controller, pid) {
  const { rows } = await controller.query('SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1', [pid]);
  return rows[0]?.wait_event_type === 'Lock';
}

async function pidOf(c) {
  return (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
}

// One call of `first` committed before `second` may go on: `second` is
// started while `first`'s transaction is still open.
async function ordered(controller, s1, s2, first, second) {
  await s1.query('BEGIN');
  const r1 = await timed(first, s1);
  const pid2 = await pidOf(s2);
  let done = false;
  const p2 = timed(second, s2).then((r) => {
    done = true;
    return r;
  });
  // Give `second` time to reach the lock `first` holds (if it needs one).
  const deadline = performance.now() + 2_000;
  while (!done && !(await waiting(controller, pid2)) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await s1.query(r1.status === 'fulfilled' ? 'COMMIT' : 'ROLLBACK');
  return [r1, await p2];
}

// Runs a and b in the given order; returns { results, outcome, slowest }.
export async function race(controller, [s1, s2], a, b, order) {
  let results;
  if (order === 'ab') results = await ordered(controller, s1, s2, a, b);
  else if (order === 'ba') results = (await ordered(controller, s2, s1, b, a)).reverse();
  else {
    const settled = await atOnce(controller, [s1, s2], (c, i) => timed(i === 0 ? a : b, c));
    results = settled.map((r) => r.value);
  }
  return {
    results,
    outcome: results.map(outcome).join(','),
    slowest: Math.max(...results.map((r) => r.ms)),
  };
}

// Text for an assertion message.
export function explain(r) {
  return r.results
    .map((x, i) => `${'ab'[i]}: ${x.status === 'fulfilled' ? 'ok' : `${x.reason?.code} ${x.reason?.message}`} (${x.ms.toFixed(0)} ms)`)
    .join('\n');
}

// The drift cot.check finds for a tenant, one line per row.
export async function drift(c, tenant) {
  const { rows } = await c.query('SELECT kind, object, problem FROM cot.check($1)', [tenant]);
  return rows.map((r) => `${r.kind} ${r.object}: ${r.problem}`);
}
