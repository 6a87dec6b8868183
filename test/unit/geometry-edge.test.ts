/** Edge cases of the basis methods: Krylov space exhausting X, rank-deficient J, tiny k. */
import { describe, expect, it } from 'vitest';
import { krylovBasis, principalAngles, subspaceBasis } from '../../src-main/core/geometry';
import { denseFixture, exactSvd, firstRows } from './geometry-fixture';

describe('basis edge cases', () => {
  it('krylov stops exactly when its space is all of X (n = 16)', async () => {
    const { op } = denseFixture({ xDims: [16], hDims: [8], sigma: [8, 7, 6, 5, 4.9, 4.8, 4.7, 4.6] });
    const b = await krylovBasis(op, { k: 4, seed: 1, tol: 1e-12 });
    const exact = await exactSvd(op);
    expect(b.iterations).toBe(2); // block of 4 + 4 = 8 columns, two blocks cover n = 16
    expect(Math.max(...principalAngles(b.V, firstRows(exact.V, 4)))).toBeLessThan(1e-5);
    Array.from(b.S.data).forEach((s, i) => expect(Math.abs(s - exact.sigma[i]) / exact.sigma[i]).toBeLessThan(1e-6));
  });

  it.each(['krylov', 'subspace'] as const)('%s handles rank(J) < k: null directions get σ ≈ 0, U = 0, no NaN', async (method) => {
    const sigma = [5, 4, 3, ...new Array<number>(61).fill(0)];
    const { op } = denseFixture({ sigma });
    const b = method === 'krylov' ? await krylovBasis(op, { k: 4, seed: 2 }) : await subspaceBasis(op, { k: 4, seed: 2 });
    expect(b.V.data.every(Number.isFinite) && b.U.data.every(Number.isFinite)).toBe(true);
    const exact = await exactSvd(op);
    expect(Math.max(...principalAngles(firstRows(b.V, 3), firstRows(exact.V, 3)))).toBeLessThan(1e-3);
    expect(b.S.data[3]).toBeLessThan(1e-3);
    if (method === 'krylov') expect(b.converged).toBe(true);
  });

  it('k = 1 and k = n boundaries', async () => {
    const { op } = denseFixture({ xDims: [12], hDims: [12], sigma: Array.from({ length: 12 }, (_, i) => 12 - i) });
    const one = await krylovBasis(op, { k: 1, seed: 0 });
    expect(one.S.data[0]).toBeCloseTo(12, 4);
    const all = await krylovBasis(op, { k: 12, seed: 0 });
    Array.from(all.S.data).forEach((s, i) => expect(s).toBeCloseTo(12 - i, 4));
  });
});
