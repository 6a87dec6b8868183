/**
 * The readable gallery end to end (issue 13 item 6, issue 16 item 7) in headless Chromium against web mode on the
 * bundled model: a k = 2 gallery shows −/0/+ labels at the default preview strength; a new strength re-renders the
 * previews (their pixels change, the labels follow); clicking a preview enlarges it over the canvas with its label
 * ("+1 · direction 1"), Escape and the close button dismiss it; after a second timestep the grid lays both out; saved
 * and reopened in a fresh page, the gallery shows its stored previews at once.
 * Screenshots: test-output/gallery-readable-*.png. 11 DDIM steps and k = 2 keep it to a few minutes on two cores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { GALLERY_PREVIEW_STRENGTH } from '../../src-renderer/src/lib/state/gallery-strength';
import { computeDirections, OUT, openEditor, screenshot, until as poll, type WebMode, closeEditorSuite, openEditorSuite } from './harness';

const LONG = 240_000;
const MINUS = '\u2212';
/** The strength the test changes the field to: another than the default, so the previews must change. */
const CHANGED = GALLERY_PREVIEW_STRENGTH === 1 ? 2 : 1;

let web: WebMode;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const snap = (name: string, shows: Locator) => screenshot(page, `gallery-readable-${name}.png`, shows);
const until = (what: string, cond: () => Promise<boolean>, timeout = LONG) => poll(what, cond, timeout, 100);

/** Waits for the gallery job started by the last action to end (Compute is offered again). */
async function galleryDone(): Promise<void> {
  await until('the gallery job to end', async () => (await page.getByTestId('basis-compute').count()) === 1 && (await page.getByTestId('basis-cancel').count()) === 0);
}

/** The −/0/+ captions of each gallery row. */
async function labels(): Promise<string[][]> {
  const rows = page.getByTestId('gallery-row');
  const out: string[][] = [];
  for (let i = 0; i < (await rows.count()); i++) out.push((await rows.nth(i).getByTestId('preview-label').allTextContents()).map((t) => t.trim()));
  return out;
}

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  ({ web, browser, page } = await openEditorSuite('e2e-gallery', pageErrors));
}, 180_000);

afterAll(() => closeEditorSuite({ browser, web }));

describe('a gallery you can read', () => {
  let before: Buffer;

  it('labels each direction’s previews −/0/+ at the default strength, beside σ', async () => {
    await page.getByTestId('seed').fill('3');
    await page.getByTestId('steps').fill('11');
    await page.getByTestId('new-from-seed').click();
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    await expect(page.getByTestId('preview-strength').inputValue()).resolves.toBe(String(GALLERY_PREVIEW_STRENGTH));
    await page.getByTestId('basis-k').fill('2');
    await computeDirections(page);
    await page.getByTestId('basis-cancel').waitFor();
    await galleryDone();
    expect(await page.getByTestId('gallery-row').count()).toBe(2);
    const s = String(GALLERY_PREVIEW_STRENGTH);
    expect(await labels()).toEqual([
      [`${MINUS}${s}`, '0', `+${s}`],
      [`${MINUS}${s}`, '0', `+${s}`],
    ]);
    await expect(page.getByTestId('gallery-row').first().textContent()).resolves.toMatch(/σ \d/);
    // Beside σ: the image change per unit strength each direction's previews measured (issue 13 item 5).
    const changes = (await page.getByTestId('gallery-change').allTextContents()).map((t) => Number(/Δ (\d+\.\d)\/unit/.exec(t)?.[1]));
    expect(changes).toHaveLength(2);
    for (const c of changes) expect(c).toBeGreaterThan(0);
    before = await page.getByTestId('thumb-plus').first().screenshot();
    await snap('1-labels', page.getByTestId('preview-label'));
  });

  it('equal-change units: the stack shows each strength scaled by its direction\'s change relative to the mean', async () => {
    const changes = (await page.getByTestId('gallery-change').allTextContents()).map((t) => Number(/Δ (\d+\.\d)\/unit/.exec(t)?.[1]));
    await page.getByTestId('add-direction').first().click();
    const field = page.getByTestId('stack-strength-value').first();
    await expect(field.inputValue()).resolves.toBe('1');
    await page.getByTestId('stack-equal-units').check();
    // Direction 1's change over the mean of both (the Δ shown are rounded to 0.1, hence 10 %).
    const expected = changes[0] / ((changes[0] + changes[1]) / 2);
    expect(Math.abs(Number(await field.inputValue()) - expected)).toBeLessThan(0.1 * expected + 0.01);
    await expect(page.getByTestId('stack-strength-range').first().textContent()).resolves.toMatch(/applied \+1\)/);
    await page.getByTestId('stack-equal-units').uncheck();
    await expect(field.inputValue()).resolves.toBe('1');
    await page.getByTestId('stack-remove').first().click();
  });

  it('another preview strength renders the previews again (they change), from the cached basis', async () => {
    await page.getByTestId('preview-strength').fill(String(CHANGED));
    await page.getByTestId('preview-strength').press('Enter');
    await galleryDone();
    await until('the new labels', async () => (await labels()).every((row) => row.join(' ') === `${MINUS}${CHANGED} 0 +${CHANGED}`), 10_000);
    await until('the + preview rendered again', async () => (await page.getByTestId('thumb-plus').count()) === 2);
    const after = await page.getByTestId('thumb-plus').first().screenshot();
    expect(after.equals(before)).toBe(false);
    await expect(page.getByTestId('basis-status').textContent()).resolves.toMatch(/basis from the cache/);
    await snap('2-strength-changed', page.getByTestId('thumb-plus'));
  });

  it('clicking a preview enlarges it against the centre with its label; Escape and Close dismiss it', async () => {
    await page.getByTestId('enlarge-plus').first().click();
    await page.getByTestId('preview-enlarged').waitFor();
    await expect(page.getByTestId('preview-enlarged-label').textContent()).resolves.toBe(`+${CHANGED} · direction 1`);
    // At canvas size: far larger than the 54 px thumbnail.
    const box = await page.getByTestId('preview-enlarged-image').boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(200);
    await snap('3-enlarged', page.getByTestId('preview-enlarged-image'));
    await page.keyboard.press('Escape');
    await until('the enlarged view to close', async () => (await page.getByTestId('preview-enlarged').count()) === 0, 5000);
    // Keyboard: the second row's − preview, by focus and Enter; closed with its button.
    await page.getByTestId('enlarge-minus').nth(1).focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('preview-enlarged').waitFor();
    await expect(page.getByTestId('preview-enlarged-label').textContent()).resolves.toBe(`${MINUS}${CHANGED} · direction 2`);
    await page.getByTestId('preview-enlarged-close').click();
    await until('the enlarged view to close', async () => (await page.getByTestId('preview-enlarged').count()) === 0, 5000);
  });

  it('the grid lays out the previews of two timesteps (columns) by direction (rows)', async () => {
    await page.getByTestId('timestep').focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.getByTestId('timestep-label').textContent()).resolves.not.toMatch(/t = 599 /);
    await computeDirections(page);
    await page.getByTestId('basis-cancel').waitFor();
    await galleryDone();
    await page.getByTestId('gallery-grid-open').click();
    await page.getByTestId('gallery-grid').waitFor();
    const columns = (await page.getByTestId('grid-column').allTextContents()).map((t) => Number(/t = (\d+)/.exec(t)?.[1]));
    expect(columns).toHaveLength(2);
    expect(columns[0]).toBe(599);
    expect(columns[1]).toBeGreaterThan(599);
    expect(await page.getByTestId('grid-row').count()).toBe(2);
    expect(await page.getByTestId('gallery-grid').locator('img').count()).toBe(2 * 2 * 3);
    await snap('4-grid', page.getByTestId('gallery-grid'));
    await page.keyboard.press('Escape');
    await until('the grid to close', async () => (await page.getByTestId('gallery-grid').count()) === 0, 5000);
    expect(pageErrors).toEqual([]);
  });

  it('save and reopen: the gallery comes back with its previews at once, without a directions job (issue 16)', async () => {
    const plusBefore = await page.getByTestId('thumb-plus').first().screenshot();
    const sigmaBefore = await page.getByTestId('gallery-row').first().textContent();
    await page.locator('body').click({ position: { x: 5, y: 400 } });
    await page.keyboard.press('Control+s');
    await page.getByTestId('project-name').fill('galleries');
    await page.getByTestId('project-save-confirm').click();
    await page.getByTestId('project-title').filter({ hasText: 'galleries' }).waitFor();
    await page.close();
    page = await openEditor(browser, web.server.url, pageErrors);
    await page.getByTestId('menu-file').click();
    await page.getByTestId('menu-open').click();
    await page.getByTestId('project-item').filter({ hasText: 'galleries' }).click();
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    await until('the stored previews', async () => (await page.getByTestId('thumb-plus').count()) === 2, 20_000);
    // Shown from the project file: no directions job was started to render them.
    expect(await page.getByTestId('basis-cancel').count()).toBe(0);
    expect(await page.getByTestId('gallery-row').first().textContent()).toBe(sigmaBefore);
    expect((await page.getByTestId('thumb-plus').first().screenshot()).equals(plusBefore)).toBe(true);
    await snap('5-reopened', page.getByTestId('gallery-row'));
    expect(pageErrors).toEqual([]);
  }, LONG);
});
