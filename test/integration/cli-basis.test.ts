/**
 * The CLI contract of sample / basis / edit / invert, run as a user runs it (node bin/pullback.js), on fixtures:
 * files written, their shapes and dtypes (.npy float32), basis.json fields, and composition of several
 * --direction/--strength pairs. PULLBACK_DATA_DIR points at a temp folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullbackCli } from '../helpers/cli';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy } from '../../src-main/core/tensor/npy';
import { ANALYTIC_INT64 } from '../helpers/model-folders';
import { wrapUnet } from './basis-fixture';
import { meanAbsDiff, readPng } from '../helpers/png';

let tmp: string;
let model: string;

const pullback = pullbackCli(() => join(tmp, 'data'));

const npy = async (f: string) => {
  const bytes = await readFile(f);
  expect(bytes.subarray(0, 60).toString('latin1')).toContain("'descr': '<f4'");
  return decodeNpy(bytes);
};

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pullback-cli-basis-'));
  model = await wrapUnet('ddpm_unet2d_op14', tmp);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('pullback sample / basis / edit / invert', () => {
  it('sample writes xt.npy [1, C, H, W] and x0.png at the snapped timestep', async () => {
    const out = join(tmp, 's');
    const r = await pullback(['sample', model, '--seed', '3', '--t', '0.6', '--steps', '50', '--provider', 'cpu', '--out', out, '-q']);
    expect(r.code).toBe(0);
    expect((await npy(join(out, 'xt.npy'))).dims).toEqual([1, 3, 16, 16]);
    const x0 = await readPng(join(out, 'x0.png'));
    expect([x0.width, x0.height, x0.channels]).toEqual([16, 16, 3]);
    expect(Math.max(...x0.pixels) - Math.min(...x0.pixels)).toBeGreaterThan(0); // an image, not a flat fill
    // t = 0.6 on 50 steps: linspace(0, 999, 50) has 29·999/49 = 591.24 and 30·999/49 = 611.63 around 600 → 591.
    expect(JSON.parse(await readFile(join(out, 'sample.json'), 'utf8')).timestep).toBe(591);
  });

  it('basis writes V (unit rows), S (descending), U and basis.json; --xt of the sample gives the same basis', async () => {
    const out = join(tmp, 'b');
    const r = await pullback(['basis', model, '--seed', '3', '--t', '0.6', '--steps', '50', '--k', '4', '--provider', 'cpu', '--out', out, '-q']);
    expect(r.code).toBe(0);
    const V = await npy(join(out, 'V.npy'));
    const S = await npy(join(out, 'S.npy'));
    const U = await npy(join(out, 'U.npy'));
    expect(V.dims).toEqual([4, 3, 16, 16]);
    expect(S.dims).toEqual([4]);
    expect(U.dims).toEqual([4, 32, 8, 8]);
    const n = 3 * 16 * 16;
    for (let i = 0; i < 4; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += V.data[i * n + j] ** 2;
      expect(Math.abs(Math.sqrt(s) - 1)).toBeLessThan(1e-5);
      if (i > 0) expect(S.data[i]).toBeLessThanOrEqual(S.data[i - 1]);
    }
    const meta = JSON.parse(await readFile(join(out, 'basis.json'), 'utf8'));
    for (const key of ['timestep', 'method', 'iterations', 'jacobian_products', 'residuals', 'seconds', 'h_tensor', 'model_hash']) expect(meta).toHaveProperty(key);
    expect(meta).toMatchObject({ timestep: 591, method: 'krylov', h_tensor: expect.stringContaining('mid_block'), cache_hit: false });
    expect(meta.residuals).toHaveLength(4);
    expect(meta.jacobian_products).toBeGreaterThan(0);
    expect(meta.model_hash).toMatch(/^[0-9a-f]{64}$/);

    const out2 = join(tmp, 'b2');
    const r2 = await pullback(['basis', model, '--xt', join(tmp, 's', 'xt.npy'), '--timestep', '591', '--steps', '50', '--k', '4', '--provider', 'cpu', '--out', out2, '-q']);
    expect(r2.code).toBe(0);
    expect(JSON.parse(await readFile(join(out2, 'basis.json'), 'utf8')).cache_hit).toBe(true);
    expect((await readFile(join(out2, 'V.npy'))).equals(await readFile(join(out, 'V.npy')))).toBe(true);
  });

  it('edit writes out.png; several --direction/--strength pairs compose (negative strengths accepted)', async () => {
    const args = ['edit', model, '--seed', '3', '--t', '0.6', '--steps', '50', '--basis', join(tmp, 'b'), '--provider', 'cpu', '-q'];
    const zero = await pullback([...args, '--direction', '0', '--strength', '0', '--out', join(tmp, 'e0.png')]);
    expect(zero.code).toBe(0);
    const one = await pullback([...args, '--direction', '0', '--strength', '1', '--scale', '2', '--out', join(tmp, 'e1.png')]);
    const two = await pullback([...args, '--direction', '0', '--strength', '1', '--direction', '2', '--strength', '-1', '--scale', '2', '--out', join(tmp, 'e2.png')]);
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    const [p0, p1, p2] = await Promise.all(['e0.png', 'e1.png', 'e2.png'].map((f) => readPng(join(tmp, f))));
    for (const p of [p0, p1, p2]) expect([p.width, p.height, p.channels]).toEqual([16, 16, 3]);
    expect(meanAbsDiff(p0, p1)).toBeGreaterThan(0);
    expect(meanAbsDiff(p1, p2)).toBeGreaterThan(0);
    const bad = await pullback([...args, '--direction', '0', '--out', join(tmp, 'x.png')]);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('pairs');
  });

  it('invert writes xT.npy, recon.png and the PSNR as JSON', async () => {
    const img = join(tmp, 'g.png');
    expect((await pullback(['generate', ANALYTIC_INT64, '--seed', '5', '--steps', '50', '--provider', 'cpu', '--out', img, '-q'])).code).toBe(0);
    const out = join(tmp, 'inv');
    const r = await pullback(['invert', ANALYTIC_INT64, '--image', img, '--steps', '100', '--t', '0.6', '--provider', 'cpu', '--out', out, '-q']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.psnr).toBeGreaterThan(30);
    expect(report.poor).toBe(false);
    expect((await npy(join(out, 'xT.npy'))).dims).toEqual([1, 3, 8, 8]);
    // t = 0.6 on 100 steps: 59·999/99 = 595.36 is nearer 600 than 60·999/99 = 605.45 (snapToSchedule's tie rule).
    expect(report.xt_timestep).toBe(595);
    expect((await npy(join(out, 'xt.npy'))).dims).toEqual([1, 3, 8, 8]);
    const [input, recon] = [await readPng(img), await readPng(join(out, 'recon.png'))];
    expect([recon.width, recon.height, recon.channels]).toEqual([8, 8, 3]);
    // PSNR > 30 dB means an 8-bit RMS error under 8.1 levels; the mean absolute error is at most that.
    expect(meanAbsDiff(input, recon)).toBeLessThan(8.1);
  });
});
