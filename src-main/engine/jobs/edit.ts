/**
 * `edit`: move x_t along directions (rows of a local basis by index, or given vectors) with x-space guidance or
 * the plain move, then render t → 0 with DDIM (η = 0) and the seeded η = 1 tail below t_boost (method.md §2).
 *
 * Composition (core/edit/guidance.ts): 'summed' (default) adds every direction's guidance term in each step and
 * is exactly independent of the order the edits are listed in; 'sequential' applies each direction's n steps in
 * the listed order, so the order matters. An edit whose strengths are all 0 returns x_t untouched, and the render
 * is the same function with the same noise, so it is bit for bit the unedited image.
 */
import type { EngineJob } from './types';
import { ddimTimesteps } from '../../core/diffusion/ddim';
import type { RawImage } from '../../core/diffusion/image';
import { InvalidArgumentError } from '../../core/diffusion/errors';
import type { EditDirection } from '../../core/edit/guidance';
import { renderFrom } from '../../core/edit/render';
import { sizeOf } from '../../core/tensor';
import type { Float32TensorPayload, PromptInfo } from '../../shared/api';
import { basisRow, fromPayload, toPayload } from './support/wire-tensors';
import { localBasis, type BasisStats } from './support/local-basis';
import { modelStepper, resolveTimestep, resolveXt, openModel } from './support/latent';
import { subProgress } from './support/progress';
import { editFromRequest } from './support/edit-request';

export interface EditResult {
  image: RawImage;
  timestep: number;
  xEdited: Float32TensorPayload;
  basis?: BasisStats;
  elapsedMs: number;
  prompt?: PromptInfo;
}

export const editJob: EngineJob<'edit', EditResult> = {
  name: 'edit',
  async run(input, ctx) {
    // Text models: the prompt conditions the path and its render (with guidance, so strength 0 is the sample's own
    // image), J, and the edit's ε (without guidance: the authors' edit-prompt ε, method.md §4).
    const { model, predictor, promptPredictor, start, pathKey, condition, toImage, prompt } = await openModel(input, ctx);
    const timestep = resolveTimestep(input, model);
    const T = model.scheduler.numTrainTimesteps;
    const xt = await resolveXt(input, model, predictor, timestep, ctx.signal, subProgress(ctx.onProgress, 0, 0.1), pathKey);
    const byIndex = input.edits.some((e) => 'index' in e);
    const basisResult =
      byIndex && input.basis
        ? await localBasis(ctx.jacobians, model, xt, timestep, input.basis, ctx.signal, subProgress(ctx.onProgress, 0.1, 0.4), condition)
        : null;
    const n = sizeOf(model.unet.sampleDims);
    const directions: EditDirection[] = input.edits.map((e) => {
      if ('index' in e) return { v: basisRow(basisResult!.basis.V, e.index), strength: e.strength };
      const v = fromPayload(e.direction, 'direction');
      if (v.data.length !== n) throw new InvalidArgumentError(`a direction has ${v.data.length} values, a sample has ${n}`);
      return { v, strength: e.strength };
    });
    const edited = await editFromRequest(promptPredictor, xt, directions, timestep, input, {
      composition: input.composition,
      signal: ctx.signal,
      onProgress: subProgress(ctx.onProgress, 0.4, 0.6),
    });
    const x0 = await renderFrom(modelStepper(model, predictor, ctx.signal), edited, {
      timestep,
      schedule: ddimTimesteps(input.steps, T),
      T,
      boostFraction: input.boostFraction,
      noiseSeed: input.noiseSeed,
      signal: ctx.signal,
      onProgress: subProgress(ctx.onProgress, 0.6, 1),
    });
    return {
      image: await toImage(x0, 0, ctx.signal),
      timestep,
      xEdited: toPayload(edited),
      ...(basisResult ? { basis: basisResult.stats } : {}),
      elapsedMs: performance.now() - start,
      ...(prompt ? { prompt } : {}),
    };
  },
};
