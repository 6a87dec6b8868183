/**
 * The prompt fields end to end in headless Chromium against web mode, on the tiny Stable Diffusion fixture
 * (test/fixtures/text-pipelines/sd1-diffusers, 64×64 images): the folder path typed into the model picker, the prompt
 * fields appear only for the text model, a prompt renders, another prompt renders a different image from the same
 * seed, the tokenization is shown, and a gallery (k = 2) and an applied edit run on the document's prompt while the
 * fields hold another one; the saved project keeps the document's prompt, and reopening it in a fresh page brings back
 * the model, the prompt fields and the image; a basis prompt computes its own gallery, whose direction applies.
 * Screenshots in test-output/prompt-*.png. 11 DDIM steps keep it short on two cores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { loadProjectFile } from '../../src-main/core/project';
import { textFolder } from '../helpers/text-fixtures';
import { computeDirections, canvasHash, openEditor, screenshot, until as poll, type WebMode, closeEditorSuite, openEditorSuite } from './harness';

const LONG = 300_000;
const SD = textFolder('sd1-diffusers');

let web: WebMode;
let dataDir = '';
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const until = (what: string, cond: () => Promise<boolean>, timeout = LONG) => poll(what, cond, timeout, 100);

/** No job running: the status bar has no Cancel button. */
async function idle(): Promise<void> {
  await until('the jobs to finish', async () => (await page.getByTestId('statusbar').locator('button').count()) === 0);
}

/** The notices on screen that are errors (a failed job shows one). */
async function errorNotices(): Promise<string[]> {
  return page.locator('[data-testid="notice"][data-kind="error"]').allTextContents();
}

/** Type a prompt and press New from seed; resolves with the canvas hash once the new image shows. */
async function render(prompt: string, previous: string | null): Promise<string> {
  await page.getByTestId('prompt').fill(prompt);
  await page.getByTestId('new-from-seed').click();
  await idle();
  let h = '';
  await until('the new image', async () => {
    h = await canvasHash(page);
    return h !== previous;
  });
  return h;
}

beforeAll(async () => {
  ({ web, dataDir, browser, page } = await openEditorSuite('prompt', pageErrors));
}, 180_000);

afterAll(() => closeEditorSuite({ browser, web }));

describe('editor: prompts on a Stable Diffusion folder', () => {
  let cat = '';
  let dog = '';
  let edited = '';

  it('the bundled unconditional model has no prompt fields; the SD folder typed into the picker has them', async () => {
    expect(await page.getByTestId('prompt-fields').count()).toBe(0);
    await page.getByTestId('model-select').selectOption('__custom__');
    await page.getByTestId('model-dir').fill(SD);
    await page.getByTestId('model-dir').press('Enter');
    await page.getByTestId('prompt-fields').waitFor({ timeout: LONG });
    expect(await page.getByTestId('model-select').inputValue()).toBe(SD);
    await expect(page.getByTestId('guidance-scale').inputValue()).resolves.toBe('7.5');
  });

  it('a prompt renders; another prompt renders a different image from the same seed', async () => {
    await page.getByTestId('seed').fill('3');
    await page.getByTestId('steps').fill('11');
    await page.getByTestId('negative-prompt').fill('blurry');
    cat = await render('a photo of a cat', null);
    await expect(page.getByTestId('prompt-info').textContent()).resolves.toMatch(/\d+ \/ 75 tokens/);
    await screenshot(page, 'prompt-01-cat.png', page.getByTestId('canvas-image'));
    dog = await render('a painting of a dog', cat);
    expect(dog).not.toBe(cat);
    await screenshot(page, 'prompt-02-dog.png', page.getByTestId('prompt-fields'));
    // The same prompt again is the same image (deterministic DDIM): the difference is the prompt's.
    expect(await render('a photo of a cat', dog)).toBe(cat);
    dog = await render('a painting of a dog', cat);
  });

  it('a gallery (k = 2) and an applied edit run on the document’s prompt while the field holds another', async () => {
    // Typed but not rendered: the document stays the dog, and the panel says New would render the field.
    await page.getByTestId('prompt').fill('a photo of a cat');
    await page.getByTestId('prompt-changed').waitFor();
    await page.getByTestId('basis-k').fill('2');
    await computeDirections(page);
    await page.getByTestId('basis-cancel').waitFor();
    await page.getByTestId('basis-compute').waitFor({ timeout: LONG });
    expect(await page.getByTestId('gallery-row').count()).toBe(2);
    expect(await page.getByTestId('thumb-plus').count()).toBe(2);
    await screenshot(page, 'prompt-03-gallery.png', page.getByTestId('gallery-row'));
    await page.getByTestId('add-direction').first().click();
    await page.getByTestId('stack-strength-value').fill('3');
    await page.getByTestId('stack-strength-value').press('Enter');
    await page.getByTestId('apply').click();
    await idle();
    edited = await canvasHash(page);
    expect(edited).not.toBe(dog);
    expect(edited).not.toBe(cat);
    await screenshot(page, 'prompt-04-applied.png', page.getByTestId('canvas-image'));
    expect(await errorNotices()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('the saved project keeps the document’s prompt; reopening it restores the model, the fields and the image', async () => {
    await page.locator('body').click({ position: { x: 5, y: 790 } });
    await page.keyboard.press('Control+s');
    await page.getByTestId('project-name').fill('prompted');
    await page.getByTestId('project-save-confirm').click();
    await page.getByTestId('project-title').filter({ hasText: 'prompted' }).waitFor();
    const saved = loadProjectFile(join(dataDir, 'projects', 'prompted.pbproj'));
    expect(saved.manifest.source).toMatchObject({ kind: 'seed', seed: 3, steps: 11, prompt: 'a painting of a dog', negativePrompt: 'blurry', guidanceScale: 7.5 });
    expect(saved.manifest.images.result).toBe(edited);

    await page.close();
    page = await openEditor(browser, web.server.url, pageErrors);
    await page.getByTestId('menu-file').click();
    await page.getByTestId('menu-open').click();
    await page.getByTestId('project-item').filter({ hasText: 'prompted' }).click();
    await page.getByTestId('prompt-fields').waitFor({ timeout: LONG });
    await until('the saved image', async () => (await page.getByTestId('canvas-image').count()) === 1 && (await canvasHash(page)) === edited);
    expect(await page.getByTestId('prompt').inputValue()).toBe('a painting of a dog');
    expect(await page.getByTestId('negative-prompt').inputValue()).toBe('blurry');
    expect(await page.getByTestId('model-select').inputValue()).toBe(SD);
    await screenshot(page, 'prompt-05-reopened.png', page.getByTestId('prompt-fields'));
    expect(pageErrors).toEqual([]);
  });

  it('a basis prompt: the directions of J at it in a gallery of their own, applied at that basis', async () => {
    await page.getByTestId('basis-k').fill('2');
    await page.getByTestId('basis-prompt').fill('a photo of a cat');
    await computeDirections(page);
    await page.getByTestId('basis-cancel').waitFor();
    await page.getByTestId('basis-compute').waitFor({ timeout: LONG });
    await expect(page.getByTestId('gallery-basis-prompt').textContent()).resolves.toContain('a photo of a cat');
    expect(await page.getByTestId('thumb-plus').count()).toBe(2);
    const before = await canvasHash(page);
    await page.getByTestId('stack-remove').first().click();
    await page.getByTestId('add-direction').first().click();
    await page.getByTestId('stack-strength-value').fill('3');
    await page.getByTestId('stack-strength-value').press('Enter');
    await page.getByTestId('apply').click();
    await idle();
    expect(await canvasHash(page)).not.toBe(before);
    await screenshot(page, 'prompt-06-basis-prompt.png', page.getByTestId('gallery-basis-prompt'));
    expect(await errorNotices()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
