// Custom field types over HTTP: the standard types of
// the standard-types module published, an entity with a field of each,
// and the real PostgREST 12.0.2 with @supabase/postgrest-js as the client.
// A valid row is written; a value that breaks its type answers 400 with the
// SQLSTATE (23514 naming the field and its rule, 22003 for money past its
// precision); the OpenAPI document a client generates code from shows each
// field's format, pattern and examples.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { PostgrestClient } from '@supabase/postgrest-js';
import { connect, createDatabase, dropDatabase } from './lib/db.mjs';
import { start } from './lib/postgrest.mjs';

const SLUG = 'ftype1';
const T = { timeout: 120_000 };
const TYPES = JSON.parse(readFileSync(new URL('../../modules/standard-types/standard-types-1.0.0.json', import.meta.url), 'utf8')).field_types;
const REGISTER = new URL('../../scripts/register-field-types.sh', import.meta.url).pathname;
// The shipped script, run as a deploy would run it, against this test's database.
const register = () => execFileSync(REGISTER, [], { env: { ...process.env, PGDATABASE: db }, encoding: 'utf8' });

let db;
let su;
let api;
let client;

before(async () => {
  db = await createDatabase('cot_field_types');
  su = await connect(db);
  register();
  await su.query('SELECT cot.create_tenant($1)', [SLUG]);
  await su.query('SELECT cot.create_entity($1)', [
    JSON.stringify({
      tenant: SLUG,
      name: 'shops',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'tel', type: 'phone' },
        { name: 'currency', type: 'currency_code', default: 'EUR' },
        { name: 'handle', type: 'slug', unique: true },
        { name: 'tint', type: 'color' },
        { name: 'balance', type: 'money' },
      ],
      access: { read: 'tenant', create: 'tenant', update: 'tenant', delete: 'tenant' },
    }),
  ]);
  api = await start(db, { schemas: [SLUG], wiring: 'cot', loginRole: 'ftype_authenticator' });
  const token = api.jwt({ role: `cot_${SLUG}_user`, tenant: SLUG, sub: 'ann' });
  client = new PostgrestClient(api.url, {
    schema: SLUG,
    headers: { Authorization: `Bearer ${token}` },
    fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(10_000) }),
  });
});

after(async () => {
  await api?.stop();
  await su?.end();
  await dropDatabase(db);
});

test('scripts/register-field-types.sh registered every type of the file, and runs again without a change', T, async () => {
  const { rows } = await su.query("SELECT jsonb_agg(t ORDER BY t->>'name') AS types FROM jsonb_array_elements(cot.field_types()) t");
  const want = [...TYPES].sort((a, b) => a.name.localeCompare(b.name)).map((t) => ({ ...t, used_by: rows[0].types.find((x) => x.name === t.name).used_by }));
  assert.deepEqual(rows[0].types, want);
  assert.deepEqual(rows[0].types.find((t) => t.name === 'phone').used_by, [`${SLUG}.shops.tel`]);
  const again = register();
  assert.deepEqual(again.split('\n').map((l) => l.trim()).filter((l) => TYPES.some((t) => t.name === l)).sort(), TYPES.map((t) => t.name).sort());
});

test('postgrest-js: a row of valid values is written, the default applied', T, async () => {
  const r = await client
    .from('shops')
    .insert({ title: 'corner', tel: '+14155552671', handle: 'corner-shop', tint: '#1E90ff', balance: 19.99 })
    .select();
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.equal(r.status, 201);
  assert.equal(r.data[0].currency, 'EUR');
  assert.equal(r.data[0].tel, '+14155552671');
});

test('postgrest-js: each value that breaks its type is refused with 400 and its SQLSTATE', T, async () => {
  const cases = [
    [{ tel: '0044 20 7183 8750' }, '23514', 'tel', 'text matching the pattern'],
    [{ tel: '+1234567890123456' }, '23514', 'tel', 'text matching the pattern'],
    [{ currency: 'eur' }, '23514', 'currency', 'text matching the pattern "^[A-Z]{3}$"'],
    [{ handle: 'Hello World' }, '23514', 'handle', 'text matching the pattern'],
    [{ handle: 'a'.repeat(201) }, '23514', 'handle', 'at most 200 characters'],
    [{ tint: 'red' }, '23514', 'tint', 'text matching the pattern'],
    [{ balance: 1e12 }, '22003', null, null],
  ];
  for (const [values, code, field, rule] of cases) {
    const r = await client.from('shops').insert({ title: 'bad', ...values });
    const seen = `${JSON.stringify(values)}: ${r.status} ${JSON.stringify(r.error)}`;
    assert.equal(r.status, 400, seen);
    assert.equal(r.error.code, code, seen);
    if (field) {
      assert.equal(r.error.message, `new row for "shops" breaks the rule of field "${field}"`, seen);
      assert.ok(r.error.details.includes(rule), seen);
    }
  }
  const { rows } = await su.query(`SELECT count(*)::int AS n FROM tenant_${SLUG}.shops WHERE title = 'bad'`);
  assert.equal(rows[0].n, 0, 'nothing was written');
});

test('postgrest-js: an update is held to the type too', T, async () => {
  const r = await client.from('shops').update({ tel: 'call me' }).eq('handle', 'corner-shop');
  assert.equal(r.status, 400, JSON.stringify(r.error));
  assert.equal(r.error.code, '23514');
});

test('GET /rpc/openapi: each field shows its type format, pattern and examples', T, async () => {
  const r = await api.request('/rpc/openapi', { token: api.jwt({ role: `cot_${SLUG}_user`, tenant: SLUG, sub: 'ann' }), profile: SLUG });
  assert.equal(r.status, 200, r.text);
  const props = r.body.components.schemas.shops.properties;
  const want = { tel: 'phone', currency: 'iso4217', handle: 'slug', tint: 'color', balance: 'money' };
  for (const [field, format] of Object.entries(want)) {
    assert.equal(props[field].format, format, `${field}: ${JSON.stringify(props[field])}`);
    assert.ok(Array.isArray(props[field].examples) && props[field].examples.length > 0, field);
  }
  assert.equal(props.tel.pattern, '^\\+[1-9][0-9]{1,14}$');
  assert.match(props.tel.description, /Type phone: A phone number in E\.164 form/);
});

test('POST /rpc/query: cot.query, which runs as the tenant role, reads and filters fields of custom types', T, async () => {
  const token = api.jwt({ role: `cot_${SLUG}_user`, tenant: SLUG, sub: 'ann' });
  const q = { select: ['handle', 'tel', 'balance'], where: { tel: '+14155552671' } };
  const r = await api.request('/rpc/query', { method: 'POST', token, profile: SLUG, body: { entity: 'shops', query: q } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.data, [{ handle: 'corner-shop', tel: '+14155552671', balance: 19.99 }]);
});

test('a type cannot be removed between the validation of a definition using it and its commit', T, async () => {
  const a = await connect(db);
  const b = await connect(db);
  try {
    await a.query('BEGIN');
    await a.query('SELECT cot.create_entity($1)', [
      JSON.stringify({ tenant: SLUG, name: 'swatches', fields: [{ name: 'shade', type: 'color' }] }),
    ]);
    // b waits for a's transaction (its FOR SHARE lock on the type's row) ...
    const removing = b.query("SELECT cot.unregister_field_type('color')").then(
      () => 'removed',
      (e) => e,
    );
    await new Promise((r) => setTimeout(r, 300));
    const { rows } = await su.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%unregister_field_type%'",
    );
    assert.equal(rows[0].n, 1, 'unregister waits for the transaction that used the type');
    await a.query('COMMIT');
    // ... then sees the new field and refuses.
    const e = await removing;
    assert.equal(e.code, '2BP01', String(e));
    assert.match(e.detail, new RegExp(`${SLUG}\\.swatches\\.shade`));
  } finally {
    await a.end();
    await b.end();
  }
});

test('the platform API: POST /rpc/register_field_type and /rpc/field_types in schema cot_platform', T, async () => {
  const platformApi = await start(db, { schemas: ['cot_platform'], wiring: 'cot', loginRole: 'ftype_platform_login' });
  try {
    await su.query('SELECT cot.set_jwt_secret($1)', [platformApi.secret]);
    const { rows } = await su.query(`SELECT cot.issue_token(NULL, 'platform', 'ops', 600) AS t`);
    const call = (fn, body) =>
      platformApi.request(`/rpc/${fn}`, { method: 'POST', token: rows[0].t, profile: 'cot_platform', body });
    const sku = { name: 'sku', base: 'text', checks: { pattern: '^[A-Z]{3}-[0-9]{5}$' } };
    const made = await call('register_field_type', { definition: sku });
    assert.equal(made.status, 200, made.text);
    assert.deepEqual(made.body, sku);
    const bad = await call('register_field_type', { definition: { name: 'sku2', base: 'json' } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.code, '22023');
    const listed = await call('field_types', {});
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.body.find((t) => t.name === 'sku').used_by, []);
    const inUse = await call('unregister_field_type', { name: 'phone' });
    assert.equal(inUse.status, 400, inUse.text);
    assert.equal(inUse.body.code, '2BP01');
    const gone = await call('unregister_field_type', { name: 'sku' });
    assert.equal(gone.body, true, gone.text);
  } finally {
    await platformApi.stop();
  }
});
