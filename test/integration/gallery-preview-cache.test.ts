/**
 * Issue 16 on the bundled model: (1) the gallery's centre is the unedited document's canvas image, byte for byte the
 * PNG the editor shows for a seed document (`generate(seed, steps)`), and each −/+ preview differs from it; (2) a
 * second identical gallery on the cached basis returns the stored previews, byte-identical, without rendering anything
 * (renderFrom is counted through a wrapper of its module); a different strength renders anew; a damaged preview entry
 * is ignored and recomputed; (3) an imported image's centre is the canvas picture the client sends (`centerImage`);
 * (4) a masked gallery previews its edits with the mask as the region, as Apply makes them.
 */
import { readdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { defaultModelDir } from '../../src-main/app/bundled-models';
import { decodePng } from '../../src-main/engine/png';
import { meanAbsDiff } from '../helpers/png';
import { useTempDataDir } from './basis-fixture';

const renders = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src-main/core/edit/render', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src-main/core/edit/render')>();
  return {
    ...actual,
    renderFrom: (...args: Parameters<typeof actual.renderFrom>) => {
      renders.count++;
      return actual.renderFrom(...args);
    },
  };
});

const dataDir = useTempDataDir('gallery-cache');

const base = { modelDir: defaultModelDir(), seed: 5, t: 0.6, steps: 100, k: 2, directions: [0], provider: 'cpu' as const };

async function previewFiles(): Promise<string[]> {
  const out: string[] = [];
  const root = join(dataDir.root, 'data', 'basis');
  for (const sub of await readdir(root)) for (const f of await readdir(join(root, sub))) if (f.endsWith('.pbprev')) out.push(join(root, sub, f));
  return out;
}

describe('gallery previews: the canvas centre and the preview cache', () => {
  it('centre = the seed document canvas image; a repeat comes from the cache; a new strength renders', async () => {
    const canvas = await runJobInProcess('generate', { modelDir: base.modelDir, seed: base.seed, steps: base.steps, provider: 'cpu' }, { quiet: true });

    renders.count = 0;
    const first = await runJobInProcess('gallery', { ...base, strength: 3 }, { quiet: true });
    expect(first.previewsFromCache).toBe(false);
    expect(renders.count).toBeGreaterThan(0);
    // The middle preview is exactly what the canvas shows for the unedited document.
    expect(Buffer.from(first.center.bytes).equals(Buffer.from(canvas.images[0].bytes))).toBe(true);
    const center = await decodePng(first.center.bytes);
    for (const png of [first.items[0].minus, first.items[0].plus]) expect(meanAbsDiff(await decodePng(png.bytes), center)).toBeGreaterThan(0.2);

    renders.count = 0;
    const messages: string[] = [];
    const second = await runJobInProcess('gallery', { ...base, strength: 3 }, { quiet: true, onProgress: (p) => messages.push(p.message) });
    expect(second.basis.cacheHit).toBe(true);
    expect(second.previewsFromCache).toBe(true);
    expect(renders.count).toBe(0);
    expect(messages.some((m) => m.includes('from the cache'))).toBe(true);
    for (const [a, b] of [
      [first.center, second.center],
      [first.items[0].minus, second.items[0].minus],
      [first.items[0].plus, second.items[0].plus],
      [first.items[0].heat, second.items[0].heat],
    ]) {
      expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    }

    // Another strength: the basis still from the cache, the previews rendered (and the centre unchanged).
    renders.count = 0;
    const other = await runJobInProcess('gallery', { ...base, strength: 1 }, { quiet: true });
    expect(other.basis.cacheHit).toBe(true);
    expect(other.previewsFromCache).toBe(false);
    expect(renders.count).toBeGreaterThan(0);
    expect(Buffer.from(other.center.bytes).equals(Buffer.from(first.center.bytes))).toBe(true);
    expect(Buffer.from(other.items[0].plus.bytes).equals(Buffer.from(first.items[0].plus.bytes))).toBe(false);

    // A damaged entry (one flipped byte) is not trusted: rendered again, with the same bytes as the first time.
    const files = await previewFiles();
    expect(files.length).toBe(2);
    for (const f of files) {
      const bytes = await readFile(f);
      bytes[bytes.length >> 1] ^= 0xff;
      await writeFile(f, bytes);
    }
    renders.count = 0;
    const again = await runJobInProcess('gallery', { ...base, strength: 3 }, { quiet: true });
    expect(again.previewsFromCache).toBe(false);
    expect(renders.count).toBeGreaterThan(0);
    expect(Buffer.from(again.items[0].minus.bytes).equals(Buffer.from(first.items[0].minus.bytes))).toBe(true);
  }, 1_800_000);

  it('an imported image: the centre is the canvas picture sent (byte for byte), ± = it + the edit\'s change; a wrong size is refused', async () => {
    // The imported picture as the editor holds it: the invert job's resized `input` PNG.
    const inv = await runJobInProcess('invert', { modelDir: base.modelDir, image: (await runJobInProcess('generate', { modelDir: base.modelDir, seed: 9, steps: 20, provider: 'cpu' }, { quiet: true })).images[0].bytes, steps: 20, provider: 'cpu' }, { quiet: true });
    const picture = inv.input.bytes;
    const common = { modelDir: base.modelDir, xT: inv.xT, t: 0.6, steps: 20, k: 2, directions: [0], provider: 'cpu' as const, strength: 3 };
    const rendered = await runJobInProcess('gallery', common, { quiet: true });
    const given = await runJobInProcess('gallery', { ...common, centerImage: picture }, { quiet: true });
    expect(Buffer.from(given.center.bytes).equals(Buffer.from(picture))).toBe(true);
    expect(Buffer.from(rendered.center.bytes).equals(Buffer.from(picture))).toBe(false);
    // The change laid onto the picture is the one the rendered centre's previews show, up to 8-bit rounding and clamping.
    const [pic, rc] = [await decodePng(picture), await decodePng(rendered.center.bytes)];
    for (const sign of ['minus', 'plus'] as const) {
      const [g, r] = [await decodePng(given.items[0][sign].bytes), await decodePng(rendered.items[0][sign].bytes)];
      expect(meanAbsDiff(g, pic)).toBeGreaterThan(0.2);
      let err = 0;
      for (let i = 0; i < g.pixels.length; i++) err += Math.abs(g.pixels[i] - pic.pixels[i] - (r.pixels[i] - rc.pixels[i]));
      expect(err / g.pixels.length).toBeLessThan(1.5);
    }
    const small = (await runJobInProcess('generate', { modelDir: base.modelDir, seed: 1, steps: 2, provider: 'cpu' }, { quiet: true })).images[0].bytes;
    const sharp = (await import('sharp')).default;
    const wrong = new Uint8Array(await sharp(small).resize(32, 32).png().toBuffer());
    await expect(runJobInProcess('gallery', { ...common, centerImage: wrong }, { quiet: true })).rejects.toThrow(/centerImage is 32×32×3; this model's pictures are 64×64×3/);
  }, 1_800_000);

  it('a masked gallery previews its edits as Apply makes them: with the mask as the region', async () => {
    const sharp = (await import('sharp')).default;
    // Left half of the 64×64 picture selected.
    const px = Buffer.alloc(64 * 64);
    for (let y = 0; y < 64; y++) px.fill(255, y * 64, y * 64 + 32);
    const png = new Uint8Array(await sharp(px, { raw: { width: 64, height: 64, channels: 1 } }).png().toBuffer());
    const common = { modelDir: base.modelDir, seed: 7, t: 0.6, steps: 20, provider: 'cpu' as const };
    const gallery = await runJobInProcess('gallery', { ...common, k: 2, mask: { image: png }, directions: [0], strength: 3, previewSteps: 5 }, { quiet: true });
    // The same edit through the edit job (the gallery's n and s, its preview schedule and noise): ± − unedited is the
    // change the gallery lays onto its centre.
    const raw = async (bytes: Uint8Array) => new Uint8Array(await sharp(bytes).raw().toBuffer());
    const edit = async (strength: number, region: boolean) =>
      raw(
        (
          await runJobInProcess(
            'edit',
            { ...common, basis: { k: 2, mask: { image: png } }, edits: [{ index: 0, strength }], guidanceSteps: 8, scale: 0.2, renderSteps: 5, ...(region ? { region: { image: png } } : {}) },
            { quiet: true },
          )
        ).image.bytes,
      );
    const [center, plus, zero] = [await raw(gallery.center.bytes), await raw(gallery.items[0].plus.bytes), await edit(0, true)];
    const error = async (region: boolean) => {
      const e = await edit(3, region);
      let sum = 0;
      for (let i = 0; i < plus.length; i++) sum += Math.abs(plus[i] - Math.max(0, Math.min(255, center[i] + e[i] - zero[i])));
      return sum / plus.length;
    };
    const [withRegion, without] = [await error(true), await error(false)];
    let moved = 0;
    for (let i = 0; i < plus.length; i++) moved += Math.abs(plus[i] - center[i]);
    console.log(`[mask] gallery + vs edit: mean |Δ| ${withRegion.toFixed(3)} with the region, ${without.toFixed(3)} without; + vs centre ${(moved / plus.length).toFixed(3)}`);
    expect(moved / plus.length).toBeGreaterThan(0.2);
    // 8-bit rounding of three images apart, the gallery's + is the region edit's change laid onto the centre.
    expect(withRegion).toBeLessThan(1);
    expect(withRegion).toBeLessThan(without);
  }, 1_800_000);
});
