// The records browser on a big entity in headless Chromium: N records
// (1,000,000 by default) made by SQL in a private cluster, served by the real
// PostgREST and the front door. Prints the time from opening the records
// screen to its first page on screen, from "Next page" to the next page,
// and from a filter change to the filtered page. Budget: first and next page
// under 300 ms, a filter change under 500 ms.
//
//   node bench/records.mjs [--rows N] [--rounds R]
import { chromium } from '@playwright/test';
import { startStack } from '../tests/stack.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROWS = arg('rows', 1_000_000);
const ROUNDS = arg('rounds', 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const stack = await startStack({ tenants: ['bench'] });
let browser;
try {
  const { connect } = await import('../../tests/clients/lib/db.mjs');
  const { signJwt } = await import('../../tests/clients/lib/postgrest.mjs');
  const su = await connect(stack.db);
  let t0 = Date.now();
  await su.query(`SELECT cot.create_entity('{"tenant": "bench", "name": "items", "fields": [
    {"name": "title", "type": "text", "required": true}, {"name": "qty", "type": "integer", "index": true},
    {"name": "status", "type": "enum", "values": ["new", "open", "done"], "index": true},
    {"name": "price", "type": "decimal", "precision": 10, "scale": 2}, {"name": "due", "type": "date"}]}')`);
  await su.query(`INSERT INTO tenant_bench.items (title, qty, status, price, due)
    SELECT 'item ' || i, i % 1000, (ARRAY['new','open','done'])[1 + i % 3], (i % 10000) / 100.0, date '2026-01-01' + (i % 365)
      FROM generate_series(1, $1::int) i`, [ROWS]);
  await su.query('ANALYZE tenant_bench.items');
  await su.end();
  console.log(`entity items: ${ROWS} records made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const token = signJwt({ role: 'cot_bench_admin', tenant: 'bench', sub: 'bench' }, { secret: stack.secret, expiresIn: 3600 });
  browser = await chromium.launch({
    executablePath: process.env.COT_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.addInitScript((t) => sessionStorage.setItem('cot-studio:credential', t), token);
  const page = await context.newPage();
  const base = `http://bench.localhost:${stack.port}/`;
  await page.goto(`${base}#/entities`);
  await page.getByText('1 entities', { exact: true }).waitFor();
  // Until the page shown is the answer to the request of the moment (usePage's data-loading).
  const settled = async (n) => {
    await page.waitForFunction(
      (p) => {
        const c = document.querySelector('p.count');
        return c?.getAttribute('data-loading') === 'false' && c.textContent?.startsWith(`Page ${p}`) && document.querySelectorAll('table.records-table tbody tr').length > 0;
      },
      n,
      { polling: 'raf' },
    );
  };
  const first = [];
  const next = [];
  const filter = [];
  const fullSort = [];
  for (let r = 0; r < ROUNDS; r++) {
    await page.evaluate(() => (location.hash = '#/entities'));
    await page.getByText('1 entities', { exact: true }).waitFor();
    t0 = Date.now();
    await page.evaluate(() => (location.hash = '#/records/items'));
    await settled(1);
    first.push(Date.now() - t0);
    for (let p = 2; p <= 4; p++) {
      t0 = Date.now();
      await page.getByRole('button', { name: 'Next page' }).click();
      await settled(p);
      next.push(Date.now() - t0);
    }
    // Filters: an enum pick, then a number range typed in (each keystroke a request; the last one counts).
    await page.getByLabel('Add a filter on').selectOption('status');
    t0 = Date.now();
    await page.getByLabel('status is one of').selectOption(['open']);
    await settled(1);
    filter.push(Date.now() - t0);
    await page.getByLabel('Add a filter on').selectOption('qty');
    t0 = Date.now();
    await page.getByLabel('qty from').fill('500');
    await settled(1);
    filter.push(Date.now() - t0);
    t0 = Date.now();
    await page.getByLabel('qty to').fill('520');
    await settled(1);
    filter.push(Date.now() - t0);
    t0 = Date.now();
    await page.getByRole('button', { name: /^price/ }).click();
    await settled(1);
    filter.push(Date.now() - t0);
    // The whole table sorted by a column without an index: a scan of every record.
    await page.evaluate(() => (location.hash = '#/entities'));
    await page.getByText('1 entities', { exact: true }).waitFor();
    await page.evaluate(() => (location.hash = '#/records/items'));
    await settled(1);
    t0 = Date.now();
    await page.getByRole('button', { name: /^price/ }).click();
    await settled(1);
    fullSort.push(Date.now() - t0);
  }
  const show = (xs) => `median ${median(xs)} ms, worst ${Math.max(...xs)} ms (${xs.length}: ${xs.join(', ')})`;
  console.log(`records of a ${ROWS}-record entity, first page (50 records, screen opened): ${show(first)}`);
  console.log(`next page (keyset cursor): ${show(next)}`);
  console.log(`filter or sort change (status pick, qty from, qty to, sort by price): ${show(filter)}`);
  console.log(`sort of all ${ROWS} records by a column without an index (price): ${show(fullSort)}`);
  await context.close();
} finally {
  await browser?.close();
  await stack.stop();
}
