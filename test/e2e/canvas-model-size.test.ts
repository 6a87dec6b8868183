/**
 * The canvas at a Stable Diffusion model's own resolution (issue 11 item 7): the tiny SD fixture in the Optimum layout
 * has dynamic latent H/W and states its size in unet/config.json, so a copy whose `sample_size` is 64 is a 512×512
 * model (the weights are the fixture's; only the size changes). In headless Chromium against web mode: a prompt
 * renders a 512×512 picture; Fit shows all of it inside the view (below 100 %), 1:1 shows it pixel for pixel, the
 * zoom buttons and a drag pan it; a mask painted at the fitted scale lands on the image pixels under the mouse.
 * Screenshots: test-output/canvas-512-{fit,actual}.png. Six DDIM steps keep it short (a 512² render of the tiny
 * pipeline is about a second per step on two cores).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { textFolder } from '../helpers/text-fixtures';
import { elementPixels, screenshot, until as poll, type WebMode, closeEditorSuite, openEditorSuite } from './harness';

const LONG = 240_000;
const SIZE = 512;
const LATENT_SIZE = SIZE / 8;

let web: WebMode;
let browser: Browser;
let page: Page;
let modelDir = '';
const pageErrors: string[] = [];

const until = (what: string, cond: () => Promise<boolean>, timeout = LONG) => poll(what, cond, timeout, 100);

async function zoomPercent(): Promise<number> {
  return Number.parseInt((await page.getByTestId('zoom').textContent()) ?? '', 10);
}

beforeAll(async () => {
  modelDir = mkdtempSync(join(tmpdir(), 'pb-sd512-'));
  cpSync(textFolder('sd1-optimum'), modelDir, { recursive: true });
  const configFile = join(modelDir, 'unet', 'config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { sample_size: number };
  config.sample_size = LATENT_SIZE;
  writeFileSync(configFile, JSON.stringify(config));
  // A laptop-height window, so the 512² picture must be shown below 100 % to fit (as 768² would on most screens).
  ({ web, browser, page } = await openEditorSuite('canvas512', pageErrors, { width: 1280, height: 600 }));
}, 180_000);

afterAll(async () => {
  await closeEditorSuite({ browser, web });
  if (modelDir) rmSync(modelDir, { recursive: true, force: true });
});

describe('the canvas at a 512×512 model', () => {
  it('a prompt renders a 512×512 picture', async () => {
    await page.getByTestId('model-select').selectOption('__custom__');
    await page.getByTestId('model-dir').fill(modelDir);
    await page.getByTestId('model-dir').press('Enter');
    await page.getByTestId('prompt-fields').waitFor({ timeout: LONG });
    await page.getByTestId('seed').fill('3');
    await page.getByTestId('steps').fill('6');
    await page.getByTestId('prompt').fill('a photo of a cat');
    await page.getByTestId('new-from-seed').click();
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    await until('the 512² picture', async () => Number(await page.evaluate(`document.querySelector('[data-testid="canvas-image"]')?.naturalWidth ?? 0`)) === SIZE);
    const img = await elementPixels(page, '[data-testid="canvas-image"]');
    expect([img.width, img.height]).toEqual([SIZE, SIZE]);
  }, LONG);

  it('Fit shows the whole picture inside the view, below 100 %', async () => {
    await page.getByRole('button', { name: 'Fit' }).click();
    const fit = await zoomPercent();
    expect(fit).toBeLessThan(100);
    const shown = (await page.getByTestId('canvas-image').boundingBox())!;
    const view = (await page.locator('.view').first().boundingBox())!;
    expect(shown.width).toBeCloseTo((SIZE * fit) / 100, -1);
    expect(shown.x).toBeGreaterThanOrEqual(view.x);
    expect(shown.y).toBeGreaterThanOrEqual(view.y);
    expect(shown.x + shown.width).toBeLessThanOrEqual(view.x + view.width + 0.5);
    expect(shown.y + shown.height).toBeLessThanOrEqual(view.y + view.height + 0.5);
    await screenshot(page, 'canvas-512-fit.png', page.getByTestId('canvas-image'));
  }, LONG);

  it('1:1 shows it pixel for pixel; zoom in and a drag pan it', async () => {
    await page.getByRole('button', { name: '1:1' }).click();
    expect(await zoomPercent()).toBe(100);
    const actual = (await page.getByTestId('canvas-image').boundingBox())!;
    expect(actual.width).toBeCloseTo(SIZE, 0);
    expect(actual.height).toBeCloseTo(SIZE, 0);
    await screenshot(page, 'canvas-512-actual.png', page.getByTestId('canvas-image'));
    await page.getByRole('button', { name: 'Zoom in' }).click();
    expect(await zoomPercent()).toBe(125);
    const before = (await page.getByTestId('canvas-image').boundingBox())!;
    const view = (await page.locator('.view').first().boundingBox())!;
    const cx = view.x + view.width / 2;
    const cy = view.y + view.height / 2;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 60, cy + 40, { steps: 5 });
    await page.mouse.up();
    const after = (await page.getByTestId('canvas-image').boundingBox())!;
    expect(after.x - before.x).toBeCloseTo(60, 0);
    expect(after.y - before.y).toBeCloseTo(40, 0);
  }, LONG);

  it('a mask painted at the fitted scale lands on the image pixels under the mouse', async () => {
    await page.getByRole('button', { name: 'Fit' }).click();
    await page.getByTestId('mask-mode').click();
    await page.getByTestId('mask-paint-layer').waitFor();
    const box = (await page.getByTestId('canvas-image').boundingBox())!;
    const s = box.width / SIZE;
    const to = (x: number, y: number) => page.mouse.move(box.x + x * s, box.y + y * s, { steps: 8 });
    // A horizontal stroke across image row 100, columns 100–300 (brush at its default size).
    await to(100, 100);
    await page.mouse.down();
    await to(300, 100);
    await page.mouse.up();
    await until('the stroke committed', async () => /^[0-9a-f]{64}$/.test((await page.getByTestId('mask-overlay').getAttribute('data-mask-hash')) ?? ''), 10_000);
    const overlay = await elementPixels(page, '[data-testid="mask-overlay"]');
    expect([overlay.width, overlay.height]).toEqual([SIZE, SIZE]);
    const alpha = (x: number, y: number) => overlay.data[4 * (y * SIZE + x) + 3];
    // On the stroke's path, in image pixels; not far below it, nor past its ends.
    for (const x of [110, 200, 290]) expect(alpha(x, 100)).toBeGreaterThan(0);
    expect(alpha(200, 300)).toBe(0);
    expect(alpha(450, 100)).toBe(0);
    // The painted rows are centred on row 100 (a scale error would shift or stretch them).
    let sumY = 0;
    let n = 0;
    for (let y = 0; y < SIZE; y++)
      if (alpha(200, y) > 0) {
        sumY += y;
        n++;
      }
    expect(Math.abs(sumY / n - 100)).toBeLessThan(2);
    expect(pageErrors).toEqual([]);
  }, LONG);
});
