// The API docs are generated from the live /rpc/openapi and /rpc/typescript:
// a change of the definition shows at the next visit, and the example runs.
import { test, expect } from '../fixtures';

test('the docs of an entity: fields with constraints, endpoints, a runnable example, its TypeScript types', async ({ studio, sql, axe, snap }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "gadgets", "access": {"read": "tenant", "create": "tenant"}, "fields": [
    {"name": "name", "type": "text", "required": true, "max_length": 40},
    {"name": "color", "type": "enum", "values": ["red", "blue"]},
    {"name": "weight", "type": "decimal", "min": 0}]}')`);
  await sql(`INSERT INTO tenant_acme.gadgets (name, color) VALUES ('sprocket', 'red')`);
  const page = await studio('acme');
  await page.getByRole('link', { name: 'API docs' }).click();
  await page.getByRole('navigation', { name: 'Entities' }).getByRole('link', { name: 'gadgets', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Gadgets', level: 2 })).toBeVisible();
  await expect(page.locator('tr[data-column="name"]')).toContainText('required · at most 40 characters');
  await expect(page.locator('tr[data-column="color"]')).toContainText('one of "red", "blue"');
  await expect(page.locator('tr[data-column="weight"]')).toContainText('≥ 0');
  for (const m of ['GET', 'POST', 'PATCH', 'DELETE']) await expect(page.locator(`.endpoint[data-method="${m}"]`)).toHaveCount(1);
  await page.locator('.endpoint[data-method="GET"]').getByText(/Parameters and filters/).click();
  await expect(page.locator('.endpoint[data-method="GET"]')).toContainText('Filter on color');
  await expect(page.getByLabel('curl example')).toContainText('/rest/v1/gadgets?select=id,name,color,weight&limit=5');
  await page.getByRole('button', { name: 'Run this example' }).click();
  await expect(page.locator('.example-result')).toHaveAttribute('data-status', '200');
  await expect(page.locator('.example-result')).toContainText('sprocket');
  await expect(page.getByLabel('TypeScript types of gadgets')).toContainText('gadgets: {');
  await expect(page.getByLabel('TypeScript types of gadgets')).toContainText('name: string');
  await snap(page, 'api-docs');
  await axe(page, 'API docs');

  // Never a stale copy: a new field is there at the next visit.
  await sql(`SELECT cot.alter_entity('{"tenant": "acme", "name": "gadgets", "access": {"read": "tenant", "create": "tenant"}, "fields": [
    {"name": "name", "type": "text", "required": true, "max_length": 40},
    {"name": "color", "type": "enum", "values": ["red", "blue"]},
    {"name": "weight", "type": "decimal", "min": 0},
    {"name": "sku", "type": "text", "unique": true}]}')`);
  await page.reload();
  await expect(page.locator('tr[data-column="sku"]')).toContainText('string');
  await expect(page.getByLabel('TypeScript types of gadgets')).toContainText('sku: string | null');
});
