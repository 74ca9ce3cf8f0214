// A PostgREST instance that serves tokens only (docs/postgrest.md, "Tokens
// only"): cot.set_authenticator_tokens_only makes cot.pre_config give its
// login role no pre-request, so a JWT is served as before while an API key
// or an anonymous request is refused; the login role gets generic plans; and
// turning it off brings the pre-request back, all through the real PostgREST
// reloading its configuration.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createDatabase, dropDatabase } from './lib/db.mjs';
import { start } from './lib/postgrest.mjs';
import { eventually } from './lib/eventually.mjs';

const T = { timeout: 60_000 };
const SLUG = 'tokacme';
const LOGIN = 'authenticator_tok';

describe('an authenticator that serves tokens only', () => {
  let db;
  let su;
  let pg;
  let token;
  let apiKey;

  const get = (headers) => pg.request('/notes?select=title', { headers: { 'Accept-Profile': SLUG, ...headers } });
  const status = async (headers) => (await get(headers)).status;
  const planSetting = async () => {
    const { rows } = await su.query(
      `SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
        WHERE r.rolname = $1 AND s.setdatabase = 0`,
      [LOGIN],
    );
    return rows[0]?.setconfig ?? [];
  };

  before(async () => {
    db = await createDatabase('cot_tokens_only');
    su = await connect(db);
    await su.query('SELECT cot.create_tenant($1)', [SLUG]);
    await su.query('SELECT cot.create_entity($1)', [{
      tenant: SLUG, name: 'notes', fields: [{ name: 'title', type: 'text' }], access: { read: 'tenant' },
    }]);
    await su.query(`INSERT INTO tenant_${SLUG}.notes (title) VALUES ('first')`);
    pg = await start(db, { schemas: [SLUG], wiring: 'cot', loginRole: LOGIN });
    token = pg.jwt({ role: `cot_${SLUG}_user`, tenant: SLUG, sub: 'u-1' }, { expiresIn: 600 });
    const { rows } = await su.query("SELECT cot.create_api_key($1, 'user', '{\"sub\": \"u-1\"}') ->> 'key' AS key", [SLUG]);
    apiKey = rows[0].key;
  }, { timeout: 90_000 });

  after(async () => {
    await pg?.stop();
    if (su) {
      await su.query('SELECT cot.drop_tenant($1, true) FROM cot.tenants() WHERE slug = $1', [SLUG]);
      await su.end();
    }
    if (db) await dropDatabase(db);
  });

  test('with the pre-request, a JWT and an API key are both served', T, async () => {
    const r = await get({ Authorization: `Bearer ${token}` });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, [{ title: 'first' }]);
    assert.equal(await status({ 'X-Api-Key': apiKey }), 200);
    assert.deepEqual(await planSetting(), []);
  });

  test('tokens only: the JWT is served, the API key and anonymous requests are refused', T, async () => {
    const { rows } = await su.query('SELECT cot.set_authenticator_tokens_only($1, true) AS r', [LOGIN]);
    assert.deepEqual(rows[0].r, {
      role: LOGIN,
      tokens_only: true,
      statements: [`ALTER ROLE "${LOGIN}" SET plan_cache_mode = force_generic_plan`],
    });
    assert.deepEqual(await planSetting(), ['plan_cache_mode=force_generic_plan']);
    // PostgREST reloads its configuration on the NOTIFY sent at commit.
    await eventually('the API key is no longer exchanged', async () => (await status({ 'X-Api-Key': apiKey })) === 401);
    assert.equal(await status({}), 401);
    const r = await get({ Authorization: `Bearer ${token}` });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, [{ title: 'first' }]);
  });

  test('turned off, the pre-request is back and the login role keeps no plan setting', T, async () => {
    await su.query('SELECT cot.set_authenticator_tokens_only($1, false)', [LOGIN]);
    assert.deepEqual(await planSetting(), []);
    await eventually('the API key is exchanged again', async () => (await status({ 'X-Api-Key': apiKey })) === 200);
    assert.equal(await status({ Authorization: `Bearer ${token}` }), 200);
  });

  test('only a superuser sets it, and only for a registered authenticator', T, async () => {
    await assert.rejects(su.query("SELECT cot.set_authenticator_tokens_only('nobody_here', true)"), (err) => {
      assert.equal(err.code, '42704');
      assert.match(err.message, /not a registered authenticator/);
      return true;
    });
    await su.query('CREATE ROLE cot_tok_plain');
    try {
      await su.query('SET ROLE cot_tok_plain');
      await assert.rejects(su.query('SELECT cot.set_authenticator_tokens_only($1, true)', [LOGIN]), (err) => {
        assert.equal(err.code, '42501');
        return true;
      });
    } finally {
      await su.query('RESET ROLE');
      await su.query('DROP ROLE cot_tok_plain');
    }
    const { rows } = await su.query('SELECT tokens_only FROM cot.authenticators WHERE role = $1', [LOGIN]);
    assert.deepEqual(rows, [{ tokens_only: false }]);
  });
});
