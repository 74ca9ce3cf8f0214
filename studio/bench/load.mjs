// A big tenant in headless Chromium: 300 entities and 400 relations (real
// ones, made by Cot in a private cluster, served by the real PostgREST and
// the front door). Prints how long the studio takes to be ready (the entity
// list shown), to draw the whole diagram (every entity and relation on
// screen), and to filter the list per keystroke. Budget: ready and drawn in
// under 2 s each; filtering without visible lag (under 100 ms a keystroke).
//
//   node bench/load.mjs [--entities N] [--rounds R]
import { chromium } from '@playwright/test';
import { startStack } from '../tests/stack.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('entities', 300);
const ROUNDS = arg('rounds', 3);
const EXTRA = Math.round((N * 4) / 3) - (N - 1); // 400 relations for 300 entities

/** A shallow model, as schemas are: entity i points at i's parent in a tree
 * of three children each (N - 1 relations), and the last EXTRA entities at
 * one more entity each, spread over the others. The diagram's first visit
 * lays them out with dagre (later visits use the kept positions: the bench
 * measures both). */
function model() {
  const defs = [];
  for (let i = 0; i < N; i++) {
    defs.push({
      tenant: 'bench',
      name: `e${i}`,
      label: `Entity number ${i}`,
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'amount', type: 'decimal', precision: 12, scale: 2 },
      ],
    });
  }
  for (let i = 1; i < N; i++) {
    defs[i].fields.push({ name: 'parent', type: 'relation', kind: 'many_to_one', target: `e${Math.floor((i - 1) / 3)}` });
  }
  for (let k = 1; k <= EXTRA; k++) {
    const i = N - k;
    defs[i].fields.push({ name: 'other', type: 'relation', kind: 'many_to_one', target: `e${(k * 7) % i}`, on_delete: 'set_null' });
  }
  return defs;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const stack = await startStack({ tenants: ['bench'] });
let browser;
try {
  const { connect } = await import('../../tests/clients/lib/db.mjs');
  const { signJwt } = await import('../../tests/clients/lib/postgrest.mjs');
  const su = await connect(stack.db);
  const t0 = Date.now();
  const defs = model();
  for (let i = 0; i < defs.length; i += 150) {
    await su.query('SELECT cot.create_entities($1::jsonb)', [JSON.stringify(defs.slice(i, i + 150))]);
  }
  const [{ n }] = (await su.query(`SELECT count(*)::int AS n FROM cot.relationships r JOIN cot.tenants t ON t.id = r.tenant_id WHERE t.slug = 'bench'`)).rows;
  await su.end();
  console.log(`tenant bench: ${N} entities, ${n} relations, made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const token = signJwt({ role: 'cot_bench_admin', tenant: 'bench', sub: 'bench' }, { secret: stack.secret, expiresIn: 3600 });
  browser = await chromium.launch({
    executablePath: process.env.COT_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
  const base = `http://bench.localhost:${stack.port}/`;
  const ready = [];
  const drawn = [];
  const kept = [];
  const fetches = [];
  const keys = [];
  for (let r = 0; r < ROUNDS; r++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await context.addInitScript((t) => sessionStorage.setItem('cot-studio:credential', t), token);
    const page = await context.newPage();
    let start = Date.now();
    await page.goto(`${base}#/entities`);
    await page.getByText(`${N} entities`, { exact: true }).waitFor();
    ready.push(Date.now() - start);

    // The diagram twice: the first visit lays it out (dagre); the second,
    // in a new page of the same browser context, uses the kept positions.
    const draw = async (p) => {
      const s = Date.now();
      await p.goto(`${base}#/diagram`);
      await p.waitForFunction(
        ([nodes, edges]) =>
          document.querySelectorAll('.react-flow__node').length === nodes &&
          document.querySelectorAll('.react-flow__edge').length === edges &&
          document.querySelector('.react-flow__viewport')?.getAttribute('style')?.includes('scale'),
        [N, n],
        { polling: 'raf', timeout: 60_000 },
      );
      const total = Date.now() - s;
      // Where the time went: the export_schema request, and dagre (its
      // mark comes after the layout; absent when positions were kept).
      fetches.push(await p.evaluate(() => Math.round(performance.getEntriesByType('resource').filter((e) => e.name.includes('export_schema')).at(-1)?.duration ?? 0)));
      return total;
    };
    drawn.push(await draw(page));
    const again = await context.newPage();
    kept.push(await draw(again));
    await again.close();
    // Filtering: each keystroke's time until the list on screen is updated.
    await page.goto(`${base}#/entities`);
    await page.getByText(`${N} entities`, { exact: true }).waitFor();
    const input = page.getByLabel('Search entities');
    await input.focus();
    for (const ch of 'number 12') {
      const t = await page.evaluate(async (c) => {
        const el = document.getElementById('entity-search');
        const before = document.querySelector('.count')?.textContent;
        const s = performance.now();
        const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        setter.call(el, el.value + c);
        el.dispatchEvent(new Event('input', { bubbles: true }));
        // Until the count changes (or two frames pass when it does not).
        for (let f = 0; f < 120; f++) {
          await new Promise((r) => requestAnimationFrame(() => r()));
          if (document.querySelector('.count')?.textContent !== before || f >= 2) break;
        }
        return performance.now() - s;
      }, ch);
      keys.push(t);
    }
    await context.close();
  }
  console.log(`studio ready (entity list of ${N} shown): median ${median(ready)} ms of ${ROUNDS} (${ready.join(', ')})`);
  console.log(`diagram drawn, first visit (${N} entities, ${n} relations, laid out by dagre): median ${median(drawn)} ms of ${ROUNDS} (${drawn.join(', ')})`);
  console.log(`diagram drawn, later visits (kept positions): median ${median(kept)} ms of ${ROUNDS} (${kept.join(', ')})`);
  console.log(`  of which GET /rpc/export_schema (the ${N} definitions): median ${median(fetches)} ms (${fetches.join(', ')})`);
  console.log(`list filtering: median ${median(keys).toFixed(1)} ms a keystroke, worst ${Math.max(...keys).toFixed(1)} ms (${keys.length} keystrokes)`);
} finally {
  await browser?.close();
  await stack.stop();
}
