/**
 * Means of k-dimensional subspaces (method.md §5, issue 13 item 4): the chordal mean and the Grassmannian Karcher
 * (Fréchet) mean, with each sample's geodesic distance to the mean. Works on rows of any length, so the same code
 * averages local bases in x (rows of V) or in h (rows of U).
 *
 * - Chordal (extrinsic) mean: the leading right singular vectors of the stacked bases (transport.ts globalBasis),
 *   i.e. the top eigenspace of Σ_s P_s, the mean of the projectors. Cheap, closed form.
 * - Karcher mean: argmin_X Σ_s d(X, Y_s)² with d the geodesic distance ‖θ‖₂ (principal angles). Riemannian
 *   gradient descent with unit step, started at the chordal mean: Δ = mean_s Log_X(Y_s); X ← Exp_X(Δ); stop once
 *   ‖Δ‖_F < tol (Δ is minus half the gradient of the mean squared distance, so ‖Δ‖ = 0 exactly at a critical point).
 *   For samples within a geodesic ball of radius < π/4 the mean is unique and the iteration converges (Karcher 1977,
 *   Afsari 2011); `converged` is false, not an error, when it has not reached tol in maxIterations.
 *
 * Log and Exp (Absil, Mahony & Sepulchre 2004; Edelman, Arias & Smith 1998) in column form, X and Y orthonormal
 * n × k: SVD XᵀY = A cos Θ Bᵀ; Z = Y B − X A cos Θ has orthogonal columns of norms sin θ_i, so
 *   Log_X(Y) = Σ_i (θ_i / sin θ_i) z_i a_iᵀ,  θ_i = atan2(‖z_i‖, cos θ_i).
 * This form needs no (XᵀY)⁻¹ (the textbook formula breaks down at an angle of π/2) and keeps full relative accuracy
 * for small angles (θ/sin θ → 1, and z is formed by projection, not from cos θ). With the thin SVD Δ = U Σ Wᵀ,
 *   Exp_X(Δ) = X W cos Σ Wᵀ + U sin Σ Wᵀ, re-orthonormalised against rounding drift.
 * The thin SVD of the n × k tangent is taken as Gram–Schmidt Δ = Q R and an SVD of the small R, so no n-sized
 * decomposition runs and small singular values are not squared away (as a Gram-matrix eigensolve would).
 *
 * The mean is a subspace; its rows are put in a meaningful order for editing: the principal directions, within the
 * mean subspace, of the stacked (optionally σ-weighted) sample bases, with their singular values as S (for the
 * chordal mean this is exactly globalBasis's order and S).
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import type { Tensor } from '../tensor';
import { sizeOf } from '../tensor';
import { GeometryError } from './errors';
import type { Rows } from './linalg';
import { combine, concatRows, crossGram, gramSchmidtRows, norm, projectOut, row, rowsFromTensor } from './linalg';
import { grassmannDistance } from './metrics';
import { applySignConvention } from './sign';
import { globalBasis, type GlobalWeighting } from './transport';

export type SubspaceMeanKind = 'chordal' | 'karcher';

export interface SubspaceSample {
  /** [k_s, ...dims]: rows spanning the sample's subspace (V in x, or U in h). */
  rows: Tensor;
  /** [k_s] singular values, for 'sigma' weighting. */
  S?: Tensor;
}

export interface SubspaceMeanOptions {
  /** Rows of the result. Karcher: at most the samples' common dimension (the mean of k-dim subspaces is k-dim). */
  k: number;
  mean?: SubspaceMeanKind;
  /** 'sigma' weights each sample direction by its σ: in the chordal mean and in the ordering of the result's rows. */
  weighting?: GlobalWeighting;
  /** Karcher: stop once ‖mean Log_X(Y_s)‖_F (radians) is below this. Default 1e-9. */
  tol?: number;
  /** Karcher: default 200. */
  maxIterations?: number;
}

export interface SubspaceMean {
  /** [k, ...dims] orthonormal rows, ordered by S, sign convention applied. */
  basis: Tensor;
  /** [k] singular values of the stacked (weighted) sample bases within the mean subspace, descending. */
  S: Tensor;
  /** Per sample: geodesic distance ‖θ‖₂ between the result's span and the sample's span (min(k, k_s) angles). */
  distances: number[];
  /** Karcher only: descent iterations, whether ‖Δ‖ < tol was reached, and the final ‖Δ‖_F. */
  karcher?: { iterations: number; converged: boolean; tangentNorm: number };
}

/** Orthonormal rows spanning a sample; refuses rank-deficient input (not a k_s-dimensional subspace). */
function orthonormalSample(r: Rows, what: string): Rows {
  const q = gramSchmidtRows(r, 2);
  if (q.dependent.length > 0) throw new GeometryError('bad-shape', `${what}: its rows are linearly dependent (not a ${r.count}-dimensional subspace)`);
  return q.q;
}

function toMatrix(rowMajor: Float64Array, rowsCount: number, cols: number): Matrix {
  const m = new Matrix(rowsCount, cols);
  for (let i = 0; i < rowsCount; i++) for (let j = 0; j < cols; j++) m.set(i, j, rowMajor[i * cols + j]);
  return m;
}

/**
 * Log_X(Y) as k rows (a tangent at X: every row ⟂ span X, expressed in X's orthonormalised rows), and the principal
 * angles θ (unordered). Any bases of the two subspaces will do.
 */
export function grassmannLog(X: Rows, Y: Rows): { tangent: Rows; angles: number[] } {
  if (X.count !== Y.count || X.n !== Y.n) throw new GeometryError('bad-shape', 'log map needs two subspaces of the same dimension and length');
  return logMap(orthonormalSample(X, 'the base point'), orthonormalSample(Y, 'the target'));
}

/** grassmannLog for orthonormal X and Y (the Karcher loop's own iterates and samples). */
function logMap(X: Rows, Y: Rows): { tangent: Rows; angles: number[] } {
  const k = X.count;
  const svd = new SingularValueDecomposition(crossGram(X, Y), { autoTranspose: true });
  const A = svd.leftSingularVectors;
  const B = svd.rightSingularVectors;
  const cos = svd.diagonal;
  const Z = combine(Y, B);
  const XAc = combine(X, A.clone().mulRowVector(cos));
  for (let t = 0; t < Z.data.length; t++) Z.data[t] -= XAc.data[t];
  // Second projection against X: Z must be a tangent at X to working precision, whatever XᵀY's rounding was.
  projectOut(Z, [X]);
  const angles: number[] = [];
  for (let i = 0; i < k; i++) {
    const zi = row(Z, i);
    const s = norm(zi);
    const theta = Math.atan2(s, Math.max(0, cos[i]));
    angles.push(theta);
    const ratio = s > 0 ? theta / s : 1;
    for (let t = 0; t < zi.length; t++) zi[t] *= ratio;
  }
  return { tangent: combine(Z, A.transpose()), angles };
}

/** Exp_X(Δ) as k orthonormal rows; X orthonormal rows, Δ a tangent at X in the same row basis (as grassmannLog returns). */
export function grassmannExp(X: Rows, tangent: Rows): Rows {
  if (X.count !== tangent.count || X.n !== tangent.n) throw new GeometryError('bad-shape', 'exp map needs a tangent of the subspace’s shape');
  const k = X.count;
  const qr = gramSchmidtRows(tangent, 2);
  const svd = new SingularValueDecomposition(toMatrix(qr.r, k, k), { autoTranspose: true });
  const sigma = svd.diagonal;
  const W = svd.rightSingularVectors;
  const U = combine(qr.q, svd.leftSingularVectors);
  const moved = combine(X, W.clone().mulRowVector(sigma.map(Math.cos)));
  const along = combine(U, Matrix.diag(sigma.map(Math.sin)));
  for (let t = 0; t < moved.data.length; t++) moved.data[t] += along.data[t];
  const rotated = combine(moved, W.transpose());
  const out = gramSchmidtRows(rotated, 2);
  if (out.dependent.length > 0) throw new GeometryError('operator-output', 'exp map lost rank (non-finite tangent?)');
  return out.q;
}

/** The Karcher mean of equal-dimension orthonormal samples, from `start`. */
function karcherIterate(samples: readonly Rows[], start: Rows, tol: number, maxIterations: number): { X: Rows; iterations: number; converged: boolean; tangentNorm: number } {
  let X = start;
  let tangentNorm = Number.POSITIVE_INFINITY;
  for (let iterations = 0; ; iterations++) {
    const mean: Rows = { count: X.count, n: X.n, data: new Float64Array(X.count * X.n) };
    for (const Y of samples) {
      const { tangent } = logMap(X, Y);
      for (let t = 0; t < mean.data.length; t++) mean.data[t] += tangent.data[t] / samples.length;
    }
    tangentNorm = norm(mean.data);
    if (tangentNorm < tol) return { X, iterations, converged: true, tangentNorm };
    if (iterations >= maxIterations || !Number.isFinite(tangentNorm)) return { X, iterations, converged: false, tangentNorm };
    X = grassmannExp(X, mean);
  }
}

/**
 * Orthonormal rows of span(X) in the order of the principal directions of `stacked` projected onto it, and their
 * singular values: C = stacked·Xᵀ (coordinates), SVD C = P Σ Rᵀ, rows Rᵀ·X.
 */
function orderWithin(X: Rows, stacked: Rows): { rows: Rows; S: number[] } {
  // count ≥ k: every sample has at least k rows.
  const C = crossGram(stacked, X); // count × k
  const svd = new SingularValueDecomposition(C, { computeLeftSingularVectors: false, computeRightSingularVectors: true });
  const rows = combine(X, svd.rightSingularVectors);
  return { rows, S: svd.diagonal };
}

function stackWeighted(samples: readonly SubspaceSample[], n: number, weighting: GlobalWeighting): Rows {
  const blocks = samples.map((s, i) => {
    const r = rowsFromTensor(s.rows, n);
    if (weighting === 'sigma') {
      if (!s.S || s.S.data.length !== r.count) throw new GeometryError('bad-option', `'sigma' weighting needs S for every sample (sample ${i} has none)`);
      for (let j = 0; j < r.count; j++) {
        const rj = row(r, j);
        for (let t = 0; t < n; t++) rj[t] *= s.S.data[j];
      }
    }
    return r;
  });
  return concatRows(blocks);
}

export function subspaceMean(samples: readonly SubspaceSample[], options: SubspaceMeanOptions): SubspaceMean {
  if (samples.length === 0) throw new GeometryError('bad-option', 'a mean needs at least one sample');
  const dims = samples[0].rows.dims.slice(1);
  const n = sizeOf(dims);
  for (const [i, s] of samples.entries()) {
    if (sizeOf(s.rows.dims.slice(1)) !== n) throw new GeometryError('bad-shape', `sample ${i} has rows of ${sizeOf(s.rows.dims.slice(1))} values, sample 0 has ${n}`);
  }
  const kind = options.mean ?? 'chordal';
  const weighting = options.weighting ?? 'uniform';
  const k = options.k;
  if (kind === 'chordal') {
    const g = globalBasis(
      samples.map((s) => ({ V: s.rows, ...(s.S ? { S: s.S } : {}) })),
      { k, weighting },
    );
    return { basis: g.V, S: g.S, distances: samples.map((s) => grassmannDistance(g.V, s.rows)) };
  }
  if (kind !== 'karcher') throw new GeometryError('bad-option', `unknown mean ${String(kind)}`);
  const ks = samples[0].rows.dims[0];
  if (samples.some((s) => s.rows.dims[0] !== ks)) throw new GeometryError('bad-option', 'a Karcher mean needs subspaces of one dimension (every sample the same k)');
  if (!Number.isInteger(k) || k < 1 || k > ks) throw new GeometryError('bad-option', `k must be an integer in [1, ${ks}] for a Karcher mean of ${ks}-dimensional subspaces, got ${k}`);
  const tol = options.tol ?? 1e-9;
  const maxIterations = options.maxIterations ?? 200;
  if (!(tol > 0)) throw new GeometryError('bad-option', `tol must be > 0, got ${tol}`);
  if (!(Number.isInteger(maxIterations) && maxIterations >= 0)) throw new GeometryError('bad-option', `maxIterations must be an integer ≥ 0, got ${maxIterations}`);
  const ortho = samples.map((s, i) => orthonormalSample(rowsFromTensor(s.rows, n), `sample ${i}`));
  // The chordal mean of the same subspaces: the extrinsic mean, close to the Karcher mean for clustered samples.
  const start = rowsFromTensor(globalBasis(ortho.map((r) => ({ V: { dims: [r.count, n], data: Float32Array.from(r.data) } })), { k: ks }).V, n);
  const startQ = gramSchmidtRows(start, 2).q;
  const it = karcherIterate(ortho, startQ, tol, maxIterations);
  const ordered = orderWithin(it.X, stackWeighted(samples, n, weighting));
  const top: Rows = { count: k, n, data: ordered.rows.data.slice(0, k * n) };
  applySignConvention(top);
  const basis: Tensor = { dims: [k, ...dims], data: Float32Array.from(top.data) };
  // Distances from the float64 mean (the float32 copy would add ~1e-7 of rounding to every angle).
  const exact = (r: Rows): Tensor & { data: Float32Array } => ({ dims: [r.count, n], data: Float32Array.from(r.data) });
  const distances =
    k === ks
      ? ortho.map((Y) => Math.hypot(...logMap(it.X, Y).angles))
      : samples.map((s) => grassmannDistance(exact(top), s.rows));
  return {
    basis,
    S: { dims: [k], data: Float32Array.from(ordered.S.slice(0, k)) },
    distances,
    karcher: { iterations: it.iterations, converged: it.converged, tangentNorm: it.tangentNorm },
  };
}
