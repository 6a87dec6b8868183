/**
 * `edit`: move x_t along directions (rows of a local basis by index, or given vectors) with x-space guidance or
 * the plain move, then render t → 0 with DDIM (η = 0) and the seeded η = 1 tail below t_boost (method.md §2).
 *
 * Composition (core/edit/guidance.ts): 'summed' (default) adds every direction's guidance term in each step and
 * is exactly independent of the order the edits are listed in; 'sequential' applies each direction's n steps in
 * the listed order, so the order matters. An edit whose strengths are all 0 returns x_t untouched, and the render
 * is the same function with the same noise, so it is bit for bit the unedited image.
 *
 * `renderSteps` sets the render's DDIM schedule apart from `steps` (x_t's path). `frames` also renders the edit after
 * those guidance-step counts (the authors' strip), each with the same render and noise as the final image.
 */
import type { EngineJob } from './types';
import { ddimTimesteps } from '../../core/diffusion/ddim';
import type { RawImage } from '../../core/diffusion/image';
import { InvalidArgumentError } from '../../core/diffusion/errors';
import type { EditDirection } from '../../core/edit/guidance';
import { renderFrom, renderPath } from '../../core/edit/render';
import { sampleClipRange } from '../../core/diffusion/scheduler';
import { denoiseLevels } from '../../core/diffusion/inversion';
import { sizeOf, type Tensor } from '../../core/tensor';
import type { Float32TensorPayload, JobParsedInput, PromptInfo } from '../../shared/api';
import { basisRow, fromPayload, toPayload } from './support/wire-tensors';
import { localBasis, type BasisStats } from './support/local-basis';
import { modelStepper, resolveTimestep, resolveXt, openModel } from './support/latent';
import { subProgress } from './support/progress';
import { editFromRequest } from './support/edit-request';
import { resolveRegion } from './support/mask';
import { canvasJob, type CanvasJob } from './support/canvas-job';

export interface EditResult {
  image: RawImage;
  timestep: number;
  xEdited: Float32TensorPayload;
  frames?: { guidanceSteps: number; image: RawImage }[];
  basis?: BasisStats;
  elapsedMs: number;
  prompt?: PromptInfo;
}

/**
 * The edit's model calls from here on, for the ETA: x_t's path (when `withPath`), the guidance steps (one unit per
 * sample of each batch: x and x ± δv per non-zero direction, summed; two per direction and step, sequential), each
 * render's steps (twice with keepOutside) and the decodes. The meter counts the calls themselves, so a memoised x_t
 * path or a zero edit only makes the plan end early.
 */
function editPlan(input: JobParsedInput<'edit'>, T: number, timestep: number, job: CanvasJob): (withPath: boolean) => Record<string, number> {
  const path = input.xt || timestep === T - 1 ? 0 : denoiseLevels(input.steps, T, T - 1, timestep).length - 1;
  const dirs = input.edits.filter((e) => e.strength !== 0).length;
  const guidance =
    input.mode === 'move' || dirs === 0 ? 0 : input.composition === 'sequential' ? input.guidanceSteps * dirs * 2 : input.guidanceSteps * (dirs + 1);
  const renders = input.frames?.length ? new Set([...input.frames, input.guidanceSteps]).size : 1;
  const perRender = renderPath({ timestep, schedule: ddimTimesteps(input.renderSteps ?? input.steps, T), T, boostFraction: input.boostFraction }).length;
  const render = renders * perRender * (input.region && input.regionBlend ? 2 : 1);
  const decodes = ((input.frames?.length ?? 0) + 1) * job.decodeUnits;
  return (withPath) => {
    const units: Record<string, number> = { decode: decodes };
    const add = (unit: string, n: number) => (units[unit] = (units[unit] ?? 0) + n);
    add(job.pathUnit, render + (withPath ? path : 0));
    add(job.promptUnit, guidance);
    return units;
  };
}

export const editJob: EngineJob<'edit', EditResult> = {
  name: 'edit',
  async run(input, ctx) {
    // Text models: the prompt conditions the path and its render (with guidance, so strength 0 is the sample's own
    // image), J, and the edit's ε (without guidance: the authors' edit-prompt ε, method.md §4).
    const opened = await openModel(input, ctx);
    const { model, start, pathKey, condition, prompt } = opened;
    const timestep = resolveTimestep(input, model);
    const T = model.scheduler.numTrainTimesteps;
    // Counted calls for the ETA, x̂₀ previews of x_t's path and of the render (pixel models).
    const job = canvasJob(ctx.onProgress, model, opened, sampleClipRange(model.scheduler));
    const byIndex = input.edits.some((e) => 'index' in e);
    const needsBasis = byIndex && input.basis !== undefined;
    const plan = editPlan(input, T, timestep, job);
    // A basis of unknown length lies ahead: no plan (the host's fraction rule) until it is there.
    if (!needsBasis) job.meter.expect(plan(true));
    const xt = await resolveXt(input, model, job.path, timestep, ctx.signal, subProgress(job.onProgress, 0, 0.1), pathKey);
    const basisResult = needsBasis
      ? await localBasis(ctx.jacobians, model, xt, timestep, { ...input.basis!, provider: input.provider, forwardProvider: opened.forwardProvider }, ctx.signal, subProgress(job.onProgress, 0.1, 0.4), condition)
      : null;
    job.meter.expect(plan(false));
    const n = sizeOf(model.unet.sampleDims);
    // The edit's region (LatentMaskSchema): x_t's update is weighted by it, so x_t outside stays put.
    const region = input.region ? await resolveRegion(input.region, model.unet.sampleDims) : undefined;
    const directions: EditDirection[] = input.edits.map((e) => {
      if ('index' in e) return { v: basisRow(basisResult!.basis.V, e.index), strength: e.strength };
      const v = fromPayload(e.direction, 'direction');
      if (v.data.length !== n) throw new InvalidArgumentError(`a direction has ${v.data.length} values, a sample has ${n}`);
      return { v, strength: e.strength };
    });
    // The strip's frames: the guidance run is cut at each asked step count and continued from there. Summed guidance
    // steps depend only on the current x, so the first m of n steps are bit for bit an m-step edit (tested).
    // Without frames (and always in move mode, which the schema keeps frames away from) it is one call.
    const stops = [...new Set([...(input.frames ?? []), input.guidanceSteps])].sort((a, b) => a - b);
    const atStep = new Map<number, Tensor>();
    const progressSteps = Math.max(1, input.guidanceSteps);
    let edited = xt;
    let done = 0;
    for (const m of input.frames?.length ? stops : [input.guidanceSteps]) {
      const from = done;
      if (m > from || !input.frames?.length) {
        edited = await editFromRequest(job.prompt, edited, directions, timestep, { ...input, guidanceSteps: m - from }, {
          composition: input.composition,
          ...(region ? { region } : {}),
          signal: ctx.signal,
          onProgress: subProgress(job.onProgress, 0.4 + (0.2 * from) / progressSteps, 0.4 + (0.2 * m) / progressSteps),
        });
      }
      done = m;
      atStep.set(m, edited);
    }
    const renders = stops.filter((m) => atStep.has(m));
    const x0At = new Map<number, Tensor>();
    for (const [i, m] of renders.entries()) {
      x0At.set(
        m,
        await renderFrom(modelStepper(model, job.path, ctx.signal), atStep.get(m)!, {
          timestep,
          schedule: ddimTimesteps(input.renderSteps ?? input.steps, T),
          T,
          boostFraction: input.boostFraction,
          noiseSeed: input.noiseSeed,
          // regionBlend: the outside is re-imposed from the unedited path at every step (render.ts keepOutside).
          ...(region && input.regionBlend ? { keepOutside: { region, reference: xt } } : {}),
          signal: ctx.signal,
          onProgress: subProgress(job.onProgress, 0.6 + (0.4 * i) / renders.length, 0.6 + (0.4 * (i + 1)) / renders.length),
        }),
      );
    }
    const x0 = x0At.get(input.guidanceSteps)!;
    // One decode at a time: a text model's frames go through the same VAE session.
    let frames: EditResult['frames'];
    if (input.frames) {
      frames = [];
      for (const m of input.frames) frames.push({ guidanceSteps: m, image: await job.toImage(x0At.get(m)!, 0, ctx.signal) });
    }
    return {
      image: await job.toImage(x0, 0, ctx.signal),
      timestep,
      xEdited: toPayload(edited),
      ...(frames ? { frames } : {}),
      ...(basisResult ? { basis: basisResult.stats } : {}),
      elapsedMs: performance.now() - start,
      ...(prompt ? { prompt } : {}),
    };
  },
};
