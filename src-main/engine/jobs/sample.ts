/** `sample`: x_t at a timestep on the DDIM path (η = 0) of a seed (or a given latent), plus x_0 of that path. */
import type { EngineJob } from './types';
import { ddimDenoise } from '../../core/diffusion/inversion';
import { sampleClipRange } from '../../core/diffusion/scheduler';
import type { RawImage } from '../../core/diffusion/image';
import type { Float32TensorPayload, PromptInfo } from '../../shared/api';
import { resolveTimestep, resolveXt, openModel } from './support/latent';
import { subProgress } from './support/progress';
import { toPayload } from './support/wire-tensors';

export interface SampleResult {
  xt: Float32TensorPayload;
  timestep: number;
  image: RawImage;
  elapsedMs: number;
  prompt?: PromptInfo;
}

export const sampleJob: EngineJob<'sample', SampleResult> = {
  name: 'sample',
  async run(input, ctx) {
    const { model, predictor, start, pathKey, toImage, prompt } = await openModel(input, ctx);
    const timestep = resolveTimestep(input, model);
    const xt = await resolveXt(input, model, predictor, timestep, ctx.signal, subProgress(ctx.onProgress, 0, 0.5), pathKey);
    // The rest of the same path: from a schedule timestep this is exactly generate(seed, steps)'s x_0.
    const x0 = await ddimDenoise(xt, {
      predictor,
      alphasCumprod: model.alphasCumprod,
      steps: input.steps,
      fromTimestep: timestep,
      clip: sampleClipRange(model.scheduler),
      signal: ctx.signal,
      onProgress: subProgress(ctx.onProgress, 0.5, 1),
    });
    const image = await toImage(x0, 0, ctx.signal);
    return { xt: toPayload(xt), timestep, image, elapsedMs: performance.now() - start, ...(prompt ? { prompt } : {}) };
  },
};
