// Several PostgREST instances behind one front door (docs/gateway.md, "Several
// PostgREST instances"): instance A (login role authenticator, group
// `default`, on a TCP port) and instance B (login role authenticator_b,
// group `b`, on a Unix socket). cot.pre_config gives each only its group's
// tenants; nginx routes each tenant's host to its group's instance by
// cot.api_routes(); each instance listens on its group's channel, so a change
// reloads only its group's instance; moving a tenant reloads the instances at
// commit and the front door once gateway_routes rewrites its map.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { connect, createDatabase, dropDatabase } from './lib/db.mjs';
import { start } from './lib/postgrest.mjs';
import { startGateway } from './lib/gateway.mjs';
import { eventually } from './lib/eventually.mjs';

const T = { timeout: 90_000 };
const A = 'grpacme';
const B = 'grpglobex';

// GET `path` from `target` (http.request's host and port, or socketPath)
// on a new connection each time: one kept alive would stay with an nginx
// worker of the routes before a reload.
function get(target, path, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...target, path, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

// GET `path` on PostgREST directly: over TCP (`url`) or its socket.
const direct = ({ url, socketPath }, path, headers) =>
  get(socketPath ? { socketPath } : { host: '127.0.0.1', port: new URL(url).port }, path, headers);

// GET through the front door with the tenant in the Host header.
const viaGateway = (gw, slug, path, token) =>
  get({ host: '127.0.0.1', port: gw.port }, path, { Host: `${slug}.localhost:${gw.port}`, Authorization: `Bearer ${token}` });

describe('tenants served by several PostgREST instances behind one front door', () => {
  let db;
  let su;
  let pgA;
  let pgB;
  let gw;
  let sockDir;
  let tokens;
  const secret = randomBytes(32).toString('hex');

  // Does this instance serve `slug`? 200 with the tenant's notes, or 406
  // (PGRST106: a schema it does not serve).
  const serves = async (instance, slug) => {
    const r = await direct(instance, '/notes?select=title', {
      'Accept-Profile': slug,
      Authorization: `Bearer ${tokens[slug]}`,
    });
    if (r.status === 200) return true;
    if (r.status === 406) return false;
    throw new Error(`unexpected answer: ${r.status} ${r.text}`);
  };

  before(async () => {
    db = await createDatabase('cot_gwgroups');
    su = await connect(db);
    for (const slug of [A, B]) {
      await su.query('SELECT cot.create_tenant($1)', [slug]);
      await su.query('SELECT cot.create_entity($1)', [{
        tenant: slug, name: 'notes', fields: [{ name: 'title', type: 'text' }], access: { read: 'tenant' },
      }]);
      await su.query(`INSERT INTO ${su.escapeIdentifier(`tenant_${slug}`)}.notes (title) VALUES ($1)`, [`${slug} note`]);
    }
    sockDir = mkdtempSync('/tmp/cot-gwgroups.');
    chmodSync(sockDir, 0o755); // nginx does not run as root
    // Both instances serve every tenant until their login roles are bound.
    pgA = await start(db, { schemas: [A, B], wiring: 'cot', secret });
    // Group b's instance listens on group b's channel (docs/gateway.md).
    pgB = await start(db, {
      schemas: [A, B], wiring: 'cot', secret, loginRole: 'authenticator_b', unixSocket: `${sockDir}/b.sock`,
      extraSettings: { 'db-channel': 'pgrst_b' },
    });
    pgB.socketPath = `${sockDir}/b.sock`;
    const jwt = (slug) => pgA.jwt({ role: `cot_${slug}_user`, tenant: slug, sub: 'u-1' }, { expiresIn: 600 });
    tokens = { [A]: jwt(A), [B]: jwt(B) };
    await su.query("SELECT cot.set_authenticator_api_group('authenticator', 'default')");
    await su.query("SELECT cot.set_authenticator_api_group('authenticator_b', 'b')");
    await su.query("SELECT cot.set_tenant_api_group($1, 'b')", [B]);
    gw = await startGateway({
      postgrest: `default=${new URL(pgA.url).port},b=unix:${pgB.socketPath}`,
      routesDb: `dbname=${db}`,
    });
  }, { timeout: 120_000 });

  after(async () => {
    await gw?.stop();
    await pgB?.stop();
    await pgA?.stop();
    if (su) {
      for (const s of [A, B]) await su.query('SELECT cot.drop_tenant($1, true) FROM cot.tenants() WHERE slug = $1', [s]);
      await su.end();
    }
    if (db) await dropDatabase(db);
    if (sockDir) rmSync(sockDir, { recursive: true, force: true });
  });

  test('each instance serves only the tenants of its group', T, async () => {
    await eventually('A drops B and B drops A', async () =>
      (await serves(pgA, A)) && !(await serves(pgA, B)) && (await serves(pgB, B)) && !(await serves(pgB, A)));
    const { rows } = await su.query('SELECT tenant, api_group FROM cot.api_routes() ORDER BY tenant');
    assert.deepEqual(rows, [{ tenant: A, api_group: 'default' }, { tenant: B, api_group: 'b' }]);
  });

  test("a change in one group reloads only that group's instance", T, async () => {
    await eventually('both instances reloaded', async () => !(await serves(pgA, B)) && !(await serves(pgB, A)));
    const loads = (instance) => instance.output().split('\n').filter((l) => /Schema cache loaded/.test(l)).length;
    // Reloads still running from the setup's NOTIFYs end first: the counts
    // are taken once neither has moved for 1.5 s.
    let a0 = -1;
    let b0 = -1;
    for (let still = 0; still < 15; ) {
      const [a, b] = [loads(pgA), loads(pgB)];
      still = a === a0 && b === b0 ? still + 1 : 0;
      [a0, b0] = [a, b];
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(a0 > 0 && b0 > 0, `PostgREST logs its schema cache loads:\n${pgA.output()}`);
    await su.query('SELECT cot.create_entity($1)', [{ tenant: A, name: 'tags', fields: [{ name: 'label', type: 'text' }] }]);
    await eventually("A's instance reloads", async () => loads(pgA) > a0);
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(loads(pgB), b0, `B's instance reloaded for a change in group default:\n${pgB.output()}`);
    await su.query('SELECT cot.create_entity($1)', [{ tenant: B, name: 'tags', fields: [{ name: 'label', type: 'text' }] }]);
    await eventually("B's instance reloads", async () => loads(pgB) > b0);
  });

  test("the front door sends each tenant's host to its group's instance", T, async () => {
    await eventually('both instances reloaded', async () => !(await serves(pgA, B)) && !(await serves(pgB, A)));
    for (const slug of [A, B]) {
      const r = await viaGateway(gw, slug, '/rest/v1/notes?select=title', tokens[slug]);
      assert.equal(r.status, 200, `${slug}: ${r.text}`);
      assert.deepEqual(JSON.parse(r.text), [{ title: `${slug} note` }]);
    }
  });

  test('a tenant moved back is served by its new instance once the routes are rewritten', T, async () => {
    const moved = await su.query("SELECT cot.set_tenant_api_group($1, 'default') AS r", [B]);
    assert.deepEqual(moved.rows[0].r, { tenant: B, api_group: 'default', before: 'b' });
    await eventually('A serves B, B serves neither', async () => (await serves(pgA, B)) && !(await serves(pgB, B)));
    // Until the front door's map is rewritten, B's host still goes to
    // instance B, which no longer serves it: a plain 404 naming no schema.
    const stale = await viaGateway(gw, B, '/rest/v1/notes?select=title', tokens[B]);
    assert.equal(stale.status, 404, stale.text);
    assert.doesNotMatch(stale.text, new RegExp(`${A}|PGRST106|cot_platform`));
    await gw.routes();
    const r = await viaGateway(gw, B, '/rest/v1/notes?select=title', tokens[B]);
    assert.equal(r.status, 200, `${r.text}\nroutes:\n${readFileSync(`${gw.dir}/routes.map`, 'utf8')}\nerror log:\n${gw.errorLog()}`);
    assert.deepEqual(JSON.parse(r.text), [{ title: `${B} note` }]);
    await su.query("SELECT cot.set_tenant_api_group($1, 'b')", [B]);
    await gw.routes();
  });

  test('routes to a group with no instance are refused and the map is kept', T, async () => {
    await su.query("SELECT cot.set_tenant_api_group($1, 'c')", [A]);
    try {
      await assert.rejects(gw.routes(), (err) => {
        assert.match(String(err.stderr), new RegExp(`no PostgREST instance was given for the group of: ${A} \\(group c\\)`));
        return true;
      });
    } finally {
      await su.query("SELECT cot.set_tenant_api_group($1, 'default')", [A]);
    }
    await eventually('A is served again', async () => serves(pgA, A));
    const r = await viaGateway(gw, A, '/rest/v1/notes?select=title', tokens[A]);
    assert.equal(r.status, 200, r.text);
  });

  test('bad input gets a clear error; only the platform may move tenants', T, async () => {
    await assert.rejects(su.query("SELECT cot.set_tenant_api_group($1, 'Eu-1')", [A]), { code: '42602' });
    await assert.rejects(su.query("SELECT cot.set_tenant_api_group('nosuch', 'b')"), { code: '42704' });
    await assert.rejects(su.query("SELECT cot.set_authenticator_api_group('nosuch', 'b')"), { code: '42704' });
    await su.query('BEGIN');
    try {
      await su.query(`SET LOCAL ROLE cot_${A}_admin`);
      await assert.rejects(su.query("SELECT cot.set_tenant_api_group($1, 'b')", [A]), { code: '42501' });
    } finally {
      await su.query('ROLLBACK');
    }
  });
});
