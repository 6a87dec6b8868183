/**
 * Krylov vs the authors' subspace iteration on a U-Net fixture with a non-trivial x (ddpm_unet2d_op14, 3×16×16 =
 * 768 dims, h = 32×8×8), through the real ORT operator: at the same tolerance number, krylov converges (every
 * residual ‖JᵀJv − σ²v‖/σ² ≤ tol) with fewer Jacobian products than subspace uses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy } from '../../src-main/core/tensor/npy';
import { loadModelFolder } from '../../src-main/core/diffusion/model-folder';
import { computeLocalBasis } from '../../src-main/core/geometry';
import { JacobianSessions } from '../../src-main/engine/worker/jacobian-operator';
import { UNET_FIXTURES, wrapUnet } from './basis-fixture';

let tmp: string;
let sessions: JacobianSessions;
let op: Awaited<ReturnType<JacobianSessions['operator']>>;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pullback-products-'));
  sessions = new JacobianSessions(() => join(tmp, 'data'));
  const model = await loadModelFolder(await wrapUnet('ddpm_unet2d_op14', tmp));
  const x = decodeNpy(await readFile(join(UNET_FIXTURES, 'ddpm_unet2d_op14', 'x.npy')));
  op = await sessions.operator({ model, K: 8 }, x, 500);
});

afterAll(async () => {
  await sessions.release();
  await rm(tmp, { recursive: true, force: true });
});

describe('Jacobian products: krylov vs subspace (ddpm_unet2d_op14)', () => {
  for (const k of [2, 4, 8]) {
    it(`k = ${k}, tol 1e-3`, async () => {
      const kr = await computeLocalBasis(op, { method: 'krylov', k, tol: 1e-3, seed: 1, maxBatch: op.K });
      const ss = await computeLocalBasis(op, { method: 'subspace', k, tol: 1e-3, seed: 1, maxBatch: op.K });
      console.log(
        `[basis-products] k=${k}: krylov ${kr.jacobianProducts.total} products, max residual ${Math.max(...kr.residuals).toExponential(1)}; ` +
          `subspace ${ss.jacobianProducts.total} products, max residual ${Math.max(...ss.residuals).toExponential(1)}`,
      );
      expect(kr.converged).toBe(true);
      expect(Math.max(...kr.residuals)).toBeLessThanOrEqual(1e-3);
      expect(kr.jacobianProducts.total).toBeLessThan(ss.jacobianProducts.total);
      // Same leading singular value from both (well separated on this fixture).
      expect(Math.abs(kr.S.data[0] - ss.S.data[0]) / kr.S.data[0]).toBeLessThan(1e-3);
    });
  }
});
