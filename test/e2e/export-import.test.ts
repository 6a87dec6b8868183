/**
 * Issue 16's output and feedback items in headless Chromium against web mode (bundled avatars64, 64×64):
 *  - a model folder that cannot be opened shows an error state in the Model box (and the bundled one clears it);
 *  - importing an 800×600 picture says it was resized to 64×64 and cropped to a square;
 *  - File › Export PNG scaled… downloads a PNG of 2× (Lanczos) and 4× (nearest) the size carrying the recipe, and
 *    the nearest one is the 1× export's pixels replicated exactly.
 * Screenshots: test-output/export-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { readPngText, RECIPE_KEY } from '../../src-renderer/src/lib/png-text';
import { OUT, screenshot, until, type WebMode, closeEditorSuite, openEditorSuite } from './harness';

const LONG = 240_000;

let web: WebMode;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  ({ web, browser, page } = await openEditorSuite('e2e-export', pageErrors));
}, 180_000);

afterAll(() => closeEditorSuite({ browser, web }));

/** Export through the menu item `testid` (and the dialog's choices), returning the downloaded bytes. */
async function exportVia(testid: string, name: string, choose?: { scale: number; filter: 'nearest' | 'lanczos' }): Promise<Uint8Array> {
  const download = page.waitForEvent('download');
  await page.getByTestId('menu-file').click();
  await page.getByTestId(testid).click();
  if (choose) {
    await page.getByTestId('export-dialog').waitFor();
    await page.getByTestId(`export-scale-${choose.scale}`).check();
    await page.getByTestId(`export-filter-${choose.filter}`).check();
    await screenshot(page, `export-dialog-${choose.scale}x.png`, page.getByTestId('export-dialog'));
    await page.getByTestId('export-confirm').click();
  }
  const d = await download;
  const file = join(OUT, name);
  await d.saveAs(file);
  return new Uint8Array(readFileSync(file));
}

describe('model box, import notice and scaled export', () => {
  it('a folder that is not a model shows an error state; the bundled model clears it', async () => {
    await expect(page.getByTestId('model-loading').count()).resolves.toBe(0);
    await page.getByTestId('model-select').selectOption({ label: 'Model folder path…' });
    await page.getByTestId('model-dir').fill('/nonexistent/not-a-model');
    await page.getByTestId('model-dir').press('Enter');
    await page.getByTestId('model-error').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('model-error').textContent()).resolves.toContain('Not opened');
    await expect(page.getByTestId('model-error').getAttribute('title')).resolves.toContain('not-a-model');
    await screenshot(page, 'export-model-error.png', page.getByTestId('model-error'));
    const bundled = await page.getByTestId('model-select').locator('option', { hasText: '(bundled)' }).first().getAttribute('value');
    await page.getByTestId('model-select').selectOption(bundled!);
    await until('the error state to clear', async () => (await page.getByTestId('model-error').count()) === 0, 30_000);
  });

  it('importing an 800×600 picture says it was resized and cropped to 64×64', async () => {
    await page.getByTestId('steps').fill('11');
    const picture = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#6a8cb0' } })
      .composite([{ input: await sharp({ create: { width: 300, height: 300, channels: 3, background: '#d0a070' } }).png().toBuffer(), left: 250, top: 150 }])
      .jpeg()
      .toBuffer();
    await page.getByTestId('import-input').setInputFiles({ name: 'wide.jpg', mimeType: 'image/jpeg', buffer: picture });
    await page.getByTestId('psnr').waitFor({ timeout: LONG });
    const notice = page.getByTestId('notice').filter({ hasText: 'Resized from' });
    await notice.waitFor();
    await expect(notice.textContent()).resolves.toContain('Resized from 800×600 to 64×64 (centre-cropped to a square).');
    await screenshot(page, 'export-import-notice.png', notice);
  });

  it('exports at 2× (Lanczos) and 4× (nearest) with the recipe; nearest replicates the 1× pixels', async () => {
    const base = await exportVia('menu-export', 'export-1x.png');
    const baseMeta = await sharp(Buffer.from(base)).metadata();
    expect([baseMeta.width, baseMeta.height]).toEqual([64, 64]);

    const twice = await exportVia('menu-export-scaled', 'export-2x.png', { scale: 2, filter: 'lanczos' });
    const twiceMeta = await sharp(Buffer.from(twice)).metadata();
    expect([twiceMeta.format, twiceMeta.width, twiceMeta.height]).toEqual(['png', 128, 128]);
    const text = readPngText(twice);
    expect(text[RECIPE_KEY]).toBe(readPngText(base)[RECIPE_KEY]);
    expect(JSON.parse(text[RECIPE_KEY])).toMatchObject({ source: { kind: 'image', name: 'wide.jpg' } });
    expect(text.Scale).toBe('2× lanczos from 64×64');

    const four = await exportVia('menu-export-scaled', 'export-4x.png', { scale: 4, filter: 'nearest' });
    const a = await sharp(Buffer.from(base)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const b = await sharp(Buffer.from(four)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([b.info.width, b.info.height]).toEqual([256, 256]);
    expect(readPngText(four).Scale).toBe('4× nearest from 64×64');
    let mismatches = 0;
    for (let y = 0; y < 256; y++)
      for (let x = 0; x < 256; x++)
        for (let c = 0; c < 3; c++) if (b.data[(y * 256 + x) * 3 + c] !== a.data[((y >> 2) * 64 + (x >> 2)) * 3 + c]) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('logged no page errors except the refused folder', () => {
    // The failed open is reported by the page as a notice; Chromium's GPU messages are not the app's.
    expect(pageErrors.filter((e) => !/Vulkan|nonexistent|not-a-model/i.test(e))).toEqual([]);
  });
});
