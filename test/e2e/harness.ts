/**
 * What every e2e suite shares: the built renderer, headless Debian Chromium with the flags this machine needs, web
 * mode on a loopback port with its own data folder, polling (`until`: Playwright's waitForFunction evaluates
 * strings, which the app's CSP forbids), and screenshots that are taken only of something the test checked is on
 * the page and are checked to be real images of the viewport.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import sharp from 'sharp';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startWebMode } from '../../src-main/server/main';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const OUT = join(ROOT, 'test-output');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export type WebMode = Awaited<ReturnType<typeof startWebMode>>;

/** `npm test` builds first; running an e2e file alone builds the renderer once. */
export function ensureRendererBuilt(): void {
  if (existsSync(join(ROOT, 'out', 'renderer', 'index.html'))) return;
  const r = spawnSync('npx', ['electron-vite', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('electron-vite build failed');
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/**
 * Web mode for a suite: the built renderer, a fresh data folder (also the engine worker's PULLBACK_DATA_DIR, so
 * projects and the basis cache start empty and everything is computed for real) unless one is given.
 */
export async function startSuiteWebMode(prefix: string, dataDir = mkdtempSync(join(tmpdir(), `pb-${prefix}-`))): Promise<{ web: WebMode; dataDir: string }> {
  ensureRendererBuilt();
  mkdirSync(OUT, { recursive: true });
  process.env.PULLBACK_DATA_DIR = dataDir;
  const web = await startWebMode({ port: 0, rendererDir: join(ROOT, 'out', 'renderer'), dataDir });
  return { web, dataDir };
}

/** Poll a condition evaluated from the test side. */
export async function until(what: string, cond: () => Promise<boolean>, timeout = 60_000, intervalMs = 50): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A screenshot of the page showing `shows` (asserted visible first, so the picture is of what the step claims), saved
 * under test-output/ and decoded back: a PNG of the viewport's size.
 */
export async function screenshot(page: Page, file: string, shows: Locator): Promise<void> {
  await shows.first().waitFor({ state: 'visible', timeout: 10_000 });
  const path = join(OUT, file);
  await page.screenshot({ path });
  const meta = await sharp(path).metadata();
  const viewport = page.viewportSize();
  expect([meta.format, meta.width, meta.height]).toEqual(['png', viewport?.width, viewport?.height]);
}

/** A page of the editor at `url` with the bundled model open; page errors and console errors are pushed to `errors`. */
export async function openEditor(browser: Browser, url: string, errors: string[], viewport = { width: 1360, height: 820 }): Promise<Page> {
  const page = await browser.newPage({ viewport, acceptDownloads: true });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  await page.getByTestId('new-from-seed').waitFor();
  await until('the bundled model', async () => (await page.getByTestId('model-select').inputValue()).includes('avatars64'), 60_000);
  return page;
}

/** What most suites run against: web mode, its data folder, Chromium and the editor page. */
export interface EditorSuite {
  web: WebMode;
  dataDir: string;
  browser: Browser;
  page: Page;
}

/** Every editor suite's start: web mode with a fresh data folder, Chromium, and the editor page on it. */
export async function openEditorSuite(prefix: string, errors: string[], viewport?: { width: number; height: number }): Promise<EditorSuite> {
  const { web, dataDir } = await startSuiteWebMode(prefix);
  const browser = await launchChromium();
  const page = await openEditor(browser, web.server.url, errors, viewport);
  return { web, dataDir, browser, page };
}

/**
 * A suite's start and end, registered: openEditorSuite before its tests (test-output/ made), closeEditorSuite after
 * them. The fields are filled once the start has run; page errors and console errors collect in `errors`.
 */
export function useEditorSuite(prefix: string, viewport?: { width: number; height: number }): EditorSuite & { errors: string[] } {
  const suite = { errors: [] as string[] } as EditorSuite & { errors: string[] };
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    Object.assign(suite, await openEditorSuite(prefix, suite.errors, viewport));
  }, 180_000);
  afterAll(() => closeEditorSuite(suite));
  return suite;
}

/** Every suite's end: the browser, then web mode (either may be missing when the start failed). */
export async function closeEditorSuite(s: { browser?: Browser; web?: WebMode }): Promise<void> {
  await s.browser?.close();
  await s.web?.close();
}

/** sha256 of the PNG bytes the canvas shows (the view puts it on the element once hashed). */
export async function canvasHash(page: Page): Promise<string> {
  let h = '';
  await until('the canvas image hash', async () => {
    h = (await page.getByTestId('canvas-image').getAttribute('data-sha256')) ?? '';
    return /^[0-9a-f]{64}$/.test(h);
  }, 10_000);
  return h;
}

export interface Rgba {
  width: number;
  height: number;
  data: number[];
}

/** An element's pixels as the page decodes them: an <img> drawn on a canvas at its natural size, or a <canvas> itself. */
export async function elementPixels(page: Page, selector: string, index = 0): Promise<Rgba> {
  const json = await page.evaluate(`(async () => {
    const el = document.querySelectorAll(${JSON.stringify(selector)})[${index}];
    let c = el;
    if (el instanceof HTMLImageElement) {
      await el.decode();
      c = document.createElement('canvas');
      c.width = el.naturalWidth;
      c.height = el.naturalHeight;
      c.getContext('2d').drawImage(el, 0, 0);
    }
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    return JSON.stringify({ width: c.width, height: c.height, data: Array.from(d.data) });
  })()`);
  return JSON.parse(String(json)) as Rgba;
}

/**
 * Press Compute directions as an artist would: when the editor asks first (a basis estimated over 30 s, which a
 * loaded CI machine's measured forward times can make of a small k), answer "Compute anyway". Returns once the job has
 * started, the question was answered, or nothing happened for 5 s (a cached basis can finish before it is seen).
 */
export async function computeDirections(page: Page): Promise<void> {
  await page.getByTestId('basis-compute').click();
  const started = Date.now();
  while (Date.now() - started < 5_000) {
    if ((await page.getByTestId('basis-estimate-go').count()) > 0) {
      await page.getByTestId('basis-estimate-go').click();
      return;
    }
    if ((await page.getByTestId('basis-cancel').count()) > 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
