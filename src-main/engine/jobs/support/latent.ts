/**
 * Where a latent job's x_t comes from: the exact timestep (a fraction snapped to the DDIM schedule, or given),
 * x_t from a seed's DDIM path, an inverted image's x_T or a given latent, the DDIM stepper with the model's
 * clip_sample, and the model opened with a batch-safe predictor.
 */
import type { Tensor } from '../../../core/tensor';
import { sizeOf } from '../../../core/tensor';
import { InvalidArgumentError } from '../../../core/diffusion/errors';
import { initialNoise, type NoisePredictor } from '../../../core/diffusion/generate';
import { alphaBarAt, ddimStep, ddimTimesteps } from '../../../core/diffusion/ddim';
import { sampleClipRange } from '../../../core/diffusion/scheduler';
import { ddimDenoise, snapToSchedule } from '../../../core/diffusion/inversion';
import type { ModelFolder } from '../../../core/diffusion/model-folder';
import type { DdimStepper } from '../../../core/edit/render';
import type { ProgressFn } from '../../../core/progress';
import type { Float32TensorPayload, PromptInfo, Provider, ProviderPreference } from '../../../shared/api';
import type { JobContext, LoadedModel } from '../types';
import { sampleToImage, type RawImage } from '../../../core/diffusion/image';
import type { BasisCondition } from './local-basis';
import { modelContentHash } from '../../worker/model-hash';
import { fromPayload } from './wire-tensors';
import { LatentMemo } from './latent-memo';

/** The exact U-Net timestep: `t` snapped to the nearest step of the N-step schedule, or `timestep` as given. */
export function resolveTimestep(input: { t?: number; timestep?: number; steps: number }, model: ModelFolder): number {
  const T = model.scheduler.numTrainTimesteps;
  if (input.timestep !== undefined) {
    if (!Number.isInteger(input.timestep) || input.timestep < 0 || input.timestep >= T) {
      throw new InvalidArgumentError(`timestep must be an integer in [0, ${T}), got ${input.timestep}`);
    }
    return input.timestep;
  }
  if (input.t === undefined) throw new InvalidArgumentError('give t (fraction of T) or timestep');
  return snapToSchedule(input.t, input.steps, T);
}

/** A latent as one sample [1, C, H, W]; accepts [C, H, W] too. */
export function asSample(x: Tensor, model: ModelFolder, what: string): Tensor {
  const [C, H, W] = model.unet.sampleDims;
  if (x.data.length !== C * H * W || !(x.dims.length === 3 || (x.dims.length === 4 && x.dims[0] === 1))) {
    throw new InvalidArgumentError(`${what} must be [1, ${C}, ${H}, ${W}], got [${x.dims.join(', ')}]`);
  }
  return { dims: [1, C, H, W], data: x.data };
}

/**
 * x_t: the given latent, an inverted image's path from its x_T, or the DDIM path (η = 0, the model's clip_sample) of generate(seed) from T−1 down to the
 * timestep; an exact timestep off the schedule is reached by one DDIM step from the schedule point above it.
 */
export async function resolveXt(
  input: { seed?: number; xt?: Float32TensorPayload; xT?: Float32TensorPayload; steps: number },
  model: ModelFolder,
  predictor: NoisePredictor,
  timestep: number,
  signal?: AbortSignal,
  onProgress?: ProgressFn,
  /** Conditioning.pathKey: a text model's path depends on the prompt and guidance, so its memo entries do too. */
  pathKey = '',
): Promise<Tensor> {
  if (input.xt) return asSample(fromPayload(input.xt, 'xt'), model, 'xt');
  const T = model.scheduler.numTrainTimesteps;
  if (input.xT) {
    // An inverted image: walk its deterministic path down without clip_sample, the exact reverse of the inversion
    // (the invert job's PSNR was measured on this unclipped path).
    const xT = asSample(fromPayload(input.xT, 'xT'), model, 'xT');
    if (timestep === T - 1) return xT;
    return ddimDenoise(xT, { predictor, alphasCumprod: model.alphasCumprod, steps: input.steps, fromTimestep: T - 1, untilTimestep: timestep, signal, onProgress });
  }
  if (input.seed === undefined) throw new InvalidArgumentError('give seed, xt or xT');
  const noise = initialNoise(model.unet.sampleDims, input.seed, 1);
  if (timestep === T - 1) return noise;
  // Repeated edits of one sample (an editor's slider) would redo the same DDIM path each time: memoise it.
  const key = `${await modelContentHash(model)}|${input.seed}|${input.steps}|${timestep}|${pathKey}`;
  const hit = xtMemo.get(key);
  if (hit) return hit;
  const xt = await ddimDenoise(noise, {
    predictor,
    alphasCumprod: model.alphasCumprod,
    steps: input.steps,
    fromTimestep: T - 1,
    untilTimestep: timestep,
    clip: sampleClipRange(model.scheduler),
    signal,
    onProgress,
  });
  xtMemo.set(key, xt);
  return xt;
}

/**
 * x_t of one source at several timesteps, walking its DDIM path once from the top instead of once per timestep
 * (an analysis asks for ten timesteps of each sample). Each x_t is bit for bit resolveXt's for that timestep: the
 * walk visits the same levels (the schedule, and one joining step to an off-schedule timestep), so a basis of the
 * analysis is the basis cache's entry for the same (source, timestep) in every other job.
 */
export async function xtAtTimesteps(
  input: { seed?: number; xt?: Float32TensorPayload; xT?: Float32TensorPayload; steps: number },
  model: ModelFolder,
  predictor: NoisePredictor,
  timesteps: readonly number[],
  signal?: AbortSignal,
  onProgress?: ProgressFn,
): Promise<Map<number, Tensor>> {
  const wanted = [...new Set(timesteps)].sort((a, b) => b - a);
  const out = new Map<number, Tensor>();
  if (input.xt) {
    const x = asSample(fromPayload(input.xt, 'xt'), model, 'xt');
    for (const t of wanted) out.set(t, x);
    return out;
  }
  const T = model.scheduler.numTrainTimesteps;
  let x: Tensor;
  let clip: number | undefined;
  if (input.xT) {
    x = asSample(fromPayload(input.xT, 'xT'), model, 'xT');
  } else if (input.seed !== undefined) {
    x = initialNoise(model.unet.sampleDims, input.seed, 1);
    clip = sampleClipRange(model.scheduler);
  } else {
    throw new InvalidArgumentError('give seed, xt or xT');
  }
  const schedule = ddimTimesteps(input.steps, T); // descending, from T − 1
  const denoise = (from: number, until: number) =>
    ddimDenoise(x, { predictor, alphasCumprod: model.alphasCumprod, steps: input.steps, fromTimestep: from, untilTimestep: until, clip, signal });
  let at = T - 1;
  for (const [i, t] of wanted.entries()) {
    if (t < 0 || t >= T) throw new InvalidArgumentError(`timestep must be an integer in [0, ${T}), got ${t}`);
    // The lowest schedule point at or above t: the walk stays on the schedule and joins t from there.
    const onSchedule = Math.min(...schedule.filter((s) => s >= t));
    if (onSchedule < at) {
      x = await denoise(at, onSchedule);
      at = onSchedule;
    }
    out.set(t, t === at ? x : await denoise(at, t));
    onProgress?.({ fraction: (i + 1) / wanted.length, message: `x_t on the DDIM path: timestep ${t}` });
  }
  return out;
}

/** x_t of seeds' DDIM paths. */
const xtMemo = new LatentMemo(32);

/**
 * The predictor with batches cut to what the graph accepts: a U-Net exported with a static batch (e.g. 1) still
 * serves the batched guidance and gallery renders, one call per allowed chunk.
 */
export function batchSafePredictor(model: ModelFolder, predictor: NoisePredictor): NoisePredictor {
  const b = model.unet.inputs.find((i) => i.name === model.unet.sampleInput)?.dims[0];
  const maxBatch = typeof b === 'number' && b > 0 ? b : Number.POSITIVE_INFINITY;
  if (!Number.isFinite(maxBatch)) return predictor;
  const n = sizeOf(model.unet.sampleDims);
  return {
    sampleDims: predictor.sampleDims,
    async predictEps(x, timestep, signal) {
      const B = x.dims[0];
      if (B <= maxBatch) return predictor.predictEps(x, timestep, signal);
      const out = new Float32Array(x.data.length);
      for (let s = 0; s < B; s += maxBatch) {
        const e = Math.min(B, s + maxBatch);
        const eps = await predictor.predictEps({ dims: [e - s, ...x.dims.slice(1)], data: x.data.subarray(s * n, e * n) }, timestep, signal);
        out.set(eps.data, s * n);
      }
      return { dims: [...x.dims], data: out };
    },
  };
}

/** The production DDIM stepper with the model's clip_sample (core/edit's ddimStepper never clips). */
export function modelStepper(model: ModelFolder, predictor: NoisePredictor, signal?: AbortSignal): DdimStepper {
  const clip = sampleClipRange(model.scheduler);
  return async (x, tFrom, tTo, eta, noise) => {
    const eps = await predictor.predictEps(x, tFrom, signal);
    const a = model.alphasCumprod;
    return ddimStep({ x, eps, alphaT: alphaBarAt(a, tFrom), alphaNext: alphaBarAt(a, tTo), eta, noise, clip });
  };
}

/** A model opened for a latent job: its folder, a batch-safe ε predictor, and the job's start time. */
export interface OpenedModel extends Conditioning {
  model: ModelFolder;
  start: number;
  /** The provider the forward runs on: the Jacobian graphs try it first (local-basis.ts BasisRequest). */
  forwardProvider: Provider;
}

/** The text parameters of a job (shared/api.ts textParams, and basisPrompt / editPrompt where the job takes them). */
export interface TextParams {
  prompt?: string;
  negativePrompt?: string;
  guidanceScale?: number;
  basisPrompt?: string;
  editPrompt?: string;
}

/** diffusers' default guidance scale for Stable Diffusion. */
export const DEFAULT_GUIDANCE_SCALE = 7.5;

/** What a job's prompt makes of a loaded model. Unconditional models: the plain predictor, pixels as images. */
export interface Conditioning {
  /** The DDIM path's ε: at the prompt with classifier-free guidance (text models), else the U-Net's. */
  predictor: NoisePredictor;
  /** ε at the prompt without guidance: x-space edit guidance (method.md §4: the edit prompt's ε). */
  promptPredictor: NoisePredictor;
  /** Text models: the prompt J is taken at. */
  condition?: BasisCondition;
  /** What besides model, seed and steps the DDIM path depends on ('' for unconditional models): the x_t memo key. */
  pathKey: string;
  /** x_0 [B, …] → the image of item `index` (the VAE decoder for latent models). */
  toImage(x0: Tensor, index?: number, signal?: AbortSignal): Promise<RawImage>;
  /** Text models: how the prompt was tokenized. */
  prompt?: PromptInfo;
  /** [C, H, W] of the model's images (the sample itself for pixel models; the VAE's output size for latent ones). */
  imageDims: readonly [number, number, number];
  /** An image [1, C, H, W] in [−1, 1] → the model's x_0 (the VAE encoder's mean × scaling factor for latent models). */
  toLatent(image: Tensor, signal?: AbortSignal): Promise<Tensor>;
}

/**
 * A job's prompt applied to a loaded model: the path predictor (CFG at guidanceScale between negativePrompt and
 * prompt), the unguided prompt predictor, the embedding for J, and the decoder to images. Prompt parameters on an
 * unconditional model are an invalid-argument error, never ignored.
 */
export async function conditioning(loaded: LoadedModel, input: TextParams, signal?: AbortSignal): Promise<Conditioning> {
  const model = loaded.model;
  const text = loaded.text;
  if (!text) {
    const given = (['prompt', 'negativePrompt', 'guidanceScale', 'basisPrompt', 'editPrompt'] as const).filter((k) => input[k] !== undefined);
    if (given.length > 0) {
      throw new InvalidArgumentError(`"${model.name}" is an unconditional model: ${given.join(', ')} need${given.length === 1 ? 's' : ''} a text-conditioned (Stable Diffusion) model`);
    }
    const predictor = batchSafePredictor(model, loaded.predictor);
    return {
      predictor,
      promptPredictor: predictor,
      pathKey: '',
      toImage: async (x0, index = 0) => sampleToImage(x0, index),
      imageDims: model.unet.sampleDims,
      toLatent: async (image) => image,
    };
  }
  const prompt = input.prompt ?? '';
  const negative = input.negativePrompt ?? '';
  const scale = input.guidanceScale ?? DEFAULT_GUIDANCE_SCALE;
  const cond = await text.embed(prompt, signal);
  const uncond = await text.embed(negative, signal);
  // The geometry's own prompts (absent: the path's): J at basisPrompt, guidance along ε at editPrompt.
  const basisCond = input.basisPrompt === undefined ? cond : await text.embed(input.basisPrompt, signal);
  const editCond = input.editPrompt === undefined ? cond : await text.embed(input.editPrompt, signal);
  const pathPromptPredictor = text.predictor(cond);
  const promptPredictor = editCond === cond ? pathPromptPredictor : text.predictor(editCond);
  // Equal embeddings make the guidance an identity: skip the second U-Net batch.
  const predictor = scale === 1 || cond.hash === uncond.hash ? pathPromptPredictor : text.predictor(cond, { uncond, scale });
  return {
    predictor,
    promptPredictor,
    condition: { embedding: basisCond.embedding, hash: basisCond.hash },
    pathKey: `${cond.hash}|${uncond.hash}|${scale}`,
    toImage: async (x0, index = 0, sig) => {
      const one: Tensor = { dims: [1, ...x0.dims.slice(1)], data: x0.data.subarray(index * sizeOf(x0.dims.slice(1)), (index + 1) * sizeOf(x0.dims.slice(1))) };
      return sampleToImage(await text.decode(one, sig));
    },
    prompt: {
      prompt,
      tokens: cond.tokens.tokenCount,
      maxTokens: text.tokenizer.maxLength - 2,
      // Any of the prompts cut short: the notice names the path prompt's count, the flag covers all three.
      truncated: cond.tokens.truncated || basisCond.tokens.truncated || editCond.tokens.truncated,
      guidanceScale: scale,
      negativePrompt: negative,
      ...(input.basisPrompt !== undefined ? { basisPrompt: input.basisPrompt } : {}),
      ...(input.editPrompt !== undefined ? { editPrompt: input.editPrompt } : {}),
    },
    imageDims: [3, model.unet.sampleDims[1] * model.text!.vae.downscale, model.unet.sampleDims[2] * model.text!.vae.downscale],
    toLatent: async (image, sig) => (await text.encodeImage(image, sig)).latent,
  };
}

/**
 * The opening every latent job shares: report, open (or reuse) the model's session, apply the job's prompt (text
 * models) and wrap the predictor so batches larger than a static-batch export allows are split.
 */
export async function openModel(input: { modelDir: string; provider: ProviderPreference } & TextParams, ctx: JobContext): Promise<OpenedModel> {
  ctx.onProgress({ fraction: 0, message: 'loading model' });
  const loaded = await ctx.loadModel(input.modelDir, input.provider);
  const c = await conditioning(loaded, input, ctx.signal);
  if (c.prompt?.truncated) {
    ctx.onProgress({ fraction: 0, message: `prompt truncated: ${c.prompt.tokens} tokens, the text encoder reads the first ${c.prompt.maxTokens}` });
  }
  return { model: loaded.model, ...c, start: performance.now(), forwardProvider: loaded.provider };
}
