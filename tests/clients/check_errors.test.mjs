// A broken rule over HTTP names the field and its rule: an insert or update
// through the real PostgREST 12.0.2 that breaks a CHECK Cot made (enum values,
// min/max, max_length, pattern, email) answers 400 with code 23514 and
// `details` saying what the field must be, not only a constraint name. After
// a field is renamed, the error names it by its new name. Valid rows are
// written as before.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createDatabase, dropDatabase } from './lib/db.mjs';
import { start } from './lib/postgrest.mjs';

const SLUG = 'chk1';
const T = { timeout: 120_000 };

let db;
let su;
let api;
let user;

const said = (r) => `HTTP ${r.status} ${r.text}`;

before(async () => {
  db = await createDatabase('cot_check_errors');
  su = await connect(db);
  await su.query('SELECT cot.create_tenant($1)', [SLUG]);
  await su.query('SELECT cot.create_entity($1)', [
    JSON.stringify({
      tenant: SLUG,
      name: 'tasks',
      fields: [
        { name: 'title', type: 'text', required: true, max_length: 10 },
        { name: 'priority', type: 'enum', values: ['low', 'high'], default: 'low' },
        { name: 'points', type: 'integer', min: 0, max: 13 },
        { name: 'code', type: 'text', pattern: '^[A-Z]{3}$' },
        { name: 'contact', type: 'email' },
        { name: 'tags', type: 'array', items: 'enum', values: ['a', 'b'] },
      ],
      access: { read: 'tenant', create: 'tenant', update: 'tenant', delete: 'tenant' },
    }),
  ]);
  api = await start(db, { schemas: [SLUG], wiring: 'cot', loginRole: 'chk_authenticator' });
  user = api.jwt({ role: `cot_${SLUG}_user`, tenant: SLUG, sub: 'ann' });
});

after(async () => {
  await api?.stop();
  await su?.end();
  await dropDatabase(db);
});

const insert = (row) => api.request('/tasks', { method: 'POST', token: user, profile: SLUG, body: row, prefer: 'return=representation' });

test('a valid row is written as before', T, async () => {
  const r = await insert({ title: 'ok', priority: 'high', points: 13, code: 'ABC', contact: 'a@example.com', tags: ['a'] });
  assert.equal(r.status, 201, said(r));
  assert.equal(r.body[0].priority, 'high');
});

test('each broken rule: 400, 23514, the field and its rule in details', T, async () => {
  const cases = [
    [{ title: 'x', priority: 'urgent' }, 'priority', '"priority" must be one of "low", "high".'],
    [{ title: 'x', points: 14 }, 'points', '"points" must be at most 13.'],
    [{ title: 'x', points: -1 }, 'points', '"points" must be at least 0.'],
    [{ title: 'a title that is too long' }, 'title', '"title" must be at most 10 characters long.'],
    [{ title: 'x', code: 'abc' }, 'code', '"code" must be text matching the pattern "^[A-Z]{3}$".'],
    [{ title: 'x', contact: 'not an address' }, 'contact', '"contact" must be a valid email address.'],
    [{ title: 'x', tags: ['a', 'z'] }, 'tags', '"tags" must be a list whose items are each one of "a", "b".'],
  ];
  for (const [row, field, details] of cases) {
    const r = await insert(row);
    assert.equal(r.status, 400, `${JSON.stringify(row)}: ${said(r)}`);
    assert.equal(r.body.code, '23514', said(r));
    assert.equal(r.body.message, `new row for "tasks" breaks the rule of field "${field}"`, said(r));
    assert.equal(r.body.details, details, said(r));
    assert.match(r.body.hint, /rpc\/openapi/, said(r));
  }
});

test('an update breaking a rule says the same', T, async () => {
  const r = await api.request('/tasks?title=eq.ok', { method: 'PATCH', token: user, profile: SLUG, body: { points: 99 } });
  assert.equal(r.status, 400, said(r));
  assert.equal(r.body.details, '"points" must be at most 13.', said(r));
});

test('a renamed field is named by its new name', T, async () => {
  const { rows } = await su.query(`SELECT cot.entity($1, 'tasks') AS d`, [SLUG]);
  const def = rows[0].d;
  delete def.referenced_by;
  def.fields.find((f) => f.name === 'points').name = 'estimate';
  await su.query('SELECT cot.alter_entity($1)', [JSON.stringify(def)]);
  await su.query(`NOTIFY pgrst, 'reload schema'`);
  let r;
  for (let i = 0; i < 50; i++) {
    r = await insert({ title: 'x', estimate: 20 });
    if (r.status !== 400 || r.body.code !== 'PGRST204') break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(r.status, 400, said(r));
  assert.equal(r.body.details, '"estimate" must be at most 13.', said(r));
});
