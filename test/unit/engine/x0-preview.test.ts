/**
 * x̂₀ previews (engine/jobs/support/x0-preview.ts): the prediction is the DDIM x̂₀, the stream is throttled on a fake
 * clock, only a step's first ε call counts (a keep-outside render's reference call never shows), and a preview
 * repeats the job's last fraction and message.
 */
import { describe, expect, it } from 'vitest';
import { predictX0, x0Previews } from '../../../src-main/engine/jobs/support/x0-preview';
import type { NoisePredictor } from '../../../src-main/core/diffusion/generate';
import type { Progress } from '../../../src-main/core/progress';
import type { Tensor } from '../../../src-main/core/tensor';
import type { X0PreviewPartial } from '../../../src-main/shared/api';

const T = 1000;
const alphas = Float64Array.from({ length: T }, (_, t) => Math.cos(((t / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2);

describe('x̂₀ previews', () => {
  it('recovers x_0 exactly from x_t = √ᾱ x_0 + √(1−ᾱ) ε, item 0 of a batch, clamped like clip_sample', () => {
    const a = alphas[600];
    const x0 = [0.5, -0.25, 0.9, -1.4];
    const eps = [0.3, -1.2, 2.0, 0.1];
    const xt = x0.map((v, i) => Math.sqrt(a) * v + Math.sqrt(1 - a) * eps[i]);
    const batch = (v: number[]): Tensor => ({ dims: [2, 1, 2, 2], data: Float32Array.from([...v, ...v.map((u) => u + 7)]) });
    const got = predictX0(batch(xt), batch(eps), a);
    expect(got.dims).toEqual([1, 1, 2, 2]);
    got.data.forEach((v, i) => expect(v).toBeCloseTo(x0[i], 5));
    expect(Array.from(predictX0(batch(xt), batch(eps), a, 1).data).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([0.5, -0.25, 0.9, -1]);
  });

  it('sends at most one preview per interval, at a new timestep only, with the last fraction and message', async () => {
    let now = 0;
    const events: Progress[] = [];
    const encoded: Tensor[] = [];
    const previews = x0Previews({
      alphasCumprod: alphas,
      onProgress: (p) => events.push(p),
      intervalMs: 250,
      now: () => now,
      encode: async (x) => {
        encoded.push(x);
        return { mime: 'image/png', width: 2, height: 2, bytes: new Uint8Array([encoded.length]) };
      },
    });
    const unet: NoisePredictor = {
      sampleDims: [1, 2, 2],
      predictEps: async (x) => {
        now += 100;
        return { dims: [...x.dims], data: new Float32Array(x.data.length) };
      },
    };
    const p = previews.predictor(unet);
    const x = { dims: [1, 1, 2, 2], data: Float32Array.from([0.1, 0.2, 0.3, 0.4]) };
    const timesteps: number[] = [];
    for (let k = 0; k < 10; k++) {
      const t = 990 - 10 * k;
      await p.predictEps(x, t);
      // Two calls per step, as a keep-outside render makes: the second (the unedited reference) never shows.
      await p.predictEps(x, t);
      previews.onProgress({ fraction: (k + 1) / 10, message: `step ${k + 1}` });
      timesteps.push(t);
    }
    const sent = events.filter((e) => e.partial !== undefined);
    // 2000 ms of calls: one preview per 250 ms at most, each at the first call of a step (200 ms apart).
    expect(previews.sent).toBe(sent.length);
    expect(sent.length).toBeGreaterThanOrEqual(4);
    expect(sent.length).toBeLessThanOrEqual(8);
    const parts = sent.map((e) => e.partial as X0PreviewPartial);
    expect(new Set(parts.map((q) => q.timestep)).size).toBe(parts.length);
    expect(parts.every((q) => q.kind === 'x0-preview' && timesteps.includes(q.timestep))).toBe(true);
    // Each repeats the progress reported before it (the step before its timestep's).
    for (const e of sent) {
      const before = events[events.indexOf(e) - 1];
      expect([e.fraction, e.message]).toEqual([before.fraction, before.message]);
    }
    // The picture is x̂₀ at its timestep (ε = 0 here: x_t/√ᾱ_t).
    const first = parts[0];
    encoded[0].data.forEach((v, i) => expect(v).toBeCloseTo(x.data[i] / Math.sqrt(alphas[first.timestep]), 5));
  });

  it('sends nothing for a loop shorter than the interval, once cancelled, or where √ᾱ_t < 0.01', async () => {
    let now = 0;
    const events: Progress[] = [];
    const previews = x0Previews({ alphasCumprod: alphas, onProgress: (p) => events.push(p), now: () => now, encode: async () => ({ mime: 'image/png', width: 1, height: 1, bytes: new Uint8Array(1) }) });
    const p = previews.predictor({ sampleDims: [1, 1, 1], predictEps: async (x) => ((now += 50), { dims: [...x.dims], data: new Float32Array(x.data.length) }) });
    const x = { dims: [1, 1, 1, 1], data: new Float32Array(1) };
    for (let t = 900; t > 800; t -= 25) await p.predictEps(x, t);
    expect(previews.sent).toBe(0);
    const aborted = AbortSignal.abort();
    now += 1000;
    await p.predictEps(x, 100, aborted);
    expect(previews.sent).toBe(0);
    // The noisiest step (√ᾱ ≈ 0.002 here) is magnified noise: none; a step of the same loop further down: one.
    now += 1000;
    await p.predictEps(x, 999);
    expect(previews.sent).toBe(0);
    await p.predictEps(x, 500);
    expect(previews.sent).toBe(1);
  });
});
