/**
 * Dense synthetic Jacobian for the geometry tests: J = P diag(σ) Qᵀ (m × n) with orthonormal P, Q from the
 * QR of seeded Gaussians and a prescribed spectrum, so the exact answer is known independently of the code
 * under test. The operator computes in float64 and returns float32, like an ORT session would.
 */
import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { GaussianRng } from '../../src-main/core/diffusion/rng';
import type { JacobianOperator } from '../../src-main/core/geometry/types';
import type { Tensor } from '../../src-main/core/tensor';

export interface DenseFixture {
  op: JacobianOperator & { calls: number };
  /** m × n float64. */
  J: Matrix;
  sigma: number[];
}

function orthonormalColumns(rows: number, cols: number, rng: GaussianRng): Matrix {
  const g = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) g.set(i, j, rng.normal());
  return new QrDecomposition(g).orthogonalMatrix;
}

/** Spectrum with a clear gap after `k`: 10·0.85^i for i < k, then 0.4·σ_{k−1}·0.97^(i−k). */
export function gappedSpectrum(m: number, k: number): number[] {
  const s: number[] = [];
  for (let i = 0; i < m; i++) s.push(i < k ? 10 * 0.85 ** i : 0.4 * 10 * 0.85 ** (k - 1) * 0.97 ** (i - k));
  return s;
}

export function denseFixture(opts: {
  xDims?: number[];
  hDims?: number[];
  sigma?: number[];
  seed?: number;
  /** Adds perturbation·G (seeded Gaussian, fixed seed) to J: a "nearby sample" with slightly rotated bases. */
  perturbation?: number;
  abortAfterCalls?: { controller: AbortController; calls: number };
}): DenseFixture {
  const xDims = opts.xDims ?? [1, 16, 16];
  const hDims = opts.hDims ?? [4, 4, 4];
  const n = xDims.reduce((a, b) => a * b, 1);
  const m = hDims.reduce((a, b) => a * b, 1);
  const sigma = opts.sigma ?? gappedSpectrum(m, 8);
  const rng = new GaussianRng(opts.seed ?? 1234);
  const P = orthonormalColumns(m, m, rng);
  const Q = orthonormalColumns(n, m, rng);
  const J = P.mmul(Matrix.diag(sigma)).mmul(Q.transpose());
  if (opts.perturbation) {
    const g = new GaussianRng(99);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) J.set(i, j, J.get(i, j) + opts.perturbation * g.normal());
  }
  const apply = (A: Matrix, t: Tensor, inLen: number, outDims: readonly number[]): Tensor => {
    const K = t.data.length / inLen;
    const out = new Float32Array(K * A.rows);
    for (let r = 0; r < K; r++) {
      for (let i = 0; i < A.rows; i++) {
        let s = 0;
        for (let j = 0; j < inLen; j++) s += A.get(i, j) * t.data[r * inLen + j];
        out[r * A.rows + i] = s;
      }
    }
    return { dims: [K, ...outDims], data: out };
  };
  const Jt = J.transpose();
  const op = {
    xDims,
    hDims,
    calls: 0,
    tick(signal?: AbortSignal) {
      op.calls++;
      if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
      if (opts.abortAfterCalls && op.calls >= opts.abortAfterCalls.calls) opts.abortAfterCalls.controller.abort();
    },
    async jvp(v: Tensor, signal?: AbortSignal) {
      op.tick(signal);
      return apply(J, v, n, hDims);
    },
    async vjp(u: Tensor, signal?: AbortSignal) {
      op.tick(signal);
      return apply(Jt, u, m, xDims);
    },
    async pullback(v: Tensor, signal?: AbortSignal) {
      op.tick(signal);
      const jv = apply(J, v, n, hDims);
      // Jᵀ applied to the float32 jv, as a fused graph computing in float32 would.
      return { jv, jtjv: apply(Jt, jv, m, xDims) };
    },
  };
  return { op, J, sigma };
}

/** Oracle: J built column by column from the operator's jvp (what a real fixture would do), SVD in float64. */
export async function exactSvd(op: JacobianOperator): Promise<{ sigma: number[]; V: Tensor; U: Tensor }> {
  const n = op.xDims.reduce((a, b) => a * b, 1);
  const eye = new Float32Array(n * n);
  for (let i = 0; i < n; i++) eye[i * n + i] = 1;
  const cols = await op.jvp({ dims: [n, ...op.xDims], data: eye });
  const m = cols.data.length / n;
  const Jt = new Matrix(n, m); // row i = J e_i
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) Jt.set(i, j, cols.data[i * m + j]);
  const svd = new SingularValueDecomposition(Jt);
  const r = svd.diagonal.length;
  const V = new Float32Array(r * n);
  const U = new Float32Array(r * m);
  for (let a = 0; a < r; a++) {
    for (let i = 0; i < n; i++) V[a * n + i] = svd.leftSingularVectors.get(i, a);
    for (let j = 0; j < m; j++) U[a * m + j] = svd.rightSingularVectors.get(j, a);
  }
  return { sigma: svd.diagonal, V: { dims: [r, ...op.xDims], data: V }, U: { dims: [r, ...op.hDims], data: U } };
}

export function firstRows(t: Tensor, k: number): Tensor {
  const per = t.data.length / t.dims[0];
  return { dims: [k, ...t.dims.slice(1)], data: t.data.slice(0, k * per) };
}
