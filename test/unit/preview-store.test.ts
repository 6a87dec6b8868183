/**
 * The gallery previews stored beside a cached basis (engine/jobs/support/preview-store.ts): round trip, keyed by the
 * preview parameters, written owner-only beside the basis entry; a damaged or misplaced entry is a miss and is deleted,
 * never trusted.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { copyFile, readFile, writeFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BasisCache } from '../../src-main/engine/jobs/support/basis-store';
import { PreviewStore, type PreviewParams, type StoredPreviews } from '../../src-main/engine/jobs/support/preview-store';

const dir = mkdtempSync(join(tmpdir(), 'pb-previews-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const ID = 'ab'.repeat(32);
const params: PreviewParams = { steps: 100, previewSteps: 20, strength: 3, mode: 'guidance', guidanceSteps: 8, scale: 0.2, delta: 1, alpha: 1, boostFraction: 0.2, noiseSeed: 0, directions: [0, 2], pathKey: '', editPrompt: null, centerImage: null };
const img = (v: number, n = 50) => ({ mime: 'image/png' as const, width: 2, height: 3, bytes: new Uint8Array(n).map((_, i) => (v * 13 + i) & 255) });
const previews: StoredPreviews = {
  center: img(1),
  items: [
    { index: 0, minus: img(2), plus: img(3), heat: img(4, 7) },
    { index: 2, minus: img(5), plus: img(6), heat: img(7, 0) },
  ],
};

describe('preview store', () => {
  it('returns what was stored for the same basis and parameters only', async () => {
    const store = new PreviewStore(new BasisCache(dir));
    expect(await store.get(ID, params)).toEqual({ hit: false, reason: 'absent' });
    await store.put(ID, params, previews);
    const got = await store.get(ID, params);
    expect(got).toEqual({ hit: true, previews });
    // Beside the basis entry, owner-only like it.
    const file = store.pathFor(ID, params);
    expect(file.startsWith(join(dir, 'ab', ID))).toBe(true);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    for (const other of [{ ...params, strength: 1 }, { ...params, directions: [0] }, { ...params, noiseSeed: 1 }, { ...params, steps: 50 }]) {
      expect((await store.get(ID, other)).hit).toBe(false);
    }
    expect((await store.get('cd'.repeat(32), params)).hit).toBe(false);
    expect((await store.get('../../etc', params)).hit).toBe(false);
  });

  it('a flipped byte or a truncated entry is a miss and is deleted', async () => {
    const store = new PreviewStore(new BasisCache(dir));
    for (const damage of [(b: Buffer) => ((b[b.length >> 1] ^= 1), b), (b: Buffer) => b.subarray(0, b.length - 5)]) {
      await store.put(ID, params, previews);
      const file = store.pathFor(ID, params);
      await writeFile(file, damage(await readFile(file)));
      expect(await store.get(ID, params)).toMatchObject({ hit: false, reason: 'corrupt' });
      expect(await readdir(join(dir, 'ab'))).not.toContain(file.split('/').at(-1));
    }
  });

  it('an entry copied under another parameter set is not trusted', async () => {
    const store = new PreviewStore(new BasisCache(dir));
    await store.put(ID, params, previews);
    const other = { ...params, strength: 2 };
    await copyFile(store.pathFor(ID, params), store.pathFor(ID, other));
    expect(await store.get(ID, other)).toMatchObject({ hit: false, reason: 'corrupt', detail: 'entry was written for other previews' });
  });
});
