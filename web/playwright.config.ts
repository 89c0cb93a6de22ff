// Playwright runs the dashboard in Debian's chromium (/usr/bin/chromium, installed by
// scripts/install-browser.sh); it never downloads a browser. The global setup starts a real
// `truce serve` on 127.0.0.1 with a random port and loads it with the simulator.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  globalSetup: './tests/global-setup.ts',
  globalTeardown: './tests/global-teardown.ts',
  timeout: 120_000,
  expect: { timeout: 20_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: process.env.TRUCE_CHROMIUM ?? '/usr/bin/chromium' },
    viewport: { width: 1440, height: 900 },
    trace: 'off',
  },
});
