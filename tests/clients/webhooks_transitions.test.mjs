// Webhooks for workflow transitions (docs/webhooks.md, docs/workflows.md):
// `orders.transition.pay` gets only the `pay` transitions,
// `orders.transition.*` every transition, each signed, in order per record,
// with `data.transition` naming the transition, its field, from, to and the
// note given to cot.transition, and the state field as record/old_record; a plain update subscription gets none of
// them, since the entity has no history (a transition is logged whether or
// not it has). Real cluster with the delivery worker, real receivers.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './lib/cluster.mjs';
import { receiver } from './lib/receiver.mjs';

const DB = 'hooks_wf';
const T = { timeout: 90_000 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('webhooks for workflow transitions', () => {
  let cluster;
  let c;
  const receivers = [];

  const make = async () => {
    const r = await receiver();
    receivers.push(r);
    return r;
  };
  const hook = async (r, events) => {
    const w = (await c.query(`SELECT cot.create_webhook('wfshop', $1) AS w`, [{ url: r.url, events }])).rows[0].w;
    r.setSecret(w.secret);
    return w;
  };

  before(async () => {
    cluster = await startCluster({
      shared_preload_libraries: 'cot',
      'cot.worker_databases': DB,
      'cot.webhook_allow_private': 'on', // the receivers listen on loopback
      'cot.webhook_poll_interval': '20ms',
    });
    const admin = await cluster.connect();
    await admin.query(`CREATE DATABASE ${DB}`);
    await admin.end();
    c = await cluster.connect(DB);
    await c.query('CREATE EXTENSION cot');
    await c.query(`SELECT cot.create_tenant('wfshop')`);
    await c.query('SELECT cot.create_entity($1)', [{
      tenant: 'wfshop', name: 'orders',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'status', type: 'state', states: ['draft', 'paid', 'shipped'], initial: 'draft',
          transitions: [
            { name: 'pay', from: 'draft', to: 'paid', who: 'tenant' },
            { name: 'ship', from: 'paid', to: 'shipped', who: 'tenant' },
          ] },
      ],
    }]);
    for (let i = 0; ; i++) {
      const { rows } = await c.query(`SELECT 1 FROM pg_stat_activity WHERE backend_type = 'cot webhooks' AND datname = $1`, [DB]);
      if (rows.length) break;
      if (i > 400) throw new Error('the webhook worker did not start');
      await sleep(50);
    }
  }, { timeout: 120_000 });

  after(async () => {
    for (const r of receivers) await r.close();
    await c?.end().catch(() => {});
    await cluster?.stop();
  });

  test('a transition is an event of its own, with its name, states and note', T, async () => {
    const payOnly = await make();
    const every = await make();
    const updates = await make();
    await hook(payOnly, ['orders.transition.pay']);
    await hook(every, ['orders.transition.*']);
    await hook(updates, ['orders.update', 'orders.insert']);

    const ids = [];
    for (const title of ['first', 'second']) {
      ids.push((await c.query('INSERT INTO tenant_wfshop.orders (title) VALUES ($1) RETURNING id', [title])).rows[0].id);
    }
    // Through cot.transition (with a note) and by a plain UPDATE of the state.
    await c.query(`SELECT cot.transition('wfshop', 'orders', $1, 'pay', 'paid by card')`, [ids[0]]);
    await c.query(`UPDATE tenant_wfshop.orders SET status = 'paid' WHERE id = $1`, [ids[1]]);
    await c.query(`SELECT cot.transition('wfshop', 'orders', $1, 'ship', NULL)`, [ids[0]]);

    await payOnly.until((h) => h.length >= 2);
    await every.until((h) => h.length >= 3);
    await sleep(500); // nothing more arrives
    for (const r of [payOnly, every, updates]) {
      for (const h of r.hits) assert.ok(h.verified, h.error);
    }

    assert.deepEqual(payOnly.hits.map((h) => [h.json.type, h.json.data.id]).sort(), [
      ['orders.transition.pay', ids[0]],
      ['orders.transition.pay', ids[1]],
    ].sort());
    const first = payOnly.hits.find((h) => h.json.data.id === ids[0]).json.data;
    assert.equal(first.op, 'transition');
    assert.deepEqual(first.transition, { name: 'pay', field: 'status', from: 'draft', to: 'paid', note: 'paid by card' });
    // As for an update, only what changed: the state field, on both sides.
    assert.deepEqual(first.record, { status: 'paid' });
    assert.deepEqual(first.old_record, { status: 'draft' });

    // Per record, in the order they were made.
    const ofFirst = every.hits.filter((h) => h.json.data.id === ids[0]).map((h) => h.json.type);
    assert.deepEqual(ofFirst, ['orders.transition.pay', 'orders.transition.ship']);
    const ship = every.hits.find((h) => h.json.type === 'orders.transition.ship').json.data.transition;
    assert.deepEqual(ship, { name: 'ship', field: 'status', from: 'paid', to: 'shipped' }); // no note: no key

    // The entity keeps no history: its inserts and updates are not logged,
    // and a transition is never sent as an update.
    assert.deepEqual(updates.hits.map((h) => h.json.type), []);
  });
});
