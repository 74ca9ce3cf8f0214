// Wake-ups of the change log (docs/changes.md, src/change_wakeups.rs): with
// cot preloaded, a writing transaction sends NOTIFY cot_changes only while a
// session that called cot.listen_changes() lasts; a plain LISTEN alone hears
// nothing; cot.unlisten_changes(), the session's end and cot.change_notify =
// off stop them. Real cluster with shared_preload_libraries.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './lib/cluster.mjs';

const DB = 'wakeups';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('change log wake-ups with cot preloaded', () => {
  let cluster;
  let writer;

  // The notifications `client` gets (channel and payload) while one row is
  // written in its own transaction.
  const heard = async (client) => {
    const got = [];
    const on = (n) => got.push([n.channel, n.payload]);
    client.on('notification', on);
    try {
      await writer.query('INSERT INTO tenant_wk.notes (title) VALUES ($1)', ['x']);
      await sleep(300);
      return got;
    } finally {
      client.off('notification', on);
    }
  };

  before(async () => {
    cluster = await startCluster({ shared_preload_libraries: 'cot' });
    const admin = await cluster.connect();
    await admin.query(`CREATE DATABASE ${DB}`);
    await admin.end();
    writer = await cluster.connect(DB);
    await writer.query('CREATE EXTENSION cot');
    await writer.query(`SELECT cot.create_tenant('wk')`);
    await writer.query('SELECT cot.create_entity($1)', [{
      tenant: 'wk', name: 'notes', history: true, fields: [{ name: 'title', type: 'text' }],
    }]);
  }, { timeout: 120_000 });

  after(async () => {
    await writer?.end().catch(() => {});
    await cluster?.stop();
  });

  test('a plain LISTEN alone is not woken: nobody asked with cot.listen_changes()', async () => {
    const l = await cluster.connect(DB);
    try {
      await l.query('LISTEN cot_changes');
      assert.deepEqual(await heard(l), []);
      const { rows } = await writer.query(`SELECT count(*)::int AS n FROM tenant_wk._changes`);
      assert.equal(rows[0].n, 1, 'the change is logged all the same');
    } finally {
      await l.end();
    }
  });

  test('cot.listen_changes() brings the wake-ups, for every listener, until it ends', async () => {
    const l = await cluster.connect(DB);
    const plain = await cluster.connect(DB);
    try {
      const { rows } = await l.query('SELECT cot.listen_changes() AS counted');
      assert.equal(rows[0].counted, true, 'preloaded: writers count listeners');
      await plain.query('LISTEN cot_changes');
      assert.deepEqual(await heard(l), [['cot_changes', 'wk']]);
      assert.deepEqual(await heard(plain), [['cot_changes', 'wk']], 'a plain LISTEN hears them too meanwhile');
      await l.query('SELECT cot.listen_changes()');
      await l.query('SELECT cot.unlisten_changes()');
      assert.deepEqual(await heard(plain), [], 'called twice, counted once: unlisten_changes ends it');
      await l.query('SELECT cot.listen_changes()');
      await writer.query('SET cot.change_notify = off');
      assert.deepEqual(await heard(l), [], 'cot.change_notify off: no wake-up');
      await writer.query('RESET cot.change_notify');
      assert.deepEqual(await heard(plain), [['cot_changes', 'wk']]);
    } finally {
      await l.end();
    }
    await sleep(200); // the ended session uncounts itself as it exits
    try {
      assert.deepEqual(await heard(plain), [], 'the listener\'s session ended: no more wake-ups');
    } finally {
      await plain.end();
    }
  });
});
