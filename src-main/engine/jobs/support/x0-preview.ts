/**
 * In-progress pictures for the canvas: while a DDIM loop runs, the model's prediction of the clean image at the
 * current step, x̂₀ = (x_t − √(1−ᾱ_t)·ε)/√ᾱ_t, streamed as a progress `partial` (X0PreviewPartial, shared/api.ts).
 *
 * It wraps the predictor instead of the loops: every loop (generate, inversion, denoise, the edit render) already
 * evaluates ε(x_t, t), so x̂₀ costs one pass over the sample and a PNG encode, and no loop needs to change. Pixel
 * models only: a latent model's x̂₀ would need a VAE decode per preview (seconds on a CPU for Stable Diffusion),
 * so jobs on text models send progress without pictures.
 *
 * Throttled: at most one picture per `intervalMs` (default 250 ms) of the job's time, the first one `intervalMs`
 * after the loop starts (a render that takes less than that shows none), because each costs an encode and a
 * transfer. Only the first ε call at a new timestep qualifies: a keep-outside render (core/edit/render.ts) calls
 * the model twice per step, the second time for the unedited reference, which must not flash up as the picture.
 * Nor do the noisiest steps, where √ᾱ_t < 0.01: there x̂₀ is the ε error magnified a hundredfold and more, saturated
 * noise rather than a guess of the image (on the bundled model t = 999 and 982 of 60 steps; at t = 931, √ᾱ = 0.012,
 * a face already shows through).
 */
import type { NoisePredictor } from '../../../core/diffusion/generate';
import { alphaBarAt } from '../../../core/diffusion/ddim';
import { sampleToImage } from '../../../core/diffusion/image';
import type { Progress, ProgressFn } from '../../../core/progress';
import type { Tensor } from '../../../core/tensor';
import type { X0PreviewPartial } from '../../../shared/api';
import { encodePng } from '../../png';

export interface X0PreviewOptions {
  alphasCumprod: Float64Array;
  /** The job's progress: previews go out as progress events repeating the last fraction and message. */
  onProgress: ProgressFn;
  /** The loop's clip_sample, applied to the preview as the DDIM update applies it to x̂₀. */
  clip?: number;
  /** Minimum time between two previews (ms). */
  intervalMs?: number;
  /** No preview while √ᾱ_t is below this (x̂₀ there is magnified noise). Default 0.01. */
  minSqrtAlpha?: number;
  now?: () => number;
  /** Pixels → PNG bytes (injectable for tests). */
  encode?: (x0: Tensor) => Promise<X0PreviewPartial['image']>;
}

/** x̂₀ of batch item 0 from x_t and ε at timestep t, as one sample [1, C, H, W] (clamped to ±clip when given). */
export function predictX0(x: Tensor, eps: Tensor, alphaT: number, clip?: number): Tensor {
  const n = x.data.length / (x.dims[0] || 1);
  const sa = Math.sqrt(alphaT);
  const s1 = Math.sqrt(1 - alphaT);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = (x.data[i] - s1 * eps.data[i]) / sa;
    out[i] = clip === undefined ? v : Math.min(clip, Math.max(-clip, v));
  }
  return { dims: [1, ...x.dims.slice(1)], data: out };
}

async function encodeSample(x0: Tensor): Promise<X0PreviewPartial['image']> {
  const img = sampleToImage(x0, 0);
  return { mime: 'image/png', width: img.width, height: img.height, bytes: await encodePng(img) };
}

export interface X0Previews {
  /** The job's progress function for its loops: remembered so a preview can repeat the last fraction and message. */
  onProgress: ProgressFn;
  /** The predictor, sending x̂₀ previews as it goes. */
  predictor(p: NoisePredictor): NoisePredictor;
  /** Previews sent so far (tests, and the overhead measurement). */
  readonly sent: number;
}

export function x0Previews(opts: X0PreviewOptions): X0Previews {
  const interval = opts.intervalMs ?? 250;
  const now = opts.now ?? (() => performance.now());
  const encode = opts.encode ?? encodeSample;
  const minSqrtAlpha = opts.minSqrtAlpha ?? 0.01;
  let last: Progress = { fraction: 0, message: '' };
  let lastSent = now();
  let lastTimestep: number | null = null;
  let sent = 0;
  return {
    onProgress: (p) => {
      if (p.partial === undefined) last = { fraction: p.fraction, message: p.message };
      opts.onProgress(p);
    },
    predictor: (p) => ({
      sampleDims: p.sampleDims,
      predictEps: async (x: Tensor, timestep: number, signal?: AbortSignal) => {
        const eps = await p.predictEps(x, timestep, signal);
        const fresh = timestep !== lastTimestep;
        lastTimestep = timestep;
        const alpha = alphaBarAt(opts.alphasCumprod, timestep);
        if (fresh && Math.sqrt(alpha) >= minSqrtAlpha && now() - lastSent >= interval && !signal?.aborted) {
          lastSent = now();
          const image = await encode(predictX0(x, eps, alpha, opts.clip));
          sent++;
          const partial: X0PreviewPartial = { kind: 'x0-preview', timestep, image };
          opts.onProgress({ fraction: last.fraction, message: last.message, partial });
        }
        return eps;
      },
    }),
    get sent() {
      return sent;
    },
  };
}
