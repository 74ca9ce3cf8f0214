// Concurrent cot.create_entity calls from separate sessions.
//
// Many application servers may create the same entity at once (e.g. on first
// boot). Cot must then let exactly one session win and refuse every other with
// 42P07 (duplicate_table), the same error a plain CREATE TABLE gives. A unique
// violation (23505) or an internal error (XX000) leaking out would mean the
// catalogue check and the DDL are not serialised; a second table, or a second
// row in cot.entities, would mean the race was lost silently.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { atOnce, closeAll, connect, connectMany, createDatabase, describe, dropDatabase } from './lib/db.mjs';

const SESSIONS = 8;
const ROUNDS = Number(process.env.COT_RACE_ROUNDS ?? 20);

let db;
let admin;

before(async () => {
  db = await createDatabase('cot_race');
  admin = await connect(db);
});

after(async () => {
  await closeAll([admin]);
  await dropDatabase(db);
});

// A definition with several kinds of DDL behind it (checks, a unique index, an
// enum, an array), so each create_entity takes long enough for the sessions to
// overlap.
function definition(tenant, name) {
  return {
    tenant,
    name,
    fields: [
      { name: 'title', type: 'text', required: true, max_length: 200 },
      { name: 'email', type: 'email', unique: true },
      { name: 'status', type: 'enum', values: ['draft', 'paid', 'shipped'], default: 'draft' },
      { name: 'total', type: 'decimal', precision: 12, scale: 2, min: 0 },
      { name: 'tags', type: 'array', items: 'text' },
    ],
    indexes: [{ fields: ['status', 'created_at'] }],
  };
}

async function createEntity(client, def) {
  const { rows } = await client.query('SELECT cot.create_entity($1::jsonb) AS result', [JSON.stringify(def)]);
  return rows[0].result;
}

// What the catalogue and the database hold for a tenant: entity rows per name
// (through the public cot.entities(tenant) function), storage tables in
// tenant_<slug>, API views in <slug>.
async function inventory(tenant) {
  const entities = await admin.query(
    'SELECT name, count(*)::int AS n FROM cot.entities($1) GROUP BY name ORDER BY name',
    [tenant],
  );
  const relations = async (schema, kinds) =>
    (
      await admin.query(
        `SELECT c.relname
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind = ANY($2::"char"[])
          ORDER BY c.relname`,
        [schema, kinds],
      )
    ).rows.map((r) => r.relname);
  return {
    entities: Object.fromEntries(entities.rows.map((r) => [r.name, r.n])),
    tables: await relations(`tenant_${tenant}`, ['r', 'p']),
    views: await relations(tenant, ['v']),
  };
}

test(`${SESSIONS} sessions create the same entity at once: one wins, the rest get 42P07`, { timeout: 600_000 }, async () => {
  const tenant = 'race_same';
  await admin.query("SELECT cot.create_tenant($1, '{}'::jsonb)", [tenant]);
  const workers = await connectMany(db, SESSIONS);
  const names = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const name = `race_${round}`;
      names.push(name);
      const def = definition(tenant, name);
      const results = await atOnce(admin, workers, (c) => createEntity(c, def));
      const ok = results.filter((r) => r.status === 'fulfilled');
      const wrong = results.filter((r) => r.status === 'rejected' && r.reason?.code !== '42P07');
      assert.equal(ok.length, 1, `round ${round}: expected exactly one success\n${describe(results)}`);
      assert.equal(wrong.length, 0, `round ${round}: every refusal must be 42P07\n${describe(results)}`);
    }
  } finally {
    await closeAll(workers);
  }

  const inv = await inventory(tenant);
  assert.deepEqual(inv.entities, Object.fromEntries(names.map((n) => [n, 1])), 'one cot.entities row per name');
  for (const name of names) {
    assert.ok(inv.tables.includes(name), `table tenant_${tenant}.${name} exists`);
    assert.ok(inv.views.includes(name), `view ${tenant}.${name} exists`);
  }
  // Each storage table exactly once, and nothing half-made beside them.
  assert.deepEqual(inv.tables, [...names].sort(), `tables in tenant_${tenant}`);
});

test(`${SESSIONS} sessions create ${SESSIONS} different entities of one tenant at once: all succeed`, { timeout: 600_000 }, async () => {
  const tenant = 'race_diff';
  await admin.query("SELECT cot.create_tenant($1, '{}'::jsonb)", [tenant]);
  const workers = await connectMany(db, SESSIONS);
  const names = [];
  const rounds = Math.max(1, Math.ceil(ROUNDS / 4));
  try {
    for (let round = 1; round <= rounds; round++) {
      const batch = workers.map((_, i) => `item_${round}_${i}`);
      names.push(...batch);
      const results = await atOnce(admin, workers, (c, i) => createEntity(c, definition(tenant, batch[i])));
      assert.ok(
        results.every((r) => r.status === 'fulfilled'),
        `round ${round}: all ${SESSIONS} must succeed\n${describe(results)}`,
      );
    }
  } finally {
    await closeAll(workers);
  }

  const inv = await inventory(tenant);
  assert.deepEqual(inv.entities, Object.fromEntries(names.map((n) => [n, 1])), 'one cot.entities row per name');
  assert.deepEqual(inv.tables, [...names].sort(), `tables in tenant_${tenant}`);
  assert.deepEqual(inv.views, [...names].sort(), `views in ${tenant}`);
});
