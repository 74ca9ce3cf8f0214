// Webhooks through the studio, delivered by the real worker (tests/stack.mjs
// preloads cot and names the database) to a receiver on loopback that checks
// every signature: create, a failed attempt retried, replay, pause, delete.
import { test, expect } from '../fixtures';
import { receiver } from '../../../tests/clients/lib/receiver.mjs';

interface Hit {
  headers: Record<string, string>;
  verified: boolean;
  json: { type: string } | null;
}
interface Receiver {
  url: string;
  hits: Hit[];
  setSecret?: (s: string) => void;
  close: () => Promise<void>;
}

test('create a webhook, see a retried delivery, replay it, pause and delete it', async ({ studio, sql, axe, snap }) => {
  await sql(`SELECT cot.create_entity('{"tenant": "acme", "name": "parcels", "history": true, "fields": [{"name": "label", "type": "text"}]}')`);
  let calls = 0;
  // The first attempt fails (503), the retry succeeds.
  const r = (await (receiver as (o: object) => Promise<Receiver>)({ answer: () => ({ status: calls++ === 0 ? 503 : 204 }) })) as Receiver;
  try {
    const page = await studio('acme');
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByLabel('URL').fill(r.url);
    await page.getByLabel('Events').fill('parcels.*');
    await page.getByLabel('Description').fill('the warehouse');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await expect(page.locator('code.secret')).toContainText('whsec_');
    const secret = await page.locator('code.secret').innerText();
    r.setSecret?.(secret);
    const [hook] = await sql(`SELECT cot.webhooks('acme') -> 0 AS w`);
    expect(hook?.w).toMatchObject({ url: r.url, events: ['parcels.*'], enabled: true, description: 'the warehouse' });

    await sql(`INSERT INTO tenant_acme.parcels (label) VALUES ('box 1')`);
    const row = page.locator('tr[data-webhook]').filter({ hasText: r.url });
    await row.getByRole('button', { name: 'Deliveries' }).click();
    const delivery = page.locator('tr[data-delivery]');
    await expect(delivery).toHaveAttribute('data-state', 'delivered', { timeout: 15_000 });
    await expect(delivery).toHaveAttribute('data-attempts', '2');
    await expect(delivery).toContainText('parcels.insert');
    expect(r.hits).toHaveLength(2);
    expect(r.hits.map((h) => h.json?.type)).toEqual(['parcels.insert', 'parcels.insert']);
    // The secret shown is the one the requests are signed with.
    expect(r.hits.every((h) => h.verified)).toBe(true);
    await snap(page, 'webhooks');
    await axe(page, 'webhooks');

    await page.getByRole('button', { name: 'Replay' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'pending again' })).toBeVisible();
    await expect.poll(() => r.hits.length, { timeout: 15_000 }).toBe(3);
    expect(r.hits[2]?.headers['webhook-id']).toBe(r.hits[0]?.headers['webhook-id']);

    await row.getByRole('button', { name: 'Pause' }).click();
    await expect(row).toContainText('paused');
    const [paused] = await sql(`SELECT (cot.webhooks('acme') -> 0 ->> 'enabled')::boolean AS on`);
    expect(paused?.on).toBe(false);

    await row.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete webhook' }).click();
    await expect(page.getByText('No webhooks yet.')).toBeVisible();
    expect(await sql(`SELECT jsonb_array_length(cot.webhooks('acme')) AS n`)).toEqual([{ n: 0 }]);
  } finally {
    await r.close();
  }
});
