/** render.ts with core/diffusion's real DDIM step: it must walk exactly generate()'s path. */
import { describe, expect, it } from 'vitest';
import type { NoisePredictor } from '../../src-main/core/diffusion';
import { ddimTimesteps, generate, initialNoise, stepNoise } from '../../src-main/core/diffusion';
import { ddimStepper, editAndRender, renderFrom } from '../../src-main/core/edit';
import { GaussianRng } from '../../src-main/core/diffusion/rng';

const DIMS = [1, 4, 4];
const T = 1000;
const abar = (() => {
  const a = new Float64Array(T);
  let p = 1;
  for (let t = 0; t < T; t++) a[t] = p *= 1 - (1e-4 + ((0.02 - 1e-4) * t) / (T - 1));
  return a;
})();

const predictor: NoisePredictor = {
  sampleDims: DIMS,
  async predictEps(x, t) {
    return { dims: [...x.dims], data: x.data.map((v, i) => Math.sin(v + (t / T) * (i % 3)) * 0.9) };
  },
};

describe('render with the diffusion DDIM step', () => {
  it('from T−1 with η = 0 (no boost) reproduces generate() bit for bit', async () => {
    const seed = 17;
    const viaGenerate = await generate({ predictor, alphasCumprod: abar, seed, steps: 12 });
    const viaRender = await renderFrom(ddimStepper(predictor, abar), initialNoise(DIMS, seed, 1), {
      timestep: T - 1,
      schedule: ddimTimesteps(12, T),
      T,
      boostFraction: null,
    });
    expect(Buffer.from(viaRender.data.buffer).equals(Buffer.from(viaGenerate.data.buffer))).toBe(true);
  });

  it('with boost everywhere and generate()\'s noise streams reproduces generate(η = 1)', async () => {
    const seed = 5;
    const viaGenerate = await generate({ predictor, alphasCumprod: abar, seed, steps: 8, eta: 1 });
    const viaRender = await renderFrom(ddimStepper(predictor, abar), initialNoise(DIMS, seed, 1), {
      timestep: T - 1,
      schedule: ddimTimesteps(8, T),
      T,
      boostFraction: 1,
      noise: (i) => stepNoise(DIMS, seed, 1, i),
    });
    expect(Buffer.from(viaRender.data.buffer).equals(Buffer.from(viaGenerate.data.buffer))).toBe(true);
  });

  it('strength-0 edit + paper schedule equals the unedited render; a real edit changes it', async () => {
    const x = initialNoise(DIMS, 3, 1);
    const v = new Float32Array(16);
    new GaussianRng(8).fillNormal(v);
    const opts = { timestep: 599, schedule: ddimTimesteps(20, T), T, noiseSeed: 2 };
    const step = ddimStepper(predictor, abar);
    const base = await renderFrom(step, x, opts);
    const zero = await editAndRender(predictor, step, x, [{ v: { dims: [1, ...DIMS], data: v }, strength: 0 }], opts);
    expect(Buffer.from(zero.data.buffer).equals(Buffer.from(base.data.buffer))).toBe(true);
    const edited = await editAndRender(predictor, step, x, [{ v: { dims: [1, ...DIMS], data: v }, strength: 1 }], opts);
    expect(Math.max(...edited.data.map((e, i) => Math.abs(e - base.data[i])))).toBeGreaterThan(1e-4);
  });
});
