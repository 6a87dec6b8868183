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

/** Rows given as one block or as a list of blocks (a Krylov basis grows by blocks; concatenating them costs copies). */
export type RowSource = Rows | readonly Rows[];

/** Views of every row of `r`, in order (no copies). */
function rowViews(r: RowSource): Float64Array[] {
  const blocks: readonly Rows[] = 'data' in r ? [r] : r;
  const views: Float64Array[] = [];
  for (const b of blocks) for (let i = 0; i < b.count; i++) views.push(row(b, i));
  return views;
}

/** G[i][j] = a_i · b_j as an ml-matrix Matrix (a.count × b.count). */
export function crossGram(a: RowSource, b: RowSource): Matrix {
  const av = rowViews(a);
  const bv = rowViews(b);
  // Blocked over b's rows (typically the few new ones), each pass over a row of a shared by four of them.
  const c = crossDots(bv, av);
  const g = new Matrix(av.length, bv.length);
  for (let i = 0; i < av.length; i++) for (let j = 0; j < bv.length; j++) g.set(i, j, c[j * av.length + i]);
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
 * out_j = Σ_i c[i][j] · r_i: new vectors as combinations of the rows (i.e. (Rᵀ C)ᵀ), through addCombination.
 */
export function combine(source: RowSource, c: Matrix): Rows {
  const r = rowViews(source);
  if (c.rows !== r.length) throw new RangeError('combine: coefficient rows must equal vector count');
  const n = 'data' in source ? source.n : (source[0]?.n ?? 0);
  const s = r.length;
  const outCount = c.columns;
  // Coefficients column-major in a typed array: coef[j·s + i] = c(i, j) (Matrix.get per element is slow in the loop).
  const coef = new Float64Array(outCount * s);
  for (let i = 0; i < s; i++) for (let j = 0; j < outCount; j++) coef[j * s + i] = c.get(i, j);
  const out = new Float64Array(outCount * n);
  const outRows = Array.from({ length: outCount }, (_, j) => out.subarray(j * n, (j + 1) * n));
  addCombination(outRows, r, coef);
  return { count: outCount, n, data: out };
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
  const rv = rowViews(r);
  for (const q of against) {
    const qv = rowViews(q);
    // r_i −= Σ_j (r_i · q_j) q_j, as an addition of the negated dots (negation is exact: same sums to the bit).
    const c = crossDots(rv, qv);
    for (let i = 0; i < c.length; i++) c[i] = -c[i];
    addCombination(rv, qv, c);
  }
}

/**
 * c[i·q.count + j] = r_i · q_j. Four rows of r share each pass over q_j: the n-long rows stream from memory four
 * times less often than with one dot per pair, which is what bounds these loops (a k = 8 basis projects 14 rows
 * against up to 98 of 12288 values, ≈ 10 MB, at every iteration).
 */
function crossDots(r: readonly Float64Array[], q: readonly Float64Array[]): Float64Array {
  const n = r[0]?.length ?? 0;
  const m = q.length;
  const c = new Float64Array(r.length * m);
  let i = 0;
  for (; i + 3 < r.length; i += 4) {
    const r0 = r[i];
    const r1 = r[i + 1];
    const r2 = r[i + 2];
    const r3 = r[i + 3];
    for (let j = 0; j < m; j++) {
      const qj = q[j];
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let t = 0; t < n; t++) {
        const v = qj[t];
        s0 += r0[t] * v;
        s1 += r1[t] * v;
        s2 += r2[t] * v;
        s3 += r3[t] * v;
      }
      c[i * m + j] = s0;
      c[(i + 1) * m + j] = s1;
      c[(i + 2) * m + j] = s2;
      c[(i + 3) * m + j] = s3;
    }
  }
  for (; i < r.length; i++) for (let j = 0; j < m; j++) c[i * m + j] = dot(r[i], q[j]);
  return c;
}

/**
 * out_a += Σ_b coef[a·src.length + b] · src_b: two output rows and four source rows per pass (eight coefficients
 * and six streams stay in registers; more output rows spill them), so each source row is read half as often as one
 * output row at a time. The rows are 12288 long and the sums short: memory traffic decides the speed.
 */
function addCombination(out: readonly Float64Array[], src: readonly Float64Array[], coef: Float64Array): void {
  const n = out[0]?.length ?? 0;
  const m = src.length;
  let i = 0;
  for (; i + 1 < out.length; i += 2) {
    const oa = out[i];
    const ob = out[i + 1];
    const ca = i * m;
    const cb = (i + 1) * m;
    let j = 0;
    for (; j + 3 < m; j += 4) {
      const q0 = src[j];
      const q1 = src[j + 1];
      const q2 = src[j + 2];
      const q3 = src[j + 3];
      const a0 = coef[ca + j];
      const a1 = coef[ca + j + 1];
      const a2 = coef[ca + j + 2];
      const a3 = coef[ca + j + 3];
      const b0 = coef[cb + j];
      const b1 = coef[cb + j + 1];
      const b2 = coef[cb + j + 2];
      const b3 = coef[cb + j + 3];
      for (let t = 0; t < n; t++) {
        const v0 = q0[t];
        const v1 = q1[t];
        const v2 = q2[t];
        const v3 = q3[t];
        oa[t] += a0 * v0 + a1 * v1 + (a2 * v2 + a3 * v3);
        ob[t] += b0 * v0 + b1 * v1 + (b2 * v2 + b3 * v3);
      }
    }
    for (; j < m; j++) {
      const qj = src[j];
      const a = coef[ca + j];
      const b = coef[cb + j];
      for (let t = 0; t < n; t++) {
        oa[t] += a * qj[t];
        ob[t] += b * qj[t];
      }
    }
  }
  for (; i < out.length; i++) {
    const oi = out[i];
    const ci = i * m;
    for (let j = 0; j < m; j++) {
      const qj = src[j];
      const cj = coef[ci + j];
      if (cj === 0) continue;
      for (let t = 0; t < n; t++) oi[t] += cj * qj[t];
    }
  }
}

/**
 * Orthonormal rows spanning r's part outside span(against), with the same count as r. Classical block
 * Gram–Schmidt against `against` is done twice ("twice is enough", Giraud et al.) and the block itself goes
 * through two-pass Gram–Schmidt on the typed arrays (gramSchmidtRows), then, only where the block was nearly
 * dependent, the projection and the Gram–Schmidt are repeated once to re-orthogonalise against `against`. Gram–Schmidt rather than ml-matrix's
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
  // Each row's norm after the projection (gramSchmidtRows works on a copy, so these stay the input's).
  const projected = new Float64Array(work.count);
  for (let attempt = 0; attempt < 4; attempt++) {
    projectOut(work, against);
    projectOut(work, against);
    let refilled = false;
    for (let i = 0; i < work.count; i++) {
      const ni = norm(row(work, i));
      projected[i] = ni;
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
    // The block is orthonormal to machine precision by itself; its orthogonality to `against` is the projection's
    // (≈ ε after two passes) amplified by R⁻¹, i.e. by how nearly dependent the projected rows were. A block whose
    // every row kept ≥ 1e-3 of its projected norm in R's diagonal loses at most ≈ 1e3·ε: done. Otherwise (a nearly
    // invariant Krylov space) project and orthonormalise once more.
    let weakest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < work.count; i++) weakest = Math.min(weakest, qr.r[i * work.count + i] / projected[i]);
    if (against.length === 0 || weakest >= 1e-3) return qr.q;
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
