// pg_dump and restore of a database that uses Cot.
//
// The traps this guards against (docs/security-model.md): meta rows
// that pg_dump skips because the tables are extension members but not
// registered with pg_extension_config_dump; a ledger sequence that restores at
// 1 so the next change hits 23505; rows seeded by the install script that make
// the restore's COPY collide; OIDs stored in meta rows that are wrong after a
// restore; API views that lose security_invoker; system timestamps rewritten
// by the trigger during the restore. The test dumps a real database with
// tenants, entities and rows, restores it into a fresh database, compares, and
// then keeps using Cot in the restored copy.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeAll, connect, createDatabase, dropDatabase } from './lib/db.mjs';

const BIN = '/usr/lib/postgresql/15/bin';
const TENANT = 'dumped';

let source;
let restored;
let workdir;

before(async () => {
  source = await createDatabase('cot_dump_src');
  workdir = mkdtempSync(join(tmpdir(), 'cot-dump-'));
});

after(async () => {
  // The restored copy shares the tenant's (cluster-wide) roles: drop it first,
  // then let the source drop the tenant and its roles.
  await dropDatabase(restored);
  if (source) {
    const c = await connect(source);
    try {
      await c.query('SELECT cot.drop_tenant($1, true)', [TENANT]);
    } catch {
      // The tenant may not exist if the test failed early.
    } finally {
      await c.end();
    }
  }
  await dropDatabase(source);
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

const META = `
  SELECT (SELECT jsonb_agg(to_jsonb(t) ORDER BY slug) FROM cot.tenants t) AS tenants,
         (SELECT jsonb_agg(to_jsonb(e) ORDER BY id) FROM cot.entities e) AS entities,
         (SELECT jsonb_agg(to_jsonb(f) ORDER BY id) FROM cot.fields f) AS fields,
         (SELECT jsonb_agg(to_jsonb(m) ORDER BY id) FROM cot.migrations m) AS migrations`;

const ROWS = `SELECT id, title, status, total, tags, created_at, updated_at FROM ${TENANT}.orders ORDER BY id`;

test('a dumped and restored database keeps its model, its rows and a working Cot', async () => {
  const src = await connect(source);
  let before;
  let rowsBefore;
  try {
    await src.query(`SELECT cot.create_tenant($1, '{"name": "Dumped Inc"}')`, [TENANT]);
    for (const def of [
      {
        tenant: TENANT,
        name: 'customers',
        fields: [{ name: 'name', type: 'text', required: true }, { name: 'email', type: 'email', unique: true }],
      },
      {
        tenant: TENANT,
        name: 'orders',
        fields: [
          { name: 'title', type: 'text', required: true, max_length: 200 },
          { name: 'status', type: 'enum', values: ['draft', 'paid'], default: 'draft' },
          { name: 'total', type: 'decimal', precision: 12, scale: 2, min: 0 },
          { name: 'tags', type: 'array', items: 'text' },
        ],
        indexes: [{ fields: ['status', 'created_at'] }],
      },
    ]) {
      await src.query('SELECT cot.create_entity($1::jsonb)', [JSON.stringify(def)]);
    }
    // Rows written in an earlier transaction, so their timestamps differ from
    // the restore's now(): a trigger firing during the restore would show.
    await src.query(`INSERT INTO ${TENANT}.orders (title, total, tags) VALUES ('a', 1.50, '{x}'), ('b', 2, '{}')`);
    await src.query(`UPDATE ${TENANT}.orders SET status = 'paid' WHERE title = 'b'`);
    before = (await src.query(META)).rows[0];
    rowsBefore = (await src.query(ROWS)).rows;
  } finally {
    await src.end();
  }
  assert.equal(rowsBefore.length, 2);
  assert.equal(before.entities.length, 2);

  const file = join(workdir, 'cot.dump');
  const env = { ...process.env };
  execFileSync(`${BIN}/pg_dump`, ['-Fc', '-f', file, '-d', source], { env, stdio: ['ignore', 'ignore', 'pipe'] });

  restored = `cot_dump_dst_${process.pid}_${Date.now().toString(36)}`;
  const admin = await connect(process.env.PGDATABASE ?? 'postgres');
  try {
    await admin.query(`CREATE DATABASE ${restored}`);
  } finally {
    await admin.end();
  }
  // --exit-on-error: any failed statement (a COPY colliding with seeded rows,
  // a missing dependency) fails the test instead of being counted and skipped.
  execFileSync(`${BIN}/pg_restore`, ['--exit-on-error', '-d', restored, file], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });

  const dst = await connect(restored);
  try {
    const after = (await dst.query(META)).rows[0];
    assert.deepEqual(after, before, 'meta-tables and ledger are restored unchanged');
    assert.deepEqual((await dst.query(ROWS)).rows, rowsBefore, 'rows and their system timestamps are restored unchanged');

    const { rows: opts } = await dst.query(
      `SELECT c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = 'orders'`,
      [TENANT],
    );
    assert.deepEqual(opts[0].reloptions, ['security_invoker=true'], 'the API view keeps security_invoker');

    // Constraints and the trigger came back: a bad row is refused, a good one
    // gets Cot's system columns.
    await assert.rejects(dst.query(`INSERT INTO ${TENANT}.orders (title, status) VALUES ('c', 'lost')`), { code: '23514' });
    const { rows: ins } = await dst.query(
      `INSERT INTO ${TENANT}.orders (title, created_at) VALUES ('c', '2000-01-01') RETURNING created_at`,
    );
    assert.notEqual(new Date(ins[0].created_at).getUTCFullYear(), 2000, 'created_at is set by the trigger');

    // Cot keeps working in the copy: the ledger sequence continues (no 23505),
    // lookups by name and id work, a new entity and a drop are recorded.
    await dst.query('SELECT cot.create_entity($1::jsonb)', [
      JSON.stringify({ tenant: TENANT, name: 'invoices', fields: [{ name: 'number', type: 'integer', unique: true }] }),
    ]);
    await dst.query('SELECT cot.drop_entity($1, $2)', [TENANT, 'customers']);
    const { rows: names } = await dst.query('SELECT name FROM cot.entities($1) ORDER BY name', [TENANT]);
    assert.deepEqual(names.map((r) => r.name), ['invoices', 'orders']);
    const { rows: ledger } = await dst.query('SELECT id, operation FROM cot.migrations ORDER BY id');
    const lastBefore = before.migrations.at(-1).id;
    assert.deepEqual(
      ledger.slice(-2).map((r) => r.operation),
      ['create_entity', 'drop_entity'],
    );
    assert.ok(ledger.slice(-2).every((r) => BigInt(r.id) > BigInt(lastBefore)), 'new ledger ids follow the restored ones');
    const def = (await dst.query('SELECT cot.entity($1, $2) AS d', [TENANT, 'orders'])).rows[0].d;
    assert.equal(def.id, before.entities.find((e) => e.name === 'orders').id, 'ids are stable across the restore');
  } finally {
    await closeAll([dst]);
  }
});
