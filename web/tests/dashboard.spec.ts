// The dashboard in a real browser against a real server loaded by the simulator.
import { test, expect, Page } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get, loadState, truce } from './server';

/** Set TRUCE_SCREENSHOTS to a path prefix (e.g. ../docs/dashboard) to save the main views. */
async function shot(page: Page, name: string): Promise<void> {
  const prefix = process.env.TRUCE_SCREENSHOTS;
  if (prefix) await page.screenshot({ path: `${prefix}-${name}.png` });
}

/** Opens the dashboard signed in as `member` (its token put in sessionStorage, as the form does). */
async function open(page: Page, member = 'us.ops'): Promise<{ url: string; errors: string[] }> {
  const { url, tokens } = loadState();
  await page.addInitScript((t) => sessionStorage.setItem('truce.token', t), tokens[member]);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${url}/`);
  await expect(page.locator('body[data-ready=true]')).toBeAttached({ timeout: 60_000 });
  return { url, errors };
}

const shown = async (page: Page) => Number(await page.locator('body').getAttribute('data-shown'));
const applied = async (page: Page) => Number(await page.locator('body').getAttribute('data-applied'));

/** Runs an action that re-filters, and waits until the page has painted the result. */
async function refilter(page: Page, action: () => Promise<void>): Promise<number> {
  const before = await applied(page);
  await action();
  await expect.poll(() => applied(page)).toBeGreaterThan(before);
  return shown(page);
}

async function apiTotal(_url: string, query: string): Promise<number> {
  return (await get(loadState(), 'us.ops', `/v1/events?limit=1&${query}`)).total;
}

test('the page is served with strict security headers', async ({ page }) => {
  const { url } = loadState();
  const res = await page.goto(`${url}/`);
  const headers = res?.headers() ?? {};
  expect(headers['content-security-policy']).toContain("default-src 'self'");
  expect(headers['content-security-policy']).toContain("script-src 'self'");
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
  const js = await fetch(`${url}/assets/app.js`);
  expect(js.headers.get('content-type')).toContain('javascript');
  expect((await fetch(`${url}/assets/nothing.js`)).status).toBe(404);
});

test('the map renders the zones, the legend and the events', async ({ page }) => {
  const { url, errors } = await open(page);
  await expect(page.locator('path.zone-line')).toHaveCount(2);
  await expect(page.locator('path.zone-area_of_separation')).toHaveCount(1);
  await expect(page.locator('path.zone-area_of_limitation')).toHaveCount(6);
  await expect(page.locator('path.zone-governorate')).toHaveCount(3);
  await expect(page.locator('.leaflet-control-layers')).toContainText('Area of Separation — approximate');
  await expect(page.locator('.legend')).toContainText('approximate');
  const total = await apiTotal(url, '');
  expect(total).toBeGreaterThan(50);
  expect(await shown(page)).toBe(total);
  expect(Number(await page.locator('#map').getAttribute('data-markers'))).toBeGreaterThan(0);
  // The events are drawn on the canvas: it has pixels of the corroboration colours.
  const painted = await page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('#map canvas');
    const g = c?.getContext('2d');
    if (!c || !g) return 0;
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) n++;
    return n;
  });
  expect(painted).toBeGreaterThan(500);
  await shot(page, 'map');
  expect(errors).toEqual([]);
});

test('filtering by party and by time changes what is shown, as the API counts it', async ({ page }) => {
  const { url } = await open(page);
  const total = await shown(page);
  const sy = await refilter(page, () => page.selectOption('select[name=party]', 'SY').then(() => undefined));
  expect(sy).toBe(await apiTotal(url, 'party=SY'));
  expect(sy).toBeLessThan(total);
  const il = await refilter(page, () => page.selectOption('select[name=party]', 'IL').then(() => undefined));
  expect(il).toBe(await apiTotal(url, 'party=IL'));
  expect(il).not.toBe(sy);
  // Brush a window on the histogram: fewer events.
  const box = (await page.locator('#histogram').boundingBox())!;
  const windowed = await refilter(page, async () => {
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
  });
  expect(windowed).toBeLessThan(il);
  expect(windowed).toBeGreaterThan(0);
  await expect(page.locator('#window')).toContainText('UTC');
  await shot(page, 'filtered');
  // The keyboard route: the range inputs set the same window.
  const narrower = await refilter(page, async () => {
    await page.locator('#from').fill('900');
    await page.locator('#from').dispatchEvent('change');
  });
  expect(narrower).toBeLessThanOrEqual(il);
  const all = await refilter(page, () => page.click('#filters button[type=reset]'));
  expect(all).toBeLessThanOrEqual(total);
});

test('a finding shows its evidence and verifies in the browser; a tampered proof fails visibly', async ({ page }) => {
  await open(page);
  const first = page.locator('#finding-list button.finding').first();
  const id = await first.getAttribute('data-finding');
  await first.click();
  const detail = page.locator('#panel-detail');
  await expect(detail.locator('h2')).toContainText(`Finding ${id}`);
  await expect(detail.locator('table').first().locator('tbody tr')).not.toHaveCount(0);
  await detail.locator('#verify').click();
  await expect(detail.locator('#verify-result')).toHaveClass('ok');
  await expect(detail.locator('#verify-result')).toContainText(/Verified: (all \d+ evidence entries|the evidence entry)/);
  await shot(page, 'finding');

  // Tamper: flip one byte of the first evidence entry's inclusion proof (or, for a one-entry
  // log tree with an empty proof, of its leaf hash).
  await page.route('**/v1/findings/**', async (route) => {
    const res = await route.fetch();
    const doc = await res.json();
    const r = doc.evidence[0].receipt;
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[0] ^= 1;
      return bytes.toString('base64');
    };
    if (r.inclusion_proof.length) r.inclusion_proof[0] = flip(r.inclusion_proof[0]);
    else r.leaf_hash = flip(r.leaf_hash);
    await route.fulfill({ response: res, json: doc });
  });
  await page.click('#tab-filters');
  await first.click();
  await detail.locator('#verify').click();
  await expect(detail.locator('#verify-result')).toHaveClass('fail');
  await expect(detail.locator('#verify-result')).toContainText('Verification FAILED');
  await shot(page, 'finding-tampered');
});

test('an entry submitted during the test appears live, with an alert for the party it concerns', async ({ page }) => {
  // Israel's officer is signed in: the hotline follows its party.
  const { url, errors } = await open(page, 'il.ops');
  await expect(page.locator('body[data-stream=open]')).toBeAttached();
  const before = await shown(page);
  // Syria reports an Israeli incursion into the Area of Separation, now.
  const now = new Date(Date.now() - 5 * 60_000).toISOString().slice(0, 19) + 'Z';
  const body = {
    event_type: 'incursion',
    time: { start: now, precision: 'exact' },
    location: { point: [35.8912, 33.2471], precision_m: 100, place: 'browser test' },
    perpetrator: 'IL',
    narrative: 'Submitted by the dashboard browser test while the page is open.',
    grading: { source_reliability: 'B', information_credibility: 2 },
    source_ref: `WEB-TEST-${Date.now()}`,
  };
  const dir = mkdtempSync(join(tmpdir(), 'truce-web-body-'));
  writeFileSync(join(dir, 'report.json'), JSON.stringify(body));
  const { data } = loadState();
  truce(['--token', loadState().tokens['sy.ops'], 'submit', '--server', url, '--key', join(data, 'keys', 'sy.ops.key'), '--kind', 'report',
    '--body', join(dir, 'report.json'), '--out', join(dir, 'receipts')], 60_000);
  await expect.poll(() => shown(page), { timeout: 30_000 }).toBe(before + 1);
  expect(await shown(page)).toBe(await apiTotal(url, ''));
  await expect(page.locator('#banner')).toBeVisible();
  await expect(page.locator('#banner')).toContainText('finding: ');
  await expect(page.locator('#banner')).toContainText('attributed to IL');
  await shot(page, 'live-alert');
  expect(errors).toEqual([]);
});

test('the panels: notices, disputes, scorecards and the log with its verified checkpoint', async ({ page }) => {
  await open(page);
  await page.click('#tab-log');
  await expect(page.locator('#panel-log')).toContainText('signature verified in this browser');
  // The checkpoint's cosignatures by SY's, IL's and UNDOF's witnesses, verified in the page
  // against the agreement's witness policy.
  await expect(page.locator('#witness-status')).toContainText('witness policy met, verified in this browser');
  for (const party of ['SY (', 'IL (', 'UNDOF (']) await expect(page.locator('#witness-status')).toContainText(party);
  await shot(page, 'log');
  await page.click('#tab-scorecards');
  await expect(page.locator('#panel-scorecards svg').first()).toBeVisible();
  await shot(page, 'scorecards');
  await page.click('#tab-notices');
  await expect(page.locator('#panel-notices caption').first()).toContainText('Awaiting an answer');
  // Keyboard: the tabs move with the arrow keys.
  await page.focus('#tab-notices');
  await page.keyboard.press('ArrowRight');
  await expect(page.locator('#tab-disputes')).toHaveAttribute('aria-selected', 'true');
  await expect(page.locator('#panel-disputes caption')).toContainText('awaiting a ruling');
});

test("a member of one party cannot read another party's sealed details", async ({ browser }) => {
  const s = loadState();
  // Syria reports an incursion with need-to-know details sealed to its own members and the
  // mediator's (the default recipients), not to Israel.
  const dir = mkdtempSync(join(tmpdir(), 'truce-web-sealed-'));
  const now = new Date(Date.now() - 20 * 60_000).toISOString().slice(0, 19) + 'Z';
  writeFileSync(join(dir, 'report.json'), JSON.stringify({
    event_type: 'incursion',
    time: { start: now, precision: 'exact' },
    location: { point: [35.8703, 33.1812], precision_m: 100, place: 'browser test, sealed' },
    perpetrator: 'IL',
    narrative: 'Submitted by the dashboard browser test with sealed details.',
    grading: { source_reliability: 'B', information_credibility: 2 },
    source_ref: `WEB-SEALED-${Date.now()}`,
  }));
  const secret = `informant KESTREL-${Date.now()}`;
  writeFileSync(join(dir, 'sealed.json'), JSON.stringify({ source: secret }));
  const out = truce(['--token', s.tokens['sy.ops'], 'submit', '--server', s.url, '--key', join(s.data, 'keys', 'sy.ops.key'),
    '--kind', 'report', '--body', join(dir, 'report.json'), '--seal', join(dir, 'sealed.json'), '--out', join(dir, 'receipts')], 60_000);
  const index = Number(/entry (\d+)/.exec(out)?.[1]);
  expect(index).toBeGreaterThan(0);
  let finding = '';
  await expect.poll(async () => {
    const fs = (await get(s, 'us.ops', '/v1/findings?party=IL&limit=1000')).findings as { id: string; evidence: number[] }[];
    finding = fs.find((f) => f.evidence.includes(index))?.id ?? '';
    return finding;
  }, { timeout: 30_000 }).not.toBe('');

  const view = async (member: string) => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.addInitScript((t) => sessionStorage.setItem('truce.token', t), s.tokens[member]);
    await page.goto(`${s.url}/#finding=${encodeURIComponent(finding)}`);
    const row = page.locator('#panel-detail tr', { hasText: `sy.ops` }).filter({ hasText: 'sealed to' });
    await expect(row).toHaveCount(1);
    const text = await row.innerText();
    const html = await page.content();
    await ctx.close();
    return { text, html };
  };
  const sy = await view('sy.ops');
  expect(sy.text).toContain(`readable by you: truce unseal ${index}`);
  const il = await view('il.ops');
  expect(il.text).toContain('not readable by you');
  // Neither view holds the details in clear: only a recipient's key opens them (truce unseal).
  expect(il.html).not.toContain(secret);
  expect(sy.html).not.toContain(secret);
});

test('without a token the page asks for one and shows no data', async ({ page }) => {
  const { url } = loadState();
  await page.goto(`${url}/`);
  await expect(page.locator('body[data-signin=needed]')).toBeAttached();
  await expect(page.locator('#panel-filters [role=alert]')).toContainText('Sign in with your API token');
  await expect(page.locator('#token')).toBeFocused();
  expect(await page.locator('body').getAttribute('data-shown')).toBeNull();
  await shot(page, 'signin');
});
