/**
 * `gallery`: for the local basis at (x_t, t), render a − and a + preview of each direction with the cheaper
 * `previewSteps` DDIM schedule. Each pair is edited (guidance batches x and x ± δv through the U-Net) and then
 * rendered as one batch of two; each thumbnail is streamed as soon as it exists, as the `partial` of a progress
 * event (GalleryPartial: {kind: 'gallery-thumb', index, sign, strength, image}), − before +, directions in order.
 * Right after the basis, each direction's |v| heat map is streamed ({kind: 'gallery-heat', index, image}).
 * The unedited preview (`center`) comes first in the output. All three share the same η = 1 tail noise, so a
 * thumbnail differs from the centre by the edit only. PNGs are encoded in the worker so the partials are
 * ready to display.
 */
import type { EngineJob } from './types';
import { ddimTimesteps } from '../../core/diffusion/ddim';
import type { RawImage } from '../../core/diffusion/image';
import { directionMagnitudeImage } from '../../core/geometry/magnitude-map';
import { renderFrom } from '../../core/edit/render';
import { sizeOf, stackBatch, type Tensor } from '../../core/tensor';
import { GaussianRng } from '../../core/diffusion/rng';
import type { EncodedImage, GalleryPartial, JobOutput } from '../../shared/api';
import { encodePng } from '../png';
import { basisRow } from './support/wire-tensors';
import { localBasis } from './support/local-basis';
import { modelStepper, resolveTimestep, resolveXt, openModel } from './support/latent';
import { subProgress } from './support/progress';
import { editFromRequest } from './support/edit-request';

async function encodeRaw(img: RawImage): Promise<EncodedImage> {
  return { mime: 'image/png', width: img.width, height: img.height, bytes: await encodePng(img) };
}


export const galleryJob: EngineJob<'gallery', JobOutput<'gallery'>> = {
  name: 'gallery',
  async run(input, ctx) {
    // Text models: previews decode through the VAE (one decoder call per image: 2 per direction plus the centre).
    const { model, predictor, promptPredictor, start, pathKey, condition, toImage } = await openModel(input, ctx);
    const encode = async (x: Tensor, index: number) => encodeRaw(await toImage(x, index, ctx.signal));
    const timestep = resolveTimestep(input, model);
    const T = model.scheduler.numTrainTimesteps;
    const xt = await resolveXt(input, model, predictor, timestep, ctx.signal, subProgress(ctx.onProgress, 0, 0.05), pathKey);
    const { basis, stats } = await localBasis(ctx.jacobians, model, xt, timestep, input, ctx.signal, subProgress(ctx.onProgress, 0.05, 0.4), condition);
    const indices = input.directions ?? Array.from({ length: basis.V.dims[0] }, (_, i) => i);
    const stepper = modelStepper(model, predictor, ctx.signal);
    const n = sizeOf(model.unet.sampleDims);
    const render = (x: Tensor) => {
      // Every item of a batch gets the same η = 1 noise, drawn exactly as renderFrom draws it for one sample
      // (GaussianRng(noiseSeed) in path order): −, + and the centre differ only by the edit, and each equals
      // the `edit` job's render of the same latent with the same noise seed and steps.
      const rng = new GaussianRng(input.noiseSeed);
      return renderFrom(stepper, x, {
        timestep,
        schedule: ddimTimesteps(input.previewSteps, T),
        T,
        boostFraction: input.boostFraction,
        noise: (_i, _t, dims) => {
          const one = new Float32Array(n);
          rng.fillNormal(one);
          const data = new Float32Array(x.data.length);
          for (let b = 0; b < x.data.length / n; b++) data.set(one, b * n);
          return { dims: [...dims], data };
        },
        signal: ctx.signal,
      });
    };
    const heats = new Map<number, EncodedImage>();
    for (const index of indices) {
      const heat = await encodeRaw(directionMagnitudeImage(basisRow(basis.V, index)));
      heats.set(index, heat);
      // A copy: the worker transfers partial buffers, and the final output still needs these bytes.
      const partial: GalleryPartial = { kind: 'gallery-heat', index, image: { ...heat, bytes: heat.bytes.slice() } };
      ctx.onProgress({ fraction: 0.4, message: `direction ${index} found`, partial });
    }
    const center = await encode(await render(xt), 0);
    const items: JobOutput<'gallery'>['items'] = [];
    const s = input.strength;
    for (let j = 0; j < indices.length; j++) {
      const index = indices[j];
      const v = basisRow(basis.V, index);
      const edited: Tensor[] = [];
      for (const sign of [-1, 1]) {
        edited.push(await editFromRequest(promptPredictor, xt, [{ v, strength: sign * s }], timestep, input, { signal: ctx.signal }));
      }
      const x0 = await render(stackBatch(edited));
      const minus = await encode(x0, 0);
      const plus = await encode(x0, 1);
      const fraction = 0.4 + (0.6 * (j + 1)) / indices.length;
      for (const [sign, image] of [
        [-1, minus],
        [1, plus],
      ] as const) {
        // A copy: the worker transfers partial buffers, and the final output still needs these bytes.
        const partial: GalleryPartial = { kind: 'gallery-thumb', index, sign, strength: sign * s, image: { ...image, bytes: image.bytes.slice() } };
        ctx.onProgress({ fraction, message: `direction ${index} ${sign < 0 ? '−' : '+'} ready`, partial });
      }
      items.push({ index, sigma: basis.S.data[index], minus, plus, heat: heats.get(index)! });
    }
    return { timestep, basis: stats, center, items, elapsedMs: performance.now() - start };
  },
};
