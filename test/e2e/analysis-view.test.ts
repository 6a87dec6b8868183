/**
 * The Analysis workspace end to end in headless Chromium against web mode on the bundled model: a small analysis
 * (2 seeds × t = 0.2, 0.6, 1.0, k = 2, 11 DDIM steps) whose plots appear and grow while it runs, hover values on the
 * plots, the exports (CSV, report, plot PNG), a click on a basis that opens it in the gallery from the cache, and
 * global directions (previewed on both samples, then one added to the document's edit stack and applied). Screenshots in test-output/analysis-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Download, Page } from 'playwright-core';
import { OUT, canvasHash, screenshot, until, type WebMode, closeEditorSuite, openEditorSuite } from './harness';

const LONG = 300_000;
let web: WebMode;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function saved(d: Promise<Download>, name: string): Promise<string> {
  const file = join(OUT, `analysis-export-${name}`);
  await (await d).saveAs(file);
  return file;
}

beforeAll(async () => {
  ({ web, browser, page } = await openEditorSuite('analysis', pageErrors, { width: 1440, height: 900 }));
}, 180_000);

afterAll(() => closeEditorSuite({ browser, web }));

describe('Analysis view', () => {
  it('runs a small analysis whose plots appear and fill in while it runs', async () => {
    await page.getByTestId('workspace-analysis').click();
    await page.getByTestId('analysis-view').waitFor();
    // Keep seeds 0 and 1 of the default four.
    for (const seed of [3, 2]) await page.getByRole('button', { name: `Remove seed ${seed}` }).click();
    await page.getByTestId('analysis-grid-coarse').click();
    await page.getByTestId('analysis-k').fill('2');
    await page.getByTestId('analysis-k').dispatchEvent('change');
    await page.getByTestId('analysis-steps').fill('11');
    await page.getByTestId('analysis-steps').dispatchEvent('change');
    await screenshot(page, 'analysis-01-settings.png', page.getByTestId('analysis-samples'));
    await page.getByTestId('analysis-run').click();
    await page.getByTestId('analysis-cancel').waitFor();
    // The first basis's plots and browser cell appear while the job still runs.
    await page.getByTestId('analysis-plot').first().waitFor({ timeout: LONG });
    const cellsWhileRunning = await page.getByTestId('basis-cell').count();
    const stillRunning = await page.getByTestId('analysis-cancel').count();
    await screenshot(page, 'analysis-02-running.png', page.getByTestId('analysis-plot'));
    await page.getByTestId('analysis-run').waitFor({ timeout: LONG });
    expect(stillRunning).toBe(1);
    expect(cellsWhileRunning).toBeGreaterThanOrEqual(1);
    expect(cellsWhileRunning).toBeLessThan(6);
    expect(await page.getByTestId('basis-cell').count()).toBe(6);
    expect(await page.getByTestId('analysis-error').count()).toBe(0);
    const plots = await page.getByTestId('analysis-plot').evaluateAll((els) => els.map((e) => e.getAttribute('data-plot')));
    expect(plots).toEqual(expect.arrayContaining(['sigma', 'frequency', 'low-frequency-share', 'sample-distance']));
    await page.getByTestId('analysis-t-matrix').waitFor();
    await page.getByTestId('analysis-sample-matrix').waitFor();
    // Hover values: every mark carries an SVG <title> with its numbers.
    const titles = await page.locator('[data-plot="sigma"] svg title').count();
    expect(titles).toBeGreaterThan(0);
    await screenshot(page, 'analysis-03-done.png', page.getByTestId('basis-browser'));
  }, LONG);

  it('exports the CSVs, the report and a plot as PNG', async () => {
    const download = (testid: string, name: string) => {
      const d = page.waitForEvent('download');
      return page.getByTestId(testid).click().then(() => saved(d, name));
    };
    const spectrum = readFileSync(await download('export-spectrum.csv', 'spectrum.csv'), 'utf8').trimEnd().split('\n');
    expect(spectrum[0]).toBe('sample,timestep,index,sigma');
    expect(spectrum).toHaveLength(1 + 2 * 3 * 2);
    const similarity = readFileSync(await download('export-similarity.csv', 'similarity.csv'), 'utf8').trimEnd().split('\n');
    expect(similarity[0]).toBe('timestep,space,sample_a,sample_b,geodesic,max_angle');
    expect(similarity).toHaveLength(1 + 3 * 2); // 1 pair × 3 timesteps × (x, h)
    const report = readFileSync(await download('export-report', 'report.html'), 'utf8');
    expect(report).toContain('<svg');
    expect(report).not.toMatch(/<script/);
    const png = await sharp(await download('export-png-sigma', 'sigma.png')).metadata();
    expect(png.format).toBe('png');
    expect(png.width).toBeGreaterThan(400);
    // The exported analysis.json loads back as the other side of an across-models overlay.
    const json = await download('export-analysis.json', 'analysis.json');
    await page.getByTestId('analysis-compare-input').setInputFiles(json);
    await page.getByTestId('analysis-overlay').waitFor();
    expect(await page.getByTestId('analysis-overlay').locator('[data-plot]').count()).toBe(2);
    await screenshot(page, 'analysis-04-overlay.png', page.getByTestId('analysis-overlay'));
  }, 60_000);

  it('a click on a basis opens it in the gallery, loaded from the cache', async () => {
    await page.locator('[data-testid="basis-cell"][data-sample="1"]').nth(1).click();
    await page.getByTestId('tab-directions').waitFor();
    await until('the gallery of that basis', async () => (await page.getByTestId('gallery-row').count()) === 2, LONG);
    await until('the basis status', async () => /basis from the cache/.test((await page.getByTestId('basis-status').textContent()) ?? ''), LONG);
    await expect(page.getByTestId('timestep-label').textContent()).resolves.toMatch(/t = 599/);
    await screenshot(page, 'analysis-05-opened-in-gallery.png', page.getByTestId('gallery-row'));
  }, LONG);

  it('global directions of the two samples: distances to the mean, and each direction previewed on both', async () => {
    await page.getByTestId('workspace-analysis').click();
    await page.getByTestId('tab-global').click();
    await page.getByTestId('global-k').fill('2');
    await page.getByTestId('global-k').dispatchEvent('change');
    await page.getByTestId('global-compute').click();
    await page.getByTestId('global-summary').waitFor({ timeout: LONG });
    expect(await page.getByTestId('global-error').count()).toBe(0);
    // t = 0.6 on 11 steps: the analysis's bases there are loaded, not recomputed.
    await expect(page.getByTestId('global-summary').textContent()).resolves.toMatch(/t = 599, Karcher mean in x/);
    const distances = await page.getByTestId('global-distance').allTextContents();
    expect(distances).toHaveLength(2);
    for (const d of distances) expect(Number(/(\d+\.\d+)$/.exec(d)?.[1])).toBeGreaterThan(0);
    await page.getByTestId('global-previews').click();
    await until('the previews', async () => (await page.locator('[data-testid="global-preview"] img').count()) === 2 * 2 * 2, LONG);
    await until('the unedited renders', async () => (await page.locator('[data-testid="global-grid"] > .head img').count()) === 2, LONG);
    await screenshot(page, 'analysis-06-global-directions.png', page.getByTestId('global-grid'));
  }, LONG);

  it('"Add to edit" puts a global direction into the document’s edit stack, and Apply edits the canvas with it', async () => {
    // The document is seed 1 (opened from the analysis above); its stack is empty.
    await page.getByTestId('global-add-to-edit').first().click();
    await page.getByTestId('workspace-edit').click();
    const before = await canvasHash(page);
    await expect(page.getByTestId('stack-entry-name').allTextContents()).resolves.toEqual(['Global direction 1']);
    await expect(page.getByTestId('stack-entry-detail').allTextContents()).resolves.toEqual(['(karcher, x, 2 samples) · t\u00a0=\u00a0599']);
    await expect(page.getByTestId('stack-entry-name').getAttribute('title')).resolves.toBe('Global direction 1 (karcher, x, 2 samples)');
    await expect(page.getByTestId('timestep-label').textContent()).resolves.toMatch(/t = 599/);
    await page.getByTestId('apply').click();
    await until('the edited canvas', async () => (await canvasHash(page)) !== before, LONG, 200);
    expect(await page.getByTestId('stack-entry').count()).toBe(1);
    await screenshot(page, 'analysis-07-global-in-stack.png', page.getByTestId('stack-entry'));
  }, LONG);

  it('logged no page errors', () => {
    expect(pageErrors.filter((e) => !/Vulkan/i.test(e))).toEqual([]);
  });
});
