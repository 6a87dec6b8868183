/**
 * What the pullback jobs (sample, invert, basis, gallery, edit, transport) share: the wire form of float32
 * tensors, timestep selection (fraction snapped to the DDIM schedule, or exact), x_t from a seed's DDIM path or a
 * given latent, the DDIM stepper with the model's clip_sample, and the local basis through the on-disk cache.
 */
import { join } from 'node:path';
import type { Tensor } from '../core/tensor';
import { sizeOf } from '../core/tensor';
import { tensorSha256 } from '../core/tensor/hash';
import { InvalidArgumentError } from '../core/diffusion/errors';
import { initialNoise, type NoisePredictor } from '../core/diffusion/generate';
import { alphaBarAt, ddimStep } from '../core/diffusion/ddim';
import { sampleClipRange } from '../core/diffusion/scheduler';
import { ddimDenoise, snapToSchedule } from '../core/diffusion/inversion';
import type { ModelFolder } from '../core/diffusion/model-folder';
import { BasisCache, type BasisCacheKey, type CacheLookup } from '../core/geometry/cache';
import { computeLocalBasis } from '../core/geometry/basis';
import { GeometryError } from '../core/geometry/errors';
import type { BasisMethod, LocalBasis } from '../core/geometry/types';
import { EditError } from '../core/edit/errors';
import { editLatent, type EditDirection, type EditMode, type EditOptions } from '../core/edit/guidance';
import type { DdimStepper } from '../core/edit/render';
import type { ProgressFn } from '../core/jobs';
import type { Float32TensorPayload, ProviderPreference } from '../shared/api';
import type { JobContext } from './jobs/types';
import { dataDir, defaultJacobianK, jacobianSessions, modelContentHash } from './jacobian';
import { defaultOversampling } from '../core/geometry/krylov';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Tensor → wire form (a fresh buffer, so the worker can transfer it). */
export function toPayload(t: Tensor): Float32TensorPayload {
  const data = new Uint8Array(t.data.byteLength);
  if (LITTLE_ENDIAN) data.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  else {
    const dv = new DataView(data.buffer);
    t.data.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  }
  return { dims: [...t.dims], data };
}

export function fromPayload(p: Float32TensorPayload, what: string): Tensor {
  const n = sizeOf(p.dims);
  if (p.data.byteLength !== 4 * n) {
    throw new InvalidArgumentError(`${what}: ${p.data.byteLength} bytes do not hold float32 dims [${p.dims.join(', ')}]`);
  }
  const data = new Float32Array(n);
  const dv = new DataView(p.data.buffer, p.data.byteOffset, p.data.byteLength);
  for (let i = 0; i < n; i++) data[i] = dv.getFloat32(4 * i, true);
  return { dims: [...p.dims], data };
}

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
  const key = `${await modelContentHash(model)}|${input.seed}|${input.steps}|${timestep}`;
  const hit = xtMemo.get(key);
  if (hit) {
    xtMemo.delete(key);
    xtMemo.set(key, hit);
    return { dims: [...hit.dims], data: hit.data.slice() };
  }
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
  xtMemo.set(key, { dims: [...xt.dims], data: xt.data.slice() });
  while (xtMemo.size > XT_MEMO_ENTRIES) xtMemo.delete(xtMemo.keys().next().value as string);
  return xt;
}

/** x_t of seeds' DDIM paths, most recently used last (a 64×64 RGB latent is 48 KB). */
const xtMemo = new Map<string, Tensor>();
const XT_MEMO_ENTRIES = 32;

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

export interface BasisRequest {
  k: number;
  method: BasisMethod;
  tol?: number;
  basisSeed: number;
  h: string;
  /** krylov warm start rows [j, ...x]. */
  warmStart?: Float32TensorPayload;
}

export interface BasisStats {
  timestep: number;
  method: BasisMethod;
  iterations: number;
  converged: boolean;
  jacobianProducts: { jvp: number; vjp: number; total: number };
  residuals: number[];
  seconds: number;
  tol: number;
  seed: number;
  hTensor: string;
  modelHash: string;
  cacheHit: boolean;
  cacheId: string;
}

/**
 * Tangent columns per derived-graph call for a basis request: the block the method hands over (k + oversampling
 * for krylov, k for subspace), capped at the engine's K, so a small k does not pay for zero-padded columns.
 */
export function jacobianK(method: BasisMethod, k: number): number {
  const block = method === 'krylov' ? k + defaultOversampling(k) : k;
  return Math.max(1, Math.min(block, defaultJacobianK()));
}

/** The basis cache under the data folder. */
export function basisCache(): BasisCache {
  return new BasisCache(join(dataDir(), 'basis'));
}

export function defaultTol(method: BasisMethod): number {
  return method === 'subspace' ? 1e-4 : 1e-3;
}

/** Geometry/edit option errors reach the user as invalid-argument (their codes are not API codes). */
export function asUserError(err: unknown): unknown {
  if (err instanceof GeometryError && (err.code === 'bad-option' || err.code === 'bad-shape')) return new InvalidArgumentError(err.message);
  if (err instanceof EditError && (err.code === 'bad-option' || err.code === 'bad-shape')) return new InvalidArgumentError(err.message);
  return err;
}

/**
 * The local basis of J at (x_t, timestep): loaded from the cache when an entry with the same key exists (and
 * verifies), else computed through the ORT operator and stored. Progress per iteration carries the residual.
 */
export async function localBasis(
  model: ModelFolder,
  xt: Tensor,
  timestep: number,
  req: BasisRequest,
  signal?: AbortSignal,
  onProgress?: ProgressFn,
): Promise<{ basis: LocalBasis; stats: BasisStats; lookup: CacheLookup }> {
  const modelHash = await modelContentHash(model);
  const tol = req.tol ?? defaultTol(req.method);
  onProgress?.({ fraction: 0, message: 'preparing Jacobian graphs' });
  const op = await jacobianSessions.operator({ model, h: req.h, K: jacobianK(req.method, req.k) }, xt, timestep, signal);
  const key: BasisCacheKey = {
    modelHash,
    xtHash: tensorSha256({ dims: [1, ...model.unet.sampleDims], data: xt.data }),
    timestep,
    prompt: null,
    hTensor: op.hTensor,
    k: req.k,
    method: req.method,
    tol,
    seed: req.basisSeed,
  };
  const warm = req.warmStart ? fromPayload(req.warmStart, 'warmStart') : undefined;
  if (warm) {
    if (req.method !== 'krylov') throw new InvalidArgumentError('warmStart is supported by the krylov method only');
    if (warm.dims.length < 2 || sizeOf(warm.dims.slice(1)) !== sizeOf(model.unet.sampleDims)) {
      throw new InvalidArgumentError(`warmStart must be [j, ${model.unet.sampleDims.join(', ')}], got [${warm.dims.join(', ')}]`);
    }
    key.extra = { warmStart: tensorSha256(warm) };
  }
  const cache = basisCache();
  let result;
  try {
    result = await cache.getOrCompute(key, () =>
      computeLocalBasis(op, {
        method: req.method,
        k: req.k,
        tol,
        seed: req.basisSeed,
        signal,
        maxBatch: op.K,
        ...(warm ? { warmStart: warm } : {}),
        onProgress: (p) =>
          onProgress?.({
            fraction: p.fraction,
            message: `${req.method} iteration ${p.iteration}: residual ${p.residual.toExponential(2)}, ${p.jacobianProducts.total} Jacobian products`,
          }),
      } as Parameters<typeof computeLocalBasis>[1]),
    );
  } catch (err) {
    throw asUserError(err);
  }
  const b = result.basis;
  onProgress?.({ fraction: 1, message: result.lookup.hit ? 'basis loaded from cache' : 'basis computed' });
  return {
    basis: b,
    lookup: result.lookup,
    stats: {
      timestep,
      method: b.method,
      iterations: b.iterations,
      converged: b.converged,
      jacobianProducts: b.jacobianProducts,
      residuals: b.residuals,
      seconds: b.seconds,
      tol: b.tol,
      seed: b.seed,
      hTensor: op.hTensor,
      modelHash,
      cacheHit: result.lookup.hit,
      cacheId: result.lookup.id,
    },
  };
}

/** Row i of V as a direction [1, ...x]. */
export function basisRow(V: Tensor, i: number): Tensor {
  const k = V.dims[0];
  if (!Number.isInteger(i) || i < 0 || i >= k) throw new InvalidArgumentError(`direction index ${i} is outside the basis (k = ${k})`);
  const n = V.data.length / k;
  return { dims: [1, ...V.dims.slice(1)], data: V.data.subarray(i * n, (i + 1) * n) };
}

/** Scales sub-task progress into [a, b] of the job's progress. */
export function subProgress(onProgress: ProgressFn | undefined, a: number, b: number): ProgressFn | undefined {
  return onProgress && ((p) => onProgress({ ...p, fraction: a + (b - a) * p.fraction }));
}

/** A model opened for a latent job: its folder, a batch-safe ε predictor, and the job's start time. */
export interface OpenedModel {
  model: ModelFolder;
  predictor: NoisePredictor;
  start: number;
}

/**
 * The opening every latent job shares: report, open (or reuse) the model's session, and wrap its predictor so
 * batches larger than a static-batch export allows are split.
 */
export async function openModel(input: { modelDir: string; provider: ProviderPreference }, ctx: JobContext): Promise<OpenedModel> {
  ctx.onProgress({ fraction: 0, message: 'loading model' });
  const loaded = await ctx.loadModel(input.modelDir, input.provider);
  return { model: loaded.model, predictor: batchSafePredictor(loaded.model, loaded.predictor), start: performance.now() };
}

/** The guidance/move parameters an `edit` or `gallery` request carries (shared/api.ts editParams). */
export interface EditRequestParams {
  mode: EditMode;
  alpha: number;
  guidanceSteps: number;
  scale: number;
  delta: number;
}

/**
 * editLatent with a request's parameters, mapped once to the core's option names; a core EditError surfaces as a
 * typed user error.
 */
export function editFromRequest(
  predictor: NoisePredictor,
  x: Tensor,
  directions: readonly EditDirection[],
  timestep: number,
  request: EditRequestParams,
  extra: Pick<EditOptions, 'composition' | 'signal' | 'onProgress'>,
): Promise<Tensor> {
  return editLatent(predictor, x, directions, {
    timestep,
    mode: request.mode,
    alpha: request.alpha,
    steps: request.guidanceSteps,
    scale: request.scale,
    delta: request.delta,
    ...extra,
  }).catch((err: unknown) => {
    throw asUserError(err);
  });
}
