/**
 * The CLI of masked directions and global directions, run as a user runs it (node bin/pullback.js) on
 * ddpm_unet2d_op14 (3×16×16): `basis --mask [--mask-invert]`, `edit --mask`, `gallery --mask`, `transport` of a masked basis, and `global-basis` (seeds or x_t files,
 * x or h, chordal or karcher): files written, shapes, JSON/CSV fields, exit codes of bad usage and bad masks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeNpy, encodeNpy } from '../../src-main/core/tensor/npy';
import { pullbackCli } from '../helpers/cli';
import { wrapUnet } from './basis-fixture';

let tmp: string;
let model: string;
const pullback = pullbackCli(() => join(tmp, 'data'));
const npy = async (f: string) => decodeNpy(await readFile(f));
/** Latent pixel p of the 16×16 grid is selected by the mask below. */
const inside = (p: number) => p % 16 < 8;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pullback-cli-mask-'));
  model = await wrapUnet('ddpm_unet2d_op14', tmp);
  // 64×64 RGBA: opaque white on the left half, transparent elsewhere (transparent counts as black = unselected).
  const px = Buffer.alloc(64 * 64 * 4);
  for (let y = 0; y < 64; y++) for (let x = 0; x < 32; x++) px.fill(255, (y * 64 + x) * 4, (y * 64 + x) * 4 + 4);
  await sharp(px, { raw: { width: 64, height: 64, channels: 4 } }).png().toFile(join(tmp, 'mask.png'));
  await sharp(Buffer.alloc(16 * 16), { raw: { width: 16, height: 16, channels: 1 } }).png().toFile(join(tmp, 'empty.png'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const base = ['--t', '0.6', '--steps', '20', '--provider', 'cpu', '-q'];

describe('pullback basis / edit --mask', () => {
  it('basis --mask: directions 0 outside the mask; --mask-invert: 0 inside; basis.json records the mask', async () => {
    const out = join(tmp, 'masked');
    const r = await pullback(['basis', model, '--seed', '2', '--k', '3', '--mask', join(tmp, 'mask.png'), ...base, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const V = await npy(join(out, 'V.npy'));
    expect(V.dims).toEqual([3, 3, 16, 16]);
    for (let i = 0; i < V.data.length; i++) if (!inside(i % 256)) expect(Math.abs(V.data[i])).toBe(0);
    const meta = JSON.parse(await readFile(join(out, 'basis.json'), 'utf8'));
    expect(meta.mask).toEqual({ file: join(tmp, 'mask.png'), invert: false, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const inv = join(tmp, 'inverted');
    expect((await pullback(['basis', model, '--seed', '2', '--k', '3', '--mask', join(tmp, 'mask.png'), '--mask-invert', ...base, '--out', inv])).code).toBe(0);
    const Vi = await npy(join(inv, 'V.npy'));
    for (let i = 0; i < Vi.data.length; i++) if (inside(i % 256)) expect(Math.abs(Vi.data[i])).toBe(0);
    const metaInv = JSON.parse(await readFile(join(inv, 'basis.json'), 'utf8'));
    expect(metaInv.cache_hit).toBe(false);
    expect(metaInv.mask.sha256).not.toBe(meta.mask.sha256);

    // The same weights as a .npy: the same cache entry.
    const w = new Float32Array(256).map((_, p) => (inside(p) ? 1 : 0));
    await writeFile(join(tmp, 'mask.npy'), encodeNpy({ dims: [16, 16], data: w }));
    const again = join(tmp, 'again');
    expect((await pullback(['basis', model, '--seed', '2', '--k', '3', '--mask', join(tmp, 'mask.npy'), ...base, '--out', again])).code).toBe(0);
    expect(JSON.parse(await readFile(join(again, 'basis.json'), 'utf8'))).toMatchObject({ cache_hit: true, cache_id: meta.cache_id });
  });

  it('bad masks: empty → error [invalid-argument] "the mask selects no pixels"; --mask-invert alone → usage (64)', async () => {
    const r = await pullback(['basis', model, '--seed', '2', '--k', '3', '--mask', join(tmp, 'empty.png'), ...base, '--out', join(tmp, 'x')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [invalid-argument]: the mask selects no pixels');
    const u = await pullback(['basis', model, '--seed', '2', '--k', '3', '--mask-invert', ...base, '--out', join(tmp, 'y')]);
    expect(u.code).toBe(64);
    expect(u.stderr).toContain('--mask-invert needs --mask FILE');
    const missing = await pullback(['basis', model, '--seed', '2', '--k', '3', '--mask', join(tmp, 'nope.png'), ...base, '--out', join(tmp, 'z')]);
    expect(missing.code).toBe(64);
  });

  it('edit --mask renders with the region (and a masked basis folder); --mask-blend keeps the picture outside', async () => {
    const out = join(tmp, 'edit.png');
    const r = await pullback(['edit', model, '--seed', '2', '--basis', join(tmp, 'masked'), '--direction', '0', '--strength', '2', '--mask', join(tmp, 'mask.png'), ...base, '--out', out]);
    expect(r.code).toBe(0);
    expect((await stat(out)).size).toBeGreaterThan(0);
    const bad = await pullback(['edit', model, '--seed', '2', '--basis', join(tmp, 'masked'), '--direction', '0', '--strength', '2', '--mask', join(tmp, 'empty.png'), ...base, '--out', join(tmp, 'e2.png')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('the mask selects no pixels');
    // --mask-blend: the picture outside the mask is the unedited one, pixel for pixel.
    const zero = join(tmp, 'zero.png');
    expect((await pullback(['edit', model, '--seed', '2', '--basis', join(tmp, 'masked'), '--direction', '0', '--strength', '0', ...base, '--out', zero])).code).toBe(0);
    const blended = join(tmp, 'blend.png');
    const rb = await pullback(['edit', model, '--seed', '2', '--basis', join(tmp, 'masked'), '--direction', '0', '--strength', '20', '--mask', join(tmp, 'mask.png'), '--mask-blend', ...base, '--out', blended]);
    expect(rb.code).toBe(0);
    const [a, b] = [await sharp(zero).raw().toBuffer(), await sharp(blended).raw().toBuffer()];
    const ch = a.length / 256;
    for (let p = 0; p < 256; p++) if (!inside(p)) for (let c = 0; c < ch; c++) expect(b[p * ch + c]).toBe(a[p * ch + c]);
    const alone = await pullback(['edit', model, '--seed', '2', '--basis', join(tmp, 'masked'), '--direction', '0', '--strength', '2', '--mask-blend', ...base, '--out', join(tmp, 'e3.png')]);
    expect(alone.code).toBe(64);
  });
});

describe('pullback gallery --mask', () => {
  it('σ of the masked basis, heat maps dark outside the mask, gallery.json records the mask', async () => {
    const out = join(tmp, 'gallery-masked');
    const r = await pullback(['gallery', model, '--seed', '2', '--k', '3', '--directions', '0,1', '--preview-steps', '4', '--mask', join(tmp, 'mask.png'), ...base, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const meta = JSON.parse(await readFile(join(out, 'gallery.json'), 'utf8'));
    expect(meta.mask).toEqual({ file: join(tmp, 'mask.png'), invert: false, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // The same σ as `pullback basis --mask` with the same k (the basis is the cached masked one).
    const S = await npy(join(tmp, 'masked', 'S.npy'));
    expect(meta.directions.map((d: { sigma: number }) => d.sigma)).toEqual([S.data[0], S.data[1]]);
    for (const i of [0, 1]) {
      // |v| per pixel: 0 outside the mask, so those pixels have the ramp's darkest colour (30, 32, 40).
      const heat = await sharp(join(out, `heat-${i}.png`)).raw().toBuffer();
      const ch = heat.length / 256;
      let lit = 0;
      for (let p = 0; p < 256; p++) {
        const rgb = [heat[p * ch], heat[p * ch + 1], heat[p * ch + 2]];
        if (!inside(p)) expect(rgb).toEqual([30, 32, 40]);
        else if (rgb[0] > 30) lit++;
      }
      expect(lit).toBeGreaterThan(0);
    }
  });
});

describe('pullback transport of a masked basis', () => {
  it('keeps the mask: A is the cached masked basis, v at B is 0 outside the mask; another mask is refused', async () => {
    const out = join(tmp, 'transport-masked');
    const r = await pullback(['transport', model, '--from', join(tmp, 'masked'), '--direction', '0', '--to', 'seed:5', ...base.filter((a) => a !== '--t' && a !== '0.6'), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const meta = JSON.parse(await readFile(join(out, 'transport.json'), 'utf8'));
    const basisMeta = JSON.parse(await readFile(join(tmp, 'masked', 'basis.json'), 'utf8'));
    expect(meta.basis_a.cacheId).toBe(basisMeta.cache_id);
    expect(meta.mask).toEqual(basisMeta.mask);
    expect(meta.surviving_share).toBeGreaterThan(0);
    expect(meta.surviving_share).toBeLessThanOrEqual(1 + 1e-6);
    const v = await npy(join(out, 'v.npy'));
    for (let c = 0; c < 3; c++) for (let p = 0; p < 256; p++) if (!inside(p)) expect(v.data[c * 256 + p]).toBe(0);
    const other = await pullback(['transport', model, '--from', join(tmp, 'masked'), '--direction', '0', '--to', 'seed:5', '--mask', join(tmp, 'mask.png'), '--mask-invert', '--steps', '20', '--provider', 'cpu', '-q', '--out', join(tmp, 't2')]);
    expect(other.code).toBe(64);
    expect(other.stderr).toContain('is not the one the basis');
  });
});

describe('pullback global-basis', () => {
  it('--seeds, karcher, x: V.npy, S.npy, global.json with per-sample distances, distances.csv', async () => {
    const out = join(tmp, 'g');
    const r = await pullback(['global-basis', model, '--seeds', '1,2,3', '--k', '3', '--mean', 'karcher', ...base, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await npy(join(out, 'V.npy'))).dims).toEqual([3, 3, 16, 16]);
    expect((await npy(join(out, 'S.npy'))).dims).toEqual([3]);
    const meta = JSON.parse(await readFile(join(out, 'global.json'), 'utf8'));
    expect(meta).toMatchObject({ space: 'x', mean: 'karcher', k: 3, k_global: 3, karcher: { converged: true } });
    expect(meta.samples.map((s: { seed: number }) => s.seed)).toEqual([1, 2, 3]);
    for (const s of meta.samples) expect(s.distance).toBeGreaterThan(0);
    const csv = (await readFile(join(out, 'distances.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('index,seed,xt,distance,cache_hit');
    expect(csv).toHaveLength(4);
    expect(Number(csv[1].split(',')[3])).toBeCloseTo(meta.samples[0].distance, 12);
  });

  it('--xt files, --space h, chordal: U.npy [k, *h]; the local bases come from the cache', async () => {
    for (const seed of [1, 2]) {
      expect((await pullback(['sample', model, '--seed', String(seed), ...base, '--out', join(tmp, `s${seed}`)])).code).toBe(0);
    }
    const timestep = String(JSON.parse(await readFile(join(tmp, 's1', 'sample.json'), 'utf8')).timestep);
    const out = join(tmp, 'gh');
    const r = await pullback(['global-basis', model, '--xt', join(tmp, 's1', 'xt.npy'), '--xt', join(tmp, 's2', 'xt.npy'), '--timestep', timestep, '--steps', '20', '--k', '3', '--k-global', '2', '--space', 'h', '--provider', 'cpu', '-q', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await npy(join(out, 'U.npy'))).dims).toEqual([2, 32, 8, 8]);
    const meta = JSON.parse(await readFile(join(out, 'global.json'), 'utf8'));
    expect(meta).toMatchObject({ space: 'h', mean: 'chordal', k_global: 2, karcher: null });
    expect(meta.samples.map((s: { xt: string; cache_hit: boolean }) => [s.xt, s.cache_hit])).toEqual([
      [join(tmp, 's1', 'xt.npy'), true],
      [join(tmp, 's2', 'xt.npy'), true],
    ]);
  });

  it('usage: --help prints the usage line; --seeds and --xt together or neither is a usage error; bad --mean', async () => {
    const help = await pullback(['global-basis', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--mean chordal|karcher');
    const both = await pullback(['global-basis', model, '--seeds', '1', '--xt', 'a.npy', '--k', '2', ...base, '--out', join(tmp, 'u1')]);
    expect(both.code).toBe(64);
    const neither = await pullback(['global-basis', model, '--k', '2', ...base, '--out', join(tmp, 'u2')]);
    expect(neither.code).toBe(64);
    const mean = await pullback(['global-basis', model, '--seeds', '1', '--k', '2', '--mean', 'median', ...base, '--out', join(tmp, 'u3')]);
    expect(mean.code).toBe(64);
    expect(mean.stderr).toContain('--mean must be chordal or karcher');
  });
});
