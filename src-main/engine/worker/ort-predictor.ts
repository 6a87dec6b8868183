/**
 * The NoisePredictor of core/diffusion, implemented with an ORT session: feeds `sample` and `timestep` with the
 * dtype and rank the model declares, and converts v/sample predictions to ε with the model's schedule.
 */
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../../core/tensor';
import type { NoisePredictor } from '../../core/diffusion/generate';
import type { ModelFolder, UnetSignature } from '../../core/diffusion/model-folder';
import { toEpsilon, type PredictionType } from '../../core/diffusion/scheduler';
import { throwIfCancelled } from '../../core/progress';
import { ModelFolderError } from '../../core/diffusion/errors';
import { floatToHalfArray } from '../../core/tensor/half';

export function timestepTensor(sig: UnetSignature, t: number, batch: number): ort.Tensor {
  const n = sig.timestepPerItem ? batch : 1;
  const dims = sig.timestepRank === 0 ? [] : [n];
  switch (sig.timestepType) {
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => BigInt(t)), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from({ length: n }, () => t), dims);
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from({ length: n }, () => t), dims);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from({ length: n }, () => t), dims);
    case 'float16':
      // fp16 exports (diffusers' --fp16) take the timestep in the model dtype; integers up to 2048 are exact.
      return new ort.Tensor('float16', floatToHalfArray(Array.from({ length: n }, () => t)), dims);
  }
}

export class OrtNoisePredictor implements NoisePredictor {
  readonly sampleDims: readonly number[];
  private readonly predictionType: PredictionType;
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly model: ModelFolder,
  ) {
    this.sampleDims = model.unet.sampleDims;
    this.predictionType = model.scheduler.predictionType;
  }

  async predictEps(x: Tensor, timestep: number, signal?: AbortSignal): Promise<Tensor> {
    throwIfCancelled(signal);
    const sig = this.model.unet;
    const batch = x.dims[0];
    const feeds = {
      [sig.sampleInput]: new ort.Tensor('float32', x.data, [...x.dims]),
      [sig.timestepInput]: timestepTensor(sig, timestep, batch),
    };
    const out = await this.session.run(feeds);
    const y = out[sig.outputName];
    if (!y || y.type !== 'float32' || y.data.length !== x.data.length) {
      throw new ModelFolderError(
        'wrong-inputs',
        sig.file,
        `output "${sig.outputName}" must be float32 with the shape of "sample" [${x.dims.join(', ')}], got ${y?.type} [${y?.dims.join(', ')}]`,
      );
    }
    const data = new Float32Array(y.data as Float32Array);
    const eps = toEpsilon(data, x.data, this.model.alphasCumprod[timestep], this.predictionType);
    return { dims: [...x.dims], data: eps };
  }
}
