// cot.query caches each tenant's model per backend. A change made in another
// session must reach it: every ledger entry sends a relcache invalidation of
// cot.model_signal, and the cache is dropped when it arrives. Two real
// sessions: A queries (and caches), B renames a field, A queries again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeAll, connect, createDatabase, dropDatabase } from './lib/db.mjs';

let db;
let a;
let b;

before(async () => {
  db = await createDatabase('cot_query_cache');
  [a, b] = [await connect(db), await connect(db)];
  await b.query(`SELECT cot.create_tenant('qcache')`);
  await b.query(`SELECT cot.create_entity('{"tenant": "qcache", "name": "notes", "fields": [{"name": "body", "type": "text"}]}')`);
  await b.query(`INSERT INTO tenant_qcache.notes (body) VALUES ('kept')`);
});

after(async () => {
  await b?.query(`SELECT cot.drop_tenant('qcache', true)`).catch(() => {});
  await closeAll([a, b].filter(Boolean));
  if (db) await dropDatabase(db);
});

const page = async (conn, select) =>
  (await conn.query(`SELECT cot.query('qcache', 'notes', $1::jsonb) AS p`, [JSON.stringify({ select })])).rows[0].p.data;

test("a change in another session reaches a backend's cached model", async () => {
  assert.deepEqual(await page(a, ['body']), [{ body: 'kept' }], 'A reads, and caches the model');
  assert.deepEqual(await page(a, ['body']), [{ body: 'kept' }], 'A reads again from the cache');
  await b.query(`SELECT cot.alter_entity(jsonb_set(cot.entity('qcache', 'notes') - 'referenced_by', '{fields,0,name}', '"text"'))`);
  assert.deepEqual(await page(a, ['text']), [{ text: 'kept' }], 'A sees the renamed field at once');
  await assert.rejects(page(a, ['body']), (err) => err.code === '42703', 'and no longer the old name');
  await b.query(`SELECT cot.create_entity('{"tenant": "qcache", "name": "tags", "fields": [{"name": "label", "type": "text"}]}')`);
  const tags = (await a.query(`SELECT cot.query('qcache', 'tags') AS p`)).rows[0].p;
  assert.deepEqual(tags.data, [], 'a new entity is queryable from A too');
});
