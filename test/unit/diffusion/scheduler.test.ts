import { describe, expect, it } from 'vitest';
import { alphasCumprod, betas, parseSchedulerConfig, toEpsilon } from '../../../src-main/core/diffusion/scheduler';
import { ModelFolderError } from '../../../src-main/core/diffusion/errors';

const FILE = '/m/scheduler/scheduler_config.json';
const cfg = (o: object) => parseSchedulerConfig(o, FILE);

// Reference values written from the diffusers formulas (DDIMScheduler.__init__ / betas_for_alpha_bar), not from our code.
describe('beta schedules match diffusers', () => {
  it('linear: linspace(beta_start, beta_end, T)', () => {
    const b = betas(cfg({ beta_schedule: 'linear', beta_start: 0.0001, beta_end: 0.02, num_train_timesteps: 1000 }));
    expect(b.length).toBe(1000);
    expect(b[0]).toBeCloseTo(0.0001, 9);
    expect(b[999]).toBeCloseTo(0.02, 9);
    expect(b[500]).toBeCloseTo(0.0001 + (0.02 - 0.0001) * (500 / 999), 8);
    const ab = alphasCumprod(cfg({ beta_schedule: 'linear' }));
    // ᾱ_999 of the DDPM linear schedule ≈ 4.0358e-5 (well-known value), ᾱ_0 = 1 - 1e-4.
    expect(ab[0]).toBeCloseTo(0.9999, 8);
    expect(ab[999] / 4.0358e-5).toBeCloseTo(1, 3);
  });

  it('scaled_linear: linspace(sqrt(b0), sqrt(b1), T)^2 (Stable Diffusion)', () => {
    const c = cfg({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, num_train_timesteps: 1000 });
    const b = betas(c);
    const expected = (i: number) => (Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * i) / 999) ** 2;
    for (const i of [0, 1, 250, 500, 998, 999]) expect(b[i] / expected(i)).toBeCloseTo(1, 6);
    // SD's final ᾱ is ≈ 0.0047 (sqrt ≈ 0.0683), a value quoted in the zero-terminal-SNR paper.
    expect(Math.sqrt(alphasCumprod(c)[999])).toBeCloseTo(0.0683, 3);
  });

  it('squaredcos_cap_v2: betas_for_alpha_bar with the cosine ᾱ(t), capped at 0.999', () => {
    const c = cfg({ beta_schedule: 'squaredcos_cap_v2', num_train_timesteps: 1000 });
    const b = betas(c);
    const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const i of [0, 10, 500, 900]) expect(b[i] / Math.min(1 - f((i + 1) / 1000) / f(i / 1000), 0.999)).toBeCloseTo(1, 6);
    expect(b[999]).toBeCloseTo(0.999, 6);
    // ᾱ_t ≈ f(t+1)/f(0) while no cap applies.
    const ab = alphasCumprod(c);
    expect(ab[499] / (f(500 / 1000) / f(0))).toBeCloseTo(1, 5);
  });

  it('trained_betas override the schedule', () => {
    const tb = Array.from({ length: 10 }, (_, i) => 0.01 * (i + 1));
    expect(Array.from(betas(cfg({ num_train_timesteps: 10, trained_betas: tb })))).toEqual(tb);
  });
});

describe('parseSchedulerConfig errors name the file', () => {
  it.each([
    [{ beta_schedule: 'sigmoid' }, /beta_schedule "sigmoid"/],
    [{ prediction_type: 'x0' }, /prediction_type "x0"/],
    [{ num_train_timesteps: 'many' }, /num_train_timesteps/],
    [{ beta_start: 0.5, beta_end: 0.1 }, /beta_start <= beta_end/],
  ])('%o', (o, re) => {
    let err: unknown;
    try {
      cfg(o);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelFolderError);
    expect((err as ModelFolderError).code).toBe('bad-scheduler');
    expect((err as ModelFolderError).file).toBe(FILE);
    expect((err as Error).message).toMatch(re);
  });
});

describe('toEpsilon', () => {
  const x = Float32Array.from([0.3, -1.2]);
  const eps = Float32Array.from([0.5, 0.1]);
  const ab = 0.64;
  it('inverts the v and x0 parametrisations', () => {
    const sa = Math.sqrt(ab);
    const s1 = Math.sqrt(1 - ab);
    const x0 = x.map((xi, i) => (xi - s1 * eps[i]) / sa);
    const v = eps.map((e, i) => sa * e - s1 * x0[i]);
    const fromV = toEpsilon(Float32Array.from(v), x, ab, 'v_prediction');
    const fromX0 = toEpsilon(Float32Array.from(x0), x, ab, 'sample');
    for (let i = 0; i < 2; i++) {
      expect(fromV[i]).toBeCloseTo(eps[i], 5);
      expect(fromX0[i]).toBeCloseTo(eps[i], 5);
    }
    expect(toEpsilon(eps, x, ab, 'epsilon')).toBe(eps);
  });
});
