/**
 * Moving directions between samples (method.md §5).
 *
 * Parallel transport of an h-space direction u_A to sample B: project it onto B's tangent basis and map back
 * through B's local basis, v_B ∝ V_B (U_B u_A) (U_B as rows, so U_B u_A are the coordinates c_i = u_{B,i}·u_A).
 * For A = B the coordinates are e_i (U's rows are orthonormal for exact singular vectors), so u_{A,i} comes
 * back as v_{A,i}.
 *
 * An explicit x-space direction v (a global direction, shared by many samples) has no u_A: it is projected onto B's
 * local latent basis in x instead, v_B ∝ V_Bᵀ (V_B v) (V_B as rows, so V_B v are the coordinates c_i = v_{B,i}·v), and
 * `captured` = ‖V_B v‖ / ‖v‖ is the share of v that B's directions span (projectOntoLocalBasis).
 *
 * Global basis over samples: the leading right singular vectors of the stacked local bases M = [w_{s,i} v_{s,i}]
 * (rows). They are computed from the small Gram matrix M Mᵀ (K_total × K_total, K_total = Σ k_s) in float64:
 * M Mᵀ = Y Λ Yᵀ gives the right singular vectors Mᵀ y_j / √λ_j. That is exactly the SVD of M (singular
 * values √λ_j) while never forming an n × n or n × K_total decomposition, which for n = 3·64·64 and dozens of
 * samples would dominate the cost. Squaring only matters for directions with √λ below ~1e-8 of the top one,
 * far below anything a global basis would keep.
 */
import type { Tensor } from '../tensor';
import { sizeOf } from '../tensor';
import { GeometryError } from './errors';
import { combine, dot, gram, norm, row, rowsFromTensor, symmetricEigen } from './linalg';
import type { Rows } from './linalg';
import { Matrix } from 'ml-matrix';
import { applySignConvention } from './sign';

export interface TransportResult {
  /** [1, ...x], unit norm (zero if u_A is orthogonal to all of U_B). */
  v: Tensor;
  /** c_i = u_{B,i} · u_A: how much of u_A each of B's directions carries. */
  coefficients: number[];
  /** ‖U_B c‖ / ‖u_A‖ ∈ [0, 1]: the fraction of u_A that B's tangent basis captures. */
  captured: number;
}

/** Transport u_A (h-space, any dims with the same size as a row of U_B) to sample B's latent space. */
export function transportDirection(uA: Tensor, basisB: { V: Tensor; U: Tensor }): TransportResult {
  const m = sizeOf(basisB.U.dims.slice(1));
  const n = sizeOf(basisB.V.dims.slice(1));
  if (uA.data.length !== m) throw new GeometryError('bad-shape', `u_A has ${uA.data.length} values, U_B rows have ${m}`);
  const U = rowsFromTensor(basisB.U, m);
  const V = rowsFromTensor(basisB.V, n);
  if (U.count !== V.count) throw new GeometryError('bad-shape', 'U_B and V_B have different numbers of rows');
  const u = Float64Array.from(uA.data);
  const coefficients: number[] = [];
  for (let i = 0; i < U.count; i++) coefficients.push(dot(row(U, i), u));
  const c = new Matrix(coefficients.map((x) => [x]));
  const v = combine(V, c);
  const nv = norm(v.data);
  if (nv > 0) for (let t = 0; t < n; t++) v.data[t] /= nv;
  const projected = combine(U, c);
  const nu = norm(u);
  return {
    v: { dims: [1, ...basisB.V.dims.slice(1)], data: Float32Array.from(v.data) },
    coefficients,
    captured: nu > 0 ? norm(projected.data) / nu : 0,
  };
}

/**
 * Project an explicit x-space direction v onto sample B's local latent basis: c = V_B v, v_B = V_Bᵀ c / ‖V_Bᵀ c‖,
 * captured = ‖c‖ / ‖v‖ (V_B's rows are orthonormal, so ‖V_Bᵀ c‖ = ‖c‖). If v lies in B's span, v_B = v / ‖v‖ and
 * captured = 1. Zero-safe like transportDirection: v orthogonal to every row of V_B gives v_B = 0 and captured = 0
 * (the caller shows a 0 % share rather than failing); a zero v, which has no direction to keep, is a 'bad-option'
 * GeometryError. `v` may be [1, …x] or […x]: only its size must match a row of V_B.
 */
export function projectOntoLocalBasis(direction: Tensor, basisB: { V: Tensor }): TransportResult {
  const n = sizeOf(basisB.V.dims.slice(1));
  if (direction.data.length !== n) throw new GeometryError('bad-shape', `the direction has ${direction.data.length} values, rows of V_B have ${n}`);
  const V = rowsFromTensor(basisB.V, n);
  const v = Float64Array.from(direction.data);
  const nv = norm(v);
  if (!(nv > 0) || !Number.isFinite(nv)) throw new GeometryError('bad-option', 'the direction to project is zero (or not finite): it has no direction to keep');
  const coefficients: number[] = [];
  for (let i = 0; i < V.count; i++) coefficients.push(dot(row(V, i), v));
  const projected = combine(V, new Matrix(coefficients.map((x) => [x])));
  const np = norm(projected.data);
  if (np > 0) for (let t = 0; t < n; t++) projected.data[t] /= np;
  // ‖c‖ / ‖v‖ ≤ 1 for orthonormal rows; float32 rows are orthonormal to ~1e-7, which must not show as a share over 1.
  const captured = Math.min(1, norm(Float64Array.from(coefficients)) / nv);
  return { v: { dims: [1, ...basisB.V.dims.slice(1)], data: Float32Array.from(projected.data) }, coefficients, captured };
}

export type GlobalWeighting = 'uniform' | 'sigma';

export interface GlobalBasisOptions {
  k: number;
  /** 'sigma' weights each v_{s,i} by σ_{s,i} (directions that move h more count more). Default 'uniform'. */
  weighting?: GlobalWeighting;
}

export interface GlobalBasis {
  /** [k, ...x] orthonormal rows, sign convention applied. */
  V: Tensor;
  /** [k] singular values of the stacked matrix, descending (how shared each direction is). */
  S: Tensor;
}

export function globalBasis(bases: readonly { V: Tensor; S?: Tensor }[], options: GlobalBasisOptions): GlobalBasis {
  if (bases.length === 0) throw new GeometryError('bad-option', 'global basis needs at least one local basis');
  const xDims = bases[0].V.dims.slice(1);
  const n = sizeOf(xDims);
  const weighting = options.weighting ?? 'uniform';
  const blocks: Rows[] = [];
  for (const b of bases) {
    if (sizeOf(b.V.dims.slice(1)) !== n) throw new GeometryError('bad-shape', 'local bases live in different x spaces');
    const r = rowsFromTensor(b.V, n);
    if (weighting === 'sigma') {
      if (!b.S || b.S.data.length !== r.count) throw new GeometryError('bad-option', "'sigma' weighting needs S for every basis");
      for (let i = 0; i < r.count; i++) {
        const ri = row(r, i);
        for (let t = 0; t < n; t++) ri[t] *= b.S.data[i];
      }
    }
    blocks.push(r);
  }
  const total = blocks.reduce((a, r) => a + r.count, 0);
  const stacked: Rows = { count: total, n, data: new Float64Array(total * n) };
  let off = 0;
  for (const r of blocks) {
    stacked.data.set(r.data, off);
    off += r.data.length;
  }
  const k = options.k;
  if (!Number.isInteger(k) || k < 1 || k > Math.min(total, n)) {
    throw new GeometryError('bad-option', `k must be an integer in [1, ${Math.min(total, n)}], got ${k}`);
  }
  const eig = symmetricEigen(gram(stacked));
  const Y = eig.vectors.subMatrix(0, total - 1, 0, k - 1);
  const V = combine(stacked, Y);
  const S: number[] = [];
  for (let j = 0; j < k; j++) {
    const s = Math.sqrt(Math.max(0, eig.values[j]));
    S.push(s);
    // Normalise by the actual norm rather than √λ, so rounding in λ never yields non-unit rows.
    const vj = row(V, j);
    const nj = norm(vj);
    if (nj > 0) for (let t = 0; t < n; t++) vj[t] /= nj;
  }
  applySignConvention(V);
  return { V: { dims: [k, ...xDims], data: Float32Array.from(V.data) }, S: { dims: [k], data: Float32Array.from(S) } };
}
