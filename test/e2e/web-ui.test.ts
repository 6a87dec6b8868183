/**
 * End to end in headless Chromium against web mode (the same renderer and API the desktop app uses, over WebSocket):
 * a bad folder shows a typed message, a fixture model renders an image, the jobs panel's progress moves with an ETA,
 * Cancel stops a job. Leaves a screenshot of the final state in test-output/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { FIXTURE_MODELS } from '../helpers/model-folders';
import { launchChromium, screenshot, startSuiteWebMode, until as poll, type WebMode } from './harness';

const LARGE = join(FIXTURE_MODELS, 'analytic-large');

let web: WebMode;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  ({ web } = await startSuiteWebMode('webui'));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await web?.close();
});

const until = (what: string, cond: () => Promise<boolean>, timeout = 60_000) => poll(what, cond, timeout, 20);

/** Web mode has no native folder dialog: "Model folder path…" shows a path field. */
async function openFolder(dir: string): Promise<void> {
  await page.getByTestId('model-select').selectOption('__custom__');
  await page.getByTestId('model-dir').fill(dir);
  await page.getByTestId('model-dir').press('Enter');
}

describe('web UI in Chromium', () => {
  it('loads through the token URL (cookie) and connects over WebSocket', async () => {
    await page.goto(web.server.url);
    expect(new URL(page.url()).search).toBe(''); // token swapped for a cookie
    await page.getByTestId('new-from-seed').waitFor();
    await until('the app info', async () => (await page.getByTestId('statusbar').textContent())?.includes('· web') ?? false);
    // The bundled model opens first; wait for it so the next step does not race the start-up.
    await until('the bundled model', async () => (await page.getByTestId('model-select').inputValue()) !== '');
  });

  it('a bad model folder shows its typed error, naming the file', async () => {
    await openFolder(join(FIXTURE_MODELS, 'does-not-exist'));
    const err = page.locator('[data-testid="notice"][data-kind="error"]');
    await err.waitFor();
    expect(await err.getAttribute('data-code')).toBe('missing-file');
    expect(await err.textContent()).toContain('does-not-exist');
    expect(await err.textContent()).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    await err.getByRole('button', { name: 'Dismiss' }).click();
  });

  it('opens the test model folder, renders a seed, and the image appears', async () => {
    await openFolder(LARGE);
    await until('the model to open', async () => (await page.getByTestId('statusbar').textContent())?.includes('analytic-large') ?? false);
    await page.getByTestId('seed').fill('7');
    await page.getByTestId('steps').fill('50');
    await page.getByTestId('new-from-seed').click();
    await page.getByTestId('canvas-image').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('device-in-use').textContent()).resolves.toContain('CPU');
    expect(await page.locator('[data-testid="notice"][data-kind="error"]').count()).toBe(0);
    // The image is the 256×256 PNG and it is not blank.
    // Evaluated in the page as a string: this file is type-checked against Node's lib, not the DOM's.
    await until('the image to decode', async () => Number(await page.evaluate(`document.querySelector('[data-testid="canvas-image"]').naturalWidth`)) > 0);
    const stats = (await page.evaluate(`(() => {
      const img = document.querySelector('[data-testid="canvas-image"]');
      const c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      for (let i = 0; i < d.length; i += 4) sum += d[i];
      return { w: c.width, h: c.height, meanRed: sum / (d.length / 4) };
    })()`)) as { w: number; h: number; meanRed: number };
    expect(stats).toMatchObject({ w: 256, h: 256 });
    // mu's red channel is +0.5 → mean pixel ≈ 255·(1 + 0.5)/2 ≈ 191 (noise is clipped a little at 255).
    expect(stats.meanRed).toBeGreaterThan(150);
    expect(stats.meanRed).toBeLessThan(215);
  });

  it('the jobs panel shows progress with an ETA during a long run, and Cancel stops it', async () => {
    await page.getByTestId('tab-jobs').click();
    await page.getByTestId('steps').fill('1000');
    await page.getByTestId('new-from-seed').click();
    const bar = page.getByRole('progressbar').first();
    const seen: number[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const v = Number((await bar.getAttribute('aria-valuenow').catch(() => null)) ?? 0);
      if (v > 0 && v < 100 && !seen.includes(v)) seen.push(v);
      if (seen.length >= 3) break;
      await page.waitForTimeout(20);
    }
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen); // monotone
    await expect(page.getByTestId('jobs-list').textContent()).resolves.toMatch(/s left/); // ETA shown
    await page.getByTestId('statusbar').getByRole('button', { name: 'Cancel' }).click();
    await until('the job to end as cancelled', async () => (await page.locator('[data-testid="job"][data-status="cancelled"]').count()) === 1, 30_000);
    expect(await page.locator('[data-testid="notice"][data-kind="error"]').count()).toBe(0); // a cancel is not a failure
    expect(await page.getByTestId('new-from-seed').isEnabled()).toBe(true);
    await screenshot(page, 'e2e-web-ui.png', page.locator('[data-testid="job"][data-status="cancelled"]'));
  });

  it('logged no page errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
