// The relationship designer: a relation made by dragging in the diagram is a
// real foreign key afterwards; dragged positions survive a reload.
import { test, expect } from '../fixtures';

test('add a relation by dragging from one entity to another', async ({ studio, sql, snap, axe }) => {
  await sql(`SELECT cot.create_entities('[
    {"tenant": "acme", "name": "customers", "fields": [{"name": "name", "type": "text"}]},
    {"tenant": "acme", "name": "invoices", "fields": [{"name": "number", "type": "text"}]},
    {"tenant": "acme", "name": "lines", "fields": [{"name": "amount", "type": "decimal"},
      {"name": "invoice", "type": "relation", "kind": "many_to_one", "target": "invoices"}]}
  ]')`);
  const page = await studio('acme');
  await page.getByRole('link', { name: 'Relationships' }).click();
  const node = (name: string) => page.locator(`.react-flow__node[data-id="${name}"]`);
  await expect(node('customers')).toBeVisible();
  await expect(page.locator('.react-flow__edge[data-id="lines.invoice"]')).toHaveCount(1);
  await snap(page, 'diagram');
  await axe(page, 'relationship diagram');

  const from = node('invoices').locator('.react-flow__handle.source');
  const to = node('customers').locator('.react-flow__handle.target');
  const a = await from.boundingBox();
  const b = await to.boundingBox();
  if (!a || !b) throw new Error('handles not laid out');
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.mouse.up();

  const d = page.getByRole('dialog');
  await expect(d.getByRole('heading', { name: 'New relation: invoices → customers' })).toBeVisible();
  await d.getByLabel('Field name on invoices').fill('customer');
  await d.getByLabel('Kind').selectOption('many_to_one');
  await d.getByLabel(/on_delete/).selectOption('cascade');
  await snap(page, 'diagram-relation');
  await axe(page, 'relation dialog');
  await d.getByRole('button', { name: 'Review the plan…' }).click();
  const plan = page.getByRole('dialog');
  await expect(plan.getByRole('heading', { name: 'Change invoices' })).toBeVisible();
  await plan.getByRole('button', { name: 'Apply' }).click();
  await expect(page.locator('.react-flow__edge[data-id="invoices.customer"]')).toHaveCount(1);

  const fk = await sql(`SELECT confdeltype, confrelid::regclass::text AS target FROM pg_constraint WHERE conname = 'invoices_customer_id_fkey'`);
  expect(fk).toEqual([{ confdeltype: 'c', target: 'tenant_acme.customers' }]);
});

test('dragged positions are kept across a reload', async ({ studio }) => {
  const page = await studio('acme');
  await page.getByRole('link', { name: 'Relationships' }).click();
  const node = page.locator('.react-flow__node[data-id="lines"]');
  await expect(node).toBeVisible();
  const transform = async () => /translate\([^)]*\)/.exec((await node.getAttribute('style')) ?? '')?.[0];
  const before = await transform();
  const box = await node.boundingBox();
  if (!box) throw new Error('no node');
  await page.mouse.move(box.x + 20, box.y + box.height - 8);
  await page.mouse.down();
  await page.mouse.move(box.x + 20, box.y + box.height + 120, { steps: 8 });
  await page.mouse.up();
  const moved = await transform();
  expect(moved).not.toBe(before);
  await page.reload();
  await expect(node).toBeVisible();
  expect(await transform()).toBe(moved);
});
