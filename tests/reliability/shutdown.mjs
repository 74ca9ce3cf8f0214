// The whole server stopped at once (pg_ctl stop -m immediate) under a mixed
// load, then started again: four writers insert rows through a tenant's API
// view, one session keeps changing an entity (a field added per call) and
// creating entities. Every acknowledged row, field and entity must be there
// after the restart, and the change that was in flight must succeed when
// retried (or turn out to have committed).

import assert from 'node:assert/strict';
import { missingAcked, startWriters } from './load.mjs';
import { awaitRecovery, crashServer, session, sleep, startServer } from './server.mjs';

const SLUG = 'sd';
const rules = { read: 'tenant', create: 'tenant', update: 'tenant', delete: 'tenant' };

async function entityOf(c, name) {
  const def = (await c.query('SELECT cot.entity($1, $2) AS d', [SLUG, name])).rows[0].d;
  delete def.referenced_by;
  return def;
}

// Adds field f_<i> to `evolving`, and every fifth call creates made_<i>;
// remembers what was acknowledged and what was in flight when the server went.
function startChanger(db) {
  const state = { stop: false, fields: [], entities: [], inFlight: null, errors: {} };
  const done = (async () => {
    let i = 0;
    while (!state.stop) {
      let c;
      try {
        c = await session(db);
        while (!state.stop) {
          i++;
          if (i % 5 === 0) {
            state.inFlight = { entity: `made_${i}` };
            await c.query('SELECT cot.create_entity($1::jsonb)', [
              JSON.stringify({ tenant: SLUG, name: `made_${i}`, fields: [{ name: 'x', type: 'integer' }] }),
            ]);
            state.entities.push(`made_${i}`);
          } else {
            const def = await entityOf(c, 'evolving');
            def.fields.push({ name: `f_${i}`, type: 'text' });
            state.inFlight = { def };
            await c.query('SELECT cot.alter_entity($1::jsonb)', [JSON.stringify(def)]);
            state.fields.push(`f_${i}`);
          }
          state.inFlight = null;
        }
      } catch (e) {
        const code = e.code ?? 'connection lost';
        if (!['57P01', '57P02', '57P03', 'connection lost', 'ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'EPIPE'].includes(code)) {
          state.errors[code] = (state.errors[code] ?? 0) + 1;
        }
        // After the crash: stop, so the in-flight change is the one left to retry.
        state.stop = true;
      } finally {
        await c?.end().catch(() => {});
      }
    }
  })();
  return { state, done };
}

export async function loadThenCrash({ db, seconds, log, reconnect, admin }) {
  await admin().query("SELECT cot.create_tenant($1, '{}')", [SLUG]);
  for (const [name, fields] of [
    ['events', [{ name: 'writer', type: 'integer' }, { name: 'seq', type: 'integer' }, { name: 'note', type: 'text' }]],
    ['evolving', [{ name: 'label', type: 'text' }]],
  ]) {
    await admin().query('SELECT cot.create_entity($1::jsonb)', [JSON.stringify({ tenant: SLUG, name, access: rules, fields })]);
  }
  const writers = startWriters(db, SLUG, 'events', 4);
  const changer = startChanger(db);
  await sleep(seconds * 1000);
  const before = { rows: writers.state.acked.size, changes: changer.state.fields.length + changer.state.entities.length };
  const t0 = performance.now();
  crashServer();
  startServer();
  const recoveryMs = await awaitRecovery(db, t0);
  await changer.done;
  // The writers go on after the restart for a moment: the server takes writes again.
  await sleep(500);
  await writers.stop();
  await reconnect();
  const c = admin();
  log(`immediate shutdown after ${seconds} s of load (${before.rows} rows, ${before.changes} entity changes acknowledged); restarted and recovered in ${recoveryMs.toFixed(0)} ms`);

  assert.deepEqual(writers.state.errors, {}, 'the writers saw no error but lost connections');
  assert.deepEqual(changer.state.errors, {}, 'the entity changes saw no error but lost connections');
  const { missing } = await missingAcked(c, SLUG, 'events', writers.state.acked);
  assert.deepEqual(missing, [], 'every acknowledged row is there after the restart');

  const def = await entityOf(c, 'evolving');
  const names = def.fields.map((f) => f.name);
  for (const f of changer.state.fields) assert.ok(names.includes(f), `acknowledged field ${f} is in the definition`);
  const { rows: cols } = await c.query(
    `SELECT array_agg(attname::text) AS cols FROM pg_attribute WHERE attrelid = 'tenant_${SLUG}.evolving'::regclass AND attnum > 0 AND NOT attisdropped`,
  );
  for (const f of changer.state.fields) assert.ok(cols[0].cols.includes(f), `acknowledged field ${f} is a column`);
  const { rows: ents } = await c.query('SELECT name FROM cot.entities($1)', [SLUG]);
  for (const e of changer.state.entities) assert.ok(ents.some((r) => r.name === e), `acknowledged entity ${e} exists`);

  // The change in flight when the server went: retried, it succeeds (or had
  // committed before the crash, and the retry changes nothing).
  const flight = changer.state.inFlight;
  if (flight?.def) {
    // Committed before the crash, it left the definition one version on: the
    // retry would be refused as stale (22023), so it is only checked.
    const wanted = flight.def.fields.map((f) => f.name);
    if (JSON.stringify(names) !== JSON.stringify(wanted)) {
      await c.query('SELECT cot.alter_entity($1::jsonb)', [JSON.stringify(flight.def)]);
    }
    const again = (await entityOf(c, 'evolving')).fields.map((f) => f.name);
    assert.deepEqual(again, flight.def.fields.map((f) => f.name), 'the retried change is in the definition');
  } else if (flight?.entity) {
    const exists = ents.some((r) => r.name === flight.entity);
    if (!exists) {
      await c.query('SELECT cot.create_entity($1::jsonb)', [
        JSON.stringify({ tenant: SLUG, name: flight.entity, fields: [{ name: 'x', type: 'integer' }] }),
      ]);
    }
  }
  log(`in flight at the crash: ${flight ? JSON.stringify(flight.entity ?? flight.def.fields.at(-1).name) : 'nothing'}; retried`);
  return { rows: writers.state.acked.size, changes: changer.state.fields.length + changer.state.entities.length, recoveryMs };
}
