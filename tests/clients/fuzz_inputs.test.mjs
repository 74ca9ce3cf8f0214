// Random inputs through Cot's real SQL functions (docs/reliability-load.md,
// "fuzzing"): query documents, entity definitions and changes, bundles, JWT
// claims, API keys and token requests, from a seeded generator
// (tests/clients/lib/fuzz.mjs), as the superuser and as tenant roles with
// claims, each call in a transaction that is rolled back.
//
// Every call must succeed or fail with a real SQLSTATE, and never with
// XX000 (an internal error: a Rust panic or an unexpected state) or 42601 (a
// syntax error: Cot wrote SQL that does not parse). The server must not
// crash (the session would break; tests/harness/run.sh also reads the log).
//
//   COT_FUZZ_DB_CASES   cases per kind of input (default 60: seconds in CI;
//                       thousands for a long run)
//   COT_FUZZ_SEED       the seed (default: the time; printed, so a failure
//                       can be replayed with the same inputs)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, createDatabase, dropDatabase } from './lib/db.mjs';
import * as fz from './lib/fuzz.mjs';

const CASES = Number(process.env.COT_FUZZ_DB_CASES ?? 60);
const SEED = Number(process.env.COT_FUZZ_SEED ?? Date.now() % 2 ** 31);
const TENANTS = ['fz_a', 'fz_b'];
const FIXTURE = fileURLToPath(new URL('../reliability/fixture.sql', import.meta.url));
const T = { timeout: 1_800_000 };

let db;
let c;
let realKey;
const seen = new Map(); // kind -> Map(SQLSTATE or 'ok' -> count)
const firstMessage = new Map(); // SQLSTATE -> the first message seen with it
const failures = [];

before(async () => {
  console.log(`fuzz_inputs: seed ${SEED}, ${CASES} cases per kind (COT_FUZZ_SEED=${SEED} replays them)`);
  db = await createDatabase('cot_fuzz');
  for (const t of TENANTS) {
    execFileSync('psql', ['-X', '-q', '-v', `tenant=${t}`, '-v', 'rows=60', '-d', db, '-f', FIXTURE], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  c = await connect(db);
  await c.query(`SELECT cot.set_jwt_secret('${'s'.repeat(40)}')`);
  const { rows } = await c.query(`SELECT cot.create_api_key('fz_a', 'user', '{"sub": "user-1"}') ->> 'key' AS key`);
  realKey = rows[0].key;
}, T);

after(async () => {
  await c?.end().catch(() => {});
  // Tenant roles belong to the cluster: drop them with their tenants.
  const su = db && (await connect(db).catch(() => null));
  if (su) {
    for (const t of TENANTS) await su.query('SELECT cot.drop_tenant($1, true)', [t]).catch(() => {});
    await su.end();
  }
  await dropDatabase(db);
  for (const [kind, m] of seen) {
    const counts = [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
    console.log(`fuzz_inputs: ${kind}: ${counts}`);
  }
  if (process.env.COT_FUZZ_VERBOSE) {
    for (const [code, message] of firstMessage) console.log(`  ${code}: ${message}`);
  }
});

// Runs `sql` with `params` in a transaction that is rolled back, after
// `setup` statements (role, claims). Records the outcome; an error without a
// SQLSTATE, XX000 or 42601 is a failure, kept with its input.
async function call(kind, i, setup, sql, params) {
  let outcome = 'ok';
  try {
    await c.query('BEGIN');
    await c.query("SET LOCAL statement_timeout = '10s'");
    for (const [s, p] of setup) await c.query(s, p);
    await c.query(sql, params);
  } catch (err) {
    outcome = err.code ?? 'none';
    if (!firstMessage.has(outcome)) {
      firstMessage.set(outcome, `${err.message} (${kind} ${sql} ${JSON.stringify(params)} ${JSON.stringify(setup)})`.slice(0, 1500));
    }
    if (!/^[0-9A-Z]{5}$/.test(outcome) || outcome === 'XX000' || outcome === '42601') {
      failures.push({ kind, case: i, sqlstate: outcome, message: err.message, detail: err.detail, sql, params, setup });
    }
  } finally {
    await c.query('ROLLBACK').catch(() => {});
  }
  if (!seen.has(kind)) seen.set(kind, new Map());
  seen.get(kind).set(outcome, (seen.get(kind).get(outcome) ?? 0) + 1);
}

const asRole = (role, claims) => [
  [`SELECT set_config('role', $1, true)`, [role]],
  [`SELECT set_config('request.jwt.claims', $1, true)`, [claims]],
];

function check(kind) {
  const mine = failures.filter((f) => f.kind === kind);
  assert.equal(mine.length, 0, `${kind}: ${mine.length} bad outcomes (seed ${SEED}); first ones:\n` +
    JSON.stringify(mine.slice(0, 3), null, 1).slice(0, 6000));
  // The connection survived: no crash took it down.
  return c.query('SELECT 1');
}

// The r-th generator of a kind: each kind has its own stream, so adding a
// kind does not change the inputs of the others for a seed.
const gen = (k) => fz.rng(SEED + k * 7919);

test('cot.query: random documents as the superuser and as tenant roles', T, async () => {
  const r = gen(1);
  for (let i = 0; i < CASES * 3; i++) {
    // Mostly a tenant's role with its own tenant's claims, so that the
    // document is what decides the outcome.
    const own = r.pick(TENANTS);
    const tenant = r.chance(0.85) ? r.pick([own, null]) : r.pick([...TENANTS, 'ghost']);
    const entity = r.chance(0.5) ? 'orders' : r.pick(fz.ENTITIES);
    const doc = JSON.stringify(fz.queryDoc(r, entity));
    const role = `cot_${own}_${r.pick(['anon', 'user', 'admin'])}`;
    const claims = r.chance(0.85) ? JSON.stringify({ role, tenant: own, sub: 'user-1' }) : fz.claimsText(r, TENANTS);
    const setup = r.chance(0.3) && tenant ? [] : asRole(role, claims);
    await call('query', i, setup, 'SELECT cot.query($1, $2, $3::jsonb)', [tenant, entity, doc]);
  }
  await check('query');
});

test('definitions: validate, plan, create and alter random entities', T, async () => {
  const r = gen(2);
  for (let i = 0; i < CASES; i++) {
    const tenant = r.pick(TENANTS);
    const def = JSON.stringify(fz.definition(r, tenant));
    const options = JSON.stringify(r.pick([{}, { allow_data_loss: true }, { defer_validation: true, defer_indexes: true }, fz.value(r)]));
    const setup = r.chance(0.6) ? [] : asRole(`cot_${tenant}_${r.pick(['admin', 'user'])}`, fz.claimsText(r, TENANTS));
    const fn = r.pick(['validate', 'plan', 'create', 'alter', 'create_many']);
    const sql = {
      validate: 'SELECT cot.validate_entity($1::jsonb)',
      plan: 'SELECT cot.plan_entity($1::jsonb, $2::jsonb)',
      create: 'SELECT cot.create_entity($1::jsonb)',
      alter: 'SELECT cot.alter_entity($1::jsonb, $2::jsonb)',
      create_many: 'SELECT cot.create_entities(jsonb_build_array($1::jsonb, $1::jsonb))',
    }[fn];
    await call('definitions', i, setup, sql, fn === 'plan' || fn === 'alter' ? [def, options] : [def]);
  }
  await check('definitions');
});

test('bundles: apply_schema with random bundles and options', T, async () => {
  const r = gen(3);
  for (let i = 0; i < CASES; i++) {
    const tenant = r.pick([...TENANTS, 'ghost']);
    const b = r.chance(0.2)
      ? `(SELECT cot.export_schema('${r.pick(TENANTS)}'))` // a real bundle, to another tenant
      : null;
    const options = JSON.stringify(r.pick([{}, { dry_run: true }, { prune: true }, { prune: true, allow_data_loss: true }, fz.value(r)]));
    const sql = b ? `SELECT cot.apply_schema($1, ${b}, $2::jsonb)` : 'SELECT cot.apply_schema($1, $3::jsonb, $2::jsonb)';
    const params = b ? [tenant, options] : [tenant, options, JSON.stringify(fz.bundle(r, tenant))];
    await call('bundles', i, [], sql, params);
  }
  await check('bundles');
});

test('claims: random request.jwt.claims on reads, writes and claim helpers', T, async () => {
  const r = gen(4);
  for (let i = 0; i < CASES * 2; i++) {
    const tenant = r.pick(TENANTS);
    const setup = asRole(`cot_${tenant}_${r.pick(['anon', 'user', 'admin'])}`, fz.claimsText(r, TENANTS));
    const sql = r.pick([
      `SELECT count(*) FROM ${tenant}.orders`,
      `SELECT count(*) FROM ${tenant}.notes`,
      `SELECT cot.jwt_claim('tenant'), cot.claim_sub(), cot.claim_role()`,
      `INSERT INTO ${tenant}.notes (body) VALUES ('n')`,
      `UPDATE ${tenant}.orders SET qty = 1 WHERE title LIKE 'Order 1%'`,
      `DELETE FROM ${tenant}.notes WHERE body LIKE 'note 1%'`,
      `SELECT cot.query(NULL, 'orders', '{"select": ["title", {"customer": ["name"]}], "limit": 5}')`,
      `SELECT cot.pre_request()`,
    ]);
    await call('claims', i, setup, sql, []);
  }
  await check('claims');
});

test('API keys and tokens: random keys, headers, key options and token requests', T, async () => {
  const r = gen(5);
  for (let i = 0; i < CASES * 2; i++) {
    const key = fz.apiKey(r, realKey);
    switch (r.int(0, 3)) {
      case 0:
        await call('keys', i, [], 'SELECT cot.api_key_claims($1)', [key]);
        break;
      case 1: {
        // As PostgREST runs the pre-request: role cot_anon (or a tenant's),
        // the headers, the profile first in search_path.
        const headers = JSON.stringify(r.chance(0.8) ? { 'x-api-key': key } : fz.value(r));
        const setup = [
          [`SELECT set_config('role', $1, true)`, [r.pick(['cot_anon', 'cot_fz_a_user', 'cot_fz_b_anon'])]],
          [`SELECT set_config('request.headers', $1, true)`, [headers]],
          [`SELECT set_config('request.jwt.claims', $1, true)`, [fz.claimsText(r, TENANTS)]],
          [`SELECT set_config('search_path', $1, true)`, [r.pick(['fz_a, public', '"fz_b"', 'ghost', '"a,b"', ''])]],
        ];
        await call('keys', i, setup, 'SELECT cot.pre_request()', []);
        break;
      }
      case 2:
        await call('keys', i, [], 'SELECT cot.create_api_key($1, $2, $3::jsonb)',
          [r.pick([...TENANTS, 'ghost', '']), r.pick(['anon', 'user', 'admin', 'root', '']),
            JSON.stringify(r.pick([{}, { sub: 'u', label: 'l', expires_at: '2030-01-01T00:00:00Z' },
              { expires_at: r.pick(['never', '2030-13-01', 'infinity', '-infinity']) }, fz.value(r)]))]);
        break;
      default:
        await call('keys', i, [], 'SELECT cot.issue_token($1, $2, $3, $4)',
          [r.pick([...TENANTS, null, 'ghost']), r.pick(['anon', 'user', 'admin', 'platform', 'root', null]),
            r.pick([null, 'user-1', '', 'x'.repeat(300)]), r.pick([1, 3600, 86400, 86401, 0, -1, 2147483647, null])]);
    }
  }
  await check('keys');
});
