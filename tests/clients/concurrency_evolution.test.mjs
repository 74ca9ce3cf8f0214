// Schema changes of one tenant from two sessions at once, in both orders.
//
// Every Cot call that changes a tenant's model takes the tenant's lock first
// (pg_advisory_xact_lock), so two of them never interleave: the second runs
// on what the first committed. Each pair below must end in a defined outcome,
// in every order (lib/race.mjs: a first, b first, both released at once):
//
//   create X ∥ alter X            a first: ok,ok;  b first: ok,42704 (no such entity yet)
//   create C→P ∥ alter P          ok,ok (C's relation points at P, P gets its field)
//   alter X ∥ alter X (versioned) the first ok, the second 22023 (stale: read at an older version)
//   alter X ∥ alter X (no version) ok,ok: the second's definition is what is left
//   alter X ∥ drop X              a first: ok,ok;  b first: 42704,ok
//   relation P→Q ∥ alter Q        ok,ok
//   relation P→Q ∥ alter P        (versioned) the first ok, the second 22023
//
// Never a deadlock (40P01), an internal error (XX000), a catalog unique
// violation, a call slower than HANG_MS, or drift (cot.check) afterwards.
// Rounds: COT_CONCURRENCY_ROUNDS (3 by default; each round runs all three orders).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeAll, connect, connectMany, createDatabase, dropDatabase } from './lib/db.mjs';
import { NEVER, ORDERS, ROUNDS, drift, explain, race } from './lib/race.mjs';

const TENANT = 'conc_evo';
const HANG_MS = 10_000;

let db;
let admin;
let sessions;

before(async () => {
  db = await createDatabase('cot_conc_evo');
  admin = await connect(db);
  sessions = await connectMany(db, 2);
  await admin.query("SELECT cot.create_tenant($1, '{}'::jsonb)", [TENANT]);
});

after(async () => {
  if (admin) await admin.query('SELECT cot.drop_tenant($1, true)', [TENANT]).catch(() => {});
  await closeAll([admin, ...(sessions ?? [])]);
  await dropDatabase(db);
});

const create = (def) => (c) => c.query('SELECT cot.create_entity($1::jsonb)', [JSON.stringify({ tenant: TENANT, ...def })]);
const alter = (def) => (c) => c.query('SELECT cot.alter_entity($1::jsonb)', [JSON.stringify(def)]);
const dropEntity = (name) => (c) => c.query('SELECT cot.drop_entity($1, $2)', [TENANT, name]);
const text = (name) => ({ name, type: 'text' });
const m2o = (name, target) => ({ name, type: 'relation', kind: 'many_to_one', target });

async function stored(name) {
  const { rows } = await admin.query('SELECT cot.entity($1, $2) AS d', [TENANT, name]);
  const def = rows[0].d;
  delete def.referenced_by;
  return def;
}
const withField = (def, field, { version = true } = {}) => {
  const out = { ...def, fields: [...def.fields, field] };
  if (!version) delete out.version;
  return out;
};
const fieldNames = async (name) => (await stored(name)).fields.map((f) => f.name);

// Runs `rounds` × every order of a pair: `setup(tag)` makes what the round
// needs and returns { a, b }; `allowed[order]` lists the outcomes allowed;
// `check(tag, outcome)` looks at what is left. Returns the outcomes seen.
async function pair(t, name, { setup, allowed, check }) {
  const seen = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const order of ORDERS) {
      const tag = `${round}_${order}`;
      const { a, b } = await setup(tag);
      const r = await race(admin, sessions, a, b, order);
      seen[`${order} ${r.outcome}`] = (seen[`${order} ${r.outcome}`] ?? 0) + 1;
      const codes = r.outcome.split(',');
      assert.ok(!codes.some((c) => NEVER.includes(c)), `${name}, ${tag}: ${r.outcome} must not happen\n${explain(r)}`);
      assert.ok(allowed[order].includes(r.outcome), `${name}, ${tag}: ${r.outcome} is not one of ${allowed[order]}\n${explain(r)}`);
      assert.ok(r.slowest < HANG_MS, `${name}, ${tag}: a call took ${r.slowest.toFixed(0)} ms\n${explain(r)}`);
      await check?.(tag, r.outcome);
      assert.deepEqual(await drift(admin, TENANT), [], `${name}, ${tag}: cot.check finds nothing`);
    }
  }
  t.diagnostic(`${name}: ${JSON.stringify(seen)}`);
}

const eitherOrder = (abFirst, baFirst) => ({ ab: [abFirst], ba: [baFirst], together: [abFirst, baFirst] });

test('create X ∥ alter X: the alter sees X or finds none (42704)', { timeout: 600_000 }, async (t) => {
  await pair(t, 'create ∥ alter', {
    setup: async (tag) => ({
      a: create({ name: `x_${tag}`, fields: [text('title')] }),
      b: alter({ tenant: TENANT, name: `x_${tag}`, fields: [text('title'), text('extra')] }),
    }),
    allowed: eitherOrder('ok,ok', 'ok,42704'),
    check: async (tag, outcome) => {
      const want = outcome === 'ok,ok' ? ['title', 'extra'] : ['title'];
      assert.deepEqual(await fieldNames(`x_${tag}`), want, `x_${tag}: fields after ${outcome}`);
    },
  });
});

test('create C with a relation to P ∥ alter P: both succeed', { timeout: 600_000 }, async (t) => {
  await pair(t, 'create relation ∥ alter target', {
    setup: async (tag) => {
      await create({ name: `p_${tag}`, fields: [text('label')] })(admin);
      const def = await stored(`p_${tag}`);
      return { a: create({ name: `c_${tag}`, fields: [m2o('parent', `p_${tag}`)] }), b: alter(withField(def, text('more'), { version: false })) };
    },
    allowed: eitherOrder('ok,ok', 'ok,ok'),
    check: async (tag) => {
      assert.deepEqual(await fieldNames(`p_${tag}`), ['label', 'more']);
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND conrelid = $1::regclass AND confrelid = $2::regclass`,
        [`tenant_${TENANT}.c_${tag}`, `tenant_${TENANT}.p_${tag}`],
      );
      assert.equal(rows[0].n, 1, `c_${tag} references p_${tag}`);
    },
  });
});

test('alter X ∥ alter X, both read at the same version: one wins, the other gets 22023', { timeout: 600_000 }, async (t) => {
  await pair(t, 'alter ∥ alter (versioned)', {
    setup: async (tag) => {
      await create({ name: `v_${tag}`, fields: [text('label')] })(admin);
      const def = await stored(`v_${tag}`);
      return { a: alter(withField(def, text('from_a'))), b: alter(withField(def, text('from_b'))) };
    },
    allowed: eitherOrder('ok,22023', '22023,ok'),
    check: async (tag, outcome) => {
      const want = outcome === 'ok,22023' ? ['label', 'from_a'] : ['label', 'from_b'];
      assert.deepEqual(await fieldNames(`v_${tag}`), want, `v_${tag}: only the winner's field`);
      assert.equal((await stored(`v_${tag}`)).version, 2, 'one version up');
    },
  });
});

test('alter X ∥ alter X without version: both succeed, the later definition is what is left', { timeout: 600_000 }, async (t) => {
  await pair(t, 'alter ∥ alter (no version)', {
    setup: async (tag) => {
      await create({ name: `n_${tag}`, fields: [text('label')] })(admin);
      const def = await stored(`n_${tag}`);
      return { a: alter(withField(def, text('from_a'), { version: false })), b: alter(withField(def, text('from_b'), { version: false })) };
    },
    allowed: eitherOrder('ok,ok', 'ok,ok'),
    check: async (tag) => {
      const names = await fieldNames(`n_${tag}`);
      assert.ok(
        JSON.stringify(names) === '["label","from_a"]' || JSON.stringify(names) === '["label","from_b"]',
        `n_${tag}: one of the two definitions, whole (${names})`,
      );
      assert.equal((await stored(`n_${tag}`)).version, 3, 'two versions up');
    },
  });
});

test('alter X ∥ drop X: the alter runs before the drop, or finds no entity (42704)', { timeout: 600_000 }, async (t) => {
  await pair(t, 'alter ∥ drop', {
    setup: async (tag) => {
      await create({ name: `d_${tag}`, fields: [text('label')] })(admin);
      await admin.query(`INSERT INTO ${TENANT}.d_${tag} (label) VALUES ('row')`);
      const def = await stored(`d_${tag}`);
      return { a: alter(withField(def, text('more'))), b: dropEntity(`d_${tag}`) };
    },
    allowed: eitherOrder('ok,ok', '42704,ok'),
    check: async (tag) => {
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM cot.entities($1) WHERE name = $2', [TENANT, `d_${tag}`]);
      assert.equal(rows[0].n, 0, `d_${tag} is dropped`);
      const { rows: rel } = await admin.query('SELECT to_regclass($1) AS r', [`tenant_${TENANT}.d_${tag}`]);
      assert.equal(rel[0].r, null, `its table is gone`);
    },
  });
});

test('a relation P→Q added ∥ Q altered: both succeed; ∥ P altered (versioned): one gets 22023', { timeout: 600_000 }, async (t) => {
  const setupBoth = async (tag) => {
    await create({ name: `rq_${tag}`, fields: [text('label')] })(admin);
    await create({ name: `rp_${tag}`, fields: [text('label')] })(admin);
    await admin.query(`INSERT INTO ${TENANT}.rq_${tag} (label) SELECT 'q' || n FROM generate_series(1, 100) n`);
    await admin.query(`INSERT INTO ${TENANT}.rp_${tag} (label) SELECT 'p' || n FROM generate_series(1, 100) n`);
    return { p: await stored(`rp_${tag}`), q: await stored(`rq_${tag}`) };
  };
  const fk = async (tag) =>
    (
      await admin.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND conrelid = $1::regclass`, [
        `tenant_${TENANT}.rp_${tag}`,
      ])
    ).rows[0].n;
  await pair(t, 'relation ∥ alter target', {
    setup: async (tag) => {
      const { p, q } = await setupBoth(`t${tag}`);
      return { a: alter(withField(p, m2o('link', `rq_t${tag}`))), b: alter(withField(q, text('more'))) };
    },
    allowed: eitherOrder('ok,ok', 'ok,ok'),
    check: async (tag) => {
      assert.equal(await fk(`t${tag}`), 1, 'the foreign key is there');
      assert.deepEqual(await fieldNames(`rq_t${tag}`), ['label', 'more']);
    },
  });
  await pair(t, 'relation ∥ alter source', {
    setup: async (tag) => {
      const { p } = await setupBoth(`s${tag}`);
      return { a: alter(withField(p, m2o('link', `rq_s${tag}`))), b: alter(withField(p, text('more'))) };
    },
    allowed: eitherOrder('ok,22023', '22023,ok'),
    check: async (tag, outcome) => {
      assert.equal(await fk(`s${tag}`), outcome === 'ok,22023' ? 1 : 0, 'the foreign key is there if the relation won');
    },
  });
});
