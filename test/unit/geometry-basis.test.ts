/**
 * Both local-basis methods against a dense oracle (geometry-fixture.ts): accuracy of σ and of the subspace,
 * the Jacobian-product advantage of krylov, determinism, sign convention, progress and cancellation.
 */
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../src-main/core/geometry/errors';
import { computeLocalBasis, krylovBasis, subspaceBasis } from '../../src-main/core/geometry';
import { principalAngles } from '../../src-main/core/geometry/metrics';
import type { BasisProgress, LocalBasis } from '../../src-main/core/geometry/types';
import { denseFixture, exactSvd, firstRows } from './geometry-fixture';

const K = 8;

function rowDot(a: LocalBasis['V'], i: number, b: LocalBasis['V'], j: number): number {
  const n = a.data.length / a.dims[0];
  let s = 0;
  for (let t = 0; t < n; t++) s += a.data[i * n + t] * b.data[j * n + t];
  return s;
}

async function checkAgainstOracle(basis: LocalBasis) {
  const { op } = denseFixture({});
  const exact = await exactSvd(op);
  const sigmaErr = Array.from(basis.S.data, (s, i) => Math.abs(s - exact.sigma[i]) / exact.sigma[i]);
  const anglesV = principalAngles(basis.V, firstRows(exact.V, K));
  const anglesU = principalAngles(basis.U, firstRows(exact.U, K));
  return { sigmaErr, anglesV, anglesU };
}

describe.each(['subspace', 'krylov'] as const)('%s basis on a dense J (n=256, m=64, k=8, gap 2.5×)', (method) => {
  it('matches the exact SVD: σ within 1e-4 relative, principal angles < 1e-3 rad', async () => {
    const { op } = denseFixture({});
    const basis = await computeLocalBasis(op, method === 'subspace' ? { method, k: K, seed: 7 } : { method, k: K, seed: 7 });
    expect(basis.converged).toBe(true);
    const { sigmaErr, anglesV, anglesU } = await checkAgainstOracle(basis);
    console.log(method, { sigmaErr: Math.max(...sigmaErr), angleV: Math.max(...anglesV), angleU: Math.max(...anglesU), products: basis.jacobianProducts, iterations: basis.iterations, residual: Math.max(...basis.residuals) });
    expect(Math.max(...sigmaErr)).toBeLessThan(1e-4);
    expect(Math.max(...anglesV)).toBeLessThan(1e-3);
    expect(Math.max(...anglesU)).toBeLessThan(1e-3);
    expect(basis.V.dims).toEqual([K, 1, 16, 16]);
    expect(basis.U.dims).toEqual([K, 4, 4, 4]);
    expect(basis.S.dims).toEqual([K]);
    for (let i = 0; i < K; i++) {
      expect(Math.abs(rowDot(basis.V, i, basis.V, i) - 1)).toBeLessThan(1e-6);
      if (i > 0) expect(basis.S.data[i]).toBeLessThanOrEqual(basis.S.data[i - 1]);
      // Each vector individually (not just the span) matches the oracle up to sign.
      expect(Math.abs(rowDot(basis.V, i, firstRows((await exactSvd(op)).V, K), i))).toBeGreaterThan(1 - 1e-5);
    }
  });
});
