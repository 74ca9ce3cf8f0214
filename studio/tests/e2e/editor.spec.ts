// The entity editor against the real stack: what the UI does is checked in
// the database's catalog, not in the page alone.
import { test, expect, type Sql } from '../fixtures';
import type { Page } from '@playwright/test';

async function addField(page: Page, name: string, type: string, options: (drawer: ReturnType<Page['getByRole']>) => Promise<void> = async () => {}) {
  await page.getByRole('button', { name: 'Add field' }).click();
  const drawer = page.getByRole('dialog');
  await drawer.getByLabel('Name', { exact: true }).fill(name);
  await drawer.locator(`label[data-type="${type}"]`).click();
  await options(drawer);
  await drawer.getByRole('button', { name: 'Done' }).click();
  await expect(drawer).toBeHidden();
}

async function columns(sql: Sql, table: string) {
  const rows = await sql(
    `SELECT column_name AS c, data_type AS t, is_nullable AS n, numeric_precision AS p, numeric_scale AS s
       FROM information_schema.columns WHERE table_schema = 'tenant_acme' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return Object.fromEntries(rows.map((r) => [r.c, r]));
}

async function constraints(sql: Sql, table: string): Promise<string[]> {
  const rows = await sql(
    `SELECT conname FROM pg_constraint WHERE conrelid = ('tenant_acme.' || quote_ident($1))::regclass ORDER BY 1`,
    [table],
  );
  return rows.map((r) => String(r.conname));
}

test('create an entity with several field types; the table and its constraints exist', async ({ studio, sql, snap, axe }) => {
  const page = await studio('acme');
  await page.getByRole('link', { name: 'New entity' }).click();
  await page.getByLabel('Name', { exact: true }).fill('products');
  await addField(page, 'title', 'text', async (d) => {
    await d.getByLabel('required', { exact: true }).check();
    await d.getByLabel('max_length', { exact: true }).fill('200');
  });
  await addField(page, 'price', 'decimal', async (d) => {
    await d.getByLabel('precision', { exact: true }).fill('10');
    await d.getByLabel('scale', { exact: true }).fill('2');
    await d.getByLabel('min', { exact: true }).fill('0');
    await expect(d.getByLabel('pattern', { exact: true })).toHaveCount(0); // only the options decimal takes
  });
  await addField(page, 'status', 'enum', async (d) => {
    await d.getByLabel('values (one per line)').fill('draft\nlive');
    await d.getByLabel('default', { exact: true }).fill('draft');
    await snap(page, 'field-drawer');
    await axe(page, 'field drawer');
  });
  await addField(page, 'launched', 'date');
  await addField(page, 'contact', 'email', async (d) => {
    await d.getByLabel('unique', { exact: true }).check();
  });
  await expect(page.getByText('Valid, not saved')).toBeVisible();
  await snap(page, 'entity-editor');
  await axe(page, 'entity editor');

  await page.getByRole('button', { name: 'Review and save…' }).click();
  const plan = page.getByRole('dialog');
  await expect(plan.getByRole('heading', { name: 'Create products' })).toBeVisible();
  await expect(plan.getByText('metadata steps (catalog only)')).toBeVisible();
  await snap(page, 'plan-create');
  await axe(page, 'plan dialog');
  await plan.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByRole('heading', { name: 'Entity products' })).toBeVisible();
  await expect(page.getByText('Saved products: version 1.')).toBeVisible();

  const cols = await columns(sql, 'products');
  expect(Object.keys(cols)).toEqual(['id', 'title', 'price', 'status', 'launched', 'contact', 'created_at', 'updated_at']);
  expect(cols.title).toMatchObject({ t: 'text', n: 'NO' });
  expect(cols.price).toMatchObject({ t: 'numeric', p: 10, s: 2 });
  expect(cols.launched).toMatchObject({ t: 'date' });
  expect(await constraints(sql, 'products')).toEqual(
    expect.arrayContaining([
      'products_title_max_length',
      'products_price_min',
      'products_status_values',
      'products_contact_key',
      'products_contact_format',
      'products_pkey',
    ]),
  );
  const [d] = await sql(`SELECT column_default AS d FROM information_schema.columns WHERE table_schema = 'tenant_acme' AND table_name = 'products' AND column_name = 'status'`);
  expect(String(d?.d)).toContain("'draft'");
});

test('an invalid definition shows the error at its field, before anything is saved', async ({ studio, sql, snap }) => {
  const page = await studio('acme');
  await page.getByRole('link', { name: 'New entity' }).click();
  await page.getByLabel('Name', { exact: true }).fill('codes');
  await page.getByRole('button', { name: 'Add field' }).click();
  const d = page.getByRole('dialog');
  await d.getByLabel('Name', { exact: true }).fill('code');
  await d.getByLabel('min_length', { exact: true }).fill('10');
  await d.getByLabel('max_length', { exact: true }).fill('5');
  const err = d.locator('[data-pointer="/fields/0/min_length"]');
  await expect(err).toContainText('min_length 10 is greater than max_length 5');
  await expect(d.getByLabel('min_length', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await snap(page, 'field-error');
  await d.getByLabel('Name', { exact: true }).fill('select');
  await expect(d.locator('[data-pointer="/fields/0/name"]')).toContainText('select');
  await d.getByRole('button', { name: 'Done' }).click();
  await expect(page.locator('li[data-field="select"] .field-problem')).toBeVisible();
  expect(await sql(`SELECT 1 FROM cot.entities WHERE name = 'codes'`)).toHaveLength(0);
});

test('change a field type on a table with rows: the failing rows are counted before confirming', async ({ studio, sql, snap }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "stock", "fields": [{"name": "item", "type": "text"}, {"name": "qty", "type": "text"}]}')`);
  await sql(`INSERT INTO tenant_acme.stock (item, qty) SELECT 'item ' || i, CASE WHEN i % 7 = 0 THEN i || ' pcs' ELSE i::text END FROM generate_series(1, 20) i`);
  const page = await studio('acme');
  await page.getByRole('link', { name: 'stock' }).click();
  await page.getByRole('button', { name: /^qty/ }).click();
  const d = page.getByRole('dialog');
  await d.locator('label[data-type="integer"]').click();
  await expect(d.locator('[data-pointer="/fields/1/type"]')).toContainText('2 rows hold a value of "qty" that is not a valid integer');
  await d.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('button', { name: 'Review and save…' }).click();
  const plan = page.getByRole('dialog');
  const step = plan.locator('tr[data-step="alter_column_type"]');
  await expect(step).toContainText('data loss');
  await expect(step.locator('.rows')).toContainText('2');
  const apply = plan.getByRole('button', { name: 'Apply and lose this data' });
  await expect(apply).toBeDisabled();
  await snap(page, 'plan-data-loss');
  await plan.getByLabel(/I understand: 2 rows hold a value of "qty"/).check();
  await apply.click();
  await expect(page.getByText('Saved stock: version 2.')).toBeVisible();
  const [c] = await sql(`SELECT data_type FROM information_schema.columns WHERE table_schema = 'tenant_acme' AND table_name = 'stock' AND column_name = 'qty'`);
  expect(c?.data_type).toBe('integer');
  const [n] = await sql(`SELECT count(*)::int AS nulls FROM tenant_acme.stock WHERE qty IS NULL`);
  expect(n?.nulls).toBe(2);
});

test('rename a field: the column keeps its data and its id', async ({ studio, sql, snap }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "notes", "fields": [{"name": "title", "type": "text", "max_length": 80}]}')`);
  await sql(`INSERT INTO tenant_acme.notes (title) VALUES ('first'), ('second')`);
  const [before] = await sql(`SELECT f.id FROM cot.fields f JOIN cot.entities e ON e.id = f.entity_id WHERE e.name = 'notes' AND f.name = 'title'`);
  const page = await studio('acme');
  await page.getByRole('link', { name: 'notes' }).click();
  await page.getByRole('button', { name: /^title/ }).click();
  const d = page.getByRole('dialog');
  await d.getByLabel('Name', { exact: true }).fill('subject');
  await d.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('button', { name: 'Review and save…' }).click();
  const plan = page.getByRole('dialog');
  await plan.getByText('metadata steps (catalog only)').click();
  await expect(plan.locator('tr[data-step="rename_column"]')).toContainText('RENAME COLUMN "title" TO "subject"');
  await expect(plan.getByText('This change loses data')).toHaveCount(0);
  await snap(page, 'plan-rename');
  await plan.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByText('Saved notes: version 2.')).toBeVisible();
  expect(await sql(`SELECT subject FROM tenant_acme.notes ORDER BY subject`)).toEqual([{ subject: 'first' }, { subject: 'second' }]);
  const [after] = await sql(`SELECT f.id FROM cot.fields f JOIN cot.entities e ON e.id = f.entity_id WHERE e.name = 'notes' AND f.name = 'subject'`);
  expect(after?.id).toBe(before?.id);
  expect(await constraints(sql, 'notes')).toContain('notes_subject_max_length');
});

test('edits survive a reload until discarded', async ({ studio, sql }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "drafts_demo", "fields": [{"name": "body", "type": "text"}]}')`);
  const page = await studio('acme');
  await page.getByRole('link', { name: 'drafts_demo' }).click();
  await page.getByRole('button', { name: 'Add field' }).click();
  await page.getByRole('dialog').getByLabel('Name', { exact: true }).fill('pinned');
  await page.getByRole('dialog').getByRole('button', { name: 'Done' }).click();
  await page.reload();
  await expect(page.getByText(/Unsaved changes from .* were restored/)).toBeVisible();
  await expect(page.locator('li[data-field="pinned"]')).toBeVisible();
  await page.goto(page.url().replace(/#.*/, '#/entities'));
  await expect(page.locator('tr', { hasText: 'drafts_demo' }).getByText('unsaved changes')).toBeVisible();
  await page.getByRole('link', { name: 'drafts_demo' }).click();
  await page.getByRole('button', { name: 'Discard changes' }).first().click();
  await expect(page.locator('li[data-field="pinned"]')).toHaveCount(0);
  await page.reload();
  await expect(page.locator('li[data-field="body"]')).toBeVisible();
  await expect(page.locator('li[data-field="pinned"]')).toHaveCount(0);
});

test('a compound unique index and access rules from the editor reach the catalog', async ({ studio, sql }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "seats", "fields": [{"name": "row_code", "type": "text"}, {"name": "seat", "type": "integer"}]}')`);
  const page = await studio('acme');
  await page.getByRole('link', { name: 'seats' }).click();
  await page.getByRole('button', { name: 'Add index' }).click();
  await page.getByLabel('Add a field to index 1').selectOption('row_code');
  await page.getByLabel('Add a field to index 1').selectOption('seat');
  await page.locator('.index-list').getByLabel('unique together').check();
  await page.getByRole('radio', { name: 'read: public' }).check();
  await page.getByRole('radio', { name: 'create: tenant' }).check();
  await page.getByRole('button', { name: 'Review and save…' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByText('Saved seats: version 2.')).toBeVisible();
  expect(await constraints(sql, 'seats')).toContain('seats_row_code_seat_key');
  const [p] = await sql(`SELECT has_table_privilege('cot_acme_anon', 'acme.seats', 'SELECT') AS anon_reads,
                                has_table_privilege('cot_acme_user', 'acme.seats', 'INSERT') AS user_creates,
                                has_table_privilege('cot_acme_user', 'acme.seats', 'DELETE') AS user_deletes`);
  expect(p).toEqual({ anon_reads: true, user_creates: true, user_deletes: false });
});
