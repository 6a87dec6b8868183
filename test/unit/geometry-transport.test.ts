/** Principal angles / Grassmann distance against constructed subspaces, transport and global basis. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { globalBasis, grassmannDistance, krylovBasis, principalAngles, transportDirection } from '../../src-main/core/geometry';
import { GaussianRng } from '../../src-main/core/diffusion/rng';
import type { Tensor } from '../../src-main/core/tensor';
import { denseFixture } from './geometry-fixture';

function rowOf(t: Tensor, i: number): Float32Array {
  const n = t.data.length / t.dims[0];
  return t.data.subarray(i * n, (i + 1) * n);
}
function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('principal angles', () => {
  it('recovers prescribed angles between span{e1,e2} and span{cos a e1 + sin a e3, cos b e2 + sin b e4}', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-7, max: 1.5, noNaN: true }), fc.double({ min: 1e-7, max: 1.5, noNaN: true }), (a, b) => {
        const n = 6;
        const A = new Float32Array(2 * n);
        A[0] = 1;
        A[n + 1] = 1;
        const B = new Float64Array(2 * n);
        B[0] = Math.cos(a);
        B[2] = Math.sin(a);
        B[n + 1] = Math.cos(b);
        B[n + 3] = Math.sin(b);
        // Float64 inputs matter here: angles of 1e-7 are below float32 resolution of the vectors.
        const angles = principalAngles({ dims: [2, n], data: A }, { dims: [2, n], data: Float32Array.from(B) });
        const expected = [a, b].sort((x, y) => x - y);
        // float32 rounding of the inputs bounds the achievable accuracy at ~1e-7 absolute.
        expect(Math.abs(angles[0] - expected[0])).toBeLessThan(2e-7 + 1e-6 * expected[0]);
        expect(Math.abs(angles[1] - expected[1])).toBeLessThan(2e-7 + 1e-6 * expected[1]);
      }),
      { numRuns: 50 },
    );
  });

  it('is invariant to the choice of basis of each subspace and gives distance 0 for the same subspace', async () => {
    const b = await krylovBasis(denseFixture({}).op, { k: 4, seed: 1 });
    // Mix the rows: same span, different basis.
    const n = b.V.data.length / 4;
    const mixed = new Float32Array(4 * n);
    for (let t = 0; t < n; t++) {
      mixed[t] = b.V.data[t] + b.V.data[n + t];
      mixed[n + t] = b.V.data[t] - 2 * b.V.data[2 * n + t];
      mixed[2 * n + t] = b.V.data[3 * n + t];
      mixed[3 * n + t] = b.V.data[2 * n + t] + 0.5 * b.V.data[3 * n + t];
    }
    expect(grassmannDistance(b.V, { dims: b.V.dims, data: mixed })).toBeLessThan(1e-6);
    // Orthogonal complement pieces: angle π/2.
    const e = (i: number) => {
      const d = new Float32Array(8);
      d[i] = 1;
      return d;
    };
    const ang = principalAngles({ dims: [1, 8], data: e(0) }, { dims: [2, 8], data: Float32Array.from([...e(1), ...e(0)]) });
    expect(ang).toHaveLength(1);
    expect(ang[0]).toBeLessThan(1e-12);
    expect(grassmannDistance({ dims: [1, 8], data: e(0) }, { dims: [1, 8], data: e(5) })).toBeCloseTo(Math.PI / 2, 12);
  });
});

describe('parallel transport', () => {
  it('transporting u_{A,i} from A to A returns v_{A,i}', async () => {
    const A = await krylovBasis(denseFixture({}).op, { k: 8, seed: 4 });
    for (let i = 0; i < 8; i++) {
      const r = transportDirection({ dims: [1, 4, 4, 4], data: rowOf(A.U, i) }, A);
      expect(r.v.dims).toEqual([1, 1, 16, 16]);
      expect(dot(r.v.data, rowOf(A.V, i))).toBeGreaterThan(1 - 1e-6);
      expect(r.captured).toBeGreaterThan(1 - 1e-4);
      r.coefficients.forEach((c, j) => expect(Math.abs(c - (i === j ? 1 : 0))).toBeLessThan(1e-3));
    }
  });

  it('to a nearby sample B gives the B direction that matches, and reports what B cannot capture', async () => {
    const A = await krylovBasis(denseFixture({}).op, { k: 8, seed: 4 });
    const B = await krylovBasis(denseFixture({ perturbation: 0.01 }).op, { k: 8, seed: 4 });
    const r = transportDirection({ dims: [64], data: rowOf(A.U, 0) }, B);
    expect(dot(r.v.data, rowOf(B.V, 0))).toBeGreaterThan(0.99);
    expect(r.captured).toBeLessThan(1);
    const rng = new GaussianRng(3);
    const random = new Float32Array(64);
    rng.fillNormal(random);
    // A random h direction is mostly outside an 8-dim tangent space of a 64-dim h.
    expect(transportDirection({ dims: [64], data: random }, B).captured).toBeLessThan(0.8);
    expect(() => transportDirection({ dims: [3], data: new Float32Array(3) }, B)).toThrow(expect.objectContaining({ code: 'bad-shape' }));
  });
});

describe('global basis', () => {
  it('of identical bases is that basis (σ-weighted: each vector; uniform: the same span)', async () => {
    const A = await krylovBasis(denseFixture({}).op, { k: 6, seed: 4 });
    const g = globalBasis([A, A, A], { k: 6, weighting: 'sigma' });
    for (let i = 0; i < 6; i++) expect(dot(rowOf(g.V, i), rowOf(A.V, i))).toBeGreaterThan(1 - 1e-6);
    g.S.data.forEach((s, i) => expect(s).toBeCloseTo(Math.sqrt(3) * A.S.data[i], 4));
    const u = globalBasis([A, A], { k: 6 });
    expect(grassmannDistance(u.V, A.V)).toBeLessThan(1e-5);
    u.S.data.forEach((s) => expect(s).toBeCloseTo(Math.sqrt(2), 5));
  });

  it('keeps the shared direction of bases that share one vector and differ otherwise', () => {
    const n = 10;
    const shared = new Float32Array(n).fill(1 / Math.sqrt(n));
    const e = (i: number) => {
      const d = new Float32Array(n);
      d[i] = 1;
      d[i + 1] = -1;
      return d.map((x) => x / Math.SQRT2);
    };
    const bases = [0, 2, 4, 6].map((i) => ({ V: { dims: [2, n], data: Float32Array.from([...shared, ...e(i)]) } }));
    const g = globalBasis(bases, { k: 1 });
    expect(Math.abs(dot(rowOf(g.V, 0), shared))).toBeGreaterThan(1 - 1e-6);
    expect(g.S.data[0]).toBeCloseTo(2, 5);
  });
});
