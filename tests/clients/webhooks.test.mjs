// Webhooks end to end: a cluster of its own with cot in
// shared_preload_libraries and a delivery worker for database `hooks`;
// receivers are real HTTP(S) servers on loopback that verify every
// signature with the published `standardwebhooks` package. Rows are written
// with plain SQL (the change log records every writer), and what arrives is
// compared with what was written, per change id.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, chmodSync } from 'node:fs';
import net from 'node:net';
import { Webhook } from 'standardwebhooks';
import { startCluster } from './lib/cluster.mjs';
import { receiver } from './lib/receiver.mjs';

const DB = 'hooks';
const T = { timeout: 90_000 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `f` until it returns something truthy.
async function until(f, ms = 20_000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what} not met in ${ms} ms`);
    await sleep(50);
  }
}

describe('webhooks delivered by the background worker', () => {
  let cluster;
  let c;
  const receivers = [];

  const hook = async (options) => (await c.query(`SELECT cot.create_webhook('shop', $1) AS w`, [options])).rows[0].w;
  const log = async (options) => (await c.query(`SELECT cot.webhook_deliveries('shop', $1) AS d`, [options])).rows[0].d;
  const drop = (w) => c.query('SELECT cot.delete_webhook($1)', [w.id]);
  const insert = async (title, qty = 1) =>
    (await c.query('INSERT INTO tenant_shop.orders (title, qty) VALUES ($1, $2) RETURNING id', [title, qty])).rows[0].id;
  const make = async (opts) => {
    const r = await receiver(opts);
    receivers.push(r);
    return r;
  };
  const workerPid = async (client = c) =>
    (await client.query(`SELECT pid FROM pg_stat_activity WHERE backend_type = 'cot webhooks' AND datname = $1`, [DB]))
      .rows[0]?.pid;
  const reload = async (sql) => {
    await c.query(sql);
    await c.query('SELECT pg_reload_conf()');
    await sleep(500);
  };

  before(async () => {
    cluster = await startCluster({
      shared_preload_libraries: 'cot',
      'cot.worker_databases': DB,
      // The receivers listen on loopback.
      'cot.webhook_allow_private': 'on',
      'cot.webhook_retry_base': '200ms',
      'cot.webhook_retry_cap': '1s',
      'cot.webhook_max_attempts': '3',
      'cot.webhook_timeout': '2s',
      'cot.webhook_poll_interval': '20ms',
    });
    const admin = await cluster.connect();
    await admin.query(`CREATE DATABASE ${DB}`);
    await admin.end();
    c = await cluster.connect(DB);
    await c.query('CREATE EXTENSION cot');
    await c.query(`SELECT cot.create_tenant('shop')`);
    await c.query(`SELECT cot.create_entity($1)`, [{
      tenant: 'shop', name: 'orders', history: true,
      fields: [{ name: 'title', type: 'text' }, { name: 'qty', type: 'integer' }],
    }]);
    await c.query(`SELECT cot.create_entity($1)`, [{
      tenant: 'shop', name: 'customers', history: true, fields: [{ name: 'name', type: 'text' }],
    }]);
    await until(() => workerPid(), 20_000, 'the worker runs');
  }, { timeout: 120_000 });

  after(async () => {
    for (const r of receivers) await r.close();
    await c?.end().catch(() => {});
    if (cluster) {
      if (process.env.COT_KEEP_CLUSTER !== '1') await cluster.stop();
      else console.log(`cluster left in ${cluster.dir}`);
    }
  });

  test('a change is delivered once, signed, in the Standard Webhooks shape, and logged', T, async () => {
    const r = await make();
    const w = await hook({ url: r.url, events: ['orders.insert'] });
    assert.match(w.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    r.setSecret(w.secret);
    const id = await insert('first', 2);
    await r.until((h) => h.length >= 1);
    const hit = r.hits[0];
    assert.ok(hit.verified, hit.error);
    assert.equal(hit.headers['content-type'], 'application/json');
    assert.equal(hit.json.type, 'orders.insert');
    assert.ok(!Number.isNaN(Date.parse(hit.json.timestamp)), hit.json.timestamp);
    const d = hit.json.data;
    assert.equal(d.tenant, 'shop');
    assert.equal(d.entity, 'orders');
    assert.equal(d.op, 'insert');
    assert.equal(d.id, id);
    assert.equal(d.record.title, 'first');
    assert.equal(d.record.qty, 2);
    assert.equal(d.old_record, null);
    assert.equal(typeof d.change_id, 'number');
    // Another secret does not verify it.
    const other = (await hook({ url: r.url, events: ['customers.delete'] })).secret;
    assert.throws(() => new Webhook(other).verify(hit.body, hit.headers));
    const [entry] = await until(async () => {
      const l = await log({ webhook: w.id });
      return l.length === 1 && l[0].state === 'delivered' && l;
    });
    assert.equal(entry.id, hit.headers['webhook-id']);
    assert.equal(entry.attempts, 1);
    assert.equal(entry.last_status, 204);
    assert.equal(entry.change_id, d.change_id);
    assert.ok(entry.latency_ms >= 0);
    await sleep(300);
    assert.equal(r.hits.length, 1, 'delivered once');
    // Replay: the same message again, under the same webhook-id.
    await c.query('SELECT cot.replay_webhook($1)', [entry.id]);
    await r.until((h) => h.length >= 2);
    assert.equal(r.hits[1].headers['webhook-id'], entry.id);
    assert.ok(r.hits[1].verified, r.hits[1].error);
    assert.equal(r.hits[1].body, hit.body);
    await drop(w);
  });

  test('events pick what is sent: <entity>.<op>, <entity>.*, and the secret listing hides secrets', T, async () => {
    const r = await make();
    const w = await hook({ url: r.url, events: ['orders.update', 'customers.*'] });
    r.setSecret(w.secret);
    const id = await insert('filtered');
    await c.query('UPDATE tenant_shop.orders SET qty = 5 WHERE id = $1', [id]);
    await c.query('DELETE FROM tenant_shop.orders WHERE id = $1', [id]);
    await c.query(`INSERT INTO tenant_shop.customers (name) VALUES ('Ada')`);
    await r.until((h) => h.length >= 2);
    await sleep(500);
    assert.deepEqual(r.hits.map((h) => h.json.type).sort(), ['customers.insert', 'orders.update']);
    assert.ok(r.hits.every((h) => h.verified));
    const update = r.hits.find((h) => h.json.type === 'orders.update').json.data;
    assert.equal(update.record.qty, 5);
    assert.equal(update.old_record.qty, 1);
    const listed = (await c.query(`SELECT cot.webhooks('shop') AS l`)).rows[0].l;
    assert.ok(listed.length >= 1);
    assert.ok(listed.every((x) => !('secret' in x)), 'no secret in the listing');
    await drop(w);
  });

  test('5xx and 429 are retried (Retry-After honoured); a record waits for its earlier change', T, async () => {
    const seen = new Map();
    const r = await make({
      answer: (hit) => {
        const n = (seen.get(hit.headers['webhook-id']) ?? 0) + 1;
        seen.set(hit.headers['webhook-id'], n);
        if (hit.json?.type === 'orders.insert' && n === 1) return { status: 500, body: 'try later' };
        if (hit.json?.type === 'orders.update' && n === 1) return { status: 429, headers: { 'retry-after': '1' } };
        return { status: 200 };
      },
    });
    const w = await hook({ url: r.url, events: ['orders.*'] });
    r.setSecret(w.secret);
    const id = await insert('retried');
    await c.query('UPDATE tenant_shop.orders SET qty = 7 WHERE id = $1', [id]);
    await r.until((h) => h.length >= 4);
    const kinds = r.hits.map((h) => h.json.type);
    assert.deepEqual(kinds, ['orders.insert', 'orders.insert', 'orders.update', 'orders.update'],
      'the update waits until the insert is delivered');
    assert.ok(r.hits.every((h) => h.verified));
    assert.equal(r.hits[0].headers['webhook-id'], r.hits[1].headers['webhook-id']);
    const waited = r.hits[3].at - r.hits[2].at;
    assert.ok(waited >= 950, `Retry-After: 1 honoured (waited ${waited} ms)`);
    const l = await until(async () => {
      const x = await log({ webhook: w.id });
      return x.length === 2 && x.every((e) => e.state === 'delivered') && x;
    });
    assert.deepEqual(l.map((e) => e.attempts), [2, 2]);
    assert.ok(l.some((e) => e.last_status === 200));
    await drop(w);
  });

  test('many records at once: each record\'s changes go out one at a time, in order, retries included', T, async () => {
    // Every change's first attempt fails (500): a record's next change must
    // wait for the retry of the one before it, while other records go on.
    const answered = []; // [record, change_id, status] in the order answered
    const tries = new Map();
    const r = await make({
      answer: (hit) => {
        const { id, change_id: cid } = hit.json.data;
        const n = (tries.get(cid) ?? 0) + 1;
        tries.set(cid, n);
        const status = n === 1 ? 500 : 200;
        answered.push([id, cid, status]);
        return { status };
      },
    });
    const w = await hook({ url: r.url, events: ['orders.*'] });
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await insert(`ordered ${i}`, 0));
    for (let k = 1; k <= 5; k++) {
      for (const id of ids) await c.query('UPDATE tenant_shop.orders SET qty = $2 WHERE id = $1', [id, k]);
    }
    const total = ids.length * 6;
    await r.until(() => answered.filter((a) => a[2] === 200).length >= total, 30_000);
    const done = new Map(); // record -> change ids delivered, in order
    for (const [id, cid, status] of answered) {
      const before = done.get(id) ?? [];
      assert.ok(before.every((x) => x < cid), `record ${id}: change ${cid} sent after a later one was delivered`);
      const { rows } = await c.query(
        `SELECT count(*)::int AS n FROM tenant_shop._changes AS l, unnest(l.record_ids) WITH ORDINALITY AS e(r, i)
          WHERE e.r = $1 AND l.id + e.i - 1 < $2`, [id, cid]);
      assert.equal(before.length, rows[0].n, `record ${id}: change ${cid} sent before the ${rows[0].n} earlier ones were delivered`);
      if (status === 200) done.set(id, [...before, cid]);
    }
    assert.deepEqual([...done.values()].map((v) => v.length), ids.map(() => 6));
    await drop(w);
  });

  test('a hanging receiver does not delay another endpoint; a dead one ends failed', T, async () => {
    const hang = await make({ answer: () => ({ hang: true }) });
    const fast = await make();
    const wh = await hook({ url: hang.url, events: ['orders.insert'] });
    const wf = await hook({ url: fast.url, events: ['orders.insert'] });
    fast.setSecret(wf.secret);
    const port = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    const wd = await hook({ url: `http://127.0.0.1:${port}/gone`, events: ['orders.insert'] });
    // More changes than one endpoint may have requests in flight.
    const { limit } = (await c.query(`SELECT current_setting('cot.webhook_endpoint_concurrency')::int AS limit`)).rows[0];
    assert.ok(limit >= 1, `cot.webhook_endpoint_concurrency is ${limit}`);
    const n = limit + 8;
    const start = Date.now();
    for (let i = 0; i < n; i++) await insert(`busy ${i}`);
    await fast.until((h) => h.length >= n, 5_000);
    const took = Date.now() - start;
    assert.ok(took < 2_000, `the fast endpoint got all ${n} in ${took} ms while the other hangs`);
    await sleep(200);
    assert.ok(hang.hits.length <= limit, `at most ${limit} requests in flight to one endpoint (${hang.hits.length})`);
    const dead = await until(async () => {
      const x = await log({ webhook: wd.id, limit: 1000 });
      return x.length === n && x.every((e) => e.state === 'failed') && x;
    }, 30_000, 'the dead endpoint fails');
    assert.ok(dead.every((e) => e.attempts === 3), JSON.stringify(dead.map((e) => e.attempts)));
    assert.ok(dead.every((e) => e.last_error && e.last_status === null), dead[0].last_error);
    await drop(wh);
    await drop(wf);
    await drop(wd);
  });

  test('the worker reports its table statistics, so autovacuum sees its writes', T, async () => {
    const r = await make();
    const w = await hook({ url: r.url, events: ['orders.insert'] });
    for (let i = 0; i < 5; i++) await insert(`counted ${i}`);
    await r.until((h) => h.length >= 5);
    await until(async () => {
      const { rows } = await c.query(`SELECT n_tup_ins, n_tup_upd FROM pg_stat_user_tables
                                       WHERE schemaname = 'cot' AND relname = 'webhook_deliveries'`);
      return rows[0] && Number(rows[0].n_tup_ins) >= 5 && Number(rows[0].n_tup_upd) >= 5;
    }, 10_000, 'the worker\'s inserts and updates counted in pg_stat_user_tables');
    await drop(w);
  });

  test('a disabled webhook waits; enabled again, it gets what it missed', T, async () => {
    const r = await make();
    const w = await hook({ url: r.url, events: ['customers.insert'], enabled: false });
    r.setSecret(w.secret);
    for (const n of ['a', 'b', 'c']) await c.query('INSERT INTO tenant_shop.customers (name) VALUES ($1)', [n]);
    await sleep(600);
    assert.equal(r.hits.length, 0);
    await c.query('SELECT cot.update_webhook($1, $2)', [w.id, { enabled: true }]);
    await r.until((h) => h.length >= 3);
    assert.deepEqual(r.hits.map((h) => h.json.data.record.name).sort(), ['a', 'b', 'c']);
    await drop(w);
  });

  test('private targets: refused when made, and again at delivery', T, async () => {
    await c.query('SET cot.webhook_allow_private = off');
    for (const url of ['http://127.0.0.1:9/', 'http://10.1.2.3/', 'http://169.254.169.254/latest/meta-data',
      'http://[::1]:9/', 'http://localhost:9/', 'http://100.64.0.1/', 'http://[fd00::1]/', 'http://0.0.0.0/',
      'http://224.0.0.1/', 'http://192.168.0.1/', 'http://[::ffff:127.0.0.1]/']) {
      await assert.rejects(hook({ url, events: ['*'] }), (e) => e.code === '22023' && /refused/.test(e.message), url);
    }
    await c.query('RESET cot.webhook_allow_private');
    const r = await make();
    const w = await hook({ url: r.url, events: ['orders.insert'] });
    await reload('ALTER SYSTEM SET cot.webhook_allow_private = off');
    try {
      await insert('to loopback');
      const [e] = await until(async () => {
        const x = await log({ webhook: w.id });
        return x.length === 1 && x[0].state === 'failed' && x;
      });
      assert.match(e.last_error, /refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1, a loopback/);
      assert.equal(e.attempts, 1, 'a refusal is not retried');
      assert.equal(r.hits.length, 0);
    } finally {
      await reload('ALTER SYSTEM RESET cot.webhook_allow_private');
    }
    await drop(w);
  });

  test('HTTPS: verified against cot.webhook_ca_file; an unknown issuer fails', T, async () => {
    const dir = mkdtempSync('/tmp/cot-wh-ca.');
    const ssl = (...a) => execFileSync('openssl', a, { cwd: dir, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1',
      '-subj', '/CN=Cot test CA');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
    execFileSync('bash', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext.cnf`], { cwd: dir });
    ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem',
      '-days', '1', '-extfile', 'ext.cnf');
    chmodSync(dir, 0o755);
    chmodSync(`${dir}/ca.pem`, 0o644);
    const r = await make({ tls: { key: readFileSync(`${dir}/srv.key`), cert: readFileSync(`${dir}/srv.pem`) } });
    const w = await hook({ url: r.url, events: ['orders.insert'] });
    r.setSecret(w.secret);
    await insert('over tls');
    const [e] = await until(async () => {
      const x = await log({ webhook: w.id });
      return x.length === 1 && x[0].state === 'failed' && x;
    });
    assert.match(e.last_error, /certificate|issuer|UnknownIssuer/i);
    await reload(`ALTER SYSTEM SET cot.webhook_ca_file = '${dir}/ca.pem'`);
    try {
      await c.query('SELECT cot.replay_webhook($1)', [e.id]);
      await r.until((h) => h.some((x) => x.verified));
      const [again] = await until(async () => {
        const x = await log({ webhook: w.id });
        return x[0].state === 'delivered' && x;
      });
      assert.equal(again.last_status, 204);
    } finally {
      await reload('ALTER SYSTEM RESET cot.webhook_ca_file');
    }
    await drop(w);
  });

  test('the worker killed mid-run and the server restarted: every change arrives, repeats only in flight', { timeout: 180_000 }, async () => {
    const count = new Map();
    const r = await make({
      answer: (hit) => {
        const id = hit.json?.data?.change_id;
        count.set(id, (count.get(id) ?? 0) + 1);
        return { status: 200 };
      },
    });
    const w = await hook({ url: r.url, events: ['orders.insert'] });
    r.setSecret(w.secret);
    const N = 300;
    const written = [];
    for (let i = 0; i < N; i++) {
      if (i === 100) {
        const pid = await workerPid();
        assert.ok(pid, 'a worker runs');
        await c.query('SELECT pg_terminate_backend($1)', [pid]);
        const next = await until(async () => {
          const p = await workerPid();
          return p && p !== pid && p;
        }, 10_000, 'the postmaster starts the worker again');
        assert.notEqual(next, pid);
      }
      if (i === 200) {
        await c.end();
        await cluster.restart();
        c = await cluster.connect(DB);
        await until(() => workerPid(), 10_000, 'the worker starts with the server');
      }
      const { rows } = await c.query(
        `INSERT INTO tenant_shop.orders (title) VALUES ($1) RETURNING id`, [`bulk ${i}`]);
      written.push(rows[0].id);
    }
    await r.until(() => count.size >= N, 60_000);
    await sleep(500);
    assert.equal(count.size, N, 'every change arrived');
    assert.ok(r.hits.every((h) => h.verified));
    assert.deepEqual(new Set(r.hits.map((h) => h.json.data.id)), new Set(written));
    const repeats = [...count.values()].reduce((a, n) => a + n - 1, 0);
    // At most what was in flight when the worker stopped, twice (16 requests).
    assert.ok(repeats <= 32, `${repeats} repeats`);
    console.log(`# restart test: ${N} changes, ${repeats} delivered twice`);
    const l = await until(async () => {
      const x = await log({ webhook: w.id, limit: 1000 });
      return x.length === N && x.every((e) => e.state === 'delivered') && x;
    });
    assert.equal(l.length, N);
    await drop(w);
  });
});
