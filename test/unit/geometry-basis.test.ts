/**
 * Both local-basis methods against a dense oracle (geometry-fixture.ts): accuracy of σ and of the subspace,
 * the Jacobian-product advantage of krylov, determinism, sign convention, progress and cancellation.
 */
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../src-main/core/geometry/errors';
import { computeLocalBasis, krylovBasis, subspaceBasis } from '../../src-main/core/geometry';
import { defaultOversampling, nextBlockPairs } from '../../src-main/core/geometry/krylov';
import type { Tensor } from '../../src-main/core/tensor';
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
    const basis = await computeLocalBasis(op, { method, k: K, seed: 7 });
    expect(basis.converged).toBe(true);
    const { sigmaErr, anglesV, anglesU } = await checkAgainstOracle(basis);
    console.log(method, { sigmaErr: Math.max(...sigmaErr), angleV: Math.max(...anglesV), angleU: Math.max(...anglesU), products: basis.jacobianProducts, iterations: basis.iterations, residual: Math.max(...basis.residuals) });
    expect(Math.max(...basis.residuals)).toBeLessThanOrEqual(method === 'krylov' ? 1e-3 : 1e-2);
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

/** A smaller gap (σ_9/σ_8 = 0.8) so subspace iteration needs more than its 10-iteration minimum. */
function narrowGapSpectrum(m: number): number[] {
  return Array.from({ length: m }, (_, i) => (i < K ? 10 * 0.9 ** i : 0.8 * 10 * 0.9 ** (K - 1) * 0.97 ** (i - K)));
}

describe('krylov vs subspace: Jacobian products for the same accuracy', () => {
  it.each([
    ['gap 2.5×', undefined],
    ['gap 1.25×', narrowGapSpectrum(64)],
  ])('%s: krylov needs fewer products, even when asked for the residual subspace reached', async (_label, sigma) => {
    const { op } = denseFixture({ sigma });
    const exact = await exactSvd(op);
    const sub = await subspaceBasis(op, { k: K, seed: 3 });
    const kry = await krylovBasis(op, { k: K, seed: 3 });
    // Same stopping tolerance for krylov as subspace actually achieved (subspace stops on elementwise change).
    const kryTight = await krylovBasis(op, { k: K, seed: 3, tol: Math.max(...sub.residuals) });
    const subLoop = sub.iterations * K * 2; // without subspace's final pullback, to not flatter krylov
    console.log(_label, {
      subspace: { iterations: sub.iterations, products: sub.jacobianProducts, maxResidual: Math.max(...sub.residuals) },
      krylov: { iterations: kry.iterations, products: kry.jacobianProducts, maxResidual: Math.max(...kry.residuals) },
      krylovTight: { iterations: kryTight.iterations, products: kryTight.jacobianProducts, maxResidual: Math.max(...kryTight.residuals) },
    });
    for (const b of [sub, kry, kryTight]) {
      expect(b.converged).toBe(true);
      const sErr = Array.from(b.S.data, (s, i) => Math.abs(s - exact.sigma[i]) / exact.sigma[i]);
      expect(Math.max(...sErr)).toBeLessThan(1e-4);
      expect(Math.max(...principalAngles(b.V, firstRows(exact.V, K)))).toBeLessThan(1e-3);
    }
    expect(sub.jacobianProducts.total).toBe(sub.iterations * K * 2 + K * 2);
    expect(kry.jacobianProducts.jvp).toBe(kry.jacobianProducts.vjp);
    expect(kry.jacobianProducts.total).toBeLessThan(subLoop);
    // Matching subspace's (over-converged, ~1e-7) residual is the hardest case for krylov: the float32 noise floor
    // is near. Compare complete runs there (subspace's total includes the pullback that gives it U and residuals;
    // krylov gets both from its last block for free).
    expect(kryTight.jacobianProducts.total).toBeLessThan(sub.jacobianProducts.total);
    expect(Math.max(...kryTight.residuals)).toBeLessThanOrEqual(Math.max(...sub.residuals));
  });
});

describe('determinism and sign convention', () => {
  it.each(['subspace', 'krylov'] as const)('%s: same inputs and seed give the same bytes', async (method) => {
    const a = await computeLocalBasis(denseFixture({}).op, { method, k: K, seed: 11 });
    const b = await computeLocalBasis(denseFixture({}).op, { method, k: K, seed: 11 });
    expect(Buffer.from(a.V.data.buffer).equals(Buffer.from(b.V.data.buffer))).toBe(true);
    expect(Buffer.from(a.S.data.buffer).equals(Buffer.from(b.S.data.buffer))).toBe(true);
    expect(Buffer.from(a.U.data.buffer).equals(Buffer.from(b.U.data.buffer))).toBe(true);
    expect(a.jacobianProducts).toEqual(b.jacobianProducts);
  });

  it('a different seed (and a different method) gives the same directions with the same signs', async () => {
    const ref = await krylovBasis(denseFixture({}).op, { k: K, seed: 1 });
    for (const other of [
      await krylovBasis(denseFixture({}).op, { k: K, seed: 999 }),
      await subspaceBasis(denseFixture({}).op, { k: K, seed: 42 }),
    ]) {
      // Not bitwise equal (different start), but each direction must agree in sign, not just up to sign.
      expect(Buffer.from(ref.V.data.buffer).equals(Buffer.from(other.V.data.buffer))).toBe(false);
      for (let i = 0; i < K; i++) {
        expect(rowDot(ref.V, i, other.V, i)).toBeGreaterThan(1 - 1e-5);
        expect(rowDot(ref.U, i, other.U, i)).toBeGreaterThan(1 - 1e-4);
      }
    }
  });
});

describe('progress, cancellation, warm start, batching', () => {
  it.each(['subspace', 'krylov'] as const)('%s reports monotone progress per iteration ending at 1', async (method) => {
    const seen: BasisProgress[] = [];
    const b = await computeLocalBasis(denseFixture({}).op, { method, k: K, seed: 5, onProgress: (p) => seen.push(p) });
    expect(seen.length).toBe(b.iterations);
    seen.forEach((p, i) => {
      expect(p.iteration).toBe(i + 1);
      if (i > 0) {
        expect(p.fraction).toBeGreaterThanOrEqual(seen[i - 1].fraction);
        expect(p.jacobianProducts.total).toBeGreaterThan(seen[i - 1].jacobianProducts.total);
      }
      expect(Number.isFinite(p.residual)).toBe(true);
    });
    expect(seen.at(-1)!.fraction).toBe(1);
  });

  it.each(['subspace', 'krylov'] as const)('%s: abort between operator calls throws CancelledError', async (method) => {
    const controller = new AbortController();
    const { op } = denseFixture({ abortAfterCalls: { controller, calls: 2 } });
    const run = computeLocalBasis(op, { method, k: K, seed: 5, signal: controller.signal });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(op.calls).toBe(2); // the check before the third call stopped it
    const pre = new AbortController();
    pre.abort();
    const op2 = denseFixture({}).op;
    await expect(computeLocalBasis(op2, { method, k: K, signal: pre.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(op2.calls).toBe(0);
  });

  it('krylov warm start from a nearby operator converges in fewer products', async () => {
    const base = denseFixture({}).op;
    const prior = await krylovBasis(base, { k: K, seed: 2 });
    // "Nearby sample": same spectrum, slightly perturbed singular vectors (different fixture seed mixes in).
    const near = denseFixture({ perturbation: 0.02 }).op;
    const cold = await krylovBasis(near, { k: K, seed: 2 });
    const warm = await krylovBasis(near, { k: K, seed: 2, warmStart: prior.V });
    expect(warm.converged).toBe(true);
    console.log('warm start', { cold: cold.jacobianProducts.total, warm: warm.jacobianProducts.total });
    expect(Math.max(...principalAngles(prior.V, warm.V))).toBeGreaterThan(1e-3); // really a different operator
    expect(warm.jacobianProducts.total).toBeLessThan(cold.jacobianProducts.total);
  });

  it('krylov warm rows: k + p orthonormal Ritz vectors whose first k span V; a warm start from them costs no more than from V', async () => {
    const prior = await krylovBasis(denseFixture({}).op, { k: K, seed: 2 });
    const rows = prior.warmRows!;
    const b = rows.dims[0];
    expect(b).toBe(K + defaultOversampling(K));
    expect(rows.dims.slice(1)).toEqual(prior.V.dims.slice(1));
    const n = rows.data.length / b;
    const dotRows = (x: Float32Array, i: number, y: Float32Array, j: number) => {
      let sum = 0;
      for (let t = 0; t < n; t++) sum += x[i * n + t] * y[j * n + t];
      return sum;
    };
    for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) expect(dotRows(rows.data, i, rows.data, j)).toBeCloseTo(i === j ? 1 : 0, 5);
    // The first k rows are V up to the sign convention.
    for (let i = 0; i < K; i++) expect(Math.abs(dotRows(rows.data, i, prior.V.data, i))).toBeCloseTo(1, 5);
    const near = denseFixture({ perturbation: 0.02 }).op;
    const fromV = await krylovBasis(near, { k: K, seed: 2, warmStart: prior.V });
    const fromRows = await krylovBasis(near, { k: K, seed: 2, warmStart: rows });
    expect(fromRows.converged).toBe(true);
    expect(Math.max(...principalAngles(fromRows.V, fromV.V))).toBeLessThan(1e-2);
    expect(fromRows.jacobianProducts.total).toBeLessThanOrEqual(fromV.jacobianProducts.total);
  });

  it('maxBatch cuts a block into calls of at most maxBatch columns, and a narrowed block into whole calls', async () => {
    const op = denseFixture({}).op;
    const widths: number[] = [];
    const recording = { ...op, pullback: (v: Tensor, signal?: AbortSignal) => (widths.push(v.dims[0]), op.pullback(v, signal)) };
    // Progress comes once per iteration, after its block's calls: the block boundaries.
    const blocks: number[] = [];
    let seen = 0;
    const onProgress = () => {
      blocks.push(widths.slice(seen).reduce((a, w) => a + w, 0));
      seen = widths.length;
    };
    const split = await krylovBasis(recording, { k: K, seed: 9, maxBatch: 5, onProgress });
    expect(split.converged).toBe(true);
    expect(widths.every((w) => w >= 1 && w <= 5)).toBe(true);
    expect(2 * widths.reduce((a, w) => a + w, 0)).toBe(split.jacobianProducts.total);
    expect(blocks.length).toBe(split.iterations);
    // The full b = 14 columns (calls of 5, 5, 4), or, once wanted pairs have converged, whole calls of 5.
    expect(blocks.every((b) => b === 14 || b % 5 === 0)).toBe(true);
    expect(blocks.some((b) => b < 14)).toBe(true);
  });

  it('rejects bad options with typed errors', async () => {
    const op = denseFixture({}).op;
    await expect(krylovBasis(op, { k: 0 })).rejects.toMatchObject({ code: 'bad-option' });
    await expect(subspaceBasis(op, { k: 257 })).rejects.toMatchObject({ code: 'bad-option' });
    await expect(krylovBasis(op, { k: 2, seed: 0.5 })).rejects.toMatchObject({ code: 'bad-option' });
    await expect(krylovBasis(op, { k: 2, warmStart: { dims: [1, 3], data: new Float32Array(3) } })).rejects.toMatchObject({ code: 'bad-shape' });
  });
});

describe('krylov: the next block narrows to the open pairs', () => {
  const tol = 1e-3;
  // k = 4 wanted pairs, 3 oversampled (b = 7); pairs 1 and 3 are still open.
  const residuals = [1e-4, 2e-3, 5e-4, 3e-3, 0.1, 0.2, 0.3];

  it('takes the open wanted pairs and the first oversampled one, rounded up to whole calls', () => {
    expect(nextBlockPairs(residuals, 4, tol, 1)).toEqual([1, 3, 4]);
    // Rounded up to one call of 4: filled with the next oversampled pair.
    expect(nextBlockPairs(residuals, 4, tol, 4)).toEqual([1, 3, 4, 5]);
    // Rounded up to 6: the oversampled pairs first, then a converged one.
    expect(nextBlockPairs(residuals, 4, tol, 6)).toEqual([0, 1, 3, 4, 5, 6]);
    // A call as wide as the block: nothing to save, every pair.
    expect(nextBlockPairs(residuals, 4, tol, 7)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('keeps every pair while all wanted pairs are open, and works without oversampling', () => {
    expect(nextBlockPairs([0.5, 0.4, 0.3, 0.2, 0.1], 3, tol, 1)).toEqual([0, 1, 2, 3]);
    expect(nextBlockPairs([0.5, 0.4, 0.3], 3, tol, 1)).toEqual([0, 1, 2]);
    expect(nextBlockPairs([1e-5, 0.4, 1e-5], 3, tol, 1)).toEqual([1]);
  });
});
