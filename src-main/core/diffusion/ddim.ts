/**
 * DDIM (Song et al. 2021) as in the paper's code: timesteps are N values of linspace(0, T-1), rounded, and the
 * step after t = 0 goes to ᾱ = 1. The single step is exported so inversion and edits reuse exactly this update.
 */
import type { Tensor } from '../tensor';
import { InvalidArgumentError } from './errors';

/** numpy's round (half to even), so timesteps equal np.linspace(0, T-1, N).round(). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** N DDIM timesteps in ascending order: round(linspace(0, T-1, N)). Reverse for generation. */
export function ddimTimestepsAscending(n: number, T: number): number[] {
  if (!Number.isInteger(n) || n < 1 || n > T) throw new InvalidArgumentError(`steps must be an integer in [1, ${T}], got ${n}`);
  if (n === 1) return [T - 1];
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(roundHalfEven(((T - 1) * i) / (n - 1)));
  return out;
}

/** DDIM timesteps for generation: descending, starting at T-1 and ending at 0. */
export function ddimTimesteps(n: number, T: number): number[] {
  return ddimTimestepsAscending(n, T).reverse();
}

/** ᾱ at a timestep, with the "previous" of t = 0 (index -1) being 1 as in the DDIM code (set_alpha_to_one). */
export function alphaBarAt(alphasCumprod: Float64Array, t: number): number {
  return t < 0 ? 1 : alphasCumprod[t];
}

/** σ of a DDIM step t → t' (η = 0: deterministic; η = 1: DDPM posterior variance). */
export function ddimSigma(alphaT: number, alphaNext: number, eta: number): number {
  if (eta === 0) return 0;
  return eta * Math.sqrt(((1 - alphaNext) / (1 - alphaT)) * (1 - alphaT / alphaNext));
}

export interface DdimStepArgs {
  /** x_t, any shape. */
  x: Tensor;
  /** ε(x_t, t), same shape. */
  eps: Tensor;
  /** ᾱ_t */
  alphaT: number;
  /** ᾱ_t' (1 after the last step) */
  alphaNext: number;
  eta?: number;
  /** Standard normal noise of x's shape; required when eta > 0. */
  noise?: Tensor;
  /**
   * diffusers `clip_sample`: clamp x̂0 to [−clip, clip] before it enters the update; the ε of the direction term
   * is the model's prediction, unchanged (DDIMScheduler.step). Undefined: no clamp (inversion never clamps).
   */
  clip?: number;
}

/**
 * One DDIM update: x̂0 = (x - √(1-ᾱ)ε)/√ᾱ; x' = √ᾱ'·x̂0 + √(1-ᾱ'-σ²)·ε + σ·z. Each element is computed in float64.
 * Works in both directions (ascending t for inversion with η = 0).
 */
export function ddimStep(args: DdimStepArgs): Tensor {
  const { x, eps, alphaT, alphaNext } = args;
  const eta = args.eta ?? 0;
  if (x.data.length !== eps.data.length) throw new InvalidArgumentError('ddimStep: x and eps differ in size');
  const sigma = ddimSigma(alphaT, alphaNext, eta);
  if (sigma > 0 && (!args.noise || args.noise.data.length !== x.data.length)) {
    throw new InvalidArgumentError('ddimStep: eta > 0 needs noise of the same size as x');
  }
  const sa = Math.sqrt(alphaT);
  const s1 = Math.sqrt(1 - alphaT);
  const san = Math.sqrt(alphaNext);
  const dirCoef = Math.sqrt(Math.max(0, 1 - alphaNext - sigma * sigma));
  const out = new Float32Array(x.data.length);
  const xd = x.data;
  const ed = eps.data;
  const zd = args.noise?.data;
  const clip = args.clip;
  if (clip !== undefined && !(clip > 0)) throw new InvalidArgumentError(`ddimStep: clip must be > 0, got ${clip}`);
  for (let i = 0; i < out.length; i++) {
    let x0 = (xd[i] - s1 * ed[i]) / sa;
    if (clip !== undefined) x0 = x0 > clip ? clip : x0 < -clip ? -clip : x0;
    let v = san * x0 + dirCoef * ed[i];
    if (sigma > 0) v += sigma * (zd as Float32Array)[i];
    out[i] = v;
  }
  return { dims: [...x.dims], data: out };
}
