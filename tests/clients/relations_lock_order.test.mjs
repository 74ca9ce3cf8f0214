// Relations from concurrent sessions: lock order and deadlocks.
//
// Adding a foreign key locks the referenced table (SHARE ROW EXCLUSIVE). Two
// sessions that add foreign keys to the same two tables in opposite orders can
// deadlock (40P01) unless Cot serializes them. Here, in every round, two real
// sessions released at the same moment create an entity linking the existing
// entities alphas and betas in opposite directions: session 1 creates x_N with
// `first` -> alphas and `second` -> betas, session 2 creates y_N with
// `first` -> betas and `second` -> alphas (same field names, targets swapped, so
// neither definition order nor field-name order lines the locks up). Every
// tenth round both sessions instead call cot.create_entities with a group that
// holds a cycle and a many_to_many to one of the two tables, listed in
// opposite orders. Meanwhile a third session keeps inserting rows into alphas
// and betas. Every call must succeed; no session may see 40P01.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { atOnce, closeAll, connect, connectMany, createDatabase, describe, dropDatabase } from './lib/db.mjs';

const TENANT = 'rel_lock';
const ROUNDS = Number(process.env.COT_REL_ROUNDS ?? 100);
const GROUP_EVERY = 10;

let db;
let admin;

before(async () => {
  db = await createDatabase('cot_rel_lock');
  admin = await connect(db);
});

after(async () => {
  // Tenant roles are cluster-wide: drop the tenant before its database.
  if (admin) {
    try {
      await admin.query('SELECT cot.drop_tenant($1, true)', [TENANT]);
    } catch {
      // The tenant may not exist if the test failed early.
    }
  }
  await closeAll([admin]);
  await dropDatabase(db);
});

const m2o = (name, target) => ({ name, type: 'relation', kind: 'many_to_one', target });
const m2m = (name, target) => ({ name, type: 'relation', kind: 'many_to_many', target });
const entity = (name, fields) => ({ tenant: TENANT, name, fields });

async function createEntity(client, def) {
  await client.query('SELECT cot.create_entity($1::jsonb)', [JSON.stringify(def)]);
}

async function createEntities(client, defs) {
  await client.query('SELECT cot.create_entities($1::jsonb)', [JSON.stringify(defs)]);
}

// One round's calls, by session. Returns the names of the entities it makes.
function round(n) {
  if (n % GROUP_EVERY === 0) {
    // A cycle xg <-> xh, and a junction to betas; the other session's group
    // mirrors it over alphas, listed in the opposite order.
    const calls = [
      (c) =>
        createEntities(c, [
          entity(`xg_${n}`, [m2o('first', 'alphas'), m2o('second', 'betas'), m2o('peer', `xh_${n}`)]),
          entity(`xh_${n}`, [m2o('back', `xg_${n}`), m2m('links', 'betas')]),
        ]),
      (c) =>
        createEntities(c, [
          entity(`yh_${n}`, [m2o('back', `yg_${n}`), m2m('links', 'alphas')]),
          entity(`yg_${n}`, [m2o('first', 'betas'), m2o('second', 'alphas'), m2o('peer', `yh_${n}`)]),
        ]),
    ];
    return { calls, names: [`xg_${n}`, `xh_${n}`, `yg_${n}`, `yh_${n}`], group: true };
  }
  const calls = [
    (c) => createEntity(c, entity(`x_${n}`, [m2o('first', 'alphas'), m2o('second', 'betas')])),
    (c) => createEntity(c, entity(`y_${n}`, [m2o('first', 'betas'), m2o('second', 'alphas')])),
  ];
  return { calls, names: [`x_${n}`, `y_${n}`], group: false };
}

// Inserts into alphas and betas, one autocommit statement at a time, until
// stopped. Counts successes and errors by SQLSTATE.
function startInserter(client) {
  const state = { stop: false, ok: 0, errors: {} };
  const done = (async () => {
    let i = 0;
    while (!state.stop) {
      const table = i % 2 === 0 ? 'alphas' : 'betas';
      try {
        await client.query(`INSERT INTO ${TENANT}.${table} (label) VALUES ($1)`, [`row ${i}`]);
        state.ok++;
      } catch (e) {
        const code = e.code ?? 'no sqlstate';
        state.errors[code] = (state.errors[code] ?? 0) + 1;
      }
      i++;
    }
  })();
  return { state, done };
}

test(`${ROUNDS} rounds: two sessions link alphas and betas in opposite orders at once, a third inserts; no deadlock`, { timeout: 600_000 }, async () => {
  await admin.query("SELECT cot.create_tenant($1, '{}'::jsonb)", [TENANT]);
  await createEntities(admin, [
    entity('alphas', [{ name: 'label', type: 'text' }]),
    entity('betas', [{ name: 'label', type: 'text' }]),
  ]);

  const [s1, s2, writer] = await connectMany(db, 3);
  const inserter = startInserter(writer);
  const created = [];
  const deadlocks = [];
  let groupRounds = 0;
  try {
    for (let n = 1; n <= ROUNDS; n++) {
      const r = round(n);
      const results = await atOnce(admin, [s1, s2], (c, i) => r.calls[i](c));
      for (const res of results) {
        if (res.status === 'rejected' && res.reason?.code === '40P01') deadlocks.push(`round ${n}: ${res.reason.message}`);
      }
      assert.deepEqual(deadlocks, [], `round ${n}: no deadlock\n${describe(results)}`);
      assert.ok(
        results.every((res) => res.status === 'fulfilled'),
        `round ${n}${r.group ? ' (groups)' : ''}: both calls must succeed\n${describe(results)}`,
      );
      created.push(...r.names);
      if (r.group) groupRounds++;
    }
  } finally {
    inserter.state.stop = true;
    await inserter.done;
    await closeAll([s1, s2, writer]);
  }

  assert.deepEqual(inserter.state.errors, {}, 'the inserting session saw no error');
  assert.ok(inserter.state.ok > 0, 'the inserting session did insert rows during the rounds');

  // Everything the rounds made is there, once.
  const { rows: entities } = await admin.query('SELECT name FROM cot.entities($1) ORDER BY name', [TENANT]);
  assert.deepEqual(
    entities.map((r) => r.name),
    ['alphas', 'betas', ...created].sort(),
    'one entity per name created, and nothing else',
  );
  // Foreign keys into each of the two tables: 2 per plain round; per group
  // round 3 (two many_to_one columns and one junction column).
  const plainRounds = ROUNDS - groupRounds;
  for (const table of ['alphas', 'betas']) {
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND confrelid = $1::regclass`,
      [`tenant_${TENANT}.${table}`],
    );
    assert.equal(rows[0].n, plainRounds * 2 + groupRounds * 3, `foreign keys referencing ${table}`);
    const { rows: described } = await admin.query(
      "SELECT jsonb_array_length(cot.entity($1, $2)->'referenced_by') AS n",
      [TENANT, table],
    );
    assert.equal(described[0].n, plainRounds * 2 + groupRounds * 3, `referenced_by of ${table}`);
  }
  const { rows: rels } = await admin.query(
    'SELECT count(*)::int AS n FROM cot.relationships r JOIN cot.tenants t ON t.id = r.tenant_id WHERE t.slug = $1',
    [TENANT],
  );
  // Plain round: 4 relation fields; group round: 3 + 2 + 2 + 3 = 10.
  assert.equal(rels[0].n, plainRounds * 4 + groupRounds * 10, 'one cot.relationships row per relation field');

  // The foreign keys work on the rows the third session wrote.
  const { rows: some } = await admin.query(
    `SELECT (SELECT id FROM ${TENANT}.alphas LIMIT 1) AS a, (SELECT id FROM ${TENANT}.betas LIMIT 1) AS b`,
  );
  await admin.query(`INSERT INTO ${TENANT}.x_1 (first_id, second_id) VALUES ($1, $2)`, [some[0].a, some[0].b]);
  await assert.rejects(
    admin.query(`INSERT INTO ${TENANT}.y_1 (first_id) VALUES ($1)`, [some[0].a]),
    (e) => e.code === '23503',
    'y_1.first points at betas: an alphas id is refused with 23503',
  );
});

// A relation created while its target is being dropped: the tenant lock
// orders the two calls, so either the relation is made and the drop refused
// (2BP01), or the drop wins and the relation is refused (42704). Never a
// foreign key to a dropped table, an internal error or a half-made entity.
test('creating a relation to an entity while another session drops it: one clean outcome or the other', { timeout: 600_000 }, async (t) => {
  const rounds = Math.max(1, Math.ceil(ROUNDS / 5));
  const [s1, s2] = await connectMany(db, 2);
  const seen = {};
  try {
    for (let n = 1; n <= rounds; n++) {
      await createEntity(admin, entity(`target_${n}`, [{ name: 'label', type: 'text' }]));
      await admin.query(`INSERT INTO ${TENANT}.target_${n} (label) VALUES ('kept')`);
      const results = await atOnce(admin, [s1, s2], (c, i) =>
        i === 0
          ? createEntity(c, entity(`source_${n}`, [m2o('target', `target_${n}`)]))
          : c.query('SELECT cot.drop_entity($1, $2)', [TENANT, `target_${n}`]),
      );
      const outcome = results.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason?.code)).join(',');
      seen[outcome] = (seen[outcome] ?? 0) + 1;
      assert.ok(['ok,2BP01', '42704,ok'].includes(outcome), `round ${n}: create, drop = ${outcome}\n${describe(results)}`);
      const { rows } = await admin.query('SELECT name FROM cot.entities($1) WHERE name = ANY ($2) ORDER BY name', [
        TENANT,
        [`source_${n}`, `target_${n}`],
      ]);
      assert.deepEqual(
        rows.map((r) => r.name),
        outcome === 'ok,2BP01' ? [`source_${n}`, `target_${n}`] : [],
        `round ${n}: the entities left match the outcome ${outcome}`,
      );
    }
  } finally {
    await closeAll([s1, s2]);
  }
  t.diagnostic(`outcomes (create, drop): ${JSON.stringify(seen)}`);
});

// The control: the same foreign keys added by plain DDL, in opposite orders,
// with a pause between the two, do deadlock. So the hazard the test above
// looks for is real, and its absence there is Cot's doing (its per-tenant
// lock serializes the two calls).
test('control: plain ALTER TABLE ... ADD FOREIGN KEY in opposite orders deadlocks', { timeout: 60_000 }, async () => {
  await admin.query(`
    CREATE SCHEMA lock_control;
    CREATE TABLE lock_control.alphas (id uuid PRIMARY KEY);
    CREATE TABLE lock_control.betas (id uuid PRIMARY KEY);
    CREATE TABLE lock_control.x (first_id uuid, second_id uuid);
    CREATE TABLE lock_control.y (first_id uuid, second_id uuid);`);
  const sessions = await connectMany(db, 2);
  try {
    const plan = [
      ['x', 'alphas', 'betas'],
      ['y', 'betas', 'alphas'],
    ];
    const results = await atOnce(admin, sessions, async (c, i) => {
      const [table, first, second] = plan[i];
      await c.query('BEGIN');
      try {
        await c.query(`ALTER TABLE lock_control.${table} ADD FOREIGN KEY (first_id) REFERENCES lock_control.${first} (id)`);
        await c.query('SELECT pg_sleep(0.3)');
        await c.query(`ALTER TABLE lock_control.${table} ADD FOREIGN KEY (second_id) REFERENCES lock_control.${second} (id)`);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK');
        throw e;
      }
    });
    const deadlocked = results.filter((r) => r.status === 'rejected' && r.reason?.code === '40P01');
    assert.equal(deadlocked.length, 1, `one of the two plain sessions is chosen as the deadlock victim\n${describe(results)}`);
  } finally {
    await closeAll(sessions);
    await admin.query('DROP SCHEMA lock_control CASCADE');
  }
});
