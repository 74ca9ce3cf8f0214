import { test, expect } from '../fixtures';

test('sign in and see the entity list', async ({ studio, snap, axe }) => {
  const page = await studio('acme');
  await expect(page.getByText('0 entities')).toBeVisible();
  await snap(page, 'smoke');
  await axe(page, 'entity list');
});
