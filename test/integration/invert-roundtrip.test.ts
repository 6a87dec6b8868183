/**
 * DDIM inversion round trip on the analytic fixture (an exact-Gaussian ε model: data ~ N(μ, s²I), so ε_θ is
 * the true score and the probability-flow ODE is exactly invertible). What remains after invert → regenerate is
 * the DDIM discretisation error of the inversion approximation (each inversion step uses ε at the level it
 * starts from, the generation step that undoes it uses ε at the level above), which is first order in 1/N.
 * Tolerance: max |x0 − regenerate(invert(x0))| < 0.1 at N = 100 (measured 0.085 on values of range ±1.7), and
 * the error halves (ratio 0.4–0.6) from N = 100 to N = 200 — a bug in the update would not converge like that.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelCache } from '../../src-main/engine/worker/model-cache';
import { ddimDenoise, ddimInvert, generate, type NoisePredictor } from '../../src-main/core/diffusion';
import type { Tensor } from '../../src-main/core/tensor';
import { runJobInProcess } from '../../src-main/engine/run-in-process';
import { ANALYTIC_INT64 } from '../helpers/model-folders';
import { encodePng } from '../../src-main/engine/png';
import { sampleToImage } from '../../src-main/core/diffusion/image';

const models = new ModelCache();
let predictor: NoisePredictor;
let alphas: Float64Array;
let x0: Tensor;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pullback-invert-'));
  const l = await models.load(ANALYTIC_INT64, 'cpu');
  predictor = l.predictor;
  alphas = l.model.alphasCumprod;
  x0 = await generate({ predictor, alphasCumprod: alphas, seed: 11, steps: 100 });
});

afterAll(async () => {
  await models.release();
  await rm(tmp, { recursive: true, force: true });
});

async function roundTripError(steps: number): Promise<number> {
  const inv = await ddimInvert(x0, { predictor, alphasCumprod: alphas, steps });
  expect(inv.timestep).toBe(999);
  const rec = await ddimDenoise(inv.x, { predictor, alphasCumprod: alphas, steps, fromTimestep: inv.timestep });
  let m = 0;
  for (let i = 0; i < x0.data.length; i++) m = Math.max(m, Math.abs(x0.data[i] - rec.data[i]));
  return m;
}

describe('DDIM inversion (analytic-int64)', () => {
  it('regenerate(invert(x0)) ≈ x0 with first-order convergence in the step count', async () => {
    const e100 = await roundTripError(100);
    const e200 = await roundTripError(200);
    console.log(`[invert-roundtrip] max abs error N=100: ${e100.toExponential(3)}, N=200: ${e200.toExponential(3)}`);
    expect(e100).toBeLessThan(0.1);
    expect(e200 / e100).toBeGreaterThan(0.4);
    expect(e200 / e100).toBeLessThan(0.6);
  });

  it('x_T from inversion is close to the noise that generated the image', async () => {
    // generate(seed) started from initialNoise(seed); invert must land near it (same discretisation error).
    const { initialNoise } = await import('../../src-main/core/diffusion');
    const z = initialNoise(predictor.sampleDims, 11, 1);
    const inv = await ddimInvert(x0, { predictor, alphasCumprod: alphas, steps: 100 });
    let se = 0;
    let ss = 0;
    for (let i = 0; i < z.data.length; i++) {
      se += (z.data[i] - inv.x.data[i]) ** 2;
      ss += z.data[i] ** 2;
    }
    expect(Math.sqrt(se / ss)).toBeLessThan(0.1);
  });

  it('the invert job reports PSNR and flags poor reconstructions', async () => {
    const png = await encodePng(sampleToImage(x0));
    const good = await runJobInProcess('invert', { modelDir: ANALYTIC_INT64, image: png, steps: 100, provider: 'cpu' }, { quiet: true });
    console.log(`[invert-roundtrip] job PSNR at 100 steps: ${good.psnr.toFixed(2)} dB; xT dims ${good.xT.dims}`);
    expect(good.psnr).toBeGreaterThan(35);
    expect(good.poor).toBe(false);
    expect(good.xT.dims).toEqual([1, 3, 8, 8]);
    // The editor's path for an imported image: x_T as the `xT` source; its path down is the regeneration itself.
    const viaXT = await runJobInProcess('sample', { modelDir: ANALYTIC_INT64, xT: good.xT, timestep: 605, steps: 100, provider: 'cpu' }, { quiet: true });
    expect(Buffer.from(viaXT.image.bytes).equals(Buffer.from(good.recon.bytes))).toBe(true);
    const poor = await runJobInProcess('invert', { modelDir: ANALYTIC_INT64, image: png, steps: 10, provider: 'cpu' }, { quiet: true });
    expect(poor.psnr).toBeLessThan(good.psnr);
    expect(poor.poor).toBe(true);
  });

  it('x_t captured at an edit timestep lies on the inversion path: denoising it from there gives the same x_0', async () => {
    const full = await ddimInvert(x0, { predictor, alphasCumprod: alphas, steps: 100, captureTimestep: 605 });
    const fromXt = await ddimDenoise(full.captured!, { predictor, alphasCumprod: alphas, steps: 100, fromTimestep: 605 });
    let m = 0;
    for (let i = 0; i < x0.data.length; i++) m = Math.max(m, Math.abs(x0.data[i] - fromXt.data[i]));
    expect(m).toBeLessThan(0.1);
    await expect(ddimInvert(x0, { predictor, alphasCumprod: alphas, steps: 100, captureTimestep: 600 })).rejects.toThrow(/not on the/);
  });

  it('bytes that are no PNG/JPEG/WebP are unsupported-image; a damaged PNG is an invalid-argument error', async () => {
    await expect(
      runJobInProcess('invert', { modelDir: ANALYTIC_INT64, image: new Uint8Array([1, 2, 3, 4]), steps: 10, provider: 'cpu' }, { quiet: true }),
    ).rejects.toMatchObject({ code: 'unsupported-image' });
    const damagedPng = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
    await expect(runJobInProcess('invert', { modelDir: ANALYTIC_INT64, image: damagedPng, steps: 10, provider: 'cpu' }, { quiet: true })).rejects.toMatchObject({
      code: 'invalid-argument',
    });
  });
});
