/** The basis estimate shown before a long basis (shared/basis-estimate.ts): its counts, costs and texts. */
import { describe, expect, it } from 'vitest';
import {
  estimateBasis,
  estimateText,
  expectedProducts,
  formatApproxDuration,
  FORWARDS_PER_PRODUCT,
  jacobianProviderText,
  needsConfirmation,
  type MeasuredBasis,
} from '../../../src-main/shared/basis-estimate';

describe('expectedProducts', () => {
  it("uses krylov's block and typical iterations: 196 products for k = 8", () => {
    expect(expectedProducts('krylov', 8)).toEqual({ products: 196, from: 'typical' });
    // k = 2: b = 2 + 3 = 5 columns, 2 products each, 7 iterations.
    expect(expectedProducts('krylov', 2)).toEqual({ products: 70, from: 'typical' });
  });
  it("is a lower bound for subspace iteration: k columns, 2 products each, its 10 minimum iterations", () => {
    expect(expectedProducts('subspace', 8)).toEqual({ products: 160, from: 'minimum' });
  });
  it('prefers earlier bases of the same method and k, ignoring cache hits', () => {
    const h: MeasuredBasis[] = [
      { method: 'krylov', k: 8, products: 168, seconds: 10, cacheHit: false },
      { method: 'krylov', k: 8, products: 180, seconds: 11, cacheHit: false },
      { method: 'krylov', k: 8, products: 999, seconds: 50, cacheHit: true },
      { method: 'krylov', k: 4, products: 60, seconds: 3, cacheHit: false },
    ];
    expect(expectedProducts('krylov', 8, h)).toEqual({ products: 174, from: 'previous' });
    expect(expectedProducts('subspace', 8, h).from).toBe('minimum');
  });
});

describe('estimateBasis', () => {
  it('multiplies the measured forward by the product ratio', () => {
    const e = estimateBasis({ method: 'krylov', k: 8, provider: 'cpu', forward: { msPerForward: 700, forwards: 10 } });
    expect(e).toMatchObject({ kind: 'estimate', products: 196, costFrom: 'forward', msPerProduct: 700 * FORWARDS_PER_PRODUCT });
    if (e.kind !== 'estimate') throw new Error('expected an estimate');
    expect(e.seconds).toBeCloseTo((196 * 700 * FORWARDS_PER_PRODUCT) / 1000, 9);
  });
  it("uses an earlier basis's cost per product on the same provider over the forward's", () => {
    const history: MeasuredBasis[] = [
      { method: 'krylov', k: 4, products: 100, seconds: 20, provider: 'cuda', cacheHit: false },
      { method: 'krylov', k: 4, products: 100, seconds: 90, provider: 'cpu', cacheHit: false },
    ];
    const gpu = estimateBasis({ method: 'krylov', k: 8, provider: 'cuda', forward: { msPerForward: 5000, forwards: 1 }, history });
    expect(gpu).toMatchObject({ kind: 'estimate', costFrom: 'basis', msPerProduct: 200, products: 196 });
    if (gpu.kind === 'estimate') expect(gpu.seconds).toBeCloseTo(39.2, 9);
    const cpu = estimateBasis({ method: 'krylov', k: 8, provider: 'cpu', history });
    expect(cpu).toMatchObject({ kind: 'estimate', costFrom: 'basis', msPerProduct: 900 });
  });
  it('does not guess without a measurement on that provider', () => {
    const history: MeasuredBasis[] = [{ method: 'krylov', k: 8, products: 196, seconds: 30, provider: 'cuda', cacheHit: false }];
    expect(estimateBasis({ method: 'krylov', k: 8, provider: 'cpu', history })).toEqual({ kind: 'unmeasured', provider: 'cpu' });
    expect(estimateBasis({ method: 'krylov', k: 8, provider: 'cpu', forward: { msPerForward: 0, forwards: 0 } })).toEqual({ kind: 'unmeasured', provider: 'cpu' });
  });
});

describe('confirmation and texts', () => {
  it('asks above 30 s only, never without a measurement', () => {
    const long = estimateBasis({ method: 'krylov', k: 8, provider: 'cpu', forward: { msPerForward: 1000, forwards: 4 } });
    const short = estimateBasis({ method: 'krylov', k: 8, provider: 'cpu', forward: { msPerForward: 300, forwards: 4 } });
    expect(needsConfirmation(long)).toBe(true); // 196 × 0.4 s ≈ 78 s
    expect(needsConfirmation(short)).toBe(false); // 196 × 0.12 s ≈ 24 s
    expect(needsConfirmation({ kind: 'unmeasured', provider: 'cpu' })).toBe(false);
  });
  it('says how long, on what, and why', () => {
    const e = estimateBasis({ method: 'krylov', k: 8, provider: 'cpu', forward: { msPerForward: 4500, forwards: 4 } });
    expect(estimateText(e, 'krylov', 8)).toBe('≈ 6 min on cpu: about 196 Jacobian products (krylov, k = 8, typical), each ≈ 0.4 forward passes of 4.5 s measured');
    const sub = estimateBasis({ method: 'subspace', k: 8, provider: 'cpu', forward: { msPerForward: 4500, forwards: 4 } });
    expect(estimateText(sub, 'subspace', 8)).toMatch(/^at least 5 min on cpu: at least 160 Jacobian products/);
    expect(estimateText({ kind: 'unmeasured', provider: 'cuda' }, 'krylov', 8)).toMatch(/^No estimate yet: nothing has been measured on cuda/);
  });
  it('formats durations and providers', () => {
    expect(formatApproxDuration(12.4)).toBe('≈ 12 s');
    expect(formatApproxDuration(352)).toBe('≈ 6 min');
    expect(formatApproxDuration(4800)).toBe('≈ 1 h 20 min');
    expect(formatApproxDuration(3600)).toBe('≈ 1 h');
    expect(jacobianProviderText('cpu')).toBe('cpu');
    expect(jacobianProviderText('cpu', 'cuda: first run failed: no kernel')).toBe('cpu (fell back from cuda: first run failed: no kernel)');
  });
});
