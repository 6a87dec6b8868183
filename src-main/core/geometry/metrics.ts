/**
 * Comparing subspaces: principal angles and the Grassmannian geodesic distance ‖θ‖₂ (method.md §6.3).
 *
 * Angles come from both cosines and sines (Knyazev & Argentati 2002): cos θ_i are the singular values of
 * Q_Aᵀ Q_B, sin θ_i those of Q_B − Q_A(Q_Aᵀ Q_B). acos alone loses all accuracy for small angles
 * (cos θ = 1 − θ²/2 rounds θ < 1e-8 to 0 and is only ~1e-8-accurate above that), and the tests that compare
 * computed with exact bases need angles around 1e-4 reliably, so small angles use asin of the sine.
 */
import type { Tensor } from '../tensor';
import { sizeOf } from '../tensor';
import { GeometryError } from './errors';
import { combine, crossGram, gramSchmidtRows, orthonormalize, rowsFromTensor, smallSingularValues, tallSvd } from './linalg';
import type { Rows } from './linalg';
import { GaussianRng } from '../diffusion/rng';

/**
 * Orthonormal rows spanning the rows of t. Gram–Schmidt twice is exact to machine precision and fast; a block whose
 * rows are linearly dependent (not a k-dimensional subspace) goes through the seeded refill of orthonormalize.
 */
function orthonormalRows(t: Tensor): Rows {
  const n = sizeOf(t.dims.slice(1));
  const r = rowsFromTensor(t, n);
  const fast = gramSchmidtRows(r, 2);
  if (fast.dependent.length === 0) return fast.q;
  // The seed only matters here, where the caller passed something that is not a k-dimensional subspace anyway.
  return orthonormalize(r, [], new GaussianRng(1));
}

/** Principal angles (radians, ascending) between span(rows of a) and span(rows of b); min(ka, kb) of them. */
export function principalAngles(a: Tensor, b: Tensor): number[] {
  if (sizeOf(a.dims.slice(1)) !== sizeOf(b.dims.slice(1))) {
    throw new GeometryError('bad-shape', 'principal angles need vectors of the same length');
  }
  let qa = orthonormalRows(a);
  let qb = orthonormalRows(b);
  // The sine formula needs the smaller subspace as B.
  if (qb.count > qa.count) [qa, qb] = [qb, qa];
  const m = crossGram(qa, qb); // ka × kb
  const cos = tallSvd(m).values.slice(0, qb.count);
  const resid = combine(qa, m); // Q_A(Q_Aᵀ Q_B), as rows
  for (let i = 0; i < resid.data.length; i++) resid.data[i] = qb.data[i] - resid.data[i];
  // The sines are the singular values of the residual block, read off its small R factor (one Gram–Schmidt
  // pass is backward stable for R), so only k×k work reaches the SVD.
  const sin = smallSingularValues(gramSchmidtRows(resid, 1).r, qb.count, qb.count).slice(0, qb.count);
  // cos descending ↔ sin ascending: angle i is the i-th smallest.
  const angles: number[] = [];
  for (let i = 0; i < qb.count; i++) {
    const c = Math.min(1, Math.max(0, cos[i]));
    const s = Math.min(1, Math.max(0, sin[qb.count - 1 - i]));
    angles.push(c * c >= 0.5 ? Math.asin(s) : Math.acos(c));
  }
  return angles.sort((x, y) => x - y);
}

/** Geodesic distance on the Grassmannian: the 2-norm of the principal angles. */
export function grassmannDistance(a: Tensor, b: Tensor): number {
  return Math.hypot(...principalAngles(a, b));
}
