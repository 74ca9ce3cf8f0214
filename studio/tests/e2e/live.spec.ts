// The live view hears changes through the real cot-realtime behind the front
// door, and only those the role may read.
import { test, expect, stackInfo } from '../fixtures';

test('changes of entities with history appear live, whoever writes them', async ({ studio, sql, axe, snap }) => {
  test.skip(!stackInfo().realtime, 'cot-realtime is not built (cargo build --release -p cot-realtime)');
  await sql(`SELECT cot.create_entities('[
    {"tenant": "acme", "name": "crates", "history": true, "fields": [{"name": "label", "type": "text"}, {"name": "qty", "type": "integer"}]},
    {"tenant": "acme", "name": "pallets", "history": false, "fields": [{"name": "label", "type": "text"}]}]')`);
  const page = await studio('acme');
  await page.getByRole('link', { name: 'Live' }).click();
  await expect(page.locator('.live-status')).toHaveAttribute('data-state', 'subscribed');
  await expect(page.locator('.live-status')).toContainText('crates');
  await expect(page.locator('.live-status')).not.toContainText('pallets');

  // Written with plain SQL, not through the API: every writer is heard. The
  // server re-reads a changed record before sending it (a record already
  // deleted is not sent), so each write waits for the one before to arrive.
  const rows = page.locator('table.live-changes tbody tr');
  const [row] = await sql(`INSERT INTO tenant_acme.crates (label, qty) VALUES ('apples', 3) RETURNING id::text`);
  const id = String(row?.id);
  await expect(rows).toHaveCount(1);
  await sql(`UPDATE tenant_acme.crates SET qty = 4 WHERE id = $1`, [id]);
  await expect(rows).toHaveCount(2);
  await sql(`INSERT INTO tenant_acme.pallets (label) VALUES ('not heard')`);
  await sql(`DELETE FROM tenant_acme.crates WHERE id = $1`, [id]);
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toHaveAttribute('data-type', 'DELETE');
  await expect(rows.nth(1)).toHaveAttribute('data-type', 'UPDATE');
  await expect(rows.nth(1)).toContainText('"qty":4');
  await expect(rows.nth(2)).toHaveAttribute('data-type', 'INSERT');
  await expect(rows.nth(2)).toContainText('apples');
  await expect(page.locator('table.live-changes tr[data-table="pallets"]')).toHaveCount(0);
  await snap(page, 'live');
  await axe(page, 'live changes');
});
