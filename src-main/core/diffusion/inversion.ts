/**
 * DDIM inversion (method.md §3) and the deterministic (η = 0) path it inverts, both on the paper's timesteps.
 *
 * Generation visits ts = round(linspace(0, T−1, N)) descending, t_{N−1} → … → t_0 → clean (ᾱ = 1), each step
 * with ε(x_t, t) at its source timestep. Inversion walks the same levels upwards, clean → t_0 → … → t_{N−1},
 * each step again with ε at its source level (the clean image is fed at timestep t_0, the first level above it).
 * That is the usual DDIM inversion approximation: step k of the inversion uses ε at the level it starts from,
 * while the generation step that undoes it uses ε at the level above, so the round trip is exact only where ε
 * varies slowly along the path; `ddimInvert` followed by `ddimDenoise` from t_{N−1} measures exactly that error.
 *
 * No clip_sample here: x̂0 of a real image must not be clamped, and the regeneration used to score an inversion
 * is the unclipped deterministic path too, so the PSNR measures the inversion, not the clamp.
 */
import type { Tensor } from '../tensor';
import { throwIfCancelled, type ProgressFn } from '../progress';
import type { NoisePredictor } from './generate';
import { alphaBarAt, ddimStep, ddimTimesteps, ddimTimestepsAscending } from './ddim';
import { InvalidArgumentError } from './errors';

export interface InversionOptions {
  predictor: NoisePredictor;
  alphasCumprod: Float64Array;
  /** DDIM steps N (the paper: 100). */
  steps: number;
  /**
   * Stop at this DDIM timestep instead of t_{N−1} (must be one of the schedule's values): the x_t of a real
   * image for editing at t. Default: the last one (x_T).
   */
  untilTimestep?: number;
  /** Also return x at this schedule timestep (on the way up): the x_t of a real image for editing at t. */
  captureTimestep?: number;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

/** x_0 [1, C, H, W] (pixels in [−1, 1]) → x_t at the last (or `untilTimestep`) DDIM level, η = 0. */
export async function ddimInvert(x0: Tensor, opts: InversionOptions): Promise<{ x: Tensor; timestep: number; captured?: Tensor }> {
  const T = opts.alphasCumprod.length;
  const ts = ddimTimestepsAscending(opts.steps, T);
  const stop = opts.untilTimestep ?? ts[ts.length - 1];
  const last = ts.indexOf(stop);
  if (last < 0) throw new InvalidArgumentError(`timestep ${stop} is not on the ${opts.steps}-step DDIM schedule`);
  const capture = opts.captureTimestep;
  if (capture !== undefined && ts.indexOf(capture) < 0) {
    throw new InvalidArgumentError(`timestep ${capture} is not on the ${opts.steps}-step DDIM schedule (use --t, or a timestep of the schedule)`);
  }
  if (capture !== undefined && capture > stop) throw new InvalidArgumentError(`capture timestep ${capture} is above the inversion's end ${stop}`);
  let captured: Tensor | undefined;
  let x = x0;
  // Levels: clean (−1), ts[0], ..., ts[last]. ε of each step at its source level (clean → ts[0] uses ts[0]).
  const levels = [-1, ...ts.slice(0, last + 1)];
  const total = levels.length - 1;
  opts.onProgress?.({ fraction: 0, message: `inversion step 0/${total}` });
  for (let k = 0; k < total; k++) {
    throwIfCancelled(opts.signal);
    const from = levels[k];
    const to = levels[k + 1];
    const eps = await opts.predictor.predictEps(x, Math.max(from, ts[0]), opts.signal);
    x = ddimStep({ x, eps, alphaT: alphaBarAt(opts.alphasCumprod, from), alphaNext: alphaBarAt(opts.alphasCumprod, to) });
    if (to === capture) captured = x;
    opts.onProgress?.({ fraction: (k + 1) / total, message: `inversion step ${k + 1}/${total}` });
  }
  return { x, timestep: stop, ...(captured ? { captured } : {}) };
}

export interface DenoiseOptions {
  predictor: NoisePredictor;
  alphasCumprod: Float64Array;
  steps: number;
  /** The timestep x is at (any value in [0, T); from the schedule's top T−1 this is exactly generate()'s path). */
  fromTimestep: number;
  /** Stop at this timestep (any value below fromTimestep); default −1: the clean sample. */
  untilTimestep?: number;
  /** x̂0 clamp (scheduler clip_sample) or undefined. */
  clip?: number;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

/**
 * The levels a deterministic DDIM pass visits: from, every N-step schedule timestep strictly between, until
 * (−1 = clean). An off-schedule `from`/`until` (an exact --timestep) is joined to the schedule by one DDIM step.
 */
export function denoiseLevels(steps: number, T: number, from: number, until = -1): number[] {
  if (!Number.isInteger(from) || from < 0 || from >= T) throw new InvalidArgumentError(`timestep must be an integer in [0, ${T}), got ${from}`);
  if (!Number.isInteger(until) || until < -1 || until >= from) {
    throw new InvalidArgumentError(`target timestep must be an integer in [-1, ${from}), got ${until}`);
  }
  return [from, ...ddimTimesteps(steps, T).filter((t) => t < from && t > until), until];
}

/** Deterministic DDIM (η = 0) from x at `fromTimestep` down the N-step schedule to x_0 (or to `untilTimestep`). */
export async function ddimDenoise(x: Tensor, opts: DenoiseOptions): Promise<Tensor> {
  const T = opts.alphasCumprod.length;
  const levels = denoiseLevels(opts.steps, T, opts.fromTimestep, opts.untilTimestep ?? -1);
  const total = levels.length - 1;
  let cur = x;
  for (let k = 0; k < total; k++) {
    throwIfCancelled(opts.signal);
    const t = levels[k];
    const tNext = levels[k + 1];
    const eps = await opts.predictor.predictEps(cur, t, opts.signal);
    throwIfCancelled(opts.signal);
    cur = ddimStep({ x: cur, eps, alphaT: alphaBarAt(opts.alphasCumprod, t), alphaNext: alphaBarAt(opts.alphasCumprod, tNext), clip: opts.clip });
    opts.onProgress?.({ fraction: (k + 1) / total, message: `denoising step ${k + 1}/${total}` });
  }
  return cur;
}

/** PSNR in dB of two images in [−1, 1] (peak-to-peak 2), computed after the same 8-bit quantisation as PNGs. */
export function psnr(a: Tensor, b: Tensor): number {
  if (a.data.length !== b.data.length) throw new InvalidArgumentError('psnr: tensors differ in size');
  const q = (v: number) => Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
  let se = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = q(a.data[i]) - q(b.data[i]);
    se += d * d;
  }
  const mse = se / a.data.length;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}

/**
 * Snap a fraction of T to the nearest step of the N-step DDIM schedule.
 *
 * The tie rule is chosen on purpose: "nearest" is measured on the authors' float schedule linspace(0, T−1, N),
 * before its values are rounded to integer timesteps, and the rounded value of the winner is returned. Measuring
 * on the rounded integers instead creates ties that the schedule does not have: with N = 100, T = 1000 and
 * t = 0.6 the target is 600, the neighbours are 59·999/99 = 595.36 and 60·999/99 = 605.45 (rounded 595 and 605,
 * both 5 away), and the float schedule says 595.36 is nearer (4.64 vs 5.45) → 595. An exact tie on the float
 * schedule (a target at the midpoint of two steps) goes to the larger timestep, the noisier of the two.
 */
export function snapToSchedule(fraction: number, steps: number, T: number): number {
  if (!(fraction >= 0 && fraction <= 1)) throw new InvalidArgumentError(`t must be a fraction in [0, 1], got ${fraction}`);
  const rounded = ddimTimestepsAscending(steps, T);
  if (steps === 1) return rounded[0];
  const target = fraction * T;
  let best = 0;
  let bestDistance = Infinity;
  for (let i = 0; i < steps; i++) {
    const distance = Math.abs(((T - 1) * i) / (steps - 1) - target);
    if (distance <= bestDistance) {
      best = i;
      bestDistance = distance;
    }
  }
  return rounded[best];
}
