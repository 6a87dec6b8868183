/** `generate`: DDIM from seeded noise with the model's U-Net; the worker returns raw pixels, the host encodes PNG. */
import type { EngineJob } from './types';
import { generate } from '../../core/diffusion/generate';
import { ddimTimesteps } from '../../core/diffusion/ddim';
import { sampleClipRange } from '../../core/diffusion/scheduler';
import type { RawImage } from '../../core/diffusion/image';
import type { PromptInfo, Provider } from '../../shared/api';
import { conditioning } from './support/latent';
import { canvasJob } from './support/canvas-job';

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
    const clip = sampleClipRange(loaded.model.scheduler);
    // Counted model calls for the ETA, and x̂₀ previews of the running loop for the canvas (pixel models).
    const job = canvasJob(ctx.onProgress, loaded.model, c, clip);
    job.meter.expect({ [job.pathUnit]: input.steps * input.batch, decode: input.batch * job.decodeUnits });
    const x = await generate({
      predictor: job.path,
      alphasCumprod: loaded.model.alphasCumprod,
      seed: input.seed,
      steps: input.steps,
      eta: input.eta,
      batch: input.batch,
      clip,
      signal: ctx.signal,
      onProgress: job.onProgress,
    });
    const images: RawImage[] = [];
    for (let i = 0; i < input.batch; i++) images.push(await job.toImage(x, i, ctx.signal));
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
