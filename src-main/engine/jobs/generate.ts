/** `generate`: DDIM from seeded noise with the model's U-Net; the worker returns raw pixels, the host encodes PNG. */
import type { EngineJob } from './types';
import { generate } from '../../core/diffusion/generate';
import { ddimTimesteps } from '../../core/diffusion/ddim';
import { sampleClipRange } from '../../core/diffusion/scheduler';
import { sampleToImage, type RawImage } from '../../core/diffusion/image';
import type { Provider } from '../../shared/api';

export interface GenerateResult {
  images: RawImage[];
  provider: Provider;
  fallbackReason?: string;
  timesteps: number[];
  elapsedMs: number;
}

export const generateJob: EngineJob<'generate', GenerateResult> = {
  name: 'generate',
  async run(input, ctx) {
    ctx.onProgress({ fraction: 0, message: 'loading model' });
    const loaded = await ctx.loadModel(input.modelDir, input.provider);
    const start = performance.now();
    const x = await generate({
      predictor: loaded.predictor,
      alphasCumprod: loaded.model.alphasCumprod,
      seed: input.seed,
      steps: input.steps,
      eta: input.eta,
      batch: input.batch,
      clip: sampleClipRange(loaded.model.scheduler),
      signal: ctx.signal,
      onProgress: ctx.onProgress,
    });
    const images = Array.from({ length: input.batch }, (_, i) => sampleToImage(x, i));
    return {
      images,
      provider: loaded.provider,
      ...(loaded.fallbackReason ? { fallbackReason: loaded.fallbackReason } : {}),
      timesteps: ddimTimesteps(input.steps, loaded.model.scheduler.numTrainTimesteps),
      elapsedMs: performance.now() - start,
    };
  },
};
