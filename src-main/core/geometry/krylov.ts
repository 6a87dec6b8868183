/**
 * Block Krylov method with Rayleigh–Ritz for the top-k right singular vectors of J (the default method).
 *
 * A = JᵀJ is applied through the fused pullback, one block of b = k + p columns per iteration, and every
 * product is kept: Q (orthonormal basis of the Krylov space, float64), JQ and AQ = JᵀJQ. Rayleigh–Ritz uses
 * G = (JQ)ᵀ(JQ) = Qᵀ A Q, which is exactly symmetric positive semi-definite by construction; its eigenpairs
 * (θ, y) give Ritz vectors v = Q y with J v = (JQ) y and A v = (AQ) y for free, so residuals
 * ‖A v − θ v‖/θ and U = J v/σ need no extra Jacobian products.
 *
 * The next block is the Ritz residuals of the top b Ritz pairs, orthogonalised against Q twice and
 * QR-ed (linalg.orthonormalize). In exact arithmetic span{Q, residuals} equals the next block-Krylov space
 * span{Q, A Q_last}; the residual form keeps the new directions aimed at the wanted pairs and is the same code
 * as a thick restart. When the basis would exceed `maxBasis`, it is compressed onto its best Ritz vectors
 * (whose J- and A-images are again known combinations, so a restart costs no products).
 *
 * Why fewer products than subspace iteration: subspace iteration keeps only the last block, so its error
 * shrinks like (σ_{k+1}/σ_k)^{2i}; the Krylov space contains Chebyshev-like polynomials of A of degree i and
 * converges roughly like exp(−2i·sqrt(gap)), and the p extra columns make the relevant gap σ_k vs σ_{k+p+1}.
 */
import { Matrix } from 'ml-matrix';
import { GeometryError } from './errors';
import { finishBasis, logProgress, relativeResiduals } from './finish';
import type { Rows } from './linalg';
import { combine, crossGram, gaussianRows, gram, orthonormalize, row, rows, rowsFromTensor, rowsToTensor, sliceRows, symmetricEigen } from './linalg';
import { sizeOf } from '../tensor';
import { CountingOperator } from './operator-calls';
import { GaussianRng } from '../diffusion/rng';
import type { JacobianOperator, KrylovOptions, LocalBasis } from './types';

export function defaultOversampling(k: number): number {
  return Math.ceil(k / 2) + 2;
}

export async function krylovBasis(op: JacobianOperator, options: KrylovOptions): Promise<LocalBasis> {
  const started = performance.now();
  const { k, seed = 0, signal, onProgress } = options;
  const tol = options.tol ?? 1e-3;
  const maxIterations = options.maxIterations ?? 40;
  const calls = new CountingOperator(op, signal, options.maxBatch ?? Number.POSITIVE_INFINITY);
  const n = calls.n;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new GeometryError('bad-option', `k must be an integer in [1, ${n}], got ${k}`);
  if (!(tol > 0)) throw new GeometryError('bad-option', `tol must be > 0, got ${tol}`);
  if (!Number.isSafeInteger(seed)) throw new GeometryError('bad-option', `seed must be a safe integer, got ${seed}`);
  if (!(maxIterations >= 1)) throw new GeometryError('bad-option', 'maxIterations must be ≥ 1');
  const p = options.oversampling ?? defaultOversampling(k);
  if (!Number.isInteger(p) || p < 0) throw new GeometryError('bad-option', `oversampling must be an integer ≥ 0, got ${p}`);
  const b = Math.min(n, k + p);
  // Columns per operator call: a block narrower than a multiple of it costs as much as the multiple.
  const granularity = Number.isFinite(options.maxBatch) && options.maxBatch! >= 1 ? Math.floor(options.maxBatch!) : 1;
  // Memory is ≈ 8·maxBasis·(2n + m) bytes (Q, JᵀJQ and JQ in float64); 10 blocks, capped at 256 vectors unless
  // the block itself is larger, keeps k = 8 at ~64 MB and k = 50 at ~120 MB for a 64×64 pixel model.
  const maxBasis = Math.min(n, Math.max(options.maxBasis ?? Math.min(10 * b, 256), 2 * b));

  const rng = new GaussianRng(seed);
  const start = gaussianRows(b, n, rng);
  if (options.warmStart) {
    if (sizeOf(options.warmStart.dims.slice(1)) !== n) {
      throw new GeometryError('bad-shape', `warm start rows must have ${n} values each`);
    }
    const warm = rowsFromTensor(options.warmStart, n);
    // Warm vectors replace the first Gaussian rows; the rest stay random so the block still explores.
    start.data.set(warm.data.subarray(0, Math.min(warm.count, b) * n));
  }
  let next: Rows = orthonormalize(start, [], rng);

  let Q: Rows[] = [];
  let JQ: Rows[] = [];
  let AQ: Rows[] = [];
  let G: Matrix = new Matrix(0, 0);
  let iterations = 0;
  let converged = false;
  let firstRes = Number.NaN;
  let fraction = 0;
  // J·v of the Ritz vectors is only needed at the end: keep the coefficients and the JQ they apply to.
  let ritz: { v: Rows; Y: Matrix; JQall: readonly Rows[]; theta: number[]; residuals: number[] } | null = null;

  while (iterations < maxIterations) {
    iterations++;
    const { jv, jtjv } = await calls.pullback(next);
    Q.push(next);
    JQ.push(jv);
    AQ.push(jtjv);
    G = extendGram(G, JQ.slice(0, -1), jv);

    const s = G.rows;
    const eig = symmetricEigen(G);
    const wanted = Math.min(s, b);
    // The blocks as lists, not concatenated: combine and the projections read them in place.
    const Qall = [...Q];
    const AQall = [...AQ];
    const JQall = [...JQ];
    const Y = eig.vectors.subMatrix(0, s - 1, 0, wanted - 1);
    const v = combine(Qall, Y);
    const av = combine(AQall, Y);
    const theta = eig.values.slice(0, wanted);
    const residuals = relativeResiduals(v, av, theta);
    ritz = { v, Y, JQall, theta, residuals };
    const worst = Math.max(...residuals.slice(0, k));
    if (iterations === 1) firstRes = worst;
    converged = worst <= tol;
    fraction = Math.max(fraction, converged ? 1 : Math.min(0.99, Math.max(iterations / maxIterations, logProgress(firstRes, worst, tol))));
    onProgress?.({
      fraction,
      message: `krylov iteration ${iterations}: max residual ${worst.toExponential(2)} (basis ${s})`,
      iteration: iterations,
      residual: worst,
      jacobianProducts: calls.snapshot(),
    });
    // s === n: the Krylov space is all of X, so the Ritz pairs are exact up to rounding; nothing left to add.
    if (converged || iterations >= maxIterations || s >= n) break;

    // Next block from the Ritz residuals A v − θ v of the pairs that still need them (nextBlockPairs).
    const pairs = nextBlockPairs(residuals, k, tol, granularity);
    const resid = rows(pairs.length, n);
    pairs.forEach((pair, i) => {
      const ri = row(resid, i);
      ri.set(row(av, pair));
      const vi = row(v, pair);
      for (let t = 0; t < n; t++) ri[t] -= theta[pair] * vi[t];
    });
    const width = Math.min(pairs.length, n - s);
    if (s + width > maxBasis) {
      const keep = Math.min(s, Math.max(b, Math.floor(maxBasis / 2)));
      const Yk = eig.vectors.subMatrix(0, s - 1, 0, keep - 1);
      Q = [combine(Qall, Yk)];
      JQ = [combine(JQall, Yk)];
      AQ = [combine(AQall, Yk)];
      G = gram(JQ[0]);
    }
    const basisSize = Q.reduce((sum, block) => sum + block.count, 0);
    const room = Math.min(width, n - basisSize);
    next = orthonormalize(sliceRows(resid, 0, room), Q, rng);
  }

  if (!ritz) throw new GeometryError('bad-option', 'no iteration ran');
  const sigma = ritz.theta.slice(0, k).map((t) => Math.sqrt(Math.max(0, t)));
  const V = sliceRows(ritz.v, 0, k);
  const jv = combine(ritz.JQall, ritz.Y.subMatrix(0, ritz.Y.rows - 1, 0, k - 1));
  const out = finishBasis(V, jv, sigma, op.xDims, op.hDims);
  return {
    ...out,
    method: 'krylov',
    iterations,
    converged,
    jacobianProducts: calls.snapshot(),
    residuals: ritz.residuals.slice(0, k),
    seconds: (performance.now() - started) / 1000,
    tol,
    seed,
    warmRows: rowsToTensor(ritz.v, op.xDims),
  };
}

/**
 * Which Ritz pairs' residuals make the next block (ascending pair indices).
 *
 * Every one of the top b pairs while most wanted pairs are still far off. Once some of the k wanted pairs have
 * converged (residual ≤ tol), their residuals add little (they are tiny and their directions are already in the
 * space), so the block narrows to the open wanted pairs plus the first oversampled one (the pair whose nearness to
 * the k-th slows it down), rounded up to whole operator calls (`granularity` columns each) and filled with the
 * next oversampled pairs, then the converged ones. A converged pair that a narrower block let slip is still checked,
 * like every wanted pair, before the loop ends.
 *
 * Measured on the bundled model (t = 595 and 895, seeds 0–2, 7 columns a call): k = 8 cold 168–196 → 154–168
 * products, warm one step away 112 → 98 (the last iteration has few open pairs and costs one call instead of two);
 * k = 16 cold 312 → 262. Keeping half the oversampled pairs instead of one saved less (k = 8 cold 154–182).
 */
export function nextBlockPairs(residuals: readonly number[], k: number, tol: number, granularity: number): number[] {
  const b = residuals.length;
  const wanted = Math.min(k, b);
  const open: number[] = [];
  const converged: number[] = [];
  for (let i = 0; i < wanted; i++) (residuals[i] > tol ? open : converged).push(i);
  const oversampled = Array.from({ length: b - wanted }, (_, j) => wanted + j);
  const needed = Math.min(b, open.length + Math.min(1, b - wanted));
  const width = Math.min(b, Math.ceil(needed / granularity) * granularity);
  return [...open, ...oversampled, ...converged].slice(0, width).sort((x, y) => x - y);
}

/** [[G, Cᵀ], [C, D]] with C = newᵀ·old cross products and D = Gram of the new block, computed only for new columns. */
function extendGram(G: Matrix, old: readonly Rows[], added: Rows): Matrix {
  const s0 = G.rows;
  const s = s0 + added.count;
  const out = new Matrix(s, s);
  for (let i = 0; i < s0; i++) for (let j = 0; j < s0; j++) out.set(i, j, G.get(i, j));
  if (s0 > 0) {
    const C = crossGram(old, added);
    for (let i = 0; i < s0; i++)
      for (let j = 0; j < added.count; j++) {
        out.set(i, s0 + j, C.get(i, j));
        out.set(s0 + j, i, C.get(i, j));
      }
  }
  const D = gram(added);
  for (let i = 0; i < added.count; i++) for (let j = 0; j < added.count; j++) out.set(s0 + i, s0 + j, D.get(i, j));
  return out;
}
