/**
 * The authors' subspace iteration (`local_encoder_pullback_xt`), kept exact for comparison and reproduction:
 *   V ← QR(Gaussian n×k); repeat { W = Jᵀ(J V); V ← right singular vectors of the k×n matrix W;
 *   σ = sqrt(singular values of W) } until V changes by < tol elementwise after ≥ minIterations, ≤ maxIterations.
 *
 * Differences that do not change the algorithm: J V and Jᵀ(J V) come from the fused pullback (same k JVP + k
 * VJP columns); the SVD is taken of the tall n×k matrix Wᵀ with ml-matrix (its left singular vectors are W's
 * right singular vectors); and before measuring the change each new v_i is sign-aligned with the previous v_i,
 * because an SVD may return −v_i and the elementwise test would then never pass for reasons unrelated to
 * convergence. One final pullback of the converged V gives U = J v/σ and honest residuals (counted).
 */
import { GeometryError } from './errors';
import { finishBasis, logProgress, relativeResiduals } from './finish';
import { dot, fromColumns, gaussianRows, orthonormalize, row, tallSvd, toColumns } from './linalg';
import { CountingOperator } from './operator-calls';
import { GaussianRng } from '../diffusion/rng';
import type { JacobianOperator, LocalBasis, SubspaceOptions } from './types';

export async function subspaceBasis(op: JacobianOperator, options: SubspaceOptions): Promise<LocalBasis> {
  const started = performance.now();
  const { k, seed = 0, signal, onProgress } = options;
  const tol = options.tol ?? 1e-4;
  const minIterations = options.minIterations ?? 10;
  const maxIterations = options.maxIterations ?? 50;
  const calls = new CountingOperator(op, signal, options.maxBatch ?? Number.POSITIVE_INFINITY);
  const n = calls.n;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new GeometryError('bad-option', `k must be an integer in [1, ${n}], got ${k}`);
  if (!(tol > 0)) throw new GeometryError('bad-option', `tol must be > 0, got ${tol}`);
  if (!Number.isSafeInteger(seed)) throw new GeometryError('bad-option', `seed must be a safe integer, got ${seed}`);
  if (!(maxIterations >= 1 && minIterations >= 0)) throw new GeometryError('bad-option', 'iteration limits must be ≥ 1');

  const rng = new GaussianRng(seed);
  let V = orthonormalize(gaussianRows(k, n, rng), [], rng);
  let sigma: number[] = new Array<number>(k).fill(0);
  let iterations = 0;
  let converged = false;
  let firstChange = Number.NaN;
  let fraction = 0;
  while (iterations < maxIterations) {
    iterations++;
    const { jtjv } = await calls.pullback(V);
    const svd = tallSvd(toColumns(jtjv));
    const next = fromColumns(svd.left, k);
    let change = 0;
    for (let i = 0; i < k; i++) {
      const a = row(next, i);
      const b = row(V, i);
      if (dot(a, b) < 0) for (let t = 0; t < n; t++) a[t] = -a[t];
      for (let t = 0; t < n; t++) change = Math.max(change, Math.abs(a[t] - b[t]));
    }
    sigma = svd.values.slice(0, k).map((s) => Math.sqrt(Math.max(0, s)));
    V = next;
    if (iterations === 1) firstChange = change;
    converged = iterations >= minIterations && change < tol;
    // ETA: at least the iteration share of the cap, and the log-distance of the change to tol, but never
    // "done" before minIterations.
    const est = Math.min(iterations / Math.max(1, minIterations), logProgress(firstChange, change, tol));
    fraction = Math.max(fraction, converged ? 1 : Math.min(0.99, Math.max(iterations / maxIterations, est)));
    onProgress?.({
      fraction,
      message: `subspace iteration ${iterations}: max change ${change.toExponential(2)}`,
      iteration: iterations,
      residual: change,
      jacobianProducts: calls.snapshot(),
    });
    if (converged) break;
  }
  const last = await calls.pullback(V);
  const residuals = relativeResiduals(V, last.jtjv, sigma.map((s) => s * s));
  const out = finishBasis(V, last.jv, sigma, op.xDims, op.hDims);
  return {
    ...out,
    method: 'subspace',
    iterations,
    converged,
    jacobianProducts: calls.snapshot(),
    residuals,
    seconds: (performance.now() - started) / 1000,
    tol,
    seed,
  };
}
