// Performance of the dashboard with a large log: first meaningful paint (the events drawn on
// the map) and filter changes (filter, re-cluster, redraw, next paint), measured in the browser
// and reported as medians. Runs only with TRUCE_PERF_INCIDENTS=N (the global setup then loads
// the server with N simulated incidents; fusion makes about 0.7 events of an incident); see
// docs/dashboard.md for the command and the figures.
import { test, expect } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { get, loadState } from './server';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test('first paint and filter changes with a large log', async ({ page }) => {
  test.skip(!process.env.TRUCE_PERF_INCIDENTS, 'set TRUCE_PERF_INCIDENTS to run');
  test.setTimeout(600_000);
  const s = loadState();
  const url = s.url;
  await page.addInitScript((t) => sessionStorage.setItem('truce.token', t), s.tokens?.['us.ops'] ?? '');
  const total = (await get(s, 'us.ops', '/v1/events?limit=1')).total as number;
  const mapLength = JSON.stringify(await get(s, 'us.ops', '/v1/map')).length;
  const paints: number[] = [];
  const fetches: number[] = [];
  const stores: number[] = [];
  for (let run = 0; run < 3; run++) {
    await page.goto(`${url}/`);
    await expect(page.locator('body[data-ready=true]')).toBeAttached({ timeout: 120_000 });
    paints.push(Number(await page.locator('body').getAttribute('data-first-paint-ms')));
    fetches.push(Number(await page.locator('body').getAttribute('data-map-fetch-ms')));
    stores.push(Number(await page.locator('body').getAttribute('data-store-ms')));
  }
  expect(Number(await page.locator('body').getAttribute('data-shown'))).toBe(total);
  const changes: { filter: string; ms: number; computeMs: number; shown: number }[] = [];
  const steps: [string, string][] = [
    ['party', 'SY'], ['party', 'IL'], ['party', ''], ['corroboration', 'cross_party'], ['corroboration', ''],
    ['type', 'incursion'], ['type', ''], ['status', 'alleged'], ['status', ''],
  ];
  for (const [name, value] of steps) {
    const before = Number(await page.locator('body').getAttribute('data-applied'));
    const t0 = Date.now();
    await page.selectOption(`select[name=${name}]`, value);
    await expect.poll(async () => Number(await page.locator('body').getAttribute('data-applied')), { intervals: [5] }).toBeGreaterThan(before);
    const wall = Date.now() - t0;
    changes.push({
      filter: `${name}=${value || 'all'}`,
      ms: wall,
      computeMs: Number(await page.locator('body').getAttribute('data-filter-compute-ms')),
      shown: Number(await page.locator('body').getAttribute('data-shown')),
    });
  }
  const report = {
    events: total,
    map_json_length: mapLength,
    first_paint_ms: { runs: paints, median: median(paints) },
    of_which_map_fetch_and_parse_ms: { runs: fetches, median: median(fetches) },
    of_which_columns_to_typed_arrays_ms: { runs: stores, median: median(stores) },
    filter_change_ms: { median: median(changes.map((c) => c.ms)), runs: changes },
  };
  if (process.env.TRUCE_SCREENSHOTS) {
    await page.selectOption('select[name=party]', '');
    await page.screenshot({ path: `${process.env.TRUCE_SCREENSHOTS}-large.png` });
  }
  mkdirSync(fileURLToPath(new URL('../test-results', import.meta.url)), { recursive: true });
  writeFileSync(fileURLToPath(new URL('../test-results/perf.json', import.meta.url)), JSON.stringify(report, null, 2));
  console.log(JSON.stringify(report, null, 2));
  // The filters did filter: one party's events are fewer than all, clearing restores all.
  expect(changes[0].shown).toBeLessThan(total);
  expect(changes[2].shown).toBe(total);
});
