/**
 * Denoising an edited x_t to x_0 with the paper's schedule (method.md §2): DDIM with η = 0 from t down to
 * t_boost = 0.2·T, then η = 1 below t_boost ("quality boosting", unconditional models) with seeded noise.
 *
 * The DDIM update itself belongs to core/diffusion; this module takes it as a `DdimStepper` so that edits are
 * rendered by exactly the step every other path uses, and so it can be tested with an analytic stepper.
 */
import type { ProgressFn } from '../progress';
import type { NoisePredictor } from '../diffusion';
import { alphaBarAt, ddimStep } from '../diffusion';
import { GaussianRng } from '../diffusion/rng';
import type { Tensor } from '../tensor';
import { cancellable, EditError } from './errors';
import type { EditDirection, EditOptions } from './guidance';
import { editLatent } from './guidance';

/**
 * One DDIM step x_{tFrom} → x_{tTo}. tTo = CLEAN_TIMESTEP (−1) means the clean sample (ᾱ = 1), as in the
 * authors' code. `noise` (standard normal, x's dims) is given exactly when eta > 0.
 */
export type DdimStepper = (x: Tensor, tFrom: number, tTo: number, eta: number, noise?: Tensor) => Promise<Tensor>;

export const CLEAN_TIMESTEP = -1;

/**
 * The production stepper: core/diffusion's DDIM update with ε from the predictor, so an edit is denoised by
 * exactly the step generate() and inversion use (tests check renderFrom reproduces generate() bit for bit).
 */
export function ddimStepper(predictor: NoisePredictor, alphasCumprod: Float64Array, signal?: AbortSignal): DdimStepper {
  return async (x, tFrom, tTo, eta, noise) => {
    const eps = await predictor.predictEps(x, tFrom, signal);
    return ddimStep({ x, eps, alphaT: alphaBarAt(alphasCumprod, tFrom), alphaNext: alphaBarAt(alphasCumprod, tTo), eta, noise });
  };
}

export interface RenderOptions {
  /** The timestep of x (the edit timestep); the first step starts here. */
  timestep: number;
  /** DDIM timesteps (e.g. ddimTimesteps(N, T)), any order; those below `timestep` are visited, descending. */
  schedule: readonly number[];
  /** Training timesteps T (1000 for the paper's models). */
  T: number;
  /** t_boost as a fraction of T; steps starting below it use η = 1. Default 0.2; null disables (Stable Diffusion). */
  boostFraction?: number | null;
  /** Seed of the η = 1 noise. Default 0. */
  noiseSeed?: number;
  /**
   * Noise for a stochastic step (index into the path, its tFrom); default: one GaussianRng(noiseSeed) drawn
   * in path order. Pass core/diffusion's stepNoise here to share generate()'s noise streams.
   */
  noise?: (stepIndex: number, tFrom: number, dims: readonly number[]) => Tensor;
  /**
   * Keep the outside of a region as the unedited picture (Blended Diffusion, Avrahami et al. 2022): `reference` (the
   * unedited x_t) is denoised alongside with the same steps and noise, and after every step x ← w⊙x + (1 − w)⊙x_ref
   * (w: one weight per element of x, e.g. a broadcast mask). Where w = 0 the result is the reference's bits, so the
   * rendered x_0 there equals renderFrom(step, reference, …) exactly; the U-Net sees the whole blended image at every
   * step, which is what lets the inside adapt to its fixed surroundings. Costs a second stepper call per step.
   */
  keepOutside?: { region: Float32Array; reference: Tensor };
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

export interface RenderStep {
  tFrom: number;
  tTo: number;
  eta: 0 | 1;
}

/** The steps renderFrom will take: t → next schedule entry below t → … → 0 → clean, with η per the boost rule. */
export function renderPath(options: Pick<RenderOptions, 'timestep' | 'schedule' | 'T' | 'boostFraction'>): RenderStep[] {
  const { timestep, T } = options;
  if (!Number.isFinite(timestep) || timestep < 0 || timestep >= T) {
    throw new EditError('bad-option', `timestep must be in [0, ${T}), got ${timestep}`);
  }
  const boost = options.boostFraction === undefined ? 0.2 : options.boostFraction;
  if (boost !== null && !(boost >= 0 && boost <= 1)) throw new EditError('bad-option', `boostFraction must be in [0, 1], got ${boost}`);
  const tBoost = boost === null ? Number.NEGATIVE_INFINITY : boost * T;
  const below = [...new Set(options.schedule.filter((t) => t < timestep))].sort((a, b) => b - a);
  const ts = [timestep, ...below, CLEAN_TIMESTEP];
  const steps: RenderStep[] = [];
  for (let i = 0; i + 1 < ts.length; i++) steps.push({ tFrom: ts[i], tTo: ts[i + 1], eta: ts[i] < tBoost ? 1 : 0 });
  return steps;
}

/** Denoise x (at options.timestep) to x_0 along renderPath. */
export async function renderFrom(step: DdimStepper, x: Tensor, options: RenderOptions): Promise<Tensor> {
  const path = renderPath(options);
  const rng = new GaussianRng(options.noiseSeed ?? 0);
  const makeNoise =
    options.noise ??
    ((_i: number, _t: number, dims: readonly number[]): Tensor => {
      const data = new Float32Array(x.data.length);
      rng.fillNormal(data);
      return { dims: [...dims], data };
    });
  const keep = options.keepOutside;
  if (keep && (keep.region.length !== x.data.length || keep.reference.data.length !== x.data.length)) {
    throw new EditError('bad-shape', `keepOutside needs a region and a reference of ${x.data.length} values`);
  }
  let cur = x;
  let ref = keep?.reference;
  for (let i = 0; i < path.length; i++) {
    const s = path[i];
    const noise = s.eta > 0 ? makeNoise(i, s.tFrom, x.dims) : undefined;
    const from = cur;
    cur = await cancellable(options.signal, () => step(from, s.tFrom, s.tTo, s.eta, noise));
    if (keep && ref) {
      const refFrom = ref;
      ref = await cancellable(options.signal, () => step(refFrom, s.tFrom, s.tTo, s.eta, noise));
      const w = keep.region;
      const blended = new Float32Array(cur.data.length);
      for (let t = 0; t < blended.length; t++) blended[t] = w[t] === 0 ? ref.data[t] : w[t] * cur.data[t] + (1 - w[t]) * ref.data[t];
      cur = { dims: [...cur.dims], data: blended };
    }
    options.onProgress?.({ fraction: (i + 1) / path.length, message: `denoising ${s.tFrom} → ${Math.max(0, s.tTo)}` });
  }
  return cur;
}

/**
 * Edit at t, then render to x_0. With every strength 0 the edit returns x untouched, so the result equals
 * renderFrom(step, x, …) bit for bit (same stepper, same noise seed).
 */
export async function editAndRender(
  predictor: NoisePredictor,
  step: DdimStepper,
  x: Tensor,
  directions: readonly EditDirection[],
  options: Omit<EditOptions, 'timestep' | 'onProgress'> & RenderOptions,
): Promise<Tensor> {
  const report = options.onProgress;
  const edited = await editLatent(predictor, x, directions, {
    ...options,
    onProgress: report && ((p) => report({ fraction: 0.5 * p.fraction, message: p.message })),
  });
  return renderFrom(step, edited, {
    ...options,
    onProgress: report && ((p) => report({ fraction: 0.5 + 0.5 * p.fraction, message: p.message })),
  });
}
