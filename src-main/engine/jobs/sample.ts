/** `sample`: x_t at a timestep on the DDIM path (η = 0) of a seed (or a given latent), plus x_0 of that path. */
import type { EngineJob } from './types';
import { ddimDenoise, denoiseLevels } from '../../core/diffusion/inversion';
import { sampleClipRange } from '../../core/diffusion/scheduler';
import type { RawImage } from '../../core/diffusion/image';
import type { Float32TensorPayload, PromptInfo } from '../../shared/api';
import { resolveTimestep, resolveXt, openModel } from './support/latent';
import { subProgress } from './support/progress';
import { toPayload } from './support/wire-tensors';
import { canvasJob } from './support/canvas-job';

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
    const opened = await openModel(input, ctx);
    const { model, start, pathKey, prompt } = opened;
    const timestep = resolveTimestep(input, model);
    const clip = sampleClipRange(model.scheduler);
    const job = canvasJob(ctx.onProgress, model, opened, clip);
    const T = model.scheduler.numTrainTimesteps;
    // The plan: the path down to x_t (none when x_t is given or memoised: the meter counts only real calls),
    // the rest of the path, the decode.
    const down = denoiseLevels(input.steps, T, timestep).length - 1;
    const above = input.xt || timestep === T - 1 ? 0 : denoiseLevels(input.steps, T, T - 1, timestep).length - 1;
    job.meter.expect({ [job.pathUnit]: above + down, decode: job.decodeUnits });
    const xt = await resolveXt(input, model, job.path, timestep, ctx.signal, subProgress(job.onProgress, 0, 0.5), pathKey);
    job.meter.expect({ [job.pathUnit]: down, decode: job.decodeUnits });
    // The rest of the same path: from a schedule timestep this is exactly generate(seed, steps)'s x_0.
    const x0 = await ddimDenoise(xt, {
      predictor: job.path,
      alphasCumprod: model.alphasCumprod,
      steps: input.steps,
      fromTimestep: timestep,
      clip,
      signal: ctx.signal,
      onProgress: subProgress(job.onProgress, 0.5, 1),
    });
    const image = await job.toImage(x0, 0, ctx.signal);
    return { xt: toPayload(xt), timestep, image, elapsedMs: performance.now() - start, ...(prompt ? { prompt } : {}) };
  },
};
