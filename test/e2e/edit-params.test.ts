/**
 * The edit stack's Advanced controls end to end in headless Chromium against web mode, on the bundled model: the
 * gallery says its previews are approximate, changing n and δ re-renders Apply with a different image, the preview
 * steps field drives the gallery, undo brings the earlier image back from the render cache, and Reset returns to the
 * defaults; the authors' strip exports as one PNG. Screenshot: test-output/edit-params-advanced.png; the strip:
 * test-output/edit-params-guidance-strip.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { readPngText } from '../../src-renderer/src/lib/png-text';
import { computeDirections, OUT, canvasHash, screenshot, until, type WebMode, closeEditorSuite, openEditorSuite } from './harness';

const LONG = 240_000;
let web: WebMode;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function idle(): Promise<void> {
  await until('the jobs to finish', async () => (await page.getByTestId('statusbar').locator('button').count()) === 0, LONG, 100);
}

/** Type a value into an Advanced field and commit it (change event). */
async function setField(testid: string, value: string): Promise<void> {
  await page.getByTestId(testid).fill(value);
  await page.getByTestId(testid).press('Enter');
  await page.getByTestId(testid).blur();
}

beforeAll(async () => {
  ({ web, browser, page } = await openEditorSuite('e2e-params', pageErrors));
}, 180_000);

afterAll(() => closeEditorSuite({ browser, web }));

describe('edit stack: Advanced edit parameters', () => {
  it('apply with changed n and δ renders another image; undo restores it; reset returns to the defaults', async () => {
    await page.getByTestId('seed').fill('3');
    await page.getByTestId('steps').fill('11');
    await page.getByTestId('new-from-seed').click();
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    // Cheap previews: the field lives in the Advanced disclosure.
    await page.getByTestId('edit-params').locator('summary').click();
    await setField('param-previewSteps', '3');
    await page.getByTestId('basis-k').fill('2');
    await computeDirections(page);
    await page.getByTestId('gallery-approximate').waitFor({ timeout: LONG });
    await expect(page.getByTestId('gallery-approximate').textContent()).resolves.toMatch(/approximate: 3 render steps.*100 steps/s);
    await idle();
    await page.getByTestId('add-direction').first().click();
    await page.getByTestId('apply').click();
    await idle();
    const byDefault = await canvasHash(page);

    await setField('param-guidanceSteps', '4');
    await setField('param-delta', '2');
    await setField('param-renderSteps', '20');
    await expect(page.getByTestId('edit-params').locator('summary').textContent()).resolves.toMatch(/guidance, n 4/);
    await page.getByTestId('apply').click();
    await idle();
    const changed = await canvasHash(page);
    expect(changed).not.toBe(byDefault);
    await screenshot(page, 'edit-params-advanced.png', page.getByTestId('edit-params'));

    await page.getByTestId('param-reset').click();
    expect(await page.getByTestId('param-guidanceSteps').inputValue()).toBe('16');
    expect(await page.getByTestId('param-reset').isDisabled()).toBe(true);
    await page.getByTestId('apply').click();
    await idle();
    expect(await canvasHash(page)).toBe(byDefault); // the defaults' render, from the cache
    await page.locator('body').click({ position: { x: 5, y: 400 } });
    await page.keyboard.press('Control+z'); // undo the reset: n = 4 again, its render from the cache
    await until('n = 4 again', async () => (await page.getByTestId('param-guidanceSteps').inputValue()) === '4', 10_000);
    await idle();
    expect(await canvasHash(page)).toBe(changed);

    // The authors' strip at these parameters: frames after 0 and 4 guidance steps, − and +: −4, 0, +4.
    const download = page.waitForEvent('download');
    await page.getByTestId('export-guidance-strip').click();
    const file = join(OUT, 'edit-params-guidance-strip.png');
    await (await download).saveAs(file);
    const meta = await sharp(file).metadata();
    expect([meta.width, meta.height]).toEqual([3 * 64 + 2 * 2, 64]);
    expect(readPngText(new Uint8Array(readFileSync(file))).Directions).toMatch(/after 0, 4 guidance steps/);
    expect(pageErrors).toEqual([]);
  });
});
