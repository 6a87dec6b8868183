/**
 * The estimate before a long basis and the Jacobian's device, end to end (issue 11 item 8) in headless Chromium
 * against web mode on the bundled model: after a render measured the forward pass, Compute directions with k = 64
 * (about 1 372 Jacobian products, minutes on two cores) asks first, with the estimate and its reasons, and Cancel
 * starts nothing; k = 1 (56 products, seconds) starts at once and its stats say what the Jacobians ran on.
 * Screenshot: test-output/basis-estimate-ask.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { OUT, screenshot, until, type WebMode, closeEditorSuite, openEditorSuite } from './harness';

const LONG = 240_000;

let web: WebMode;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  ({ web, browser, page } = await openEditorSuite('e2e-estimate', pageErrors));
}, 180_000);

afterAll(() => closeEditorSuite({ browser, web }));

describe('the estimate before a long basis', () => {
  it('asks before k = 64 with the estimate and why; Cancel starts nothing', async () => {
    await page.getByTestId('seed').fill('3');
    await page.getByTestId('steps').fill('11');
    await page.getByTestId('new-from-seed').click();
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    await page.getByTestId('basis-k').fill('64');
    await page.getByTestId('basis-compute').click();
    const ask = page.getByTestId('basis-estimate');
    await ask.waitFor({ timeout: 60_000 });
    const text = await page.getByTestId('basis-estimate-text').textContent();
    expect(text).toMatch(/^This basis will take ≈ \d+ (s|min|h)[^:]* on cpu: about 1372 Jacobian products \(krylov, k = 64, typical\), each ≈ 0\.4 forward passes of [\d.]+ m?s measured\.$/);
    await screenshot(page, 'basis-estimate-ask.png', ask);
    await page.getByTestId('basis-estimate-cancel').click();
    await until('the question to close', async () => (await ask.count()) === 0);
    // Nothing started: Compute is still offered and no basis job is running.
    expect(await page.getByTestId('basis-cancel').count()).toBe(0);
    expect(await page.getByTestId('gallery-rows').count()).toBe(0);
  });

  it('starts a short basis at once and says what its Jacobians ran on', async () => {
    await page.getByTestId('basis-k').fill('1');
    await page.getByTestId('basis-compute').click();
    await page.getByTestId('basis-cancel').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('basis-estimate').count()).toBe(0);
    await until('the gallery job to end', async () => (await page.getByTestId('basis-compute').count()) === 1 && (await page.getByTestId('basis-cancel').count()) === 0, LONG, 100);
    await expect(page.getByTestId('basis-status').textContent()).resolves.toMatch(/Jacobian: cpu/);
    expect(pageErrors).toEqual([]);
  });
});
