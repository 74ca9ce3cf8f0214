// Export and import of schema bundles: the dry run's plan is shown before
// anything changes, and dropping an entity with rows needs a confirmation.
import { test, expect } from '../fixtures';

const bundle = (entities: unknown[]) => JSON.stringify({ format: 'cot.schema/1', tenant: 'globex', entities }, null, 2);
const projects = { name: 'projects', fields: [{ name: 'title', type: 'text', required: true }] };
const tasks = {
  name: 'tasks',
  fields: [
    { name: 'title', type: 'text' },
    { name: 'done', type: 'boolean', default: false },
  ],
};

test('export a schema; import a bundle after seeing its plan', async ({ studio, sql, snap, axe }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "exported_thing", "fields": [{"name": "label", "type": "text"}]}')`);
  let page = await studio('acme');
  await page.getByRole('link', { name: 'Import / export' }).click();
  await page.getByRole('button', { name: 'Export the schema' }).click();
  const exported = page.getByLabel('Exported bundle');
  await expect(exported).toHaveValue(/"format": "cot.schema\/1"/);
  await expect(exported).toHaveValue(/"name": "exported_thing"/);

  page = await studio('globex');
  await page.getByRole('link', { name: 'Import / export' }).click();
  await page.getByLabel('Bundle (JSON)').fill(bundle([projects, tasks]));
  await page.getByRole('button', { name: 'Preview the import…' }).click();
  await expect(page.locator('tr[data-entity="projects"] .action')).toHaveText('create');
  await expect(page.locator('tr[data-entity="tasks"] .action')).toHaveText('create');
  await snap(page, 'bundle-plan');
  await axe(page, 'import / export');
  expect(await sql(`SELECT to_regclass('tenant_globex.tasks') AS t`)).toEqual([{ t: null }]); // nothing yet
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByText('Imported: 2 created, 0 altered, 0 dropped, 0 unchanged.')).toBeVisible();
  await sql(`INSERT INTO tenant_globex.projects (title) VALUES ('alpha'), ('beta')`);

  // A bundle without projects drops it, rows and all: named, and confirmed.
  await page.getByLabel('Bundle (JSON)').fill(bundle([tasks]));
  await page.getByRole('button', { name: 'Preview the import…' }).click();
  await expect(page.locator('tr[data-entity="projects"] .action')).toHaveText('drop (2 rows)');
  const go = page.getByRole('button', { name: 'Import and lose this data' });
  await expect(go).toBeDisabled();
  await page.getByLabel(/I understand: entity "projects" is not in the bundle; dropping it would delete 2 rows/).check();
  await go.click();
  await expect(page.getByText('Imported: 0 created, 0 altered, 1 dropped, 1 unchanged.')).toBeVisible();
  expect(await sql(`SELECT to_regclass('tenant_globex.projects') AS t`)).toEqual([{ t: null }]);
});
