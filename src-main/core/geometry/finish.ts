/**
 * Shared tail of both basis methods: residuals, sign convention and conversion of the float64 working blocks
 * into the float32 result tensors.
 */
import type { Tensor } from '../tensor';
import type { Rows } from './linalg';
import { norm, normalizeRowsInPlace, row } from './linalg';
import { applySignConvention } from './sign';

/**
 * ‖a_i − θ_i v_i‖ / θ_i for each row (a = JᵀJ v). For a null direction (θ_i ≤ 1e-10·θ_max, J rank-deficient)
 * dividing by θ_i would make a perfectly good null vector look unconverged forever, so its residual is taken
 * relative to θ_max instead, i.e. "A v is zero at the operator's scale".
 */
export function relativeResiduals(v: Rows, av: Rows, theta: readonly number[], count = v.count): number[] {
  const out: number[] = [];
  const tmp = new Float64Array(v.n);
  const thetaMax = Math.max(0, ...theta.slice(0, count));
  for (let i = 0; i < count; i++) {
    const vi = row(v, i);
    const ai = row(av, i);
    for (let t = 0; t < v.n; t++) tmp[t] = ai[t] - theta[i] * vi[t];
    const r = norm(tmp);
    const scale = Math.max(theta[i], 1e-10 * thetaMax);
    out.push(scale > 0 ? r / scale : r === 0 ? 0 : Number.POSITIVE_INFINITY);
  }
  return out;
}

export interface FinishedBasis {
  V: Tensor;
  S: Tensor;
  U: Tensor;
}

/**
 * v: k orthonormal rows; jv: J·v for the same rows; sigma: their singular values (descending).
 * Returns V unit-norm rows, U = Jv/σ, both with the sign convention applied.
 */
export function finishBasis(
  v: Rows,
  jv: Rows,
  sigma: readonly number[],
  xDims: readonly number[],
  hDims: readonly number[],
): FinishedBasis {
  const V = { count: v.count, n: v.n, data: v.data.slice() };
  const U = { count: jv.count, n: jv.n, data: jv.data.slice() };
  normalizeRowsInPlace(V);
  for (let i = 0; i < U.count; i++) {
    const ui = row(U, i);
    const s = sigma[i];
    for (let t = 0; t < ui.length; t++) ui[t] = s > 0 ? ui[t] / s : 0;
  }
  applySignConvention(V, [U]);
  return {
    V: { dims: [V.count, ...xDims], data: Float32Array.from(V.data) },
    S: { dims: [sigma.length], data: Float32Array.from(sigma) },
    U: { dims: [U.count, ...hDims], data: Float32Array.from(U.data) },
  };
}

/** A fraction for ETAs that tracks geometric convergence: how far log(measure) has come from its first value to the target. */
export function logProgress(first: number, current: number, target: number): number {
  if (!(first > target)) return 1;
  if (!(current > target)) return 1;
  const f = Math.log(first / current) / Math.log(first / target);
  return Math.min(1, Math.max(0, f));
}
