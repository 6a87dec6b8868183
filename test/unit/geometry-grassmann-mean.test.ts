/**
 * Grassmannian means (core/geometry/grassmann-mean.ts) against constructions with a known answer: identical
 * subspaces, the geodesic midpoint of two subspaces with prescribed principal angles (in a random rotated frame),
 * log/exp as inverse maps, and chordal vs Karcher for nearly identical samples. Distances are checked with
 * metrics.ts's principal angles, an independent implementation (cos/sin SVDs, no log map).
 */
import { describe, expect, it } from 'vitest';
import { Matrix, QrDecomposition } from 'ml-matrix';
import { grassmannDistance, grassmannExp, grassmannLog, subspaceMean } from '../../src-main/core/geometry';
import { GeometryError } from '../../src-main/core/geometry/errors';
import { GaussianRng } from '../../src-main/core/diffusion/rng';
import type { Rows } from '../../src-main/core/geometry/linalg';
import type { Tensor } from '../../src-main/core/tensor';

const n = 40;
const k = 3;

/** A random n×n orthogonal matrix (columns). */
function randomRotation(seed: number): Matrix {
  const rng = new GaussianRng(seed);
  const g = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g.set(i, j, rng.normal());
  return new QrDecomposition(g).orthogonalMatrix;
}

/**
 * Rows (in the rotated frame R) of span{cos(s·θ_i) e_i + sin(s·θ_i) e_{k+i}}: s = 0 is A = span{e_1..e_k}, s = 1 is B,
 * and s = 1/2 is the geodesic midpoint, since t ↦ that span is the geodesic from A with principal angles t·θ.
 */
function onGeodesic(R: Matrix, theta: readonly number[], s: number): Float64Array {
  const out = new Float64Array(k * n);
  for (let i = 0; i < k; i++) {
    const c = Math.cos(s * theta[i]);
    const sn = Math.sin(s * theta[i]);
    for (let t = 0; t < n; t++) out[i * n + t] = c * R.get(t, i) + sn * R.get(t, k + i);
  }
  return out;
}

const tensor = (data: Float64Array, rows = k): Tensor => ({ dims: [rows, n], data: Float32Array.from(data) });
const asRows = (data: Float64Array, count = k): Rows => ({ count, n, data });

/** Mixes the rows of a basis (same span, another basis): an invertible k×k combination. */
function mixRows(data: Float64Array): Float64Array {
  const out = new Float64Array(data.length);
  const C = [
    [1, 0.5, -0.2],
    [0.3, -1, 0.1],
    [0, 0.4, 2],
  ];
  for (let j = 0; j < k; j++) for (let i = 0; i < k; i++) for (let t = 0; t < n; t++) out[j * n + t] += C[i][j] * data[i * n + t];
  return out;
}

describe('Grassmann log and exp', () => {
  it('Exp_X(Log_X(Y)) = Y and ‖Log_X(Y)‖_F = d(X, Y), for angles up to π/2 (where (XᵀY)⁻¹ does not exist)', () => {
    const R = randomRotation(1);
    for (const theta of [[0.3, 0.7, 1.1], [1e-6, 0.2, Math.PI / 2], [0, 0, 0.05]]) {
      const X = asRows(onGeodesic(R, theta, 0));
      const Y = onGeodesic(R, theta, 1);
      const { tangent, angles } = grassmannLog(X, asRows(mixRows(Y)));
      const expected = Math.hypot(...theta);
      let fro = 0;
      for (const v of tangent.data) fro += v * v;
      expect(Math.abs(Math.sqrt(fro) - expected)).toBeLessThan(1e-12);
      expect(angles.slice().sort((a, b) => a - b).map((a, i) => Math.abs(a - [...theta].sort((p, q) => p - q)[i]))).toSatisfy((d: number[]) => Math.max(...d) < 1e-12);
      const back = grassmannExp(X, tangent);
      // Float64 rows compared through their float32 copy: ~1e-7 of rounding per angle.
      expect(grassmannDistance(tensor(back.data), tensor(Y))).toBeLessThan(1e-6);
      expect(Math.hypot(...grassmannLog(back, asRows(Y)).angles)).toBeLessThan(1e-12);
    }
  });
});

describe('Karcher mean', () => {
  it('of identical subspaces (given by different bases) is that subspace', () => {
    const R = randomRotation(2);
    const A = onGeodesic(R, [0, 0, 0], 0);
    const g = subspaceMean([{ rows: tensor(A) }, { rows: tensor(mixRows(A)) }, { rows: tensor(A) }], { k, mean: 'karcher' });
    expect(g.karcher?.converged).toBe(true);
    expect(g.basis.dims).toEqual([k, n]);
    expect(grassmannDistance(g.basis, tensor(A))).toBeLessThan(1e-6);
    g.distances.forEach((d) => expect(d).toBeLessThan(1e-6));
  });

  it('of two subspaces is their geodesic midpoint: distance to each = half the distance between them', () => {
    const R = randomRotation(3);
    const theta = [0.15, 0.4, 0.9];
    const A = onGeodesic(R, theta, 0);
    const B = onGeodesic(R, theta, 1);
    const g = subspaceMean([{ rows: tensor(mixRows(A)) }, { rows: tensor(B) }], { k, mean: 'karcher' });
    expect(g.karcher?.converged).toBe(true);
    const dAB = grassmannDistance(tensor(A), tensor(B));
    expect(Math.abs(dAB - Math.hypot(...theta))).toBeLessThan(1e-6);
    // Independent distances (metrics.ts) from the returned float32 basis, and the reported float64 ones.
    expect(Math.abs(grassmannDistance(g.basis, tensor(A)) - dAB / 2)).toBeLessThan(1e-6);
    expect(Math.abs(grassmannDistance(g.basis, tensor(B)) - dAB / 2)).toBeLessThan(1e-6);
    g.distances.forEach((d) => expect(Math.abs(d - dAB / 2)).toBeLessThan(1e-8)); // Karcher tol 1e-9 on ‖Δ‖
    // ... and it is the midpoint itself, not just some equidistant subspace.
    expect(grassmannDistance(g.basis, tensor(onGeodesic(R, theta, 0.5)))).toBeLessThan(1e-6);
    // For two subspaces the chordal mean is the midpoint too: P_A + P_B has the bisectors cos(θ_i/2)a_i + sin(θ_i/2)b_i
    // as its top eigenvectors. (Three samples tell the two means apart: next test.)
    const c = subspaceMean([{ rows: tensor(A) }, { rows: tensor(B) }], { k, mean: 'chordal' });
    expect(grassmannDistance(c.basis, tensor(onGeodesic(R, theta, 0.5)))).toBeLessThan(1e-6);
  });

  it('minimises the sum of squared distances among nearby subspaces (three samples)', () => {
    const R = randomRotation(4);
    const samples = [onGeodesic(R, [0.2, 0.1, 0.3], 1), onGeodesic(R, [-0.3, 0.25, 0.05], 1), onGeodesic(R, [0.1, -0.2, -0.4], 1)];
    const g = subspaceMean(samples.map((s) => ({ rows: tensor(s) })), { k, mean: 'karcher' });
    const cost = (rows: Tensor) => samples.reduce((a, s) => a + grassmannDistance(rows, tensor(s)) ** 2, 0);
    const best = cost(g.basis);
    // Any small geodesic step away from the mean increases the cost (first-order optimality, second-order growth).
    const X = asRows(Float64Array.from(g.basis.data));
    const rng = new GaussianRng(9);
    for (let trial = 0; trial < 5; trial++) {
      const d = new Float64Array(k * n);
      rng.fillNormal(d);
      expect(cost(tensor(grassmannExp(X, projectTangent(X, d, 1e-2)).data))).toBeGreaterThan(best);
    }
    const chordal = subspaceMean(samples.map((s) => ({ rows: tensor(s) })), { k, mean: 'chordal' });
    console.log('three samples: cost karcher', best, 'chordal', cost(chordal.basis), 'apart', grassmannDistance(chordal.basis, g.basis));
    expect(cost(chordal.basis)).toBeGreaterThan(best);
  });

  it('agrees with the chordal mean for nearly identical subspaces', () => {
    const R = randomRotation(5);
    const base = onGeodesic(R, [0, 0, 0], 0);
    const rng = new GaussianRng(6);
    const samples = Array.from({ length: 5 }, () => {
      const d = new Float64Array(k * n);
      rng.fillNormal(d);
      return grassmannExp(asRows(base), projectTangent(asRows(base), d, 1e-3)).data;
    });
    const spread = Math.max(...samples.map((s) => grassmannDistance(tensor(s), tensor(base))));
    const karcher = subspaceMean(samples.map((s) => ({ rows: tensor(s) })), { k, mean: 'karcher' });
    const chordal = subspaceMean(samples.map((s) => ({ rows: tensor(s) })), { k, mean: 'chordal' });
    const apart = grassmannDistance(karcher.basis, chordal.basis);
    console.log('nearly identical: spread', spread.toExponential(2), 'karcher vs chordal', apart.toExponential(2), 'iterations', karcher.karcher?.iterations);
    expect(spread).toBeGreaterThan(5e-4);
    // They differ at third order in the spread; float32 output rounding (~1e-7) is the floor.
    expect(apart).toBeLessThan(1e-6);
    karcher.distances.forEach((d, i) => expect(Math.abs(d - chordal.distances[i])).toBeLessThan(1e-6));
  });

  it('orders the rows by shared weight within the mean and truncates to k ≤ the samples’ dimension; refuses more', () => {
    const R = randomRotation(7);
    const A = onGeodesic(R, [0.1, 0.2, 0.3], 0);
    const B = onGeodesic(R, [0.1, 0.2, 0.3], 1);
    const g2 = subspaceMean([{ rows: tensor(A) }, { rows: tensor(B) }], { k: 2, mean: 'karcher' });
    expect(g2.basis.dims).toEqual([2, n]);
    expect(g2.S.data[0]).toBeGreaterThanOrEqual(g2.S.data[1]);
    expect(() => subspaceMean([{ rows: tensor(A) }], { k: 4, mean: 'karcher' })).toThrow(GeometryError);
    expect(() => subspaceMean([{ rows: tensor(A) }, { rows: tensor(A.slice(0, 2 * n), 2) }], { k: 2, mean: 'karcher' })).toThrow(/one dimension/);
    expect(() => subspaceMean([{ rows: tensor(A) }], { k: 2, mean: 'karcher', weighting: 'sigma' })).toThrow(/needs S/);
  });
});

/** A tangent at X of Frobenius norm `size`: d with its X-component removed, rescaled. */
function projectTangent(X: Rows, d: Float64Array, size: number): Rows {
  const out = d.slice();
  for (let i = 0; i < X.count; i++) {
    const oi = out.subarray(i * n, (i + 1) * n);
    for (let j = 0; j < X.count; j++) {
      const xj = X.data.subarray(j * n, (j + 1) * n);
      let c = 0;
      for (let t = 0; t < n; t++) c += oi[t] * xj[t];
      for (let t = 0; t < n; t++) oi[t] -= c * xj[t];
    }
  }
  let f = 0;
  for (const v of out) f += v * v;
  const s = size / Math.sqrt(f);
  for (let t = 0; t < out.length; t++) out[t] *= s;
  return { count: X.count, n, data: out };
}
