/**
 * The contract of the local-basis computation: the JacobianOperator it is built on (DEVELOPERS.md), the
 * options both methods share, and the result every consumer (cache, CLI, gallery, transport) reads.
 */
import type { Tensor } from '../tensor';

/** J = ∂h/∂x_t at a fixed (x_t, t[, prompt]); implemented by the engine with the derived graphs. */
export interface JacobianOperator {
  readonly xDims: readonly number[];
  readonly hDims: readonly number[];
  jvp(v: Tensor /* [K, ...x] */, signal?: AbortSignal): Promise<Tensor /* [K, ...h] */>;
  vjp(u: Tensor /* [K, ...h] */, signal?: AbortSignal): Promise<Tensor /* [K, ...x] */>;
  /** One fused pass: J·v and Jᵀ·J·v. */
  pullback(v: Tensor, signal?: AbortSignal): Promise<{ jv: Tensor; jtjv: Tensor }>;
}

export type BasisMethod = 'subspace' | 'krylov';

/**
 * Jacobian products, counted per vector (column), not per call. A fused pullback column computes one J·v and
 * one Jᵀ·(J·v), so it adds 1 to `jvp` and 1 to `vjp` (2 to `total`): this keeps the count comparable with the
 * authors' separate JVP + VJP loop and with any operator that has no fused graph.
 */
export interface JacobianProductCount {
  jvp: number;
  vjp: number;
  total: number;
}

export interface BasisProgress {
  /** 0..1, monotone; an estimate suitable for an ETA (see each method for how it is estimated). */
  fraction: number;
  message: string;
  iteration: number;
  /** The convergence measure of this iteration: max relative residual (krylov) or max elementwise change (subspace). */
  residual: number;
  jacobianProducts: JacobianProductCount;
}

export interface BasisOptionsBase {
  /** Number of directions wanted. */
  k: number;
  /** Seed of the Gaussian start block (and refills); same inputs + seed → same basis bit for bit. */
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (p: BasisProgress) => void;
  /** Largest batch handed to the operator in one call (memory bound of the engine); default: whole block. */
  maxBatch?: number;
}

export interface SubspaceOptions extends BasisOptionsBase {
  /** Elementwise change of V below which iteration stops (authors: 1e-4). */
  tol?: number;
  /** Authors: 10. */
  minIterations?: number;
  /** Authors: 50. */
  maxIterations?: number;
}

export interface KrylovOptions extends BasisOptionsBase {
  /** Stop once every wanted vector has ‖JᵀJv − σ²v‖/σ² ≤ tol. Default 1e-3. */
  tol?: number;
  /** Extra block columns beyond k. Default ceil(k/2) + 2. */
  oversampling?: number;
  /** Maximum number of block pullbacks (iterations). Default 40. */
  maxIterations?: number;
  /** Largest Krylov basis kept before a thick restart onto the best Ritz vectors. Default min(n, 10·block, max(256, 2·block)). */
  maxBasis?: number;
  /** Warm start: rows [j, ...x] (e.g. the basis at a nearby t or sample) used as the first start vectors. */
  warmStart?: Tensor;
}

export interface LocalBasis {
  /** [k, ...x], rows unit-norm: the right singular vectors (local latent basis). */
  V: Tensor;
  /** [k], descending. */
  S: Tensor;
  /** [k, ...h]: J v_i / σ_i (local tangent basis in h-space). */
  U: Tensor;
  method: BasisMethod;
  iterations: number;
  converged: boolean;
  jacobianProducts: JacobianProductCount;
  /** ‖JᵀJv_i − σ_i²v_i‖ / σ_i² per returned vector. */
  residuals: number[];
  seconds: number;
  tol: number;
  seed: number;
  /**
   * krylov: [k + p, ...x], the top k + p Ritz vectors of the final Krylov space (the first k are V, before sign
   * fixing). A neighbouring basis (the next timestep, a nearby sample) converges in fewer products from all of them
   * than from V alone: σ_k and σ_{k+1} are close, and the rows after k hold what V is still mixed with.
   */
  warmRows?: Tensor;
}
