// The modules page: a module published by the platform is installed after a
// preview, upgraded after its plan (a field with data dropped needs the
// loss confirmed by name), and uninstalled with its rows confirmed.
import { test, expect } from '../fixtures';

const v1 = {
  format: 'cot.module/1', name: 'studio_notes', version: '1.0.0', description: 'Notes for the studio test',
  entities: [{ name: 'sm_notes', fields: [{ name: 'title', type: 'text' }, { name: 'body', type: 'text' }] }],
  samples: { sm_notes: [{ title: 'first', body: 'sample' }] },
};
const v2 = {
  ...v1, version: '2.0.0',
  entities: [
    { name: 'sm_notes', fields: [{ name: 'title', type: 'text' }] },
    { name: 'sm_tags', fields: [{ name: 'label', type: 'text' }] },
  ],
};

test('install with a preview, upgrade with its plan, uninstall', async ({ studio, sql, snap, axe }) => {
  await sql('SELECT cot.publish_module($1::jsonb), cot.publish_module($2::jsonb)', [JSON.stringify(v1), JSON.stringify(v2)]);
  const page = await studio('globex');
  await page.getByRole('link', { name: 'Modules' }).click();
  const row = page.locator('tr[data-module="studio_notes"]');
  await expect(row.locator('.installed')).toHaveText('—');
  await page.getByLabel('Version of studio_notes').selectOption('1.0.0');
  await page.getByRole('button', { name: 'Preview installing studio_notes…' }).click();
  await expect(page.locator('tr[data-entity="sm_notes"] .action')).toHaveText('create');
  await axe(page, 'modules (install preview)');
  expect(await sql(`SELECT to_regclass('tenant_globex.sm_notes') AS t`)).toEqual([{ t: null }]); // nothing yet
  await page.getByLabel("Also insert the module's sample rows").check();
  await page.getByRole('button', { name: 'Install', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Installed studio_notes 1.0.0.');
  await expect(row.locator('.installed')).toHaveText('1.0.0');
  expect(await sql('SELECT title FROM tenant_globex.sm_notes')).toEqual([{ title: 'first' }]);

  // 2.0.0 drops body, which holds data: the plan says so and asks first.
  await page.getByRole('button', { name: 'Plan the upgrade of studio_notes…' }).click();
  await expect(page.locator('tr[data-entity="sm_tags"] .action')).toHaveText('create');
  await expect(page.locator('tr[data-entity="sm_notes"] .action')).toHaveText('alter');
  const go = page.getByRole('button', { name: 'Upgrade and lose this data' });
  await expect(go).toBeDisabled();
  await snap(page, 'modules-upgrade-plan');
  await axe(page, 'modules (upgrade plan)');
  await page.getByLabel(/I understand: .*body/).check();
  await go.click();
  await expect(page.getByRole('status')).toHaveText('Upgraded studio_notes to 2.0.0.');
  await expect(row.locator('.installed')).toHaveText('2.0.0');
  expect(await sql(`SELECT to_regclass('tenant_globex.sm_tags') IS NOT NULL AS t`)).toEqual([{ t: true }]);

  await page.getByRole('button', { name: 'Uninstall studio_notes…' }).click();
  await expect(page.getByText('Drops sm_notes (1 row), sm_tags (0 rows).')).toBeVisible();
  const uninstall = page.getByRole('button', { name: 'Uninstall', exact: true });
  await expect(uninstall).toBeDisabled();
  await page.getByLabel('I understand: 1 row is deleted').check();
  await uninstall.click();
  await expect(page.getByRole('status')).toHaveText('Uninstalled studio_notes.');
  expect(await sql(`SELECT to_regclass('tenant_globex.sm_notes') AS t`)).toEqual([{ t: null }]);
});

// A module that carries field types and no entity (like standard-types):
// listed, installed with a preview that creates nothing, and uninstalled
// without a confirmation (no rows to lose).
const typesOnly = {
  format: 'cot.module/1', name: 'studio_types', version: '1.0.0', description: 'A field type and nothing else',
  field_types: [{ name: 'studio_code', base: 'text', description: 'Three capitals', checks: { pattern: '^[A-Z]{3}$' } }],
};

test('a module with field types only installs and uninstalls', async ({ studio, sql, axe }) => {
  await sql('SELECT cot.publish_module($1::jsonb)', [JSON.stringify(typesOnly)]);
  expect(await sql(`SELECT count(*)::int AS n FROM cot.field_types WHERE name = 'studio_code'`)).toEqual([{ n: 1 }]);
  const page = await studio('globex');
  await page.getByRole('link', { name: 'Modules' }).click();
  const row = page.locator('tr[data-module="studio_types"]');
  await expect(row.locator('.installed')).toHaveText('—');
  await page.getByRole('button', { name: 'Preview installing studio_types…' }).click();
  await expect(page.getByRole('button', { name: 'Install', exact: true })).toBeEnabled();
  await axe(page, 'modules (types-only install preview)');
  await page.getByRole('button', { name: 'Install', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Installed studio_types 1.0.0.');
  await expect(row.locator('.installed')).toHaveText('1.0.0');
  await page.getByRole('button', { name: 'Uninstall studio_types…' }).click();
  const uninstall = page.getByRole('button', { name: 'Uninstall', exact: true });
  await expect(uninstall).toBeEnabled();
  await uninstall.click();
  await expect(page.getByRole('status')).toHaveText('Uninstalled studio_types.');
  await expect(row.locator('.installed')).toHaveText('—');
});
