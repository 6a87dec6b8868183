/**
 * Local bases through the real ORT operator (derived jvp/pullback graphs) on tiny_dense, whose Jacobian is small
 * enough to build densely: J is assembled column by column with the operator's jvp (checked against the fixture's
 * float64-autograd J.npy), its float64 SVD (ml-matrix) is the reference, and both methods must match it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { decodeNpy } from '../../src-main/core/tensor/npy';
import { loadModelFolder } from '../../src-main/core/diffusion/model-folder';
import { computeLocalBasis, principalAngles } from '../../src-main/core/geometry';
import { JacobianSessions } from '../../src-main/engine/worker/jacobian-operator';
import { UNET_FIXTURES, denseJacobian, wrapUnet } from './basis-fixture';

const T_FIXTURE = 500; // the timestep of the fixture's references (meta.json)
let tmp: string;
let sessions: JacobianSessions;
let exact: { sigma: number[]; V: Matrix; Jdense: Matrix };
let op: Awaited<ReturnType<JacobianSessions['operator']>>;
let k: number;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pullback-dense-'));
  sessions = new JacobianSessions(() => join(tmp, 'data'));
  const model = await loadModelFolder(await wrapUnet('tiny_dense', tmp));
  const x = decodeNpy(await readFile(join(UNET_FIXTURES, 'tiny_dense', 'x.npy')));
  op = await sessions.operator({ model, K: 4 }, x, T_FIXTURE);
  const J = await denseJacobian(op);
  const svd = new SingularValueDecomposition(J, { autoTranspose: true });
  exact = { sigma: svd.diagonal, V: svd.rightSingularVectors, Jdense: J };
  // k where the spectrum has its largest relative gap among k = 2..6 (both methods need a gap to be well posed).
  k = 2;
  for (let c = 2; c <= 6; c++) if (exact.sigma[c - 1] / exact.sigma[c] > exact.sigma[k - 1] / exact.sigma[k]) k = c;
});

afterAll(async () => {
  await sessions.release();
  await rm(tmp, { recursive: true, force: true });
});

describe('basis through the ORT Jacobian operator (tiny_dense)', () => {
  it('the dense J from jvp equals the fixture J.npy (float64 autograd) to float32 accuracy', async () => {
    const ref = decodeNpy(await readFile(join(UNET_FIXTURES, 'tiny_dense', 'J.npy')));
    const [m, n] = ref.dims;
    let err = 0;
    let scale = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        err = Math.max(err, Math.abs(exact.Jdense.get(i, j) - ref.data[i * n + j]));
        scale = Math.max(scale, Math.abs(ref.data[i * n + j]));
      }
    }
    expect(err / scale).toBeLessThan(1e-5);
  });

  for (const method of ['krylov', 'subspace'] as const) {
    it(`${method}: top-k σ within 1e-4 relative and principal angles < 1e-3 rad vs the float64 SVD`, async () => {
      const b = await computeLocalBasis(op, { method, k, tol: method === 'krylov' ? 1e-6 : 1e-6, seed: 3, maxBatch: op.K, maxIterations: 50 });
      const n = exact.V.rows;
      for (let i = 0; i < k; i++) expect(Math.abs(b.S.data[i] - exact.sigma[i]) / exact.sigma[i]).toBeLessThan(1e-4);
      const ref = new Float32Array(k * n);
      for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) ref[i * n + j] = exact.V.get(j, i);
      const angles = principalAngles(b.V, { dims: [k, ...op.xDims], data: ref });
      expect(Math.max(...angles)).toBeLessThan(1e-3);
      // U = J v / σ: unit rows in h.
      const m = b.U.data.length / k;
      for (let i = 0; i < k; i++) {
        let s = 0;
        for (let j = 0; j < m; j++) s += b.U.data[i * m + j] ** 2;
        expect(Math.abs(Math.sqrt(s) - 1)).toBeLessThan(1e-4);
      }
      console.log(`[basis-ort-dense] ${method} k=${k} σ=${Array.from(b.S.data).map((s) => s.toPrecision(6))} exact=${exact.sigma.slice(0, k).map((s) => s.toPrecision(6))} max angle ${Math.max(...angles).toExponential(2)} products ${b.jacobianProducts.total} iterations ${b.iterations}`);
    });
  }

  it('krylov needs fewer Jacobian products than subspace for the same tolerance', async () => {
    const tol = 1e-4;
    const kr = await computeLocalBasis(op, { method: 'krylov', k, tol, seed: 3, maxBatch: op.K });
    const ss = await computeLocalBasis(op, { method: 'subspace', k, tol, seed: 3, maxBatch: op.K });
    console.log(`[basis-ort-dense] tol ${tol}: krylov ${kr.jacobianProducts.total} products (${kr.iterations} it), subspace ${ss.jacobianProducts.total} (${ss.iterations} it)`);
    expect(kr.converged).toBe(true);
    expect(kr.jacobianProducts.total).toBeLessThan(ss.jacobianProducts.total);
  });
});
