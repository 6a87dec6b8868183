/**
 * Masked directions end to end (issue 13 item 2) in headless Chromium against web mode on the bundled model: paint a
 * mask with the mouse in Mask mode, compute the masked directions (k = 2): the gallery says they are masked and each
 * heat map's energy (|v|², decoded from its PNG) lies inside the painted region; apply with "keep outside exactly":
 * the pixels well outside the mask are the same for strengths +4 and −4 (both are the unedited render there)
 * while the inside changes; save, reopen in a fresh page: the mask and its masked gallery are back.
 * Screenshots: test-output/mask-*.png (copied to /tmp/shots when that folder exists). 11 DDIM steps and k = 2 keep it
 * to a few minutes on two cores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Locator, Page } from 'playwright-core';
import { loadProjectFile } from '../../src-main/core/project';
import { computeDirections, OUT, canvasHash, elementPixels, openEditor, screenshot, until as poll, type Rgba, type WebMode, closeEditorSuite, openEditorSuite } from './harness';

const LONG = 240_000;
/** Pixels at least this far (in image pixels) from any masked pixel count as "well outside". */
const MARGIN = 3;
/** Largest 8-bit difference allowed there between two keep-outside renders: none (regionBlend is exact at weight 0). */
const OUTSIDE_TOLERANCE = 0;

let web: WebMode;
let dataDir = '';
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function snap(name: string, shows: Locator): Promise<void> {
  const file = `mask-${name}.png`;
  await screenshot(page, file, shows);
  if (existsSync('/tmp/shots')) copyFileSync(join(OUT, file), join('/tmp/shots', file));
}
const until = (what: string, cond: () => Promise<boolean>, timeout = LONG) => poll(what, cond, timeout, 100);

async function idle(): Promise<void> {
  await until('the jobs to finish', async () => (await page.getByTestId('statusbar').locator('button').count()) === 0);
}

/** Pixels whose distance to every masked pixel (level > 0) is at least MARGIN. */
function wellOutside(mask: (i: number) => number, w: number, h: number): boolean[] {
  const out: boolean[] = [];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let far = true;
      for (let dy = -MARGIN; dy <= MARGIN && far; dy++)
        for (let dx = -MARGIN; dx <= MARGIN && far; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx >= 0 && yy >= 0 && xx < w && yy < h && mask(yy * w + xx) > 0) far = false;
        }
      out.push(far);
    }
  return out;
}

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  ({ web, dataDir, browser, page } = await openEditorSuite('e2e-mask', pageErrors));
}, 180_000);

afterAll(() => closeEditorSuite({ browser, web }));

describe('masked directions', () => {
  let maskHash = '';
  let maskAlpha: number[] = [];
  let width = 0;

  it('paints a mask with the mouse in Mask mode', async () => {
    await page.getByTestId('seed').fill('3');
    await page.getByTestId('steps').fill('11');
    await page.getByTestId('new-from-seed').click();
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    await page.getByTestId('mask-mode').click();
    await page.getByTestId('mask-paint-layer').waitFor();
    const box = (await page.getByTestId('canvas-image').boundingBox())!;
    width = Number(await page.evaluate(`document.querySelector('[data-testid="canvas-image"]').naturalWidth`));
    const s = box.width / width;
    const to = (x: number, y: number) => page.mouse.move(box.x + x * s, box.y + y * s, { steps: 6 });
    // A loop in the upper left quarter (image pixels), brush 16 px, feather 50 %.
    await to(14, 14);
    await page.mouse.down();
    for (const [x, y] of [
      [24, 14],
      [24, 22],
      [14, 22],
    ])
      await to(x, y);
    await page.mouse.up();
    await until('the stroke committed', async () => /^[0-9a-f]{64}$/.test((await page.getByTestId('mask-overlay').getAttribute('data-mask-hash')) ?? ''), 10_000);
    maskHash = (await page.getByTestId('mask-overlay').getAttribute('data-mask-hash'))!;
    const overlay = await elementPixels(page, '[data-testid="mask-overlay"]');
    expect([overlay.width, overlay.height]).toEqual([width, width]);
    maskAlpha = overlay.data.filter((_, i) => i % 4 === 3);
    const inside = maskAlpha.filter((a) => a > 0).length / maskAlpha.length;
    expect(inside).toBeGreaterThan(0.05);
    expect(inside).toBeLessThan(0.4);
    // Painted where the mouse went, not elsewhere.
    expect(maskAlpha[18 * width + 19]).toBeGreaterThan(100);
    expect(maskAlpha[50 * width + 50]).toBe(0);
    await expect(page.getByTestId('mask-status').textContent()).resolves.toMatch(/Mask covers \d+ %/);
    await snap('1-painted', page.getByTestId('mask-overlay'));
  }, LONG);

  it('computes masked directions: the gallery says so and each heat map’s energy is inside the mask', async () => {
    await page.getByTestId('mask-mode').click(); // back to panning
    await page.getByTestId('basis-k').fill('2');
    await computeDirections(page);
    await page.getByTestId('basis-cancel').waitFor();
    await until('the gallery job to end', async () => (await page.getByTestId('basis-compute').count()) === 1 && (await page.getByTestId('basis-cancel').count()) === 0);
    await page.getByTestId('gallery-masked').waitFor();
    await expect(page.getByTestId('gallery-masked').textContent()).resolves.toMatch(/Masked directions/);
    expect(await page.getByTestId('heat-map').count()).toBe(2);
    for (let i = 0; i < 2; i++) {
      const heat = await elementPixels(page, '[data-testid="heat-map"]', i);
      expect([heat.width, heat.height]).toEqual([width, width]);
      // The engine's colour map: red = 30 + 225·|v|/max, so (red − 30)/225 is the normalised |v|.
      let inside = 0;
      let total = 0;
      for (let p = 0; p < width * width; p++) {
        const v = Math.max(0, heat.data[4 * p] - 30) / 225;
        total += v * v;
        if (maskAlpha[p] > 0) inside += v * v;
      }
      expect(total).toBeGreaterThan(0);
      expect(inside / total).toBeGreaterThan(0.999);
    }
    await snap('2-masked-gallery', page.getByTestId('gallery-masked'));
  }, LONG);

  it('applies with "keep outside exactly": pixels well outside the mask do not change with the strength', async () => {
    await page.getByTestId('add-direction').first().click();
    await page.getByTestId('mask-keep-outside').check();
    const renders: Rgba[] = [];
    for (const strength of ['4', '-4']) {
      const before = await canvasHash(page);
      await page.getByTestId('stack-strength-value').fill(strength);
      await page.getByTestId('stack-strength-value').press('Enter');
      await page.getByTestId('apply').click();
      await idle();
      await until('the applied image', async () => (await canvasHash(page)) !== before, 60_000);
      renders.push(await elementPixels(page, '[data-testid="canvas-image"]'));
    }
    const far = wellOutside((i) => maskAlpha[i], width, width);
    expect(far.filter(Boolean).length).toBeGreaterThan(width * width * 0.4);
    let outsideMax = 0;
    let insideSum = 0;
    let insideN = 0;
    for (let p = 0; p < width * width; p++)
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(renders[0].data[4 * p + c] - renders[1].data[4 * p + c]);
        if (far[p]) outsideMax = Math.max(outsideMax, d);
        if (maskAlpha[p] > 100) {
          insideSum += d;
          insideN++;
        }
      }
    expect(outsideMax).toBeLessThanOrEqual(OUTSIDE_TOLERANCE);
    // The edit itself acts inside: ±4 differ there (mean 8-bit difference; ≈ 0.7 at ±2 on this seed), so the
    // equality outside is not that of two equal pictures.
    expect(insideSum / insideN).toBeGreaterThan(0.5);
    await snap('3-applied-keep-outside', page.getByTestId('canvas-image'));
  }, LONG);

  it('save and reopen keep the mask and its masked gallery', async () => {
    await page.keyboard.press('Control+s');
    await page.getByTestId('project-name').fill('masked');
    await page.getByTestId('project-save-confirm').click();
    await page.getByTestId('project-title').filter({ hasText: 'masked' }).waitFor();
    const saved = loadProjectFile(join(dataDir, 'projects', 'masked.pbproj'));
    expect(saved.manifest.state.mask).toBe(maskHash);
    expect(saved.manifest.masks).toContain(maskHash);
    expect(saved.manifest.state.keepOutside).toBe(true);
    // The mask blob is a greyscale PNG of the image's size whose selected pixels are the painted ones.
    const blob = Buffer.from(saved.blobs.get(maskHash)!);
    const meta = await sharp(blob).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([width, width, 1]);
    const { data } = await sharp(blob).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    for (let p = 0; p < width * width; p++) expect(data[p] > 0).toBe(maskAlpha[p] > 0);

    await page.close();
    page = await openEditor(browser, web.server.url, pageErrors);
    await page.getByTestId('menu-file').click();
    await page.getByTestId('menu-open').click();
    await page.getByTestId('project-item').filter({ hasText: 'masked' }).click();
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    await until('the mask restored', async () => (await page.getByTestId('mask-overlay').getAttribute('data-mask-hash')) === maskHash, 30_000);
    await expect(page.getByTestId('mask-keep-outside').isChecked()).resolves.toBe(true);
    await page.getByTestId('gallery-masked').waitFor();
    await snap('4-reopened', page.getByTestId('mask-overlay'));
    expect(pageErrors).toEqual([]);
  }, LONG);
});
