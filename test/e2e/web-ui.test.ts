/**
 * End to end in headless Chromium against web mode (the same renderer and API the desktop app uses, over WebSocket):
 * a bad folder shows a typed message, generation shows an image, the progress bar moves, Cancel stops a job.
 * Leaves a screenshot of the final state in test-output/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startWebMode } from '../../src-main/server/main';
import { FIXTURE_MODELS } from '../helpers/model-folders';

const ROOT = resolve(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'test-output');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const LARGE = join(FIXTURE_MODELS, 'analytic-large');

let web: Awaited<ReturnType<typeof startWebMode>>;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'out', 'renderer', 'index.html'))) {
    // `npm test` builds first; running this file alone builds the renderer once.
    const r = spawnSync('npx', ['electron-vite', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('electron-vite build failed');
  }
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(OUT, { recursive: true });
  web = await startWebMode({ port: 0, rendererDir: join(ROOT, 'out', 'renderer') });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await web?.close();
});

async function openFolder(dir: string): Promise<void> {
  await page.getByTestId('model-select').selectOption('__custom__');
  await page.getByTestId('model-dir').fill(dir);
}

async function fraction(): Promise<number> {
  return Number(await page.getByTestId('progress').getAttribute('data-fraction'));
}

describe('web UI in Chromium', () => {
  it('loads through the token URL (cookie) and connects over WebSocket', async () => {
    await page.goto(web.server.url);
    expect(new URL(page.url()).search).toBe(''); // token swapped for a cookie
    await page.getByTestId('generate').waitFor();
    await expect(page.locator('.mode').textContent()).resolves.toContain('web');
  });

  it('a bad model folder shows its typed error, naming the file', async () => {
    await openFolder(join(FIXTURE_MODELS, 'does-not-exist'));
    await page.getByTestId('steps').fill('5');
    await page.getByTestId('generate').click();
    const err = page.getByTestId('error');
    await err.waitFor();
    expect(await err.getAttribute('data-code')).toBe('missing-file');
    expect(await err.textContent()).toContain('does-not-exist');
    expect(await err.textContent()).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it('opens the test model folder, generates, and the image appears', async () => {
    await openFolder(LARGE);
    await page.getByTestId('seed').fill('7');
    await page.getByTestId('steps').fill('50');
    await page.getByTestId('generate').click();
    await page.locator('canvas[data-drawn="true"]').waitFor({ timeout: 60_000 });
    expect(await fraction()).toBe(1);
    await expect(page.getByTestId('status').textContent()).resolves.toContain('ran on cpu');
    expect(await page.getByTestId('error').count()).toBe(0);
    // The canvas holds the 256×256 PNG and it is not blank.
    // Evaluated in the page as a string: this file is type-checked against Node's lib, not the DOM's.
    const stats = (await page.evaluate(`(() => {
      const c = document.querySelector('canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      for (let i = 0; i < d.length; i += 4) sum += d[i];
      return { w: c.width, h: c.height, meanRed: sum / (d.length / 4) };
    })()`)) as { w: number; h: number; meanRed: number };
    expect(stats).toMatchObject({ w: 256, h: 256 });
    // mu's red channel is +0.5 → mean pixel ≈ 255·(1 + 0.5)/2 ≈ 191 (noise is clipped a little at 255).
    expect(stats.meanRed).toBeGreaterThan(150);
    expect(stats.meanRed).toBeLessThan(215);
  });

  it('the progress bar moves during a long run and Cancel stops it', async () => {
    await page.getByTestId('steps').fill('1000');
    await page.getByTestId('generate').click();
    const seen: number[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const f = await fraction();
      if (f > 0 && f < 1 && !seen.includes(f)) seen.push(f);
      if (seen.length >= 3) break;
      await page.waitForTimeout(20);
    }
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen); // monotone
    await expect(page.getByTestId('status').textContent()).resolves.toMatch(/s left/); // ETA shown
    await page.getByTestId('cancel').click();
    const err = page.getByTestId('error');
    await err.waitFor({ timeout: 30_000 });
    expect(await err.getAttribute('data-code')).toBe('cancelled');
    expect(await fraction()).toBeLessThan(1);
    expect(await page.getByTestId('generate').isEnabled()).toBe(true);
    await page.screenshot({ path: join(OUT, 'e2e-web-ui.png'), fullPage: true });
    expect(existsSync(join(OUT, 'e2e-web-ui.png'))).toBe(true);
  });

  it('logged no page errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
