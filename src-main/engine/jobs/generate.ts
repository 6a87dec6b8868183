/** `generate`: DDIM from seeded noise with the model's U-Net; the worker returns raw pixels, the host encodes PNG. */
import type { EngineJob } from './types';
import { generate } from '../../core/diffusion/generate';
import { ddimTimesteps } from '../../core/diffusion/ddim';
import { sampleClipRange } from '../../core/diffusion/scheduler';
import type { RawImage } from '../../core/diffusion/image';
import type { PromptInfo, Provider } from '../../shared/api';
import { conditioning } from './support/latent';

export interface GenerateResult {
  images: RawImage[];
  provider: Provider;
  fallbackReason?: string;
  timesteps: number[];
  elapsedMs: number;
  prompt?: PromptInfo;
}

export const generateJob: EngineJob<'generate', GenerateResult> = {
  name: 'generate',
  async run(input, ctx) {
    ctx.onProgress({ fraction: 0, message: 'loading model' });
    const loaded = await ctx.loadModel(input.modelDir, input.provider);
    // Text models: ε with classifier-free guidance at the prompt, and the VAE decoder for the images.
    const c = await conditioning(loaded, input, ctx.signal);
    const start = performance.now();
    const x = await generate({
      predictor: c.predictor,
      alphasCumprod: loaded.model.alphasCumprod,
      seed: input.seed,
      steps: input.steps,
      eta: input.eta,
      batch: input.batch,
      clip: sampleClipRange(loaded.model.scheduler),
      signal: ctx.signal,
      onProgress: ctx.onProgress,
    });
    const images: RawImage[] = [];
    for (let i = 0; i < input.batch; i++) images.push(await c.toImage(x, i, ctx.signal));
    return {
      images,
      provider: loaded.provider,
      ...(loaded.fallbackReason ? { fallbackReason: loaded.fallbackReason } : {}),
      timesteps: ddimTimesteps(input.steps, loaded.model.scheduler.numTrainTimesteps),
      elapsedMs: performance.now() - start,
      ...(c.prompt ? { prompt: c.prompt } : {}),
    };
  },
};
