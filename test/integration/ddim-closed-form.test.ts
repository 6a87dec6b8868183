/**
 * DDIM against a closed form. The fixture U-Net's ε is the exact ε of data N(mu, s²I), so with y_t = x_t - √ᾱ_t·mu
 * every DDIM(η=0) step is linear: y' = k·y, k = (√ᾱ'√ᾱ s² + √(1-ᾱ')√(1-ᾱ)) / (ᾱ s² + 1 - ᾱ). Hence
 *   x_0 = mu + K·(x_T - √ᾱ_T mu),  K = ∏ k,
 * and K → s/√(ᾱ_T s² + 1 - ᾱ_T) (the probability-flow ODE's exact map) as steps grow. Checks: ORT generation equals an
 * independent float64 DDIM loop with the analytic ε, equals the closed form, and the samples' statistics match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelCache } from '../../src-main/engine/worker/model-cache';
import { generate, initialNoise } from '../../src-main/core/diffusion/generate';
import { ddimTimesteps } from '../../src-main/core/diffusion/ddim';
import { alphasCumprod, parseSchedulerConfig } from '../../src-main/core/diffusion/scheduler';
import { ANALYTIC_EXTERNAL, ANALYTIC_FLOAT, ANALYTIC_INT64, ANALYTIC_VPRED, FIXTURE_MODELS } from '../helpers/model-folders';

const params = JSON.parse(readFileSync(join(FIXTURE_MODELS, 'analytic-params.json'), 'utf8')) as { s: number; dims: number[]; mu: number[] };
const { s, mu } = params;
const n = mu.length;
// ᾱ straight from the fixture's scheduler_config.json (linear 1e-4..0.02, T = 1000).
const ab = alphasCumprod(parseSchedulerConfig(JSON.parse(readFileSync(join(ANALYTIC_INT64, 'scheduler', 'scheduler_config.json'), 'utf8')), 'x'));
const abAt = (t: number) => (t < 0 ? 1 : ab[t]);

/** Reference DDIM in float64 with the analytic ε, written independently of core/diffusion/ddim.ts. */
function referenceDdim(xT: Float32Array, steps: number): Float64Array {
  const ts = ddimTimesteps(steps, 1000);
  const x = Float64Array.from(xT);
  for (let k = 0; k < ts.length; k++) {
    const a = abAt(ts[k]);
    const an = abAt(k + 1 < ts.length ? ts[k + 1] : -1);
    for (let i = 0; i < x.length; i++) {
      const m = mu[i % n];
      const eps = (Math.sqrt(1 - a) * (x[i] - Math.sqrt(a) * m)) / (a * s * s + 1 - a);
      const x0 = (x[i] - Math.sqrt(1 - a) * eps) / Math.sqrt(a);
      x[i] = Math.sqrt(an) * x0 + Math.sqrt(1 - an) * eps;
    }
  }
  return x;
}

function closedFormK(steps: number): number {
  const ts = ddimTimesteps(steps, 1000);
  let K = 1;
  for (let k = 0; k < ts.length; k++) {
    const a = abAt(ts[k]);
    const an = abAt(k + 1 < ts.length ? ts[k + 1] : -1);
    K *= (Math.sqrt(an * a) * s * s + Math.sqrt((1 - an) * (1 - a))) / (a * s * s + 1 - a);
  }
  return K;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('DDIM generation with an analytic Gaussian U-Net (ORT)', () => {
  const cache = new ModelCache();
  afterAll(() => cache.release());
  let run: (dir: string, seed: number, steps: number, batch: number) => Promise<Float32Array>;
  beforeAll(() => {
    run = async (dir, seed, steps, batch) => {
      const m = await cache.load(dir, 'cpu');
      expect(m.provider).toBe('cpu');
      const x = await generate({ predictor: m.predictor, alphasCumprod: m.model.alphasCumprod, seed, steps, batch });
      return x.data;
    };
  });

  it.each([10, 50, 200])('matches the float64 reference and the closed form (%i steps)', async (steps) => {
    const batch = 4;
    const seed = 1234;
    const got = await run(ANALYTIC_INT64, seed, steps, batch);
    const xT = initialNoise([3, 8, 8], seed, batch).data;
    const ref = referenceDdim(xT, steps);
    expect(maxAbsDiff(got, ref)).toBeLessThan(1e-4);
    const K = closedFormK(steps);
    const closed = Array.from(xT, (v, i) => mu[i % n] + K * (v - Math.sqrt(ab[999]) * mu[i % n]));
    expect(maxAbsDiff(ref, closed)).toBeLessThan(1e-9);
    expect(maxAbsDiff(got, closed)).toBeLessThan(1e-4);
  });

  it('DDIM converges to the probability-flow ODE map as steps grow', () => {
    const exact = s / Math.sqrt(ab[999] * s * s + 1 - ab[999]);
    const e10 = Math.abs(closedFormK(10) / exact - 1);
    const e100 = Math.abs(closedFormK(100) / exact - 1);
    const e1000 = Math.abs(closedFormK(1000) / exact - 1);
    expect(e100).toBeLessThan(e10);
    expect(e1000).toBeLessThan(e100);
    expect(e1000).toBeLessThan(0.01);
  });

  it('final samples have the closed-form mean and spread', async () => {
    const steps = 100;
    const batch = 16;
    const x = await run(ANALYTIC_INT64, 99, steps, batch);
    const K = closedFormK(steps);
    const c = Math.sqrt(ab[999]);
    // x_0 = mu(1 - K√ᾱ_T) + K·z with z ~ N(0, I): standardise and test mean 0 / variance 1.
    let sum = 0;
    let sum2 = 0;
    for (let i = 0; i < x.length; i++) {
      const z = (x[i] - mu[i % n] * (1 - K * c)) / K;
      sum += z;
      sum2 += z * z;
    }
    const N = x.length;
    expect(Math.abs(sum / N)).toBeLessThan(4 / Math.sqrt(N));
    expect(Math.abs(sum2 / N - 1)).toBeLessThan(4 * Math.sqrt(2 / N));
    // And the spread is close to the data's s (DDIM at 100 steps is near the exact flow).
    expect(K / s).toBeGreaterThan(0.95);
    expect(K / s).toBeLessThan(1.05);
  });

  it('float rank-0 timestep, external weights and v-prediction models give the same samples', async () => {
    const a = await run(ANALYTIC_INT64, 7, 25, 2);
    const b = await run(ANALYTIC_FLOAT, 7, 25, 2);
    const v = await run(ANALYTIC_VPRED, 7, 25, 2);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    expect(maxAbsDiff(a, await run(ANALYTIC_EXTERNAL, 7, 25, 2))).toBe(0);
    expect(maxAbsDiff(a, v)).toBeLessThan(1e-3);
  });
});
