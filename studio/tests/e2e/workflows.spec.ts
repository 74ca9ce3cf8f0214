// Workflows (docs/workflows.md) in the studio: a state field designed in the
// drawer reaches the catalog; a record's transitions are offered and taken
// through /rpc/transitions and /rpc/transition, its guard decides what is
// offered, and the history records each move.
import { test, expect } from '../fixtures';

test('design a state field with transitions in the drawer', async ({ studio, sql, axe, snap }) => {
  const page = await studio('acme');
  await page.getByRole('link', { name: 'New entity' }).click();
  await page.getByLabel('Name', { exact: true }).fill('jobs');
  await page.getByRole('button', { name: 'Add field' }).click();
  const d = page.getByRole('dialog');
  await d.getByLabel('Name', { exact: true }).fill('status');
  await d.locator('label[data-type="state"]').click();
  await d.getByLabel('states (one per line)').fill('open\nworking\nclosed');
  await d.getByLabel('initial', { exact: true }).selectOption('open');
  await d.getByRole('button', { name: 'Add transition' }).click();
  const first = d.locator('[data-transition="0"]');
  await first.getByLabel('Transition name').fill('start');
  await first.getByLabel('to', { exact: true }).selectOption('working');
  await first.getByLabel(/^who/).fill('tenant');
  await d.getByRole('button', { name: 'Add transition' }).click();
  const second = d.locator('[data-transition="1"]');
  await second.getByLabel('Transition name').fill('close');
  await second.getByRole('checkbox', { name: 'open' }).uncheck();
  await second.getByRole('checkbox', { name: 'working' }).check();
  await second.getByLabel('to', { exact: true }).selectOption('closed');
  await second.getByLabel(/^who/).fill('admin');
  await second.getByLabel(/^guard/).fill('{"status": {"eq": "closed"}}');
  await snap(page, 'state-field');
  await axe(page, 'state field drawer');
  await d.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByText('Valid, not saved')).toBeVisible();
  await page.getByRole('button', { name: 'Review and save…' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByText('Saved jobs: version 1.')).toBeVisible();
  const [row] = await sql(`SELECT cot.entity('acme', 'jobs') -> 'fields' -> 0 AS f`);
  expect(row?.f).toMatchObject({
    name: 'status', type: 'state', states: ['open', 'working', 'closed'], initial: 'open',
    transitions: [
      { name: 'start', from: ['open'], to: 'working', who: ['tenant'] },
      { name: 'close', from: ['working'], to: 'closed', who: ['admin'], guard: { status: { eq: 'closed' } } },
    ],
  });
  const [trigger] = await sql(`SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'tenant_acme.jobs'::regclass AND tgname = 'cot_workflow'`);
  expect(trigger?.tgenabled).toBe('O');
});

test('a record moves by the transitions offered; the guard decides; history keeps each move', async ({ studio, sql, axe, snap }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "claims", "history": true, "fields": [
    {"name": "title", "type": "text", "required": true}, {"name": "approver", "type": "text"},
    {"name": "status", "type": "state", "states": ["new", "review", "paid", "rejected"], "initial": "new",
     "transitions": [{"name": "submit", "from": "new", "to": "review"},
                     {"name": "pay", "from": "review", "to": "paid", "who": "admin", "guard": {"approver": {"is_null": false}}},
                     {"name": "reject", "from": ["new", "review"], "to": "rejected", "who": "admin"}]}]}')`);
  const page = await studio('acme');
  await page.goto(page.url().replace(/#.*$/, '') + '#/records/claims');
  await page.getByRole('button', { name: 'New record' }).click();
  const form = page.getByRole('dialog');
  await expect(form.getByLabel(/^status/)).toHaveValue('new');
  await form.getByLabel(/^title/).fill('taxi');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('status')).toContainText('Created record');
  const [c] = await sql(`SELECT id::text, status FROM tenant_acme.claims`);
  expect(c?.status).toBe('new');

  await page.locator(`tr[data-id="${String(c?.id)}"]`).getByRole('link').first().click();
  const flow = form.getByRole('region', { name: /Workflow/ });
  await expect(flow.getByRole('img', { name: 'States of status: new, review, paid, rejected' })).toBeVisible();
  await expect(flow.getByRole('button')).toHaveText(['submit → review', 'reject → rejected']);
  await flow.getByLabel('Note (optional)').fill('receipt attached');
  await flow.getByRole('button', { name: 'submit → review' }).click();
  await expect(flow.locator('[data-state]')).toHaveText('review');
  expect(await sql(`SELECT status FROM tenant_acme.claims`)).toEqual([{ status: 'review' }]);
  // pay needs an approver (its guard): not offered yet.
  await expect(flow.getByRole('button')).toHaveText(['reject → rejected']);
  await snap(page, 'workflow');
  await axe(page, 'workflow panel');
  await form.getByLabel(/^approver/).fill('grace');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toContainText('Saved record');
  await page.locator(`tr[data-id="${String(c?.id)}"]`).getByRole('link').first().click();
  await expect(flow.getByRole('button', { name: 'pay → paid' })).toBeVisible();
  await flow.getByRole('button', { name: 'pay → paid' }).click();
  await expect(flow.locator('[data-state]')).toHaveText('paid');
  await expect(flow.getByText('No transition you may take from here.')).toBeVisible();
  const history = form.getByRole('region', { name: 'History' });
  await expect(history.getByText('submit (new → review): receipt attached')).toBeVisible();
  await expect(history.getByText('pay (review → paid)')).toBeVisible();
  expect(await sql(`SELECT status FROM tenant_acme.claims`)).toEqual([{ status: 'paid' }]);
});
