/**
 * orthonormalize: the block step of the Krylov and subspace methods. Checked directly (orthonormal rows,
 * orthogonal to `against`, the same span as the projected input, orientation kept, rank-deficient input refilled)
 * because a subtle loss of orthogonality would only show up downstream as slower convergence.
 */
import { describe, expect, it } from 'vitest';
import { combine, gaussianRows, dot, orthonormalize, projectOut, row, rows, type Rows } from '../../src-main/core/geometry/linalg';
import { Matrix } from 'ml-matrix';
import { GaussianRng } from '../../src-main/core/diffusion/rng';

function maxOrthonormalityError(q: Rows, against: readonly Rows[] = []): number {
  let worst = 0;
  for (let i = 0; i < q.count; i++) {
    for (let j = 0; j < q.count; j++) worst = Math.max(worst, Math.abs(dot(row(q, i), row(q, j)) - (i === j ? 1 : 0)));
    for (const a of against) for (let j = 0; j < a.count; j++) worst = Math.max(worst, Math.abs(dot(row(q, i), row(a, j))));
  }
  return worst;
}

/** Largest norm of what is left of each row of `r` after projecting it onto span(q). */
function outsideSpan(r: Rows, q: Rows): number {
  const copy = rows(r.count, r.n, r.data.slice());
  projectOut(copy, [q]);
  let worst = 0;
  for (let i = 0; i < copy.count; i++) worst = Math.max(worst, Math.sqrt(dot(row(copy, i), row(copy, i))));
  return worst;
}

describe('orthonormalize', () => {
  const n = 3000;

  it('returns orthonormal rows orthogonal to `against` that span the projected input, each oriented like its input', () => {
    const rng = new GaussianRng(7);
    const against = orthonormalize(gaussianRows(10, n, rng), [], rng);
    // Ill-conditioned input: rows nearly parallel and partly inside span(against).
    const input = gaussianRows(6, n, rng);
    for (let i = 1; i < input.count; i++) {
      const ri = row(input, i);
      const r0 = row(input, 0);
      const a = row(against, i);
      for (let t = 0; t < n; t++) ri[t] = r0[t] + 1e-4 * ri[t] + 5 * a[t];
    }
    const q = orthonormalize(input, [against], new GaussianRng(1));
    expect(q.count).toBe(6);
    expect(maxOrthonormalityError(q, [against])).toBeLessThan(1e-12);
    const projected = rows(input.count, n, input.data.slice());
    projectOut(projected, [against]);
    projectOut(projected, [against]);
    expect(outsideSpan(projected, q)).toBeLessThan(1e-9 * Math.sqrt(n));
    for (let i = 0; i < q.count; i++) {
      // Gram–Schmidt order: row i of q is the new part of projected row i, so it points the same way.
      const partial = rows(1, n, row(projected, i).slice());
      if (i > 0) projectOut(partial, [rows(i, n, q.data.slice(0, i * n))]);
      expect(dot(row(partial, 0), row(q, i))).toBeGreaterThan(0);
    }
  });

  it('refills zero and dependent rows from the seeded Gaussian, deterministically, keeping the width', () => {
    const rng = new GaussianRng(3);
    const input = gaussianRows(4, n, rng);
    row(input, 1).fill(0);
    row(input, 3).set(row(input, 2));
    const a = orthonormalize(input, [], new GaussianRng(11));
    const b = orthonormalize(input, [], new GaussianRng(11));
    expect(a.count).toBe(4);
    expect(maxOrthonormalityError(a)).toBeLessThan(1e-12);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it('refills rows that lie entirely inside span(against)', () => {
    const rng = new GaussianRng(5);
    const against = orthonormalize(gaussianRows(3, n, rng), [], rng);
    const input = rows(2, n, against.data.slice(0, 2 * n));
    const q = orthonormalize(input, [against], new GaussianRng(2));
    expect(q.count).toBe(2);
    expect(maxOrthonormalityError(q, [against])).toBeLessThan(1e-12);
  });

  it('a well-conditioned block against a large `against` (one pass of re-orthogonalisation skipped) is orthogonal to 1e-12', () => {
    const rng = new GaussianRng(13);
    const against = orthonormalize(gaussianRows(40, n, rng), [], rng);
    const q = orthonormalize(gaussianRows(9, n, rng), [against], rng);
    expect(maxOrthonormalityError(q, [against])).toBeLessThan(1e-12);
  });
});

describe('blocked kernels against the plain sums', () => {
  const n = 37;
  it.each([
    [1, 1],
    [2, 5],
    [3, 4],
    [5, 7],
    [14, 9],
  ])('projectOut and combine with %i rows against %i', (count, m) => {
    const rng = new GaussianRng(count * 100 + m);
    const r = gaussianRows(count, n, rng);
    const q = gaussianRows(m, n, rng);
    const expected = r.data.slice();
    for (let i = 0; i < count; i++) {
      const c = Array.from({ length: m }, (_, j) => dot(row(r, i), row(q, j)));
      for (let j = 0; j < m; j++) for (let t = 0; t < n; t++) expected[i * n + t] -= c[j] * q.data[j * n + t];
    }
    const projected = rows(count, n, r.data.slice());
    projectOut(projected, [q]);
    projected.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));

    const coefficients = Matrix.rand(m, count);
    const combined = combine(q, coefficients);
    expect(combined.count).toBe(count);
    for (let j = 0; j < count; j++) {
      for (let t = 0; t < n; t++) {
        let sum = 0;
        for (let i = 0; i < m; i++) sum += coefficients.get(i, j) * q.data[i * n + t];
        expect(combined.data[j * n + t]).toBeCloseTo(sum, 12);
      }
    }
  });
});
