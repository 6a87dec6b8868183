/**
 * A strength drag as the artist does it (issue 12: "the editor feels live in web mode"), in headless Chromium against
 * web mode on the bundled model, recorded as a screenshot sequence with timestamps:
 * test-output/live-drag-NN-<what>-<ms>ms.png, the ms counted from pressing the slider's thumb, and
 * test-output/live-drag-timeline.json with every event of the drag.
 *
 * While the thumb is held the canvas shows the live preview, labelled approximate; after the release the exact render
 * (Apply) replaces it and the label goes. The times are recorded, not asserted: speed targets belong to
 * `npm run bench -- edit`, which measures them on an idle engine.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { OUT, canvasHash, computeDirections, screenshot, until, useEditorSuite } from './harness';

const LONG = 240_000;

const suite = useEditorSuite('e2e-live-drag');

const idle = () => until('the jobs to finish', async () => (await suite.page.getByTestId('statusbar').locator('button').count()) === 0, LONG, 100);

describe('a strength drag: the approximate preview while held, the exact render after the release', () => {
  it('records the drag as timestamped screenshots', async () => {
    const { page } = suite;
    for (const f of readdirSync(OUT)) if (/^live-drag-\d\d-.*\.png$/.test(f)) rmSync(join(OUT, f));
    await page.getByTestId('seed').fill('4');
    await page.getByTestId('new-from-seed').click();
    await page.getByTestId('canvas-image').waitFor({ timeout: LONG });
    await page.getByTestId('basis-k').fill('2');
    await computeDirections(page);
    await page.getByTestId('thumb-plus').first().waitFor({ timeout: LONG });
    await idle();
    await page.getByTestId('add-direction').first().click();
    await idle();
    const unedited = await canvasHash(page);

    // Where the thumb is: the range's value between its min and max, across the track's width.
    const slider = page.getByTestId('stack-strength').first();
    const box = (await slider.boundingBox())!;
    const [min, max, value] = await Promise.all(['min', 'max', 'value'].map(async (a) => Number(a === 'value' ? await slider.inputValue() : await slider.getAttribute(a))));
    const xOf = (v: number) => box.x + box.width * ((v - min) / (max - min));
    const y = box.y + box.height / 2;

    const timeline: { ms: number; event: string; strength?: string; canvas?: string }[] = [];
    let shot = 0;
    const t0 = Date.now();
    const mark = async (event: string) => {
      const entry = { ms: Date.now() - t0, event, strength: await page.getByTestId('stack-strength-value').first().inputValue() };
      timeline.push(entry);
      return entry;
    };
    const snap = async (what: string, shows: Locator) => {
      shot += 1;
      const { ms } = await mark(`screenshot ${what}`);
      await screenshot(page, `live-drag-${String(shot).padStart(2, '0')}-${what}-${ms}ms.png`, shows);
    };
    const badge = page.getByTestId('live-preview-badge');
    // What the page showed, timed in the page itself (a polling test under load sees it late): every new canvas
    // image (its hash) and whether the approximate label was on it.
    await page.evaluate(`(() => {
      const seen = [];
      window.__liveDragCanvas = seen;
      let last = '';
      const look = () => {
        const sha = document.querySelector('[data-testid="canvas-image"]')?.getAttribute('data-sha256') ?? '';
        const labelled = document.querySelector('[data-testid="live-preview-badge"]') !== null;
        const key = sha + labelled;
        if (sha && key !== last) seen.push({ at: Date.now(), sha, labelled });
        last = key;
      };
      look();
      new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-sha256'] });
    })()`);
    // What the engine did meanwhile: every job queued, started, ended (superseded previews end as errors).
    const names = new Map<string, string>();
    const started = new Set<string>();
    const stopListening = suite.web.host.onEvent((e) => {
      if (e.type === 'queued') names.set(e.jobId, e.name);
      const name = names.get(e.jobId);
      if (!name) return;
      const change = e.type === 'queued' ? 'queued' : e.type === 'progress' && !started.has(e.jobId) ? 'started' : e.type === 'done' ? 'done' : e.type === 'error' ? `ended: ${e.error.code}` : null;
      if (e.type === 'progress') started.add(e.jobId);
      if (change) timeline.push({ ms: Date.now() - t0, event: `engine: ${name} ${e.jobId.slice(0, 8)} ${change}` });
    });

    await page.mouse.move(xOf(value), y);
    await page.mouse.down();
    await mark('thumb pressed');
    // Drag right in small moves, as a hand does: every move is an input event, i.e. a new preview request.
    const target = Math.min(max, value + 2);
    for (let i = 1; i <= 10; i++) await page.mouse.move(xOf(value + ((target - value) * i) / 10), y);
    await mark('thumb moved, still held');
    await badge.waitFor({ state: 'visible', timeout: LONG });
    // The view hashes a new image asynchronously: wait for the preview's hash, not the unedited one still on it.
    await until('the preview on the canvas', async () => (await canvasHash(page)) !== unedited, 30_000, 50);
    const approximate = await canvasHash(page);
    timeline.push({ ms: Date.now() - t0, event: 'approximate preview on the canvas', canvas: approximate });
    await snap('preview-held', badge);
    expect(approximate).not.toBe(unedited);
    const held = Number(await page.getByTestId('stack-strength-value').first().inputValue());
    expect(held).toBeGreaterThan(value + 1);

    await page.mouse.up();
    await mark('thumb released');
    await until('the exact render to replace the preview', async () => (await badge.count()) === 0, LONG, 50);
    await idle();
    await until('the exact render on the canvas', async () => (await canvasHash(page)) !== approximate, 30_000, 50);
    const exact = await canvasHash(page);
    timeline.push({ ms: Date.now() - t0, event: 'exact render on the canvas, label gone', canvas: exact });
    await snap('exact-after-release', page.getByTestId('canvas-image'));
    expect(exact).not.toBe(approximate);
    expect(exact).not.toBe(unedited);
    expect(Number(await page.getByTestId('stack-strength-value').first().inputValue())).toBe(held);

    stopListening();
    const shown = JSON.parse(String(await page.evaluate('JSON.stringify(window.__liveDragCanvas)'))) as { at: number; sha: string; labelled: boolean }[];
    for (const c of shown) {
      if (c.at < t0) continue;
      timeline.push({ ms: c.at - t0, event: `page: ${c.labelled ? 'approximate preview (labelled)' : 'unlabelled image'} on the canvas`, canvas: c.sha.slice(0, 12) });
    }
    // The page saw the labelled preview before the release, and ended on the exact image, unlabelled.
    const released = timeline.find((e) => e.event === 'thumb released')!.ms;
    expect(shown.some((c) => c.labelled && c.sha === approximate && c.at - t0 < released)).toBe(true);
    expect(shown.at(-1)).toMatchObject({ sha: exact, labelled: false });
    timeline.sort((a, b) => a.ms - b.ms);
    writeFileSync(join(OUT, 'live-drag-timeline.json'), JSON.stringify(timeline, null, 2) + '\n');
    console.log(timeline.map((e) => `${String(e.ms).padStart(6)} ms  ${e.event}${e.strength ? ` (strength ${e.strength})` : ''}`).join('\n'));
    expect(suite.errors).toEqual([]);
  }, 600_000);
});
