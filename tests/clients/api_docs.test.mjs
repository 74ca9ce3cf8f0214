// The API's documentation over HTTP, through the real PostgREST 12.0.2: a
// frontend developer without psql gets the OpenAPI document and the
// TypeScript types from the tenant's own API schema, `/rpc/openapi` and
// `/rpc/typescript`, with a token of the tenant's users or admins. The answers
// are those of cot.openapi and cot.typescript; the TypeScript compiles with
// tsc --strict; anonymous requests and tokens of another tenant get nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createDatabase, dropDatabase } from './lib/db.mjs';
import { start } from './lib/postgrest.mjs';
import { typecheck } from './lib/docs_checks.mjs';

const A = 'apidoc_a';
const B = 'apidoc_b';
const T = { timeout: 120_000 };

let db;
let su;
let api;
let user;
let admin;
let otherTenant;

const said = (r) => `HTTP ${r.status} ${r.text.slice(0, 500)}`;

before(async () => {
  db = await createDatabase('cot_api_docs');
  su = await connect(db);
  for (const slug of [A, B]) {
    await su.query('SELECT cot.create_tenant($1)', [slug]);
    await su.query('SELECT cot.create_entity($1)', [
      JSON.stringify({
        tenant: slug,
        name: 'tasks',
        fields: [
          { name: 'title', type: 'text', required: true, max_length: 200 },
          { name: 'priority', type: 'enum', values: ['low', 'high'], default: 'low' },
        ],
        access: { read: 'tenant', create: 'tenant', update: 'owner', delete: 'owner' },
      }),
    ]);
  }
  api = await start(db, { schemas: [A, B], wiring: 'cot', loginRole: 'apidoc_authenticator' });
  user = api.jwt({ role: `cot_${A}_user`, tenant: A, sub: 'ann' });
  admin = api.jwt({ role: `cot_${A}_admin`, tenant: A, sub: 'boss' });
  otherTenant = api.jwt({ role: `cot_${B}_user`, tenant: B, sub: 'eve' });
});

after(async () => {
  await api?.stop();
  await su?.end();
  await dropDatabase(db);
});

test('GET /rpc/openapi answers a tenant user with what cot.openapi returns', T, async () => {
  const r = await api.request('/rpc/openapi', { token: user, profile: A });
  assert.equal(r.status, 200, said(r));
  const { rows } = await su.query('SELECT cot.openapi($1) AS doc', [A]);
  assert.deepEqual(r.body, rows[0].doc);
  assert.equal(r.body.openapi, '3.1.0');
  assert.ok(r.body.paths['/tasks'], Object.keys(r.body.paths).join(' '));
  assert.ok(r.body.paths['/rpc/openapi'] && r.body.paths['/rpc/typescript'], 'the document lists itself');
});

test('POST /rpc/openapi takes the options: the server URL the document names', T, async () => {
  const r = await api.request('/rpc/openapi', {
    method: 'POST',
    token: admin,
    profile: A,
    body: { options: { server_url: 'https://api.example.com' } },
  });
  assert.equal(r.status, 200, said(r));
  assert.equal(r.body.servers[0].url, 'https://api.example.com');
  const q = await api.request(`/rpc/openapi?options=${encodeURIComponent('{"server_url": "https://x.example"}')}`, {
    token: user,
    profile: A,
  });
  assert.equal(q.status, 200, said(q));
  assert.equal(q.body.servers[0].url, 'https://x.example', 'GET takes it as JSON text in the query string');
});

test('GET /rpc/typescript with Accept: text/plain is the TypeScript source; it compiles', T, async () => {
  const r = await api.request('/rpc/typescript', { token: user, profile: A, headers: { Accept: 'text/plain' } });
  assert.equal(r.status, 200, said(r));
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
  const { rows } = await su.query('SELECT cot.typescript($1) AS ts', [A]);
  assert.equal(r.text, rows[0].ts);
  assert.match(r.text, /^\/\/ Types of the PostgREST API of Cot tenant apidoc_a/);
  const asJson = await api.request('/rpc/typescript', { token: admin, profile: A });
  assert.equal(asJson.status, 200, said(asJson));
  assert.equal(asJson.body, rows[0].ts, 'without Accept: text/plain, the same text as a JSON string');
  const usage = `import { PostgrestClient } from '@supabase/postgrest-js'
import type { Database } from './types'
const client = new PostgrestClient<Database>('http://localhost:3000', { schema: '${A}' })
export async function main(): Promise<void> {
  const open = await client.from('tasks').select('id, title, priority').eq('priority', 'high')
  if (open.data) {
    const title: string = open.data[0].title
    const priority: 'low' | 'high' | null = open.data[0].priority
    console.log(title, priority)
  }
  const doc = await client.rpc('openapi', { options: { server_url: 'https://api.example.com' } })
  const ts = await client.rpc('typescript')
  const text: string | null = ts.data
  console.log(doc.data, text)
}
`;
  const checked = await typecheck(r.text, { 'usage.ts': usage });
  assert.equal(checked.code, 0, checked.output);
});

test('anonymous requests and tokens of another tenant get neither document', T, async () => {
  for (const path of ['/rpc/openapi', '/rpc/typescript']) {
    const anon = await api.request(path, { profile: A });
    assert.equal(anon.status, 401, `${path} anonymous: ${said(anon)}`);
    assert.equal(anon.body?.code, '42501', said(anon));
    // A user of tenant B asking for tenant A's profile: B's role may not use
    // A's schema.
    const other = await api.request(path, { token: otherTenant, profile: A });
    assert.ok([401, 403].includes(other.status), `${path} as tenant B: ${said(other)}`);
    assert.doesNotMatch(other.text, /tasks|title/, 'nothing of tenant A in the answer');
    // Tenant B's own documents are B's.
    const own = await api.request(path, { token: otherTenant, profile: B });
    assert.equal(own.status, 200, said(own));
    assert.match(own.text, /apidoc_b/);
    assert.doesNotMatch(own.text, /apidoc_a/);
  }
});
