/**
 * The editor never loses work or lies about it (issue 16), in headless Chromium against web mode on the bundled model,
 * with screenshots test-output/reliability-*.png:
 *  - `?` closes Help as well as opening it;
 *  - pressing B twice while the directions job runs starts one job (the Jobs panel lists one);
 *  - moving the timestep during the job: the gallery says which t is computing and offers to go back to it, not
 *    "No directions at this timestep yet" under a progress bar of another t;
 *  - typing 25 as a strength shows 10 and the allowed range; Ctrl+Z in that field is the field's own; the field
 *    follows the document's undo;
 *  - Import over unsaved work asks Save / Discard / Cancel, and Cancel keeps the document;
 *  - Compare on an imported image labels the halves "Reconstruction" and "Input";
 *  - the engine going away shows a banner and autosave keeps the document in the page's storage; when the server is
 *    back on the same port the page reconnects by itself and writes the kept copy to the recovery folder.
 * Few DDIM steps (11) and k = 2 keep it to a few minutes on two cores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Locator, Page } from 'playwright-core';
import { computeDirections, OUT, ROOT, screenshot, until as poll, type WebMode, canvasHash as sharedCanvasHash, closeEditorSuite, openEditorSuite } from './harness';
import { spawn, type ChildProcess } from 'node:child_process';

const LONG = 240_000;

let web: WebMode | undefined;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
let shot = 0;
let dataDir = '';
let port = 0;
/** The restarted server: a separate process (`npm run web`), as a user would restart it. */
let restarted: ChildProcess | undefined;

async function snap(name: string, shows: Locator): Promise<void> {
  shot += 1;
  await screenshot(page, `reliability-${String(shot).padStart(2, '0')}-${name}.png`, shows);
}

const until = (what: string, cond: () => Promise<boolean>, timeout = LONG) => poll(what, cond, timeout, 100);

const canvasHash = () => sharedCanvasHash(page);

/** Focus the page itself (not a field), so plain keys are shortcuts. */
async function focusPage(): Promise<void> {
  await page.locator('body').click({ position: { x: 5, y: 400 } });
}

/** A 64×64 picture that is not from the model. */
async function picture(): Promise<Buffer> {
  const w = 64;
  const px = Buffer.alloc(w * w * 3);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) px.set(Math.hypot(x - 30, y - 30) < 15 ? [210, 160, 120] : [60, 80 + y, 150], 3 * (y * w + x));
  return sharp(px, { raw: { width: w, height: w, channels: 3 } }).png().toBuffer();
}

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  for (const f of readdirSync(OUT)) if (/^reliability-\d\d-.*\.png$/.test(f)) rmSync(join(OUT, f));
  ({ web, dataDir, browser, page } = await openEditorSuite('reliability', pageErrors));
  await page.getByTestId('seed').fill('5');
  await page.getByTestId('steps').fill('11');
  await page.getByTestId('new-from-seed').click();
  await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
}, 300_000);

afterAll(async () => {
  await closeEditorSuite({ browser, web });
  if (restarted && restarted.exitCode === null) {
    const exited = new Promise((r) => restarted!.once('exit', r));
    restarted.kill('SIGTERM');
    await exited;
  }
});

describe('editor reliability', () => {
  it('? opens Help and closes it again', async () => {
    await focusPage();
    await page.keyboard.press('?');
    await page.getByTestId('help-dialog').waitFor();
    await snap('help-open', page.getByTestId('help-dialog'));
    await page.keyboard.press('?');
    await until('Help to close', async () => (await page.getByTestId('help-dialog').count()) === 0, 5000);
  });

  it('B twice starts one directions job; moving the timestep during it shows the running t and its progress', async () => {
    await page.getByTestId('basis-k').fill('2');
    await focusPage();
    await page.keyboard.press('b');
    await page.keyboard.press('b');
    await page.getByTestId('basis-cancel').waitFor();
    await page.getByTestId('tab-jobs').click();
    const basisJobs = page.getByTestId('job').filter({ hasText: 'Basis at t = 599' });
    await until('the job listed', async () => (await basisJobs.count()) > 0, 10_000);
    expect(await basisJobs.count()).toBe(1);
    await snap('one-basis-job', basisJobs);
    await page.getByTestId('tab-directions').click();

    // Move the picker one step while the job runs.
    await page.getByTestId('timestep').focus();
    await page.keyboard.press('ArrowLeft');
    await expect(page.getByTestId('timestep-label').textContent()).resolves.not.toMatch(/t = 599 /);
    expect(await page.getByTestId('basis-cancel').count()).toBe(1); // still running
    await expect(page.getByTestId('basis-status').textContent()).resolves.toContain('Directions at t = 599');
    await expect(page.getByTestId('basis-elsewhere').textContent()).resolves.toContain('Computing the directions at t = 599');
    await expect(page.locator('.gallery').textContent()).resolves.not.toContain('No directions at this timestep yet');
    await snap('timestep-moved-during-job', page.getByTestId('basis-elsewhere'));
    await page.getByTestId('basis-show-running').click();
    await expect(page.getByTestId('timestep-label').textContent()).resolves.toMatch(/t = 599 /);
    await page.getByTestId('basis-compute').waitFor({ timeout: LONG });
    expect(await page.getByTestId('gallery-row').count()).toBe(2);
  });

  it('a strength out of range shows the clamped value and the range; Ctrl+Z in the field stays in the field', async () => {
    await page.getByTestId('add-direction').first().click();
    const field = page.getByTestId('stack-strength-value');
    await field.fill('25');
    await field.press('Enter');
    await until('the field to show 10', async () => (await field.inputValue()) === '10', 5000);
    await expect(page.getByTestId('stack-strength-range').textContent()).resolves.toMatch(/Clamped to \+10.*−10 to \+10/);
    // The slider (−5…5) sits at its end for 10.
    expect(await page.getByTestId('stack-strength').inputValue()).toBe('5');
    await snap('strength-clamped', page.getByTestId('stack-entry'));

    // Ctrl+Z with the focus in the number field must not undo the document (the strength stays 10).
    await field.focus();
    await page.keyboard.press('Control+z');
    await new Promise((r) => setTimeout(r, 300));
    expect(await page.getByTestId('stack-strength').inputValue()).toBe('5');

    // The document's undo (focus elsewhere): the field follows to the previous strength.
    await focusPage();
    await page.keyboard.press('Control+z');
    await until('the field to show 1', async () => (await field.inputValue()) === '1', 5000);
    await expect(page.getByTestId('stack-strength-range').textContent()).resolves.not.toContain('Clamped');
  });

  it('Import over unsaved work asks first; Cancel keeps the document', async () => {
    await expect(page.getByTestId('project-title').textContent()).resolves.toContain('•');
    const before = await canvasHash();
    await page.getByTestId('import-input').setInputFiles({ name: 'face.png', mimeType: 'image/png', buffer: await picture() });
    await page.getByTestId('unsaved-prompt').waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('unsaved-prompt').textContent()).resolves.toContain('Import face.png');
    await snap('unsaved-prompt', page.getByTestId('unsaved-prompt'));
    await page.getByTestId('unsaved-cancel').click();
    expect(await page.getByTestId('unsaved-prompt').count()).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(await canvasHash()).toBe(before);
    expect(await page.getByTestId('stack-entry').count()).toBe(1);
    expect(await page.getByTestId('psnr').count()).toBe(0);
    await expect(page.getByTestId('project-title').textContent()).resolves.toContain('•');
  });

  it('Discard imports; Compare labels the halves Reconstruction and Input', async () => {
    await page.getByTestId('import-input').setInputFiles({ name: 'face.png', mimeType: 'image/png', buffer: await picture() });
    await page.getByTestId('unsaved-discard').click();
    await page.getByTestId('psnr').waitFor({ timeout: LONG });
    await page.getByTestId('compare-toggle').click();
    await expect(page.locator('.tag.left').textContent()).resolves.toBe('Reconstruction');
    await expect(page.locator('.tag.right').textContent()).resolves.toBe('Input');
    await snap('compare-labels', page.locator('.tag.left'));
    await page.getByTestId('compare-toggle').click();
  });

  it('the engine going away shows a banner, and autosave keeps the document in the page', async () => {
    // Unsaved work on the imported image: a timestep move is a history step.
    await page.getByTestId('timestep').focus();
    await page.keyboard.press('ArrowRight');
    port = Number(new URL(web!.server.url).port);
    await web!.close();
    web = undefined;
    await page.getByTestId('connection-banner').waitFor({ timeout: 20_000 });
    await page.evaluate(`window.dispatchEvent(new Event('blur'))`);
    const kept = async () => Number(await page.evaluate(`Object.keys(localStorage).filter((k) => k.startsWith('pullback-studio:recovery:')).length`));
    await until('the document kept in localStorage', async () => (await kept()) === 1, 10_000);
    await expect(page.getByTestId('connection-banner').textContent()).resolves.toContain('kept in this browser');
    await snap('disconnected-banner', page.getByTestId('connection-banner'));
  });

  it('the server back on the same port: the page reconnects and writes the kept copy to recovery', async () => {
    const keys = JSON.parse(String(await page.evaluate(`JSON.stringify(Object.keys(localStorage))`))) as string[];
    const session = keys.find((k) => k.startsWith('pullback-studio:recovery:'))!.slice('pullback-studio:recovery:'.length);
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'web.js'), '--port', String(port)], {
      cwd: ROOT,
      env: { ...process.env, PULLBACK_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    restarted = child;
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const link = () => new RegExp(`http://127\\.0\\.0\\.1:${port}/\\?token=\\S+`).exec(out)?.[0];
    await until('the restarted server', async () => link() !== undefined || child.exitCode !== null, 60_000);
    expect(child.exitCode, out).toBeNull();
    // The restarted server remembers the browser session it handed out (server/session-file.ts): the page is not
    // reloaded and no new link is opened; it reconnects on its own with the cookie it has.
    await until('the banner to go', async () => (await page.getByTestId('connection-banner').count()) === 0, 30_000);
    const file = join(dataDir, 'recovery', `${session}.pbproj`);
    await until('the kept copy in the recovery folder', async () => existsSync(file), 10_000);
    await until('the page storage emptied', async () => Number(await page.evaluate(`Object.keys(localStorage).filter((k) => k.startsWith('pullback-studio:recovery:')).length`)) === 0, 10_000);
    // And the engine answers again: the directions of the imported image compute.
    await page.getByTestId('basis-k').fill('1');
    await computeDirections(page);
    await page.getByTestId('gallery-row').first().waitFor({ timeout: LONG });
    await snap('reconnected', page.getByTestId('gallery-row'));
  });

  it('logged no page errors', () => {
    // The browser logs each refused reconnect attempt; that is the point of the banner, not an error of the page.
    expect(pageErrors.filter((e) => !/Vulkan|WebSocket connection to .* failed/i.test(e))).toEqual([]);
  });
});
