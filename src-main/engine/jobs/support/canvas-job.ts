/**
 * The instrumentation of a job that puts a picture on the canvas (generate, sample, invert, edit): its model calls
 * are counted for the host's measured ETA (work-meter.ts) and, on pixel models, its DDIM loops stream x̂₀ previews
 * (x0-preview.ts). Jobs route their loops' predictor through `path` and their progress through `onProgress`.
 */
import type { NoisePredictor } from '../../../core/diffusion/generate';
import type { ProgressFn } from '../../../core/progress';
import type { Tensor } from '../../../core/tensor';
import type { Conditioning } from './latent';
import { WorkMeter } from './work-meter';
import { x0Previews } from './x0-preview';

export interface CanvasJob {
  meter: WorkMeter;
  /** The job's progress (with its work report; previews repeat its last fraction and message). */
  onProgress: ProgressFn;
  /** The unit a DDIM step of the path predictor costs: a guided ε (two U-Net batches) is its own unit. */
  pathUnit: string;
  /** The path predictor, counted and (pixel models) sending x̂₀ previews. */
  path: NoisePredictor;
  /** The unguided prompt predictor (edit guidance), counted. */
  prompt: NoisePredictor;
  /** Its unit ('unet'; the path's own when the path is not guided). */
  promptUnit: string;
  /** The image decoder, counted (a VAE decode for text models, which then plan one 'decode' unit per image). */
  toImage: Conditioning['toImage'];
  /** Units one decode adds to a plan: 1 for text models (a VAE run), else 0 (a pixel copy, not worth a unit). */
  decodeUnits: number;
}

export function canvasJob(
  onProgress: ProgressFn,
  model: { alphasCumprod: Float64Array; text?: unknown },
  c: Pick<Conditioning, 'predictor' | 'promptPredictor' | 'toImage'>,
  /** The clip_sample of the loop the previews come from (seed paths), so a preview is clamped as x̂₀ is. */
  clip?: number,
): CanvasJob {
  const meter = new WorkMeter(onProgress);
  // A latent model's x̂₀ needs a VAE decode per preview (seconds for Stable Diffusion on a CPU): progress only.
  const previews = model.text ? null : x0Previews({ alphasCumprod: model.alphasCumprod, onProgress: meter.onProgress, clip });
  const guided = c.predictor !== c.promptPredictor;
  const pathUnit = guided ? 'unet-cfg' : 'unet';
  const promptUnit = guided ? 'unet' : pathUnit;
  const counted = meter.predictor(c.predictor, pathUnit);
  const decode = meter.decoder(c.toImage);
  return {
    meter,
    onProgress: previews?.onProgress ?? meter.onProgress,
    pathUnit,
    path: previews ? previews.predictor(counted) : counted,
    prompt: meter.predictor(c.promptPredictor, promptUnit),
    promptUnit,
    // Pixel models' "decode" is a copy: not counted, so no plan waits for a unit that is never measured.
    toImage: model.text ? decode : (x0: Tensor, index?: number, signal?: AbortSignal) => c.toImage(x0, index, signal),
    decodeUnits: model.text ? 1 : 0,
  };
}
