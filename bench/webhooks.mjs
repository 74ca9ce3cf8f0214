// The webhook benchmark's measuring part (bench/webhooks.sh starts the
// cluster and runs this): a receiver on loopback answering 204 at once, and
//   1. throughput: N changes logged while the webhooks are paused, then
//      enabled; deliveries per second from enabling to the last arrival;
//   2. latency: rows inserted at RATE per second (one row per transaction)
//      for SECS seconds; for each, the time from its COMMIT returning to its
//      delivery arriving; p50, p99, max.
// Usage: node bench/webhooks.mjs HOST PORT DB N RATE SECS HOOKS
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.resolve(import.meta.dirname, '../tests/clients/package.json'));
const pg = require('pg');
const [host, port, database, N, RATE, SECS, HOOKS] = process.argv.slice(2);
const n = Number(N);
const rate = Number(RATE);
const secs = Number(SECS);
const hooks = Number(HOOKS);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const arrivals = new Map(); // record id -> first arrival (ms)
let hits = 0;
let onHit = () => {};
const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const now = performance.timeOrigin + performance.now();
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    hits++;
    if (!arrivals.has(body.data.id)) arrivals.set(body.data.id, now);
    res.writeHead(204).end();
    onHit();
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;
const c = new pg.Client({ host, port: Number(port), user: 'postgres', database });
await c.connect();
const waitHits = (want, ms) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`only ${hits} of ${want} deliveries in ${ms} ms`)), ms);
    onHit = () => {
      if (hits >= want) {
        clearTimeout(t);
        resolve();
      }
    };
    onHit();
  });

// 1. Throughput.
const ids = [];
for (let i = 0; i < hooks; i++) {
  const { rows } = await c.query(`SELECT cot.create_webhook('bench', $1) AS w`, [{ url, events: ['items.insert'], enabled: false }]);
  ids.push(rows[0].w.id);
}
await c.query(`INSERT INTO tenant_bench.items (title) SELECT 'row ' || i FROM generate_series(1, ${n}) AS i`);
await sleep(1000); // the change log's watermark passes the insert
const t0 = performance.now();
for (const id of ids) await c.query('SELECT cot.update_webhook($1, $2)', [id, { enabled: true }]);
await waitHits(n * hooks, 600_000);
const took = (performance.now() - t0) / 1000;
console.log(`throughput: ${n * hooks} deliveries (${n} changes x ${hooks} webhook${hooks > 1 ? 's' : ''}) in ${took.toFixed(2)} s = ${Math.round((n * hooks) / took)} deliveries/s`);
for (const id of ids.slice(1)) await c.query('SELECT cot.delete_webhook($1)', [id]);
await sleep(500);

// 2. Latency at a steady rate (SECS = 0: not measured). The webhook is
// deleted at the end, so that a later run measures its own webhooks only.
if (secs === 0) {
  await c.query('SELECT cot.delete_webhook($1)', [ids[0]]);
  await c.end();
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
hits = 0;
arrivals.clear();
const commits = new Map();
const total = rate * secs;
const start = performance.now();
for (let i = 0; i < total; i++) {
  const due = start + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait);
  const { rows } = await c.query(`INSERT INTO tenant_bench.items (title) VALUES ($1) RETURNING id`, [`steady ${i}`]);
  commits.set(rows[0].id, performance.timeOrigin + performance.now());
}
const achieved = total / ((performance.now() - start) / 1000);
await waitHits(total, 60_000);
const lat = [...commits].map(([id, at]) => arrivals.get(id) - at).sort((a, b) => a - b);
const pct = (p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
console.log(`latency at ${Math.round(achieved)} changes/s (${total} changes, one webhook): commit to delivery p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${lat[lat.length - 1].toFixed(1)} ms`);
await c.query('SELECT cot.delete_webhook($1)', [ids[0]]);
await c.end();
server.close();
server.closeAllConnections();
