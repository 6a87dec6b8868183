/**
 * The local basis of a job's request: J's operator from the worker's Jacobian sessions, the on-disk basis cache
 * (basis-store.ts) keyed by everything that changes the result, and the stats every basis-carrying output reports.
 */
import { join } from 'node:path';
import type { Tensor } from '../../../core/tensor';
import { sizeOf } from '../../../core/tensor';
import { tensorSha256 } from '../../../core/tensor/hash';
import { InvalidArgumentError } from '../../../core/diffusion/errors';
import type { ModelFolder } from '../../../core/diffusion/model-folder';
import { computeLocalBasis } from '../../../core/geometry/basis';
import type { BasisMethod, LocalBasis } from '../../../core/geometry/types';
import { defaultOversampling } from '../../../core/geometry/krylov';
import type { ProgressFn } from '../../../core/progress';
import type { Float32TensorPayload, Provider, ProviderPreference } from '../../../shared/api';
import { dataDir } from '../../../app/data-dir';
import { defaultJacobianK, type JacobianSessions } from '../../worker/jacobian-operator';
import { modelContentHash } from '../../worker/model-hash';
import { BasisCache, type BasisCacheKey, type CacheLookup } from './basis-store';
import { fromPayload } from './wire-tensors';
import { asUserError } from './user-errors';
import { resolveMask, type MaskRequest } from './mask';

export interface BasisRequest {
  k: number;
  method: BasisMethod;
  tol?: number;
  basisSeed: number;
  h: string;
  /** krylov warm start rows [j, ...x]. */
  warmStart?: Float32TensorPayload;
  /** A cached basis to reuse by id (e.g. an analysis's warm-started one), if it belongs to this request's point. */
  cacheId?: string;
  /** krylov: a cached basis (by id) whose directions start this one when this point is not cached (see wire.ts). */
  warmFromCacheId?: string;
  /** Masked directions: the basis of J·M (core/geometry/mask.ts); the mask's content hash joins the cache key. */
  mask?: MaskRequest;
  /** The job's device preference: the Jacobian graphs run where the forward does (absent: CPU). */
  provider?: ProviderPreference;
  /** The provider the forward actually runs on, when the job knows it: the graphs try it first. */
  forwardProvider?: Provider;
}

/** The prompt a text model's Jacobian is taken at. */
export interface BasisCondition {
  /** [1, L, D] */
  embedding: Tensor;
  /** sha256 of the embedding (PromptEmbedding.hash). */
  hash: string;
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
  /** Masked bases: sha256 of the mask's effective weights on the latent grid. */
  maskHash?: string;
  /** What the Jacobian graphs ran on, and why earlier providers were skipped (computed bases only). */
  jacobianProvider?: Provider;
  jacobianFallbackReason?: string;
}

/**
 * Tangent columns per derived-graph call for a basis request: the block the method hands over (k + oversampling
 * for krylov, k for subspace) split into as few calls as the engine's K allows, and then into equal parts, so no
 * call computes zero-padded columns: krylov k = 8 hands over blocks of 14, which K = 8 ran as 8 + 8 (2 padded
 * columns, ≈ 12 % of the graph time) and K = 7 runs as 7 + 7.
 */
export function jacobianK(method: BasisMethod, k: number): number {
  const block = method === 'krylov' ? k + defaultOversampling(k) : k;
  const calls = Math.ceil(block / defaultJacobianK());
  return Math.max(1, Math.ceil(block / calls));
}

/** The basis cache under the data folder. */
export function basisCache(): BasisCache {
  return new BasisCache(join(dataDir(), 'basis'));
}

export function defaultTol(method: BasisMethod): number {
  return method === 'subspace' ? 1e-4 : 1e-3;
}

/**
 * The local basis of J at (x_t, timestep): loaded from the cache when an entry with the same key exists (and
 * verifies), else computed through the ORT operator and stored. Progress per iteration carries the residual.
 */
export async function localBasis(
  jacobians: JacobianSessions,
  model: ModelFolder,
  xt: Tensor,
  timestep: number,
  req: BasisRequest,
  signal?: AbortSignal,
  onProgress?: ProgressFn,
  /** Text models: the prompt J is taken at (its embedding, and the embedding's hash for the cache key). */
  condition?: BasisCondition,
): Promise<{ basis: LocalBasis; stats: BasisStats; lookup: CacheLookup }> {
  if (model.text && !condition) throw new InvalidArgumentError('a text-conditioned model needs the basis prompt (its embedding) for the Jacobian');
  if (!model.text && condition) throw new InvalidArgumentError(`"${model.name}" is an unconditional model: a prompt needs a text-conditioned model`);
  const modelHash = await modelContentHash(model);
  const tol = req.tol ?? defaultTol(req.method);
  onProgress?.({ fraction: 0, message: 'preparing Jacobian graphs' });
  const device = { ...(req.provider ? { provider: req.provider } : {}), ...(req.forwardProvider ? { forwardProvider: req.forwardProvider } : {}) };
  const op = await jacobians.operator({ model, h: req.h, K: jacobianK(req.method, req.k), ...device }, xt, timestep, signal, condition?.embedding);
  const key: BasisCacheKey = {
    modelHash,
    xtHash: tensorSha256({ dims: [1, ...model.unet.sampleDims], data: xt.data }),
    timestep,
    // The embedding's hash, not the text: it covers the tokenizer and text encoder, and equal prompts share it.
    prompt: condition?.hash ?? null,
    hTensor: op.hTensor,
    k: req.k,
    method: req.method,
    tol,
    seed: req.basisSeed,
  };
  let warm = req.warmStart ? fromPayload(req.warmStart, 'warmStart') : undefined;
  if (warm) {
    if (req.method !== 'krylov') throw new InvalidArgumentError('warmStart is supported by the krylov method only');
    if (warm.dims.length < 2 || sizeOf(warm.dims.slice(1)) !== sizeOf(model.unet.sampleDims)) {
      throw new InvalidArgumentError(`warmStart must be [j, ${model.unet.sampleDims.join(', ')}], got [${warm.dims.join(', ')}]`);
    }
    key.extra = { warmStart: tensorSha256(warm) };
  }
  const mask = req.mask ? await resolveMask(req.mask, model.unet.sampleDims) : undefined;
  if (mask) key.extra = { ...key.extra, mask: mask.hash };
  const cache = basisCache();
  // getById checks the point (model, x_t, t, h, k, method) but not `extra`, so it could hand an unmasked basis to a
  // masked request: a masked request is looked up by its full key only.
  if (req.cacheId && !mask) {
    // Offline browsing of an analysis: its warm-started bases are keyed by their warm start, which a later request
    // does not have; the id names the entry, and getById accepts it only for this model, x_t, timestep, h, k, method.
    const stored = await cache.getById(req.cacheId, { modelHash, xtHash: key.xtHash, timestep, hTensor: op.hTensor, k: req.k, method: req.method });
    if (stored) {
      onProgress?.({ fraction: 1, message: 'basis loaded from cache' });
      return { basis: stored, lookup: { hit: true, id: req.cacheId, basis: stored }, stats: statsOf(stored, timestep, op.hTensor, modelHash, true, req.cacheId) };
    }
  }
  if (!warm && req.warmFromCacheId && req.method === 'krylov') {
    // The editor's warm start from a neighbouring basis, used only when this point has no cold entry (that one is
    // the canonical result and costs nothing to load) and only from a basis of the same model and h.
    const cold = await cache.get(key);
    const neighbour = cold.hit ? null : await cache.getById(req.warmFromCacheId, { modelHash, hTensor: op.hTensor });
    if (neighbour && sizeOf(neighbour.V.dims.slice(1)) === sizeOf(model.unet.sampleDims)) {
      // All of the neighbour's Ritz vectors where its entry has them (krylov.ts warmRows): one Krylov iteration
      // fewer than from V alone, one schedule step away on the bundled model (196 → 112 products instead of 140).
      warm = neighbour.warmRows ?? neighbour.V;
      key.extra = { ...key.extra, warmStart: tensorSha256(warm) };
    }
  }
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
        ...(mask ? { mask: mask.mask } : {}),
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
  const stats = statsOf(b, timestep, op.hTensor, modelHash, result.lookup.hit, result.lookup.id);
  return {
    basis: b,
    lookup: result.lookup,
    stats: {
      ...stats,
      ...(mask ? { maskHash: mask.hash } : {}),
      ...(warm ? { warmStarted: true } : {}),
      // op.provider is set once a graph ran: a cache hit ran none and reports no provider.
      ...(op.provider && !result.lookup.hit ? { jacobianProvider: op.provider.provider } : {}),
      ...(op.provider?.fallbackReason && !result.lookup.hit ? { jacobianFallbackReason: op.provider.fallbackReason } : {}),
    },
  };
}

function statsOf(b: LocalBasis, timestep: number, hTensor: string, modelHash: string, cacheHit: boolean, cacheId: string): BasisStats {
  return {
    timestep,
    method: b.method,
    iterations: b.iterations,
    converged: b.converged,
    jacobianProducts: b.jacobianProducts,
    residuals: b.residuals,
    seconds: b.seconds,
    tol: b.tol,
    seed: b.seed,
    hTensor,
    modelHash,
    cacheHit,
    cacheId,
  };
}
