// The real PostgREST in front of tenants that an earlier release created and
// `cot.upgrade_tenants()` brought up to date: they serve what new tenants
// serve. Run by tests/upgrade/run.sh with COT_UPGRADED_DB naming the upgraded
// database (the fixture is tests/upgrade/fixture.sql); not part of the main
// client suite, which has no upgraded database.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PostgrestClient } from '@supabase/postgrest-js';
import { start } from '../lib/postgrest.mjs';

const DB = process.env.COT_UPGRADED_DB;
if (!DB) throw new Error('COT_UPGRADED_DB must name the upgraded database (tests/upgrade/run.sh sets it)');
const T = { timeout: 60_000 };

describe('an upgraded tenant over HTTP', () => {
  let api;
  let tokens;
  before(async () => {
    api = await start(DB, { schemas: ['up_a', 'up_b'], wiring: 'cot' });
    tokens = {
      user: api.jwt({ role: 'cot_up_a_user', tenant: 'up_a', sub: 'user-1' }),
      admin: api.jwt({ role: 'cot_up_a_admin', tenant: 'up_a', sub: 'admin-1' }),
    };
  }, T);
  after(async () => api?.stop());

  const client = (token, schema) =>
    new PostgrestClient(api.url, {
      schema,
      headers: { Authorization: `Bearer ${token}` },
      fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(10_000) }),
    });

  test('rows written before the upgrade read as before', T, async () => {
    const { data, error } = await client(tokens.user, 'up_a').from('every_type').select('a_text, an_integer').eq('an_integer', 3);
    assert.equal(error, null, JSON.stringify(error));
    assert.deepEqual(data, [{ a_text: 'row 3', an_integer: 3 }]);
  });

  test('a bulk insert of rows with different keys stores the defaults (missing=default)', T, async () => {
    // postgrest-js sends Prefer: missing=default when defaultToNull is false:
    // PostgREST then writes DEFAULT for keys a row lacks, which through a
    // view without column defaults stored NULL.
    const { data, error } = await client(tokens.user, 'up_a')
      .from('every_type')
      .insert([{ a_text: 'bulk 1' }, { an_integer: 41 }], { defaultToNull: false })
      .select('a_text, an_integer, an_enum, a_boolean, a_decimal');
    assert.equal(error, null, JSON.stringify(error));
    assert.deepEqual(data, [
      { a_text: 'bulk 1', an_integer: 7, an_enum: 'low', a_boolean: true, a_decimal: 1.5 },
      { a_text: 'hello', an_integer: 41, an_enum: 'low', a_boolean: true, a_decimal: 1.5 },
    ]);
  });

  test('owner rules still hold after the policies were made again', T, async () => {
    const mine = await client(tokens.user, 'up_a').from('notes').select('owner_id');
    assert.equal(mine.error, null, JSON.stringify(mine.error));
    const everyone = await client(tokens.admin, 'up_a').from('notes').select('owner_id');
    assert.ok(mine.data.length > 0 && mine.data.every((n) => n.owner_id === 'user-1'),
      `user-1 sees ${JSON.stringify(mine.data)}; the admin sees ${JSON.stringify(everyone.data)}`);
    const all = await client(tokens.admin, 'up_a').from('notes').select('id, owner_id');
    assert.equal(all.data?.length, 20, JSON.stringify(all));
  });

  test('POST /rpc/query works on an upgraded tenant', T, async () => {
    const { data, error } = await client(tokens.user, 'up_a').rpc('query', {
      entity: 'people',
      query: { select: ['name'], where: { name: { eq: 'person 2' } } },
    });
    assert.equal(error, null, JSON.stringify(error));
    assert.deepEqual(data?.data, [{ name: 'person 2' }], JSON.stringify(data));
  });

  test('GET /rpc/openapi and /rpc/typescript serve an upgraded tenant its documents', T, async () => {
    const doc = await api.request('/rpc/openapi', { token: tokens.user, profile: 'up_a' });
    assert.equal(doc.status, 200, doc.text.slice(0, 500));
    assert.equal(doc.body.openapi, '3.1.0');
    assert.ok(doc.body.paths['/people'], Object.keys(doc.body.paths).join(' '));
    const ts = await api.request('/rpc/typescript', { token: tokens.admin, profile: 'up_a', headers: { Accept: 'text/plain' } });
    assert.equal(ts.status, 200, ts.text.slice(0, 500));
    assert.match(ts.text, /^\/\/ Types of the PostgREST API of Cot tenant up_a/);
  });
});
