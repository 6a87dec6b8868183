/**
 * Guidance edits, composition semantics and the render schedule with analytic stand-ins for the U-Net and the
 * DDIM step, so every expectation is exact or has a closed form.
 */
import { describe, expect, it } from 'vitest';
import type { NoisePredictor } from '../../src-main/core/diffusion';
import { CancelledError } from '../../src-main/core/progress';
import { editAndRender, editLatent, guidanceEdit, plainMove, renderFrom, renderPath } from '../../src-main/core/edit';
import type { DdimStepper, EditDirection } from '../../src-main/core/edit';
import { GaussianRng } from '../../src-main/core/diffusion/rng';
import type { Tensor } from '../../src-main/core/tensor';

const DIMS = [2, 4, 4];
const N = 32;
const T = 1000;

function gaussian(seed: number, unit = false): Tensor {
  const d = new Float32Array(N);
  new GaussianRng(seed).fillNormal(d);
  if (unit) {
    const nr = Math.hypot(...d);
    for (let i = 0; i < N; i++) d[i] /= nr;
  }
  return { dims: [1, ...DIMS], data: d };
}

/** Nonlinear, t-dependent, couples neighbours; each batch item independent of the others (like a U-Net). */
function analyticPredictor(): NoisePredictor & { calls: number[] } {
  const calls: number[] = [];
  return {
    sampleDims: DIMS,
    calls,
    async predictEps(x, t, signal) {
      if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
      const B = x.data.length / N;
      calls.push(B);
      const out = new Float32Array(x.data.length);
      const a = 0.5 + t / T;
      for (let b = 0; b < B; b++)
        for (let i = 0; i < N; i++) {
          const xi = x.data[b * N + i];
          const xn = x.data[b * N + ((i + 1) % N)];
          out[b * N + i] = Math.tanh(a * xi + 0.3 * xn * xn) + 0.1 * xi;
        }
      return { dims: [...x.dims], data: out };
    },
  };
}

/** ε = M x with a fixed M: guidance then has the closed form x + n·s·δ·M(Σ ±|a|v). */
function linearPredictor(): NoisePredictor & { M: Float64Array } {
  const M = new Float64Array(N * N);
  new GaussianRng(77).fillNormal(M);
  return {
    sampleDims: DIMS,
    M,
    async predictEps(x) {
      const B = x.data.length / N;
      const out = new Float32Array(x.data.length);
      for (let b = 0; b < B; b++)
        for (let i = 0; i < N; i++) {
          let s = 0;
          for (let j = 0; j < N; j++) s += M[i * N + j] * x.data[b * N + j];
          out[b * N + i] = s;
        }
      return { dims: [...x.dims], data: out };
    },
  };
}

/** DDIM with a linear-β schedule, written independently of core/diffusion. */
function fakeStepper(predictor: NoisePredictor, log?: { tFrom: number; tTo: number; eta: number }[]): DdimStepper {
  const abar = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) {
    prod *= 1 - (1e-4 + ((0.02 - 1e-4) * t) / (T - 1));
    abar[t] = prod;
  }
  return async (x, tFrom, tTo, eta, noise) => {
    log?.push({ tFrom, tTo, eta });
    const eps = await predictor.predictEps(x, tFrom);
    const a = abar[tFrom];
    const an = tTo < 0 ? 1 : abar[tTo];
    const sigma = eta * Math.sqrt(((1 - an) / (1 - a)) * (1 - a / an));
    if (sigma > 0 && !noise) throw new Error('noise missing');
    const out = new Float32Array(x.data.length);
    for (let i = 0; i < out.length; i++) {
      const x0 = (x.data[i] - Math.sqrt(1 - a) * eps.data[i]) / Math.sqrt(a);
      out[i] = Math.sqrt(an) * x0 + Math.sqrt(Math.max(0, 1 - an - sigma * sigma)) * eps.data[i] + (sigma > 0 ? sigma * noise!.data[i] : 0);
    }
    return { dims: [...x.dims], data: out };
  };
}

const SCHEDULE = Array.from({ length: 20 }, (_, i) => Math.round((999 * i) / 19));
const same = (a: Tensor, b: Tensor) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));
const maxDiff = (a: Tensor, b: Tensor) => Math.max(...a.data.map((v, i) => Math.abs(v - b.data[i])));

describe('guidance edit', () => {
  it('matches the closed form x + n·s·δ·M·(Σ sign·|a|·v) for a linear ε', async () => {
    const p = linearPredictor();
    const x = gaussian(1);
    const v1 = gaussian(2, true);
    const v2 = gaussian(3, true);
    const out = await guidanceEdit(p, x, [{ v: v1, strength: 1 }, { v: v2, strength: -0.5 }], { timestep: 600, steps: 16, scale: 0.1, delta: 1 });
    for (let i = 0; i < N; i++) {
      let mv = 0;
      for (let j = 0; j < N; j++) mv += p.M[i * N + j] * (v1.data[j] - 0.5 * v2.data[j]);
      expect(Math.abs(out.data[i] - (x.data[i] + 16 * 0.1 * mv))).toBeLessThan(1e-4);
    }
    expect(out.dims).toEqual(x.dims);
  });

  it('strength 0 returns x bit for bit without calling the U-Net; ± edits differ from it and each other', async () => {
    const p = analyticPredictor();
    const x = gaussian(1);
    const v = gaussian(2, true);
    const zero = await guidanceEdit(p, x, [{ v, strength: 0 }, { v: gaussian(5, true), strength: 0 }], { timestep: 600 });
    expect(same(zero, x)).toBe(true);
    expect(zero.data).not.toBe(x.data); // a copy, never an alias the caller could mutate
    expect(p.calls).toHaveLength(0);
    const plus = await guidanceEdit(p, x, [{ v, strength: 1 }], { timestep: 600 });
    const minus = await guidanceEdit(p, x, [{ v, strength: -1 }], { timestep: 600 });
    expect(maxDiff(plus, x)).toBeGreaterThan(1e-3);
    expect(maxDiff(minus, x)).toBeGreaterThan(1e-3);
    expect(maxDiff(plus, minus)).toBeGreaterThan(1e-3);
    // ε is nonlinear: −v is evaluated at x − δv, not the negated +v term.
    const negated = x.data.map((xi, i) => 2 * xi - plus.data[i]);
    expect(Math.max(...minus.data.map((m, i) => Math.abs(m - negated[i])))).toBeGreaterThan(1e-4);
    // Authors' defaults: n = 16 steps, x and x + δv in one batch of 2.
    expect(p.calls).toEqual(new Array(32).fill(2));
  });

  it("'summed' is exactly independent of the order directions are listed in; one batch of 1 + d per step", async () => {
    const p = analyticPredictor();
    const x = gaussian(1);
    const d: EditDirection[] = [
      { v: gaussian(2, true), strength: 1 },
      { v: gaussian(3, true), strength: -2 },
      { v: gaussian(4, true), strength: 0.5 },
    ];
    const ref = await guidanceEdit(p, x, d, { timestep: 400, steps: 8, composition: 'summed' });
    expect(p.calls).toEqual(new Array(8).fill(4));
    for (const perm of [[1, 0, 2], [2, 1, 0], [0, 2, 1]]) {
      expect(same(await guidanceEdit(p, x, perm.map((i) => d[i]), { timestep: 400, steps: 8 }), ref)).toBe(true);
    }
    // Splitting the batch (engine memory limit) changes nothing.
    expect(same(await guidanceEdit(p, x, d, { timestep: 400, steps: 8, maxBatch: 1 }), ref)).toBe(true);
  });

  it("'sequential' applies each direction's n steps in the given order, which matters for a nonlinear ε", async () => {
    const p = analyticPredictor();
    const x = gaussian(1);
    const a = { v: gaussian(2, true), strength: 3 };
    const b = { v: gaussian(3, true), strength: -3 };
    const ab = await guidanceEdit(p, x, [a, b], { timestep: 400, steps: 8, composition: 'sequential' });
    expect(p.calls).toEqual(new Array(16).fill(2));
    const ba = await guidanceEdit(p, x, [b, a], { timestep: 400, steps: 8, composition: 'sequential' });
    expect(maxDiff(ab, ba)).toBeGreaterThan(1e-4);
    // It is literally "edit with a, then edit the result with b".
    const aThenB = await guidanceEdit(p, await guidanceEdit(p, x, [a], { timestep: 400, steps: 8 }), [b], { timestep: 400, steps: 8 });
    expect(same(ab, aThenB)).toBe(true);
    // For a linear ε both compositions are the same edit (up to float32 rounding).
    const lin = linearPredictor();
    const s1 = await guidanceEdit(lin, x, [a, b], { timestep: 400, steps: 8, composition: 'sequential' });
    const s2 = await guidanceEdit(lin, x, [a, b], { timestep: 400, steps: 8, composition: 'summed' });
    expect(maxDiff(s1, s2)).toBeLessThan(1e-4);
  });

  it('plain move is x + Σ a·α·v', async () => {
    const x = gaussian(1);
    const v = gaussian(2, true);
    const out = await editLatent(analyticPredictor(), x, [{ v, strength: -2 }], { timestep: 500, mode: 'move', alpha: 3 });
    out.data.forEach((o, i) => expect(o).toBeCloseTo(x.data[i] - 6 * v.data[i], 5));
    expect(same(plainMove(x, [{ v, strength: 0 }]), x)).toBe(true);
  });

  it('cancels between U-Net calls and rejects bad inputs with typed errors', async () => {
    const c = new AbortController();
    const p = analyticPredictor();
    const slow: NoisePredictor = {
      sampleDims: DIMS,
      predictEps: async (x, t, s) => {
        if (p.calls.length === 3) c.abort();
        return p.predictEps(x, t, s);
      },
    };
    await expect(guidanceEdit(slow, gaussian(1), [{ v: gaussian(2, true), strength: 1 }], { timestep: 500, signal: c.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(p.calls.length).toBe(3); // the 4th call saw the fired signal and threw its own AbortError
    await expect(guidanceEdit(p, gaussian(1), [{ v: { dims: [3], data: new Float32Array(3) }, strength: 1 }], { timestep: 1 })).rejects.toMatchObject({ code: 'bad-shape' });
    await expect(guidanceEdit(p, gaussian(1), [{ v: gaussian(2), strength: Number.NaN }], { timestep: 1 })).rejects.toMatchObject({ code: 'bad-option' });
    await expect(guidanceEdit(p, { dims: [2, ...DIMS], data: new Float32Array(2 * N) }, [], { timestep: 1 })).rejects.toMatchObject({ code: 'bad-shape' });
  });
});

describe('render with the paper schedule', () => {
  it('η = 0 from t down to t_boost = 0.2·T, η = 1 below, last step to the clean sample', () => {
    const path = renderPath({ timestep: 600, schedule: SCHEDULE, T });
    expect(path[0].tFrom).toBe(600);
    expect(path.at(-1)).toEqual({ tFrom: 0, tTo: -1, eta: 1 });
    for (const s of path) {
      expect(s.tTo).toBeLessThan(s.tFrom);
      expect(s.eta).toBe(s.tFrom < 200 ? 1 : 0);
    }
    expect(path.filter((s) => s.eta === 1).map((s) => s.tFrom)).toEqual([158, 105, 53, 0]);
    expect(renderPath({ timestep: 600, schedule: SCHEDULE, T, boostFraction: null }).every((s) => s.eta === 0)).toBe(true);
    expect(() => renderPath({ timestep: 1000, schedule: SCHEDULE, T })).toThrow(expect.objectContaining({ code: 'bad-option' }));
  });

  it('strength 0 reproduces the unedited render bit for bit; ± edits differ; seeded boost noise', async () => {
    const p = analyticPredictor();
    const log: { tFrom: number; tTo: number; eta: number }[] = [];
    const step = fakeStepper(p, log);
    const x = gaussian(9);
    const v = gaussian(10, true);
    const opts = { timestep: 600, schedule: SCHEDULE, T, noiseSeed: 5 };
    const unedited = await renderFrom(step, x, opts);
    expect(log).toEqual(renderPath(opts));
    const zero = await editAndRender(p, step, x, [{ v, strength: 0 }], opts);
    expect(same(zero, unedited)).toBe(true);
    const plus = await editAndRender(p, step, x, [{ v, strength: 1 }], opts);
    const minus = await editAndRender(p, step, x, [{ v, strength: -1 }], opts);
    expect(maxDiff(plus, unedited)).toBeGreaterThan(1e-4);
    expect(maxDiff(minus, unedited)).toBeGreaterThan(1e-4);
    expect(maxDiff(plus, minus)).toBeGreaterThan(1e-4);
    // Reproducible, and the η = 1 tail really uses the seed.
    expect(same(await renderFrom(step, x, opts), unedited)).toBe(true);
    expect(maxDiff(await renderFrom(step, x, { ...opts, noiseSeed: 6 }), unedited)).toBeGreaterThan(1e-4);
    expect(same(await renderFrom(step, x, { ...opts, boostFraction: null, noiseSeed: 6 }), await renderFrom(step, x, { ...opts, boostFraction: null }))).toBe(true);
  });

  it('composition semantics carry through the render: summed is order-free, sequential is not', async () => {
    const p = analyticPredictor();
    const step = fakeStepper(p);
    const x = gaussian(9);
    const a = { v: gaussian(2, true), strength: 3 };
    const b = { v: gaussian(3, true), strength: -3 };
    const opts = { timestep: 600, schedule: SCHEDULE, T, steps: 8 };
    expect(same(await editAndRender(p, step, x, [a, b], opts), await editAndRender(p, step, x, [b, a], opts))).toBe(true);
    const seq = { ...opts, composition: 'sequential' as const };
    expect(maxDiff(await editAndRender(p, step, x, [a, b], seq), await editAndRender(p, step, x, [b, a], seq))).toBeGreaterThan(1e-5);
  });
});
