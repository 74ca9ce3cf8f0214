// One tenant's studio never shows another's entities: the host names the
// tenant, the front door forces its profile, the token must be that tenant's.
import { test, expect, adminToken, tenantUrl } from '../fixtures';

test('a second tenant never sees the first one\'s entities', async ({ page, studio, sql, snap, axe }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "secret_plans", "fields": [{"name": "plan", "type": "text"}]}')`);

  // acme's token on globex's address is refused at sign-in.
  await page.goto(tenantUrl('globex'));
  await axe(page, 'sign in');
  await snap(page, 'sign-in');
  await page.getByLabel('Admin token or API key').fill(adminToken('acme'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('not an admin of globex');

  await studio('globex');
  await expect(page.getByRole('heading', { name: 'Entities', level: 1 })).toBeVisible();
  await expect(page.getByRole('link', { name: 'secret_plans' })).toHaveCount(0);
  await page.getByLabel('Search entities').fill('secret');
  await expect(page.getByText(/^0 (of \d+ )?entities$/)).toBeVisible();

  // Asking for acme's schema from globex's page gets globex's answer.
  const names = await page.evaluate(async (token) => {
    const res = await fetch('/rest/v1/rpc/entities', { headers: { Authorization: `Bearer ${token}`, 'Accept-Profile': 'acme' } });
    return ((await res.json()) as { name: string }[]).map((e) => e.name);
  }, adminToken('globex'));
  expect(names).not.toContain('secret_plans');

  // The entity's address on globex's studio finds nothing.
  await page.goto(tenantUrl('globex', '/#/entities/secret_plans'));
  await expect(page.getByRole('alert')).toContainText('does not exist');
  await expect(page.getByLabel('Name', { exact: true })).toHaveCount(0);
});

test('list filtering: search by name, label or description', async ({ studio, sql }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "warehouses", "label": "Depots", "fields": []}')`);
  const page = await studio('acme');
  await page.getByLabel('Search entities').fill('depot');
  await expect(page.getByRole('link', { name: 'warehouses' })).toBeVisible();
  await expect(page.getByText(/^1 of \d+ entities$/)).toBeVisible();
});

test('an expired token sends the studio back to sign-in, with the reason', async ({ page }) => {
  const { signJwt } = await import('../../../tests/clients/lib/postgrest.mjs');
  const { stackInfo } = await import('../fixtures');
  const sign = signJwt as (p: object, o: { secret: string; expiresIn: number }) => string;
  // PostgREST allows 30 s of clock skew: two minutes past is expired.
  const expired = sign({ role: 'cot_acme_admin', tenant: 'acme', sub: 'x' }, { secret: stackInfo().secret, expiresIn: -120 });
  await page.addInitScript((t) => sessionStorage.setItem('cot-studio:credential', t), expired);
  await page.goto(tenantUrl('acme'));
  await expect(page.getByRole('status')).toContainText('Signed out: JWT expired');
  await expect(page.getByLabel('Admin token or API key')).toBeVisible();
});
