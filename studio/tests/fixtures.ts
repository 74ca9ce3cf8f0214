// What every browser test gets: the stack's addresses, a superuser session on
// its database (to look at the real tables and constraints), admin tokens per
// tenant, a signed-in studio page, screenshots and the accessibility check.
import { test as base, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { connect } from '../../tests/clients/lib/db.mjs';
import { signJwt } from '../../tests/clients/lib/postgrest.mjs';

export interface StackInfo {
  db: string;
  port: number;
  pghost: string;
  pgport: string;
  postgrest: string;
  /** cot-realtime runs behind the front door (it is built). */
  realtime: boolean;
  secret: string;
  tenants: string[];
}

export function stackInfo(): StackInfo {
  const text = process.env.COT_STUDIO_STACK;
  if (!text) throw new Error('COT_STUDIO_STACK is not set: run the tests with playwright test (global setup)');
  return JSON.parse(text) as StackInfo;
}

export const tenantUrl = (slug: string, path = '/') => `http://${slug}.localhost:${stackInfo().port}${path}`;

// lib/postgrest.mjs is plain JavaScript; its options object, typed.
const sign = signJwt as (payload: object, options: { secret: string; expiresIn: number }) => string;

export function adminToken(slug: string): string {
  return sign({ role: `cot_${slug}_admin`, tenant: slug, sub: 'studio-tests' }, { secret: stackInfo().secret, expiresIn: 3600 });
}

export type Sql = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

const SHOTS = process.env.COT_SCREENSHOT_DIR ?? 'test-results/screenshots';

interface Fixtures {
  csp: void;
  sql: Sql;
  studio: (slug: string) => Promise<Page>;
  snap: (page: Page, name: string) => Promise<void>;
  axe: (page: Page, screen: string) => Promise<void>;
}

export const test = base.extend<Fixtures>({
  // Every page of every test: nothing the front door's Content-Security-Policy
  // refuses (an inline script or style, a foreign origin) and no uncaught error.
  csp: [
    async ({ page }, use) => {
      const bad: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) bad.push(m.text());
      });
      page.on('pageerror', (e) => bad.push(`uncaught: ${e.message}`));
      await use();
      expect(bad, 'CSP violations and uncaught errors in the page').toEqual([]);
    },
    { auto: true },
  ],
  sql: async ({}, use) => {
    // PGHOST/PGPORT come from the global setup's environment.
    const client = await connect(stackInfo().db);
    await use(async (text, params = []) => (await client.query(text, params)).rows);
    await client.end();
  },
  studio: async ({ page }, use) => {
    await use(async (slug) => {
      await page.goto(tenantUrl(slug));
      await page.getByLabel('Admin token or API key').fill(adminToken(slug));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('heading', { name: 'Entities', level: 1 })).toBeVisible();
      return page;
    });
  },
  snap: async ({}, use) => {
    mkdirSync(SHOTS, { recursive: true });
    await use(async (page, name) => {
      await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
    });
  },
  axe: async ({}, use) => {
    await use(async (page, screen) => {
      const result = await new AxeBuilder({ page }).analyze();
      const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      const text = bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
      expect(text, `accessibility on ${screen}`).toEqual([]);
    });
  },
});

export { expect };
