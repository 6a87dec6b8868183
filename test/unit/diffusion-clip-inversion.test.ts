/** clip_sample (diffusers DDIMScheduler semantics), t snapping and the deterministic path levels. */
import { describe, expect, it } from 'vitest';
import { ddimStep, denoiseLevels, parseSchedulerConfig, sampleClipRange, snapToSchedule, psnr } from '../../src-main/core/diffusion';

describe('clip_sample', () => {
  it('defaults to true (diffusers), honours false and clip_sample_range', () => {
    expect(sampleClipRange(parseSchedulerConfig({}, 'f'))).toBe(1);
    expect(sampleClipRange(parseSchedulerConfig({ clip_sample: false }, 'f'))).toBeUndefined();
    expect(sampleClipRange(parseSchedulerConfig({ clip_sample: true, clip_sample_range: 2.5 }, 'f'))).toBe(2.5);
    expect(() => parseSchedulerConfig({ clip_sample: 'yes' }, 'f')).toThrow(/clip_sample/);
    expect(() => parseSchedulerConfig({ clip_sample_range: 0 }, 'f')).toThrow(/clip_sample_range/);
  });

  it('clamps x̂0 only; the direction term keeps the model ε', () => {
    const alphaT = 0.5;
    const alphaNext = 0.8;
    const x = { dims: [3], data: Float32Array.from([3, 0.2, -3]) };
    const eps = { dims: [3], data: Float32Array.from([0.1, 0.3, -0.2]) };
    const out = ddimStep({ x, eps, alphaT, alphaNext, clip: 1 });
    const plain = ddimStep({ x, eps, alphaT, alphaNext });
    for (let i = 0; i < 3; i++) {
      const x0 = (x.data[i] - Math.sqrt(1 - alphaT) * eps.data[i]) / Math.sqrt(alphaT);
      const clamped = Math.min(1, Math.max(-1, x0));
      expect(out.data[i]).toBeCloseTo(Math.sqrt(alphaNext) * clamped + Math.sqrt(1 - alphaNext) * eps.data[i], 6);
    }
    expect(out.data[1]).toBe(plain.data[1]); // |x̂0| < 1: unchanged bit for bit
    expect(out.data[0]).toBeLessThan(plain.data[0]);
    expect(out.data[2]).toBeGreaterThan(plain.data[2]);
  });
});

describe('timesteps', () => {
  it('snaps a fraction of T to the nearest DDIM step', () => {
    expect(snapToSchedule(0.6, 50, 1000)).toBe(591);
    expect(snapToSchedule(0.6, 20, 1000)).toBe(578);
    expect(snapToSchedule(1, 100, 1000)).toBe(999);
    expect(snapToSchedule(0, 100, 1000)).toBe(0);
    expect(() => snapToSchedule(1.5, 100, 1000)).toThrow();
  });

  it('measures nearness on the float schedule, so the rounded 595/605 tie of t = 0.6 on 100 steps is not a tie', () => {
    // linspace(0, 999, 100): step 59 = 595.36 (4.64 from 600), step 60 = 605.45 (5.45 from 600); rounded both are 5 away.
    expect((59 * 999) / 99).toBeCloseTo(595.3636, 4);
    expect((60 * 999) / 99).toBeCloseTo(605.4545, 4);
    expect(snapToSchedule(0.6, 100, 1000)).toBe(595);
    // 50 steps: 29·999/49 = 591.24 vs 30·999/49 = 611.63 → 591; 20 steps: 11·999/19 = 578.37 vs 12·999/19 = 630.95 → 578.
    expect(snapToSchedule(0.6, 50, 1000)).toBe(591);
  });

  it('sends an exact tie on the float schedule to the larger (noisier) timestep', () => {
    // linspace(0, 999, 3) = 0, 499.5, 999: the midpoint of the first two is 249.75 = 0.24975·T. 499.5 rounds half to even → 500.
    expect(snapToSchedule(0.24975, 3, 1000)).toBe(500);
    expect(snapToSchedule(0.2497, 3, 1000)).toBe(0);
  });

  it('joins an off-schedule timestep to the schedule by one step', () => {
    expect(denoiseLevels(5, 1000, 999)).toEqual([999, 749, 500, 250, 0, -1]);
    expect(denoiseLevels(5, 1000, 999, 600)).toEqual([999, 749, 600]);
    expect(denoiseLevels(5, 1000, 600)).toEqual([600, 500, 250, 0, -1]);
  });

  it('PSNR on 8-bit quantised images', () => {
    const a = { dims: [4], data: Float32Array.from([0, 0.5, -0.5, 1]) };
    expect(psnr(a, a)).toBe(Number.POSITIVE_INFINITY);
    const b = { dims: [4], data: Float32Array.from([0, 0.5, -0.5, 1 - 2 / 255]) };
    expect(psnr(a, b)).toBeCloseTo(10 * Math.log10((255 * 255) / (1 / 4)), 6);
  });
});
