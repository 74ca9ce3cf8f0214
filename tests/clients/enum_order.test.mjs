// Enums in their declared order, through the real PostgREST 12.0.2
// (docs/query.md, "Enums in their declared order"): an enum is text, so
// PostgREST's `order=priority` sorts it alphabetically; cot.query over
// /rpc/query sorts it by its declared values with {"field", "by": "values"},
// both ways and across pages (the cursor holds the value's place).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createDatabase, dropDatabase } from './lib/db.mjs';
import { start } from './lib/postgrest.mjs';

const SLUG = 'enord';
const T = { timeout: 120_000 };

let db;
let su;
let api;
let user;

const said = (r) => `HTTP ${r.status} ${r.text}`;

before(async () => {
  db = await createDatabase('cot_enum_order');
  su = await connect(db);
  await su.query('SELECT cot.create_tenant($1)', [SLUG]);
  await su.query('SELECT cot.create_entity($1)', [
    JSON.stringify({
      tenant: SLUG,
      name: 'tasks',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'priority', type: 'enum', values: ['low', 'medium', 'high', 'urgent'] },
      ],
      access: { read: 'tenant', create: 'tenant' },
    }),
  ]);
  await su.query(`INSERT INTO ${SLUG}.tasks (title, priority)
                  VALUES ('a', 'high'), ('b', 'low'), ('c', 'urgent'), ('d', 'medium'), ('e', NULL), ('f', 'low')`);
  api = await start(db, { schemas: [SLUG], wiring: 'cot', loginRole: 'enord_authenticator' });
  user = api.jwt({ role: `cot_${SLUG}_user`, tenant: SLUG, sub: 'ann' });
});

after(async () => {
  await api?.stop();
  await su?.end();
  await dropDatabase(db);
});

const query = (q) =>
  api.request('/rpc/query', { method: 'POST', token: user, profile: SLUG, body: { entity: 'tasks', query: q } });

test('PostgREST orders an enum as text: alphabetically', T, async () => {
  const r = await api.request('/tasks?select=priority&order=priority.asc.nullslast,title', { token: user, profile: SLUG });
  assert.equal(r.status, 200, said(r));
  assert.deepEqual(r.body.map((t) => t.priority), ['high', 'low', 'low', 'medium', 'urgent', null]);
});

test('cot.query orders it by its declared values when asked, either way', T, async () => {
  const up = await query({ select: ['title', 'priority'], order: [{ field: 'priority', by: 'values' }, 'title'] });
  assert.equal(up.status, 200, said(up));
  assert.deepEqual(up.body.data.map((t) => t.priority), ['low', 'low', 'medium', 'high', 'urgent', null]);
  const down = await query({ select: ['priority'], order: [{ field: 'priority', by: 'values', dir: 'desc' }] });
  assert.equal(down.status, 200, said(down));
  assert.deepEqual(down.body.data.map((t) => t.priority), [null, 'urgent', 'high', 'medium', 'low', 'low']);
  const plain = await query({ select: ['priority'], order: ['priority', 'title'] });
  assert.deepEqual(plain.body.data.map((t) => t.priority), ['high', 'low', 'low', 'medium', 'urgent', null],
    'without "by", the same alphabetical order as PostgREST');
});

test('pages follow the declared order: the cursor holds the value\'s place', T, async () => {
  const seen = [];
  let cursor;
  for (let i = 0; i < 10; i++) {
    const q = { select: ['title', 'priority'], order: [{ field: 'priority', by: 'values' }], limit: 2 };
    if (cursor) q.cursor = cursor;
    const r = await query(q);
    assert.equal(r.status, 200, said(r));
    seen.push(...r.body.data.map((t) => t.priority));
    cursor = r.body.next_cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, ['low', 'low', 'medium', 'high', 'urgent', null]);
});

test('"by": "values" on a field that is not an enum: 400 with a hint', T, async () => {
  const r = await query({ order: [{ field: 'title', by: 'values' }] });
  assert.equal(r.status, 400, said(r));
  assert.match(r.body.message, /is not an enum/);
});
