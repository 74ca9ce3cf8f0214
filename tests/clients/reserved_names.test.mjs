// Names users actually have, through the real PostgREST 12.0.2: an entity
// named `user` whose fields are PostgreSQL reserved words (user, group, end,
// from, to, desc), written, read, filtered, ordered and embedded over HTTP
// with a tenant user's JWT, queried through /rpc/query (cot.query), and the
// generated TypeScript for it compiled with tsc --strict.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createDatabase, dropDatabase } from './lib/db.mjs';
import { start } from './lib/postgrest.mjs';
import { typecheck } from './lib/docs_checks.mjs';

const SLUG = 'rw1';
const T = { timeout: 120_000 };

let db;
let su;
let api;
let alice;
let bob;

const said = (r) => `HTTP ${r.status} ${r.text}`;

before(async () => {
  db = await createDatabase('cot_reserved');
  su = await connect(db);
  await su.query(`SELECT cot.create_tenant($1)`, [SLUG]);
  await su.query(`SELECT cot.create_entities($1)`, [
    JSON.stringify([
      {
        tenant: SLUG,
        name: 'group',
        fields: [
          { name: 'name', type: 'text', required: true },
          { name: 'end', type: 'date' },
        ],
        access: { read: 'tenant', create: 'tenant', update: 'tenant', delete: 'tenant' },
      },
      {
        tenant: SLUG,
        name: 'user',
        fields: [
          { name: 'user', type: 'text', required: true, unique: true },
          { name: 'group', type: 'enum', values: ['staff', 'guests'], default: 'staff' },
          { name: 'end', type: 'date' },
          { name: 'from', type: 'timestamp', default: 'now' },
          { name: 'to', type: 'relation', kind: 'many_to_one', target: 'group' },
          { name: 'desc', type: 'text' },
        ],
        access: { read: 'tenant', create: 'tenant', update: 'owner', delete: 'admin' },
      },
      {
        tenant: SLUG,
        name: 'event',
        fields: [
          { name: 'desc', type: 'text', required: true },
          { name: 'group', type: 'relation', kind: 'many_to_one', target: 'group' },
        ],
        access: { read: 'tenant', create: 'tenant', update: 'tenant', delete: 'tenant' },
      },
    ]),
  ]);
  api = await start(db, { schemas: [SLUG], wiring: 'cot', loginRole: 'rw_authenticator' });
  alice = api.jwt({ role: `cot_${SLUG}_user`, tenant: SLUG, sub: 'alice' });
  bob = api.jwt({ role: `cot_${SLUG}_user`, tenant: SLUG, sub: 'bob' });
});

after(async () => {
  await api?.stop();
  await su?.end();
  await dropDatabase(db);
});

const get = (path) => api.request(path, { token: alice, profile: SLUG });

test('rows are written over HTTP to /group and /user', T, async () => {
  const g = await api.request('/group', {
    method: 'POST',
    token: alice,
    profile: SLUG,
    prefer: 'return=representation',
    body: { name: 'admins', end: '2030-01-01' },
  });
  assert.equal(g.status, 201, said(g));
  const groupId = g.body[0].id;
  const u = await api.request('/user', {
    method: 'POST',
    token: alice,
    profile: SLUG,
    prefer: 'return=representation',
    body: [
      { user: 'ada', group: 'staff', end: '2031-01-01', to_id: groupId, desc: 'first' },
      { user: 'bob', group: 'guests', end: '2035-06-30', to_id: null, desc: 'second' },
    ],
  });
  assert.equal(u.status, 201, said(u));
  assert.deepEqual(
    u.body.map((r) => [r.user, r.group, r.owner_id]),
    [
      ['ada', 'staff', 'alice'],
      ['bob', 'guests', 'alice'],
    ],
  );
  assert.ok(u.body.every((r) => typeof r.from === 'string'), said(u));
});

test('filters and select on reserved-word columns', T, async () => {
  let r = await get('/user?user=eq.ada&select=user,group');
  assert.equal(r.status, 200, said(r));
  assert.deepEqual(r.body, [{ user: 'ada', group: 'staff' }]);

  r = await get('/user?group=eq.guests&select=user,desc,end');
  assert.deepEqual(r.body, [{ user: 'bob', desc: 'second', end: '2035-06-30' }], said(r));

  r = await get('/user?end=lt.2032-01-01&from=not.is.null&select=user');
  assert.deepEqual(r.body, [{ user: 'ada' }], said(r));

  r = await get('/user?select=user&order=desc.desc');
  assert.deepEqual(r.body, [{ user: 'bob' }, { user: 'ada' }], said(r));

  r = await get('/user?or=(user.eq.ada,desc.eq.second)&select=user&order=user');
  assert.deepEqual(r.body, [{ user: 'ada' }, { user: 'bob' }], said(r));
});

test('embedding through relations and entities named by reserved words', T, async () => {
  // The entity group, embedded along the foreign key to_id of user.
  let r = await get('/user?select=user,to:group(name,end)&user=eq.ada');
  assert.equal(r.status, 200, said(r));
  assert.deepEqual(r.body, [{ user: 'ada', to: { name: 'admins', end: '2030-01-01' } }]);

  r = await get('/group?select=name,user(user)');
  assert.deepEqual(r.body, [{ name: 'admins', user: [{ user: 'ada' }] }], said(r));

  // By the field's name, through Cot's computed relationship rw1."group"(rw1.event).
  const groupId = (await get('/group?select=id&name=eq.admins')).body[0].id;
  r = await api.request('/event?select=desc,group(name)', {
    method: 'POST',
    token: alice,
    profile: SLUG,
    prefer: 'return=representation',
    body: { desc: 'kick-off', group_id: groupId },
  });
  assert.equal(r.status, 201, said(r));
  assert.deepEqual(r.body, [{ desc: 'kick-off', group: { name: 'admins' } }]);

  // A field with its entity's own name (user in user) hides the row from
  // PostgREST 12's call of a computed relationship: it writes
  // rw1."to"("user"::rw1."user"), and "user" is then the column. Embedding
  // by the field's name fails there (docs/relationships.md, known issues);
  // by the target's name, as above, it works.
  r = await get('/user?select=user,to(name)&user=eq.ada');
  assert.equal(r.status, 400, said(r));
  assert.equal(r.body.code, '22P02', said(r));
});

test('updates by owner and /rpc/query with a where on user', T, async () => {
  let r = await api.request('/user?user=eq.ada', {
    method: 'PATCH',
    token: bob,
    profile: SLUG,
    prefer: 'return=representation',
    body: { desc: 'stolen' },
  });
  assert.equal(r.status, 200, said(r));
  assert.deepEqual(r.body, [], 'bob owns no row: nothing updated');
  r = await api.request('/user?user=eq.ada', {
    method: 'PATCH',
    token: alice,
    profile: SLUG,
    prefer: 'return=representation',
    body: { desc: 'changed', end: '2033-03-03' },
  });
  assert.deepEqual(
    r.body.map((x) => [x.user, x.desc, x.end]),
    [['ada', 'changed', '2033-03-03']],
    said(r),
  );

  r = await api.request('/rpc/query', {
    method: 'POST',
    token: alice,
    profile: SLUG,
    body: {
      entity: 'user',
      query: { select: ['user', 'desc', { to: ['name'] }], where: { user: { eq: 'ada' }, group: 'staff' }, order: ['-end'] },
    },
  });
  assert.equal(r.status, 200, said(r));
  assert.deepEqual(r.body.data, [{ user: 'ada', desc: 'changed', to: { name: 'admins' } }]);
});

test('the generated TypeScript for entity user compiles and types its fields', T, async () => {
  const { rows } = await su.query('SELECT cot.typescript($1) AS ts', [SLUG]);
  const usage = `import { PostgrestClient } from '@supabase/postgrest-js'
import type { Database, Insert, Row } from './types'
const client = new PostgrestClient<Database>('http://localhost:3000', { schema: '${SLUG}' })
export async function main(): Promise<void> {
  const r = await client.from('user').select('user,group,desc').eq('user', 'ada')
  if (r.data) {
    const who: string = r.data[0].user
    const group: 'staff' | 'guests' | null = r.data[0].group
    console.log(who, group, r.data[0].desc)
  }
  const row: Insert<'user'> = { user: 'eve', end: '2030-01-01', from: null, desc: 'x' }
  const end: Row<'user'>['end'] = '2030-01-01'
  console.log(row, end)
}
`;
  const result = await typecheck(rows[0].ts, { 'usage.ts': usage });
  assert.equal(result.code, 0, result.output);
});
