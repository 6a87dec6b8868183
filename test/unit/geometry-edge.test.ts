/** Edge cases of the basis methods: Krylov space exhausting X, rank-deficient J, tiny k. */
import { describe, expect, it } from 'vitest';
import { krylovBasis, principalAngles, subspaceBasis } from '../../src-main/core/geometry';
import { denseFixture, exactSvd, firstRows } from './geometry-fixture';

describe('basis edge cases', () => {
  it('krylov stops exactly when its space is all of X (n = 16)', async () => {
    const { op } = denseFixture({ xDims: [16], hDims: [8], sigma: [8, 7, 6, 5, 4.9, 4.8, 4.7, 4.6] });
    const b = await krylovBasis(op, { k: 4, seed: 1, tol: 1e-12 });
    const exact = await exactSvd(op);
    // Blocks of 4 + 4 = 8 columns, narrower once pairs converge: it stops when they cover n = 16, every column once.
    expect(b.jacobianProducts.total).toBe(2 * 16);
    expect(b.iterations).toBeGreaterThanOrEqual(2);
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

  it('thick restarts (maxBasis = 2 blocks) still converge to the exact subspace, just with more products', async () => {
    const sigma = Array.from({ length: 64 }, (_, i) => (i < 8 ? 10 * 0.9 ** i : 0.85 * 10 * 0.9 ** 7 * 0.98 ** (i - 8)));
    const { op } = denseFixture({ sigma });
    const exact = await exactSvd(op);
    // Narrow gap (σ_9/σ_8 = 0.85): the angle bound is tol·σ_8²/(σ_8² − σ_9²) ≈ 3.6·tol, so ask for 1e-4.
    const free = await krylovBasis(op, { k: 8, seed: 3, oversampling: 2, tol: 1e-4 });
    const tight = await krylovBasis(op, { k: 8, seed: 3, oversampling: 2, maxBasis: 20, tol: 1e-4 });
    expect(tight.converged).toBe(true);
    expect(tight.iterations).toBeGreaterThan(2); // at least one restart happened (2 blocks of 10 fill maxBasis)
    expect(tight.jacobianProducts.total).toBeGreaterThan(free.jacobianProducts.total);
    for (const b of [free, tight]) {
      expect(Math.max(...principalAngles(b.V, firstRows(exact.V, 8)))).toBeLessThan(1e-3);
      Array.from(b.S.data).forEach((x, i) => expect(Math.abs(x - exact.sigma[i]) / exact.sigma[i]).toBeLessThan(1e-4));
    }
  });

  it('k = 1 and k = n boundaries', async () => {
    const { op } = denseFixture({ xDims: [12], hDims: [12], sigma: Array.from({ length: 12 }, (_, i) => 12 - i) });
    const one = await krylovBasis(op, { k: 1, seed: 0 });
    expect(one.S.data[0]).toBeCloseTo(12, 4);
    const all = await krylovBasis(op, { k: 12, seed: 0 });
    Array.from(all.S.data).forEach((s, i) => expect(s).toBeCloseTo(12 - i, 4));
  });
});
