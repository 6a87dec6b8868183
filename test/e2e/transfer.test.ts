/**
 * Transfer edit… end to end in headless Chromium against web mode, on the bundled model: a direction of seed 3's
 * basis (k = 2) goes on the stack, is transferred to seeds 5 and 8, each target shows one overlap meter in
 * [0, 100] % equal to what the `transport` job reports for it (run here again: a basis-cache hit), an approximate
 * preview next to the unedited seed; Apply to all renders both exactly and Export all downloads two PNGs of the
 * model's size that carry the transfer in their text chunks. Screenshots: test-output/transfer-preview.png,
 * test-output/transfer-applied.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Download, Page } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { readPngText } from '../../src-renderer/src/lib/png-text';
import { TRANSFER_KEY, sharePercent } from '../../src-renderer/src/lib/state/transfer-plan';
import { defaultModelDir } from '../../src-main/app/bundled-models';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { computeDirections, OUT, screenshot, until, type WebMode, closeEditorSuite, openEditorSuite } from './harness';

const LONG = 300_000;
let web: WebMode;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function idle(): Promise<void> {
  await until('the jobs to finish', async () => (await page.getByTestId('statusbar').locator('button').count()) === 0, LONG, 100);
}

async function statuses(): Promise<string[]> {
  return page.getByTestId('transfer-target').evaluateAll((els) => els.map((e) => e.getAttribute('data-status') ?? ''));
}

beforeAll(async () => {
  ({ web, browser, page } = await openEditorSuite('e2e-transfer', pageErrors));
}, 180_000);

afterAll(() => closeEditorSuite({ browser, web }));

describe('Transfer edit', () => {
  it('transfers a direction to two seeds, shows the overlap, applies to all and exports two PNGs', async () => {
    await page.getByTestId('seed').fill('3');
    await page.getByTestId('steps').fill('11');
    await page.getByTestId('new-from-seed').click();
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    expect(await page.getByTestId('transfer-open').isDisabled()).toBe(true); // nothing on the stack yet
    await page.getByTestId('edit-params').locator('summary').click();
    await page.getByTestId('param-previewSteps').fill('3');
    await page.getByTestId('param-previewSteps').press('Enter');
    await page.getByTestId('basis-k').fill('2');
    await computeDirections(page);
    await page.getByTestId('gallery-approximate').waitFor({ timeout: LONG });
    await idle();
    await page.getByTestId('add-direction').first().click();
    const timestep = Number(/t\s*=\s*(\d+)/.exec((await page.getByTestId('stack-entry').first().textContent()) ?? '')?.[1]);
    expect(Number.isInteger(timestep)).toBe(true);

    await page.getByTestId('transfer-open').click();
    // The picker adds a picture as a target (a chip); removed again, so the two seeds are the targets here
    // (pictures are transferred in test/integration/transfer-share.test.ts).
    const picture = join(OUT, 'transfer-picture.png');
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#884422' } }).png().toFile(picture);
    await page.getByTestId('transfer-image-input').setInputFiles(picture);
    await until('the picture chip', async () => (await page.getByTestId('transfer-panel').getByText('transfer-picture.png').count()) === 1, 10_000);
    await page.getByRole('button', { name: 'Remove transfer-picture.png' }).click();
    await page.getByTestId('transfer-seeds').fill('5, 8');
    await page.getByTestId('transfer-start').click();
    await until('both targets previewed', async () => (await statuses()).join() === 'ready,ready', LONG, 200);
    expect(await page.getByTestId('transfer-preview').count()).toBe(2);

    const meters = page.getByTestId('overlap-meter');
    expect(await meters.count()).toBe(2);
    const shown = (await meters.evaluateAll((els) => els.map((e) => e.getAttribute('aria-valuenow')))).map(Number);
    for (const p of shown) expect(p >= 0 && p <= 100).toBe(true);
    // The share shown is the transport job's own `captured` for that target (the engine's cache gives the same bases).
    const index = await stackIndex();
    for (const [i, seedB] of [5, 8].entries()) {
      const direct = await runJobInProcess(
        'transport',
        { modelDir: defaultModelDir(), seed: 3, timestep, steps: 11, k: 2, method: 'krylov', seedB, index, provider: 'cpu' },
        { quiet: true },
      );
      expect(direct.basisB.cacheHit).toBe(true);
      expect(shown[i]).toBe(sharePercent(direct.captured));
    }
    await screenshot(page, 'transfer-preview.png', page.getByTestId('transfer-panel'));

    await page.getByTestId('transfer-apply-all').click();
    await until('both targets rendered exactly', async () => (await statuses()).join() === 'done,done', LONG, 200);
    expect(await page.getByTestId('transfer-result').count()).toBe(2);
    await screenshot(page, 'transfer-applied.png', page.getByTestId('transfer-result'));

    const downloads: Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await page.getByTestId('transfer-export-all').click();
    await until('two downloads', async () => downloads.length === 2, 20_000);
    const names = downloads.map((d) => d.suggestedFilename()).sort();
    expect(names).toEqual(['Untitled-transfer-seed5.png', 'Untitled-transfer-seed8.png'].sort());
    for (const d of downloads) {
      const file = join(OUT, `transfer-export-${d.suggestedFilename()}`);
      await d.saveAs(file);
      const meta = await sharp(file).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 64, 64]);
      const text = readPngText(new Uint8Array(readFileSync(file)));
      expect(JSON.parse(text[TRANSFER_KEY]).to.kind).toBe('seed');
    }
    expect(pageErrors).toEqual([]);
  }, 900_000);
});

/** The direction index of the stack's first entry ("Direction 2" → 1). */
async function stackIndex(): Promise<number> {
  const m = /Direction\s+(\d+)/.exec((await page.getByTestId('stack-entry').first().textContent()) ?? '');
  return Number(m?.[1]) - 1;
}
