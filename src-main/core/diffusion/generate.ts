/**
 * DDIM generation from seeded noise: generate(predictor, schedule, seed, steps, eta) → x_0 for a batch.
 * Sample i of a batch uses RNG stream i of the seed, so it is the same image whatever the batch size.
 */
import type { Tensor } from '../tensor';
import { sizeOf } from '../tensor';
import { throwIfCancelled, type ProgressFn } from '../progress';
import { GaussianRng } from './rng';
import { alphaBarAt, ddimStep, ddimTimesteps } from './ddim';
import { InvalidArgumentError } from './errors';

/** The U-Net as the core sees it (the engine implements it with an ORT session). */
export interface NoisePredictor {
  readonly sampleDims: readonly number[]; // [C, H, W]
  /** ε_θ(x, t) for a batch x [B, C, H, W]; v/sample prediction already converted to ε. */
  predictEps(x: Tensor, timestep: number, signal?: AbortSignal): Promise<Tensor>;
}

export interface GenerateOptions {
  predictor: NoisePredictor;
  /** ᾱ_t for t = 0..T-1 (from the model's scheduler). */
  alphasCumprod: Float64Array;
  seed: number;
  steps: number;
  eta?: number;
  batch?: number;
  /** Clamp x̂0 to ±clip in every step (scheduler clip_sample; see sampleClipRange). Undefined: no clamp. */
  clip?: number;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  /** Called after each step with the step index (0-based) and the current x; used for previews and tests. */
  onStep?: (step: number, x: Tensor) => void;
}

/** The initial latent x_T for a seed: stream i of the seed fills batch item i. */
export function initialNoise(dims: readonly number[], seed: number, batch: number): Tensor {
  const n = sizeOf(dims);
  const data = new Float32Array(n * batch);
  for (let b = 0; b < batch; b++) new GaussianRng(seed, b).fillNormal(data.subarray(b * n, (b + 1) * n));
  return { dims: [batch, ...dims], data };
}

/**
 * Stochastic-step noise (η > 0) for step k: its own stream per (item, step), so cancel/resume or batch size
 * cannot shift which numbers a step uses.
 */
export function stepNoise(dims: readonly number[], seed: number, batch: number, step: number): Tensor {
  const n = sizeOf(dims);
  const data = new Float32Array(n * batch);
  for (let b = 0; b < batch; b++) new GaussianRng(seed, 1_000_000 * (step + 1) + b).fillNormal(data.subarray(b * n, (b + 1) * n));
  return { dims: [batch, ...dims], data };
}

export async function generate(opts: GenerateOptions): Promise<Tensor> {
  const { predictor, alphasCumprod, seed, steps, signal, onProgress } = opts;
  const eta = opts.eta ?? 0;
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new InvalidArgumentError(`batch must be a positive integer, got ${batch}`);
  if (!(eta >= 0 && eta <= 1)) throw new InvalidArgumentError(`eta must be in [0, 1], got ${eta}`);
  if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError(`seed must be a safe integer, got ${seed}`);
  const T = alphasCumprod.length;
  const ts = ddimTimesteps(steps, T);
  let x = initialNoise(predictor.sampleDims, seed, batch);
  onProgress?.({ fraction: 0, message: `step 0/${ts.length}` });
  for (let k = 0; k < ts.length; k++) {
    throwIfCancelled(signal);
    const t = ts[k];
    const tNext = k + 1 < ts.length ? ts[k + 1] : -1;
    const eps = await predictor.predictEps(x, t, signal);
    throwIfCancelled(signal);
    const alphaT = alphaBarAt(alphasCumprod, t);
    const alphaNext = alphaBarAt(alphasCumprod, tNext);
    const noise = eta > 0 ? stepNoise(predictor.sampleDims, seed, batch, k) : undefined;
    x = ddimStep({ x, eps, alphaT, alphaNext, eta, noise, clip: opts.clip });
    opts.onStep?.(k, x);
    onProgress?.({ fraction: (k + 1) / ts.length, message: `step ${k + 1}/${ts.length}` });
  }
  return x;
}
