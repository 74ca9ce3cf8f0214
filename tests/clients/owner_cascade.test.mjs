// Owner rules and ON DELETE CASCADE, through the real PostgREST 12.0.2 as two
// users of one tenant (docs/security-model.md, "Cascades pass owner rules"):
// PostgreSQL runs a foreign key's action as the table's owner, so deleting a
// parent deletes every child that points at it, including children an owner
// rule keeps the deleting user from deleting one by one. `restrict` (the
// default) refuses the parent's delete while such children exist, and
// `set_null` keeps them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createDatabase, dropDatabase } from './lib/db.mjs';
import { start } from './lib/postgrest.mjs';

const SLUG = 'casc1';
const T = { timeout: 120_000 };

let db;
let su;
let api;
let alice;
let bob;

const said = (r) => `HTTP ${r.status} ${r.text}`;
const owned = { read: 'tenant', create: 'tenant', update: 'owner', delete: 'owner' };

before(async () => {
  db = await createDatabase('cot_owner_cascade');
  su = await connect(db);
  await su.query('SELECT cot.create_tenant($1)', [SLUG]);
  await su.query('SELECT cot.create_entity($1)', [
    JSON.stringify({ tenant: SLUG, name: 'projects', fields: [{ name: 'name', type: 'text' }], access: owned }),
  ]);
  for (const [name, onDelete] of [['tasks', 'cascade'], ['notes', 'restrict'], ['links', 'set_null']]) {
    await su.query('SELECT cot.create_entity($1)', [
      JSON.stringify({
        tenant: SLUG,
        name,
        fields: [
          { name: 'title', type: 'text' },
          { name: 'project', type: 'relation', kind: 'many_to_one', target: 'projects', on_delete: onDelete },
        ],
        access: owned,
      }),
    ]);
  }
  api = await start(db, { schemas: [SLUG], wiring: 'cot', loginRole: 'casc_authenticator' });
  alice = api.jwt({ role: `cot_${SLUG}_user`, tenant: SLUG, sub: 'alice' });
  bob = api.jwt({ role: `cot_${SLUG}_user`, tenant: SLUG, sub: 'bob' });
});

after(async () => {
  await api?.stop();
  await su?.end();
  await dropDatabase(db);
});

const post = async (token, path, body) => {
  const r = await api.request(path, { method: 'POST', token, profile: SLUG, body, prefer: 'return=representation' });
  assert.equal(r.status, 201, said(r));
  return r.body[0];
};
const del = (token, path) => api.request(path, { method: 'DELETE', token, profile: SLUG, prefer: 'return=representation' });
const count = async (table, id) =>
  (await su.query(`SELECT count(*)::int AS n FROM tenant_${SLUG}.${table} WHERE id = $1`, [id])).rows[0].n;

test('cascade: deleting her project deletes bob\'s task, which she cannot delete herself', T, async () => {
  const project = await post(alice, '/projects', { name: 'Alice\'s' });
  const task = await post(bob, '/tasks', { title: 'Bob\'s task', project_id: project.id });
  // The owner rule holds for a direct delete: nothing of bob's is touched.
  const direct = await del(alice, `/tasks?id=eq.${task.id}`);
  assert.equal(direct.status, 200, said(direct));
  assert.deepEqual(direct.body, []);
  assert.equal(await count('tasks', task.id), 1, 'bob\'s task is still there');
  // The cascade passes it: the foreign key's action runs as the table owner.
  const parent = await del(alice, `/projects?id=eq.${project.id}`);
  assert.equal(parent.status, 200, said(parent));
  assert.equal(parent.body.length, 1);
  assert.equal(await count('tasks', task.id), 0, 'bob\'s task went with alice\'s project');
});

test('restrict: her delete is refused while bob\'s note points at the project', T, async () => {
  const project = await post(alice, '/projects', { name: 'Kept' });
  const note = await post(bob, '/notes', { title: 'Bob\'s note', project_id: project.id });
  const parent = await del(alice, `/projects?id=eq.${project.id}`);
  assert.equal(parent.status, 409, said(parent));
  assert.equal(parent.body.code, '23503', said(parent));
  assert.equal(await count('notes', note.id), 1);
  assert.equal(await count('projects', project.id), 1);
});

test('set_null: bob\'s link is kept, without its project', T, async () => {
  const project = await post(alice, '/projects', { name: 'Dropped' });
  const link = await post(bob, '/links', { title: 'Bob\'s link', project_id: project.id });
  const parent = await del(alice, `/projects?id=eq.${project.id}`);
  assert.equal(parent.status, 200, said(parent));
  const { rows } = await su.query(`SELECT owner_id, project_id FROM tenant_${SLUG}.links WHERE id = $1`, [link.id]);
  assert.deepEqual(rows, [{ owner_id: 'bob', project_id: null }]);
});
