// The front door (docs/gateway.md): Debian's nginx, written out from
// gateway/nginx.conf.template by scripts/lib/gateway.sh, in front of the real
// PostgREST wired by Cot, with the real @supabase/supabase-js as the client:
//
//   createClient('http://gwacme.localhost:<port>', <gwacme anon token>)
//
// reads and writes tenant gwacme (select, insert, update, delete, rpc) with a
// user token; nothing on gwacme's host reaches gwglobex's schema, whatever
// profile headers the client sends; an unknown tenant or the bare domain is a
// plain 404 that lists no schema; PostgREST's single-object 406 (PGRST116)
// still reaches the client; security headers are on every answer; JSON is
// gzipped; the studio's files are cached by name; /realtime/v1/ is a
// WebSocket to the realtime server.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { createClient } from '@supabase/supabase-js';
import WebSocket, { WebSocketServer } from 'ws';
import { connect, createDatabase, dropDatabase } from './lib/db.mjs';
import { start } from './lib/postgrest.mjs';
import { localFetch, lookup, startGateway } from './lib/gateway.mjs';

const T = { timeout: 60_000 };
const A = 'gwacme';
const G = 'gwglobex';
// Words that would give away the schemas PostgREST serves.
const LEAKS = [G, 'cot_platform', 'one of the following', 'PGRST106', `tenant_${A}`];

// A request through the front door without supabase-js: node:http to
// 127.0.0.1 with the Host header set, so the raw bytes (gzip) can be read.
function raw(gw, host, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: gw.port, path, method, headers: { Host: `${host}:${gw.port}`, ...headers } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const plain = res.headers['content-encoding'] === 'gzip' ? gunzipSync(bytes) : bytes;
          resolve({ status: res.statusCode, headers: res.headers, bytes, text: plain.toString() });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    if (body !== undefined) req.write(typeof body === 'string' ? body : JSON.stringify(body));
    req.end();
  });
}

const said = (r) => `HTTP ${r.status} ${r.text}`;

// `what` is the request: a word it contains itself may be echoed back.
function assertNoLeak(r, what) {
  for (const word of LEAKS) {
    if (!what.includes(word)) assert.ok(!r.text.includes(word), `${what}: the answer names ${word}: ${said(r)}`);
  }
}

function assertSecurityHeaders(h, what) {
  assert.match(h['content-security-policy'] ?? '', /frame-ancestors 'none'/, `${what}: CSP`);
  assert.match(h['content-security-policy'] ?? '', /script-src 'self'(;|$)/, `${what}: CSP script-src`);
  assert.equal(h['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  assert.equal(h['x-frame-options'], 'DENY', `${what}: frame denial`);
  assert.equal(h.server, 'nginx', `${what}: no version in Server`);
}

describe('the front door (nginx) with supabase-js', () => {
  let db;
  let su;
  let api;
  let gw;
  let studio;
  let tokens;

  // A supabase-js client on `slug`'s host: the anon token is the project key
  // (sent as `apikey` and, with no one signed in, as the bearer token);
  // `accessToken`, when given, is the signed-in user's token.
  const client = (slug, key, { accessToken, schema } = {}) =>
    createClient(gw.url(slug), key, {
      global: { fetch: localFetch },
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      realtime: { transport: WebSocket },
      ...(accessToken ? { accessToken: async () => accessToken } : {}),
      ...(schema ? { db: { schema } } : {}),
    });

  before(async () => {
    db = await createDatabase('cot_gateway');
    su = await connect(db);
    for (const slug of [A, G]) {
      await su.query('SELECT cot.create_tenant($1)', [slug]);
      await su.query('SELECT cot.create_entity($1)', [{
        tenant: slug,
        name: 'notes',
        fields: [
          { name: 'title', type: 'text', required: true, max_length: 200 },
          { name: 'done', type: 'boolean', default: false },
        ],
        access: { read: 'tenant', create: 'tenant', update: 'tenant', delete: 'tenant' },
      }]);
      await su.query('SELECT cot.create_entity($1)', [{
        tenant: slug, name: 'news', fields: [{ name: 'headline', type: 'text' }], access: { read: 'public' },
      }]);
      await su.query(`INSERT INTO ${su.escapeIdentifier(`tenant_${slug}`)}.notes (title) VALUES ($1), ($2)`,
        [`${slug} first`, `${slug} second`]);
      await su.query(`INSERT INTO ${su.escapeIdentifier(`tenant_${slug}`)}.news (headline) VALUES ($1)`, [`${slug} news`]);
    }
    api = await start(db, { schemas: [A, G], wiring: 'cot' });
    const jwt = (slug, role, sub) => api.jwt({ role: `cot_${slug}_${role}`, tenant: slug, sub }, { expiresIn: 600 });
    tokens = {
      acmeAnon: jwt(A, 'anon'),
      acmeUser: jwt(A, 'user', 'u-1'),
      globexAnon: jwt(G, 'anon'),
      globexUser: jwt(G, 'user', 'g-1'),
    };
    // The studio as Vite builds it: index.html and hashed assets.
    studio = mkdtempSync('/tmp/cot-gw-studio.');
    mkdirSync(`${studio}/assets`);
    writeFileSync(`${studio}/index.html`, '<!doctype html><title>studio</title><script type="module" src="/assets/index-3f9a1c2b.js"></script>');
    writeFileSync(`${studio}/assets/index-3f9a1c2b.js`, `console.log(${JSON.stringify('x'.repeat(4000))});`);
    chmodSync(studio, 0o755); // nginx does not run as root
    gw = await startGateway({ postgrestPort: new URL(api.url).port, studioDist: studio });
  }, { timeout: 120_000 });

  after(async () => {
    await gw?.stop();
    await api?.stop();
    if (su) {
      for (const s of [A, G]) await su.query('SELECT cot.drop_tenant($1, true) FROM cot.tenants() WHERE slug = $1', [s]);
      await su.end();
    }
    if (db) await dropDatabase(db);
    if (studio) rmSync(studio, { recursive: true, force: true });
  });

  test('supabase-js selects, inserts, updates, deletes and calls /rpc/ on its tenant', T, async () => {
    const sb = client(A, tokens.acmeAnon, { accessToken: tokens.acmeUser });
    const read = await sb.from('notes').select('title,done').order('title');
    assert.equal(read.error, null, JSON.stringify(read.error));
    assert.deepEqual(read.data.map((r) => r.title), [`${A} first`, `${A} second`]);

    const made = await sb.from('notes').insert({ title: 'through the front door' }).select('id,title,done').single();
    assert.equal(made.error, null, JSON.stringify(made.error));
    assert.equal(made.data.done, false);
    const { id } = made.data;

    const changed = await sb.from('notes').update({ done: true }).eq('id', id).select('done');
    assert.equal(changed.error, null, JSON.stringify(changed.error));
    assert.deepEqual(changed.data, [{ done: true }]);

    const q = await sb.rpc('query', { entity: 'notes', query: { select: ['title'], where: { done: true } } });
    assert.equal(q.error, null, JSON.stringify(q.error));
    assert.deepEqual(JSON.stringify(q.data).includes('through the front door'), true, JSON.stringify(q.data));

    const gone = await sb.from('notes').delete().eq('id', id).select('id');
    assert.equal(gone.error, null, JSON.stringify(gone.error));
    assert.equal(gone.data.length, 1);
    const { rows } = await su.query(`SELECT count(*)::int AS n FROM tenant_${A}.notes WHERE id = $1`, [id]);
    assert.equal(rows[0].n, 0);
  });

  test('the anon key alone reads what is public; apikey does not get in the way', T, async () => {
    const anon = client(A, tokens.acmeAnon);
    const news = await anon.from('news').select('headline');
    assert.equal(news.error, null, JSON.stringify(news.error));
    assert.deepEqual(news.data, [{ headline: `${A} news` }]);
    const notes = await anon.from('notes').select('title');
    assert.notEqual(notes.error, null, 'the anonymous role may not read notes');
    assert.equal(notes.data, null);
  });

  test('a Cot API key given to createClient works as the bearer token', T, async () => {
    const { rows } = await su.query(`SELECT cot.create_api_key($1, 'user', '{"sub": "svc"}') AS k`, [A]);
    const sb = client(A, rows[0].k.key);
    const read = await sb.from('notes').select('title').order('title');
    assert.equal(read.error, null, JSON.stringify(read.error));
    assert.equal(read.data.length, 2);
  });

  test("gwacme's host never reaches gwglobex's schema, whatever profile the client asks for", T, async () => {
    // supabase-js's db.schema sets Accept-Profile (reads) and Content-Profile (writes).
    const asked = client(A, tokens.acmeAnon, { accessToken: tokens.acmeUser, schema: G });
    const read = await asked.from('notes').select('title').order('title');
    assert.equal(read.error, null, JSON.stringify(read.error));
    assert.deepEqual(read.data.map((r) => r.title), [`${A} first`, `${A} second`], 'gwacme rows, not gwglobex');

    const wrote = await asked.from('notes').insert({ title: 'aimed at globex' }).select('title');
    assert.equal(wrote.error, null, JSON.stringify(wrote.error));
    const landed = await su.query(
      `SELECT (SELECT count(*) FROM tenant_${A}.notes WHERE title = 'aimed at globex')::int AS a,
              (SELECT count(*) FROM tenant_${G}.notes WHERE title = 'aimed at globex')::int AS g`,
    );
    assert.deepEqual(landed.rows[0], { a: 1, g: 0 });
    await su.query(`DELETE FROM tenant_${A}.notes WHERE title = 'aimed at globex'`);

    // gwglobex's own user token on gwacme's host, asking for gwglobex: the
    // request runs against gwacme, where that role has no privilege.
    const foreign = client(A, tokens.globexAnon, { accessToken: tokens.globexUser, schema: G });
    const denied = await foreign.from('notes').select('title');
    assert.notEqual(denied.error, null);
    assert.equal(denied.data, null);
    assert.ok(!JSON.stringify(denied.error).includes(`${G} first`));

    // Raw: repeated and conflicting profile headers are all replaced.
    for (const method of ['GET', 'POST']) {
      const r = await raw(gw, `${A}.localhost`, '/rest/v1/notes?select=title', {
        method,
        headers: {
          Authorization: `Bearer ${tokens.globexUser}`,
          'Accept-Profile': [G, 'cot_platform'],
          'Content-Profile': [G, 'cot_platform'],
          'Content-Type': 'application/json',
          Prefer: 'return=representation',
        },
        body: method === 'POST' ? { title: 'x' } : undefined,
      });
      assert.ok(r.status === 401 || r.status === 403, said(r));
      assert.ok(!r.text.includes(`${G} first`), said(r));
    }
    // The same request on gwglobex's own host works.
    const home = await client(G, tokens.globexAnon, { accessToken: tokens.globexUser }).from('notes').select('title');
    assert.equal(home.error, null, JSON.stringify(home.error));
    assert.equal(home.data.length, 2);
  });

  test('an unknown tenant, the bare domain and Cot\'s own schemas are a 404 that lists no schema', T, async () => {
    const hosts = ['nope.localhost', 'localhost', 'cot_platform.localhost', `tenant_${A}.localhost`, `${A}.example.com`];
    const cases = [
      ['GET', '/rest/v1/notes', {}],
      ['GET', '/rest/v1/', {}],
      ['GET', '/rest/v1/notes', { Accept: 'application/vnd.pgrst.object+json' }],
      ['POST', '/rest/v1/notes', { 'Content-Type': 'application/json' }],
      ['POST', '/rest/v1/rpc/query', { 'Content-Type': 'application/json', Accept: 'application/vnd.pgrst.object+json' }],
      ['PATCH', '/rest/v1/notes?id=eq.1', { 'Content-Type': 'application/json' }],
      ['DELETE', '/rest/v1/notes', {}],
      ['OPTIONS', '/rest/v1/notes', {}],
      ['HEAD', '/rest/v1/notes', {}],
      ['GET', '/realtime/v1/websocket', {}],
    ];
    for (const host of hosts) {
      for (const [method, path, headers] of cases) {
        const r = await raw(gw, host, path, {
          method,
          headers: { Authorization: `Bearer ${tokens.acmeUser}`, 'Accept-Profile': A, ...headers },
          body: method === 'POST' || method === 'PATCH' ? {} : undefined,
        });
        const what = `${method} ${host}${path} ${JSON.stringify(headers)}`;
        assert.equal(r.status, 404, `${what}: ${said(r)}`);
        assertNoLeak(r, what);
        if (method !== 'HEAD') assert.equal(JSON.parse(r.text).code, 'COT404', what);
        assertSecurityHeaders(r.headers, what);
      }
    }
    // supabase-js sees a plain error.
    const lost = await client('nope', tokens.acmeAnon).from('notes').select('*');
    assert.equal(lost.status, 404);
    assert.equal(lost.error.code, 'COT404');
  });

  test("PostgREST's own errors pass, and none of them names another tenant's schema", T, async () => {
    const sb = client(A, tokens.acmeAnon, { accessToken: tokens.acmeUser });
    // .single() on no row: 406 PGRST116, which supabase-js users test for.
    const none = await sb.from('notes').select('title').eq('title', 'no such').single();
    assert.equal(none.status, 406);
    assert.equal(none.error.code, 'PGRST116');
    const one = await sb.from('notes').select('title').eq('title', `${A} first`).single();
    assert.deepEqual(one.data, { title: `${A} first` });

    const errors = [
      ['GET', '/rest/v1/nosuch'],
      ['GET', '/rest/v1/notes?select=nosuch'],
      ['GET', `/rest/v1/notes?select=title,${G}_notes(title)`],
      ['GET', `/rest/v1/${G}.notes`],
      ['POST', '/rest/v1/rpc/create_tenant'],
      ['POST', '/rest/v1/rpc/issue_token'],
      ['POST', '/rest/v1/rpc/query'],
      ['GET', '/rest/v1/'],
      ['GET', '/rest/v1/notes?id=eq.bad'],
    ];
    for (const [method, path] of errors) {
      const r = await raw(gw, `${A}.localhost`, path, {
        method,
        headers: { Authorization: `Bearer ${tokens.acmeUser}`, 'Content-Type': 'application/json' },
        body: method === 'POST' ? { entity: 'nosuch' } : undefined,
      });
      assertNoLeak(r, `${method} ${path}`);
      assertSecurityHeaders(r.headers, `${method} ${path}`);
    }
  });

  test('security headers and caching: API, studio files, stand-in page', T, async () => {
    const apiAnswer = await raw(gw, `${A}.localhost`, '/rest/v1/news?select=headline');
    assert.equal(apiAnswer.status, 200, said(apiAnswer));
    assertSecurityHeaders(apiAnswer.headers, 'API');
    assert.equal(apiAnswer.headers['cache-control'], undefined, 'the gateway adds no caching to API answers');
    assert.equal(apiAnswer.headers['content-profile'], A);
    assert.equal(apiAnswer.headers['content-location'], '/rest/v1/news?select=headline');

    const index = await raw(gw, `${A}.localhost`, '/');
    assert.equal(index.status, 200);
    assert.match(index.text, /<title>studio<\/title>/);
    assert.equal(index.headers['cache-control'], 'no-cache');
    assertSecurityHeaders(index.headers, 'index.html');
    const route = await raw(gw, 'localhost', '/tenants/acme/entities');
    assert.equal(route.status, 200, 'a client-side route answers the app');
    assert.match(route.text, /<title>studio<\/title>/);
    const asset = await raw(gw, `${A}.localhost`, '/assets/index-3f9a1c2b.js');
    assert.equal(asset.status, 200);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(asset.headers['content-type'], /javascript/);
    const missing = await raw(gw, `${A}.localhost`, '/assets/index-00000000.js');
    assert.equal(missing.status, 404, 'a missing asset is not answered with index.html');
    assertSecurityHeaders(missing.headers, 'missing asset');
  });

  test('gzip for JSON and JavaScript when the client accepts it', T, async () => {
    for (const i of [1, 2, 3]) await su.query(`INSERT INTO tenant_${A}.news (headline) VALUES ($1)`, [`more news ${i} `.repeat(40)]);
    const plain = await raw(gw, `${A}.localhost`, '/rest/v1/news?select=headline');
    const zipped = await raw(gw, `${A}.localhost`, '/rest/v1/news?select=headline', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(zipped.text, plain.text, 'the same JSON once unzipped');
    assert.ok(zipped.bytes.length * 3 < plain.bytes.length, `${zipped.bytes.length} vs ${plain.bytes.length} bytes`);
    assert.match(zipped.headers.vary ?? '', /Accept-Encoding/);
    const js = await raw(gw, `${A}.localhost`, '/assets/index-3f9a1c2b.js', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(js.headers['content-encoding'], 'gzip');
    await su.query(`DELETE FROM tenant_${A}.news WHERE headline LIKE 'more news%'`);
  });
});

describe('the front door without a studio, with a realtime server', () => {
  let wss;
  let gw;
  const seen = [];

  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws, req) => {
      seen.push({ url: req.url, tenant: req.headers['x-cot-tenant'] });
      ws.on('message', (m) => ws.send(`echo ${m}`));
    });
    // PostgREST is not needed here: nothing reaches /rest/v1/ upstream.
    gw = await startGateway({ postgrestPort: 9, realtimePort: wss.address().port });
  });

  after(async () => {
    await gw?.stop();
    await new Promise((r) => (wss ? wss.close(r) : r()));
  });

  test('/ answers the stand-in page when the studio is not built', T, async () => {
    const r = await raw(gw, 'localhost', '/');
    assert.equal(r.status, 200);
    assert.match(r.text, /studio is not built/);
    assertSecurityHeaders(r.headers, 'stand-in page');
  });

  test('/realtime/v1/ is a WebSocket to the realtime server, with the tenant of the host', T, async () => {
    const ws = new WebSocket(`${gw.url(A).replace('http', 'ws')}/realtime/v1/websocket?apikey=k&vsn=2.0.0`, { lookup });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const reply = new Promise((r) => ws.once('message', (m) => r(String(m))));
    ws.send('hello');
    assert.equal(await reply, 'echo hello');
    ws.close();
    assert.deepEqual(seen.at(-1), { url: '/realtime/v1/websocket?apikey=k&vsn=2.0.0', tenant: A });

    const bare = new WebSocket(`ws://localhost:${gw.port}/realtime/v1/websocket`, { lookup });
    const status = await new Promise((resolve) => {
      bare.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      bare.once('open', () => resolve('open'));
      bare.once('error', () => resolve('error'));
    });
    assert.equal(status, 404, 'no tenant, no realtime');
  });
});
