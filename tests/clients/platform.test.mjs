// The platform API over the real PostgREST: a sign-up service holding a
// platform token (minted by cot.issue_token) creates a tenant with
// POST /rpc/create_tenant, mints the new tenant's first admin token, and the
// admin defines an entity and writes rows over HTTP; no step needs psql.
// A tenant admin's token reaches nothing of the platform's. Also: a bulk
// insert of rows with different keys stores the fields' defaults
// (Prefer: missing=default through the API view).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PostgrestClient } from '@supabase/postgrest-js';
import { connect, createDatabase, dropDatabase } from './lib/db.mjs';
import { start } from './lib/postgrest.mjs';

const T = { timeout: 60_000 };
const said = (r) => `HTTP ${r.status} ${r.text}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('the platform API', () => {
  let db;
  let su;
  let api;
  let platform;
  const slug = 'plat_new';

  before(async () => {
    db = await createDatabase('cot_platform');
    su = await connect(db);
    await su.query(`SELECT cot.create_tenant('plat_seed')`);
    api = await start(db, { schemas: ['plat_seed', 'cot_platform'], wiring: 'cot' });
    await su.query('SELECT cot.set_jwt_secret($1)', [api.secret]);
    const { rows } = await su.query(`SELECT cot.issue_token(NULL, 'platform', 'signup-service', 600) AS t`);
    platform = rows[0].t;
  }, { timeout: 120_000 });

  after(async () => {
    await api?.stop();
    if (su) {
      for (const s of [slug, 'plat_seed']) await su.query('SELECT cot.drop_tenant($1, true) FROM cot.tenants() WHERE slug = $1', [s]);
      await su.end();
    }
    if (db) await dropDatabase(db);
  });

  // Waits until PostgREST serves `profile` (it reloads its configuration
  // after the NOTIFY a new tenant sends).
  async function served(profile, token) {
    for (let i = 0; i < 100; i++) {
      const r = await api.request('/', { token, profile });
      if (r.status !== 406) return;
      await sleep(100);
    }
    throw new Error(`PostgREST never served ${profile}`);
  }

  test('sign-up: a tenant, its first admin token, an entity and rows, all over HTTP', T, async () => {
    const made = await api.request('/rpc/create_tenant', {
      method: 'POST', token: platform, profile: 'cot_platform', body: { slug, settings: { name: 'Signed up' } },
    });
    assert.equal(made.status, 200, said(made));
    assert.equal(made.body.slug, slug, said(made));

    const minted = await api.request('/rpc/issue_token', {
      method: 'POST', token: platform, profile: 'cot_platform', body: { tenant: slug, role: 'admin', sub: 'founder' },
    });
    assert.equal(minted.status, 200, said(minted));
    const admin = minted.body.token;

    await served(slug, admin);
    // The schema cache may still be loading the new schema's functions.
    let defined;
    for (let i = 0; i < 100; i++) {
      defined = await api.request('/rpc/create_entity', {
        method: 'POST', token: admin, profile: slug,
        body: { definition: { name: 'tasks', fields: [
          { name: 'title', type: 'text', required: true },
          { name: 'state', type: 'enum', values: ['open', 'done'], default: 'open' },
          { name: 'points', type: 'integer', default: 1 },
        ], access: { read: 'tenant', create: 'tenant', update: 'tenant', delete: 'admin' } } },
      });
      if (defined.body?.code !== 'PGRST202') break;
      await sleep(100);
    }
    assert.equal(defined.status, 200, said(defined));

    // postgrest-js: rows with different keys, missing ones DEFAULT.
    let rows;
    for (let i = 0; i < 50; i++) {
      const client = new PostgrestClient(api.url, { schema: slug, headers: { Authorization: `Bearer ${admin}` } });
      rows = await client.from('tasks').insert([{ title: 'a' }, { title: 'b', state: 'done' }, { title: 'c', points: 5 }],
        { defaultToNull: false }).select('title, state, points');
      if (rows.error?.code !== 'PGRST205' && rows.status !== 404) break;
      await sleep(100); // the schema cache is reloading
    }
    assert.equal(rows.error, null, JSON.stringify(rows.error));
    assert.deepEqual(rows.data, [
      { title: 'a', state: 'open', points: 1 },
      { title: 'b', state: 'done', points: 1 },
      { title: 'c', state: 'open', points: 5 },
    ]);
  });

  test('a tenant admin reaches nothing of the platform', T, async () => {
    const { rows } = await su.query(`SELECT cot.issue_token('plat_seed', 'admin', 'someone', 600) AS t`);
    const admin = rows[0].t;
    const r = await api.request('/rpc/create_tenant', {
      method: 'POST', token: admin, profile: 'cot_platform', body: { slug: 'plat_evil' },
    });
    assert.ok([401, 403].includes(r.status), said(r));
    const keys = await api.request('/rpc/issue_token', {
      method: 'POST', token: admin, profile: 'cot_platform', body: { tenant: 'plat_seed', role: 'admin' },
    });
    assert.ok([401, 403].includes(keys.status), said(keys));
    const { rows: none } = await su.query(`SELECT count(*)::int AS n FROM cot.tenants WHERE slug = 'plat_evil'`);
    assert.equal(none[0].n, 0);
  });

  test("a tenant admin mints short-lived user and anon tokens of its own tenant, and nothing more", T, async () => {
    const mint = async (tenant, role) => (await su.query('SELECT cot.issue_token($1, $2, $3, 600) AS t', [tenant, role, 'someone'])).rows[0].t;
    const admin = await mint('plat_seed', 'admin');
    const user = await mint('plat_seed', 'user');
    const ask = (token, body) => api.request('/rpc/issue_token', { method: 'POST', token, profile: 'plat_seed', body: { options: body } });

    const got = await ask(admin, { role: 'user', sub: 'alice', ttl_seconds: 60 });
    assert.equal(got.status, 200, said(got));
    assert.equal(got.body.expires_in, 60);
    const claims = JSON.parse(Buffer.from(got.body.token.split('.')[1], 'base64url'));
    assert.equal(claims.role, 'cot_plat_seed_user');
    assert.equal(claims.tenant, 'plat_seed');
    assert.equal(claims.sub, 'alice');
    assert.ok(claims.exp - claims.iat === 60, JSON.stringify(claims));
    // The token works: PostgREST runs the request as the tenant's user.
    const who = await api.request('/rpc/entities', { method: 'POST', token: got.body.token, profile: 'plat_seed', body: {} });
    assert.ok([200, 401, 403].includes(who.status), said(who));
    assert.notEqual(who.status, 401, said(who));

    for (const [body, code] of [
      [{ role: 'admin' }, '22023'],
      [{ role: 'user', ttl_seconds: 3600 }, '22023'],
      [{ role: 'user', tenant: 'other' }, '22023'],
    ]) {
      const r = await ask(admin, body);
      assert.equal(r.status, 400, said(r));
      assert.equal(r.body.code, code, said(r));
    }
    // Only the tenant's admin: its user is refused.
    const asUser = await ask(user, { role: 'anon' });
    assert.ok([401, 403].includes(asUser.status), said(asUser));
    const { rows } = await su.query(`SELECT cot.issue_tenant_token('plat_seed', '{"role": "anon"}') ? 'token' AS ok`);
    assert.equal(rows[0].ok, true);
  });

  test('anonymous requests reach nothing of the platform', T, async () => {
    const r = await api.request('/rpc/create_tenant', { method: 'POST', profile: 'cot_platform', body: { slug: 'plat_anon' } });
    assert.ok([401, 403].includes(r.status), said(r));
  });
});
