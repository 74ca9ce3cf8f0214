// The API playground sends real requests through the front door as the role
// chosen: row security decides what each one gets.
import { test, expect, stackInfo, adminToken } from '../fixtures';
import { signJwt } from '../../../tests/clients/lib/postgrest.mjs';

const sign = signJwt as (payload: object, options: { secret: string; expiresIn: number }) => string;
const token = (claims: object) => sign(claims, { secret: stackInfo().secret, expiresIn: 600 });

test('send as the admin, a user (pasted or minted) and another tenant: RLS decides, another tenant is refused', async ({ studio, sql, axe, snap }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "memos", "access": {"read": "owner", "create": "tenant", "update": "owner", "delete": "owner"},
    "fields": [{"name": "body", "type": "text", "required": true}]}')`);
  for (const [sub, body] of [['alice', 'alice one'], ['alice', 'alice two'], ['bob', 'bob one']]) {
    await sql(`SELECT set_config('request.jwt.claims', $1, false)`, [JSON.stringify({ sub })]);
    await sql(`INSERT INTO tenant_acme.memos (body) VALUES ($1)`, [body]);
  }
  await sql(`RESET request.jwt.claims`);
  expect(await sql(`SELECT owner_id, count(*)::int AS n FROM tenant_acme.memos GROUP BY 1 ORDER BY 1`)).toEqual([
    { owner_id: 'alice', n: 2 },
    { owner_id: 'bob', n: 1 },
  ]);

  const page = await studio('acme');
  await page.getByRole('link', { name: 'API playground' }).click();
  await expect(page.getByRole('heading', { name: 'API playground' })).toBeVisible();
  await page.getByLabel('Path').fill('/memos');
  await page.getByLabel('Query string').fill('select=body,owner_id&order=body');
  await expect(page.getByText('Columns of memos: id, body, created_at, updated_at, owner_id')).toBeVisible();
  const status = page.locator('[data-status]');
  const body = page.getByLabel('Response body');

  await page.getByRole('button', { name: 'Send' }).click();
  await expect(status).toHaveAttribute('data-status', '200');
  expect(JSON.parse(await body.innerText())).toHaveLength(3);

  await page.getByLabel(/another token or API key/).check();
  await page.getByLabel('Token or API key to send').fill(token({ role: 'cot_acme_user', tenant: 'acme', sub: 'alice' }));
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(body).toContainText('alice two');
  expect(JSON.parse(await body.innerText())).toEqual([
    { body: 'alice one', owner_id: 'alice' },
    { body: 'alice two', owner_id: 'alice' },
  ]);
  await snap(page, 'playground');
  await axe(page, 'API playground');

  await page.getByLabel('Token or API key to send').fill(adminToken('globex'));
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(status).toHaveAttribute('data-status', '403');
  await expect(body).toContainText('permission denied for schema acme');

  await page.getByLabel(/nobody/).check();
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(status).toHaveAttribute('data-status', '401');

  // A user of this tenant by its sub: the studio mints the token (/rpc/issue_token).
  await page.getByLabel(/a user of this tenant/).check();
  await page.getByLabel("The user's sub").fill('bob');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(status).toHaveAttribute('data-status', '200');
  expect(JSON.parse(await body.innerText())).toEqual([{ body: 'bob one', owner_id: 'bob' }]);

  // The same request as code.
  await expect(page.getByRole('tabpanel')).toContainText(`curl -X GET '${new URL(page.url()).origin}/rest/v1/memos?select=body,owner_id&order=body'`);
  await page.getByRole('tab', { name: 'postgrest-js' }).click();
  await expect(page.getByRole('tabpanel')).toContainText('.from("memos")');
  await expect(page.getByRole('tabpanel')).toContainText('.select("body,owner_id")');
  await expect(page.getByRole('tabpanel')).toContainText('.order("body")');
  await page.getByRole('tab', { name: 'supabase-js' }).click();
  await expect(page.getByRole('tabpanel')).toContainText('createClient(');

  // /rpc/query from its template, as alice: her notes only.
  await page.getByLabel(/another token or API key/).check();
  await page.getByLabel('Token or API key to send').fill(token({ role: 'cot_acme_user', tenant: 'acme', sub: 'alice' }));
  await page.getByRole('button', { name: 'Query memos with /rpc/query' }).click();
  await expect(page.getByLabel('Path')).toHaveValue('/rpc/query');
  await page.getByLabel('Body (JSON)').fill(JSON.stringify({ entity: 'memos', query: { select: ['body'], order: ['-body'], count: true } }));
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(status).toHaveAttribute('data-status', '200');
  await expect(body).toContainText('"count": 2');
  expect(JSON.parse(await body.innerText())).toMatchObject({ data: [{ body: 'alice two' }, { body: 'alice one' }], count: 2 });
});
