/**
 * Float64 blocks of vectors and the few dense operations the basis algorithms need. The operator exchanges
 * float32 tensors, but every orthonormalisation, Gram matrix and small decomposition here runs in float64 so
 * that rounding in the basis itself stays far below the float32 noise of the Jacobian products. The
 * small decompositions (SVD, symmetric eigendecomposition) are ml-matrix's; the n-row work (Gram–Schmidt,
 * projections, combinations) runs on the typed arrays directly, because copying 12288-long vectors into ml-matrix
 * objects cost more than the arithmetic.
 */
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import type { Tensor } from '../tensor';
import { sizeOf } from '../tensor';
import { GeometryError } from './errors';
import type { GaussianRng } from '../diffusion/rng';

/** `count` vectors of length `n`, row-major: row i is data[i*n .. (i+1)*n). */
export interface Rows {
  readonly count: number;
  readonly n: number;
  readonly data: Float64Array;
}

export function rows(count: number, n: number, data?: Float64Array): Rows {
  if (data && data.length !== count * n) throw new RangeError('rows: data length mismatch');
  return { count, n, data: data ?? new Float64Array(count * n) };
}

export function row(r: Rows, i: number): Float64Array {
  return r.data.subarray(i * r.n, (i + 1) * r.n);
}

export function rowsFromTensor(t: Tensor, n: number): Rows {
  const total = t.data.length;
  if (n <= 0 || total % n !== 0) {
    throw new GeometryError('operator-output', `tensor of ${total} values is not a batch of vectors of length ${n}`);
  }
  return { count: total / n, n, data: Float64Array.from(t.data) };
}

export function rowsToTensor(r: Rows, itemDims: readonly number[]): Tensor {
  if (sizeOf(itemDims) !== r.n) throw new RangeError('rowsToTensor: item dims do not match vector length');
  return { dims: [r.count, ...itemDims], data: Float32Array.from(r.data) };
}

export function concatRows(blocks: readonly Rows[]): Rows {
  const n = blocks[0]?.n ?? 0;
  const count = blocks.reduce((a, b) => a + b.count, 0);
  const out = new Float64Array(count * n);
  let off = 0;
  for (const b of blocks) {
    out.set(b.data, off);
    off += b.data.length;
  }
  return { count, n, data: out };
}

export function sliceRows(r: Rows, start: number, end: number): Rows {
  return { count: end - start, n: r.n, data: r.data.slice(start * r.n, end * r.n) };
}

/**
 * a · b with four partial sums: independent accumulators let V8's JIT keep several multiply-adds in flight (≈ 1.5×
 * faster than one running sum on the 12288-long vectors of a basis), and summing in four interleaved parts is, if
 * anything, slightly more accurate than one long running sum.
 */
export function dot(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * b[i];
  return s0 + s1 + (s2 + s3);
}

export function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** G[i][j] = a_i · b_j as an ml-matrix Matrix (a.count × b.count). */
export function crossGram(a: Rows, b: Rows): Matrix {
  const g = new Matrix(a.count, b.count);
  for (let i = 0; i < a.count; i++) {
    const ai = row(a, i);
    for (let j = 0; j < b.count; j++) g.set(i, j, dot(ai, row(b, j)));
  }
  return g;
}

/** Symmetric Gram a_i · a_j, computed once per pair so the result is exactly symmetric. */
export function gram(a: Rows): Matrix {
  const g = new Matrix(a.count, a.count);
  for (let i = 0; i < a.count; i++) {
    const ai = row(a, i);
    for (let j = 0; j <= i; j++) {
      const v = dot(ai, row(a, j));
      g.set(i, j, v);
      g.set(j, i, v);
    }
  }
  return g;
}

/**
 * out_j = Σ_i c[i][j] · r_i: new vectors as combinations of the rows (i.e. (Rᵀ C)ᵀ). Four rows of r per pass over
 * out_j, so each output row is read and written a quarter as often (the rows are 12288 long, the sums short).
 */
export function combine(r: Rows, c: Matrix): Rows {
  if (c.rows !== r.count) throw new RangeError('combine: coefficient rows must equal vector count');
  const n = r.n;
  const out = new Float64Array(c.columns * n);
  for (let j = 0; j < c.columns; j++) {
    const oj = out.subarray(j * n, (j + 1) * n);
    let i = 0;
    for (; i + 3 < r.count; i += 4) {
      const c0 = c.get(i, j);
      const c1 = c.get(i + 1, j);
      const c2 = c.get(i + 2, j);
      const c3 = c.get(i + 3, j);
      const r0 = row(r, i);
      const r1 = row(r, i + 1);
      const r2 = row(r, i + 2);
      const r3 = row(r, i + 3);
      for (let t = 0; t < n; t++) oj[t] += c0 * r0[t] + c1 * r1[t] + (c2 * r2[t] + c3 * r3[t]);
    }
    for (; i < r.count; i++) {
      const ci = c.get(i, j);
      if (ci === 0) continue;
      const ri = row(r, i);
      for (let t = 0; t < n; t++) oj[t] += ci * ri[t];
    }
  }
  return { count: c.columns, n, data: out };
}

/** Columns of an n×count Matrix ↔ rows of a Rows block. */
export function toColumns(r: Rows): Matrix {
  const m = new Matrix(r.n, r.count);
  for (let i = 0; i < r.count; i++) {
    const ri = row(r, i);
    for (let t = 0; t < r.n; t++) m.set(t, i, ri[t]);
  }
  return m;
}

export function fromColumns(m: Matrix, count = m.columns): Rows {
  const out = new Float64Array(count * m.rows);
  for (let i = 0; i < count; i++) for (let t = 0; t < m.rows; t++) out[i * m.rows + t] = m.get(t, i);
  return { count, n: m.rows, data: out };
}

/**
 * r ← r − Qᵀ(Q r) for every row of r against the orthonormal rows of each block in `against` (classical block
 * Gram–Schmidt: all coefficients of a row first, then one subtraction pass that takes four rows of Q at a time, so
 * each 12288-long row of r is read and written a quarter as often; callers that need orthogonality to machine
 * precision project twice, "twice is enough").
 */
export function projectOut(r: Rows, against: readonly Rows[]): void {
  const n = r.n;
  for (const q of against) {
    const c = new Float64Array(q.count);
    for (let i = 0; i < r.count; i++) {
      const ri = row(r, i);
      for (let j = 0; j < q.count; j++) c[j] = dot(ri, row(q, j));
      let j = 0;
      for (; j + 3 < q.count; j += 4) {
        const q0 = row(q, j);
        const q1 = row(q, j + 1);
        const q2 = row(q, j + 2);
        const q3 = row(q, j + 3);
        const c0 = c[j];
        const c1 = c[j + 1];
        const c2 = c[j + 2];
        const c3 = c[j + 3];
        for (let t = 0; t < n; t++) ri[t] -= c0 * q0[t] + c1 * q1[t] + (c2 * q2[t] + c3 * q3[t]);
      }
      for (; j < q.count; j++) {
        const qj = row(q, j);
        const cj = c[j];
        for (let t = 0; t < n; t++) ri[t] -= cj * qj[t];
      }
    }
  }
}

/**
 * Orthonormal rows spanning r's part outside span(against), with the same count as r. Classical block
 * Gram–Schmidt against `against` is done twice ("twice is enough", Giraud et al.) and the block itself goes
 * through two-pass Gram–Schmidt on the typed arrays (gramSchmidtRows), then the projection and the
 * Gram–Schmidt are repeated once to re-orthogonalise against `against`. Gram–Schmidt rather than ml-matrix's
 * Householder QR because the latter copies the 12288 × 14 block into Matrix objects and was ≈ 1.2 s of a k = 8
 * basis (shared/notes/performance-profile.md); both give the same Q up to rounding, and Gram–Schmidt keeps each
 * row's orientation (positive R diagonal) without a sign fix-up.
 * Columns that vanish after projection (the Krylov space became invariant, or J has a null space) are refilled
 * from the seeded Gaussian so the block keeps its width without ever producing a non-orthonormal vector.
 */
export function orthonormalize(r: Rows, against: readonly Rows[], rng: GaussianRng): Rows {
  const work = { count: r.count, n: r.n, data: r.data.slice() };
  const before = new Float64Array(work.count);
  for (let i = 0; i < work.count; i++) before[i] = norm(row(work, i));
  const refill = (i: number) => {
    const ri = row(work, i);
    for (let t = 0; t < work.n; t++) ri[t] = rng.normal();
    before[i] = norm(ri);
  };
  for (let attempt = 0; attempt < 4; attempt++) {
    projectOut(work, against);
    projectOut(work, against);
    let refilled = false;
    for (let i = 0; i < work.count; i++) {
      const ni = norm(row(work, i));
      // Relative test against the norm before projection: what is left is rounding, not a direction.
      if (!(ni > 1e-10 * Math.max(before[i], Number.MIN_VALUE)) || !Number.isFinite(ni)) {
        refill(i);
        refilled = true;
      }
    }
    if (refilled) continue;
    const qr = gramSchmidtRows(work, 2);
    // A tiny R diagonal means this row depends on earlier ones of the same block: refill and retry.
    let dependent = qr.dependent.length > 0;
    for (const i of qr.dependent) refill(i);
    for (let i = 0; i < work.count && !dependent; i++) {
      if (!(qr.r[i * work.count + i] > 1e-10 * Math.max(before[i], Number.MIN_VALUE))) {
        refill(i);
        dependent = true;
      }
    }
    if (dependent) continue;
    // Re-orthogonalisation pass: the block is orthonormal to machine precision by itself, but its orthogonality
    // to `against` is only as good as the projection above.
    projectOut(qr.q, against);
    const again = gramSchmidtRows(qr.q, 2);
    if (again.dependent.length > 0) continue;
    return again.q;
  }
  throw new GeometryError('operator-output', 'could not orthonormalise a block (non-finite Jacobian products?)');
}

/**
 * Modified Gram–Schmidt on the rows in plain Float64Array loops, O(k²n) with no n-sized matrix objects (ml-matrix's
 * Householder QR of a 12288 × 8 block takes a few hundred milliseconds; this takes about one). With `passes` = 2
 * ("twice is enough", Giraud et al.) the rows come out orthonormal to machine precision. Returns the rows Q and
 * the k×k upper-triangular R (row-major) with r_i = Σ_j R[j][i] q_j, i.e. the factor of the columns' QR, whose
 * singular values are those of the block. A row whose remainder vanishes relative to its own norm (exact zero
 * included) is left at zero in Q with a zero on R's diagonal and is reported in `dependent`.
 */
export function gramSchmidtRows(r: Rows, passes: 1 | 2 = 2): { q: Rows; r: Float64Array; dependent: number[] } {
  const k = r.count;
  const q = { count: k, n: r.n, data: r.data.slice() };
  let total = identity(k);
  const dependent = new Set<number>();
  for (let pass = 0; pass < passes; pass++) {
    const R = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      const qi = row(q, i);
      const before = norm(qi);
      for (let j = 0; j < i; j++) {
        if (dependent.has(j)) continue;
        const qj = row(q, j);
        const c = dot(qi, qj);
        R[j * k + i] = c;
        for (let t = 0; t < qi.length; t++) qi[t] -= c * qj[t];
      }
      const ni = norm(qi);
      if (!(ni > 1e-12 * before) || dependent.has(i)) {
        dependent.add(i);
        qi.fill(0);
        continue;
      }
      R[i * k + i] = ni;
      for (let t = 0; t < qi.length; t++) qi[t] /= ni;
    }
    total = multiplySquare(R, total, k);
  }
  return { q, r: total, dependent: [...dependent].sort((a, b) => a - b) };
}

function identity(k: number): Float64Array {
  const m = new Float64Array(k * k);
  for (let i = 0; i < k; i++) m[i * k + i] = 1;
  return m;
}

/** a · b for row-major k×k matrices. */
function multiplySquare(a: Float64Array, b: Float64Array, k: number): Float64Array {
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let l = 0; l < k; l++) {
    const ail = a[i * k + l];
    if (ail !== 0) for (let j = 0; j < k; j++) out[i * k + j] += ail * b[l * k + j];
  }
  return out;
}

/** Singular values (descending) of a small row-major m×k matrix. */
export function smallSingularValues(data: Float64Array, m: number, k: number): number[] {
  const mat = new Matrix(m, k);
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) mat.set(i, j, data[i * k + j]);
  const tall = m >= k ? mat : mat.transpose();
  return new SingularValueDecomposition(tall, { computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal;
}

/** Eigenpairs of a symmetric matrix, eigenvalues descending; vectors are the columns of `vectors`. */
export function symmetricEigen(g: Matrix): { values: number[]; vectors: Matrix } {
  const e = new EigenvalueDecomposition(g, { assumeSymmetric: true });
  const vals = e.realEigenvalues;
  const order = vals.map((_, i) => i).sort((a, b) => vals[b] - vals[a] || a - b);
  const src = e.eigenvectorMatrix;
  const vectors = new Matrix(g.rows, order.length);
  order.forEach((o, j) => {
    for (let i = 0; i < g.rows; i++) vectors.set(i, j, src.get(i, o));
  });
  return { values: order.map((o) => vals[o]), vectors };
}

/** Thin SVD of a tall matrix (rows ≥ columns): left vectors, singular values (descending), right vectors. */
export function tallSvd(m: Matrix): { left: Matrix; values: number[]; right: Matrix } {
  if (m.rows < m.columns) throw new RangeError('tallSvd needs rows >= columns');
  const s = new SingularValueDecomposition(m, { computeLeftSingularVectors: true, computeRightSingularVectors: true });
  return { left: s.leftSingularVectors, values: s.diagonal, right: s.rightSingularVectors };
}

export function gaussianRows(count: number, n: number, rng: GaussianRng): Rows {
  const r = rows(count, n);
  rng.fillNormal(r.data);
  return r;
}

export function normalizeRowsInPlace(r: Rows): void {
  for (let i = 0; i < r.count; i++) {
    const ri = row(r, i);
    const nr = norm(ri);
    if (nr > 0) for (let t = 0; t < ri.length; t++) ri[t] /= nr;
  }
}
