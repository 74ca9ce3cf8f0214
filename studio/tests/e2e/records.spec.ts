// The records browser against the real stack: pages read with cot.query are
// compared with SQL over the same table; writes are checked in the table.
import { test, expect, type Sql } from '../fixtures';
import type { Page } from '@playwright/test';

async function settled(page: Page, n: number) {
  await expect(page.locator('p.count')).toHaveAttribute('data-loading', 'false');
  await expect(page.locator('p.count')).toContainText(`Page ${n}`);
}

async function ids(page: Page): Promise<string[]> {
  return page.locator('table.records-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id') ?? ''));
}

test('page through 10,000 records with a filter and a sort: the same records as SQL, in the same order', async ({ studio, sql, axe, snap }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "parts", "fields": [
    {"name": "name", "type": "text", "required": true}, {"name": "qty", "type": "integer"},
    {"name": "kind", "type": "enum", "values": ["bolt", "nut", "gear"]}, {"name": "price", "type": "decimal", "precision": 10, "scale": 2},
    {"name": "done", "type": "boolean"}, {"name": "due", "type": "date"}]}')`);
  // qty repeats (i % 997), so the order needs the id as its tie-breaker, as cot.query adds.
  await sql(`INSERT INTO tenant_acme.parts (name, qty, kind, price, done, due)
    SELECT 'part ' || i, CASE WHEN i % 50 = 0 THEN NULL ELSE i % 997 END, (ARRAY['bolt','nut','gear'])[1 + i % 3], (i % 500) / 4.0, i % 2 = 0,
           date '2026-01-01' + (i % 365) FROM generate_series(1, 10000) i`);
  const expected = (
    await sql(`SELECT id::text FROM tenant_acme.parts WHERE kind IN ('nut', 'gear') AND qty BETWEEN 100 AND 700 ORDER BY qty DESC, id DESC`)
  ).map((r) => String(r.id));
  expect(expected.length).toBeGreaterThan(3000);

  const page = await studio('acme');
  await page.goto(page.url().replace(/#.*$/, '') + '#/records/parts');
  await expect(page.getByRole('heading', { name: 'Records of parts' })).toBeVisible();
  await settled(page, 1);
  await expect(page.locator('p.count')).toContainText('10000 records');
  await page.getByLabel('Add a filter on').selectOption('kind');
  await page.getByLabel('kind is one of').selectOption(['nut', 'gear']);
  await page.getByLabel('Add a filter on').selectOption('qty');
  await page.getByLabel('qty from').fill('100');
  await page.getByLabel('qty to').fill('700');
  await page.getByRole('button', { name: /^qty/ }).click();
  await page.getByRole('button', { name: /^qty/ }).click();
  await expect(page.getByRole('columnheader', { name: /qty/ })).toHaveAttribute('aria-sort', 'descending');
  await settled(page, 1);
  await expect(page.locator('p.count')).toContainText(`${expected.length} records`);
  await snap(page, 'records');
  await axe(page, 'records browser');

  const seen: string[] = [];
  for (let n = 1; ; n++) {
    await settled(page, n);
    seen.push(...(await ids(page)));
    const next = page.getByRole('button', { name: 'Next page' });
    if (await next.isDisabled()) break;
    await next.click();
  }
  expect(seen).toEqual(expected);
  // and back one page
  await page.getByRole('button', { name: 'Previous page' }).click();
  const pages = Math.ceil(expected.length / 50);
  await settled(page, pages - 1);
  expect(await ids(page)).toEqual(expected.slice((pages - 2) * 50, (pages - 1) * 50));
});

async function orderModel(sql: Sql) {
  await sql(`SELECT cot.create_entities('[
    {"tenant": "acme", "name": "clients", "fields": [{"name": "name", "type": "text", "required": true}]},
    {"tenant": "acme", "name": "deals", "history": true, "fields": [
      {"name": "title", "type": "text", "required": true, "max_length": 20},
      {"name": "stage", "type": "enum", "values": ["lead", "won", "lost"], "default": "lead"},
      {"name": "total", "type": "decimal", "precision": 12, "scale": 2, "min": 0},
      {"name": "tags", "type": "array", "items": "text"},
      {"name": "meta", "type": "json"},
      {"name": "client", "type": "relation", "kind": "many_to_one", "target": "clients", "on_delete": "restrict"}]}]')`);
  await sql(`INSERT INTO tenant_acme.clients (name) VALUES ('Ada Lovelace'), ('Grace Hopper'), ('Alan Turing')`);
}

test('create and edit a record with a relation; the related record opens on click; history shows the diff', async ({ studio, sql, axe, snap }) => {
  await orderModel(sql);
  const page = await studio('acme');
  await page.goto(page.url().replace(/#.*$/, '') + '#/records/deals');
  await page.getByRole('button', { name: 'New record' }).click();
  const form = page.getByRole('dialog');
  await expect(form.locator('[data-field="title"] label')).toContainText('*');
  await form.getByLabel(/^title/).fill('Mill order');
  await form.getByLabel(/^stage/).selectOption('won');
  await form.getByLabel(/^total/).fill('1200.50');
  await form.getByLabel(/^tags/).fill('brass\nprototype');
  await form.getByLabel(/^meta/).fill('{"source": "web", "priority": 2}');
  await form.getByLabel('Search clients').fill('Grace');
  await expect(form.getByLabel(/^client/).locator('option', { hasText: 'Grace Hopper' })).toHaveCount(1);
  await form.getByLabel(/^client/).selectOption({ label: 'Grace Hopper' });
  await snap(page, 'record-form');
  await axe(page, 'record form');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('status')).toContainText('Created record');
  const [row] = await sql(`SELECT d.id::text, d.title, d.stage, d.total::text, d.tags, d.meta, c.name AS client
    FROM tenant_acme.deals d JOIN tenant_acme.clients c ON c.id = d.client_id`);
  expect(row).toMatchObject({ title: 'Mill order', stage: 'won', total: '1200.50', tags: ['brass', 'prototype'], meta: { source: 'web', priority: 2 }, client: 'Grace Hopper' });

  const tr = page.locator(`tr[data-id="${String(row?.id)}"]`);
  await expect(tr.getByRole('link', { name: 'Grace Hopper' })).toBeVisible();
  await tr.getByRole('link').first().click();
  await expect(form.getByLabel(/^title/)).toHaveValue('Mill order');
  await form.getByLabel(/^title/).fill('Mill and store');
  await form.getByLabel('Search clients').fill('Alan');
  await form.getByLabel(/^client/).selectOption({ label: 'Alan Turing' });
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toContainText('Saved record');
  const [after] = await sql(`SELECT d.title, c.name AS client FROM tenant_acme.deals d JOIN tenant_acme.clients c ON c.id = d.client_id`);
  expect(after).toEqual({ title: 'Mill and store', client: 'Alan Turing' });
  await expect(page.locator('p.count')).toContainText('Page 1 · 1 record');
  await expect(page.locator('p.count')).not.toContainText('1 records');

  // History: two versions, the diff names the fields changed.
  await tr.getByRole('link').first().click();
  const history = form.getByRole('region', { name: 'History' });
  await expect(history.locator('tr[data-version]')).toHaveCount(2);
  await expect(history.locator('tr[data-version="1"]')).toContainText('insert');
  await expect(history.locator('tr[data-version="2"]')).toContainText('update');
  await expect(history.locator('table.diff tr[data-key]')).toHaveCount(2);
  await expect(history.locator('table.diff tr[data-key="title"]')).toContainText('Mill order');
  await expect(history.locator('table.diff tr[data-key="title"]')).toContainText('Mill and store');
  await snap(page, 'record-history');
  await axe(page, 'record history');
  await form.getByRole('button', { name: 'Cancel' }).click();

  // The related record opens in its own entity.
  await tr.getByRole('link', { name: 'Alan Turing' }).click();
  await expect(page.getByRole('heading', { name: 'Records of clients' })).toBeVisible();
  await expect(page.getByRole('dialog').getByLabel(/^name/)).toHaveValue('Alan Turing');
});

test('a constraint error of the database shows at its field; delete asks first', async ({ studio, sql }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "tickets", "fields": [
    {"name": "subject", "type": "text", "required": true, "max_length": 10}, {"name": "seats", "type": "integer", "min": 1},
    {"name": "code", "type": "text", "unique": true}]}')`);
  await sql(`INSERT INTO tenant_acme.tickets (subject, seats, code) VALUES ('first', 2, 'A1')`);
  const page = await studio('acme');
  await page.goto(page.url().replace(/#.*$/, '') + '#/records/tickets');
  await page.getByRole('button', { name: 'New record' }).click();
  const form = page.getByRole('dialog');
  await form.getByLabel(/^subject/).fill('far too long a subject');
  await form.getByLabel(/^seats/).fill('0');
  await form.getByRole('button', { name: 'Create' }).click();
  // The database checks one constraint at a time; the first broken one is shown at its field.
  const subjectError = form.locator('[data-error-for="subject"]');
  const seatsError = form.locator('[data-error-for="seats"]');
  await expect(subjectError.or(seatsError).filter({ hasText: /must be/ })).toHaveCount(1);
  await form.getByLabel(/^subject/).fill('short');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(seatsError).toContainText('"seats" must be at least 1');
  await expect(form.getByLabel(/^seats/)).toHaveAttribute('aria-invalid', 'true');
  await form.getByLabel(/^seats/).fill('3');
  await form.getByLabel(/^code/).fill('A1');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.locator('[data-error-for="code"]')).toContainText('another record already has this value');
  await form.getByLabel(/^subject/).fill('');
  await form.getByLabel(/^code/).fill('B2');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.locator('[data-error-for="subject"]')).toContainText('null value in column "subject"');
  expect(await sql(`SELECT count(*)::int AS n FROM tenant_acme.tickets`)).toEqual([{ n: 1 }]);
  await form.getByRole('button', { name: 'Cancel' }).click();

  const [t] = await sql(`SELECT id::text FROM tenant_acme.tickets`);
  await page.locator(`tr[data-id="${String(t?.id)}"]`).getByRole('link').first().click();
  await page.getByRole('button', { name: 'Delete…' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete this tickets record?' });
  await confirm.getByRole('button', { name: 'Keep it' }).click();
  expect(await sql(`SELECT count(*)::int AS n FROM tenant_acme.tickets`)).toEqual([{ n: 1 }]);
  await page.getByRole('button', { name: 'Delete…' }).click();
  await confirm.getByRole('button', { name: 'Delete record' }).click();
  await expect(page.getByRole('status')).toContainText('Deleted record');
  expect(await sql(`SELECT count(*)::int AS n FROM tenant_acme.tickets`)).toEqual([{ n: 0 }]);
});
