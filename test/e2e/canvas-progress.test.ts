/**
 * The canvas shows a render's progress (issue 16), in headless Chromium against web mode on the bundled model, with
 * screenshots test-output/canvas-progress-*.png:
 *  - New from seed: the canvas shows the progress overlay (job, step, %, Cancel) with an in-progress x̂₀ picture that
 *    is not the canvas image, then the final image without the overlay; the jobs panel and status bar had an ETA;
 *  - Cancel on the overlay stops a second render: the overlay goes and the canvas keeps the first image.
 * 60 DDIM steps (≈ 0.1 s each on two cores) leave room for several previews (at most one per 250 ms).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { OUT, canvasHash, screenshot, until, type WebMode, closeEditorSuite, openEditorSuite } from './harness';

const LONG = 240_000;

let web: WebMode | undefined;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  for (const f of readdirSync(OUT)) if (/^canvas-progress-.*\.png$/.test(f)) rmSync(join(OUT, f));
  ({ web, browser, page } = await openEditorSuite('canvas-progress', pageErrors));
}, 300_000);

afterAll(() => closeEditorSuite({ browser, web }));

describe('canvas progress', () => {
  it('New from seed shows the overlay with an in-progress x̂₀, then the final image without it', async () => {
    await page.getByTestId('seed').fill('7');
    await page.getByTestId('steps').fill('60');
    await page.getByTestId('new-from-seed').click();
    const overlay = page.getByTestId('canvas-progress');
    const x0 = page.getByTestId('canvas-progress-x0');
    await overlay.waitFor({ state: 'visible', timeout: LONG });
    // An in-progress picture arrives (hashed on the element), while the job still runs.
    let x0Hash = '';
    await until('an x̂₀ preview on the overlay', async () => {
      x0Hash = (await x0.getAttribute('data-sha256').catch(() => null)) ?? '';
      return /^[0-9a-f]{64}$/.test(x0Hash) && (await overlay.isVisible());
    }, LONG);
    const timestep = Number(await x0.getAttribute('data-timestep'));
    expect(timestep).toBeGreaterThan(0);
    expect(timestep).toBeLessThan(1000);
    // Labelled as in progress, with the step and Cancel; it is not the canvas image (there is none yet).
    await expect(overlay.textContent()).resolves.toMatch(/In progress[\s\S]*not the final image[\s\S]*step \d+\/60/);
    await expect(page.getByTestId('canvas-progress-cancel').isVisible()).resolves.toBe(true);
    await expect(page.getByTestId('canvas-image').count()).resolves.toBe(0);
    // The status bar carries the job's ETA once measured steps exist.
    await until('an ETA in the status bar', async () => /s left/.test((await page.getByTestId('statusbar-job').textContent().catch(() => '')) ?? ''), LONG);
    await screenshot(page, 'canvas-progress-1-running.png', x0);
    // Later previews replace the first (the prediction sharpens as the steps go down): one from the middle of the
    // schedule, where the face shows, is pictured when the render is still running then.
    let later = timestep;
    let lowest = timestep;
    await until('a later x̂₀', async () => {
      later = Number((await x0.getAttribute('data-timestep').catch(() => null)) ?? NaN);
      if (Number.isFinite(later)) lowest = Math.min(lowest, later);
      return (Number.isFinite(later) && later <= 700) || !(await overlay.isVisible());
    }, LONG);
    expect(lowest).toBeLessThan(timestep);
    // The picture only (the render may end meanwhile: then there is nothing left to picture, which is no failure).
    if (later <= 700 && (await x0.isVisible())) await screenshot(page, 'canvas-progress-2-sharper.png', x0).catch(() => undefined);
    // The final image, and no overlay.
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    await until('the overlay to go', async () => (await overlay.count()) === 0, 10_000);
    const final = await canvasHash(page);
    expect(final).not.toBe(x0Hash);
    await screenshot(page, 'canvas-progress-3-done.png', page.getByTestId('canvas-image'));
    expect(pageErrors).toEqual([]);
  }, 300_000);

  it('Cancel on the overlay stops the render and leaves the canvas as it was', async () => {
    const before = await canvasHash(page);
    await page.getByTestId('seed').fill('8');
    await page.getByTestId('steps').fill('400');
    await page.getByTestId('new-from-seed').click();
    const overlay = page.getByTestId('canvas-progress');
    await overlay.waitFor({ state: 'visible', timeout: LONG });
    await page.getByTestId('canvas-progress-x0').waitFor({ state: 'visible', timeout: LONG });
    await page.getByTestId('canvas-progress-cancel').click();
    await until('the overlay to go after Cancel', async () => (await overlay.count()) === 0, 60_000);
    expect(await canvasHash(page)).toBe(before);
    await expect(page.getByTestId('canvas-progress-x0').count()).resolves.toBe(0);
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
