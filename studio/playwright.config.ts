// Browser tests of the studio: Debian's Chromium (no browser download), the
// real stack started once by tests/global-setup.ts. One worker: the tests
// share one database and the machine has two cores.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'tests/e2e',
  globalSetup: './tests/global-setup.ts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results/output',
  use: {
    viewport: { width: 1280, height: 860 },
    launchOptions: {
      executablePath: process.env.COT_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
});
