/**
 * The editor end to end in headless Chromium against web mode, on the bundled model (avatars64), with a screenshot
 * at each step in test-output/editor-*.png:
 *  1. new from seed → compute the basis at t = 0.6·T → previews stream in → add a direction → strength +2 → apply →
 *     undo → redo → save the project → reopen it in a fresh page → the same image bytes;
 *  2. import a PNG → inversion (PSNR shown) → edit → export → the exported PNG carries the recipe, and re-importing
 *     it offers to restore the recipe.
 * Few DDIM steps (11, so 0.6·T is on the schedule) and k = 2 keep it to a few minutes on two cores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Locator, Page } from 'playwright-core';
import { readPngText, RECIPE_KEY } from '../../src-renderer/src/lib/png-text';
import { loadProjectFile } from '../../src-main/core/project';
import { GALLERY_DEFAULTS } from '../../src-main/shared/edit-defaults';
import { computeDirections, OUT, canvasHash as sharedCanvasHash, launchChromium, openEditor, screenshot, startSuiteWebMode, until as poll, type WebMode } from './harness';

const LONG = 240_000;

let web: WebMode;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
let shot = 0;
let dataDir = '';

/** A numbered screenshot of the step, of a page that shows `shows`. */
async function snap(name: string, shows: Locator): Promise<void> {
  shot += 1;
  await screenshot(page, `editor-${String(shot).padStart(2, '0')}-${name}.png`, shows);
}

const canvasHash = () => sharedCanvasHash(page);

const until = (what: string, cond: () => Promise<boolean>, timeout = LONG) => poll(what, cond, timeout, 100);

/** No job running: the status bar has no Cancel button. */
async function idle(): Promise<void> {
  await until('the jobs to finish', async () => (await page.getByTestId('statusbar').locator('button').count()) === 0);
}

async function count(testid: string): Promise<number> {
  return page.getByTestId(testid).count();
}

async function newPage(): Promise<void> {
  page = await openEditor(browser, web.server.url, pageErrors);
}

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  // Numbered screenshots of an earlier run would mix with this run's.
  for (const f of readdirSync(OUT)) if (/^editor-\d\d-.*\.png$/.test(f)) rmSync(join(OUT, f));
  ({ web, dataDir } = await startSuiteWebMode('e2e-data'));
  browser = await launchChromium();
  await newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await web?.close();
});

describe('editor: seed → basis → edit → undo/redo → save → reopen', () => {
  let edited = '';

  it('starts with the bundled model and an empty canvas', async () => {
    await expect(page.getByTestId('project-title').textContent()).resolves.toContain('Untitled');
    await expect(page.locator('.placeholder').textContent()).resolves.toContain('New from seed');
    await snap('start', page.locator('.placeholder'));
    // The Help panel lists the shortcuts; Escape closes it.
    await page.keyboard.press('?');
    await page.getByTestId('help-dialog').waitFor();
    await expect(page.getByTestId('help-dialog').textContent()).resolves.toMatch(/Undo.*Redo/s);
    await snap('help', page.getByTestId('help-dialog'));
    await page.keyboard.press('Escape');
    expect(await count('help-dialog')).toBe(0);
  });

  it('new from seed shows the image', async () => {
    await page.getByTestId('seed').fill('3');
    await page.getByTestId('steps').fill('11');
    await page.getByTestId('new-from-seed').click();
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    await expect(page.getByTestId('device-in-use').textContent()).resolves.toContain('CPU');
    await snap('new-from-seed', page.getByTestId('canvas-image'));
  });

  it('computes the basis at t = 0.6·T and the previews stream in', async () => {
    await expect(page.getByTestId('timestep-label').textContent()).resolves.toMatch(/t = 599 · 0\.60 T/);
    await page.getByTestId('basis-k').fill('2');
    await computeDirections(page);
    await page.getByTestId('basis-cancel').waitFor();
    // The first previews arrive while the job still runs (streamed, not at the end).
    await page.getByTestId('thumb-plus').first().waitFor({ timeout: LONG });
    const streaming = await page.getByTestId('basis-cancel').count();
    await snap('previews-streaming', page.getByTestId('thumb-plus'));
    await page.getByTestId('basis-compute').waitFor({ timeout: LONG });
    expect(streaming + (await page.getByTestId('gallery-row').count())).toBeGreaterThanOrEqual(2);
    expect(await count('gallery-row')).toBe(2);
    expect(await count('thumb-minus')).toBe(2);
    await expect(page.getByTestId('basis-status').textContent()).resolves.toMatch(/iterations/);
    await snap('gallery', page.getByTestId('gallery-row'));
    // A direction's −/0/+ strip exports as one PNG that says what it shows.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export the − 0 + strip of direction 1 as PNG' }).click();
    const strip = join(OUT, 'editor-strip.png');
    await (await download).saveAs(strip);
    const meta = await sharp(strip).metadata();
    expect([meta.width, meta.height]).toEqual([3 * 64 + 2 * 2, 64]);
    // At the gallery's preview strength (GALLERY_DEFAULTS.strength), which the strip's text states.
    const s = GALLERY_DEFAULTS.strength;
    expect(readPngText(new Uint8Array(readFileSync(strip))).Directions).toMatch(new RegExp(`^#1 at -${s}, 0, \\+${s}`));
  });

  it('adds a direction, sets strength +2 and applies', async () => {
    const before = await canvasHash();
    await page.getByTestId('add-direction').first().click();
    expect(await count('stack-entry')).toBe(1);
    await page.getByTestId('stack-strength-value').fill('2');
    await page.getByTestId('stack-strength-value').press('Enter');
    await snap('stack-strength-2', page.getByTestId('stack-entry'));
    await page.getByTestId('apply').click();
    await idle();
    edited = await canvasHash();
    expect(edited).not.toBe(before);
    await snap('applied', page.getByTestId('canvas-image'));
  });

  it('undo and redo (keyboard) restore the stack and the image', async () => {
    await page.locator('body').click({ position: { x: 5, y: 400 } });
    await page.keyboard.press('Control+z');
    await until('strength 1', async () => (await page.getByTestId('stack-strength-value').inputValue()) === '1', 5000);
    await idle();
    expect(await canvasHash()).not.toBe(edited);
    await snap('undo', page.getByTestId('canvas-image'));
    await page.keyboard.press('Shift+Control+Z');
    await until('strength 2', async () => (await page.getByTestId('stack-strength-value').inputValue()) === '2', 5000);
    await idle();
    expect(await canvasHash()).toBe(edited);
    await page.getByTestId('tab-history').click();
    expect(await page.getByTestId('history-list').locator('li').count()).toBe(3); // New, Add direction, Strength +2
    await snap('redo-history', page.getByTestId('history-list'));
    await page.getByTestId('tab-directions').click();
  });

  it('unsaved work autosaved on blur is offered for recovery after the page is gone', async () => {
    await page.evaluate(`window.dispatchEvent(new Event('blur'))`);
    const recovery = join(dataDir, 'recovery');
    await until('autosave on blur to write a recovery file', async () => existsSync(recovery) && readdirSync(recovery).some((f) => f.endsWith('.pbproj')), 10_000);
    await page.close(); // as if the app crashed: nothing was saved
    await newPage();
    await page.getByTestId('recovery-banner').waitFor({ timeout: 10_000 });
    await snap('recovery-offer', page.getByTestId('recovery-banner'));
    await page.getByTestId('recovery-banner').getByRole('button', { name: 'Recover' }).click();
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    expect(await canvasHash()).toBe(edited);
    expect(await page.getByTestId('stack-strength-value').inputValue()).toBe('2');
    expect(await count('recovery-banner')).toBe(0);
  });

  it('saves the project and reopens it in a fresh page with the same image bytes', async () => {
    await page.keyboard.press('Control+s');
    await page.getByTestId('project-name').fill('e2e portrait');
    await snap('save-dialog', page.getByTestId('project-name'));
    await page.getByTestId('project-save-confirm').click();
    await page.getByTestId('project-title').filter({ hasText: 'e2e portrait' }).waitFor();
    await expect(page.getByTestId('project-title').textContent()).resolves.not.toContain('•');
    // On disk: a valid project whose result blob is exactly the bytes on the canvas.
    const saved = loadProjectFile(join(dataDir, 'projects', 'e2e portrait.pbproj'));
    expect(saved.manifest.images.result).toBe(edited);
    expect(saved.manifest.state.edits.map((e) => e.strength)).toEqual([2]);
    await page.close();
    await newPage();
    await page.getByTestId('menu-file').click();
    await page.getByTestId('menu-open').click();
    await page.getByTestId('project-item').filter({ hasText: 'e2e portrait' }).click();
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    expect(await canvasHash()).toBe(edited);
    expect(await page.getByTestId('stack-strength-value').inputValue()).toBe('2');
    expect(await count('gallery-row')).toBe(2); // σ of the saved basis (previews recompute on demand)
    await snap('reopened', page.getByTestId('gallery-row'));
  });
});

describe('editor: import → inversion → edit → export with recipe', () => {
  let exported: Uint8Array;

  it('imports a PNG and shows the inversion PSNR', async () => {
    // A small synthetic portrait-like picture: not from the model, so the PSNR is a real measurement.
    const w = 64;
    const px = Buffer.alloc(w * w * 3);
    for (let y = 0; y < w; y++)
      for (let x = 0; x < w; x++) {
        const d = Math.hypot(x - 32, y - 28) < 16;
        px.set(d ? [200, 150, 120] : [90, 60 + y, 160], 3 * (y * w + x));
      }
    const png = await sharp(px, { raw: { width: w, height: w, channels: 3 } }).png().toBuffer();
    await page.getByTestId('import-input').setInputFiles({ name: 'face.png', mimeType: 'image/png', buffer: png });
    await page.getByTestId('psnr').waitFor({ timeout: LONG });
    await expect(page.getByTestId('psnr').textContent()).resolves.toMatch(/PSNR \d+\.\d dB/);
    await snap('imported', page.getByTestId('psnr'));
  });

  it('edits the imported image and exports a PNG carrying the recipe', async () => {
    // The imported image is edited at the same t = 0.6·T (the engine follows the inverted x_T's path down to it).
    await expect(page.getByTestId('timestep-label').textContent()).resolves.toMatch(/t = 599/);
    await page.getByTestId('basis-k').fill('1');
    await computeDirections(page);
    await page.getByTestId('basis-compute').waitFor({ timeout: LONG });
    await page.getByTestId('add-direction').first().click();
    await page.getByTestId('stack-strength-value').fill('2');
    await page.getByTestId('stack-strength-value').press('Enter');
    await page.getByTestId('apply').click();
    await idle();
    await page.getByTestId('compare-toggle').click();
    await snap('import-edited-compare', page.getByTestId('canvas-image'));
    const download = page.waitForEvent('download');
    await page.getByTestId('menu-file').click();
    await page.getByTestId('menu-export').click();
    const d = await download;
    const file = join(OUT, 'editor-export.png');
    await d.saveAs(file);
    exported = new Uint8Array(readFileSync(file));
    const text = readPngText(exported);
    expect(text.Model).toBe('avatars64');
    expect(text.Source).toMatch(/^image sha256 [0-9a-f]{64}$/);
    const recipe = JSON.parse(text[RECIPE_KEY]) as { edits: { index: number; strength: number; t: number }[]; source: { kind: string } };
    expect(recipe.source.kind).toBe('image');
    expect(recipe.edits).toEqual([expect.objectContaining({ index: 0, strength: 2 })]);
    // The export is the image on the canvas plus text chunks: sharp decodes it to the same size.
    expect((await sharp(Buffer.from(exported)).metadata()).width).toBe(64);
  });

  it('re-opening the exported PNG offers to restore its recipe', async () => {
    await page.getByTestId('import-input').setInputFiles({ name: 'editor-export.png', mimeType: 'image/png', buffer: Buffer.from(exported) });
    await page.getByTestId('recipe-banner').waitFor();
    await expect(page.getByTestId('recipe-banner').textContent()).resolves.toContain('1 edit');
    await snap('recipe-offer', page.getByTestId('recipe-banner'));
  });

  it('logged no page errors', () => {
    expect(pageErrors.filter((e) => !/Vulkan/i.test(e))).toEqual([]);
  });
});
