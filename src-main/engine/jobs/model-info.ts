/** `model.info`: a model folder's scheduler, U-Net signature and weight size (also behind `pullback info`). */
import type { EngineJob } from './types';
import type { ModelFolder } from '../../core/diffusion/model-folder';
import type { ModelInfo } from '../../shared/api';

export function describeModel(m: ModelFolder): ModelInfo {
  const vi = (v: { name: string; elemType: string; dims: (number | string | null)[] }) => ({ name: v.name, type: v.elemType, dims: v.dims });
  return {
    dir: m.dir,
    name: m.name,
    scheduler: {
      numTrainTimesteps: m.scheduler.numTrainTimesteps,
      betaSchedule: m.scheduler.betaSchedule,
      betaStart: m.scheduler.betaStart,
      betaEnd: m.scheduler.betaEnd,
      predictionType: m.scheduler.predictionType,
    },
    unet: {
      file: m.unet.file,
      inputs: m.unet.inputs.map(vi),
      outputs: m.unet.outputs.map(vi),
      sampleDims: [...m.unet.sampleDims],
      timestep: { type: m.unet.timestepType, rank: m.unet.timestepRank },
      weightsBytes: m.unet.weightsBytes,
    },
    ...(m.text
      ? {
          text: {
            layout: m.text.layout,
            pipelineClass: m.text.pipelineClass,
            maxLength: m.text.seqLength,
            imageDims: [3, m.unet.sampleDims[1] * m.text.vae.downscale, m.unet.sampleDims[2] * m.text.vae.downscale],
            dtype: m.text.unetDtype,
            scalingFactor: m.text.vae.scalingFactor,
            canEncode: m.text.vae.encoder !== null,
          },
        }
      : {}),
  };
}

export const modelInfoJob: EngineJob<'model.info', ModelInfo> = {
  name: 'model.info',
  async run(input, ctx) {
    return describeModel(await ctx.inspectModel(input.modelDir));
  },
};
