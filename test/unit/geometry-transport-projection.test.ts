/**
 * projectOntoLocalBasis (an explicit x-space direction, e.g. a global one, moved to sample B): v_B ∝ V_Bᵀ (V_B v),
 * captured = ‖V_B v‖ / ‖v‖. Oracles independent of the code under test: B's exact top-k right singular vectors from a
 * dense SVD of the fixture's J (the code gets a Krylov basis), and principal angles (cos θ of span{v} and span V_B).
 */
import { describe, expect, it } from 'vitest';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { krylovBasis, principalAngles } from '../../src-main/core/geometry';
import { projectOntoLocalBasis } from '../../src-main/core/geometry/transport';
import { GaussianRng } from '../../src-main/core/diffusion/rng';
import type { Tensor } from '../../src-main/core/tensor';
import { denseFixture } from './geometry-fixture';

const K = 8;

function rowOf(t: Tensor, i: number): Float32Array {
  const n = t.data.length / t.dims[0];
  return t.data.subarray(i * n, (i + 1) * n);
}
function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
function randomVector(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  new GaussianRng(seed).fillNormal(v);
  return v;
}

describe('projectOntoLocalBasis', () => {
  it('A → A: a direction of the basis comes back as itself with captured 1, a combination of them as its unit vector', async () => {
    const A = await krylovBasis(denseFixture({}).op, { k: K, seed: 4 });
    for (let i = 0; i < K; i++) {
      const r = projectOntoLocalBasis({ dims: [1, 1, 16, 16], data: rowOf(A.V, i) }, A);
      expect(r.v.dims).toEqual([1, 1, 16, 16]);
      expect(dot(r.v.data, rowOf(A.V, i))).toBeGreaterThan(1 - 1e-6);
      expect(r.captured).toBeGreaterThan(1 - 1e-5);
      expect(r.captured).toBeLessThanOrEqual(1);
      r.coefficients.forEach((c, j) => expect(Math.abs(c - (i === j ? 1 : 0))).toBeLessThan(1e-5));
    }
    // 3·v_0 − 2·v_5 (not unit): in the span, so it returns (3 v_0 − 2 v_5)/√13 whole.
    const n = 256;
    const mix = new Float32Array(n);
    for (let t = 0; t < n; t++) mix[t] = 3 * rowOf(A.V, 0)[t] - 2 * rowOf(A.V, 5)[t];
    const r = projectOntoLocalBasis({ dims: [n], data: mix }, A);
    expect(r.captured).toBeGreaterThan(1 - 1e-5);
    for (let t = 0; t < n; t++) expect(r.v.data[t]).toBeCloseTo(mix[t] / Math.sqrt(13), 5);
  });

  it('the result lies in B’s span, and captured equals ‖Q_kᵀ v‖/‖v‖ of B’s exact singular vectors and cos of the principal angle', async () => {
    const fixture = denseFixture({ perturbation: 0.01 });
    // Converged well past the default tol: the checks below compare with B's exact subspace to 1e-4.
    const B = await krylovBasis(fixture.op, { k: K, seed: 4, tol: 1e-6 });
    // Exact right singular vectors of B's J (float64 dense SVD), not the Krylov basis the code is given.
    const svd = new SingularValueDecomposition(fixture.J, { computeLeftSingularVectors: false, autoTranspose: true });
    const Q = svd.rightSingularVectors.subMatrix(0, fixture.J.columns - 1, 0, K - 1);
    for (const seed of [1, 2, 3]) {
      // Half in B's span, half random: a captured share well inside (0, 1).
      const random = randomVector(256, seed);
      const v = Float32Array.from(random, (x, t) => x + 16 * rowOf(B.V, seed)[t]);
      const r = projectOntoLocalBasis({ dims: [1, 1, 16, 16], data: v }, B);
      const coords = Q.transpose().mmul(Matrix.columnVector(Array.from(v)));
      const direct = coords.norm() / Math.hypot(...v);
      expect(direct).toBeGreaterThan(0.5);
      expect(direct).toBeLessThan(0.99);
      expect(Math.abs(r.captured - direct)).toBeLessThan(1e-4);
      const [theta] = principalAngles({ dims: [1, 256], data: v }, B.V);
      expect(Math.abs(r.captured - Math.cos(theta))).toBeLessThan(1e-5);
      // In the span: its residual after projecting onto B's exact basis is ~0, and it is unit length.
      const inSpan = Q.mmul(Q.transpose().mmul(Matrix.columnVector(Array.from(r.v.data))));
      let residual = 0;
      for (let t = 0; t < 256; t++) residual += (inSpan.get(t, 0) - r.v.data[t]) ** 2;
      expect(Math.sqrt(residual)).toBeLessThan(1e-4);
      expect(Math.hypot(...r.v.data)).toBeCloseTo(1, 5);
      // v_B is the unit vector of the projection itself: its overlap with v is exactly the captured share.
      expect(dot(r.v.data, v) / Math.hypot(...v)).toBeCloseTo(r.captured, 5);
    }
  });

  it('v orthogonal to B: zero-safe (v_B = 0, captured 0); a zero v or one of another size is a typed error', () => {
    const n = 6;
    const V = new Float32Array(2 * n);
    V[0] = 1;
    V[n + 1] = 1;
    const B = { V: { dims: [2, n], data: V } };
    const e3 = new Float32Array(n);
    e3[2] = 1;
    const r = projectOntoLocalBasis({ dims: [n], data: e3 }, B);
    expect(r.captured).toBe(0);
    expect([...r.v.data].every((x) => x === 0)).toBe(true);
    expect(() => projectOntoLocalBasis({ dims: [n], data: new Float32Array(n) }, B)).toThrow(expect.objectContaining({ code: 'bad-option' }));
    expect(() => projectOntoLocalBasis({ dims: [n], data: Float32Array.of(1, 0, 0, 0, 0, Number.NaN) }, B)).toThrow(expect.objectContaining({ code: 'bad-option' }));
    expect(() => projectOntoLocalBasis({ dims: [3], data: new Float32Array(3) }, B)).toThrow(expect.objectContaining({ code: 'bad-shape' }));
  });
});
